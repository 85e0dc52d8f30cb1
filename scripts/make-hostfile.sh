#!/usr/bin/env bash
# make-hostfile.sh [-o FILE] [--workers N] [--slots S] [--timeout SECONDS]
#
# Writes an Open MPI hostfile for the running cluster: the master's address first (rank 0 and
# mpirun run there), then every worker's, each with S slots (default BANDSAW_SLOTS or 1).
# Names are resolved through DNS: in a compose network the service name `worker` resolves to
# the address of every replica, so one name covers any --scale. Addresses, not names, go in
# the file (Open MPI trap: a container's own hostname is a random ID no peer can resolve, and
# compose v1 and v2 name containers differently).
#
#   BANDSAW_MASTER_HOST   name or address of the master (default: master)
#   BANDSAW_WORKER_HOSTS  names or addresses of the workers, space-separated (default: worker)
#
# With --workers N it waits (up to --timeout, default 60 s) until N worker addresses resolve,
# since a replica's DNS entry appears only once its container runs. Without -o it prints.
set -euo pipefail

out=""
want=""
slots=${BANDSAW_SLOTS:-1}
timeout=60
while [ $# -gt 0 ]; do
    case "$1" in
        -o) out=${2:?-o needs a file}; shift 2 ;;
        --workers) want=${2:?--workers needs a count}; shift 2 ;;
        --slots) slots=${2:?--slots needs a count}; shift 2 ;;
        --timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "make-hostfile: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ "$slots" =~ ^[1-9][0-9]*$ ]] || { echo "make-hostfile: --slots must be a positive integer" >&2; exit 2; }
[ -z "$want" ] || [[ "$want" =~ ^[0-9]+$ ]] || { echo "make-hostfile: --workers must be a count" >&2; exit 2; }

master_name=${BANDSAW_MASTER_HOST:-master}
worker_names=${BANDSAW_WORKER_HOSTS:-worker}

# IPv4 addresses of NAME (an address resolves to itself), sorted so the file is stable.
resolve() { getent ahostsv4 "$1" 2>/dev/null | awk '{print $1}' | sort -u -V || true; }

master=$(resolve "$master_name" | head -n 1)
[ -n "$master" ] || { echo "make-hostfile: cannot resolve the master '$master_name'" >&2; exit 1; }

deadline=$((SECONDS + timeout))
while :; do
    workers=$(for name in $worker_names; do resolve "$name"; done | grep -vxF "$master" | sort -u -V || true)
    count=$(printf '%s' "$workers" | grep -c . || true)
    if [ -z "$want" ] || [ "$count" -ge "$want" ]; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "make-hostfile: $count of $want workers resolve after ${timeout}s ($worker_names)" >&2
        exit 1
    fi
    sleep 1
done

text="# Open MPI hostfile written by make-hostfile.sh: master first, then $count worker(s).
$master slots=$slots"
for address in $workers; do text="$text
$address slots=$slots"; done

if [ -z "$out" ]; then
    echo "$text"
else
    echo "$text" > "$out.tmp.$$"
    mv -f "$out.tmp.$$" "$out"
fi
