#!/usr/bin/env python3
"""JPEG in, JPEG out: bandsaw (1 process, 2 ranks) against vips and OpenCV (issue 24).

    scripts/bench.sh --jpeg [options]     # venv, release build, then this script
    python3 scripts/bench_jpeg.py --sizes 16 --runs 3

Inputs: the photo-like test images of scripts/bench.py (16 and 64 MP), saved by Pillow at
quality 90 twice: without restart markers (bandsaw decodes them by skipping, "jpeg-skip") and
with one after every MCU row, as phones write them ("jpeg-restart"). Cases sobel and
gaussian:sigma=8, JPEG out at quality 90. Each cell runs --runs times (median, min, max):
the whole command's wall time (launch to exit), bandsaw's read->write time from its JSON
report (`total_ms`, max over ranks) and each rank's peak RSS (/usr/bin/time -f %M). The 2-rank
output must be byte-identical to the 1-process one. Peers in the same run: `vips sobel` /
`vips gaussblur` with VIPS_CONCURRENCY=1 and 2, and one OpenCV process (imread, the filter as
bench.py's OpenCV case, imwrite quality 90).

Writes bench-results/jpeg.json and jpeg.md.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import common, images, machine, peers  # noqa: E402  (the image builder, the idle wait, the OpenCV case)

PHASES = ["read", "broadcast", "scatter", "decode", "halo", "compute", "encode", "gather", "write"]
CASES = {"sobel": "sobel", "gaussian": "gaussian:sigma=8"}
VIPS = {"sobel": ["sobel"], "gaussian": ["gaussblur"]}
VIPS_ARGS = {"sobel": [], "gaussian": ["8"]}


def make_jpegs(mp, tmp):
    """The size's photo as Pillow's JPEG without and with a restart marker every MCU row."""
    from PIL import Image
    png = images.make_image(mp, tmp)
    paths = {"no restart (Pillow)": png[:-4] + ".q90.jpg", "restart every MCU row": png[:-4] + ".q90-rst.jpg"}
    image = None
    for label, path in paths.items():
        if not os.path.exists(path):
            image = image or Image.open(png)
            extra = {"restart_marker_rows": 1} if "every" in label else {}
            image.save(path + ".part", "JPEG", quality=90, **extra)
            os.replace(path + ".part", path)
    return paths


def timed(cmd, env, rss_prefix=None):
    """Runs cmd; returns its wall time, and each rank's peak RSS (MiB) when rss_prefix is set."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
    peaks = []
    if rss_prefix:
        directory, base = os.path.split(rss_prefix)
        for name in sorted(f for f in os.listdir(directory) if f.startswith(base + ".")):
            text = open(os.path.join(directory, name)).read().split()
            peaks.append(int(text[-1]) / 1024 if text else None)
            os.remove(os.path.join(directory, name))
    return wall, peaks, p.stdout


def median(values):
    return statistics.median(values) if values else None


def spread(values):
    return {"median": median(values), "min": min(values), "max": max(values)} if values else None


def run_bandsaw(args, env, wrapper, image, case, ranks, out, runs):
    report = out + ".report.json"
    cmd = [wrapper, args.bandsaw, image, "-o", out, "--op", CASES[case], "-q", "--report", report]
    if ranks:
        cmd = ["mpirun", "-q", "--bind-to", "none", "-x", "BENCH_MEM", "-np", str(ranks)] + cmd
    walls, totals, rank0, decode, phases = [], [], [], None, []
    for _ in range(runs):
        wall, peaks, _ = timed(cmd, env, env["BENCH_MEM"])
        rep = json.load(open(report))["images"][0]
        walls.append(wall)
        totals.append(rep["phases"]["total_ms"])
        phases.append({k: rep["phases"][k]["max_ms"] for k in PHASES})
        rank0.append(peaks[0] if peaks else None)
        decode = rep["decode"]
    return {"tool": "bandsaw", "ranks": ranks, "wall_s": spread(walls), "read_write_ms": spread(totals),
            "phases_max_ms": {k: median([p[k] for p in phases]) for k in PHASES},
            "rank0_peak_rss_mib": median([r for r in rank0 if r]), "decode": decode}


def run_vips(env, image, case, out, threads, runs):
    cmd = ["vips"] + VIPS[case] + [image, out + "[Q=90]"] + VIPS_ARGS[case]
    e = dict(env, VIPS_CONCURRENCY=str(threads))
    walls = [timed(cmd, e)[0] for _ in range(runs)]
    return {"tool": f"vips {threads} thread{'s' if threads > 1 else ''}", "wall_s": spread(walls)}


def child_opencv(argv):
    """`bench_jpeg.py _opencv CASE IN OUT`: imread + filter + imwrite as one OpenCV script."""
    case, src, dst = argv
    cv2 = peers._cv()
    t0 = time.perf_counter()
    image = cv2.imread(src, cv2.IMREAD_COLOR)
    result = peers.opencv_filter(case, image)
    cv2.imwrite(dst, result, [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(json.dumps({"inside_ms": (time.perf_counter() - t0) * 1000}))


def run_opencv(python, env, image, case, out, runs):
    cmd = [python, os.path.abspath(__file__), "_opencv", case, image, out]
    walls, inside = [], []
    for _ in range(runs):
        wall, _, stdout = timed(cmd, env)
        walls.append(wall)
        inside.append(json.loads(stdout.strip().splitlines()[-1])["inside_ms"])
    return {"tool": "OpenCV (1 process)", "wall_s": spread(walls), "read_write_ms": spread(inside)}


def write_markdown(results, path):
    lines = ["# JPEG in, JPEG out: bandsaw against vips and OpenCV", "",
             f"Commit {results['git_head']}, {results['started']}; load before: {results['uptime_before']}; "
             f"after: {results['uptime_after']}. Medians of {results['runs']} runs (64 MP: {results['runs_64']}).",
             "", "| size | input | case | tool | decode | whole command s | read->write ms | rank 0 peak MiB |",
             "|---|---|---|---|---|---|---|---|"]
    for c in results["cells"]:
        tool = c["tool"]
        if tool == "bandsaw":
            tool += f" {c['ranks']} ranks" if c["ranks"] else " 1 process"
        rw = c.get("read_write_ms")
        rw_text = f"{rw['median']:.0f}" if rw else ""
        rss = c.get("rank0_peak_rss_mib")
        rss_text = f"{rss:.0f}" if rss else ""
        lines.append(f"| {c['size_mp']} MP | {c['input']} | {c['case']} | {tool} | {c.get('decode', '')} | "
                     f"{c['wall_s']['median']:.3f} | {rw_text} | {rss_text} |")
    lines += ["", "## Ratios (2 ranks over 1 process; memory: rank 0 of 2 over 1 process)", "",
              "| size | input | case | read->write | whole command | vs vips 2 threads (whole) | rank 0 memory | identical |",
              "|---|---|---|---|---|---|---|---|"]
    for r in results["ratios"]:
        lines.append(f"| {r['size_mp']} MP | {r['input']} | {r['case']} | {r['read_write_speedup']:.2f}x | "
                     f"{r['whole_speedup']:.2f}x | {r['vs_vips2']:.2f}x | {r['rank0_memory_ratio']:.0%} | {r['identical']} |")
    open(path, "w").write("\n".join(lines) + "\n")


def main(argv):
    if argv and argv[0] == "_opencv":
        return child_opencv(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="16,64", help="megapixels, comma separated (16, 64)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--runs-64", type=int, default=3)
    ap.add_argument("--cases", default="sobel,gaussian")
    ap.add_argument("--wait-idle", type=int, default=300, help="seconds to wait for an idle machine (0: don't)")
    ap.add_argument("--bandsaw", default=os.path.join(common.ROOT, ".build-bench", "release", "bandsaw"))
    ap.add_argument("--out", default=os.path.join(common.ROOT, "bench-results"))
    args = ap.parse_args(argv)
    for tool in ("mpirun", "vips"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found (vips: apt-get install libvips-tools)")
    tmp = os.path.join(args.out, "tmp")
    os.makedirs(tmp, exist_ok=True)
    wrapper = os.path.join(tmp, "memwrap.sh")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\nexec /usr/bin/time -f %M -o "$BENCH_MEM.${OMPI_COMM_WORLD_RANK:-0}" "$@"\n')
    os.chmod(wrapper, 0o755)
    env = dict(os.environ, **common.MPI_ENV, BENCH_MEM=os.path.join(tmp, "jpegmem"))
    if args.wait_idle:
        machine.wait_until_idle(args.wait_idle)
    results = {"git_head": machine.sh(f"git -C {common.ROOT} rev-parse --short HEAD"), "machine": machine.machine_info(),
               "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "uptime_before": machine.sh("uptime"),
               "runs": args.runs, "runs_64": args.runs_64, "cells": [], "ratios": []}
    for mp in [int(s) for s in args.sizes.split(",")]:
        runs = args.runs_64 if mp >= 64 else args.runs
        for label, image in make_jpegs(mp, tmp).items():
            for case in args.cases.split(","):
                common.log(f"{mp} MP, {label}, {case}")
                cells = {}
                outs = {}
                for ranks in (0, 2):
                    outs[ranks] = os.path.join(tmp, f"jpeg-{mp}-{case}-{ranks}.jpg")
                    cells[ranks] = run_bandsaw(args, env, wrapper, image, case, ranks, outs[ranks], runs)
                peers = [run_vips(env, image, case, os.path.join(tmp, f"vips-{case}.jpg"), t, runs) for t in (1, 2)]
                peers.append(run_opencv(sys.executable, env, image, case, os.path.join(tmp, f"cv-{case}.jpg"), runs))
                for cell in list(cells.values()) + peers:
                    cell.update(size_mp=mp, input=label, case=case)
                    results["cells"].append(cell)
                one, two = cells[0], cells[2]
                results["ratios"].append({
                    "size_mp": mp, "input": label, "case": case, "decode": two["decode"],
                    "read_write_speedup": one["read_write_ms"]["median"] / two["read_write_ms"]["median"],
                    "whole_speedup": one["wall_s"]["median"] / two["wall_s"]["median"],
                    "vs_vips2": peers[1]["wall_s"]["median"] / two["wall_s"]["median"],
                    "rank0_memory_ratio": two["rank0_peak_rss_mib"] / one["rank0_peak_rss_mib"],
                    "identical": open(outs[0], "rb").read() == open(outs[2], "rb").read()})
                json.dump(results, open(os.path.join(args.out, "jpeg.json"), "w"), indent=1)
    results["uptime_after"] = machine.sh("uptime")
    json.dump(results, open(os.path.join(args.out, "jpeg.json"), "w"), indent=1)
    write_markdown(results, os.path.join(args.out, "jpeg.md"))
    print(open(os.path.join(args.out, "jpeg.md")).read())


if __name__ == "__main__":
    main(sys.argv[1:])
