#!/usr/bin/env bash
# Emulated cluster links: namespace hosts (scripts/netns-cluster.sh) whose links are shaped by
# tc (token-bucket rate limits), and bandsaw's communication phases measured across them (issue 16).
#
#   scripts/emulate-links.sh [--runs N] [--links unshaped,1gbit,10gbit,100mbit] [--quick] [--output FILE]
#
# Every host's eth0 is limited on the way out and the bridge's port towards it on the way in
# (the same rate): a full-duplex NIC per host on a switch (see shape below for the delays). Ranks on one
# host use shared memory (vader), as they would on a real node. Results: bench-results/links.json
# (scripts/emulate_links.py writes it). Needs root, iproute2 with tc (tbf), mpirun, python3 with
# numpy (for the test images). Traffic stays on the bridge of 10.98.5.0/24; everything is torn
# down on exit, failure or interrupt.
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=${EMULATE_PREFIX:-bsl$$}
subnet=10.98.5
hosts=4
bin=${BANDSAW_BIN:-.build/release/bandsaw}
[ -x "$bin" ] || { echo "error: $bin not built (swift build -c release)" >&2; exit 1; }
work=$(mktemp -d /tmp/bandsaw-links.XXXXXX)

cleanup() {
    scripts/netns-cluster.sh down "$prefix" || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

scripts/netns-cluster.sh up "$prefix" "$hosts" "$subnet"
for i in $(seq 1 "$hosts"); do echo "$subnet.$i $prefix-h$i"; done >"$work/netns.map"

# shape LINK: every host's eth0 (egress) and the bridge port towards it limited to the link's
# rate by a token bucket: a full-duplex NIC per host on a switch. The one-way delays of the link
# cases (0.1, 0.05, 1 ms) are NOT emulated: this machine's kernel is built without netem
# (CONFIG_NET_SCH_NETEM unset) and has no other delaying qdisc; scripts/predict.py adds them.
shape() {
    local rate burst
    for i in $(seq 1 "$hosts"); do
        ip netns exec "$prefix-h$i" tc qdisc del dev eth0 root 2>/dev/null || true
        ip netns exec "$prefix-sw" tc qdisc del dev "v${prefix: -6}h${i}b" root 2>/dev/null || true
    done
    case "$1" in
    unshaped) return 0 ;;  # the bare veth links: what this machine's TCP stack carries
    1gbit) rate=1gbit burst=256kb ;;
    10gbit) rate=10gbit burst=2500kb ;;
    100mbit) rate=100mbit burst=64kb ;;
    *) echo "unknown link $1" >&2; return 2 ;;
    esac
    for i in $(seq 1 "$hosts"); do
        # burst: about 2 ms at the rate; latency: a queue long enough that a band is delayed, not dropped.
        ip netns exec "$prefix-h$i" tc qdisc add dev eth0 root tbf rate "$rate" burst "$burst" latency 400ms
        ip netns exec "$prefix-sw" tc qdisc add dev "v${prefix: -6}h${i}b" root tbf rate "$rate" burst "$burst" latency 400ms
    done
}
export -f shape
export prefix hosts

BANDSAW_NETNS_MAP="$work/netns.map" python3 scripts/emulate_links.py \
    --bandsaw "$bin" --prefix "$prefix" --subnet "$subnet" --hosts "$hosts" --work "$work" \
    --shape-command "bash -c 'shape \"\$0\"'" "$@"
