#!/usr/bin/env bash
# bandsaw-entrypoint [master|worker]: brings up one node of the bandsaw cluster as the
# unprivileged user it runs as (mpi in the image) and keeps its sshd running.
#
#   master  makes the cluster's ssh key pair at first start (private half in its own
#           BANDSAW_SSH_DIR, never shared), publishes the public half to the shared key volume,
#           writes the ssh client config mpirun uses, and runs sshd like every node.
#           It also runs the cluster's service (docker/service.sh): `bandsaw serve` over
#           the workers that answer, restarted over the healthy ones when one is lost, when
#           BANDSAW_SERVICE=1 (the compose file sets it; the namespace tests leave it out).
#   worker  waits for the master's public key to appear in the key volume, installs it,
#           and runs sshd.
#
# Every node makes its own sshd host keys at first start, in BANDSAW_NODE_DIR: no key of any
# kind is baked into the image or committed. While sshd runs, the installed key follows the
# volume, so a recreated master (new key) is accepted again within seconds.
# Paths and the port come from docker/common.sh (environment variables, container defaults).
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=docker/common.sh
. "$here/common.sh"

role=${1:-${BANDSAW_ROLE:-worker}}
case "$role" in
    master|worker) ;;
    *) bandsaw_log "unknown role '$role' (master or worker)"; exit 2 ;;
esac
user=$(id -un)
[ "$(id -u)" -ne 0 ] || { bandsaw_log "run as the unprivileged mpi user, not root"; exit 2; }
umask 077

node=$BANDSAW_NODE_DIR
mkdir -p "$node"
chmod 700 "$node"

# This node's host key: made here, once, so no two clusters (or nodes) share one.
[ -f "$node/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "bandsaw-host" -f "$node/ssh_host_ed25519_key"

listen=$(bandsaw_listen_addresses)
if [ -z "$listen" ]; then
    bandsaw_log "no network address found: sshd listens on all addresses"
    listen=0.0.0.0
fi

# A non-root sshd: its own config, host key and pid file in the node folder; no PAM (it needs
# root); public keys only; only this user. It listens on the cluster network's address(es)
# only, and the compose file publishes no port, so it is reachable only inside that network.
{
    echo "Port $BANDSAW_SSH_PORT"
    for address in $listen; do echo "ListenAddress $address"; done
    echo "HostKey $node/ssh_host_ed25519_key"
    echo "PidFile $node/sshd.pid"
    echo "AuthorizedKeysFile $node/authorized_keys"
    echo "AllowUsers $user"
    cat <<'CONFIG'
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
StrictModes yes
AllowAgentForwarding no
AllowTcpForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
PrintLastLog no
MaxStartups 64:30:128
CONFIG
} > "$node/sshd_config"

# Copies the published public key into this node's sshd folder when it differs (atomically:
# sshd never sees half a file). Returns 1 while there is no key to install.
sync_key() {
    local published="$BANDSAW_KEY_DIR/authorized_keys"
    [ -s "$published" ] || return 1
    if ! cmp -s "$published" "$node/authorized_keys"; then
        cp "$published" "$node/authorized_keys.tmp"
        chmod 600 "$node/authorized_keys.tmp"
        mv -f "$node/authorized_keys.tmp" "$node/authorized_keys"
        bandsaw_log "installed the master's public key"
    fi
}

if [ "$role" = master ]; then
    # The key volume carries the public half only. A volume (rather than a key in the image or
    # the repository) because the key must be made per cluster at run time, and the workers
    # must get it without a copy step on the host; only the master can log in with it.
    ssh=$BANDSAW_SSH_DIR
    mkdir -p "$ssh" "$BANDSAW_KEY_DIR"
    chmod 700 "$ssh"
    [ -f "$ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C "bandsaw-$user@master" -f "$ssh/id_ed25519"
    # Host keys are new at every container start, so known_hosts could only ever prompt or
    # fail: StrictHostKeyChecking no with UserKnownHostsFile /dev/null (the network is the
    # cluster's own). BatchMode: never wait for a password nobody will type.
    cat > "$ssh/config" <<CONFIG
Host *
    Port $BANDSAW_SSH_PORT
    IdentityFile $ssh/id_ed25519
    IdentitiesOnly yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    BatchMode yes
    ConnectTimeout 10
CONFIG
    chmod 600 "$ssh/config"
    published="$BANDSAW_KEY_DIR/authorized_keys"
    if ! cmp -s "$ssh/id_ed25519.pub" "$published"; then
        cp "$ssh/id_ed25519.pub" "$published.tmp.$$"
        chmod 644 "$published.tmp.$$"
        mv -f "$published.tmp.$$" "$published"
    fi
fi

# Workers wait here for the master's key, so a healthy node is one that can take ranks.
waited=0
until sync_key; do
    [ $((waited % 10)) -ne 0 ] || bandsaw_log "waiting for the master's public key in $BANDSAW_KEY_DIR"
    sleep 1
    waited=$((waited + 1))
done

/usr/sbin/sshd -D -e -f "$node/sshd_config" &
sshd_pid=$!
service_pid=0
if [ "$role" = master ] && [ "${BANDSAW_SERVICE:-0}" = 1 ]; then
    "$here/service.sh" run &
    service_pid=$!
fi
# shellcheck disable=SC2317  # called by the trap below
stop() {
    [ "$service_pid" -eq 0 ] || { kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; }
    kill "$sshd_pid" 2>/dev/null || true; wait "$sshd_pid" 2>/dev/null || true; exit 0
}
trap stop TERM INT
bandsaw_log "$role ready: sshd on port $BANDSAW_SSH_PORT at $(echo "$listen" | tr '\n' ' ')"

# Keep the installed key in step with the volume for as long as sshd runs; end with sshd.
while kill -0 "$sshd_pid" 2>/dev/null; do
    sleep 5 &
    wait $! || true
    sync_key || true
done
status=0
wait "$sshd_pid" || status=$?
bandsaw_log "sshd exited ($status)"
exit "$status"
