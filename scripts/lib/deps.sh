# shellcheck shell=bash
# deps.sh: what run.sh and scripts/test.sh need from the system, checked and, where missing,
# installed. Sourced, not run:
#
#   deps_ensure run    the build and a local job: Swift, pkg-config, the codec libraries
#                      (libdeflate, libpng, zlib, libjpeg-turbo, libtiff, libwebp), Open MPI
#   deps_ensure test   that, plus what the tests start or call: Docker engine and Compose,
#                      debootstrap, Slurm and munge, iproute2, OpenSSH, ShellCheck, procps,
#                      and the Python test libraries (scripts/lib/test-requirements.txt) in
#                      the project's virtual environment .venv/
#
# Every need is a Debian/Ubuntu package and a probe of what that package brings (a command, a
# pkg-config module, a file), so a machine that has everything pays for a few probes and no
# apt call, and one whose libraries came from elsewhere is not asked for packages it does not
# need. What is missing is installed with apt-get: directly as root, else through sudo when sudo
# may run without a password; otherwise one `error:` line gives the command and the caller
# exits 2. Swift is not in the distributions' archives: a missing toolchain is the same kind of
# line, saying where to get it.

deps_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# "PACKAGE PROBE": cmd:NAME (on PATH or in an sbin folder), pc:MODULE (pkg-config knows it),
# file:PATH (exists), venv:python3 (python3 can make a virtual environment, or .venv exists).
deps_run_needs=(
    "pkg-config cmd:pkg-config"
    "libdeflate-dev pc:libdeflate"
    "libpng-dev pc:libpng"
    "zlib1g-dev pc:zlib"
    "libjpeg-dev pc:libjpeg"
    "libtiff-dev pc:libtiff-4"
    "libwebp-dev pc:libwebp"
    "libopenmpi-dev pc:ompi-c"
    "openmpi-bin cmd:mpirun"
)
# The container tests start their own dockerd (scripts/test-dockerd.sh) and make the base
# images with debootstrap (scripts/docker-base-images.sh); the Slurm tests start munged,
# slurmctld and slurmd (scripts/slurm-cluster.sh); the multi-host tests make network namespace
# hosts (ip) that talk over ssh; the lint test runs shellcheck (and hadolint, from PyPI); the
# service tests talk to `bandsaw serve` with curl and drive its page in headless Chromium
# through chromedriver (and Selenium, from PyPI).
deps_test_needs=(
    "docker.io cmd:dockerd"
    "docker-compose cmd:docker-compose"
    "debootstrap cmd:debootstrap"
    "slurm-wlm cmd:slurmctld"
    "munge cmd:munged"
    "iproute2 cmd:ip"
    "openssh-server file:/usr/sbin/sshd"
    "openssh-client cmd:ssh"
    "shellcheck cmd:shellcheck"
    "procps cmd:pgrep"
    "python3-venv venv:python3"
    "curl cmd:curl"
    "libjpeg-turbo-progs cmd:cjpeg"
    "chromium cmd:chromium"
    "chromium-driver cmd:chromedriver"
)
deps_venv="$deps_root/.venv"
deps_requirements="$deps_root/scripts/lib/test-requirements.txt"
deps_swift_url="https://www.swift.org/install/linux/"

# Succeeds when what PROBE names is present.
deps_present() {
    local kind=${1%%:*} arg=${1#*:}
    case "$kind" in
        cmd) command -v "$arg" >/dev/null 2>&1 || [ -x "/usr/sbin/$arg" ] || [ -x "/sbin/$arg" ] ;;
        pc) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$arg" ;;
        file) [ -e "$arg" ] ;;
        # Debian ships venv's pip bootstrap (ensurepip) apart from python3, in python3-venv.
        venv) [ -x "$deps_venv/bin/python3" ] \
                  || { command -v "$arg" >/dev/null 2>&1 && "$arg" -c 'import ensurepip, venv' >/dev/null 2>&1; } ;;
        *) echo "error: deps.sh: unknown probe $1" >&2; exit 1 ;;
    esac
}

# Prints the packages of NEEDS... whose probe fails, space-separated.
deps_missing() {
    local need missing=()
    for need in "$@"; do
        deps_present "${need#* }" || missing+=("${need%% *}")
    done
    echo "${missing[*]}"
}

# Installs PACKAGES... with apt-get, as root or through non-interactive sudo; without either
# (or without apt-get) prints the one command to run and exits 2.
deps_install() {
    local command="apt-get update && apt-get install -y --no-install-recommends $*"
    local as=()
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing $*: this is not a Debian/Ubuntu system (no apt-get); install what these packages provide with your package manager (README: Other distributions), then run this again" >&2
        exit 2
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            as=(sudo -n)
        elif command -v sudo >/dev/null 2>&1; then
            echo "error: missing $*; install them with: sudo sh -c '$command'" >&2
            exit 2
        else
            echo "error: missing $*; install them as root with: $command" >&2
            exit 2
        fi
    fi
    echo "bandsaw: installing $* with apt-get" >&2
    # apt's progress goes to stderr: stdout is the job's (its timing table, or --json).
    if ! { "${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
           && "${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; } >&2; then
        echo "error: apt-get could not install $* (its output is above)" >&2
        exit 1
    fi
}

# The Python test libraries in .venv, made or brought up to date when the requirements file
# differs from the copy kept in .venv after the last successful install.
deps_python() {
    local stamp="$deps_venv/.bandsaw-requirements"
    if [ -x "$deps_venv/bin/python3" ] && cmp -s "$deps_requirements" "$stamp"; then
        return 0
    fi
    echo "bandsaw: installing the Python test libraries into .venv (pip, from $(basename "$deps_requirements"))" >&2
    if [ ! -x "$deps_venv/bin/python3" ]; then
        python3 -m venv "$deps_venv" >&2 || { echo "error: python3 -m venv $deps_venv failed" >&2; exit 1; }
    fi
    "$deps_venv/bin/python3" -m pip install --quiet --disable-pip-version-check -r "$deps_requirements" >&2 \
        || { echo "error: pip could not install the test libraries of $deps_requirements into $deps_venv" >&2; exit 1; }
    cp "$deps_requirements" "$stamp"
}

# deps_ensure run|test: returns when everything the profile needs is present.
deps_ensure() {
    local profile=$1 needs=("${deps_run_needs[@]}") missing
    case "$profile" in
        run) ;;
        test) needs+=("${deps_test_needs[@]}") ;;
        *) echo "error: deps_ensure: unknown profile '$profile'" >&2; exit 1 ;;
    esac
    if ! command -v swift >/dev/null 2>&1; then
        echo "error: swift not found: the Swift 6 toolchain is not an apt package; get it from $deps_swift_url (or swiftly), put its usr/bin on PATH, and run this again" >&2
        exit 2
    fi
    missing=$(deps_missing "${needs[@]}")
    if [ -n "$missing" ]; then
        # shellcheck disable=SC2086 # one word per package
        deps_install $missing
        missing=$(deps_missing "${needs[@]}")
        [ -z "$missing" ] || { echo "error: still missing after apt-get install: $missing" >&2; exit 1; }
    fi
    [ "$profile" != test ] || deps_python
}
