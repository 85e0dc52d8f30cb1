#!/usr/bin/env bash
# docker-base-images.sh [--force]: offline stand-ins for the two base images the Dockerfile
# names, under exactly those tags, for an engine that cannot reach an image registry.
#
#   debian:bookworm-slim   `debootstrap --variant=minbase bookworm` from Debian's mirror,
#                          imported with `docker import`
#   swift:6.3.1-bookworm   that root file system plus what the official Swift image carries
#                          for building (compilers' C pieces, libc6-dev, git, libcurl, libxml2,
#                          ...), this machine's Swift toolchain (SWIFT_ROOT, default /opt/swift)
#                          in /usr, and the local copies of the Swift packages
#                          (SWIFT_PACKAGES, default /opt/swift-packages) with the same git
#                          `url.<base>.insteadOf` mapping this machine's git uses
#
# An image that already exists is kept (reused between runs); --force remakes both. The
# Dockerfile itself is built unchanged: with internet access a user simply pulls the official
# images instead. Needs root (debootstrap), debootstrap, docker and Debian's mirror
# (DEBIAN_MIRROR, default: the one in this machine's apt sources, else deb.debian.org).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
debian_tag=debian:bookworm-slim
swift_tag=swift:6.3.1-bookworm
swift_root=${SWIFT_ROOT:-/opt/swift}
swift_packages=${SWIFT_PACKAGES:-/opt/swift-packages}
force=0
[ "${1:-}" != --force ] || force=1

die() { echo "docker-base-images: $*" >&2; exit 1; }
has_image() { docker image inspect "$1" >/dev/null 2>&1; }

# The tags must be the ones the Dockerfile names, or the stand-ins would never be used.
grep -q "SWIFT_IMAGE=$swift_tag\$" "$here/Dockerfile" || die "the Dockerfile no longer names $swift_tag"
grep -q "RUNTIME_IMAGE=$debian_tag\$" "$here/Dockerfile" || die "the Dockerfile no longer names $debian_tag"

if [ "$force" = 0 ] && has_image "$debian_tag" && has_image "$swift_tag"; then
    echo "docker-base-images: $debian_tag and $swift_tag exist; reusing them" >&2
    exit 0
fi
[ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "no debootstrap (apt-get install debootstrap)"
[ -x "$swift_root/usr/bin/swift" ] || die "no Swift toolchain at $swift_root"

mirror=${DEBIAN_MIRROR:-$(grep -rhoE '^(URIs:|deb) *https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | head -n 1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}

work=$(mktemp -d /var/tmp/bandsaw-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

# --- debian:bookworm-slim --------------------------------------------------------------------
rootfs="$work/rootfs"
echo "docker-base-images: debootstrap --variant=minbase bookworm from $mirror" >&2
debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
# As in the official image: updates and security suites too, and no apt caches in the layer.
cat > "$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
SOURCES
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
if [ "$force" = 1 ] || ! has_image "$debian_tag"; then
    tar -C "$rootfs" --numeric-owner -c . \
        | docker import --change 'CMD ["bash"]' --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$debian_tag" >/dev/null
    echo "docker-base-images: made $debian_tag" >&2
fi

# --- swift:6.3.1-bookworm --------------------------------------------------------------------
if [ "$force" = 1 ] || ! has_image "$swift_tag"; then
    # The build context: the toolchain and the package copies, hard-linked when they share a
    # file system with the work folder (no 3 GB copy), copied otherwise.
    context="$work/context"
    mkdir -p "$context"
    cp -al "$swift_root/usr" "$context/swift-usr" 2>/dev/null || cp -a "$swift_root/usr" "$context/swift-usr"
    cp -al "$swift_packages" "$context/swift-packages" 2>/dev/null || cp -a "$swift_packages" "$context/swift-packages"
    # git here reads github.com addresses from the package copies; the same mapping, pointed at
    # where the copies land in the image.
    {
        echo "[url \"/opt/swift-packages/\"]"
        for prefix in https://github.com/ git@github.com: ssh://git@github.com/; do
            echo "    insteadOf = $prefix"
        done
    } > "$context/gitconfig"
    # What the official Swift image installs for building on bookworm (and the toolchain's own
    # shared libraries need: libcurl, libxml2, libedit, sqlite, ncurses, z3 is not needed).
    cat > "$context/Dockerfile" <<'DOCKERFILE'
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        binutils binutils-gold gcc libc6-dev libgcc-12-dev libstdc++-12-dev libcurl4 libxml2 \
        libedit2 libsqlite3-0 libncurses6 libpython3.11 libz3-4 zlib1g-dev pkg-config tzdata git \
        ca-certificates gnupg unzip \
    && rm -rf /var/lib/apt/lists/*
COPY swift-usr/ /usr/
COPY swift-packages/ /opt/swift-packages/
COPY gitconfig /etc/gitconfig
DOCKERFILE
    echo "docker-base-images: building $swift_tag (toolchain from $swift_root)" >&2
    docker build -q -t "$swift_tag" "$context" >/dev/null
    docker run --rm "$swift_tag" swift --version >&2 || die "the stand-in $swift_tag cannot run swift"
    echo "docker-base-images: made $swift_tag" >&2
fi
