#!/usr/bin/env bash
# The repository's test command: builds the whole solution in Release (warnings are errors; IDEFICS3_CONFIGURATION=Debug
# for a debuggable build), runs every test project, then the packaging check (scripts/consumer-check.sh: the library
# packed in Release and used by a separate console app; IDEFICS3_SKIP_CONSUMER_CHECK=1 skips it, counted as skipped).
# Prints one closing line: "Tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
IDEFICS3_APT_PACKAGES="${IDEFICS3_APT_PACKAGES:-poppler-utils:pdftoppm}" bash scripts/bootstrap.sh || exit 1

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
configuration="${IDEFICS3_CONFIGURATION:-Release}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Idefics3.SemanticKernel.sln -c "$configuration" -nologo -v:minimal 2>&1 | tee "$log" | grep -E "error|warn|TorchSharp native fix" || true
build_rc=${PIPESTATUS[0]}
if [ "$build_rc" -ne 0 ]; then
  echo "Tests: 0 passed, 1 failed, 0 skipped (the build failed)"
  exit "$build_rc"
fi

# One test assembly at a time (-m:1): on a 2-core machine parallel assemblies only fight over the cores.
dotnet test Idefics3.SemanticKernel.sln -c "$configuration" --no-build -nologo -m:1 "$@" 2>&1 | tee "$log"
test_rc=${PIPESTATUS[0]}

read -r passed failed skipped < <(awk '
  /Passed!|Failed!/ {
    for (i = 1; i <= NF; i++) {
      v = $(i+1); gsub(/,/, "", v)
      if ($i == "Failed:") f += v; else if ($i == "Passed:") p += v; else if ($i == "Skipped:") s += v
    }
  }
  END { printf "%d %d %d\n", p, f, s }' "$log")
if [ "$test_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

if [ "${IDEFICS3_SKIP_CONSUMER_CHECK:-0}" = "1" ]; then
  skipped=$((skipped + 1))
elif bash scripts/consumer-check.sh; then
  passed=$((passed + 1))
else
  echo "consumer check: FAILED"
  failed=$((failed + 1))
  test_rc=1
fi
echo "Tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$test_rc"
