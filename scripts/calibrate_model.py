#!/usr/bin/env python3
"""Measures the local phases the cost model is fitted to (issue 16); writes
bench-results/calibration.json. scripts/fit_model.py turns it into scripts/model-params.json.

    python3 scripts/calibrate_model.py [--bandsaw .build/release/bandsaw] [--runs 5]

Runs, each --runs times (median), recording the load average before every run:
  - bandsaw-bench: per-core kernel rates of sobel, gaussian:sigma=8, median:size=15 (4000x4000)
  - one process (no mpirun) on a 16 MP RGB PPM: sobel to PPM and to PNG (read, compute, encode,
    write rates; deflate rate and stitch); gaussian and median to PNG, 3 runs (their compute
    phases and PNG size ratios)
  - mpirun -np 2 on a 64 MP RGB PPM, sobel to PPM: the shared-memory bandwidth of Scatterv/Gatherv
  - mpirun -np 2 on a 256x256 PPM: per-message and small-collective costs, launch
  - mpirun -np 2 --io mpiio on the 16 MP PPM: each rank's read and write rates
The 2-rank 16 MP sobel PPM run the model is checked against is deliberately not among them.
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench.runner import engine_phases  # noqa: E402
from emulate_links import loadavg, make_image  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def run_cell(command, runs, phases, output=None):
    samples = []
    for _ in range(runs):
        load = loadavg()[0]
        t0 = time.monotonic()
        p = subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=600)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit(f"failed: {' '.join(command)}\n{p.stderr}")
        image = json.loads(p.stdout)["images"][0]
        samples.append({"load1": load, "wall_ms": wall * 1000, "total_ms": image["phases"]["total_ms"],
                        "max_ms": {k: image["phases"][k]["max_ms"] for k in phases},
                        "output_bytes": os.path.getsize(output) if output else None,
                        "width": image["width"], "height": image["height"], "channels": image["channels"],
                        "output_channels": image["output_channels"]})
    med = lambda key: statistics.median(s[key] for s in samples)
    return {"command": " ".join(command), "samples": samples,
            "median": {"total_ms": med("total_ms"), "wall_ms": med("wall_ms"), "load1": med("load1"),
                       "max_ms": {k: statistics.median(s["max_ms"][k] for s in samples) for k in phases}},
            "output_bytes": samples[-1]["output_bytes"], "width": samples[0]["width"], "height": samples[0]["height"],
            "channels": samples[0]["channels"], "output_channels": samples[0]["output_channels"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bandsaw", default=".build/release/bandsaw")
    ap.add_argument("--bench", default=".build/release/bandsaw-bench")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--output", default="bench-results/calibration.json")
    args = ap.parse_args()
    bandsaw = os.path.abspath(args.bandsaw)
    mpirun = ["mpirun", "-q", "--bind-to", "none", "-np", "2"]
    out = {"what": "local phases the issue-16 cost model is fitted to",
           "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
           "git_head": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
           "runs": args.runs, "load_start": loadavg(), "cells": {}}
    with tempfile.TemporaryDirectory(prefix="bandsaw-calibrate-") as work:
        img16, img64, small = (os.path.join(work, n) for n in ["16.ppm", "64.ppm", "small.ppm"])
        make_image(img16, 4096, 4096, 3, seed=16)
        make_image(img64, 8192, 8192, 3, seed=64)
        make_image(small, 256, 256, 3, seed=2)
        o_ppm, o_png = os.path.join(work, "o.ppm"), os.path.join(work, "o.png")
        phases = engine_phases(bandsaw, work)

        load = loadavg()[0]
        bench = subprocess.run([os.path.abspath(args.bench), "--json", "--reps", "5", "--filter", "sobel",
                                "--filter", "gaussian:sigma=8", "--filter", "median:size=15"],
                               capture_output=True, text=True, timeout=900)
        if bench.returncode != 0:
            sys.exit(bench.stderr)
        out["kernels"] = {"load1": load, "rows": json.loads(bench.stdout)}
        print("kernels", [(r["name"], r["megapixelsPerSecond"]) for r in out["kernels"]["rows"]], flush=True)

        cells = {
            "one_sobel_ppm": ([bandsaw, img16, "-o", o_ppm, "--op", "sobel", "--json"], o_ppm, args.runs),
            "one_sobel_png": ([bandsaw, img16, "-o", o_png, "--op", "sobel", "--json"], o_png, args.runs),
            "one_gaussian_png": ([bandsaw, img16, "-o", o_png, "--op", "gaussian:sigma=8", "--json"], o_png, 3),
            "one_median_png": ([bandsaw, img16, "-o", o_png, "--op", "median:size=15", "--json"], o_png, 3),
            "two_sobel_ppm_64mp": (mpirun + [bandsaw, img64, "-o", o_ppm, "--op", "sobel", "--json"], o_ppm, args.runs),
            "two_sobel_ppm_small": (mpirun + [bandsaw, small, "-o", o_ppm, "--op", "sobel", "--json"], o_ppm, args.runs),
            "one_sobel_ppm_small": ([bandsaw, small, "-o", o_ppm, "--op", "sobel", "--json"], o_ppm, args.runs),
            "two_sobel_ppm_mpiio": (mpirun + [bandsaw, img16, "-o", o_ppm, "--op", "sobel", "--io", "mpiio", "--json"],
                                    o_ppm, args.runs),
        }
        for name, (command, output, runs) in cells.items():
            out["cells"][name] = run_cell(command, runs, phases, output)
            m = out["cells"][name]["median"]
            print(f"{name:22} total {m['total_ms']:8.1f} wall {m['wall_ms']:8.1f} load {m['load1']:.2f} "
                  + " ".join(f"{k} {v:.1f}" for k, v in m["max_ms"].items() if v), flush=True)
    out["load_end"] = loadavg()
    with open(args.output, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
