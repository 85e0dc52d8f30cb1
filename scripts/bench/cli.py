"""The command line and the measuring loop: the speedup grid (every size x case, 1 process and
each rank count), each section's measurements after it, then results.json, results.md and plots."""
import argparse
import json
import os
import time

from . import __doc__ as DESCRIPTION
from .common import (BANDSAW_DEFAULT_COMPRESSION, CASES, OPENCV_DEFAULT_COMPRESSION, ROOT, SIDES, config_name,
                     log, middle_size, save, size_label)
from .images import compare, make_image, read_pixels
from .machine import load_and_builders, machine_info, sh, wait_until_idle
from .markdown import write_markdown
from .peers import child_dask, child_opencv
from .plots import plot
from .runner import Bench
from .sections import SECTIONS


def parser():
    ap = argparse.ArgumentParser(prog="bench.py", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default=None, help="megapixels, comma separated (default 1,16,64; --quick 1,16)")
    ap.add_argument("--runs", type=int, default=None, help="runs per cell (default 5; --quick 3)")
    ap.add_argument("--runs-64", type=int, default=3, help="runs per cell at 64 MP (default 3)")
    ap.add_argument("--ranks", default="1,2,4", help="mpirun rank counts (default 1,2,4)")
    ap.add_argument("--quick", action="store_true", help="1 and 16 MP, 3 runs, break-even 0.06..4 MP")
    ap.add_argument("--cases", default="sobel,gaussian,median")
    ap.add_argument("--no-opencv", action="store_true")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-break-even", action="store_true")
    ap.add_argument("--no-decode-modes", action="store_true", help="skip the shared-decode comparison")
    ap.add_argument("--dask-workers", default="2,4")
    ap.add_argument("--dask-workers-64", default="2", help="Dask workers at 64 MP (default 2: time budget)")
    ap.add_argument("--break-even-sizes", default="0.06,0.25,1,4,16")
    ap.add_argument("--wait-idle", type=int, default=600,
                    help="seconds to wait for load < 0.5 and no Swift compiler before measuring (0: don't)")
    ap.add_argument("--bandsaw", default=os.path.join(ROOT, ".build-bench", "release", "bandsaw"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench-results"))
    ap.add_argument("--redo-busy", action="store_true",
                    help="re-measure only the bandsaw cells of an existing results.json that had a Swift compiler "
                         "running at their start or end, then rewrite the report")
    # A section with options of its own adds them here, after the common ones.
    for section in SECTIONS:
        if hasattr(section, "add_arguments"):
            section.add_arguments(ap)
    return ap


def megapixels(text):
    return [float(s) if "." in s else int(s) for s in text.split(",")]


class Run:
    """One benchmark run, as the sections see it."""

    def __init__(self, args, bench, results, sizes, runs, started):
        self.args, self.bench, self.results, self.sizes, self.runs = args, bench, results, sizes, runs
        self.mid = middle_size(sizes)
        self.started = started

    def log(self, text):
        log(f"[{time.time() - self.started:6.0f} s] {text}")

    def save(self):
        save(self.results, self.args.out)


def main(argv):
    args = parser().parse_args(argv)
    if args.redo_busy:
        return redo_busy(args)
    sizes = megapixels(args.sizes or ("1,16" if args.quick else "1,16,64"))
    runs = args.runs or (3 if args.quick else 5)
    ranks_list = [int(r) for r in args.ranks.split(",")]
    cases = args.cases.split(",")
    for mp in sizes + megapixels(args.break_even_sizes):
        if mp not in SIDES:
            raise SystemExit(f"unknown size {mp}; known: {sorted(SIDES)}")
    if not os.access(args.bandsaw, os.X_OK):
        raise SystemExit(f"{args.bandsaw}: not built (swift build -c release --product bandsaw --scratch-path .build-bench)")
    if not os.path.exists("/usr/bin/time"):
        raise SystemExit("/usr/bin/time is missing (apt-get install time)")
    args.out = os.path.abspath(args.out)
    bench = Bench(args)
    started = time.time()

    idle = wait_until_idle(args.wait_idle) if args.wait_idle > 0 else None
    if idle:
        log(f"machine {'idle' if idle['idle'] else 'NOT idle'}: load {idle['load1']:.2f}, "
            f"{idle['swift_compilers']} swift compilers (waited {idle['waited_s']} s)")
    results = {"machine": machine_info(), "idle_check": idle, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
               "settings": {"sizes_mp": sizes, "runs": runs, "runs_64": args.runs_64, "ranks": ranks_list,
                            "cases": {c: CASES[c][0] for c in cases}, "halo_rows": {c: CASES[c][1] for c in cases},
                            "bandsaw_default_compression": BANDSAW_DEFAULT_COMPRESSION,
                            "opencv_png_compression": OPENCV_DEFAULT_COMPRESSION,
                            "bandsaw": args.bandsaw, "git_head": sh(f"git -C {ROOT} rev-parse --short HEAD"),
                            "git_dirty_sources": sh(f"git -C {ROOT} status --short Sources")},
               "cells": []}
    for section in SECTIONS:
        if getattr(section, "KEY", None):
            results[section.KEY] = []
    run = Run(args, bench, results, sizes, runs, started)

    images = {}
    for mp in sorted(set(sizes)):
        images[mp] = make_image(mp, bench.tmp)

    for mp in sizes:
        n = args.runs_64 if mp >= 64 else runs
        for case in cases:
            image = images[mp]
            run.log(f"{case} {size_label(mp)}: bandsaw x{n}")
            base, ref_path = bench.bandsaw(image, case, 0, n)
            ref = read_pixels(ref_path)
            base.update(size_mp=mp, side=SIDES[mp], vs_single=compare(ref_path, ref))
            results["cells"].append(base)
            for r in ranks_list:
                cell, out = bench.bandsaw(image, case, r, n)
                cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref))
                results["cells"].append(cell)
            for section in SECTIONS:
                if hasattr(section, "per_case"):
                    section.per_case(run, mp, case, image, ref, n)
            run.save()

    for section in SECTIONS:
        if hasattr(section, "after_sizes"):
            section.after_sizes(run)

    results["elapsed_s"] = round(time.time() - started)
    results["load1_after"] = os.getloadavg()[0]
    results["swift_compilers_after"] = load_and_builders()[1]
    run.save()
    write_markdown(results, args.out)
    plot(results, args.out)
    log(f"done in {results['elapsed_s']} s: {args.out}/results.md")


def redo_busy(args):
    """Re-runs the bandsaw cells measured while a Swift compiler was running, once the machine is idle."""
    args.out = os.path.abspath(args.out)
    path = os.path.join(args.out, "results.json")
    res = json.load(open(path))
    bench = Bench(args)
    for key in ("cells", "extra"):
        for i, c in enumerate(res[key]):
            if not (c.get("swift_compilers_before") or c.get("swift_compilers_after")):
                continue
            idle = wait_until_idle(args.wait_idle) if args.wait_idle > 0 else None
            mp = c["size_mp"]
            image = make_image(mp, bench.tmp)
            n = len(c["samples"])
            log(f"redo {c['case']} {size_label(mp)} {config_name(c['ranks'])} {c.get('variant', '')} x{n}")
            ref = read_pixels(os.path.join(bench.tmp, f"out-{c['case']}-{os.path.basename(image)[:-4]}-0.png"))
            tag = {"--encode serial": "-serial", "--compression 6": "-c6"}.get(c.get("variant"), "")
            new, out = bench.bandsaw(image, c["case"], c["ranks"], n, extra=tuple(c["extra_args"]), tag=tag)
            new.update(size_mp=mp, side=c["side"], vs_single=compare(out, ref), redone=True, idle_check=idle)
            if c.get("variant"):
                new["variant"] = c["variant"]
            res[key][i] = new
            save(res, args.out)
    write_markdown(res, args.out)
    plot(res, args.out)


def entry(argv):
    """`bench.py [options]`, or one of the child modes the benchmark starts itself."""
    if argv[:1] == ["_opencv"]:
        child_opencv(argv[1:])
    elif argv[:1] == ["_dask"]:
        child_dask(argv[1:])
    else:
        main(argv)
