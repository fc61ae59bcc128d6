#!/usr/bin/env bash
# Measures the referential as BENCHMARKS.md reports it: full import time (PostgreSQL and
# SQLite), then throughput, latency and RSS of GET /v1/fiches/{code}, the France Travail
# métier endpoint and appellation search, against PostgreSQL over loopback.
#
#   tools/loadtest/scripts/bench-referential.sh            (RUNS=5 DURATION=10s CONCURRENCY=32)
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
data=${ROME_DATA_DIR:-$root/../shared/data/rome4}
runs=${RUNS:-5} duration=${DURATION:-10s} conc=${CONCURRENCY:-32}
pg=${BENCH_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
port=${REFERENTIAL_PORT:-18082}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; psql "$pg" -qc "DROP DATABASE IF EXISTS rome_bench WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cd "$root"
go build -o "$work/referential" ./services/referential/cmd/referential
go build -o "$work/loadtest" ./tools/loadtest/cmd/loadtest
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GiB, $(uname -sr), $(go version | cut -d' ' -f3)"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
import_once() { # $1 = DATABASE_URL (empty for SQLite)
  local start end
  start=$(date +%s.%N)
  DATABASE_URL="$1" ROME_STATE_DIR="$work/state-$RANDOM" LOG_LEVEL=warn "$work/referential" import "$data"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
for dialect in postgres sqlite; do
  times=()
  for _ in $(seq "$runs"); do
    if [ $dialect = postgres ]; then
      psql "$pg" -qc "DROP DATABASE IF EXISTS rome_bench WITH (FORCE)" -c "CREATE DATABASE rome_bench" >/dev/null
      times+=("$(import_once "${pg/\/postgres\?/\/rome_bench?}")")
    else
      times+=("$(import_once "")")
    fi
  done
  echo "import into $dialect (read + check + load, s): ${times[*]} → median $(printf '%s\n' "${times[@]}" | median)"
done

# RATE_LIMIT_RPS=0: the load comes from one client, which the per-client rate limit would throttle.
export DATABASE_URL=${pg/\/postgres\?/\/rome_bench?} ROME_STATE_DIR=$work/state ROME_DEV_MODE=true REFERENTIAL_PORT=$port LOG_LEVEL=warn RATE_LIMIT_RPS=0
"$work/referential" serve &
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "referential did not become ready"; exit 1; }
python3 - "$port" > "$work/codes.txt" <<'PY'
import json, sys, urllib.request
port, cur = sys.argv[1], None
while True:
    d = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/fiches?limit=200" + (f"&cursor={cur}" if cur else "")))
    print("\n".join(i["codeRome"] for i in d["items"]))
    cur = d["nextCursor"]
    if not cur: break
PY
printf '%s\n' boulangere developeur+web aide+soignante infirmiere mecanicien+auto chauffeur+poids+lourd pattissier \
  conducteur+engins+agricoles comptable agent+de+securite coiffeuse professeur+des+ecoles plombier electricien+batiment > "$work/queries.txt"
rss() { ps -o rss= -p "$(pgrep -f "$work/referential serve")" | awk '{printf "%.0f MB", $1/1024}'; }
echo "referential RSS after start: $(rss)"
load() { echo "== $1"; "$work/loadtest" -url "$2" -values-file "$3" -c "$4" -d "$duration" -runs "$runs" 2>/dev/null; echo "   RSS: $(rss)"; }
load "GET /v1/fiches/{code}, all 1,584 fiches, concurrency $conc" "http://127.0.0.1:$port/v1/fiches/{}" "$work/codes.txt" "$conc"
load "GET /rome-metiers/v1/metiers/metier/{code}, concurrency $conc" "http://127.0.0.1:$port/rome-metiers/v1/metiers/metier/{}" "$work/codes.txt" "$conc"
load "GET /v1/search/appellations?q=, 14 queries, concurrency 8" "http://127.0.0.1:$port/v1/search/appellations?q={}" "$work/queries.txt" 8
load "GET /v1/search/appellations?q=, 14 queries, concurrency 1" "http://127.0.0.1:$port/v1/search/appellations?q={}" "$work/queries.txt" 1
