#!/usr/bin/env bash
# Installs, idempotently, what a fresh Debian 12 machine needs to build and test this repository.
# Safe to run many times; does nothing when everything is present.
set -euo pipefail

need_apt=()
# Debian packages the test suite uses (name:command). Extend this list when a feature needs a tool.
for pair in ${IDEFICS3_APT_PACKAGES:-}; do
  pkg=${pair%%:*}; cmd=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "bootstrap: optional tools missing (${need_apt[*]}); the tests that need them report it." >&2
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "bootstrap: the .NET SDK 10 is required (https://dot.net); 'dotnet' is not on PATH." >&2
  exit 1
fi
major=$(dotnet --version | cut -d. -f1)
if [ "$major" -lt 10 ]; then
  echo "bootstrap: .NET SDK 10 or newer is required; found $(dotnet --version)." >&2
  exit 1
fi
