#!/usr/bin/env bash
# compose-run.sh INPUT OUTPUT RANKS SHOW [BANDSAW OPTION ...]: run.sh --compose.
#
# Runs bandsaw on INPUT (an image or a folder) across the Docker Compose cluster of
# docker-compose.yml with RANKS ranks (the master and RANKS-1 workers, one rank each), copies
# INPUT in through the master's ./data mount, runs bandsaw-mpirun there as the mpi user (the
# same command line the namespace tests run), copies the result out to OUTPUT, and shows it
# unless SHOW is 0. The options after SHOW (--op SPEC, --schedule, --skip-existing, --json) go
# to bandsaw as they are.
#
# A folder is a batch: its finished outputs are copied out even when the job fails (a bad
# image, a node lost), each one complete or not at all, and with --skip-existing the outputs
# already in OUTPUT go in with the job, so bandsaw does only the rest.
#
# The cluster is read with plain `docker ps`/`docker inspect` on the Compose labels (a Compose
# call costs about half a second; these cost milliseconds), and Compose runs only to create
# what is missing:
#   - enough healthy workers: the job runs on them at once; a stopped or unhealthy worker
#     is left out of the hostfile and left alone (someone stopped it, or its restart policy
#     gave up on it; a job needs ranks, not every node);
#   - too few: stopped workers are started again, then Compose adds replicas if still short,
#     and the script waits (BANDSAW_HEALTH_TIMEOUT, default 180 s) only for the nodes it needs;
#   - no master, or a stopped one: `up -d` (the master holds the cluster's key and runs rank 0).
# The hostfile lists exactly the chosen nodes' addresses, and it is written and the job
# launched in one `docker exec`. A worker that dies during the job is named in one line.
#
# One image with only --op options goes to the cluster's service instead (`bandsaw serve` in
# the master, docker/service.sh) when it answers GET /v1/health: no launch at all, the ranks
# the service has. Otherwise, or with BANDSAW_COMPOSE_SERVICE=0 (run.sh sets it for -n), the
# job is launched as above.
#
#   COMPOSE_PROJECT_NAME    the Compose project (default: this folder's name, as Compose does)
#   BANDSAW_HEALTH_TIMEOUT  seconds to wait for the nodes a job needs (default 180)
#   BANDSAW_COMPOSE_SERVICE 0: never use the service (default 1: when it answers)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "error: $*" >&2; exit "${2:-1}"; }

[ $# -ge 4 ] || die "usage: compose-run.sh INPUT OUTPUT RANKS SHOW [BANDSAW OPTION ...]" 2
input=$1 output=$2 ranks=$3 show=$4
shift 4
[ -e "$input" ] || die "$input: no such file or folder"
[[ "$ranks" =~ ^[1-9][0-9]*$ ]] || die "RANKS must be a positive integer, got '$ranks'" 2
command -v docker >/dev/null || die "docker not found: install Docker Engine with the Compose plugin (https://docs.docker.com/engine/install/), or docker-compose"

# Compose v1 and v2 both name the project after the folder, lower-cased, keeping [a-z0-9_-].
project=${COMPOSE_PROJECT_NAME:-$(basename "$here")}
project=$(printf '%s' "$project" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9_-')
workers=$((ranks - 1))
timeout=${BANDSAW_HEALTH_TIMEOUT:-180}

compose_cmd() {
    if docker compose version >/dev/null 2>&1; then
        docker compose -p "$project" -f "$here/docker-compose.yml" "$@"
    elif command -v docker-compose >/dev/null; then
        docker-compose -p "$project" -f "$here/docker-compose.yml" "$@"
    else
        die "neither 'docker compose' (v2) nor docker-compose (v1) found: install the Docker Compose plugin (Debian/Ubuntu: apt-get install docker-compose-plugin)"
    fi
}

# survey: one line per container of the project (one-off `compose run` containers excluded):
#   SERVICE NUMBER STATE HEALTH LAST_CHECK STARTED_AT ID /NAME [ADDRESS]
# LAST_CHECK is when the latest health check ended (RFC 3339, - if none yet); a stopped container
# has no address, so that field comes last.
survey() {
    local ids
    ids=$(docker ps -aq --filter "label=com.docker.compose.project=$project" \
        --filter "label=com.docker.compose.oneoff=False" 2>/dev/null) || die "the Docker daemon is not reachable (is it running, and may this user use it?)"
    [ -n "$ids" ] || return 0
    # shellcheck disable=SC2086  # one argument per id
    docker inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{index .Config.Labels "com.docker.compose.container-number"}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}} {{$end := "-"}}{{range .State.Health.Log}}{{$end = .End}}{{end}}{{$end}}{{else}}none -{{end}} {{.State.StartedAt}} {{.Id}} {{.Name}} {{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' $ids 2>/dev/null \
        | sort -k1,1 -k2,2n || true
}

# choose: from the survey in $nodes, sets master_* and usable_workers (the addresses and
# names of up to $workers workers that can take a rank now). A worker counts only if its
# latest passing health check ended at least a second after the master started: a recreated
# master has a new key, and until a worker's check has seen the new key installed, its
# "healthy" is about the old one.
choose() {
    master_state=missing master_health=none master_ip="" master_id="" master_started=0
    local service state health last started id name ip
    while read -r service _ state health last started id name ip; do
        [ "$service" = master ] || continue
        master_state=$state master_health=$health master_ip=$ip master_id=$id
        master_started=$(date -d "$started" +%s 2>/dev/null || echo 0)
    done <<< "$nodes"
    usable_workers=() usable_names=() stopped_workers=() sick_workers=()
    while read -r service _ state health last started id name ip; do
        [ "$service" = worker ] || continue
        if [ "$state" != running ]; then
            stopped_workers+=("$id")
        elif [ "$health" = healthy ] && [ -n "$ip" ] \
            && [ "$(date -d "$last" +%s 2>/dev/null || echo 0)" -ge $((master_started + 2)) ]; then
            [ "${#usable_workers[@]}" -ge "$workers" ] || { usable_workers+=("$ip"); usable_names+=("${name#/}"); }
        elif [ "$health" = unhealthy ]; then
            sick_workers+=("$id")
        fi
    done <<< "$nodes"
}

nodes=$(survey)
choose
master_ready() { [ "$master_state" = running ] && [ "$master_health" = healthy ]; }

# The service: for one image whose options are all --op SPEC (the rest are the launch's).
service=""
if [ "${BANDSAW_COMPOSE_SERVICE:-1}" = 1 ] && [ -f "$input" ] && [ "$master_state" = running ]; then
    eligible=1
    set -- "$@" --end
    while [ "$1" != --end ]; do
        if [ "$1" = --op ] && [ "$2" != --end ]; then set -- "$@" "$1" "$2"; shift 2
        else eligible=0; set -- "$@" "$1"; shift; fi
    done
    shift
    if [ "$eligible" -eq 1 ]; then
        service=$(docker exec --user mpi "$master_id" bandsaw-service health 2>/dev/null) || service=""
    fi
fi

if [ -z "$service" ] && { ! master_ready || [ "${#usable_workers[@]}" -lt "$workers" ]; }; then
    if [ "$master_state" = missing ]; then
        total=$(grep -c '^worker ' <<< "$nodes" || true)
        scale=$(( total > workers ? total : workers ))
        echo "bandsaw: starting the compose cluster: master + $scale worker(s)" >&2
        compose_cmd up -d --scale "worker=$scale" >&2 || die "could not start the compose cluster"
    else
        [ "$master_state" = running ] || docker start "$master_id" >/dev/null || die "could not start the master container"
        short=$((workers - ${#usable_workers[@]}))
        # Restart what exists before making more: a stopped worker comes back in seconds.
        restart=("${stopped_workers[@]:0:$short}")
        if [ "${#restart[@]}" -gt 0 ]; then
            echo "bandsaw: ${#usable_workers[@]} of $workers worker(s) ready; starting ${#restart[@]} stopped worker(s)" >&2
            docker start "${restart[@]}" >/dev/null || die "could not start the stopped worker(s)"
        fi
        short=$((short - ${#restart[@]}))
        sick=("${sick_workers[@]:0:$short}")
        if [ "${#sick[@]}" -gt 0 ]; then
            echo "bandsaw: restarting ${#sick[@]} unhealthy worker(s)" >&2
            docker restart "${sick[@]}" >/dev/null || die "could not restart the unhealthy worker(s)"
        fi
        total=$(grep -c '^worker ' <<< "$nodes" || true)
        if [ "$total" -lt "$workers" ]; then
            echo "bandsaw: growing the compose cluster to $workers worker(s)" >&2
            compose_cmd up -d --no-recreate --scale "worker=$workers" >&2 || die "could not grow the compose cluster"
        fi
    fi
    deadline=$((SECONDS + timeout))
    while :; do
        sleep 1
        nodes=$(survey)
        choose
        if master_ready && [ "${#usable_workers[@]}" -ge "$workers" ]; then break; fi
        [ "$SECONDS" -lt "$deadline" ] || die "$(master_ready && echo "the master is ready" || echo "the master is $master_state/$master_health"), ${#usable_workers[@]} of $workers worker(s) healthy after ${timeout}s (see: docker-compose -p $project logs)"
    done
fi

# The job folder in ./data (the master's /data). Writable by the container's mpi user whatever
# its uid, since bandsaw writes its output atomically (temporary file, then rename) beside it.
mkdir -p "$here/data"
job="job-$$-$RANDOM"
jobdir="$here/data/$job"
mkdir -m 777 "$jobdir"
chmod 777 "$jobdir"
errors=$(mktemp)
trap 'rm -rf "$jobdir" "$errors"' EXIT
# Interrupted (Ctrl-C, a timeout): `docker exec` does not pass the signal into the container, so
# the job's mpirun would run on; it is ended there (it takes its daemons and ranks with it).
# No pkill in the image: the processes are found by the job folder on their command line.
stop_job() {
    # shellcheck disable=SC2016  # $1 expands in the container's shell
    docker exec --user mpi "$master_id" bash -c 'for p in /proc/[0-9]*; do
            grep -qF "/data/$1/" "$p/cmdline" 2>/dev/null && kill "${p#/proc/}" 2>/dev/null; done; true' _ "$job" || true
    exit 130
}
trap stop_job INT TERM
name=$(basename "$input")
out_name=$(basename "$output")
cp -R "$input" "$jobdir/$name"
chmod -R a+rX "$jobdir/$name"
folder=0
if [ -d "$input" ]; then
    folder=1
    mkdir -m 777 "$jobdir/$out_name" && chmod 777 "$jobdir/$out_name"
fi

# finished_files DIR: the outputs in DIR that are complete. bandsaw writes each output to a
# hidden temporary file (.NAME.tmp-PID) and renames it into place, so a batch cut off mid-image
# leaves such a file beside the finished ones; hidden files are never outputs.
finished_files() { find "$1" -mindepth 1 -maxdepth 1 -type f ! -name '.*' -printf '%f\n' | sort; }

# copy_finished FROM TO: the finished outputs of FROM into TO, each through a temporary file
# and a rename, so TO never holds half a file either. Prints how many were copied.
copy_finished() {
    local from=$1 to=$2 count=0 file
    mkdir -p "$to"
    while IFS= read -r file; do
        [ -n "$file" ] || continue
        cp "$from/$file" "$to/.$file.tmp-$$"
        mv -f "$to/.$file.tmp-$$" "$to/$file"
        count=$((count + 1))
    done < <(finished_files "$from")
    echo "$count"
}

# Resume: the outputs already made go in with the job, so --skip-existing sees them there.
skip_existing=0
for arg in "$@"; do [ "$arg" != --skip-existing ] || skip_existing=1; done
if [ "$folder" -eq 1 ] && [ "$skip_existing" -eq 1 ] && [ -d "$output" ]; then
    copy_finished "$output" "$jobdir/$out_name" >/dev/null
fi

# One exec: the hostfile of exactly the chosen nodes (addresses: see make-hostfile.sh), then
# the launch. Its stderr is kept aside so that a lost node reads as one line, not as Open MPI's
# report of it.
status=0
if [ -n "$service" ]; then
    service_ranks=$(grep -o '"ranks" *: *[0-9]*' <<< "$service" | grep -o '[0-9]*$' || echo "?")
    echo "bandsaw: through the compose service on $service_ranks ranks (no launch)"
    docker exec --user mpi "$master_id" bandsaw-service submit "/data/$job/$name" -o "/data/$job/$out_name" "$@" \
        2>"$errors" || status=$?
else
    docker exec --user mpi \
        -e BANDSAW_MASTER_HOST="$master_ip" -e BANDSAW_WORKER_HOSTS="${usable_workers[*]}" \
        "$master_id" bash -c 'make-hostfile --workers "$1" --timeout 5 -o "$HOME/hostfile" && shift && exec bandsaw-mpirun "$@"' \
        _ "$workers" "$ranks" "/data/$job/$name" -o "/data/$job/$out_name" --report "/data/$job/report.json" "$@" \
        2>"$errors" || status=$?
fi
# Open MPI's launcher warns when it cannot move an ssh child into its own process group
# because the child already ran exec (a harmless race under docker exec): not the user's news.
grep -v 'plm:rsh: Warning: setpgid' "$errors" > "$errors.kept" || true
mv -f "$errors.kept" "$errors"

if [ "$status" -ne 0 ]; then
    # A node lost during the job: one of the chosen workers is no longer running (or was
    # restarted). Said once, with the node's name and address; Open MPI's report is dropped.
    lost=""
    nodes_after=$(survey)
    for i in "${!usable_workers[@]}"; do
        ip=${usable_workers[$i]} name=${usable_names[$i]}
        state=$(awk -v n="/$name" '$8 == n {print $3}' <<< "$nodes_after")
        if [ "$state" != running ]; then
            exit_code=$(docker inspect -f '{{.State.ExitCode}}' "$name" 2>/dev/null || echo "?")
            lost="${lost:+$lost, }$name ($ip, ${state:-removed}, exit $exit_code)"
        fi
    done
    kept=0
    [ "$folder" -eq 0 ] || kept=$(copy_finished "$jobdir/$out_name" "$output")
    if [ -n "$lost" ]; then
        if [ "$folder" -eq 1 ]; then
            echo "error: node lost during the job: $lost; the job was aborted, $kept finished output(s) kept in $output (rerun with --skip-existing to do the rest)" >&2
        else
            echo "error: node lost during the job: $lost; the job was aborted, no output written" >&2
        fi
        exit 1
    fi
    cat "$errors" >&2
    # bandsaw's own refusals (bad usage 2, bad image 3) already said why in one error: line.
    grep -q '^error:' "$errors" || echo "error: the bandsaw job failed in the compose cluster (exit $status)" >&2
    exit "$status"
fi
cat "$errors" >&2
# shellcheck source=scripts/lib/batch-summary.sh
. "$here/scripts/lib/batch-summary.sh"
[ ! -s "$jobdir/report.json" ] || batch_summary "$jobdir/report.json"

# Copy the result out (a file, or a folder's finished files into OUTPUT/).
if [ "$folder" -eq 1 ]; then
    copy_finished "$jobdir/$out_name" "$output" >/dev/null
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
        docker exec --user mpi "$master_id" bandsaw view "/data/$job/$out_name$rel" --width "$(tput cols 2>/dev/null || echo 80)" \
            --height "$(( $(tput lines 2>/dev/null || echo 26) - 2 ))"
    }
    # shellcheck source=scripts/show-result.sh
    . "$here/scripts/show-result.sh"
    show_result "$output" preview_in_master
fi
