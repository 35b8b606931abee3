#!/usr/bin/env bash
# Runs the whole test suite: installs the servers the tests need (PostgreSQL, from Debian's packages),
# builds the solution, runs every test project, and ends with one line "N passed, N failed" summed over
# the projects. Exit status is non-zero on any failure or build error.
# Each end-to-end test starts its own engine on a free loopback port with a temporary data directory;
# the PostgreSQL tests start their own server (as the postgres user) in a temporary directory.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing PostgreSQL (apt-get)"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed and this is not root: the PostgreSQL tests will fail (apt-get install postgresql)"
  fi
fi

log=$(mktemp)
dotnet build TriggerEngine.sln -c Release 2>&1 | tail -n 3
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then
  dotnet build TriggerEngine.sln -c Release 2>&1 | grep -E "error" | sort -u | head -n 30
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test TriggerEngine.sln -c Release --no-build 2>&1 | tee "$log" | grep -E "^\s*(Passed|Failed)!|^\s*Failed [A-Za-z]|Error Message" 
status=${PIPESTATUS[0]}

# One summary line per test assembly: "Passed!  - Failed:     0, Passed:   151, Skipped: ..."
passed=$(grep -E "^\s*(Passed|Failed)!" "$log" | sed -E 's/.*Passed: *([0-9]+).*/\1/' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E "^\s*(Passed|Failed)!" "$log" | sed -E 's/.*Failed: *([0-9]+),.*/\1/' | awk '{s+=$1} END {print s+0}')
projects=$(ls tests/*/*.csproj | wc -l)
reported=$(grep -cE "^\s*(Passed|Failed)!" "$log")
if [ "$reported" -lt "$projects" ]; then
  echo "only $reported of $projects test projects reported results"
  failed=$((failed + 1))
fi
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
