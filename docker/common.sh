# shellcheck shell=bash
# Settings shared by the container scripts (entrypoint, healthcheck, launcher). Every path and
# port is an environment variable with the container's value as default, so the namespace
# tests run these same scripts with their folders in a temporary directory.

# The shared named volume: the master publishes its public key here; nothing secret is in it.
BANDSAW_KEY_DIR=${BANDSAW_KEY_DIR:-/keys}
# This node's own sshd: config, host keys, pid file, installed authorized_keys. Never shared.
BANDSAW_NODE_DIR=${BANDSAW_NODE_DIR:-$HOME/node}
# The ssh client side of the master: its private key and client config.
BANDSAW_SSH_DIR=${BANDSAW_SSH_DIR:-$HOME/.ssh}
# A high port, so sshd runs as the unprivileged mpi user.
BANDSAW_SSH_PORT=${BANDSAW_SSH_PORT:-2222}
# Open MPI settings, one `OMPI_MCA_NAME=VALUE` a line (docker/mpi.env in the repository).
BANDSAW_MPI_ENV=${BANDSAW_MPI_ENV:-/etc/bandsaw/mpi.env}
# The hostfile make-hostfile writes and the launcher reads.
BANDSAW_HOSTFILE=${BANDSAW_HOSTFILE:-$HOME/hostfile}

bandsaw_log() { echo "bandsaw-node: $*" >&2; }

# The addresses sshd listens on: BANDSAW_SSH_LISTEN, else every non-loopback address of this
# host (the compose network's address in a container, the veth address in a test namespace).
bandsaw_listen_addresses() {
    if [ -n "${BANDSAW_SSH_LISTEN:-}" ]; then
        echo "$BANDSAW_SSH_LISTEN"
    else
        hostname -I 2>/dev/null | tr ' ' '\n' | grep -v '^$' | grep -v ':' || true
    fi
}
