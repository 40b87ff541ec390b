#!/usr/bin/env bash
# Load run for the admin port: wrk on /metrics while the pipeline runs, side by side with runs
# that have no load, and the tick-to-order percentiles of both are compared.
#
#   bench/scripts/admin-load.sh [seconds per run (10)] [rounds (3)] [req/s (4000; 0 = flat out)]
#
# Each round runs `tickline run --admin 127.0.0.1:0` twice on the embedded default config:
# once quiet, once with wrk on /metrics for the whole run: 8 keep-alive connections, each
# pausing between requests so that together they ask for the given rate (wrk's `delay()`
# hook), or as fast as the server answers with rate 0. wrk is pinned to WRK_CPUS (default:
# core 0, the auxiliary core the sidecar uses in the 2-core `auto` layout; the hot thread is on
# the last core), as a scraper on another host would not share the hot core.
# NICE (default 0) runs tickline at that nice level in both kinds of run: on a shared machine,
# NICE=-10 keeps other people's background jobs from preempting the hot thread, which is what
# a dedicated host's isolated core does. Prints one line per run and writes
# target/admin-load.json. Not a test: no assertion on timing.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECS=${1:-10}
ROUNDS=${2:-3}
RATE=${3:-4000}
CONNS=8
WRK_CPUS=${WRK_CPUS:-0}
NICE=${NICE:-0}
TARGET=${CARGO_TARGET_DIR:-target}
OUT="$TARGET/admin-load"
command -v wrk >/dev/null || { echo "wrk is not installed (Debian package wrk)" >&2; exit 1; }
cargo build --release --quiet -p tickline-tools --bin tickline
BIN="$TARGET/release/tickline"
mkdir -p "$OUT"
PACE=()
if [ "$RATE" -gt 0 ]; then
  # Each connection waits CONNS/RATE seconds between requests (whole milliseconds: wrk's unit).
  echo "function delay() return $(( CONNS * 1000 / RATE )) end" >"$OUT/pace.lua"
  PACE=(-s "$OUT/pace.lua")
fi

one_run() { # $1 = label, $2 = load|quiet
  local label=$1 mode=$2 log="$OUT/$1.log" sum="$OUT/$1.json" pid addr=""
  rm -f "$log" "$sum" "$OUT/$label.wrk"
  nice -n "$NICE" "$BIN" run --duration "${SECS}s" --json --admin 127.0.0.1:0 >"$sum" 2>"$log" &
  pid=$!
  for _ in $(seq 1 200); do
    addr=$(sed -n 's/.*admin port listening addr=\([0-9.:]*\).*/\1/p' "$log" 2>/dev/null | head -1 || true)
    [ -n "$addr" ] && break
    sleep 0.05
  done
  [ -n "$addr" ] || { echo "no admin address in $log" >&2; kill "$pid"; exit 1; }
  if [ "$mode" = load ]; then
    taskset -c "$WRK_CPUS" wrk -t1 -c"$CONNS" -d"$((SECS - 1))s" --latency "${PACE[@]}" \
      "http://$addr/metrics" >"$OUT/$label.wrk"
  else
    : >"$OUT/$label.wrk"
  fi
  wait "$pid"
}

uptime
for r in $(seq 1 "$ROUNDS"); do
  one_run "quiet-$r" quiet
  one_run "load-$r" load
done
uptime

python3 - "$OUT" "$ROUNDS" "$SECS" "$CONNS" "$RATE" "$NICE" <<'PY'
import json, re, sys, statistics
out, rounds, secs, conns, rate, nice = sys.argv[1], *map(int, sys.argv[2:7])
rows = []
for r in range(1, rounds + 1):
    for mode in ("quiet", "load"):
        label = f"{mode}-{r}"
        s = json.load(open(f"{out}/{label}.json"))
        t = s["tick_to_order"]
        rps = lat99 = None
        w = open(f"{out}/{label}.wrk").read()
        m = re.search(r"Requests/sec:\s+([\d.]+)", w)
        if m:
            rps = float(m.group(1))
            m99 = re.search(r"^\s+99%\s+(\S+)", w, re.M)
            lat99 = m99.group(1) if m99 else None
        rows.append({"run": label, "mode": mode, "ticks": s["ticks"], "orders": s["orders"],
                     "tto_p50_ns": t["p50"], "tto_p99_ns": t["p99"], "tto_p999_ns": t["p999"],
                     "tto_max_ns": t["max"], "tto_count": t["count"],
                     "metrics_req_per_s": rps, "metrics_p99_latency": lat99})
for x in rows:
    line = (f'{x["run"]:<8} ticks {x["ticks"]:>8}  orders {x["orders"]:>6}  tick-to-order p50 {x["tto_p50_ns"]:>8} ns'
            f'  p99 {x["tto_p99_ns"]:>9} ns  p99.9 {x["tto_p999_ns"]:>9} ns')
    if x["metrics_req_per_s"]:
        line += f'   /metrics {x["metrics_req_per_s"]:>7.0f} req/s (wrk p99 {x["metrics_p99_latency"]})'
    print(line)
def med(mode, key):
    v = [x[key] for x in rows if x["mode"] == mode and x[key] is not None]
    return statistics.median(v) if v else None
q99, l99 = med("quiet", "tto_p99_ns"), med("load", "tto_p99_ns")
summary = {"seconds_per_run": secs, "rounds": rounds, "wrk_connections": conns, "requested_rate": rate, "nice": nice,
           "median_quiet_p50_ns": med("quiet", "tto_p50_ns"), "median_load_p50_ns": med("load", "tto_p50_ns"),
           "median_quiet_p99_ns": q99, "median_load_p99_ns": l99,
           "p99_change": (l99 - q99) / q99 if q99 and l99 is not None else None,
           "median_metrics_req_per_s": med("load", "metrics_req_per_s"), "runs": rows}
change = f'{summary["p99_change"]:+.1%}' if summary["p99_change"] is not None else "n/a (no orders)"
print(f'median tick-to-order p50: quiet {summary["median_quiet_p50_ns"]} ns, loaded {summary["median_load_p50_ns"]} ns; '
      f'p99: quiet {q99} ns, loaded {l99} ns ({change}); /metrics {summary["median_metrics_req_per_s"]:.0f} req/s')
json.dump(summary, open(f"{out}/../admin-load.json", "w"), indent=2)
PY
