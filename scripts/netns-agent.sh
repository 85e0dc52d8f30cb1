#!/usr/bin/env bash
# Open MPI launch agent for namespace hosts (--mca plm_rsh_agent): where mpirun would run
# `ssh HOST COMMAND...`, this enters the network namespace that owns HOST's address and runs
# COMMAND there. BANDSAW_NETNS_MAP is a file of "ADDRESS NAMESPACE" lines.
set -euo pipefail
map=${BANDSAW_NETNS_MAP:?BANDSAW_NETNS_MAP must name the address-to-namespace map}
# Open MPI may put ssh-style options first; skip anything that looks like one.
while [[ "${1:-}" == -* ]]; do shift; done
host=${1:?no host}; shift
ns=$(awk -v h="$host" '$1 == h {print $2}' "$map")
[[ -n "$ns" ]] || { echo "netns-agent: no namespace for host $host" >&2; exit 255; }
# Each namespace host gets its own hostname (a UTS namespace) and its own Open MPI session
# directory, as a real host would: sharing /tmp and the machine's hostname, two hosts' daemons
# would collide on the same session path.
tmp="${TMPDIR:-/tmp}/bandsaw-netns/$ns"
mkdir -p "$tmp"
# shellcheck disable=SC2016  # the inner shell expands its own positional parameters
exec ip netns exec "$ns" unshare --uts /bin/sh -c 'hostname "$1"; export OMPI_MCA_orte_tmpdir_base="$2"; exec /bin/sh -c "$3"' \
    netns-host "$ns" "$tmp" "$*"
