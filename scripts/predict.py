#!/usr/bin/env python3
"""Predicts bandsaw's phase times on N ranks from a cost model (issue 16).

    scripts/predict.py --ranks 64 --megapixels 256 --link 10gbit --op median:size=15 [--json]

The model follows one image through bandsaw's SPMD chain (Sources/SPMDEngine/SPMDRunner.swift):
rank 0 reads (or every rank reads its rows with --io mpiio), small collectives agree on the
outcome, MPI_Scatterv sends each rank its owned rows (Open MPI's linear algorithm for Scatterv
and Gatherv: the root sends to, or receives from, one rank after the other), neighbours swap
halo rows (MPI_Sendrecv, down then up), every rank filters its rows, then either deflates them
and rank 0 gathers and stitches the pieces (PNG output), or rank 0 gathers the pixels and
encodes them (PGM/PPM), or every rank writes its own rows (--io mpiio); rank 0 writes.

Phases are predicted as bandsaw reports them (the slowest rank's time in each), so waits show up
where bandsaw books them: the other ranks' "broadcast" holds rank 0's read, and "halo" holds the
wait for the last rank's band from the linear scatter. "total_ms" is rank 0's read-to-write
time, "speedup" total(1 process) / total(N); "launch_ms" and "wall_ms" add mpirun's start-up.

The parameters (per-core rates, memory and TCP bandwidths, per-message costs, launch) are in
scripts/model-params.json with where each was measured. Only the standard library is used.
"""
import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PARAMS = os.path.join(HERE, "model-params.json")


def load_params(path=DEFAULT_PARAMS):
    with open(path) as f:
        return json.load(f)


class Network:
    """Per-message time between two ranks: local (shared memory) or across the link."""

    def __init__(self, p, link, emulated, wake=0.0):
        self.p = p
        # On a busy machine every wait for another rank can cost a scheduler time slice.
        self.wake = wake
        shm = p["shared_memory"]
        self.shm_bw = shm["bandwidth_Bps"]
        self.shm_msg = shm["message_s"]
        if link == "loopback":
            self.link_bw, self.delay, self.tcp_msg = self.shm_bw, 0.0, self.shm_msg
        else:
            case = p["links"][link]
            tcp = p["tcp"]
            # TCP payload per byte on the wire (MTU 1500: 1448 of 1514 bytes) at the link's rate.
            self.link_bw = case["rate_bps"] / 8 * tcp["payload_efficiency"]
            if emulated:
                # On the emulating machine the namespace links cannot go faster than its own
                # TCP stack across veth pairs, and the delays are not emulated (no netem).
                self.link_bw = min(self.link_bw, tcp["emulator_stack_Bps"])
                self.delay = 0.0
            else:
                self.delay = case["delay_ms"] / 1000
            self.tcp_msg = tcp["message_s"]

    def message(self, nbytes, remote, sharers=1):
        """One point-to-point message of nbytes; `sharers` messages leave one NIC at once.
        A large message costs a rendezvous (request, acknowledgement, data: three one-way
        delays); a small one is sent eagerly (one delay)."""
        if not remote:
            return self.wake + self.shm_msg + nbytes * sharers / self.shm_bw
        hops = 3 if nbytes > self.p["tcp"]["eager_limit_bytes"] else 1
        return self.wake + self.tcp_msg + hops * self.delay + nbytes * sharers / self.link_bw

    def tail(self, nbytes):
        """What is still in flight when a send returns: TCP's send buffer drains at the link rate."""
        return min(nbytes, self.p["tcp"]["send_buffer_bytes"]) / self.link_bw

    def small_collective(self, ranks, hosts):
        """One small allreduce or broadcast: log2(N) rounds of small messages (recursive
        doubling / binomial tree), each round crossing the link when there are several hosts."""
        if ranks <= 1:
            return 0.0
        rounds = math.ceil(math.log2(ranks))
        return rounds * self.message(8, remote=hosts > 1)


def host_of(rank, hosts):
    """Open MPI's --map-by node: ranks dealt round-robin to the hosts."""
    return rank % hosts


def rows_of(rank, height, ranks):
    """BandPlan: height / N rows each, the first height % N ranks one more."""
    return height // ranks + (1 if rank < height % ranks else 0)


def predict(p, ranks, megapixels, link, op, channels=3, input_format="ppm", output_format="ppm", io="root",
            ranks_per_host=1, emulated=False, cpu_factor=1.0, wake_ms=0.0, width=None, height=None,
            fs_gbit=None):
    """Predicted phases (seconds) for one image; see the module docstring."""
    if width is None or height is None:
        side = int(round(math.sqrt(megapixels * 1e6)))
        width = height = side
    pixels = width * height
    filt = p["filters"][op]
    out_channels = filt["output_channels"] if filt["output_channels"] else channels
    if link == "loopback":
        hosts = 1
    else:
        hosts = max(1, min(ranks, math.ceil(ranks / ranks_per_host)))
    net = Network(p, link, emulated, wake_ms / 1000)
    cpu = p["cpu"]
    f = cpu_factor  # how much slower every CPU-bound rate runs (1: the measuring machine idle)

    in_row = width * channels
    out_row = width * out_channels
    in_bytes = pixels * channels
    out_bytes = pixels * out_channels
    rows = [rows_of(r, height, ranks) for r in range(ranks)]
    remote = [host_of(r, hosts) != host_of(0, hosts) for r in range(ranks)]
    ph = dict.fromkeys(["read", "broadcast", "scatter", "decode", "halo", "compute", "encode", "gather", "write"], 0.0)
    fs_bw = None
    if io == "mpiio" and hosts > 1:
        # A shared file system served over the same network: by default one server behind one
        # link like the others (an assumption); a parallel file system has more (fs_gbit).
        fs_bw = fs_gbit * 1e9 / 8 * p["tcp"]["payload_efficiency"] if fs_gbit else net.link_bw

    # --- read (rank 0) and the decode the ranks share
    sync = net.small_collective(ranks, hosts)
    if input_format == "ppm":
        if io == "mpiio" and ranks > 1:
            share = max(rows) * in_row
            ph["read"] = max(share * f / cpu["read_mpiio_Bps"], in_bytes / fs_bw if fs_bw else 0.0) + sync
            scatter_bytes = None
        else:
            ph["read"] = in_bytes * f / cpu["read_ppm_Bps"]
            scatter_bytes = [r * in_row for r in rows]
        decode_per_rank = 0.0
    elif input_format == "png":
        # A PNG from elsewhere (no restart points): rank 0 reads and inflates it alone; every
        # rank unfilters its own rows.
        png = cpu["png_input"]
        ph["read"] = in_bytes * f * (png["file_ratio"] / cpu["read_ppm_Bps"] + 1 / png["inflate_Bps"])
        if ranks == 1:
            ph["read"] += in_bytes * f / png["unfilter_Bps"]
            decode_per_rank = 0.0
        else:
            decode_per_rank = max(rows) * in_row * f / png["unfilter_Bps"]
        scatter_bytes = [r * (in_row + 1) for r in rows]
    elif input_format == "png-restart":
        # A PNG bandsaw wrote (restart points): rank 0 reads the file and sends each rank its
        # segments' compressed bytes; every rank inflates and unfilters its own.
        png = cpu["png_input"]
        ph["read"] = in_bytes * png["file_ratio"] * f / cpu["read_ppm_Bps"]
        if ranks == 1:
            ph["read"] += in_bytes * f / png["restart_decode_Bps"]
            decode_per_rank = 0.0
        else:
            decode_per_rank = max(rows) * in_row * f / png["restart_decode_Bps"]
        scatter_bytes = [r * in_row * png["file_ratio"] for r in rows]
    else:
        raise ValueError(f"unknown input format {input_format}")

    # --- the small collectives before the pixels move (read outcome, header, decode outcome)
    head_syncs = p["sync"]["before_scatter"] * sync
    # The other ranks wait in the first broadcast for rank 0's read.
    ph["broadcast"] = (ph["read"] + head_syncs) if ranks > 1 else 0.0

    # --- scatter: the root sends to rank 1, 2, ... in turn (linear); rank 0 keeps its rows in place
    arrivals = []
    elapsed = 0.0
    if ranks > 1 and scatter_bytes is not None:
        for r in range(1, ranks):
            # Ranks on the root's host take shared memory; the others its NIC, one at a time.
            elapsed += net.message(scatter_bytes[r], remote[r]) * (f if not remote[r] else 1.0)
            arrivals.append(elapsed)
        ph["scatter"] = elapsed
    ph["decode"] = decode_per_rank + (sync if ranks > 1 else 0.0)

    # --- halo: each rank sends halo rows down, then up, to its neighbours (on other hosts under
    # --map-by node); every rank of a host sends at once, so they share its NIC.
    halo_rows = filt["halo_rows"]
    exchange = 0.0
    if ranks > 1 and halo_rows > 0:
        per_host = math.ceil(ranks / hosts)
        # Bands thinner than the halo take their halo from ranks further away, one pair of
        # messages per distance (BandPlan.exchangeReach).
        reach = math.ceil(halo_rows / max(1, min(rows)))
        nbytes = min(halo_rows, max(rows)) * in_row
        exchange = 2 * reach * net.message(nbytes, remote=hosts > 1, sharers=per_host if hosts > 1 else 1)
        # Rank 1 got its band first and waits in the exchange for the rest of the scatter; rank 0
        # waits for what its last scatter send left in the socket buffer.
        skew = (arrivals[-1] - arrivals[0]) if arrivals else 0.0
        tail = net.tail(scatter_bytes[-1]) if scatter_bytes is not None and remote[-1] else 0.0
        ph["halo"] = exchange + max(skew, tail)

    # --- compute: each rank's own rows at the per-core rate of the filter
    rate = filt["gray_Bps"] if channels == 1 and filt.get("gray_Bps") else filt["rgb_Bps"]
    ph["compute"] = max(rows) * in_row * f / rate

    # --- encode, gather, write
    tail_syncs = p["sync"]["after_scatter"] * sync
    if output_format == "png":
        ratio = cpu["png_output_ratio"][op]
        # The row above each band comes from the previous rank, then every rank deflates.
        above = net.message(out_row, remote=hosts > 1) if ranks > 1 else 0.0
        ph["encode"] = above + max(rows) * out_row * f / cpu["png_deflate_Bps"]
        png_bytes = out_bytes * ratio
        gather = 0.0
        if ranks > 1:
            # Three Gatherv: sizes and checksums, the pieces, the restart offsets.
            gather = 2 * sync
            for r in range(1, ranks):
                gather += net.message(rows[r] * out_row * ratio, remote[r]) * (f if not remote[r] else 1.0)
        # Rank 0 stitches: CRCs over the whole file and the combined Adler-32.
        ph["gather"] = gather + png_bytes * f / cpu["png_stitch_Bps"]
        ph["write"] = png_bytes * f / cpu["write_Bps"] + sync
    elif io == "mpiio" and ranks > 1:
        # Every rank turns its rows into samples and writes them at their offset.
        ph["encode"] = max(rows) * out_row * f / cpu["pnm_encode_Bps"]
        share = max(rows) * out_row
        ph["write"] = max(share * f / cpu["write_mpiio_Bps"], out_bytes / fs_bw if fs_bw else 0.0) + 3 * sync
    else:
        gather = 0.0
        if ranks > 1:
            for r in range(1, ranks):
                gather += net.message(rows[r] * out_row, remote[r]) * (f if not remote[r] else 1.0)
        ph["gather"] = gather + (0.0 if ranks > 1 else out_bytes * f / cpu["gather_one_rank_Bps"])
        ph["encode"] = out_bytes * f / cpu["pnm_encode_Bps"]
        ph["write"] = out_bytes * f / cpu["write_Bps"] + sync

    # Rank 0's own path: its read, the syncs, the scatter, the exchange (no skew: it sent last),
    # its rows' decode, compute and encode, the gather and stitch, the write, and the agreements.
    total = (ph["read"] + head_syncs + ph["scatter"] + ph["decode"] + exchange + ph["compute"] + ph["encode"]
             + ph["gather"] + ph["write"] + tail_syncs)
    if ranks == 1:
        launch = p["launch"]["singleton_s"]
    elif hosts == 1:
        launch = p["launch"]["mpirun_local_s"]
    else:
        launch = p["launch"]["mpirun_local_s"] + p["launch"]["per_host_doubling_s"] * math.ceil(math.log2(hosts))
    return {"phases": ph, "total": total, "launch": launch, "hosts": hosts}


def predict_dataset(p, images, ranks, megapixels, link, op, shared_fs, file_ratio=None, **kw):
    """A folder of `images` equal images of `megapixels` each, two ways (issue 25):

    dealt: every rank processes whole images alone (its one-process time each, ranks at once);
    with a shared file system each rank reads and writes its own files, which all share the
    file system's bandwidth (one link by default, or --fs-gbit); without one, rank 0 sends each
    file's stored bytes and receives the encoded output, so every byte crosses rank 0's link.
    The batch takes the longer of the computing and the moving, plus one message per image.

    banded: every image split across all ranks in turn, as predict() has it, one after another.
    """
    one = predict(p, 1, megapixels, "loopback", op, **kw)
    pixels = megapixels * 1e6
    channels = kw.get("channels", 3)
    filt = p["filters"][op]
    out_channels = filt["output_channels"] or channels
    cpu = p["cpu"]
    in_file = pixels * channels * (cpu["png_input"]["file_ratio"] if kw.get("input_format", "ppm") != "ppm" else 1.0)
    out_file = pixels * out_channels * (cpu["png_output_ratio"][op] if kw.get("output_format", "ppm") == "png" else 1.0)
    if file_ratio:
        # Stored bytes per pixel byte given outright (a JPEG's, say), for the input and output.
        in_file, out_file = pixels * channels * file_ratio[0], pixels * out_channels * file_ratio[1]
    mine = predict(p, ranks, megapixels, link, op, **kw)
    net = Network(p, link, kw.get("emulated", False))
    remote = link != "loopback" and ranks > 1
    compute = math.ceil(images / ranks) * one["total"]
    moved = 0.0
    if remote:
        if shared_fs:
            fs_bw = kw["fs_gbit"] * 1e9 / 8 * p["tcp"]["payload_efficiency"] if kw.get("fs_gbit") else net.link_bw
            moved = images * (in_file + out_file) / fs_bw
        else:
            # Rank 0's own images need no transfer; every other one crosses its link twice.
            share = images * (ranks - 1) / ranks
            moved = share * (in_file + out_file) / net.link_bw
    per_image = 2 * net.message(64, remote=remote)
    dealt = max(compute, moved) + images * per_image / max(1, ranks - 1)
    banded = images * mine["total"]
    one_batch = images * one["total"]
    return {"images": images, "ranks": ranks, "hosts": mine["hosts"], "link": link, "shared_fs": shared_fs,
            "one_process_ms": round(one_batch * 1000, 1), "dealt_ms": round(dealt * 1000, 1),
            "banded_ms": round(banded * 1000, 1), "dealt_speedup": round(one_batch / dealt, 2),
            "banded_speedup": round(one_batch / banded, 2), "moved_ms": round(moved * 1000, 1),
            "compute_ms": round(compute * 1000, 1), "launch_ms": round(mine["launch"] * 1000, 1)}


def report(p, args, **overrides):
    kw = dict(channels=args.channels, input_format=args.input, output_format=args.output, io=args.io,
              ranks_per_host=args.ranks_per_host, emulated=args.emulated, cpu_factor=args.cpu_factor,
              wake_ms=args.wake_ms, fs_gbit=args.fs_gbit,
              width=args.width, height=args.height)
    kw.update(overrides)
    mine = predict(p, args.ranks, args.megapixels, args.link, args.op, **kw)
    one = predict(p, 1, args.megapixels, "loopback", args.op, **{**kw, "io": "root" if args.io == "mpiio" else args.io})
    ms = lambda s: round(s * 1000, 3)
    return {
        "ranks": args.ranks, "hosts": mine["hosts"], "megapixels": args.megapixels, "link": args.link, "op": args.op,
        "io": args.io, "input": args.input, "output": args.output,
        "phases": {k: ms(v) for k, v in mine["phases"].items()},
        "total_ms": ms(mine["total"]),
        "speedup": round(one["total"] / mine["total"], 3),
        "launch_ms": ms(mine["launch"]),
        "wall_ms": ms(mine["total"] + mine["launch"]),
        "speedup_wall": round((one["total"] + one["launch"]) / (mine["total"] + mine["launch"]), 3),
    }


def parser():
    ap = argparse.ArgumentParser(description="bandsaw's predicted phase times on N ranks (issue 16 cost model)")
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--megapixels", type=float, help="a square image of this many megapixels (or --width and --height)")
    ap.add_argument("--width", type=int, help="exact width (with --height) instead of a square")
    ap.add_argument("--height", type=int)
    ap.add_argument("--link", default="loopback", choices=["loopback", "1gbit", "10gbit", "100mbit"],
                    help="loopback: every rank on this one machine (shared memory)")
    ap.add_argument("--op", required=True, help="sobel | gaussian:sigma=8 | median:size=15")
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--input", default="ppm", choices=["ppm", "png", "png-restart"],
                    help="ppm: PGM/PPM; png: a PNG without restart points; png-restart: one bandsaw wrote")
    ap.add_argument("--output", default="ppm", choices=["ppm", "png"], help="png: parallel encode")
    ap.add_argument("--io", default="root", choices=["root", "mpiio"], help="mpiio: PGM/PPM rows read and written by every rank")
    ap.add_argument("--ranks-per-host", type=int, default=1)
    ap.add_argument("--emulated", action="store_true",
                    help="the namespace hosts of scripts/emulate-links.sh: no delays, this machine's TCP stack as a ceiling")
    ap.add_argument("--cpu-factor", type=float, default=1.0,
                    help="slowdown of every CPU-bound rate against the idle measuring machine (a busy machine: > 1)")
    ap.add_argument("--fs-gbit", type=float,
                    help="--io mpiio across hosts: the shared file system's aggregate bandwidth in Gbit/s "
                         "(default: one link, a single file server)")
    ap.add_argument("--wake-ms", type=float, default=0.0,
                    help="extra wait per message on a busy machine (a rank descheduled while another waits)")
    ap.add_argument("--images", type=int,
                    help="a folder of this many such images: dealt whole to the ranks against banded one by one, "
                         "with and without a shared file system (issue 25)")
    ap.add_argument("--file-ratio", help="with --images: stored bytes per pixel byte of the input and the output files, "
                                          "IN,OUT (the benchmark's 1600x1200 JPEGs: 0.078 in, 0.35 for sobel's gray JPEG out)")
    ap.add_argument("--params", default=DEFAULT_PARAMS)
    ap.add_argument("--json", action="store_true")
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    if (args.width is None) != (args.height is None):
        sys.exit("--width and --height go together")
    if args.width:
        args.megapixels = args.width * args.height / 1e6
    elif args.megapixels is None:
        sys.exit("give --megapixels, or --width and --height")
    p = load_params(args.params)
    if args.op not in p["filters"]:
        sys.exit(f"no rates for {args.op}; known: {', '.join(p['filters'])}")
    if args.images:
        kw = dict(channels=args.channels, input_format=args.input, output_format=args.output,
                  ranks_per_host=args.ranks_per_host, emulated=args.emulated, cpu_factor=args.cpu_factor,
                  fs_gbit=args.fs_gbit, width=args.width, height=args.height)
        ratio = tuple(float(x) for x in args.file_ratio.split(",")) if args.file_ratio else None
        rows = [predict_dataset(p, args.images, args.ranks, args.megapixels, args.link, args.op, shared, ratio, **kw)
                for shared in (True, False)]
        if args.json:
            print(json.dumps(rows, sort_keys=True))
            return
        print(f"{args.images} images of {args.megapixels:g} MP, {args.op}, {args.ranks} ranks, {args.link}, "
              f"{args.input} -> {args.output}; one process {rows[0]['one_process_ms'] / 1000:.1f} s")
        for r in rows:
            print(f"  {'shared file system' if r['shared_fs'] else 'no shared file system':22} dealt "
                  f"{r['dealt_ms'] / 1000:8.2f} s ({r['dealt_speedup']:.1f}x; computing {r['compute_ms'] / 1000:.2f} s, "
                  f"moving bytes {r['moved_ms'] / 1000:.2f} s)   banded {r['banded_ms'] / 1000:8.2f} s "
                  f"({r['banded_speedup']:.1f}x)")
        return
    r = report(p, args)
    if args.json:
        print(json.dumps({k: r[k] for k in ["phases", "total_ms", "speedup", "launch_ms", "wall_ms", "speedup_wall",
                                            "ranks", "hosts", "link", "op", "megapixels"]}, sort_keys=True))
        return
    print(f"{args.op} on {r['ranks']} ranks ({r['hosts']} host{'s' if r['hosts'] > 1 else ''}), "
          f"{args.megapixels:g} MP x{args.channels}, {args.link}, {args.input} -> {args.output}, --io {args.io}")
    for k, v in r["phases"].items():
        print(f"  {k:10} {v:12.1f} ms")
    print(f"  {'total':10} {r['total_ms']:12.1f} ms   speedup over one rank {r['speedup']:.2f}x")
    print(f"  {'launch':10} {r['launch_ms']:12.1f} ms   whole command {r['wall_ms']:.1f} ms ({r['speedup_wall']:.2f}x)")


if __name__ == "__main__":
    main()
