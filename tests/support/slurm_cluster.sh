#!/usr/bin/env bash
# A throwaway one-node Slurm cluster (slurm-wlm + munge) for the tests, in a folder of its own.
#   slurm_cluster.sh start DIR   munged, slurmctld and slurmd on free ports; prints the path of
#                                DIR/slurm.conf once the node is idle (export SLURM_CONF=...)
#   slurm_cluster.sh stop DIR    stops all three and deletes DIR
# It runs as root (slurmd must start jobs as their user), as CI does.
set -euo pipefail

command=${1:?usage: slurm_cluster.sh start|stop DIR}
dir=${2:?usage: slurm_cluster.sh start|stop DIR}

stop() {
  for pid_file in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    [[ -f "$pid_file" ]] && kill "$(cat "$pid_file")" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$dir"
}

case "$command" in
start)
  for tool in munged slurmctld slurmd sinfo; do
    command -v "$tool" >/dev/null || {
      echo "slurm_cluster.sh: $tool is missing (apt-get install slurm-wlm munge)" >&2
      exit 1
    }
  done
  mkdir -p "$dir"/{state,spool,log,munge}
  chmod 700 "$dir/munge"
  head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  chmod 400 "$dir/munge/munge.key"
  munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/seed" --force
  host=$(hostname -s)
  port=$((20000 + RANDOM % 40000))
  cat >"$dir/slurm.conf" <<EOF
ClusterName=mlqtest
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
KillWait=5
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -f "$SLURM_CONF"
  slurmd -f "$SLURM_CONF"
  for _ in $(seq 100); do
    if sinfo -h -o %T 2>/dev/null | grep -q idle; then
      echo "$SLURM_CONF"
      exit 0
    fi
    sleep 0.1
  done
  echo "slurm_cluster.sh: the node did not become idle; slurmctld's log:" >&2
  tail -20 "$dir/log/slurmctld.log" >&2 || true
  stop
  exit 1
  ;;
stop) stop ;;
*)
  echo "slurm_cluster.sh: unknown command '$command' (start or stop)" >&2
  exit 2
  ;;
esac
