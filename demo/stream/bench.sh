#!/bin/sh
# bench.sh: flow throughput against the raw TCP bulk baseline, in the same
# run, interleaved, both in two processes on 127.0.0.1.
#
#   demo/stream/bench.sh [rounds]        (default 5; run from the repository root)
#
# Each round runs the baseline (/work/shared/bench tcpbench -mode bulk: 20 000
# frames of 64 KiB, length-prefixed, through bufio) and then this demo
# streaming 20 000 packets of 64 KiB over the dedicated flow listener and
# over a Station (the game connection). It prints every figure, then the
# medians and the ratios to the baseline.
set -eu
rounds=${1:-5}
bench=${BENCH_DIR:-/work/shared/bench}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$bench" && make -s bin/tcpbench)
go build -o "$tmp/stream" ./demo/stream

port=7901
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

for r in $(seq "$rounds"); do
	port=$((port + 1))
	"$bench/bin/tcpbench" server -addr 127.0.0.1:$port >/dev/null 2>&1 &
	sleep 0.3
	raw=$("$bench/bin/tcpbench" client -mode bulk -size 65536 -n 20000 -addr 127.0.0.1:$port |
		awk '/RESULT tcp.bulk.MB_per_s/ {print $3}')
	wait
	lst=$("$tmp/stream" -self -carrier listener -entities 20000 -size 65536 -ping 0 -progress=false |
		awk '/^A: .* packets in / {for (i = 1; i < NF; i++) if ($i == "wire") print $(i+4)}')
	sta=$("$tmp/stream" -self -carrier station -entities 20000 -size 65536 -ping 0 -progress=false |
		awk '/^A: .* packets in / {for (i = 1; i < NF; i++) if ($i == "wire") print $(i+4)}')
	echo "round $r: raw tcp bulk $raw MB/s, flow listener $lst MB/s, flow station $sta MB/s"
	echo "$raw" >>"$tmp/raw"
	echo "$lst" >>"$tmp/lst"
	echo "$sta" >>"$tmp/sta"
done
raw=$(median <"$tmp/raw")
lst=$(median <"$tmp/lst")
sta=$(median <"$tmp/sta")
echo "median of $rounds: raw tcp bulk $raw MB/s; flow listener $lst MB/s ($(echo "$lst $raw" | awk '{printf "%.2f", $1/$2}')x); flow station $sta MB/s ($(echo "$sta $raw" | awk '{printf "%.2f", $1/$2}')x)"
