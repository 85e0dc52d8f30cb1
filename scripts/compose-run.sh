#!/usr/bin/env bash
# compose-run.sh INPUT OUTPUT RANKS SHOW [--op SPEC ...]: run.sh --compose.
#
# Runs bandsaw on INPUT (an image or a folder) across the Docker Compose cluster of
# docker-compose.yml with RANKS ranks (the master and RANKS-1 workers, one rank each): starts
# or grows the cluster when needed, waits until every node is healthy, regenerates the
# hostfile inside the master, copies INPUT in through the master's ./data mount, runs
# bandsaw-mpirun there as the mpi user (the same command line the namespace tests run), copies
# the result out to OUTPUT, and shows it unless SHOW is 0.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "error: $*" >&2; exit "${2:-1}"; }

[ $# -ge 4 ] || die "usage: compose-run.sh INPUT OUTPUT RANKS SHOW [--op SPEC ...]" 2
input=$1 output=$2 ranks=$3 show=$4
shift 4
[ -e "$input" ] || die "$input: no such file or folder"
[[ "$ranks" =~ ^[1-9][0-9]*$ ]] || die "RANKS must be a positive integer, got '$ranks'" 2

command -v docker >/dev/null || die "docker not found: install Docker Engine with the Compose plugin (https://docs.docker.com/engine/install/), or docker-compose"
if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null; then
    compose=(docker-compose)
else
    die "neither 'docker compose' (v2) nor docker-compose (v1) found: install the Docker Compose plugin (Debian/Ubuntu: apt-get install docker-compose-plugin)"
fi
# No -p: the project is named after this folder, as for a plain `docker compose up` here.
compose+=(-f "$here/docker-compose.yml")
docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable (is it running, and may this user use it?)"

# Start the cluster, or grow it to RANKS-1 workers; a larger cluster is used as it is.
workers=$((ranks - 1))
running_workers=$("${compose[@]}" ps -q worker 2>/dev/null | grep -c . || true)
master_id=$("${compose[@]}" ps -q master 2>/dev/null || true)
if [ -z "$master_id" ] || [ "$running_workers" -lt "$workers" ]; then
    scale=$(( running_workers > workers ? running_workers : workers ))
    echo "bandsaw: starting the compose cluster: master + $scale worker(s)" >&2
    "${compose[@]}" up -d --scale "worker=$scale" >&2 || die "could not start the compose cluster"
fi

# Wait until every node can take ranks (healthcheck: sshd up, the master's key installed).
deadline=$((SECONDS + ${BANDSAW_HEALTH_TIMEOUT:-180}))
while :; do
    ids=$("${compose[@]}" ps -q)
    unhealthy=0
    for id in $ids; do
        state=$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id" 2>/dev/null || echo missing)
        [ "$state" = healthy ] || unhealthy=$((unhealthy + 1))
    done
    [ "$unhealthy" -gt 0 ] || break
    [ "$SECONDS" -lt "$deadline" ] || die "$unhealthy container(s) not healthy after ${BANDSAW_HEALTH_TIMEOUT:-180}s (see: ${compose[*]} logs)"
    sleep 2
done

# The job folder in ./data (the master's /data). Writable by the container's mpi user whatever
# its uid, since bandsaw writes its output atomically (temporary file, then rename) beside it.
mkdir -p "$here/data"
job="job-$$-$RANDOM"
jobdir="$here/data/$job"
mkdir -m 777 "$jobdir"
chmod 777 "$jobdir"
trap 'rm -rf "$jobdir"' EXIT
name=$(basename "$input")
out_name=$(basename "$output")
cp -R "$input" "$jobdir/$name"
chmod -R a+rX "$jobdir/$name"
if [ -d "$input" ]; then mkdir -m 777 "$jobdir/$out_name" && chmod 777 "$jobdir/$out_name"; fi

in_master() { "${compose[@]}" exec -T --user mpi master "$@"; }
in_master make-hostfile --workers "$workers" -o /home/mpi/hostfile \
    || die "could not write the hostfile in the master container"
status=0
in_master bandsaw-mpirun "$ranks" "/data/$job/$name" -o "/data/$job/$out_name" "$@" || status=$?
[ "$status" -eq 0 ] || { echo "error: the bandsaw job failed in the compose cluster (exit $status)" >&2; exit "$status"; }

# Copy the result out (a file, or a folder's files into OUTPUT/).
if [ -d "$jobdir/$out_name" ]; then
    mkdir -p "$output"
    cp -R "$jobdir/$out_name/." "$output/"
else
    mkdir -p "$(dirname "$output")"
    cp "$jobdir/$out_name" "$output"
fi
echo "output: $output"

if [ "$show" != 0 ]; then
    # No viewer here (and maybe no bandsaw either): preview inside the master, sized to this
    # terminal since the exec has none of its own.
    preview_in_master() {
        local rel=${1#"$output"}
        in_master bandsaw view "/data/$job/$out_name$rel" --width "$(tput cols 2>/dev/null || echo 80)" \
            --height "$(( $(tput lines 2>/dev/null || echo 26) - 2 ))"
    }
    # shellcheck source=scripts/show-result.sh
    . "$here/scripts/show-result.sh"
    show_result "$output" preview_in_master
fi
