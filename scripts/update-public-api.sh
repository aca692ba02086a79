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
  shipped="$dir/PublicAPI.Shipped.txt" unshipped="$dir/PublicAPI.Unshipped.txt"
  for file in "$shipped" "$unshipped"; do
    [[ -f "$file" ]] || printf '#nullable enable\n' > "$file"
  done
  echo "== $project"
  # New public API: the analyzer's code fix for RS0016 writes it into PublicAPI.Unshipped.txt.
  dotnet format analyzers "$project" --diagnostics RS0016 --severity info -v:minimal
  # API that is gone (RS0017 has no code fix): the build names each symbol; an unshipped entry is deleted, a shipped
  # one is marked *REMOVED* in PublicAPI.Unshipped.txt (the analyzer's convention) until the next --ship.
  dotnet build "$project" -nologo -v:quiet -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= 2>&1 \
    | sed -n "s/.*warning RS0017: Symbol '\(.*\)' is part of the declared API, but is either not public or could not be found.*/\1/p" \
    | sort -u | while IFS= read -r symbol; do
        if grep -qxF -- "$symbol" "$unshipped"; then
          grep -vxF -- "$symbol" "$unshipped" > "$unshipped.new" || true
          mv "$unshipped.new" "$unshipped"
        elif ! grep -qxF -- "*REMOVED*$symbol" "$unshipped"; then
          printf '%s\n' "*REMOVED*$symbol" >> "$unshipped"
        fi
      done
  if $ship; then
    # Shipped = Shipped - *REMOVED* entries + the other Unshipped entries, sorted (ordinal); Unshipped = the header only.
    removed=$(sed -n 's/^\*REMOVED\*//p' "$unshipped")
    {
      echo '#nullable enable'
      { grep -vxF -e '#nullable enable' -e '' "$shipped" | grep -vxF -f <(printf '%s\n' "$removed") || true
        grep -v -e '^#nullable enable$' -e '^\*REMOVED\*' -e '^$' "$unshipped" || true
      } | LC_ALL=C sort -u
    } > "$shipped.new"
    mv "$shipped.new" "$shipped"
    printf '#nullable enable\n' > "$unshipped"
  fi
done
git --no-pager diff --stat -- 'src/*/PublicAPI.*.txt' || true
