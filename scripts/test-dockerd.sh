#!/usr/bin/env bash
# test-dockerd.sh start|stop|status: the Docker engine the container tests run against.
#
#   start   prints `DOCKER_HOST=unix://...` for an engine that answers: the caller's own
#           DOCKER_HOST if one is set and answers (nothing is started then), else this
#           project's dockerd, started here as root when it is not running yet. Exit 1 if no
#           engine can be had (no dockerd binary, not root, or it did not come up).
#   stop    stops the dockerd this script started (by its pid file), and only that one.
#   status  exit 0 when this project's dockerd answers.
#
# The project's dockerd has its own socket, exec root and pid file, and a data root that
# outlives it (BANDSAW_DOCKER_ROOT, default /var/lib/bandsaw-docker), so the offline base images
# and the node image are reused between runs. Every address it hands out is pinned inside the
# project's test subnets: the default bridge is 10.96.0.0/24 and each Compose network gets a
# /24 from 10.99.0.0/16. Nothing is published on the host: the compose file publishes no
# port, and the engine listens on its unix socket only.
set -euo pipefail

root=${BANDSAW_DOCKER_ROOT:-/var/lib/bandsaw-docker}
run=${BANDSAW_DOCKER_RUN:-/run/bandsaw-docker}
socket="$run/docker.sock"
pidfile="$run/dockerd.pid"
log="$root/dockerd.log"
host="unix://$socket"

answers() { DOCKER_HOST=$1 timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
    if [ -n "${DOCKER_HOST:-}" ] && answers "$DOCKER_HOST"; then
        echo "DOCKER_HOST=$DOCKER_HOST"
        return 0
    fi
    if answers "$host"; then
        echo "DOCKER_HOST=$host"
        return 0
    fi
    command -v dockerd >/dev/null || { echo "test-dockerd: no dockerd (apt-get install docker.io)" >&2; return 1; }
    [ "$(id -u)" -eq 0 ] || { echo "test-dockerd: starting dockerd needs root" >&2; return 1; }
    command -v docker >/dev/null || { echo "test-dockerd: no docker client" >&2; return 1; }
    mkdir -p "$root" "$run"
    # A previous run that was killed may have left its pid file; the engine is not answering,
    # so whatever that pid was is not our dockerd any more.
    rm -f "$pidfile"
    # setsid: the engine must not share the caller's process group, or a Ctrl-C (or the test
    # harness ending a job's group) would kill it without the containers being stopped. Every
    # inherited descriptor above stderr is closed first: Foundation's Process (the tests)
    # learns that its child exited when the child's copy of a socket closes, so a daemon that
    # kept it would make this script look alive for as long as the engine runs.
    (
        for fd in /proc/self/fd/*; do
            fd=${fd##*/}
            [ "$fd" -le 2 ] || eval "exec $fd>&-" 2>/dev/null || true
        done
        exec setsid dockerd \
            --host "$host" \
            --data-root "$root/data" \
            --exec-root "$run/exec" \
            --pidfile "$pidfile" \
            --bip 10.96.0.1/24 \
            --default-address-pool base=10.99.0.0/16,size=24 \
            --storage-driver overlay2 \
            >>"$log" 2>&1 </dev/null
    ) &
    local waited=0
    until answers "$host"; do
        sleep 1
        waited=$((waited + 1))
        if [ "$waited" -ge 60 ]; then
            echo "test-dockerd: dockerd did not answer within 60 s; its log ($log) ends:" >&2
            tail -n 20 "$log" >&2 || true
            return 1
        fi
    done
    echo "DOCKER_HOST=$host"
}

stop() {
    [ -s "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    # dockerd stops its containers first (up to their stop timeout), then exits.
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        if [ "$waited" -ge 60 ]; then
            echo "test-dockerd: dockerd $pid still running after 60 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
    done
    rm -f "$pidfile"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) answers "$host" ;;
    *) echo "usage: test-dockerd.sh start|stop|status" >&2; exit 2 ;;
esac
