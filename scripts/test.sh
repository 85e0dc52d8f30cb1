#!/usr/bin/env bash
# The test command: build everything, then run every test (unit, property, end-to-end under
# real mpirun, multi-host in network namespaces where the rights allow).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
swift build --build-tests
swift test --skip-build "$@"
