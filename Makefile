# gonetic - the commands of the README, and a few more.
#   make chat    run the chat demo: a local server and a client (window or terminal)
#   make chat-web  the chat server with the browser client on http://$(HTTP_ADDR)/ (default 127.0.0.1:8080)
#   make chat-two  two chat servers linked as nodes A and B, and a client on A: type /move B
#   make arena   run the arena demo: a server with bots and a client (window or headless)
#   make test    install what a fresh Debian machine lacks, then go vet, staticcheck, go test -race
#   make bench   gonetic beside the raw baselines of ../shared/bench, one table
#   make bench-game  the game-shaped benchmark beside its raw libenet twin (GAME_ARGS: -d 5s -c 20 …)
#   make bench-sim   the network simulator's own cost, and ENet goodput under it beside raw libenet (GOODPUT_ARGS)
#   make fuzz    every fuzz target for FUZZTIME (default 20s), then a table
#   make soak    the long test for SOAK_TIME (default 30m): the reliability matrix, then
#                1,000 clients churning over ENet and TCP under the simulator, with RSS,
#                goroutines and fds over time; fails on a leak or a lost reliable message
#                (SOAK_ARGS: -clients 500 -csv soak.csv …; cmd/soak/README.md)

GO       ?= go
FUZZTIME ?= 20s
SOAK_TIME ?= 30m
# Debian packages: libenet for the ENet adapter (cgo), Ebiten's X11/GL build
# libraries and xvfb for the window client and its test, netcat for the
# foreign-client tests, python3-enet/msgpack for the ENet interop test,
# python3-nacl for the connect-token reader written from PROTOCOL.md,
# chromium for the chat in a headless browser (demo/chat/e2e, which fails
# without it).
APT_PKGS := gcc pkg-config libenet-dev xvfb xauth libgl1-mesa-dev libxcursor-dev libxi-dev \
	libxinerama-dev libxrandr-dev libxxf86vm-dev libasound2-dev netcat-openbsd \
	python3-enet python3-msgpack python3-nacl chromium

.PHONY: deps test chat chat-web chat-two arena bench bench-game bench-sim fuzz vet soak

deps:
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	$(GO) mod download

vet: deps
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

test: vet
	$(GO) test -race -count=1 -timeout 20m ./...

# The launcher is built first, saying so, since a cold build is silent for
# a while, and run directly: `go run` would turn its exit into make's
# "Error 1" on Ctrl-C. CHAT_ARGS go to the launcher (-client term, -bots 5,
# -sim "lag=75ms,loss=5%" for a simulated network).
chat: deps
	@echo "building the chat demo (the first build takes a while)…"
	@$(GO) build -o bin/chat ./demo/chat
	@bin/chat $(CHAT_ARGS)

# The chat server with -http: it builds the window client for WebAssembly
# (once) and serves it with a WebSocket endpoint; open the URL it prints.
HTTP_ADDR ?= 127.0.0.1:8080
chat-web: deps
	@echo "building the chat server…"
	@$(GO) build -o bin/chat-server ./demo/chat/server
	@bin/chat-server -http $(HTTP_ADDR) $(CHAT_ARGS)

# Two chat servers linked as nodes (their embedded NATS servers meet on
# node.LocalSeed): A on 127.0.0.1:7777, B on 127.0.0.1:7779, and a client
# on A (CLIENT=term or window; CHAT_ARGS go to it). Type /move B. The
# servers stop when the client exits; their logs are bin/chat-A.log and
# bin/chat-B.log.
CLIENT ?= term
chat-two: deps
	@echo "building the chat server and the $(CLIENT) client…"
	@$(GO) build -o bin/chat-server ./demo/chat/server
	@$(GO) build -o bin/chat-$(CLIENT) ./demo/chat/$(CLIENT)
	@bin/chat-server -addr 127.0.0.1:7777 -node A >bin/chat-A.log 2>&1 & a=$$!; \
	bin/chat-server -addr 127.0.0.1:7779 -node B >bin/chat-B.log 2>&1 & b=$$!; \
	trap 'kill $$a $$b 2>/dev/null; wait' EXIT INT TERM; \
	for i in $$(seq 100); do grep -q "listening on" bin/chat-A.log && break; sleep 0.1; done; \
	echo "servers A (127.0.0.1:7777) and B (127.0.0.1:7779) starting; logs in bin/chat-A.log, bin/chat-B.log; type /move B"; \
	bin/chat-$(CLIENT) -addr 127.0.0.1:7777 $(CHAT_ARGS)

# As chat: ARENA_ARGS go to the launcher (-client headless, -bots 20,
# -transport enet, -sim "lag=50ms,loss=2%", -- -bot to let the AI play).
arena: deps
	@echo "building the arena demo (the first build takes a while)…"
	@$(GO) build -o bin/arena ./demo/arena
	@bin/arena $(ARENA_ARGS)

bench: deps
	internal/bench/compare.sh

# A server ticking at 30/60 Hz and N clients at 60 fps, gonetic (cmd/gamebench)
# beside raw libenet (internal/bench/c/gamebench.c); about 10 minutes.
bench-game: deps
	internal/bench/game.sh $(GAME_ARGS)

# The latency and allocations adapters/sim adds with no condition
# (BenchmarkRelayUDP/TCP), then ENet goodput at 20 % loss and a 100 ms
# round trip, gonetic's adapter beside raw libenet through the same relay
# (cmd/goodput, internal/bench/c/goodput.c); about 3 minutes.
# GOODPUT_ARGS go to cmd/goodput: -sim "lag=100ms,loss=20%" -r 3 -impl c,go,c-nothrottle
bench-sim: deps
	$(GO) test -run '^$$' -bench Relay -benchtime 20000x ./adapters/sim/
	@mkdir -p bin
	cc -O2 -Wall -Wextra -o bin/goodput_c internal/bench/c/goodput.c -lenet
	$(GO) build -o bin/goodput ./cmd/goodput
	bin/goodput -c bin/goodput_c $(GOODPUT_ARGS)

# Built first, then run, so that its exit status is its own (1: a leak, a
# lost reliable message, a disconnect without a reason).
soak: deps
	$(GO) build -o bin/soak ./cmd/soak
	bin/soak -d $(SOAK_TIME) $(SOAK_ARGS)

# Every fuzz target of the module (found by go test -list, so none is left
# out), one after the other; a summary table at the end, non-zero exit on a
# crash. JOBS, PARALLEL, LOGDIR, RESULTS: see internal/fuzz.sh.
fuzz: deps
	FUZZTIME=$(FUZZTIME) GO=$(GO) internal/fuzz.sh
