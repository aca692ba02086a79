#!/usr/bin/env bash
# Proves that an application can use the packed library: packs src/Idefics3 in Release into a local feed, builds the
# small console app in scripts/consumer-app (a package reference, outside the repository's props) in Release with
# warnings as errors, and runs it on the tiny test model with one JPEG question. Exit status 0 when it answered.
# Called by scripts/test.sh; runs alone as `bash scripts/consumer-check.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work=$(mktemp -d)
# A version of its own per run, so that the NuGet cache never serves an older build; removed again at the end.
version="0.0.0-ci.$(date +%s).$$"
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cleanup() { rm -rf "$work" "$packages/idefics3/$version"; }
trap cleanup EXIT

echo "consumer check: packing Idefics3 $version (Release)"
dotnet pack src/Idefics3 -c Release -nologo -v:quiet -o "$work/feed" -p:PackageVersion="$version"

mkdir "$work/app"
cp scripts/consumer-app/ConsumerApp.csproj scripts/consumer-app/Program.cs "$work/app/"
cat > "$work/app/NuGet.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
CONFIG

echo "consumer check: building the app in Release against the package"
dotnet build "$work/app" -c Release -nologo -v:quiet -p:Idefics3Version="$version"

echo "consumer check: one question with a JPEG on the tiny model"
dotnet "$work/app/bin/Release/net10.0/ConsumerApp.dll" "$repo/tests/Idefics3.Tests/Fixtures/tiny-idefics3/model" "$repo/samples/assets/lake.jpg"
echo "consumer check: passed"
