#!/usr/bin/env bash
# Regenerates the public API baselines (PublicAPI.Unshipped.txt) of every library project from the current code, with
# the PublicApiAnalyzers code fix run through `dotnet format`. Run after merging branches that add public members,
# then review the diff: it is the change to the public surface.
# PublicAPI.Shipped.txt is left alone: move lines from Unshipped to Shipped when a version is released.
set -euo pipefail
cd "$(dirname "$0")/.."
projects=(src/ScrapeDo.Lean src/ScrapeDo.Lean.Hosting src/ScrapeDo.Lean.AspNetCore src/ScrapeDo.Lean.Emulator)

for p in "${projects[@]}"; do
  [ -f "$p/PublicAPI.Shipped.txt" ] || printf '#nullable enable\n' > "$p/PublicAPI.Shipped.txt"
  printf '#nullable enable\n' > "$p/PublicAPI.Unshipped.txt"
done

for p in "${projects[@]}"; do
  name=$(basename "$p")
  echo "update-public-api: $name"
  # RS0016: a public symbol missing from the baseline; the code fix appends it to PublicAPI.Unshipped.txt.
  dotnet format analyzers "$p/$name.csproj" --diagnostics RS0016 --severity warn -v q
done

# The baselines are sorted by the fixer only per run; sort them so re-running gives no diff.
for p in "${projects[@]}"; do
  f="$p/PublicAPI.Unshipped.txt"
  { head -n1 "$f"; tail -n +2 "$f" | LC_ALL=C sort -u; } > "$f.tmp" && mv "$f.tmp" "$f"
done

for p in "${projects[@]}"; do
  if ! dotnet build "$p" -c Release -v q -nologo; then
    echo "update-public-api: $p does not build cleanly" >&2
    exit 1
  fi
done
echo "update-public-api: baselines regenerated; review git diff src/*/PublicAPI.*.txt"
