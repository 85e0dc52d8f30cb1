#!/usr/bin/env bash
# A real, throwaway Slurm on this machine for the tests: munged, slurmctld and slurmd started
# directly (no systemd) with every file (config, munge key, state, spool, logs, pid files)
# inside DIR. Nothing in /etc is read or written.
#
#   slurm-cluster.sh up DIR [PORT] [CPUS]
#       one node, this host: the daemons at 127.0.0.1, slurmctld on PORT (default 6817) and
#       slurmd on PORT+1, CPUS processors claimed (default 4).
#   slurm-cluster.sh up-netns DIR PREFIX COUNT SUBNET [PORT] [CPUS]
#       COUNT nodes, one in each namespace host PREFIX-h1...PREFIX-hCOUNT at SUBNET.1...COUNT
#       (made first with `netns-cluster.sh up PREFIX COUNT SUBNET`): slurmctld and a slurmd on
#       h1, a slurmd on each other host, each host with its own hostname and its own /tmp.
#       DIR must not be under /tmp, which each host replaces.
#   slurm-cluster.sh client DIR COMMAND...
#       run a Slurm client (srun, sbatch, squeue...) where it reaches the controller: here,
#       or on host h1 for up-netns. SLURM_CONF is set for it.
#   slurm-cluster.sh down DIR
#       cancel every job, stop the daemons `up` started.
#
# Needs root (SlurmUser=root) and the Debian packages slurm-wlm and munge (iproute2 and
# util-linux for up-netns). `up` tears down whatever it started when the nodes do not come up,
# and prints the logs.
set -euo pipefail

# The checkout this script belongs to (its executables run on every node).
repo=$(cd "$(dirname "$0")/.." && pwd -P)
cmd=${1:?usage: slurm-cluster.sh up|up-netns|client|down DIR ...}
dir=${2:?missing DIR}
export SLURM_CONF="$dir/slurm.conf"

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

# The namespace host the clients run on (up-netns), empty for a single-host cluster.
client_host() { cat "$dir/client-netns" 2>/dev/null || true; }

client() {
    local host
    host=$(client_host)
    if [ -n "$host" ]; then ip netns exec "$host" "$@"; else "$@"; fi
}

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

down() {
    if [ -f "$SLURM_CONF" ] && client scontrol ping >/dev/null 2>&1; then
        # Cancelled jobs first, so no slurmstepd or task outlives its slurmd.
        client scancel --quiet --user root 2>/dev/null || true
        for _ in $(seq 1 50); do
            [ -z "$(client squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    # Each daemon takes about 2 s to shut down: stop the Slurm ones side by side, then the
    # munge daemon they authenticate through.
    local pidfile
    for pidfile in "$dir"/run/slurmd-*.pid; do stop_daemon "$pidfile" slurmd & done
    stop_daemon "$dir/run/slurmctld.pid" slurmctld
    wait
    stop_daemon "$dir/run/munged.pid" munged
}

# Makes the folders and a fresh munge key and starts munged. One munged serves every node: its
# socket is a file, which namespace hosts share with this one.
start_munge() {
    local tool
    for tool in munged slurmctld slurmd scontrol sinfo; do
        command -v "$tool" >/dev/null || { echo "slurm-cluster.sh: $tool not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
    done
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
}

# Writes slurm.conf: CONTROLLER and its ADDRESS, PORT, then one node line per NAME=ADDRESS.
#
# The smallest configuration that runs MPI jobs: no cgroups (proctrack/linuxproc, task/none: no
# systemd or cgroup setup needed), PMIx as the default MPI plugin (Open MPI joins a step through
# it), root as the Slurm user, addresses in the file so no name resolution is needed.
# config_overrides lets a node claim more CPUs than the machine has, so `srun -n 4` fits on 2
# cores (ranks then share cores).
write_conf() {
    local controller=$1 address=$2 port=$3 cpus=$4 node names=()
    shift 4
    cat >"$SLURM_CONF" <<CONF
ClusterName=bandsawtest
SlurmctldHost=$controller($address)
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
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
ReturnToService=2
MailProg=/bin/true
# A cancelled task gets 2 s between SIGTERM and SIGKILL (the default 30 s slows the tests).
KillWait=2
MinJobAge=2
CONF
    for node in "$@"; do
        echo "NodeName=${node%%=*} NodeAddr=${node#*=} CPUs=$cpus State=UNKNOWN" >>"$SLURM_CONF"
        names+=("${node%%=*}")
    done
    local IFS=,
    echo "PartitionName=main Nodes=${names[*]} Default=YES MaxTime=INFINITE State=UP" >>"$SLURM_CONF"
}

# Waits until the controller answers and all COUNT nodes are idle (registered, not drained);
# otherwise prints the logs, stops everything and fails.
wait_ready() {
    local count=$1 states
    for _ in $(seq 1 150); do
        states=$(client sinfo -h -N -o %T 2>/dev/null || true)
        if [ "$(grep -c '^idle$' <<<"$states")" -eq "$count" ] && [ "$(wc -l <<<"$states")" -eq "$count" ]; then
            return 0
        fi
        sleep 0.2
    done
    echo "slurm-cluster.sh: Slurm did not come up in $dir; node states: $(client sinfo -h -N -o '%N %T %E' 2>/dev/null | tr '\n' ';' || echo unknown)" >&2
    for log in "$dir"/log/*.log; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
    done
    down
    exit 1
}

up() {
    local port=${1:-6817} cpus=${2:-4} node
    [[ "$port" =~ ^[0-9]+$ ]] || { echo "slurm-cluster.sh: PORT must be a number" >&2; exit 2; }
    node=$(hostname -s)
    start_munge
    write_conf "$node" 127.0.0.1 "$port" "$cpus" "$node=127.0.0.1"
    # A daemon that fails to start is reported by wait_ready, with the logs.
    detached slurmctld -f "$SLURM_CONF" || true
    detached slurmd -f "$SLURM_CONF" -N "$node" || true
    wait_ready 1
}

# Runs COMMAND on namespace host HOST as its own machine: its network, its hostname (a UTS
# namespace) and its own /tmp (a mount namespace with a fresh tmpfs), so two slurmd and their
# jobs do not meet in one /tmp as they would not on two machines (Slurm's PMIx plugin and Open
# MPI keep per-job files there under the same names). nsenter rather than `ip netns exec`,
# which remounts /sys and so hides the cgroup file system slurmd insists on finding.
#
# A checkout that itself lives under /tmp (a CI clone, say) stays visible: it is bind-mounted
# aside before the fresh tmpfs covers /tmp, then moved back to its own path inside it.
on_host() {
    local host=$1
    shift
    local keep=""
    case "$repo/" in /tmp/*) keep=$repo ;; esac
    # shellcheck disable=SC2016  # the inner shell expands its own positional parameters
    detached nsenter --net="/run/netns/$host" unshare --uts --mount --propagation private \
        sh -c 'hostname "$0" && keep=$1 && shift &&
               if [ -n "$keep" ]; then mkdir -p /run/bandsaw-keep && mount --bind "$keep" /run/bandsaw-keep; fi &&
               mount -t tmpfs -o mode=1777 tmpfs /tmp &&
               if [ -n "$keep" ]; then mkdir -p "$keep" && mount --move /run/bandsaw-keep "$keep"; fi &&
               exec "$@"' "$host" "$keep" "$@"
}

up_netns() {
    local prefix=${1:?missing PREFIX} count=${2:?missing COUNT} subnet=${3:?missing SUBNET} port=${4:-6817} cpus=${5:-4}
    local i nodes=()
    case "$(realpath -m "$dir")/" in
        /tmp/*) echo "slurm-cluster.sh: up-netns needs DIR outside /tmp (each host gets its own /tmp)" >&2; exit 2 ;;
    esac
    for i in $(seq 1 "$count"); do
        ip netns pids "$prefix-h$i" >/dev/null 2>&1 || { echo "slurm-cluster.sh: no namespace $prefix-h$i (netns-cluster.sh up first)" >&2; exit 1; }
        nodes+=("$prefix-h$i=$subnet.$i")
    done
    start_munge
    echo "$prefix-h1" >"$dir/client-netns"
    write_conf "$prefix-h1" "$subnet.1" "$port" "$cpus" "${nodes[@]}"
    on_host "$prefix-h1" slurmctld -f "$SLURM_CONF" || true
    for i in $(seq 1 "$count"); do
        on_host "$prefix-h$i" slurmd -f "$SLURM_CONF" -N "$prefix-h$i" || true
    done
    wait_ready "$count"
}

case "$cmd" in
up) shift 2; up "$@" ;;
up-netns) shift 2; up_netns "$@" ;;
client) shift 2; client "$@" ;;
down) down ;;
*)
    echo "slurm-cluster.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
