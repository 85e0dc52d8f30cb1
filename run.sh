#!/usr/bin/env bash
# run.sh: the bandsaw client. Builds bandsaw when needed, runs the job under mpirun (locally,
# across a hostfile, or across the Docker Compose cluster) or under Slurm, prints the timing
# table, and shows the result; with no input, a demonstration on a bundled photo. Installs
# what the build and the job need where it is missing (scripts/lib/deps.sh). ./run.sh --help
# documents everything.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prog=$(basename "$0")
# The input of `run.sh` alone: a photo that ships with the repository.
demo_input=Tests/Fixtures/photos/astronaut-256.png

usage() {
    cat <<USAGE
Usage: $prog [IMAGE|FOLDER] [options]

Runs bandsaw on IMAGE (PNG, PGM, PPM, JPEG, TIFF or WebP) or on every image in FOLDER, distributed over
RANKS MPI processes, prints the time of each phase, and shows the result. With no IMAGE, the
demonstration: the bundled photo $demo_input on at least 2 ranks,
with the 1-rank baseline beside it (--baseline), written to out/.

What the build and the job need (Open MPI, libpng, libdeflate, zlib, libjpeg-turbo, libtiff,
libwebp, pkg-config) is installed with apt-get where it is missing: as root, or through sudo
when it needs no password; otherwise the one command to run is printed (exit 2). Swift 6 must
be on PATH already.

Options:
  -n, --ranks RANKS     MPI ranks (default: the number of cores, $(nproc 2>/dev/null || echo 2) here).
                        More ranks than cores adds --oversubscribe, with a note.
  -o, --output PATH     Output file (or folder for a FOLDER input). Default: beside the
                        input, named after it and the pipeline (photo.png -> photo.sobel.png).
  --op SPEC             A filter, applied in order; repeatable (default: sobel).
                        SPEC is NAME or NAME:key=value,... ; 'bandsaw ops' lists them:
                        $( "$here/.build/release/bandsaw" ops --json 2>/dev/null | grep -o '"name":"[a-z]*","output"' | sed 's/"name":"//;s/","output"//' | tr '\n' ' ' || true)
  --hostfile FILE       Run across the hosts in an Open MPI hostfile (passwordless ssh
                        to each, bandsaw at the same path on every host).
  --compose             Run across the Docker Compose cluster (docker-compose.yml): starts
                        it at RANKS containers if needed, copies the image in and the
                        result out. One image without -n goes to the cluster's service
                        (bandsaw serve in the master) when it answers: no launch.
  --slurm               Run under Slurm: inside an allocation (SLURM_JOB_ID set) with
                        srun --mpi=pmix; elsewhere submit slurm/bandsaw.sbatch with sbatch
                        and wait for it. RANKS (default: the script's, or the allocation's
                        tasks) and --nodes NODES go to Slurm; paths must be visible from
                        every node.
  --nodes NODES         With --slurm: hosts to spread the ranks over.
  --server URL          Send the image to a running 'bandsaw serve' at URL (http://HOST:PORT)
                        instead of launching a job: no MPI start-up; the phase times are the
                        service's (Server-Timing). BANDSAW_TOKEN_FILE gives its token.
  --baseline            Also run the single-rank job on the same input and print the
                        speedup and parallel efficiency.
  --show                Show the result: the desktop image viewer when a display exists,
                        else a preview in this terminal: the image itself where the terminal
                        speaks the kitty graphics protocol, true-colour half blocks elsewhere
                        (default).
  --no-show             Only print where the result went.
  --json                Print the timing report as JSON instead of a table.
  --schedule MODE       For a folder: auto (default; whole images dealt to the ranks as
                        they become free, outsized ones banded), images, or bands.
  --skip-existing       For a folder: skip inputs whose output exists (resume a batch).
  -h, --help            This help.

Environment: BANDSAW_BIN (use this executable instead of building), MPIRUN (default mpirun),
SLURM_CONF and the other Slurm variables (with --slurm).

Exit codes: 0 success; 1 failed job or missing tool; 2 bad usage, or a dependency missing
that could not be installed from here; 3 bad input image (the codes of bandsaw itself,
passed through).

Examples:
  $prog                                   # the demonstration on the bundled photo
  $prog photo.png                         # sobel edges on all cores, shown in the terminal
  $prog phone.jpg -o edges.png            # a JPEG photo in (turned upright), a PNG out
  $prog photo.png -n 4 --op gaussian:sigma=2 --op sobel --baseline
  $prog photos/ -o edges/ --no-show       # a folder in one launch
  $prog photo.png --slurm -n 8 --nodes 2  # a Slurm batch job on 2 hosts
  $prog photo.png --server http://127.0.0.1:8080   # through a running 'bandsaw serve'
USAGE
}

die() { echo "error: $1" >&2; exit "${2:-1}"; }

input=""
ranks=""
output=""
ops=()
hostfile=""
compose=0
slurm=0
server=""
nodes=""
baseline=0
show="auto"
json=0
batch_flags=()

while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        -n|--ranks) [ $# -ge 2 ] || die "$1 needs a value" 2; ranks=$2; shift 2 ;;
        -o|--output) [ $# -ge 2 ] || die "$1 needs a value" 2; output=$2; shift 2 ;;
        --op) [ $# -ge 2 ] || die "$1 needs a value" 2; ops+=("$2"); shift 2 ;;
        --hostfile) [ $# -ge 2 ] || die "$1 needs a value" 2; hostfile=$2; shift 2 ;;
        --compose) compose=1; shift ;;
        --slurm) slurm=1; shift ;;
        --server) [ $# -ge 2 ] || die "$1 needs a value" 2; server=$2; shift 2 ;;
        --nodes) [ $# -ge 2 ] || die "$1 needs a value" 2; nodes=$2; shift 2 ;;
        --baseline) baseline=1; shift ;;
        --show) show=1; shift ;;
        --no-show) show=0; shift ;;
        --json) json=1; shift ;;
        --schedule) [ $# -ge 2 ] || die "$1 needs a value" 2; batch_flags+=(--schedule "$2"); shift 2 ;;
        --skip-existing) batch_flags+=(--skip-existing); shift ;;
        -*) die "unknown option $1 (see $prog --help)" 2 ;;
        *) [ -z "$input" ] || die "only one IMAGE or FOLDER, got '$input' and '$1'" 2; input=$1; shift ;;
    esac
done

cores=$(nproc 2>/dev/null || echo 1)
demo=0
if [ -z "$input" ]; then
    # The demonstration: the system working and its speedup, on a photo of the repository's,
    # on at least two ranks (every core where there are more), beside one rank.
    demo=1
    input="$here/$demo_input"
    [ -n "$ranks" ] || ranks=$(( cores > 2 ? cores : 2 ))
    [ "$slurm" -eq 1 ] || baseline=1
fi
[ -e "$input" ] || die "$input: no such file or folder"
[ ${#ops[@]} -gt 0 ] || ops=(sobel)
# Under Slurm the rank count defaults to the batch script's or the allocation's, not this host's.
ranks_given=$ranks
[ -n "$ranks" ] || ranks=$cores
[[ "$ranks" =~ ^[1-9][0-9]*$ ]] || die "--ranks must be a positive integer, got '$ranks'" 2
if [ "$slurm" -eq 1 ]; then
    if [ -n "$hostfile" ] || [ "$compose" -eq 1 ]; then die "--slurm does not combine with --hostfile or --compose" 2; fi
    # A one-rank run on the submitting host would not be comparable with the job on the nodes.
    [ "$baseline" -eq 0 ] || die "--baseline does not combine with --slurm" 2
    [ -z "$nodes" ] || [[ "$nodes" =~ ^[1-9][0-9]*$ ]] || die "--nodes must be a positive integer, got '$nodes'" 2
else
    [ -z "$nodes" ] || die "--nodes needs --slurm" 2
fi
[ -z "$hostfile" ] || [ -r "$hostfile" ] || die "$hostfile: hostfile not readable"

# What the build and a local job need, installed where missing (a few probes when everything is
# there). Not for --compose, which builds and runs in containers, nor for a given BANDSAW_BIN.
if [ "$compose" -eq 0 ] && [ -z "${BANDSAW_BIN:-}" ]; then
    # shellcheck source=scripts/lib/deps.sh
    . "$here/scripts/lib/deps.sh"
    deps_ensure run
fi
[ "$demo" -eq 0 ] || echo "bandsaw: no IMAGE given: the demonstration on $demo_input ($prog --help for the rest)" >&2

# Default output: beside the input, named after it and the pipeline.
if [ -z "$output" ]; then
    slug=$(printf '%s+' "${ops[@]}" | sed 's/+$//; s/[^A-Za-z0-9.=+-]/-/g')
    if [ -d "$input" ]; then
        output="${input%/}.$slug"
    else
        dir=$(dirname "$input"); base=$(basename "$input"); stem=${base%.*}; ext=${base##*.}
        # The demonstration writes to the checkout's out/, not among the test fixtures.
        [ "$demo" -eq 0 ] || dir="$here/out"
        [ "$stem" != "$base" ] || ext=png
        output="$dir/$stem.$slug.$ext"
    fi
fi

op_args=()
for op in "${ops[@]}"; do op_args+=(--op "$op"); done
# An output in a folder that does not exist yet (out/photo.png): make the folder.
[ "$compose" -eq 1 ] || [ -d "$(dirname "$output")" ] || mkdir -p "$(dirname "$output")" \
    || die "cannot create the folder of $output"

out_flags=("${batch_flags[@]}")
[ "$json" -eq 1 ] && out_flags+=(--json)

if [ "$compose" -eq 1 ]; then
    # -n asks for a launch on that many ranks; without it, a running compose service may serve.
    [ -z "$ranks_given" ] || export BANDSAW_COMPOSE_SERVICE=0
    exec "$here/scripts/compose-run.sh" "$input" "$output" "$ranks" "$show" "${op_args[@]}" "${out_flags[@]}"
fi

# Build the release executable when it is missing or older than any source.
bin=${BANDSAW_BIN:-$here/.build/release/bandsaw}
if [ -z "${BANDSAW_BIN:-}" ]; then
    if [ ! -x "$bin" ] || [ -n "$(find "$here/Sources" "$here/Package.swift" -newer "$bin" -print -quit 2>/dev/null)" ]; then
        echo "bandsaw: building the release executable..." >&2
        (cd "$here" && swift build -c release --product bandsaw >&2) || die "build failed"
    fi
fi
[ -x "$bin" ] || die "$bin: executable not found"

# Prints where the result went and shows it; every way of running ends here.
finish() {
    echo "output: $output"
    if [ "$show" = "auto" ] || [ "$show" = "1" ]; then
        # shellcheck source=scripts/show-result.sh
        . "$here/scripts/show-result.sh"
        show_result "$output" "$bin" view
    fi
}

if [ -n "$server" ]; then
    if [ "$compose" -eq 1 ] || [ "$slurm" -eq 1 ] || [ -n "$hostfile" ] || [ "$baseline" -eq 1 ] || [ -n "$ranks_given" ]; then
        die "--server does not combine with --compose, --slurm, --hostfile, --baseline or --ranks (the service has its ranks)" 2
    fi
    [ ! -d "$input" ] || die "--server takes one IMAGE, not a folder" 2
    submit_args=()
    [ -z "${BANDSAW_TOKEN_FILE:-}" ] || submit_args+=(--token-file "$BANDSAW_TOKEN_FILE")
    status=0
    "$bin" submit "$server" "$input" -o "$output" "${op_args[@]}" "${submit_args[@]}" || status=$?
    [ "$status" -eq 0 ] || exit "$status"
    finish
    exit 0
fi

# Submits slurm/bandsaw.sbatch and waits for the job; Ctrl-C cancels it rather than leaving it
# queued. The job's log (timing table, error line) goes to stdout, or to stderr if it failed.
submit_and_wait() {
    command -v sbatch >/dev/null || die "sbatch not found: run this on a Slurm login node (or inside an allocation)"
    local sbatch_args=() status=0 job
    [ -z "$ranks_given" ] || sbatch_args+=(--ntasks "$ranks")
    [ -z "$nodes" ] || sbatch_args+=(--nodes "$nodes")
    # The job writes its log on its own node: beside the output, on the shared file system.
    slurm_log=$(mktemp "$(dirname "$OUTPUT")/.bandsaw-slurm-XXXXXX")
    job_file=$(mktemp "${TMPDIR:-/tmp}/bandsaw-job.XXXXXX")
    trap 'rm -f "$slurm_log" "$job_file"' EXIT
    sbatch --wait --parsable --output "$slurm_log" "${sbatch_args[@]}" "$here/slurm/bandsaw.sbatch" >"$job_file" &
    local waiter=$!
    trap 'job=$(cat "$job_file"); [ -z "$job" ] || scancel "$job"; kill "$waiter" 2>/dev/null; echo "error: interrupted: Slurm job ${job:-?} cancelled" >&2; exit 130' INT TERM
    wait "$waiter" || status=$?
    trap - INT TERM
    job=$(cat "$job_file")
    if [ "$status" -eq 0 ]; then cat "$slurm_log"; else cat "$slurm_log" >&2; fi
    if [ "$status" -ne 0 ] && { [ "$status" -gt 3 ] || [ -z "$job" ]; }; then
        echo "error: the Slurm job ${job:-(not submitted)} failed (sbatch exit $status)" >&2
    fi
    return "$status"
}

# A folder: images per second over the batch, and how the images and busy time fell on the ranks.
# shellcheck source=scripts/lib/batch-summary.sh
. "$here/scripts/lib/batch-summary.sh"

if [ "$slurm" -eq 1 ]; then
    # Both ways run the shipped batch script, so this and a user's own copy of it behave alike.
    # The job may run on another node and in another folder: absolute paths.
    INPUT=$(realpath "$input"); OUTPUT=$(realpath -m "$output")
    # The batch script's own default, named here so the summary below can read it.
    if [ -d "$INPUT" ]; then REPORT=${OUTPUT%/}.timing.json; else REPORT=${OUTPUT%.*}.timing.json; fi
    export INPUT OUTPUT REPORT OPS="${ops[*]}" BANDSAW=$bin ARGS="${out_flags[*]}"
    status=0
    if [ -n "${SLURM_JOB_ID:-}" ]; then
        # Inside an allocation the script's srun is a step of it; srun reads -n and -N from these.
        [ -z "$ranks_given" ] || export SLURM_NTASKS=$ranks
        [ -z "$nodes" ] || export SLURM_NNODES=$nodes
        bash "$here/slurm/bandsaw.sbatch" || status=$?
        [ "$status" -le 3 ] || echo "error: the bandsaw job step failed (srun exit $status)" >&2
    else
        submit_and_wait || status=$?
    fi
    [ "$status" -eq 0 ] || exit "$status"
    batch_summary "$REPORT"
    finish
    exit 0
fi

mpirun=${MPIRUN:-mpirun}
command -v "$mpirun" >/dev/null || die "mpirun not found: install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev)"

if [ "$(id -u)" -eq 0 ]; then
    # Open MPI refuses root unless told; containers and CI run as root.
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
mpi_args=(-q -np "$ranks" --bind-to none)
if [ -n "$hostfile" ]; then
    mpi_args+=(--hostfile "$hostfile")
elif [ "$ranks" -gt "$cores" ]; then
    echo "bandsaw: $ranks ranks on $cores cores: oversubscribing (ranks share cores, so expect no speedup past $cores)" >&2
    mpi_args+=(--oversubscribe)
fi

report=$(mktemp "${TMPDIR:-/tmp}/bandsaw-report.XXXXXX")
base_report=$(mktemp "${TMPDIR:-/tmp}/bandsaw-base.XXXXXX")
trap 'rm -f "$report" "$base_report"' EXIT

if [ "$baseline" -eq 1 ]; then
    base_out="$(dirname "$output")/.bandsaw-baseline-$$-$(basename "$output")"
    echo "== baseline: 1 rank ==" >&2
    status=0
    "$bin" "$input" -o "$base_out" "${op_args[@]}" --report "$base_report" "${out_flags[@]}" || status=$?
    rm -rf "$base_out"
    [ "$status" -eq 0 ] || exit "$status"
    echo "== $ranks ranks ==" >&2
fi

status=0
"$mpirun" "${mpi_args[@]}" "$bin" "$input" -o "$output" "${op_args[@]}" --report "$report" "${out_flags[@]}" || status=$?
if [ "$status" -eq 255 ]; then
    echo "error: mpirun could not start or keep the job running (exit 255): check the hostfile, that every host is reachable, and that bandsaw exists at $bin on each" >&2
    exit 1
elif [ "$status" -gt 128 ] && [ "$status" -le 192 ]; then
    # mpirun -q prints nothing when a rank dies; say what happened.
    echo "error: a bandsaw rank was killed by signal $((status - 128)) ($(kill -l $((status - 128)) 2>/dev/null || echo unknown)); mpirun stopped the job and no output was written" >&2
    exit 1
fi
[ "$status" -eq 0 ] || { [ "$status" -le 3 ] || echo "error: the bandsaw job failed (exit $status)" >&2; exit "$status"; }

batch_summary "$report"

total_ms() { grep -o '"total_ms":[0-9.]*' "$1" | cut -d: -f2 | awk '{s += $1} END {printf "%.3f", s}'; }
if [ "$baseline" -eq 1 ]; then
    t1=$(total_ms "$base_report"); tn=$(total_ms "$report")
    awk -v t1="$t1" -v tn="$tn" -v n="$ranks" 'BEGIN {
        s = (tn > 0) ? t1 / tn : 0
        printf "baseline 1 rank: %.1f ms   %d ranks: %.1f ms   speedup: %.2fx   efficiency: %.0f%%\n", t1, n, tn, s, 100 * s / n
    }'
fi

finish
