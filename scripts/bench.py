#!/usr/bin/env python3
"""bandsaw against one rank, OpenCV and Dask: the benchmark behind bench-results/.

    scripts/bench.sh                 # venv, release build, then this script with the defaults
    python3 scripts/bench.py --quick # 1 and 16 MP, fewer runs (development)
    python3 scripts/bench.py --sizes 1,16 --runs 3 --no-dask

What it does (see --help for every knob):

* Test images of about 1, 16 and 64 megapixels (1024^2, 4096^2, 8192^2, RGB PNG) built from the
  real photos in Tests/Fixtures/photos/: each 256x256 crop upscaled 4x with Pillow LANCZOS, the two
  side by side, mirror-tiled to size, plus mild Gaussian noise (sigma 3) so deflate has real work.
  Saved under bench-results/tmp/ (gitignored), rebuilt only when missing.
* Cases sobel, gaussian:sigma=8, median:size=15. bandsaw alone (no mpirun: the single-process
  baseline) and under `mpirun -np 1, 2, 4` (4 ranks on 2 cores are oversubscribed). Each cell runs
  --runs times: median, min and max of the whole command's wall time (process launch to exit, by
  Python) and of bandsaw's own total, the per-phase split from --report (max over ranks), and the
  peak RSS of every rank (/usr/bin/time -f %M around each rank). Every output is compared pixel
  for pixel with the single-process output.
* --encode serial against parallel (2 ranks, each filter, at 16 MP) and --compression 6 against
  the default 1 (sobel, 16 MP).
* OpenCV: one Python process per run doing imread + filter + imwrite (cv2.setNumThreads(1)),
  timed whole (launch to exit) and inside (imread..imwrite, compute alone), compared with bandsaw.
* Dask: LocalCluster(n_workers=N, threads_per_worker=1, processes=True), N = 2 and 4, imread in the
  client, from_array + map_overlap(depth = bandsaw's halo rows, boundary='nearest') with OpenCV
  per-chunk kernels, compute, imwrite; start-up timed apart.
* `--cases canny` (not a default): canny:low=50,high=150 the same way, without Dask; OpenCV's
  gray is cvtColor's, so its edges differ from bandsaw's (luma) in a few pixels (vs_bandsaw).
* Break-even: sobel at 0.06, 0.25, 1, 4, 16 MP, 1 process against 2 ranks.
* Shared decode (at 16 MP, each case): the photo as Pillow wrote it (no restart points: rank 0
  inflates, every rank unfilters its rows) and as bandsaw wrote it (restart points: every rank
  decodes its own segments), each as 1 process, 2 ranks with --decode whole (rank 0 decodes
  alone, the old path) and 2 ranks with the default --decode auto.

Outputs: bench-results/results.json (everything raw), results.md, speedup.png, phases.png.
"""
import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PHOTOS = os.path.join(ROOT, "Tests", "Fixtures", "photos")
PHASES = ["read", "broadcast", "scatter", "decode", "halo", "compute", "encode", "gather", "write"]
CASES = {
    # name -> (bandsaw --op, halo rows at that setting, as `bandsaw ops` computes it)
    "sobel": ("sobel", 1),
    "gaussian": ("gaussian:sigma=8", 24),
    "median": ("median:size=15", 7),
    # Not in the default --cases: `--cases canny` (no Dask: hysteresis is not a map_overlap).
    "canny": ("canny:low=50,high=150", 2),
}
# Side lengths of the square test images, by nominal megapixels.
SIDES = {0.06: 256, 0.25: 512, 1: 1024, 4: 2048, 16: 4096, 64: 8192}
BANDSAW_DEFAULT_COMPRESSION = 1   # ProcessCommand.compression's default (Sources/bandsaw/Bandsaw.swift)
OPENCV_DEFAULT_COMPRESSION = 1    # cv2.imwrite's IMWRITE_PNG_COMPRESSION default
MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def size_label(mp):
    return f"{mp:g} MP"


# MARK: - Per-chunk kernels (module level: the OpenCV script and the Dask workers use the same ones)

def _cv():
    import cv2
    cv2.setNumThreads(1)
    return cv2


def k_gray(block):
    """RGB (or BGR as read by OpenCV) to gray: what an OpenCV user writes."""
    cv2 = _cv()
    return cv2.cvtColor(block, cv2.COLOR_BGR2GRAY)


def k_sobel(gray):
    """Sobel x and y on CV_16S, float magnitude, rounded and saturated to uint8."""
    cv2 = _cv()
    import numpy as np
    gx = cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(gray, cv2.CV_16S, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    mag = cv2.magnitude(gx.astype(np.float32), gy.astype(np.float32))
    return cv2.convertScaleAbs(mag)


def k_gaussian(block):
    cv2 = _cv()
    return cv2.GaussianBlur(block, (0, 0), 8, borderType=cv2.BORDER_REPLICATE)


def k_median(block):
    cv2 = _cv()
    return cv2.medianBlur(block, 15)


def k_canny(gray):
    """cv2.Canny with bandsaw's canny defaults (L1 magnitude, aperture 3)."""
    cv2 = _cv()
    return cv2.Canny(gray, 50, 150, apertureSize=3, L2gradient=False)


def opencv_filter(case, image):
    if case == "sobel":
        return k_sobel(k_gray(image))
    if case == "canny":
        return k_canny(k_gray(image))
    if case == "gaussian":
        return k_gaussian(image)
    return k_median(image)


# MARK: - Child modes: the OpenCV script and the Dask run (each its own process)

def child_opencv(argv):
    """`bench.py _opencv CASE IN OUT`: imread + filter + imwrite, as one OpenCV user script would."""
    case, src, dst = argv
    t0 = time.perf_counter()
    cv2 = _cv()
    t1 = time.perf_counter()
    image = cv2.imread(src, cv2.IMREAD_COLOR)
    t2 = time.perf_counter()
    out = opencv_filter(case, image)
    t3 = time.perf_counter()
    ok = cv2.imwrite(dst, out)  # default IMWRITE_PNG_COMPRESSION (1)
    t4 = time.perf_counter()
    print(json.dumps({"ok": bool(ok), "import_s": t1 - t0, "read_s": t2 - t1, "compute_s": t3 - t2,
                      "write_s": t4 - t3, "script_s": t4 - t1, "threads": cv2.getNumThreads()}))


def child_dask(argv):
    """`bench.py _dask CASE IN OUT WORKERS REPS`: start a LocalCluster, then REPS times
    imread -> from_array -> map_overlap -> compute -> imwrite."""
    case, src, dst, workers, reps = argv[0], argv[1], argv[2], int(argv[3]), int(argv[4])
    import logging
    import warnings
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    cv2 = _cv()
    t1 = time.perf_counter()
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    client.wait_for_workers(workers)
    t2 = time.perf_counter()
    halo = CASES[case][1]
    runs = []
    for _ in range(reps):
        r0 = time.perf_counter()
        image = cv2.imread(src, cv2.IMREAD_COLOR)
        r1 = time.perf_counter()
        rows = math.ceil(image.shape[0] / workers)
        arr = da.from_array(image, chunks=(rows, image.shape[1], image.shape[2]))
        if case == "sobel":
            gray = arr.map_blocks(k_gray, drop_axis=2, dtype=image.dtype)
            result = gray.map_overlap(k_sobel, depth={0: halo, 1: 0}, boundary="nearest", dtype=image.dtype)
        else:
            fn = k_gaussian if case == "gaussian" else k_median
            result = arr.map_overlap(fn, depth={0: halo, 1: 0, 2: 0}, boundary="nearest", dtype=image.dtype)
        out = result.compute()
        r2 = time.perf_counter()
        cv2.imwrite(dst, out)
        r3 = time.perf_counter()
        runs.append({"read_s": r1 - r0, "compute_s": r2 - r1, "write_s": r3 - r2, "work_s": r3 - r0})
    t3 = time.perf_counter()
    client.close()
    cluster.close()
    t4 = time.perf_counter()
    print(json.dumps({"import_s": t1 - t0, "startup_s": t2 - t1, "shutdown_s": t4 - t3, "runs": runs}))


# MARK: - Machine

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"unavailable ({e})"


def machine_info():
    lscpu = sh("lscpu")
    field = lambda name: next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith(name + ":")), "?")
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    info = {
        "cpu_model": field("Model name"),
        "cpus": os.cpu_count(),
        "cores_per_socket": field("Core(s) per socket"),
        "threads_per_core": field("Thread(s) per core"),
        "sockets": field("Socket(s)"),
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "open_mpi": sh("mpirun --version 2>&1 | head -1"),
        "swift": sh("swift --version 2>&1 | head -1"),
        "python": platform.python_version(),
    }
    try:
        import cv2, numpy, dask, distributed, PIL
        info.update(opencv=cv2.__version__, numpy=numpy.__version__, dask=dask.__version__,
                    distributed=distributed.__version__, pillow=PIL.__version__)
    except ImportError as e:
        info["python_packages"] = f"missing: {e}"
    return info


def load_and_builders():
    load1 = os.getloadavg()[0]
    # pgrep without a shell: a `sh -c "pgrep -f PATTERN"` would count its own shell.
    p = subprocess.run(["pgrep", "-f", "swift-frontend|swift-build"], capture_output=True, text=True)
    return load1, len(p.stdout.split())


def cpu_busy(seconds=5.0):
    """Fraction of all CPU time not idle over `seconds`, from /proc/stat."""
    def sample():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(f), f[3] + f[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(t1 - t0, 1)


def wait_until_idle(limit_s):
    """Waits up to limit_s for no Swift compiler and either load1 < 0.5 or under 5% CPU busy over
    5 s (on this VM the load average idles around 0.8 with the CPUs 99% idle). Returns the record."""
    start = time.time()
    while True:
        load1, builders = load_and_builders()
        busy = cpu_busy()
        idle = builders == 0 and (load1 < 0.5 or busy < 0.05)
        waited = time.time() - start
        if idle or waited >= limit_s:
            return {"idle": idle, "waited_s": round(waited), "load1": load1, "cpu_busy_5s": round(busy, 3),
                    "swift_compilers": builders}
        log(f"  waiting for an idle machine: load {load1:.2f}, CPU {busy:.0%} busy, {builders} swift compiler "
            f"processes ({waited:.0f}/{limit_s} s)")
        time.sleep(10)


# MARK: - Images

def make_image(mp, tmp):
    import numpy as np
    from PIL import Image
    side = SIDES[mp]
    path = os.path.join(tmp, f"photo-{side}.png")
    if os.path.exists(path):
        return path
    log(f"  building {path}")
    tiles = []
    for name in ("astronaut-256.png", "coffee-256.png"):
        im = Image.open(os.path.join(PHOTOS, name)).convert("RGB")
        tiles.append(np.asarray(im.resize((1024, 1024), Image.LANCZOS)))
    base = np.concatenate(tiles, axis=1)                      # 1024 x 2048
    base = np.concatenate([base, base[::-1]], axis=0)          # mirrored: 2048 x 2048, no hard seams
    base = np.concatenate([base, base[:, ::-1]], axis=1)       # 2048 x 4096
    reps_y, reps_x = math.ceil(side / base.shape[0]), math.ceil(side / base.shape[1])
    if side <= 1024:
        # Small sizes: a downscale of the whole mosaic so they still show both photos.
        img = np.asarray(Image.fromarray(base[:, :2048]).resize((side, side), Image.LANCZOS))
    else:
        img = np.tile(base, (reps_y, reps_x, 1))[:side, :side]
    rng = np.random.default_rng(side)
    noisy = img.astype(np.int16) + rng.normal(0, 3, img.shape).round().astype(np.int16)
    out = np.clip(noisy, 0, 255).astype(np.uint8)
    Image.fromarray(out, "RGB").save(path + ".part.png", compress_level=1)
    os.replace(path + ".part.png", path)
    return path


def read_pixels(path):
    import numpy as np
    from PIL import Image
    return np.asarray(Image.open(path))


def compare(a_path, b_pixels):
    import numpy as np
    a = read_pixels(a_path)
    if a.shape != b_pixels.shape:
        return {"identical": False, "shape": [list(a.shape), list(b_pixels.shape)]}
    diff = np.abs(a.astype(np.int16) - b_pixels.astype(np.int16))
    return {"identical": bool(diff.max() == 0), "max_abs_diff": int(diff.max()),
            "pct_identical": round(100.0 * float((diff == 0).mean()), 3),
            "pct_within_1": round(100.0 * float((diff <= 1).mean()), 3),
            "mean_abs_diff": round(float(diff.mean()), 4)}


# MARK: - bandsaw runs

class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = os.path.join(args.out, "tmp")
        os.makedirs(self.tmp, exist_ok=True)
        self.wrapper = os.path.join(self.tmp, "memwrap.sh")
        with open(self.wrapper, "w") as f:
            f.write('#!/bin/sh\n# Peak RSS (KiB) of this rank into $BENCH_MEM.<rank>.\n'
                    'exec /usr/bin/time -f %M -o "$BENCH_MEM.${OMPI_COMM_WORLD_RANK:-0}" "$@"\n')
        os.chmod(self.wrapper, 0o755)
        self.env = dict(os.environ, **MPI_ENV)
        self.env["BENCH_MEM"] = os.path.join(self.tmp, "mem")

    def bandsaw(self, image, case, ranks, runs, extra=(), tag=""):
        """One cell: `runs` runs of bandsaw (ranks=0: no mpirun). Returns the record and the output path."""
        op = CASES[case][0]
        out = os.path.join(self.tmp, f"out-{case}-{os.path.basename(image)[:-4]}-{ranks}{tag}.png")
        report = os.path.join(self.tmp, "report.json")
        cmd = [self.wrapper, self.args.bandsaw, image, "-o", out, "--op", op, "-q", "--report", report, *extra]
        if ranks > 0:
            cmd = ["mpirun", "-q", "--bind-to", "none", "-x", "BENCH_MEM", "-np", str(ranks)] + \
                  (["--oversubscribe"] if ranks > os.cpu_count() else []) + cmd
        load_before = os.getloadavg()[0]
        compilers_before = load_and_builders()[1]
        samples = []
        for _ in range(runs):
            for f in os.listdir(self.tmp):
                if f.startswith("mem.") or f == "report.json":
                    os.remove(os.path.join(self.tmp, f))
            t0 = time.perf_counter()
            p = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                raise SystemExit(f"bandsaw failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
            with open(report) as f:
                rep = json.load(f)["images"][0]["phases"]
            mem = {}
            for f in os.listdir(self.tmp):
                if f.startswith("mem."):
                    text = open(os.path.join(self.tmp, f)).read().split()
                    mem[int(f[4:])] = int(text[-1]) if text else None
            samples.append({"wall_s": wall, "total_ms": rep["total_ms"],
                            "phases_max_ms": {k: rep[k]["max_ms"] for k in PHASES},
                            "phases_mean_ms": {k: rep[k]["mean_ms"] for k in PHASES},
                            "peak_rss_kib": [mem.get(r) for r in sorted(mem)]})
        return {"case": case, "op": op, "ranks": ranks, "mpirun": ranks > 0,
                "oversubscribed": ranks > os.cpu_count(), "extra_args": list(extra),
                "load1_before": load_before, "swift_compilers_before": compilers_before,
                "swift_compilers_after": load_and_builders()[1], "png_bytes": os.path.getsize(out), "samples": samples,
                **summarize(samples)}, out


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(samples):
    s = {"wall_s": stats([x["wall_s"] for x in samples]),
         "total_ms": stats([x["total_ms"] for x in samples]),
         "phases_max_ms": {k: statistics.median([x["phases_max_ms"][k] for x in samples]) for k in PHASES},
         "rank0_peak_rss_mib": statistics.median([x["peak_rss_kib"][0] / 1024 for x in samples if x["peak_rss_kib"]])}
    sums = [sum(v for v in x["peak_rss_kib"] if v) / 1024 for x in samples if x["peak_rss_kib"]]
    s["all_ranks_peak_rss_mib"] = statistics.median(sums) if sums else None
    return s


def run_opencv(bench, case, image, ref, runs):
    out = os.path.join(bench.tmp, f"opencv-{case}-{os.path.basename(image)}")
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, __file__, "_opencv", case, image, out], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"OpenCV script failed: {p.stderr}")
        samples.append(dict(json.loads(p.stdout), wall_s=wall))
    rec = {"case": case, "png_compression": OPENCV_DEFAULT_COMPRESSION, "threads": 1, "samples": samples,
           "wall_s": stats([x["wall_s"] for x in samples]),
           "script_s": stats([x["script_s"] for x in samples]),
           "compute_s": stats([x["compute_s"] for x in samples]),
           "read_s": statistics.median([x["read_s"] for x in samples]),
           "write_s": statistics.median([x["write_s"] for x in samples]),
           "vs_bandsaw": compare(out, ref)}
    return rec


def run_dask(bench, case, image, ref, workers, reps):
    out = os.path.join(bench.tmp, f"dask{workers}-{case}-{os.path.basename(image)}")
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, __file__, "_dask", case, image, out, str(workers), str(reps)],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"Dask run failed: {p.stderr[-3000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    work = [x["work_s"] for x in r["runs"]]
    warm = work[1:] if len(work) > 1 else work
    return {"case": case, "workers": workers, "process_wall_s": wall, **r,
            "first_work_s": work[0], "work_s": stats(warm),
            "compute_s": statistics.median([x["compute_s"] for x in (r["runs"][1:] or r["runs"])]),
            "with_startup_s": r["startup_s"] + work[0],
            "vs_bandsaw": compare(out, ref)}


# MARK: - The whole benchmark

def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    args = ap.parse_args(argv)
    if args.redo_busy:
        return redo_busy(args)
    sizes = [float(s) if "." in s else int(s) for s in (args.sizes or ("1,16" if args.quick else "1,16,64")).split(",")]
    runs = args.runs or (3 if args.quick else 5)
    ranks_list = [int(r) for r in args.ranks.split(",")]
    cases = args.cases.split(",")
    for mp in sizes + [float(s) if "." in s else int(s) for s in args.break_even_sizes.split(",")]:
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
               "cells": [], "opencv": [], "dask": [], "extra": [], "break_even": [], "halo_modes": [],
               "decode_modes": []}

    images = {}
    for mp in sorted(set(sizes)):
        images[mp] = make_image(mp, bench.tmp)
    mid = 16 if 16 in sizes else sorted(sizes)[len(sizes) // 2]

    for mp in sizes:
        n = args.runs_64 if mp >= 64 else runs
        for case in cases:
            image = images[mp]
            log(f"[{time.time() - started:6.0f} s] {case} {size_label(mp)}: bandsaw x{n}")
            base, ref_path = bench.bandsaw(image, case, 0, n)
            ref = read_pixels(ref_path)
            base.update(size_mp=mp, side=SIDES[mp], vs_single=compare(ref_path, ref))
            results["cells"].append(base)
            for r in ranks_list:
                cell, out = bench.bandsaw(image, case, r, n)
                cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref))
                results["cells"].append(cell)
            if mp == mid:
                cell, out = bench.bandsaw(image, case, 2, n, extra=("--encode", "serial"), tag="-serial")
                cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref), variant="--encode serial")
                results["extra"].append(cell)
                if case == "sobel":
                    for r in (0, 2):
                        cell, out = bench.bandsaw(image, case, r, n, extra=("--compression", "6"), tag="-c6")
                        cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref), variant="--compression 6")
                        results["extra"].append(cell)
            if mp == mid and case == "gaussian":
                # A three-stage pipeline (13 halo rows) with one wide halo exchange against one
                # exchange per stage; both must give the same pixels.
                wide_pixels = None
                for r in (2, 4):
                    for mode in ("wide", "per-stage"):
                        log(f"[{time.time() - started:6.0f} s] pipeline {size_label(mp)} {r} ranks --halo-mode {mode}")
                        cell, out = bench.bandsaw(image, case, r, n, tag=f"-halo-{mode}-{r}", extra=(
                            "--op", "median:size=5", "--op", "sobel", "--halo-mode", mode))
                        if wide_pixels is None:
                            wide_pixels = read_pixels(out)
                        cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, wide_pixels),
                                    variant=f"--halo-mode {mode}")
                        results["halo_modes"].append(cell)
            if mp == mid and not args.no_decode_modes:
                # The photo as bandsaw writes it: restart points (a pass-through pipeline).
                marked = image[:-4] + ".restart.png"
                if not os.path.exists(marked):
                    subprocess.run([args.bandsaw, image, "-o", marked, "--op", "invert", "--op", "invert", "-q"],
                                   check=True, env=bench.env)
                for source, path in (("Pillow PNG", image), ("bandsaw PNG (restart points)", marked)):
                    for r, mode in ((0, None), (2, "whole"), (2, "auto")):
                        log(f"[{time.time() - started:6.0f} s] decode {case} {source} {config_name(r)} {mode or ''}")
                        extra = ("--decode", mode) if mode else ()
                        cell, out = bench.bandsaw(path, case, r, n, extra=extra, tag=f"-dec-{r}-{mode}-{path[-11:-4]}")
                        cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref), source=source,
                                    variant=f"--decode {mode}" if mode else "1 process")
                        results["decode_modes"].append(cell)
            if not args.no_opencv:
                log(f"[{time.time() - started:6.0f} s] {case} {size_label(mp)}: OpenCV x{n}")
                rec = run_opencv(bench, case, image, ref, n)
                rec.update(size_mp=mp, side=SIDES[mp])
                results["opencv"].append(rec)
            if not args.no_dask and case != "canny":
                for w in [int(x) for x in (args.dask_workers_64 if mp >= 64 else args.dask_workers).split(",")]:
                    reps = n if mp >= 64 else n + 1  # the first run is reported apart (warm-up)
                    log(f"[{time.time() - started:6.0f} s] {case} {size_label(mp)}: Dask {w} workers x{reps}")
                    rec = run_dask(bench, case, image, ref, w, reps)
                    rec.update(size_mp=mp, side=SIDES[mp])
                    results["dask"].append(rec)
            save(results, args.out)

    if not args.no_break_even:
        be_sizes = [float(s) if "." in s else int(s) for s in args.break_even_sizes.split(",")]
        if args.quick:
            be_sizes = [s for s in be_sizes if s <= 4]
        for mp in be_sizes:
            log(f"[{time.time() - started:6.0f} s] break-even sobel {size_label(mp)}")
            image = make_image(mp, bench.tmp)
            row = {"size_mp": mp, "side": SIDES[mp]}
            for r in (0, 1, 2):
                cell, _ = bench.bandsaw(image, "sobel", r, runs, tag="-be")
                row[f"ranks{r}" if r else "single"] = {"wall_s": cell["wall_s"], "total_ms": cell["total_ms"],
                                                       "phases_max_ms": cell["phases_max_ms"]}
            results["break_even"].append(row)
        save(results, args.out)

    results["elapsed_s"] = round(time.time() - started)
    results["load1_after"] = os.getloadavg()[0]
    results["swift_compilers_after"] = load_and_builders()[1]
    save(results, args.out)
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


def save(results, out):
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


# MARK: - Report

def find(cells, case, mp, ranks):
    return next((c for c in cells if c["case"] == case and c["size_mp"] == mp and c["ranks"] == ranks), None)


def fmt_s(s):
    return f"{s:.3f}" if s < 10 else f"{s:.2f}"


def spread(st):
    return f"{fmt_s(st['median'])} ({fmt_s(st['min'])}–{fmt_s(st['max'])})"


def config_name(ranks):
    return "1 process" if ranks == 0 else f"mpirun -np {ranks}"


def write_markdown(res, out):
    m, s = res["machine"], res["settings"]
    L = ["# bandsaw benchmark results", "",
         f"Generated by `scripts/bench.sh` (scripts/bench.py) on {res['started']}, "
         f"{res.get('elapsed_s', '?')} s in all. Raw data: `results.json`.", "",
         "## Machine", "",
         f"- CPU: {m['cpu_model']}, {m['cpus']} logical CPUs ({m['sockets']} socket × {m['cores_per_socket']} cores × "
         f"{m['threads_per_core']} threads); **4 ranks are oversubscribed** (`--oversubscribe`, 2 ranks per core)",
         f"- Memory: {m['memory_gib']} GiB; kernel {m['kernel']}; {m['os']}",
         f"- {m['open_mpi']}; {m['swift']}",
         f"- Python {m['python']}, OpenCV {m.get('opencv')}, NumPy {m.get('numpy')}, Dask {m.get('dask')} "
         f"(distributed {m.get('distributed')}), Pillow {m.get('pillow')}",
         f"- bandsaw at git {s['git_head']}" + (f" plus uncommitted source changes: `{s['git_dirty_sources'].replace(chr(10), '; ')}`"
                                               if s["git_dirty_sources"] else ""),
         ]
    idle = res.get("idle_check")
    if idle:
        L.append(f"- Idle check before measuring: {'idle' if idle['idle'] else '**NOT idle**'} (load1 {idle['load1']:.2f}, "
                 f"CPU {idle.get('cpu_busy_5s', float('nan')):.0%} busy over 5 s, "
                 f"{idle['swift_compilers']} Swift compiler processes, waited {idle['waited_s']} s); "
                 f"load1 after: {res.get('load1_after', float('nan')):.2f}")
    allcells = res["cells"] + res.get("extra", [])
    busy = [c for c in allcells if c.get("swift_compilers_before") or c.get("swift_compilers_after")]
    L.append(f"- Swift compilers (other engineers' builds) seen running at the start or end of {len(busy)} of "
             f"{len(allcells)} bandsaw cells"
             + (": " + ", ".join(f"{c['case']} {size_label(c['size_mp'])} {config_name(c['ranks'])}" for c in busy)
                if busy else "") + ".")
    L += ["",
          "## Method", "",
          f"- Images: square RGB PNGs built from Tests/Fixtures/photos (LANCZOS upscale, mirror-tiling, noise σ=3): "
          + ", ".join(f"{size_label(mp)} = {SIDES[mp]}²" for mp in sorted(set(s['sizes_mp']))) + ".",
          f"- Cases: " + ", ".join(f"`{v}` (halo {s['halo_rows'][k]} rows)" for k, v in s["cases"].items()) + ".",
          f"- Each cell: {s['runs']} runs ({s['runs_64']} at 64 MP); **median (min–max)**. *wall* = whole command, "
          "process launch to exit, measured by Python (includes mpirun start-up, MPI_Init, process teardown); "
          "*total* = bandsaw's own read-to-write time on rank 0; phases are the slowest rank's, median over runs.",
          "- *1 process* = the executable without mpirun (single-process baseline). Speedup and efficiency are "
          "against it; efficiency = speedup / ranks (with 2 cores, the 4-rank ideal is 2×, not 4×).",
          f"- PNG deflate level: bandsaw default `--compression {s['bandsaw_default_compression']}`, OpenCV imwrite "
          f"default IMWRITE_PNG_COMPRESSION={s['opencv_png_compression']}: the defaults already match. One extra cell "
          "runs bandsaw at `--compression 6` (libpng's default).",
          "- Every bandsaw output is compared pixel for pixel (decoded with Pillow) with the 1-process output.", ""]

    cells = res["cells"]
    sizes = s["sizes_mp"]
    ranks = s["ranks"]
    mid = 16 if 16 in sizes else sorted(sizes)[len(sizes) // 2]
    L += key_figures(res, mid)
    L += ["## bandsaw: speedup against one process", ""]
    for case in s["cases"]:
        L += [f"### `{s['cases'][case]}`", "",
              "| size | config | wall s | bandsaw total ms | compute ms | speedup (wall) | efficiency | speedup (total) | speedup (compute) | identical |",
              "|---|---|---|---|---|---|---|---|---|---|"]
        for mp in sizes:
            base = find(cells, case, mp, 0)
            if not base:
                continue
            for r in [0] + ranks:
                c = find(cells, case, mp, r)
                sp = base["wall_s"]["median"] / c["wall_s"]["median"]
                spt = base["total_ms"]["median"] / c["total_ms"]["median"]
                spc = base["phases_max_ms"]["compute"] / max(c["phases_max_ms"]["compute"], 1e-9)
                eff = sp / max(r, 1)
                L.append(f"| {size_label(mp)} | {config_name(r)}{' (oversub.)' if c['oversubscribed'] else ''} | "
                         f"{spread(c['wall_s'])} | {spread(c['total_ms'])} | {c['phases_max_ms']['compute']:.1f} | "
                         f"{sp:.2f}× | {eff:.0%} | {spt:.2f}× | {spc:.2f}× | {'yes' if c['vs_single']['identical'] else '**NO**'} |")
        L.append("")

    L += [f"## Where the time goes ({size_label(mid)}, ms, slowest rank, median)", "",
          "*launch* = whole-command wall time minus bandsaw's total (mpirun, MPI_Init/Finalize, process start and exit). "
          "The columns are each phase's slowest rank: *broadcast* on more than one rank is mostly the other ranks "
          "waiting for rank 0's *read* (the first collective after it), and *gather* includes waiting for the slowest "
          "rank's encode; with `--encode serial`, *write* on the other ranks is waiting for rank 0's encode "
          "(the status broadcast is booked to write). So the columns of one row overlap and do not add up to "
          "*total*. phases.png stacks read, scatter, halo, compute, encode, gather, then *write + rest* = total minus "
          "those, then launch, so each bar is the measured wall time.", ""]
    extra = res.get("extra", [])
    for case in s["cases"]:
        L += [f"### `{s['cases'][case]}`", "",
              "| config | " + " | ".join(PHASES) + " | total | launch | wall |",
              "|---|" + "---|" * (len(PHASES) + 3)]
        rows = [find(cells, case, mid, r) for r in [0] + ranks] + \
               [e for e in extra if e["case"] == case and e["size_mp"] == mid]
        for c in rows:
            if not c:
                continue
            name = config_name(c["ranks"]) + (f" {c['variant']}" if c.get("variant") else "") + (" (re-run)" if c.get("redone") else "")
            launch = c["wall_s"]["median"] * 1000 - c["total_ms"]["median"]
            L.append(f"| {name} | " + " | ".join(f"{c['phases_max_ms'][p]:.1f}" for p in PHASES) +
                     f" | {c['total_ms']['median']:.1f} | {launch:.1f} | {c['wall_s']['median'] * 1000:.1f} |")
        L.append("")

    if extra:
        L += ["## `--encode serial` against `parallel`, and `--compression 6`", "",
              "| case | size | config | wall s | total ms | encode ms | gather ms | write ms | rank-0 peak MiB | PNG bytes | identical |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        shown = set()
        for e in extra:
            par = find(cells, e["case"], e["size_mp"], e["ranks"])
            pair = [(e, e["variant"])]
            if id(par) not in shown:
                shown.add(id(par))
                pair.insert(0, (par, "--encode parallel, --compression 1 (defaults)"))
            for c, name in pair:
                size = c.get("png_bytes", "")
                L.append(f"| {e['case']} | {size_label(e['size_mp'])} | {config_name(c['ranks'])}, {name} | {spread(c['wall_s'])} | "
                         f"{c['total_ms']['median']:.1f} | {c['phases_max_ms']['encode']:.1f} | {c['phases_max_ms']['gather']:.1f} | "
                         f"{c['phases_max_ms']['write']:.1f} | {c['rank0_peak_rss_mib']:.0f} | {size} | "
                         f"{'yes' if c['vs_single']['identical'] else '**NO**'} |")
        L.append("")

    if res.get("halo_modes"):
        L += ["## Multi-stage pipelines: one wide halo against an exchange per stage", "",
              "`gaussian:sigma=8 | median:size=5 | sobel` (halo 24 + 2 + 1 = 27 rows) at "
              f"{size_label(res['halo_modes'][0]['size_mp'])}. *wide*: one exchange of 27 rows, each stage computes "
              "only the rows later stages still need (some rows computed on both neighbours); *per-stage*: "
              "an exchange of each stage's own halo before it. *identical* compares with the first wide run.", "",
              "| ranks | mode | wall s | total ms | halo ms | compute ms | identical |", "|---|---|---|---|---|---|---|"]
        for c in res["halo_modes"]:
            L.append(f"| {c['ranks']} | {c['variant']} | {spread(c['wall_s'])} | {c['total_ms']['median']:.1f} | "
                     f"{c['phases_max_ms']['halo']:.1f} | {c['phases_max_ms']['compute']:.1f} | "
                     f"{'yes' if c['vs_single']['identical'] else '**NO**'} |")
        L.append("")

    if res.get("decode_modes"):
        L += ["## Shared decode: who decodes the PNG", "",
              "Each case at " + size_label(res["decode_modes"][0]["size_mp"]) + ", on the photo as Pillow wrote it "
              "(no restart points) and as bandsaw wrote it (restart points, docs/png-restart-points.md). "
              "*--decode whole*: rank 0 decodes the whole image, then scatters pixels (the path before shared "
              "decoding); *--decode auto* (the default): rank 0 inflates and every rank unfilters its own rows "
              "(Pillow's file), or every rank decodes its own segments (bandsaw's file). *read* is rank 0's file "
              "read plus whatever it decodes alone; *decode* the ranks' shared part. Speedups are against "
              "1 process on the same file.", "",
              "| case | file | config | wall s | total ms | read ms | scatter ms | decode ms | speedup (total) | speedup (wall) | identical |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
        for c in res["decode_modes"]:
            base = next(b for b in res["decode_modes"] if b["case"] == c["case"] and b["source"] == c["source"] and b["ranks"] == 0)
            ph = c["phases_max_ms"]
            L.append(f"| {c['case']} | {c['source']} | {config_name(c['ranks'])}{', ' + c['variant'] if c['ranks'] else ''} | "
                     f"{spread(c['wall_s'])} | {c['total_ms']['median']:.1f} | {ph['read']:.1f} | {ph['scatter']:.1f} | "
                     f"{ph.get('decode', 0):.1f} | {base['total_ms']['median'] / c['total_ms']['median']:.2f}x | "
                     f"{base['wall_s']['median'] / c['wall_s']['median']:.2f}x | {'yes' if c['vs_single']['identical'] else '**NO**'} |")
        L.append("")

    if res["opencv"]:
        L += ["## OpenCV (one Python process, cv2.setNumThreads(1), imread + filter + imwrite)", "",
              "*process* = launch to exit (Python start and `import cv2` included); *script* = imread to imwrite. "
              f"PNG written at OpenCV's default level {s['opencv_png_compression']} (= bandsaw's default). "
              "Sobel: cvtColor BGR2GRAY (OpenCV's luma weights, not bandsaw's 77/150/29), Sobel x/y CV_16S, "
              "magnitude, convertScaleAbs; gaussian: GaussianBlur((0,0), 8, BORDER_REPLICATE); median: medianBlur(15).", "",
              "| case | size | process s | script s | imread s | compute s | imwrite s | bandsaw 1 proc wall s | bandsaw 2 ranks wall s | bandsaw 2 ranks ÷ OpenCV process | bandsaw 1-proc compute ÷ OpenCV compute | max abs diff | identical px |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for o in res["opencv"]:
            b0, b2 = find(cells, o["case"], o["size_mp"], 0), find(cells, o["case"], o["size_mp"], 2)
            v = o["vs_bandsaw"]
            L.append(f"| {o['case']} | {size_label(o['size_mp'])} | {spread(o['wall_s'])} | {fmt_s(o['script_s']['median'])} | "
                     f"{fmt_s(o['read_s'])} | {fmt_s(o['compute_s']['median'])} | {fmt_s(o['write_s'])} | "
                     f"{fmt_s(b0['wall_s']['median'])} | {fmt_s(b2['wall_s']['median']) if b2 else '–'} | "
                     f"{(b2['wall_s']['median'] / o['wall_s']['median']) if b2 else float('nan'):.2f} | "
                     f"{b0['phases_max_ms']['compute'] / 1000 / o['compute_s']['median']:.2f} | "
                     f"{v.get('max_abs_diff', 'shape')} | {v.get('pct_identical', 0):.2f}% |")
        L.append("")

    if res["dask"]:
        L += ["## Dask (LocalCluster, processes, 1 thread per worker, map_overlap with bandsaw's halo rows)", "",
              "*work* = imread in the client, from_array, map_overlap(OpenCV kernel, boundary='nearest'), compute, "
              "imwrite — median of the warm runs (the first run, which also imports OpenCV in the workers, is "
              "reported apart); *start-up* = LocalCluster + Client until all workers are up; "
              "*with start-up* = start-up + first run; *process* = the whole Python process (imports, cluster, "
              "every run, shutdown).", "",
              "| case | size | workers | start-up s | first run s | work s | with start-up s | compute s | bandsaw same ranks wall s | bandsaw ÷ Dask work | bandsaw ÷ Dask with start-up | max abs diff | identical px |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for d in res["dask"]:
            b = find(cells, d["case"], d["size_mp"], d["workers"])
            v = d["vs_bandsaw"]
            bw = b["wall_s"]["median"] if b else float("nan")
            L.append(f"| {d['case']} | {size_label(d['size_mp'])} | {d['workers']} | {fmt_s(d['startup_s'])} | "
                     f"{fmt_s(d['first_work_s'])} | {spread(d['work_s'])} | {fmt_s(d['with_startup_s'])} | "
                     f"{fmt_s(d['compute_s'])} | {fmt_s(bw)} | {bw / d['work_s']['median']:.2f} | "
                     f"{bw / d['with_startup_s']:.2f} | {v.get('max_abs_diff', 'shape')} | {v.get('pct_identical', 0):.2f}% |")
        L.append("")

    L += ["## Peak memory (max RSS, MiB, median over runs)", "",
          "Measured with `/usr/bin/time -f %M` around each rank. Input bytes = width × height × 3.", "",
          "| case | size | input MiB | " + " | ".join(f"{config_name(r)} rank 0 / all ranks" for r in [0] + ranks) + " |",
          "|---|---|---|" + "---|" * (len(ranks) + 1)]
    for case in s["cases"]:
        for mp in sizes:
            row = []
            for r in [0] + ranks:
                c = find(cells, case, mp, r)
                row.append(f"{c['rank0_peak_rss_mib']:.0f} / {c['all_ranks_peak_rss_mib']:.0f}" if c else "–")
            L.append(f"| {case} | {size_label(mp)} | {SIDES[mp] ** 2 * 3 / 2**20:.0f} | " + " | ".join(row) + " |")
    L.append("")

    if res["break_even"]:
        L += ["## Break-even image size (sobel, 1 process against 2 ranks)", "",
              "| size | side | 1 process wall s | mpirun -np 1 wall s | mpirun -np 2 wall s | 2 ranks ÷ 1 process (wall) | "
              "1 process total ms | 2 ranks total ms | 2 ranks ÷ 1 process (total) |",
              "|---|---|---|---|---|---|---|---|---|"]
        wall_be, total_be = break_even(res["break_even"], "wall_s"), break_even(res["break_even"], "total_ms")
        for b in res["break_even"]:
            w = b["ranks2"]["wall_s"]["median"] / b["single"]["wall_s"]["median"]
            t = b["ranks2"]["total_ms"]["median"] / b["single"]["total_ms"]["median"]
            L.append(f"| {size_label(b['size_mp'])} | {b['side']}² | {spread(b['single']['wall_s'])} | "
                     f"{spread(b['ranks1']['wall_s'])} | {spread(b['ranks2']['wall_s'])} | {w:.2f} | "
                     f"{b['single']['total_ms']['median']:.1f} | {b['ranks2']['total_ms']['median']:.1f} | {t:.2f} |")
        L += ["", "Break-even = the smallest size from which on 2 ranks are faster (median) at every larger size tried.", "",
              f"Smallest size where 2 ranks beat 1 process in whole-command wall time: "
              f"**{size_label(wall_be) if wall_be is not None else 'none of those tried'}**; "
              f"in bandsaw's own total: **{size_label(total_be) if total_be is not None else 'none of those tried'}**.", ""]

    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(L))


def key_figures(res, mp):
    """The headline: 2 ranks at the middle size against 1 process, OpenCV and Dask."""
    cells, s = res["cells"], res["settings"]
    L = [f"## Key figures ({size_label(mp)} RGB, 2 ranks)", "",
         "| case | compute speedup vs 1 process | wall speedup vs 1 process | bandsaw 2 ranks wall s | "
         "OpenCV process s | vs OpenCV | Dask 2 workers work s | vs Dask (work) | Dask with start-up s | vs Dask (with start-up) | biggest phases (2 ranks, slowest rank) |",
         "|---|---|---|---|---|---|---|---|---|---|---|"]
    for case in s["cases"]:
        b0, b2 = find(cells, case, mp, 0), find(cells, case, mp, 2)
        if not (b0 and b2):
            continue
        o = next((x for x in res["opencv"] if x["case"] == case and x["size_mp"] == mp), None)
        d = next((x for x in res["dask"] if x["case"] == case and x["size_mp"] == mp and x["workers"] == 2), None)
        w2 = b2["wall_s"]["median"]
        ph = dict(b2["phases_max_ms"])
        ph.pop("broadcast")  # mostly waiting for read
        ph["launch"] = w2 * 1000 - b2["total_ms"]["median"]
        top = sorted(ph.items(), key=lambda kv: -kv[1])[:4]
        speed = lambda other: f"{other / w2:.2f}× {'faster' if other > w2 else 'slower'}"
        L.append(f"| {case} | {b0['phases_max_ms']['compute'] / b2['phases_max_ms']['compute']:.2f}× | "
                 f"{b0['wall_s']['median'] / w2:.2f}× | {fmt_s(w2)} | "
                 + (f"{fmt_s(o['wall_s']['median'])} | {speed(o['wall_s']['median'])} | " if o else "– | – | ")
                 + (f"{fmt_s(d['work_s']['median'])} | {speed(d['work_s']['median'])} | {fmt_s(d['with_startup_s'])} | "
                    f"{speed(d['with_startup_s'])} | " if d else "– | – | – | – | ")
                 + ", ".join(f"{k} {v:.0f} ms ({v / (w2 * 1000):.0%})" for k, v in top) + " |")
    L += ["", "*vs* = how much faster bandsaw on 2 ranks finishes than the other, whole command against whole "
          "process (OpenCV) or against the warm Dask run (imread to imwrite) and start-up + first run. "
          "Percentages are of bandsaw's whole-command wall time.", ""]
    return L


def break_even(rows, key):
    """The smallest size from which on 2 ranks beat 1 process at every larger size (None if never)."""
    found = None
    for b in sorted(rows, key=lambda b: b["size_mp"], reverse=True):
        if b["ranks2"][key]["median"] < b["single"][key]["median"]:
            found = b["size_mp"]
        else:
            break
    return found


def plot(res, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    s, cells = res["settings"], res["cells"]
    cases, ranks, sizes = list(s["cases"]), s["ranks"], s["sizes_mp"]
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 7), squeeze=False, sharey="row")
    for j, case in enumerate(cases):
        for row, (key, label) in enumerate((("wall", "whole command (wall)"), ("compute", "compute phase"))):
            ax = axes[row][j]
            for mp in sizes:
                base = find(cells, case, mp, 0)
                if not base:
                    continue
                ys = []
                for r in ranks:
                    c = find(cells, case, mp, r)
                    ys.append(base["wall_s"]["median"] / c["wall_s"]["median"] if key == "wall"
                              else base["phases_max_ms"]["compute"] / c["phases_max_ms"]["compute"])
                ax.plot(ranks, ys, marker="o", label=size_label(mp))
            ideal = [min(r, res["machine"]["cpus"]) for r in ranks]
            ax.plot(ranks, ideal, "k--", lw=0.8, label=f"ideal ({res['machine']['cpus']} cores)")
            ax.axhline(1, color="grey", lw=0.5)
            ax.set_xticks(ranks)
            ax.set_title(f"{s['cases'][case]}: {label}", fontsize=9)
            ax.set_xlabel("ranks (4 = oversubscribed)")
            if j == 0:
                ax.set_ylabel("speedup vs 1 process")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "speedup.png"), dpi=90)
    plt.close(fig)

    mid = 16 if 16 in sizes else sorted(sizes)[len(sizes) // 2]
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 4.2), squeeze=False)
    colors = plt.get_cmap("tab10")
    for j, case in enumerate(cases):
        ax = axes[0][j]
        rows = [(config_name(r).replace("mpirun -np ", "np "), find(cells, case, mid, r)) for r in [0] + ranks]
        rows += [(("1 process " if e["ranks"] == 0 else f"np {e['ranks']} ") + e["variant"].replace("--encode ", "").replace("--compression ", "c"), e)
                 for e in res.get("extra", []) if e["case"] == case and e["size_mp"] == mid]
        rows = [(n, c) for n, c in rows if c]
        bottoms = [0.0] * len(rows)
        # Each phase is its slowest rank, and a rank waiting in a collective books the wait to that
        # phase: past one rank, broadcast is the others waiting for rank 0's read (left out), and in
        # serial encoding write is the others waiting for rank 0's encode in the status broadcast.
        # So the last segment is the rest of bandsaw's total after the other phases.
        stacked = ["read", "scatter", "halo", "compute", "encode", "gather"]
        for k, phase in enumerate(stacked + ["write + rest", "launch"]):
            if phase == "launch":
                vals = [c["wall_s"]["median"] * 1000 - c["total_ms"]["median"] for _, c in rows]
            elif phase == "write + rest":
                vals = [c["total_ms"]["median"] - sum(c["phases_max_ms"][p] for p in stacked) for _, c in rows]
            else:
                vals = [c["phases_max_ms"][phase] for _, c in rows]
            vals = [max(v, 0) / 1000 for v in vals]
            ax.bar(range(len(rows)), vals, bottom=bottoms, color=colors(k), label=phase)
            bottoms = [b + v for b, v in zip(bottoms, vals)]
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([n for n, _ in rows], rotation=30, ha="right", fontsize=8)
        ax.scatter(range(len(rows)), [c["wall_s"]["median"] for _, c in rows], marker="_", s=300, color="black",
                   label="wall (measured)", zorder=3)
        ax.set_title(f"{s['cases'][case]}, {size_label(mid)}", fontsize=9)
        if j == 0:
            ax.set_ylabel("seconds (slowest rank per phase)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(os.path.join(out, "phases.png"), dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_opencv":
        child_opencv(sys.argv[2:])
    elif len(sys.argv) > 1 and sys.argv[1] == "_dask":
        child_dask(sys.argv[2:])
    else:
        main(sys.argv[1:])
