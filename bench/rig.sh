#!/usr/bin/env bash
# One full run of the benchmark rig (docs/benchmarks.md): the fan-out ratio harness, then the BenchmarkDotNet suite twice
# (the second pass gives the run-to-run spread of every time column), then the report: tables.md next to the first pass
# and the SVG charts into DOCS (default docs). Output in OUT (default BenchmarkDotNet.Artifacts/rig-<UTC time>).
#   TARGETS=10000 ROUNDS=5 PASSES=2 DOCS=docs bench/rig.sh [OUT]
# Run it on a quiet machine: it pins itself and its servers to different cores (taskset) and prints the load average
# before, between and after, so a reader can see whether anything else ran.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-BenchmarkDotNet.Artifacts/rig-$(date -u +%Y%m%d-%H%M%S)}
docs=${DOCS:-docs}
mkdir -p "$out"
dotnet build src/ScrapeDo.Lean.Cli -c Release -nologo -v q
dotnet build bench/ScrapeDo.Lean.Benchmarks -c Release -nologo -v q
exe=bench/ScrapeDo.Lean.Benchmarks/bin/Release/net10.0/ScrapeDo.Lean.Benchmarks
load() { echo "load $1: $(cat /proc/loadavg 2>/dev/null || echo n/a)" | tee -a "$out/load.txt"; }
load before
"$exe" --fanout-ratio --targets "${TARGETS:-10000}" --rounds "${ROUNDS:-5}" --out "$out" | tee "$out/fanout.log"
passes=${PASSES:-2}
for pass in $(seq 1 "$passes"); do
  load "before pass $pass"
  "$exe" --suite --artifacts "$out/pass$pass" > "$out/pass$pass.log"
  grep -E '^(placement|Global total)' "$out/pass$pass.log" || true
done
load after
run2=()
[ "$passes" -ge 2 ] && run2=(--run2 "$out/pass2")
"$exe" --report --run1 "$out/pass1" "${run2[@]}" --fanout "$out/fanout-ratio.json" --docs "$docs" > "$out/report.log"
echo "tables: $out/pass1/tables.md; charts: $docs/bench-*.svg"
