#!/usr/bin/env bash
# restart.sh stops one component of the local cluster (by its PID file) and
# starts it again with the command line up.sh gave it: the e2e fault tests
# restart the API server and the CNI agent in the middle of a run. Each
# --flag=value after seconds-down replaces that flag in the command line
# (e.g. node 2's agent coming back with --enable-policy=default).
#   restart.sh kube-apiserver|cilium-agent|cilium-agent-2|… [seconds-down [--flag=value…]]
set -euo pipefail
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
name=${1:?component}; down=${2:-0}; shift $(($# < 2 ? $# : 2))
[[ -f "$STATE/cmds/$name" && -f "$STATE/pids/$name.pid" ]] || die "$name was not started by up.sh"
mapfile -d '' -t cmd < "$STATE/cmds/$name"
for f in "$@"; do
  [[ $f == --*=* ]] || die "not a --flag=value: $f"
  found=false
  for i in "${!cmd[@]}"; do
    [[ ${cmd[$i]} == "${f%%=*}="* ]] && { cmd[i]=$f; found=true; }
  done
  $found || die "$name has no flag ${f%%=*}"
done
pid=$(cat "$STATE/pids/$name.pid")
kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -KILL -- "-$pid" 2>/dev/null || true
log "$name stopped"
sleep "$down"
start "$name" "${cmd[@]}"
log "$name started again"
