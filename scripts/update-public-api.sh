#!/usr/bin/env bash
# Regenerates the public API baseline of the packable libraries (src/Idefics3, src/Idefics3.SemanticKernel) with the
# PublicApiAnalyzers' own code fixes: RS0016 adds public API that is missing to PublicAPI.Unshipped.txt, RS0017 removes
# entries whose API is gone. Review the diff of PublicAPI.*.txt: it is the change of the public surface.
#
#   bash scripts/update-public-api.sh          # after changing public API (the build fails with RS0016/RS0017 until then)
#   bash scripts/update-public-api.sh --ship   # at a release: also moves every Unshipped entry into PublicAPI.Shipped.txt
set -euo pipefail
cd "$(dirname "$0")/.."

ship=false
case "${1:-}" in
  --ship) ship=true ;;
  "") ;;
  *) echo "usage: $0 [--ship]" >&2; exit 2 ;;
esac

projects=(src/Idefics3/Idefics3.csproj src/Idefics3.SemanticKernel/Idefics3.SemanticKernel.csproj)
for project in "${projects[@]}"; do
  dir=$(dirname "$project")
  for file in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [[ -f "$dir/$file" ]] || printf '#nullable enable\n' > "$dir/$file"
  done
  echo "== $project"
  dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity info -v:minimal
  if $ship; then
    # Shipped = Shipped + Unshipped, sorted as the analyzer sorts (ordinal); Unshipped = the header only.
    {
      echo '#nullable enable'
      grep -hv '^#nullable enable$' "$dir/PublicAPI.Shipped.txt" "$dir/PublicAPI.Unshipped.txt" | grep -v '^$' | LC_ALL=C sort -u
    } > "$dir/PublicAPI.Shipped.txt.new"
    mv "$dir/PublicAPI.Shipped.txt.new" "$dir/PublicAPI.Shipped.txt"
    printf '#nullable enable\n' > "$dir/PublicAPI.Unshipped.txt"
  fi
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
