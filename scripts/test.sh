#!/usr/bin/env bash
# The test command: install what the tests need where it is missing (scripts/lib/deps.sh,
# profile test), build everything, then run every test (unit, property, end-to-end under real
# mpirun, multi-host in network namespaces, containers, Slurm). Arguments go to `swift test`
# (--filter NAME runs a subset).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/deps.sh
. scripts/lib/deps.sh
deps_ensure test
# The tests' python3 (and hadolint) are the project's virtual environment's.
export PATH="$PWD/.venv/bin:$PATH"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build --build-tests
# The cost-model test (CostModelTests) times the release executable: the model's rates are the
# release build's, and a debug build's kernels are many times slower.
swift build -c release --product bandsaw
# One test at a time: the end-to-end suites start real mpirun jobs, namespace hosts and sshd
# daemons; run side by side on 2 cores they compete for CPU and make the timing-sensitive ones
# (a rank killed mid-job) flaky. Serial, the whole run takes about two minutes.
swift test --skip-build --no-parallel "$@"

# MARK: - Hostile input (issue 22): on a full run only, the codec and kernel tests under ASan and
# UBSan (their own scratch path), then a short libFuzzer run of every parser (20 s each).
if [ $# -eq 0 ]; then
    scripts/sanitize.sh
    scripts/fuzz.sh --time 20
fi
