#!/usr/bin/env bash
# bandsaw-service run|health|submit: `bandsaw serve` across the Compose cluster, on the master.
#
#   run      the supervisor the master's entrypoint starts: waits for the workers that answer
#            ssh, runs `bandsaw-mpirun N serve` over exactly those (its own hostfile, apart from
#            the jobs'), and when the service exits (a worker lost: the request in flight got
#            503 and the ranks ended) starts it again over the workers still healthy. A worker
#            that comes back (or a new replica) is taken in when the service is idle.
#   health   exit 0 when the service answers GET /v1/health (prints its JSON).
#   submit IMAGE -o OUT [--op SPEC ...]   `bandsaw submit` to the service, with its token.
#
# It listens on the master's cluster address, which the compose file publishes on the host's
# 127.0.0.1 only; every other container of the cluster network can reach that address too, so
# the service needs a bearer token: made at each start in BANDSAW_SERVICE_DIR/token, readable
# by the mpi user only (`docker compose exec master cat /home/mpi/service/token`).
#
#   BANDSAW_SERVICE_PORT     the port in the container (default 8080)
#   BANDSAW_SERVICE_DIR      token, hostfile, log (default ~/service)
#   BANDSAW_SERVICE_WAIT     seconds to wait for the workers before starting with fewer (60)
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=docker/common.sh
. "$here/common.sh"

port=${BANDSAW_SERVICE_PORT:-8080}
dir=${BANDSAW_SERVICE_DIR:-$HOME/service}
token="$dir/token"
address=$(bandsaw_listen_addresses | head -n 1)
[ -n "$address" ] || address=127.0.0.1

log() { echo "bandsaw-service: $*" >&2; }

# Every address `worker` resolves to, on one line (none while no replica runs).
resolved_workers() { { getent ahostsv4 "${BANDSAW_WORKER_HOSTS:-worker}" 2>/dev/null || true; } | awk '{print $1}' | sort -u -V | tr '\n' ' '; }

# The workers that can take a rank now: every address `worker` resolves to (one per running
# replica) whose sshd accepts the master's key.
healthy_workers() {
    local ip
    for ip in $(resolved_workers); do
        ssh -F "$BANDSAW_SSH_DIR/config" -o ConnectTimeout=3 "$ip" true </dev/null >/dev/null 2>&1 && echo "$ip"
    done
    return 0
}


# GET /v1/health over bash's /dev/tcp (the image has no curl): the status line and body.
health() {
    [ -s "$token" ] || return 1
    # shellcheck disable=SC2016  # expands in the inner shell
    timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "GET /v1/health HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n" "$1" "$3" >&3
        cat <&3' _ "$address" "$port" "$(head -n 1 "$token")" 2>/dev/null
}

case "${1:-}" in
    health)
        answer=$(health) || exit 1
        [[ "$answer" == "HTTP/1.1 200"* ]] || exit 1
        printf '%s\n' "${answer##*$'\r\n\r\n'}"
        exit 0 ;;
    submit)
        shift
        [ $# -ge 1 ] || { echo "usage: bandsaw-service submit IMAGE -o OUT [--op SPEC ...]" >&2; exit 2; }
        exec "${BANDSAW_BIN:-bandsaw}" submit "http://$address:$port" "$@" --token-file "$token" ;;
    run) ;;
    *) echo "usage: bandsaw-service run|health|submit" >&2; exit 2 ;;
esac

umask 077
mkdir -p "$dir"
# A new token at every start: nothing secret outlives the container.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$token.tmp"
echo >> "$token.tmp"
mv -f "$token.tmp" "$token"
export BANDSAW_HOSTFILE="$dir/hostfile"

child=0
# shellcheck disable=SC2317  # called by the trap below
stop() {
    [ "$child" -eq 0 ] || kill -TERM "$child" 2>/dev/null || true
    [ "$child" -eq 0 ] || wait "$child" 2>/dev/null || true
    exit 0
}
trap stop TERM INT

while :; do
    # Wait (a while) for every resolving worker to take ssh, so a cluster coming up starts its
    # service on all its workers rather than on the first one ready.
    deadline=$((SECONDS + ${BANDSAW_SERVICE_WAIT:-60}))
    while :; do
        resolved=$(resolved_workers)
        workers=$(healthy_workers | tr '\n' ' ')
        n=$(wc -w <<< "$workers")
        if { [ "$n" -gt 0 ] && [ "$n" -eq "$(wc -w <<< "$resolved")" ]; } || [ "$SECONDS" -ge "$deadline" ]; then break; fi
        sleep 2
    done
    # Addresses, as make-hostfile writes them: this node first (rank 0), then the workers.
    {
        echo "# written by bandsaw-service: the master, then the workers that took ssh"
        for ip in "$address" $workers; do echo "$ip slots=${BANDSAW_SLOTS:-1}"; done
    } > "$BANDSAW_HOSTFILE.tmp"
    mv -f "$BANDSAW_HOSTFILE.tmp" "$BANDSAW_HOSTFILE"
    ranks=$((n + 1))
    log "starting bandsaw serve on $ranks rank(s) at $address:$port (workers: ${workers:-none})"
    bandsaw-mpirun "$ranks" serve --host "$address" --port "$port" --token-file "$token" &
    child=$!
    # While it runs: more workers resolving than the service has (one came back, or a new
    # replica) and taking ssh are taken in by a restart, when no job is running.
    while kill -0 "$child" 2>/dev/null; do
        # Ten seconds, or less if the service ends first (it is restarted at once then).
        sleep 10 &
        sleeper=$!
        wait -n "$child" "$sleeper" || true
        kill "$sleeper" 2>/dev/null || true
        kill -0 "$child" 2>/dev/null || break
        [ "$(resolved_workers | wc -w)" -gt "$n" ] || continue
        grown=$(healthy_workers | tr '\n' ' ')
        if [ "$(wc -w <<< "$grown")" -gt "$n" ] && health | grep -q '"busy":false'; then
            log "workers now: $grown; restarting the service to take them in"
            kill -TERM "$child" 2>/dev/null || true
        fi
    done
    status=0
    wait "$child" || status=$?
    child=0
    log "bandsaw serve exited ($status); restarting over the healthy workers"
    sleep 2
done
