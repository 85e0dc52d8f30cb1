#!/usr/bin/env python3
"""The measurement matrix of scripts/emulate-links.sh (which sets up and tears down the hosts).

For each link case it shapes the links (the shell function given by --shape-command), then runs
bandsaw under mpirun started on host 1 across 2-4 namespace hosts, one cell per (image, output,
ranks/hosts), --runs times each, and records bandsaw's --json phases, the wall time and the load
average. Writes bench-results/links.json: every run plus each cell's medians.
"""
import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench.runner import engine_phases  # noqa: E402

# (name, width, height, channels): 16 MP RGB and 64 MP grey (a 64 MP RGB scatter would take
# 15 s a run on the 100 Mbit/s link); the model takes channels into account.
IMAGES = [("16mp-rgb", 4096, 4096, 3), ("64mp-grey", 8192, 8192, 1)]
# (ranks, hosts): mapped round-robin by node, so neighbouring ranks sit on different hosts.
LAYOUTS = [(2, 2), (4, 4), (8, 4)]


def make_image(path, width, height, channels, seed):
    """A smooth pattern with edges and mild noise (so the PNG output compresses as photos do)."""
    rng = np.random.default_rng(seed)
    y = np.arange(height, dtype=np.float32)[:, None]
    x = np.arange(width, dtype=np.float32)[None, :]
    planes = []
    for c in range(channels):
        base = 128 + 60 * np.sin(x / (97 + 13 * c)) * np.cos(y / (71 + 7 * c)) + 40 * ((x // 512 + y // 384 + c) % 2)
        planes.append(base + rng.normal(0, 3, size=(height, width)).astype(np.float32))
    pixels = np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)
    magic = b"P6" if channels == 3 else b"P5"
    with open(path, "wb") as f:
        f.write(magic + b"\n%d %d\n255\n" % (width, height))
        f.write(pixels.tobytes())


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bandsaw", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--subnet", required=True)
    ap.add_argument("--hosts", type=int, required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--shape-command", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--links", default="unshaped,1gbit,10gbit,100mbit")
    ap.add_argument("--quick", action="store_true", help="16 MP only, 2 and 4 ranks, 3 runs")
    ap.add_argument("--layouts", help="ranks x hosts, comma-separated (default 2x2,4x4,8x4)")
    ap.add_argument("--images", help="comma-separated subset of " + ",".join(i[0] for i in IMAGES))
    ap.add_argument("--no-yield", action="store_true",
                    help="let waiting ranks spin (Open MPI's default when it thinks it is not oversubscribed)")
    ap.add_argument("--output", default="bench-results/links.json")
    args = ap.parse_args()

    images, layouts, runs = IMAGES, LAYOUTS, args.runs
    if args.quick:
        images, layouts, runs = IMAGES[:1], LAYOUTS[:2], 3
    if args.layouts:
        layouts = [tuple(int(v) for v in l.split("x")) for l in args.layouts.split(",")]
    if args.images:
        images = [i for i in IMAGES if i[0] in args.images.split(",")]
    scripts = os.path.abspath(os.path.dirname(__file__))
    binary = os.path.abspath(args.bandsaw)
    phases = engine_phases(binary, args.work)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

    inputs = {}
    for name, w, h, c in images:
        path = os.path.join(args.work, f"{name}.{'ppm' if c == 3 else 'pgm'}")
        make_image(path, w, h, c, seed=16)
        inputs[name] = path
    hostfiles = {}
    for hosts in sorted({h for _, h in layouts}):
        path = os.path.join(args.work, f"hosts{hosts}")
        with open(path, "w") as f:
            for i in range(1, hosts + 1):
                f.write(f"{args.subnet}.{i} slots=4\n")
        hostfiles[hosts] = path

    h1 = f"{args.prefix}-h1"
    h1tmp = os.path.join(args.work, "h1-tmp")
    os.makedirs(h1tmp, exist_ok=True)

    def mpirun(ranks, hosts, bandsaw_args):
        inner = ["mpirun", "-q", "--hostfile", hostfiles[hosts], "-np", str(ranks), "--map-by", "node",
                 "--bind-to", "none", "--mca", "plm_rsh_agent", os.path.join(scripts, "netns-agent.sh"),
                 "--mca", "oob_tcp_if_include", f"{args.subnet}.0/24", "--mca", "btl_tcp_if_include",
                 f"{args.subnet}.0/24", "--mca", "btl", "tcp,vader,self", "-x", "BANDSAW_NETNS_MAP", "-x", "PATH"]
        # All the hosts share this machine's 2 cores: ranks waiting in MPI yield the core to the
        # ranks moving data, as Open MPI does by itself when it knows it is oversubscribed.
        inner += [] if args.no_yield else ["--mca", "mpi_yield_when_idle", "1"]
        inner += [binary] + bandsaw_args
        return ["ip", "netns", "exec", h1, "unshare", "--uts", "sh", "-c",
                f"hostname {h1}; OMPI_MCA_orte_tmpdir_base={h1tmp} exec \"$0\" \"$@\""] + inner

    started = time.time()
    result = {
        "what": "bandsaw communication phases across namespace hosts with rate-limited (tc tbf) links (issue 16)",
        "arguments": {"runs": runs, "links": args.links, "quick": args.quick, "layouts": args.layouts, "images": args.images},
        "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "git_head": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip(),
        "cpus": os.cpu_count(),
        "links": {"unshaped": {"rate_bps": None, "delay_ms": 0}, "1gbit": {"rate_bps": 1e9, "delay_ms": 0.1}, "10gbit": {"rate_bps": 1e10, "delay_ms": 0.05},
                  "100mbit": {"rate_bps": 1e8, "delay_ms": 1.0}},
        "shaping": "tc tbf rate limit on every host's eth0 and on the bridge port towards it; the delays are not emulated (kernel without netem), delay_ms is the link case's nominal figure",
        "mapping": "--map-by node, btl tcp,vader,self (ranks on one host share memory)",
        "yield_when_idle": not args.no_yield,
        "runs": runs,
        "cells": [],
    }
    for link in args.links.split(","):
        subprocess.run(shlex.split(args.shape_command) + [link], check=True)
        for name, w, h, c in images:
            outputs = ["pgm", "png"] if name == "16mp-rgb" else ["pgm"]
            for out in outputs:
                for ranks, hosts in layouts:
                    cell = {"link": link, "image": name, "width": w, "height": h, "channels": c, "output": out,
                            "ranks": ranks, "hosts": hosts, "op": "sobel", "samples": []}
                    outpath = os.path.join(args.work, f"out.{'ppm' if (out == 'pgm' and c == 3) else out}")
                    for run in range(runs):
                        load = loadavg()
                        t0 = time.monotonic()
                        p = subprocess.run(mpirun(ranks, hosts, [inputs[name], "-o", outpath, "--op", "sobel", "--json"]),
                                           capture_output=True, text=True, env=env, timeout=600)
                        wall = time.monotonic() - t0
                        if p.returncode != 0:
                            print(p.stdout, p.stderr, file=sys.stderr)
                            raise SystemExit(f"run failed: {link} {name} {out} {ranks}")
                        report = json.loads(p.stdout)
                        image = report["images"][0]
                        cell["output_channels"] = image["output_channels"]
                        cell["samples"].append({
                            "load1": load[0], "wall_ms": round(wall * 1000, 3), "total_ms": image["phases"]["total_ms"],
                            "max_ms": {k: image["phases"][k]["max_ms"] for k in phases},
                            "mean_ms": {k: image["phases"][k]["mean_ms"] for k in phases},
                        })
                        if out == "png":
                            cell["output_bytes"] = os.path.getsize(outpath)
                    s = cell["samples"]
                    cell["median"] = {
                        "total_ms": statistics.median(x["total_ms"] for x in s),
                        "wall_ms": statistics.median(x["wall_ms"] for x in s),
                        "load1": statistics.median(x["load1"] for x in s),
                        "max_ms": {k: statistics.median(x["max_ms"][k] for x in s) for k in phases},
                        "mean_ms": {k: statistics.median(x["mean_ms"][k] for x in s) for k in phases},
                    }
                    m = cell["median"]["max_ms"]
                    print(f"{link:8} {name:10} {out} {ranks}r/{hosts}h  total {cell['median']['total_ms']:9.1f}  "
                          f"scatter {m['scatter']:8.1f} halo {m['halo']:7.1f} encode {m['encode']:7.1f} "
                          f"gather {m['gather']:8.1f} bcast {m['broadcast']:6.1f}  load {cell['median']['load1']:.2f}",
                          flush=True)
                    result["cells"].append(cell)
    result["seconds"] = round(time.time() - started, 1)
    with open(args.output, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {args.output} ({result['seconds']} s)")


if __name__ == "__main__":
    main()
