#!/usr/bin/env bash
# compare.sh - gonetic beside the raw baselines of shared/bench, in one run.
#
# usage: internal/bench/compare.sh [-r rounds] [-n messages] [-p roundtrips] [section...]
#   sections: tcp (oneway + pingpong vs tcpbench), enet (vs enet_bench; needs
#             libenet), gotest (go test -bench of ./net: Send and Update(0)
#             allocations). Default: tcp gotest, plus enet when gbench has it.
#
# Rounds are interleaved (baseline, gonetic, baseline, gonetic, …) so that the
# noise of this shared machine spreads over both; the table shows medians and
# the ratio gonetic / baseline. Ping-pong runs pin server and client to
# different CPUs (taskset -c 0 / -c 1), the same for both sides; ENet's runs
# unpinned as well.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=3 N=2000000 P=20000
while getopts "r:n:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; n) N=$OPTARG ;; p) P=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
SHARED=${SHARED:-../shared/bench}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/gbench" ./cmd/gbench
(cd "$SHARED" && make -s bin/tcpbench bin/enet_bench >/dev/null 2>&1 || make -s bin/tcpbench)
TCPB=$SHARED/bin/tcpbench ENETB=$SHARED/bin/enet_bench
SECTIONS=${*:-"tcp gotest $("$BIN/gbench" client -transport enet -n 0 -addr 127.0.0.1:1 -timeout 1s 2>&1 | grep -q 'unknown -transport' || echo enet)"}
RES=$BIN/results
: >"$RES"
port=7960
pin0="taskset -c 0" pin1="taskset -c 1"
command -v taskset >/dev/null || { pin0=""; pin1=""; }

# pair SERVER_CMD... -- CLIENT_CMD...: run both, collect the client's RESULT
# lines (through the sed script in $RENAME, if set)
pair() {
  local srv=() cli=() seen=0 a
  for a in "$@"; do
    if [ "$a" = -- ]; then seen=1; continue; fi
    if [ $seen = 0 ]; then srv+=("$a"); else cli+=("$a"); fi
  done
  "${srv[@]}" >"$BIN/server.log" 2>&1 &
  local spid=$!
  sleep 0.3 # the clients retry their connect; this only saves a retry
  if ! "${cli[@]}" >"$BIN/client.log" 2>&1; then
    echo "FAILED: ${cli[*]}" >&2; cat "$BIN/client.log" "$BIN/server.log" >&2
  fi
  wait $spid 2>/dev/null || kill $spid 2>/dev/null || true
  grep '^RESULT' "$BIN/client.log" | sed -e "${RENAME:-}" >>"$RES" || true
}

# enet_bench names its figures enet.<label>.<figure>: file them as raw, and
# its one-way packets per second as msgs_per_s, gbench's name.
RAW_ENET='s/^RESULT enet\.\([^ ]*\)\.pps \([^ ]*\) pkt\/s/RESULT raw.enet.\1.msgs_per_s \2 msg\/s/; s/^RESULT enet\./RESULT raw.enet./'

for r in $(seq "$ROUNDS"); do
  for s in $SECTIONS; do
    case $s in
      tcp)
        port=$((port + 2))
        pair "$TCPB" server -addr 127.0.0.1:$port -- "$TCPB" client -addr 127.0.0.1:$port -mode oneway -n "$N" -label raw.tcp.oneway
        pair "$BIN/gbench" server -addr 127.0.0.1:$((port + 1)) -- "$BIN/gbench" client -addr 127.0.0.1:$((port + 1)) -mode oneway -n "$N" -label gonetic.tcp.oneway
        port=$((port + 2))
        pair $pin0 "$TCPB" server -addr 127.0.0.1:$port -- $pin1 "$TCPB" client -addr 127.0.0.1:$port -mode pingpong -n "$P" -label raw.tcp.pingpong_cpu01
        pair $pin0 "$BIN/gbench" server -addr 127.0.0.1:$((port + 1)) -- $pin1 "$BIN/gbench" client -addr 127.0.0.1:$((port + 1)) -mode pingpong -n "$P" -label gonetic.tcp.pingpong_cpu01
        ;;
      enet)
        # One-way: 19-byte reliable packets on channel 0, gonetic's chat_msg
        # size; enet_bench batches 64 per service and caps ENet's queue.
        port=$((port + 2))
        RENAME=$RAW_ENET pair "$ENETB" server -p $port -T 60 -- "$ENETB" client -p $port -T 60 -m reliable -s 19 -n "$N" -l oneway
        pair "$BIN/gbench" server -transport enet -addr 127.0.0.1:$((port + 1)) -- "$BIN/gbench" client -transport enet -addr 127.0.0.1:$((port + 1)) -mode oneway -n "$N" -label gonetic.enet.oneway
        # Without bundles (enet.Options.NoBundling): one ENet packet per
        # chat, as enet_bench sends them.
        port=$((port + 2))
        pair env GBENCH_ENET_BUNDLE=off "$BIN/gbench" server -transport enet -addr 127.0.0.1:$port -- env GBENCH_ENET_BUNDLE=off "$BIN/gbench" client -transport enet -addr 127.0.0.1:$port -mode oneway -n "$N" -label gonetic.enet.oneway_nobundle
        # Ping-pong, server pinned to CPU 0 and client to CPU 1, so Go runs
        # one P per process (GOMAXPROCS follows the CPU affinity), as a
        # single-threaded C program does. Three shapes, the same on both
        # sides: block = both wait in the kernel (gbench: Update(timeout));
        # busyclient = the client spins (gbench -poll: Update(0) in a
        # loop), the server waits; busy = both spin (an Update(0) that
        # finds nothing yields, so the adapter's goroutine gets the CPU).
        # Then the same three shapes unpinned, as games run: Go has two Ps
        # per process.
        for pin in cpu01 unpinned; do
          ps=$pin0 pc=$pin1
          [ $pin = unpinned ] && { ps="" pc=""; }
          for w in block busyclient busy; do
            port=$((port + 2))
            sw=$w cw=$w spoll="" cpoll=""
            [ $w = busyclient ] && { sw=block cw=busy; }
            [ $w != block ] && cpoll=-poll
            [ $w = busy ] && spoll=-poll
            RENAME=$RAW_ENET pair $ps "$ENETB" server -p $port -w $sw -T 60 -- $pc "$ENETB" client -p $port -T 60 -m pingpong -n "$P" -w $cw -l pingpong_${w}_$pin
            pair $ps "$BIN/gbench" server -transport enet -addr 127.0.0.1:$((port + 1)) $spoll -- $pc "$BIN/gbench" client -transport enet -addr 127.0.0.1:$((port + 1)) -mode pingpong -n "$P" $cpoll -label gonetic.enet.pingpong_${w}_$pin
          done
        done
        ;;
      gotest)
        go test -run '^$' -bench 'BenchmarkSend$|BenchmarkUpdateIdle$' -benchmem -count 1 ./net/ |
          awk '/^Benchmark/ { name=$1; sub(/-[0-9]+$/, "", name); for (i = 3; i < NF; i += 2) print "RESULT gonetic.gotest." name "." $(i+1), $i, $(i+1) }' >>"$RES"
        ;;
    esac
  done
done

# Table: median per figure; ratio gonetic/raw where both exist.
printf '| figure | unit | raw baseline (median) | gonetic (median) | gonetic / raw |\n|---|---|---|---|---|\n'
awk '
  { key = $2; sub(/^[^.]*\./, "", key); who = ($2 ~ /^raw\./) ? "raw" : "gonetic"
    v[who, key] = v[who, key] " " $3; unit[key] = $4; keys[key] = 1 }
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : ""
  }
  END {
    for (k in keys) {
      r = median(v["raw", k]); g = median(v["gonetic", k])
      ratio = (r != "" && g != "" && r + 0 > 0) ? sprintf("%.2f", g / r) : "-"
      printf "| %s | %s | %s | %s | %s |\n", k, unit[k], r == "" ? "-" : r, g == "" ? "-" : g, ratio
    }
  }' "$RES" | sort
echo "(rounds: $ROUNDS; all values: $RES is removed on exit; rerun with -r for more)"
