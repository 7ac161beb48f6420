#!/usr/bin/env bash
# sysmon.sh - how much of a blocking ENet round trip is Go's sysmon wake-up.
#
# usage: internal/bench/sysmon.sh [-r rounds] [-p roundtrips]
#
# When every P of a Go process is idle, the runtime's sysmon thread sleeps
# until woken, and the next system or cgo call (entersyscall) wakes it: one
# more thread wake-up, and a context switch on a process pinned to one CPU,
# each time a blocked process gets a packet. This script builds gbench
# twice, once as is and once against a copy of the runtime whose
# entersyscall does not wake sysmon (go build -overlay; a diagnosis, not
# something to ship: sysmon then sleeps through its duties), and runs the
# blocking ENet ping-pong of compare.sh (server on CPU 0, client on CPU 1)
# with each, alternately, beside shared/bench's enet_bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=3 P=10000
while getopts "r:p:" opt; do
  case $opt in
    r) ROUNDS=$OPTARG ;; p) P=$OPTARG ;;
    *) sed -n '2,15p' "$0"; exit 2 ;;
  esac
done
SHARED=${SHARED:-../shared/bench}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
GOROOT=$(go env GOROOT)
PROC=$GOROOT/src/runtime/proc.go
python3 - "$PROC" "$BIN/proc.go" <<'PY'
import sys
src = open(sys.argv[1]).read()
old = "\tif sched.sysmonwait.Load() {\n\t\tsystemstack(entersyscallWakeSysmon)"
if src.count(old) != 1:
    sys.exit("sysmon.sh: this Go's runtime/proc.go has no single entersyscall sysmon wake-up to remove")
open(sys.argv[2], "w").write(src.replace(old, "\tif false && sched.sysmonwait.Load() {\n\t\tsystemstack(entersyscallWakeSysmon)"))
PY
printf '{"Replace":{"%s":"%s"}}\n' "$PROC" "$BIN/proc.go" >"$BIN/overlay.json"
go build -o "$BIN/gbench" ./cmd/gbench
go build -overlay "$BIN/overlay.json" -o "$BIN/gbench_nosysmonwake" ./cmd/gbench
(cd "$SHARED" && make -s bin/enet_bench >/dev/null)
port=8900
median() { grep -o 'median=[0-9.]*' | cut -d= -f2; }
for r in $(seq "$ROUNDS"); do
  port=$((port + 3))
  taskset -c 0 "$SHARED/bin/enet_bench" server -p $port -w block -T 60 >/dev/null 2>&1 &
  sleep 0.3
  echo "raw C libenet: $(taskset -c 1 "$SHARED/bin/enet_bench" client -p $port -T 60 -m pingpong -n "$P" -w block -l pp | median) µs"
  wait
  for v in gbench gbench_nosysmonwake; do
    port=$((port + 1))
    taskset -c 0 "$BIN/$v" server -transport enet -addr 127.0.0.1:$port >/dev/null 2>&1 &
    sleep 0.3
    echo "$v: $(taskset -c 1 "$BIN/$v" client -transport enet -addr 127.0.0.1:$port -mode pingpong -n "$P" | median) µs"
    wait
  done
done
