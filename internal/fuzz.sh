#!/usr/bin/env bash
# fuzz.sh - run every fuzz target of the module, each for FUZZTIME.
#
# usage: internal/fuzz.sh [package...]        (default ./...)
#   FUZZTIME  how long each target runs (default 20s), as go test -fuzztime
#   JOBS      targets run at once (default 1); with 1 go test's output is shown
#   PARALLEL  go test -parallel: fuzzing workers per target (default: go's, GOMAXPROCS)
#   LOGDIR    one log per target (default: a temporary directory, removed)
#   RESULTS   a Markdown file that gets one table row per target as it ends
#   FUZZ      a regexp: only the targets it matches (default ^Fuzz: all)
#
# The targets are found by `go test -list '^Fuzz'`, so a new one cannot be
# left out. Per target it prints the executions reached (go test's last
# "fuzz: elapsed: …, execs: N" line), then a summary table; it exits non-zero
# if a target crashed (go test writes the crasher under the package's
# testdata/fuzz/<target>/, where it becomes a seed of the plain go test) or
# did not run.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-20s}
JOBS=${JOBS:-1}
PARALLEL=${PARALLEL:-}
FUZZ=${FUZZ:-^Fuzz}
PKGS=("${@:-./...}")
if [ -n "${LOGDIR:-}" ]; then
  mkdir -p "$LOGDIR"
else
  LOGDIR=$(mktemp -d)
  trap 'rm -rf "$LOGDIR"' EXIT
fi
MODULE=$($GO list -m)

# Targets as "package target" lines: go test -list prints a package's
# names, then its "ok <import path>" line.
LIST=$LOGDIR/targets.txt
if ! $GO test -list "$FUZZ" "${PKGS[@]}" >"$LOGDIR/list.log" 2>&1; then
  cat "$LOGDIR/list.log" >&2
  echo "fuzz.sh: go test -list failed: a package does not build, so its targets cannot be found" >&2
  exit 1
fi
awk -v mod="$MODULE" '
  /^Fuzz/ { names[n++] = $1; next }
  /^ok[ \t]/ {
    pkg = $2; sub("^" mod, ".", pkg)
    for (i = 0; i < n; i++) print pkg, names[i]
    n = 0
  }' "$LOGDIR/list.log" >"$LIST"
TOTAL=$(wc -l <"$LIST")
if [ "$TOTAL" -eq 0 ]; then
  echo "fuzz.sh: no fuzz target matching $FUZZ found in ${PKGS[*]}" >&2
  exit 1
fi
echo "fuzz.sh: $TOTAL targets, $FUZZTIME each, $JOBS at a time${PARALLEL:+, -parallel $PARALLEL}; logs in $LOGDIR"

# seconds turns a Go duration (1h2m3.5s, 10m0s, 45s) into whole seconds.
seconds() {
  awk -v d="$1" 'BEGIN {
    s = 0
    while (match(d, /^[0-9.]+(h|ms|m|s)/)) {
      part = substr(d, 1, RLENGTH); d = substr(d, RLENGTH + 1)
      v = part + 0; u = part; sub(/^[0-9.]+/, "", u)
      s += (u == "h") ? v * 3600 : (u == "m") ? v * 60 : (u == "s") ? v : v / 1000
    }
    printf "%d", s
  }'
}

# result prints a target's row from its log and exit status:
# target|package|duration|execs|execs/s|crashes|status.
result() {
  local pkg=$1 name=$2 log=$3 rc=$4 last elapsed execs secs rate crash seed status
  last=$(grep -E '^fuzz: elapsed: .*, execs: [0-9]+' "$log" | tail -n 1 || true)
  elapsed=$(sed -nE 's/^fuzz: elapsed: ([^,]+),.*/\1/p' <<<"$last")
  execs=$(sed -nE 's/.*, execs: ([0-9]+) .*/\1/p' <<<"$last")
  secs=$(seconds "${elapsed:-0s}")
  rate=0
  if [ -n "$execs" ] && [ "$secs" -gt 0 ]; then rate=$((execs / secs)); fi
  crash=$(sed -nE 's/.*Failing input written to (.*)$/\1/p' "$log" | head -n 1)
  if [ -z "$crash" ]; then
    # A crasher already in testdata fails before fuzzing starts.
    seed=$(sed -nE "s/^failure while testing seed corpus entry: $name\/(.+)$/\1/p" "$log" | head -n 1)
    if [ -n "$seed" ] && [ -f "$pkg/testdata/fuzz/$name/$seed" ]; then
      crash=testdata/fuzz/$name/$seed
    fi
  fi
  if [ "$rc" -eq 0 ]; then
    status=ok
  elif [ -n "$crash" ] && grep -q 'fuzzing process hung or terminated unexpectedly' "$log"; then
    # One input ran over go test's 10 s (or the worker died without a
    # panic): a slow input, or a starved or paused machine (golang/go#56238).
    # Re-run the crasher alone to tell.
    status="HUNG: ${pkg%/}/$crash"
  elif [ -n "$crash" ]; then
    status="CRASH: ${pkg%/}/$crash"
  else
    status="FAIL (exit $rc)"
  fi
  echo "$name|$pkg|${elapsed:--}|${execs:--}|$rate|$([ -n "$crash" ] && echo 1 || echo 0)|$status"
}

# logof names a target's log: <package with _ for />.<target>.log.
logof() {
  local p=${1#./}
  p=${p//\//_}
  echo "$LOGDIR/${p:-root}.$2.log"
}

# run fuzzes one target; its row goes to its .row file.
run() {
  local pkg=$1 name=$2 log rc=0
  log=$(logof "$pkg" "$name")
  local args=(test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME")
  [ -n "$PARALLEL" ] && args+=(-parallel "$PARALLEL")
  if [ "$JOBS" -eq 1 ]; then
    echo "=== $name ($pkg)"
    $GO "${args[@]}" "$pkg" 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
  else
    $GO "${args[@]}" "$pkg" >"$log" 2>&1 || rc=$?
  fi
  local row
  row=$(result "$pkg" "$name" "$log" "$rc")
  echo "$row" >"$log.row"
  IFS='|' read -r _ _ elapsed execs rate crashes status <<<"$row"
  echo "--- $name ($pkg): $execs execs in $elapsed ($rate/s), $status"
  if [ -n "${RESULTS:-}" ]; then
    echo "| $name | $pkg | $elapsed | $execs | $rate | $crashes | ${status%%:*} |" >>"$RESULTS"
  fi
}

if [ -n "${RESULTS:-}" ] && ! grep -q '^| target |' "$RESULTS" 2>/dev/null; then
  printf '| target | package | duration | execs | execs/s | crashes | status |\n|---|---|---|---:|---:|---:|---|\n' >"$RESULTS"
fi
while read -r pkg name; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  run "$pkg" "$name" &
done <"$LIST"
wait

ROWS=$LOGDIR/summary.txt
echo "target|package|duration|execs|execs/s|crashes|status" >"$ROWS"
FAILED=0
while read -r pkg name; do
  log=$(logof "$pkg" "$name")
  if [ -f "$log.row" ]; then
    row=$(cat "$log.row")
  else
    row="$name|$pkg|-|-|0|0|FAIL (did not run)"
  fi
  if [ "${row##*|}" != ok ]; then
    FAILED=$((FAILED + 1))
    if [ "$JOBS" -ne 1 ] && [ -f "$log" ]; then
      echo
      echo "=== $name ($pkg) failed; the end of its log:"
      tail -n 40 "$log"
    fi
  fi
  echo "$row" >>"$ROWS"
done <"$LIST"
echo
echo "fuzz.sh: summary ($FUZZTIME per target)"
column -t -s '|' "$ROWS"
if [ "$FAILED" -gt 0 ]; then
  echo "fuzz.sh: $FAILED of $TOTAL targets crashed or failed"
  exit 1
fi
echo "fuzz.sh: all $TOTAL targets ran without a crash"
