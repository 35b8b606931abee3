#!/usr/bin/env bash
# The durable-state crash drill: replay a traffic directory at full speed, kill -9 the engine in the middle,
# start it again on the same data directory and port, let the replayer retry what was not acknowledged,
# then compare the decision file with the oracle.
#   perf/crash-drill.sh TRAFFIC_DIR [KILL_AFTER_SECONDS=20] [PORT=5391] [DATA_DIR=/tmp/te-crash-drill] [replay options...]
# Engine settings beyond the drill's own go in ENGINE_ARGS, e.g. ENGINE_ARGS="--Cluster:CheckpointInterval 00:00:03".
set -euo pipefail
traffic=${1:?traffic directory (from the load tool generate command)}
kill_after=${2:-20}
port=${3:-5391}
data=${4:-/tmp/te-crash-drill}
shift $(( $# < 4 ? $# : 4 ))
root=$(cd "$(dirname "$0")/.." && pwd)
engine_dll="$root/src/TriggerEngine.Host/bin/Release/net10.0/TriggerEngine.Host.dll"
lt_dll="$root/perf/TriggerEngine.LoadTool/bin/Release/net10.0/TriggerEngine.LoadTool.dll"
dotnet build -c Release "$root/src/TriggerEngine.Host" >/dev/null
dotnet build -c Release "$root/perf/TriggerEngine.LoadTool" >/dev/null

start_engine() {
  dotnet "$engine_dll" --clock event --data "$data" --urls "http://127.0.0.1:$port" \
    --Sinks:Ndjson:Outcomes:0 sent --Sinks:Ndjson:Outcomes:1 suppressed --Sinks:Ndjson:Outcomes:2 deferred \
    --Engine:AllowedLateness 06:00:00 ${ENGINE_ARGS:-} >> "$data.log" 2>&1 &
  echo $! > "$data.pid"
}
wait_ready() {
  local t0=$(date +%s.%N)
  until curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null; do sleep 0.1; done
  echo "ready after $(echo "$(date +%s.%N) - $t0" | bc) s"
}

stop_engine() { # an engine left from an earlier run would answer on the port and hold the data directory
  if [ -f "$data.pid" ] && kill -0 "$(cat "$data.pid")" 2>/dev/null; then
    kill "$(cat "$data.pid")"; while kill -0 "$(cat "$data.pid")" 2>/dev/null; do sleep 0.2; done
  fi
}

stop_engine
rm -rf "$data" "$data.log"; mkdir -p "$data"
start_engine; wait_ready
dotnet "$lt_dll" replay --url "http://127.0.0.1:$port" --dir "$traffic" --lateness 06:00:00 "$@" > "$data.replay.log" 2>&1 &
replayer=$!
sleep "$kill_after"
echo "kill -9 $(cat "$data.pid") after ${kill_after} s; decision lines so far: $(wc -l < "$data/decisions.ndjson")"
kill -9 "$(cat "$data.pid")"; sleep 1
start_engine; echo -n "restarted: "; wait_ready
wait "$replayer"
tail -n 8 "$data.replay.log"
stop_engine
dotnet "$lt_dll" compare --expected "$traffic/expected.ndjson" --actual "$data/decisions.ndjson" --traffic "$traffic"
