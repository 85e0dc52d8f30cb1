#!/usr/bin/env bash
# Several "hosts" on one machine for multi-host tests: one network namespace per host, joined
# by a bridge that lives in a namespace of its own (the root namespace's network is untouched).
#
#   netns-cluster.sh up PREFIX COUNT [SUBNET]   create PREFIX-h1..PREFIX-hCOUNT at SUBNET.1..COUNT
#   netns-cluster.sh down PREFIX                remove every namespace whose name starts with PREFIX-
#   netns-cluster.sh hostfile PREFIX COUNT [SUBNET] [SLOTS]   print an Open MPI hostfile
#
# Needs root (CAP_NET_ADMIN) and iproute2. Traffic stays on the bridge between these hosts.
set -euo pipefail

cmd=${1:?usage: netns-cluster.sh up|down|hostfile PREFIX [COUNT] [SUBNET]}
prefix=${2:?missing PREFIX}
count=${3:-3}
subnet=${4:-10.97.0}

case "$cmd" in
up)
    sw="$prefix-sw"
    ip netns add "$sw"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add br0 type bridge
    ip -n "$sw" link set br0 up
    for i in $(seq 1 "$count"); do
        host="$prefix-h$i"
        # veth names are limited to 15 characters; keep them short and unique per prefix.
        a="v${prefix: -6}h${i}a"; b="v${prefix: -6}h${i}b"
        ip netns add "$host"
        ip link add "$a" type veth peer name "$b"
        ip link set "$a" netns "$host"
        ip link set "$b" netns "$sw"
        ip -n "$host" link set "$a" name eth0
        ip -n "$host" addr add "$subnet.$i/24" dev eth0
        ip -n "$host" link set eth0 up
        ip -n "$host" link set lo up
        ip -n "$sw" link set "$b" master br0
        ip -n "$sw" link set "$b" up
    done
    ;;
down)
    for ns in $(ip netns list | awk '{print $1}' | grep -E "^$prefix-" || true); do
        # Kill anything still running inside before removing the namespace.
        for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns delete "$ns" 2>/dev/null || true
    done
    ;;
hostfile)
    slots=${5:-1}
    for i in $(seq 1 "$count"); do echo "$subnet.$i slots=$slots"; done
    ;;
*)
    echo "netns-cluster.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
