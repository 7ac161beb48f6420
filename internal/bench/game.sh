#!/usr/bin/env bash
# game.sh - the game-shaped benchmark: cmd/gamebench (gonetic) beside its raw
# libenet twin, internal/bench/c/gamebench.c, case by case, in one table.
# The shape both follow: internal/bench/gamebench.md.
#
# usage: internal/bench/game.sh [-d duration] [-r rounds] [-c clients] [-z hz]
#                               [-t transports] [-l loads] [-o name=gamebench ...]
#   -d  measured time per run, after a 2 s warm-up (default 10s)
#   -r  rounds (default 1); the table shows the median of each figure
#   -c  client counts (default "20 100")
#   -z  server tick rates (default "30 60")
#   -t  gonetic transports: tcp, enet (default: both, enet when gamebench was
#       built with cgo), sealed-tcp, sealed-enet: the same with -tokens (every
#       connection with a connect token, all traffic sealed), and NAME-tcp,
#       NAME-enet: the same with -o's binaries
#   -l  loads: quiet, loaded (one busy loop per core beside the run) (default both)
#   -o  NAME=PATH, a gamebench binary built from another revision, to compare
#       with in the same run (repeatable): git worktree add /tmp/old REV &&
#       (cd /tmp/old && go build -o /tmp/gamebench-old ./cmd/gamebench);
#       -o old=/tmp/gamebench-old adds old-tcp and old-enet to the default
#       transports
# Lists are space- or comma-separated: game.sh -d 5s -c 20 -z 30 -t tcp,enet-dialed -l quiet
#
# Each case (clients, hz, load) runs the raw C twin once, then gonetic over
# each transport, so the noise of this shared machine spreads over both; the
# raw figure sits beside every gonetic row of its case. The shape and the
# figures are fixed by the shared spec of the two programs (GAMEBENCH.md,
# issue 16): see cmd/gamebench's doc. The C twin is built with
# `cc -O2 ... -lenet` from $GAMEBENCH_C (default internal/bench/c/gamebench.c);
# without it the raw column is empty. The default run takes about 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=10s ROUNDS=1 CLIENTS="20 100" HZS="30 60" TRS="" LOADS="quiet loaded"
declare -A OTHER=()
while getopts "d:r:c:z:t:l:o:" opt; do
  case $opt in
    d) D=$OPTARG ;; r) ROUNDS=$OPTARG ;; c) CLIENTS=${OPTARG//,/ } ;; z) HZS=${OPTARG//,/ } ;;
    t) TRS=${OPTARG//,/ } ;; l) LOADS=${OPTARG//,/ } ;; o) [[ $OPTARG == ?*=?* ]] || { echo "game.sh: -o wants NAME=PATH" >&2; exit 2; }; OTHER[${OPTARG%%=*}]=${OPTARG#*=} ;;
    *) sed -n '2,30p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# = 0 ] || { sed -n '2,30p' "$0"; exit 2; }
for l in $LOADS; do
  case $l in quiet | loaded) ;; *) echo "game.sh: unknown load $l (want quiet or loaded)" >&2; exit 2 ;; esac
done

BIN=$(mktemp -d)
LOADPIDS=()
stop_load() {
  local p
  for p in "${LOADPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${LOADPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  LOADPIDS=()
}
trap 'stop_load; rm -rf "$BIN"' EXIT
trap 'exit 130' INT TERM
start_load() {
  local i
  for i in $(seq "$(nproc)"); do
    sh -c 'while :; do :; done' &
    LOADPIDS+=($!)
  done
}

go build -o "$BIN/gamebench" ./cmd/gamebench
HAVE_ENET=0
"$BIN/gamebench" server -h 2>&1 | grep -q 'enet' && HAVE_ENET=1
if [ -z "$TRS" ]; then
  TRS=tcp
  [ $HAVE_ENET = 1 ] && TRS="tcp enet"
  for o in "${!OTHER[@]}"; do
    TRS="$TRS $o-tcp"
    [ $HAVE_ENET = 1 ] && TRS="$TRS $o-enet"
  done
fi
for t in $TRS; do
  case $t in
    tcp) ;;
    enet | sealed-enet) [ $HAVE_ENET = 1 ] || { echo "game.sh: gamebench was built without enet (cgo, libenet-dev): drop $t" >&2; exit 2; } ;;
    sealed-tcp) ;;
    *-tcp | *-enet) [ -x "${OTHER[${t%-*}]:-}" ] || { echo "game.sh: $t needs -o ${t%-*}=PATH, a gamebench binary" >&2; exit 2; } ;;
    *) echo "game.sh: unknown transport $t (want tcp, enet, sealed-tcp, sealed-enet, or NAME-tcp, NAME-enet with -o NAME=PATH)" >&2; exit 2 ;;
  esac
done
CSRC=${GAMEBENCH_C:-internal/bench/c/gamebench.c}
CBIN=$BIN/gamebench_c CNOTE=""
if [ ! -f "$CSRC" ]; then
  CBIN="" CNOTE="no raw C rows: $CSRC does not exist"
elif ! cc -O2 -o "$CBIN" "$CSRC" -lenet 2>"$BIN/cc.log"; then
  CBIN="" CNOTE="no raw C rows: $CSRC did not build ($(head -c 300 "$BIN/cc.log"))"
fi
[ -n "$CNOTE" ] && echo "game.sh: $CNOTE" >&2

RES=$BIN/results
: >"$RES"
port=7990

# run LABEL PROG [transport flags...]: one server and one clients process
# for the case in $n, $hz; their RESULT lines go to $RES.
run() {
  local label=$1 prog=$2 i
  shift 2
  port=$((port + 1))
  local common=(-addr 127.0.0.1:$port -hz "$hz" -duration "$D" -label "$label")
  "$prog" server "${common[@]}" -clients "$n" "$@" >"$BIN/server.log" 2>&1 &
  local spid=$!
  for i in $(seq 100); do # the clients retry their connects; this saves the retries
    grep -q '^ready' "$BIN/server.log" && break
    kill -0 $spid 2>/dev/null || break
    sleep 0.05
  done
  echo "  $label ($(basename "$prog"))" >&2
  if ! "$prog" clients "${common[@]}" -n "$n" "$@" >"$BIN/client.log" 2>&1; then
    echo "FAILED: $prog clients ${common[*]} -n $n $*" >&2
    sed 's/^/  clients: /' "$BIN/client.log" >&2
  fi
  if ! wait $spid; then
    echo "FAILED: $prog server ${common[*]} -clients $n $*" >&2
    sed 's/^/  server: /' "$BIN/server.log" >&2
  fi
  grep -h '^RESULT' "$BIN/server.log" "$BIN/client.log" >>"$RES" || true
}

started=$(date +%s)
for r in $(seq "$ROUNDS"); do
  for load in $LOADS; do
    [ "$load" = loaded ] && start_load
    for n in $CLIENTS; do
      for hz in $HZS; do
        case=c${n}_hz${hz}_$load
        echo "round $r: $case" >&2
        [ -n "$CBIN" ] && run "$case" "$CBIN"
        for t in $TRS; do
          case $t in
            sealed-*) run "$case.$t" "$BIN/gamebench" -transport "${t#sealed-}" -tokens ;;
            *-*) run "$case.$t" "${OTHER[${t%-*}]}" -transport "${t##*-}" ;;
            *) run "$case.$t" "$BIN/gamebench" -transport "$t" ;;
          esac
        done
      done
    done
    stop_load
  done
done

# The table: one row per gonetic case and figure, the raw C figure of the
# same clients, hz and load beside it; medians over the rounds.
echo
printf '| case | figure | raw C | gonetic | gonetic / raw |\n|---|---|---|---|---|\n'
awk '
  function median(s,   a, n, i, j, t) {
    n = split(s, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : ""
  }
  BEGIN { nf = split("snap_p50 snap_p99 snap_max snap_missed snap_lost snap_recv input_p50 input_p99 client_cpu tick_work_p50 tick_work_p99 late_p50 late_p99 late_max server_cpu", figs, " ") }
  $1 == "RESULT" && $3 != "NaN" && $3 != "nan" {
    k = split($2, a, ".")
    unit[a[k]] = $4
    if (k == 2) { raw[a[1], a[2]] = raw[a[1], a[2]] " " $3; next }
    c = a[1] "." a[2]
    if (!(c in seen)) { seen[c] = 1; cases[++nc] = c; base[c] = a[1] }
    gon[c, a[3]] = gon[c, a[3]] " " $3
  }
  END {
    for (i = 1; i <= nc; i++) for (j = 1; j <= nf; j++) {
      c = cases[i]; f = figs[j]
      g = median(gon[c, f]); r = median(raw[base[c], f])
      if (g == "" && r == "") continue
      ratio = (r != "" && g != "" && r + 0 > 0) ? sprintf("%.2f", g / r) : "-"
      printf "| %s | %s (%s) | %s | %s | %s |\n", c, f, unit[f], r == "" ? "-" : r, g == "" ? "-" : g, ratio
    }
  }' "$RES"
echo
echo "(rounds: $ROUNDS, $D measured per run after a 2 s warm-up, $(($(date +%s) - started)) s in all; raw C: ${CNOTE:-$CSRC}; -r for more rounds)"
