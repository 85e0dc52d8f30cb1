#!/usr/bin/env bash
# A real, throwaway Slurm on this machine for the tests: munged, slurmctld and one slurmd,
# started directly (no systemd) with every file (config, munge key, state, spool, logs, pid
# files) inside DIR. Nothing in /etc is read or written.
#
#   slurm-cluster.sh up DIR [PORT] [CPUS]   write DIR/slurm.conf and a fresh munge key, start the
#                                           daemons, wait until the node is idle. slurmctld
#                                           listens on PORT (default 6817), slurmd on PORT+1.
#   slurm-cluster.sh down DIR               cancel every job, stop the daemons `up DIR` started
#
# Clients find this cluster with SLURM_CONF=DIR/slurm.conf (srun, sbatch, squeue, scancel).
# Needs root (SlurmUser=root) and the Debian packages slurm-wlm and munge. `up` tears down
# whatever it started when a daemon does not come up, and prints the logs.
set -euo pipefail

cmd=${1:?usage: slurm-cluster.sh up|down DIR [PORT] [CPUS]}
dir=${2:?missing DIR}

# Stops the process in PIDFILE if it is still the daemon NAME (a stale pid file must not make
# us kill an unrelated process that reused the number): TERM, then KILL after 10 s.
stop_daemon() {
    local pidfile=$1 name=$2 pid i
    [ -s "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" = "$name" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        [ "$i" -lt 100 ] && sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# Runs a daemon with no file descriptor but stdin, stdout and stderr, and every signal at its
# default and unblocked. Daemons keep what they inherit: a caller's pipe or socket held open by
# munged makes the caller wait for an end-of-file that never comes (Foundation's Process waits
# on such a socket for its child), and the test runner's threads block SIGTERM, which would
# leave `down` waiting for a daemon that never sees it.
detached() {
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec env --default-signal "$@"
    )
}

down() {
    export SLURM_CONF="$dir/slurm.conf"
    if [ -f "$SLURM_CONF" ] && scontrol ping >/dev/null 2>&1; then
        # Cancelled jobs first, so no slurmstepd or task outlives its slurmd.
        scancel --quiet --user root 2>/dev/null || true
        for _ in $(seq 1 50); do
            [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    # Each daemon takes about 2 s to shut down: stop the two Slurm ones side by side, then the
    # munge daemon they authenticate through.
    stop_daemon "$dir/run/slurmd.pid" slurmd &
    stop_daemon "$dir/run/slurmctld.pid" slurmctld
    wait
    stop_daemon "$dir/run/munged.pid" munged
}

up() {
    local port=${1:-6817} cpus=${2:-4} node
    [[ "$port" =~ ^[0-9]+$ ]] || { echo "slurm-cluster.sh: PORT must be a number" >&2; exit 2; }
    for tool in munged slurmctld slurmd scontrol sinfo; do
        command -v "$tool" >/dev/null || { echo "slurm-cluster.sh: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
    done
    node=$(hostname -s)
    mkdir -p "$dir"/{munge,state,spool,log,run}
    # munged refuses a key or socket folder that others can read or write.
    chmod 700 "$dir/munge"
    # A fresh key for this cluster only, made here and removed with DIR: nothing to keep secret
    # in the repository.
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
    chmod 600 "$dir/munge/munge.key"
    # --force: munged warns about running as root, which this test cluster does on purpose.
    detached munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed"

    # The smallest configuration that runs MPI jobs: no cgroups (proctrack/linuxproc,
    # task/none: no systemd or cgroup setup needed), PMIx as the default MPI plugin (Open MPI
    # joins a step through it), root as the Slurm user, the node at 127.0.0.1 so no name
    # resolution is needed. config_overrides lets the node claim more CPUs than the machine
    # has, so `srun -n 4` fits on 2 cores (ranks then share cores).
    cat >"$dir/slurm.conf" <<CONF
ClusterName=bandsawtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=pmix
SlurmdParameters=config_overrides
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ReturnToService=2
MailProg=/bin/true
# A cancelled task gets 2 s between SIGTERM and SIGKILL (the default 30 s slows the tests).
KillWait=2
MinJobAge=2
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=main Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
    export SLURM_CONF="$dir/slurm.conf"
    local ok=0
    if detached slurmctld -f "$SLURM_CONF" && detached slurmd -f "$SLURM_CONF" -N "$node"; then
        # Ready when the controller answers and the node is idle (registered, not drained).
        for _ in $(seq 1 150); do
            if scontrol ping 2>/dev/null | grep -q UP && [ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ]; then
                ok=1
                break
            fi
            sleep 0.2
        done
    fi
    if [ "$ok" -ne 1 ]; then
        echo "slurm-cluster.sh: Slurm did not come up in $dir; node state: $(sinfo -h -N -o '%T %E' 2>/dev/null || echo unknown)" >&2
        for log in "$dir"/log/*.log; do
            [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
        done
        down
        exit 1
    fi
}

case "$cmd" in
up) shift 2; up "$@" ;;
down) down ;;
*)
    echo "slurm-cluster.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
