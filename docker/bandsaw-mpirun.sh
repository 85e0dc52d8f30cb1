#!/usr/bin/env bash
# bandsaw-mpirun RANKS [BANDSAW ARGUMENTS...]: the one mpirun command line of the cluster,
# run on the master as the mpi user. scripts/compose-run.sh uses it in the container and the
# namespace tests use it unchanged, so the launch path they test is the one users get.
#
# It runs `mpirun -np RANKS --hostfile HOSTFILE ... BANDSAW_BIN ARGS`, with every
# OMPI_MCA_NAME=VALUE of BANDSAW_MPI_ENV (docker/mpi.env) passed as `--mca NAME VALUE`
# (a value already in the environment wins): the daemons that ssh starts on the workers see
# their command line, not this container's environment.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=docker/common.sh
. "$here/common.sh"

[ $# -ge 1 ] || { echo "usage: bandsaw-mpirun RANKS [bandsaw arguments...]" >&2; exit 2; }
ranks=$1; shift
[[ "$ranks" =~ ^[1-9][0-9]*$ ]] || { echo "error: RANKS must be a positive integer, got '$ranks'" >&2; exit 2; }
[ -r "$BANDSAW_HOSTFILE" ] || { echo "error: $BANDSAW_HOSTFILE: no hostfile (run make-hostfile -o $BANDSAW_HOSTFILE)" >&2; exit 1; }
[ -r "$BANDSAW_MPI_ENV" ] || { echo "error: $BANDSAW_MPI_ENV: Open MPI settings not found" >&2; exit 1; }

mca=()
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    [[ "$key" =~ ^OMPI_MCA_[A-Za-z0-9_]+$ ]] || { echo "error: $BANDSAW_MPI_ENV: not an OMPI_MCA_ setting: $line" >&2; exit 1; }
    mca+=(--mca "${key#OMPI_MCA_}" "${!key:-$value}")
done < "$BANDSAW_MPI_ENV"

# ssh to the workers' sshd on its high port with the config the entrypoint wrote (host key
# checking off: host keys are new at every start).
exec "${MPIRUN:-mpirun}" -q -np "$ranks" --hostfile "$BANDSAW_HOSTFILE" --bind-to none \
    "${mca[@]}" --mca plm_rsh_args "-F $BANDSAW_SSH_DIR/config -p $BANDSAW_SSH_PORT" \
    "${BANDSAW_BIN:-bandsaw}" "$@"
