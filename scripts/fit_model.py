#!/usr/bin/env python3
"""Fits scripts/model-params.json (the issue-16 cost model's parameters) from measurements:

    python3 scripts/fit_model.py [--calibration bench-results/calibration.json]
                                 [--links bench-results/links.json] [--output scripts/model-params.json]

Every parameter carries a "source" line saying which measurement (cell and phase) it comes from.
The TCP parameters come only from the *unshaped* namespace runs; the shaped runs in links.json
are kept for validation (scripts/validate_model.py), not fitted.
"""
import argparse
import json
import statistics

HALO_ROWS = {"sobel": 1, "gaussian:sigma=8": 24, "median:size=15": 7}  # ImageFilters' kernel halos
OUTPUT_CHANNELS = {"sobel": 1, "gaussian:sigma=8": None, "median:size=15": None}  # None: as the input


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calibration", default="bench-results/calibration.json")
    ap.add_argument("--links", default="bench-results/links.json")
    ap.add_argument("--output", default="scripts/model-params.json")
    args = ap.parse_args()
    cal = json.load(open(args.calibration))
    links = json.load(open(args.links))
    cells = cal["cells"]
    src = {}

    def phase(cell, name):
        return cells[cell]["median"]["max_ms"][name] / 1000

    def pixels(cell):
        c = cells[cell]
        return c["width"] * c["height"]

    one = "one_sobel_ppm"
    in16 = pixels(one) * cells[one]["channels"]
    out16 = pixels(one) * cells[one]["output_channels"]
    cpu = {
        "read_ppm_Bps": in16 / phase(one, "read"),
        "pnm_encode_Bps": out16 / phase(one, "encode"),
        "write_Bps": cells[one]["output_bytes"] / phase(one, "write"),
        "gather_one_rank_Bps": out16 / phase(one, "gather"),
        "png_deflate_Bps": out16 / phase("one_sobel_png", "encode"),
        "png_stitch_Bps": cells["one_sobel_png"]["output_bytes"] / phase("one_sobel_png", "gather"),
    }
    src["cpu"] = (f"one process, 16 MP RGB PPM, sobel (calibration.json {one} and one_sobel_png, medians of "
                  f"{cal['runs']}): bytes over the read, encode, write and gather phases; the deflate rate over "
                  "raw output bytes")
    cpu["png_output_ratio"] = {}
    for op, cell in [("sobel", "one_sobel_png"), ("gaussian:sigma=8", "one_gaussian_png"), ("median:size=15", "one_median_png")]:
        c = cells[cell]
        cpu["png_output_ratio"][op] = c["output_bytes"] / (pixels(cell) * c["output_channels"])
    mpiio = "two_sobel_ppm_mpiio"
    half = pixels(mpiio) // 2
    cpu["read_mpiio_Bps"] = half * cells[mpiio]["channels"] / phase(mpiio, "read")
    cpu["write_mpiio_Bps"] = half * cells[mpiio]["output_channels"] / phase(mpiio, "write")
    # PNG input: not re-measured here; from REPORT.md's 16 MP photo on this machine (bench at f0d7b85).
    cpu["png_input"] = {
        "file_ratio": 30.0 / 48.0, "inflate_Bps": 48e6 / 0.130, "unfilter_Bps": 48e6 / 0.310,
        "restart_decode_Bps": 48e6 / 0.539,
        "source": "REPORT.md (bench at f0d7b85): Pillow's 16 MP PNG is ~30 MB, rank 0's inflate ~130 ms and "
                  "unfiltering ~310 ms of a 440 ms decode; bandsaw's own PNG decodes in 539 ms on one process",
    }

    # Compute rates: bandsaw's own compute phase on one process (what the model predicts),
    # not the kernel bench alone: the phase also pays for the output band's fresh pages, and
    # sobel's bench image is a 4000x4000 tile (590 MP/s in the bench, ~440 in the phase).
    filters = {}
    rows = {r["spec"] + ("/gray" if r["name"].endswith("/gray") else ""): float(r["megapixelsPerSecond"])
            for r in cal["kernels"]["rows"]}
    for op, cell in [("sobel", one), ("gaussian:sigma=8", "one_gaussian_png"), ("median:size=15", "one_median_png")]:
        mps = pixels(cell) / phase(cell, "compute") / 1e6
        # Grey input: the bench's grey-to-RGB ratio where it measures both, else the same bytes per second.
        grey_ratio = rows[op + "/gray"] / rows[op] if op + "/gray" in rows else 3.0
        filters[op] = {"rgb_Bps": mps * 1e6 * 3, "gray_Bps": mps * grey_ratio * 1e6,
                       "halo_rows": HALO_ROWS[op], "output_channels": OUTPUT_CHANNELS[op],
                       "source": f"bandsaw's compute phase, one process, 16 MP RGB PPM ({cell}, median of "
                                 f"{len(cells[cell]['samples'])}): {mps:.1f} MP/s; bandsaw-bench --filter {op} "
                                 f"(4000x4000, one core, load1 {cal['kernels']['load1']:.2f}): {rows[op]:.1f} MP/s"
                                 + (f", grey {rows[op + '/gray']:.1f} MP/s (the grey rate keeps that ratio)"
                                    if op + "/gray" in rows else "; grey: the same bytes per second")}

    big = "two_sobel_ppm_64mp"
    rank1 = (cells[big]["height"] // 2) * cells[big]["width"] * cells[big]["channels"]
    shm_bw = rank1 / phase(big, "scatter")
    small = "two_sobel_ppm_small"
    # A small message costs about 10 us, or a whole scheduler time slice (8-25 ms) when another
    # process holds the core: the halo of the tiny run is bimodal on a busy machine, so the
    # idle machine's cost is the fastest sample, not the median.
    shm = {"bandwidth_Bps": shm_bw, "message_s": min(x["max_ms"]["halo"] for x in cells[small]["samples"]) / 2000,
           "source": f"mpirun -np 2 on one machine: {big} scatter (rank 1's 96 MiB over the median scatter phase); "
                     f"message cost: half the fastest halo phase of {small} (two 768-byte messages)"}
    def cell(link, image, out, ranks):
        for c in links["cells"]:
            if (c["link"], c["image"], c["output"], c["ranks"]) == (link, image, out, ranks):
                return c
        raise KeyError((link, image, out, ranks))

    stack, halos, buffered = [], [], []
    for image, out in [("16mp-rgb", "pgm"), ("16mp-rgb", "png"), ("64mp-grey", "pgm")]:
        c = cell("unshaped", image, out, 2)
        rate = (c["height"] // 2) * c["width"] * c["channels"] / (c["median"]["max_ms"]["scatter"] / 1000)
        stack.append(rate)
        halos += [x["max_ms"]["halo"] / 2000 for x in c["samples"]]
        # Rank 0's scatter returns once its last bytes are in the socket buffer; the rest is
        # still on its way when it starts the halo exchange, so its halo phase holds the tail.
        buffered.append(c["median"]["max_ms"]["halo"] / 1000 * rate)
    tcp = {"emulator_stack_Bps": statistics.median(stack), "message_s": min(halos),
           "send_buffer_bytes": statistics.median(buffered),
           "payload_efficiency": 1448 / 1514, "eager_limit_bytes": 65536,
           "source": "links.json 'unshaped' cells (2 ranks on 2 namespace hosts, bare veth): rank 1's band over "
                     "the median scatter phase (median of the three images/outputs) is this machine's TCP ceiling; "
                     "half the fastest halo phase the per-message cost; the median halo phase times that rate the "
                     "bytes still buffered when rank 0's scatter returns. Payload efficiency: 1448 TCP payload "
                     "bytes per 1514-byte frame (MTU 1500, timestamps); eager limit: ompi_info btl_tcp_eager_limit"}

    launch_local = cells[small]["median"]["wall_ms"] - cells[small]["median"]["total_ms"]
    singleton = cells["one_sobel_ppm_small"]["median"]["wall_ms"] - cells["one_sobel_ppm_small"]["median"]["total_ms"]
    doubling = []
    for c2 in links["cells"]:
        if c2["ranks"] == 2 and c2["hosts"] == 2:
            c4 = cell(c2["link"], c2["image"], c2["output"], 4)
            d2 = c2["median"]["wall_ms"] - c2["median"]["total_ms"]
            d4 = c4["median"]["wall_ms"] - c4["median"]["total_ms"]
            doubling += [(d4 - d2) / 1000, d2 / 1000 - launch_local / 1000]
    launch = {"singleton_s": singleton / 1000, "mpirun_local_s": launch_local / 1000,
              "per_host_doubling_s": max(0.0, statistics.median(doubling)),
              "source": "wall minus bandsaw's total: one process and mpirun -np 2 on a 256x256 image (calibration); "
                        "per doubling of the hosts (Open MPI's rsh launcher spawns its daemons as a tree): the "
                        "median over links.json cells of (2 hosts - local) and (4 hosts - 2 hosts); namespace hosts "
                        "need no ssh, so a real cluster pays more"}

    params = {
        "about": "issue-16 cost model parameters, fitted by scripts/fit_model.py; rates in bytes per second, times "
                 "in seconds. Read by scripts/predict.py.",
        "measured": {"calibration": f"{args.calibration} ({cal['started']}, git {cal['git_head']}, load1 "
                                    f"{cal['load_start'][0]:.2f} at start, {cal['load_end'][0]:.2f} at end)",
                     "links": f"{args.links} ({links['started']}, git {links['git_head']})"},
        "cpu": cpu, "cpu_source": src["cpu"], "filters": filters, "shared_memory": shm, "tcp": tcp,
        "links": {"1gbit": {"rate_bps": 1e9, "delay_ms": 0.1}, "10gbit": {"rate_bps": 1e10, "delay_ms": 0.05},
                  "100mbit": {"rate_bps": 1e8, "delay_ms": 1.0},
                  "source": "the issue's link cases (nominal, not measured)"},
        "sync": {"before_scatter": 2, "after_scatter": 6,
                 "source": "SPMDRunner.process: agree(read) and the header broadcast before the scatter; agree after "
                           "scatter, compute, encode, gather, write and the rename after it (decode's own agree is "
                           "booked to the decode phase)"},
        "launch": launch,
    }
    with open(args.output, "w") as f:
        json.dump(params, f, indent=1, sort_keys=True)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
