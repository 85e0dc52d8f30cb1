#!/usr/bin/env bash
# The benchmark in one command: bandsaw (1 process, 1/2/4 ranks) against OpenCV and Dask.
#
#   scripts/bench.sh            # full run (1, 16, 64 MP; about 20 minutes on 2 cores)
#   scripts/bench.sh --quick    # 1 and 16 MP, 3 runs
#   scripts/bench.sh --help     # every option of scripts/bench.py
#   scripts/bench.sh --jpeg [bench_jpeg.py options]
#                               # JPEG in and out, 16 and 64 MP, with and without restart markers:
#                               # 1 process and 2 ranks against vips and OpenCV, to bench-results/jpeg.md
#   scripts/bench.sh --serve [--quick]
#                               # a warm `bandsaw serve` against a command per image, 8 clients,
#                               # idle CPU (scripts/bench_serve.py), to bench-results/serve.md
#   scripts/bench.sh --kernels [bandsaw-bench options]
#                               # one-core kernels on every SIMD path against OpenCV
#                               # (bandsaw-bench --compare-opencv), to bench-results/kernels.md
#   scripts/bench.sh --dataset [--quick] [--runs N]
#                               # folders of many images (scripts/bench_dataset.py), to
#                               # bench-results/dataset.md
#
# Creates .bench-venv/ (Python packages from scripts/bench_requirements.txt), builds the release
# executable in .build-bench/, then runs scripts/bench.py, which writes bench-results/
# (results.json, results.md, speedup.png, phases.png; test images under bench-results/tmp/).
# Needs python3 with venv, mpirun (Open MPI), /usr/bin/time (apt-get install time) and Swift.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in python3 mpirun swift; do
    command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "error: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }

# NumPy's OpenBLAS starts a thread server per process that takes about 14% of the OpenCV
# script's samples on the other core (perf, kernels run): the peers get one thread each, as
# cv2.setNumThreads(1) already asks of OpenCV itself.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

if [ ! -x .bench-venv/bin/python ]; then
    python3 -m venv .bench-venv
fi
stamp=.bench-venv/.requirements
if ! cmp -s scripts/bench_requirements.txt "$stamp" 2>/dev/null; then
    .bench-venv/bin/pip install -q --upgrade pip
    .bench-venv/bin/pip install -q -r scripts/bench_requirements.txt
    cp scripts/bench_requirements.txt "$stamp"
fi

if [ "${1:-}" = "--kernels" ]; then
    shift
    swift build -c release --product bandsaw-bench --scratch-path .build-bench >&2
    mkdir -p bench-results
    {
        echo "# Kernels on one core: bandsaw's paths against OpenCV"
        echo
        echo "Commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources || echo ' (with local changes)'), $(date -u '+%Y-%m-%d %H:%M UTC');" \
             "command: \`scripts/bench.sh --kernels $*\`"
        echo
        echo '```'
        .build-bench/release/bandsaw-bench --compare-opencv --python .bench-venv/bin/python "$@"
        echo '```'
    } | tee bench-results/kernels.md
    exit 0
fi

swift build -c release --product bandsaw --scratch-path .build-bench >&2

if [ "${1:-}" = "--jpeg" ]; then
    shift
    exec .bench-venv/bin/python scripts/bench_jpeg.py --bandsaw .build-bench/release/bandsaw "$@"
fi

if [ "${1:-}" = "--dataset" ]; then
    shift
    exec .bench-venv/bin/python scripts/bench_dataset.py --bandsaw .build-bench/release/bandsaw "$@"
fi

if [ "${1:-}" = "--serve" ]; then
    shift
    command -v curl >/dev/null || { echo "error: curl not found (apt-get install curl)" >&2; exit 1; }
    exec .bench-venv/bin/python scripts/bench_serve.py --bandsaw .build-bench/release/bandsaw "$@"
fi

exec .bench-venv/bin/python scripts/bench.py --bandsaw .build-bench/release/bandsaw "$@"
