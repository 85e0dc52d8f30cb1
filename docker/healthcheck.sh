#!/usr/bin/env bash
# bandsaw-healthcheck: exits 0 when this node can take ranks: the master's public key is
# installed for sshd (and is the one currently published), and sshd answers with its banner
# on every address it listens on. The Dockerfile's HEALTHCHECK and the tests both run it.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
# shellcheck source=docker/common.sh
. "$here/common.sh"

node=$BANDSAW_NODE_DIR
installed="$node/authorized_keys"
[ -s "$installed" ] || { echo "unhealthy: no authorized key installed yet"; exit 1; }
if [ -s "$BANDSAW_KEY_DIR/authorized_keys" ] && ! cmp -s "$BANDSAW_KEY_DIR/authorized_keys" "$installed"; then
    echo "unhealthy: the installed key is not the published one yet"
    exit 1
fi
[ -s "$node/sshd.pid" ] || { echo "unhealthy: sshd has not started"; exit 1; }

addresses=$(awk '$1 == "ListenAddress" {print $2}' "$node/sshd_config")
for address in $addresses; do
    [ "$address" != 0.0.0.0 ] || address=127.0.0.1
    # sshd speaks first: a live one sends "SSH-2.0-..." as soon as the connection opens.
    # shellcheck disable=SC2016  # $1 and $2 expand in the inner shell
    banner=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2" && head -c 4 <&3' _ "$address" "$BANDSAW_SSH_PORT" 2>/dev/null || true)
    [ "$banner" = "SSH-" ] || { echo "unhealthy: sshd not answering on $address:$BANDSAW_SSH_PORT"; exit 1; }
done
echo "healthy: sshd on port $BANDSAW_SSH_PORT, key installed"
