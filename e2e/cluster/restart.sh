#!/usr/bin/env bash
# restart.sh stops one component of the local cluster (by its PID file) and
# starts it again with the command line up.sh gave it: the e2e fault tests
# restart the API server and the CNI agent in the middle of a run.
#   restart.sh kube-apiserver|cilium-agent|… [seconds-down]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
name=${1:?component}; down=${2:-0}
[[ -f "$STATE/cmds/$name" && -f "$STATE/pids/$name.pid" ]] || die "$name was not started by up.sh"
mapfile -d '' -t cmd < "$STATE/cmds/$name"
pid=$(cat "$STATE/pids/$name.pid")
kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$pid" 2>/dev/null || true
log "$name stopped"
sleep "$down"
start "$name" "${cmd[@]}"
log "$name started again"
