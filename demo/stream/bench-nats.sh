#!/bin/sh
# bench-nats.sh: the million entities of 100 bytes over NATS against the
# default carrier (a Station on the TCP game connection) and the dedicated
# flow listener, in the same run, interleaved, each with `-self` (B in a
# child process; with -carrier nats, each process has its embedded
# nats-server, clustered through node.LocalSeed).
#
#   demo/stream/bench-nats.sh [rounds]   (default 5; run from the repository root)
#
# It prints every round (carrier, seconds, payload MB/s, game ping p99
# during the flow in ms), then the medians.
set -eu
rounds=${1:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/stream" ./demo/stream

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

for r in $(seq "$rounds"); do
	for c in station listener nats; do
		"$tmp/stream" -self -carrier $c -progress=false |
			awk -v c=$c -v r="$r" '
				/^A: [0-9,]+ packets in / {t = $5; for (i = 1; i < NF; i++) if ($i == "payload") mb = $(i + 4)}
				/^A: game ping/ {for (i = 1; i < NF; i++) if ($i == "flow") p99 = $(i + 5)}
				/checksum matches/ {ok = 1}
				END {if (!ok) exit 1; printf "%s %s %s %s\n", c, t, mb, p99}' >>"$tmp/all"
		tail -n 1 "$tmp/all" | awk -v r="$r" '{printf "round %s: %-8s %s s, %s MB/s, ping p99 during the flow %s ms\n", r, $1, $2, $3, $4}'
	done
done
for c in station listener nats; do
	t=$(awk -v c=$c '$1 == c {print $2}' "$tmp/all" | median)
	mb=$(awk -v c=$c '$1 == c {print $3}' "$tmp/all" | median)
	p99=$(awk -v c=$c '$1 == c {print $4}' "$tmp/all" | median)
	echo "median of $rounds: $c $t s, $mb MB/s, ping p99 during the flow $p99 ms"
done
