#!/usr/bin/env bash
# One full run of the benchmark rig (docs/benchmarks.md): the fan-out ratio harness, then the BenchmarkDotNet suites,
# into OUT (default BenchmarkDotNet.Artifacts/rig-<UTC time>). Run it twice into two folders for the run-to-run spread, then:
#   bench/ScrapeDo.Lean.Benchmarks/bin/Release/net10.0/ScrapeDo.Lean.Benchmarks --report --run1 A --run2 B --fanout A/fanout-ratio.json --docs docs
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-BenchmarkDotNet.Artifacts/rig-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
dotnet build src/ScrapeDo.Lean.Cli -c Release -nologo -v q
dotnet build bench/ScrapeDo.Lean.Benchmarks -c Release -nologo -v q
exe=bench/ScrapeDo.Lean.Benchmarks/bin/Release/net10.0/ScrapeDo.Lean.Benchmarks
echo "load before: $(cat /proc/loadavg 2>/dev/null || echo n/a)" | tee "$out/load.txt"
"$exe" --fanout-ratio --targets "${TARGETS:-10000}" --rounds "${ROUNDS:-5}" --out "$out" | tee "$out/fanout.log"
echo "load between: $(cat /proc/loadavg 2>/dev/null || echo n/a)" | tee -a "$out/load.txt"
"$exe" --suite --artifacts "$out/bdn" | tee "$out/suite.log" | grep -E '^(placement|// \*\*\*\*\*|Global total)' || true
echo "load after: $(cat /proc/loadavg 2>/dev/null || echo n/a)" | tee -a "$out/load.txt"
