# bandsaw cluster node: one image for the master and the workers (docker-compose.yml).
#
# Build stage: the official Swift image on Debian 12 (bookworm), the same toolchain line the
# project is tested with. --static-swift-stdlib links the Swift runtime and Foundation into the
# executable, so the runtime stage needs no Swift at all; the C libraries it links (Open MPI,
# libpng, zlib, libdeflate, libjpeg-turbo, libtiff, libwebp) come from the same Debian release in
# both stages, so the ABI matches.
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS builder
# Exact apt versions are not pinned: bookworm's security updates replace them, and a pinned
# version that left the archive breaks the build. The release (bookworm) is the pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libdeflate-dev libpng-dev zlib1g-dev \
        libjpeg62-turbo-dev libtiff-dev libwebp-dev libopenmpi-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifest first: the dependency fetch stays cached while only sources change.
COPY Package.* ./
RUN swift package resolve
COPY Sources ./Sources
# The manifest declares the test targets, whose folders must exist to load the package.
COPY Tests ./Tests
RUN swift build -c release --product bandsaw --static-swift-stdlib \
    && install -D -m 755 "$(swift build -c release --show-bin-path)/bandsaw" /out/bandsaw

FROM ${RUNTIME_IMAGE}
# Only what a node runs: the executable and its C libraries (libstdc++ too: the static Swift
# runtime still links it dynamically), Open MPI's launcher and daemon,
# ssh for mpirun to start the daemons, tini as PID 1 (reaps the ssh sessions' children and
# forwards signals). The host keys that openssh-server's install generates are deleted: an
# image must not carry keys every container would share; each node makes its own at start.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        openmpi-bin libopenmpi3 libdeflate0 libpng16-16 zlib1g libjpeg62-turbo libtiff6 libwebp7 \
        libstdc++6 openssh-server openssh-client tini \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/ssh/ssh_host_*

# The unprivileged user every process runs as, sshd included (on a high port). Its uid is a
# build argument so files it writes to the bind-mounted ./data can match the host user's.
ARG MPI_UID=1000
# /keys is the mount point of the shared key volume; Docker copies the ownership of the
# image's folder into a new named volume, so the mpi user can write the public key there.
RUN groupadd --gid "${MPI_UID}" mpi \
    && useradd --uid "${MPI_UID}" --gid mpi --create-home --shell /bin/bash mpi \
    && install -d -o mpi -g mpi -m 755 /keys /data

COPY --from=builder /out/bandsaw /usr/local/bin/bandsaw
COPY docker/common.sh docker/entrypoint.sh docker/healthcheck.sh docker/bandsaw-mpirun.sh docker/service.sh /usr/local/lib/bandsaw/
COPY scripts/make-hostfile.sh /usr/local/lib/bandsaw/make-hostfile.sh
COPY docker/mpi.env /etc/bandsaw/mpi.env
# The hostfile for the default scale; compose-run.sh writes the live one to ~/hostfile.
COPY hostfile /etc/bandsaw/hostfile
RUN ln -s /usr/local/lib/bandsaw/entrypoint.sh /usr/local/bin/bandsaw-entrypoint \
    && ln -s /usr/local/lib/bandsaw/healthcheck.sh /usr/local/bin/bandsaw-healthcheck \
    && ln -s /usr/local/lib/bandsaw/bandsaw-mpirun.sh /usr/local/bin/bandsaw-mpirun \
    && ln -s /usr/local/lib/bandsaw/make-hostfile.sh /usr/local/bin/make-hostfile \
    && ln -s /usr/local/lib/bandsaw/service.sh /usr/local/bin/bandsaw-service

# The mpi user, by number so a runtime can verify it is not root without the passwd file.
USER ${MPI_UID}:${MPI_UID}
WORKDIR /home/mpi
EXPOSE 2222 8080
# Healthy = this node can take ranks: the master's key is installed and sshd answers.
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=3 CMD ["bandsaw-healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "bandsaw-entrypoint"]
CMD ["worker"]
