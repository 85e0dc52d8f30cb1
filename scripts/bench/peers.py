"""The peers bandsaw is measured against: OpenCV (one process) and Dask (a LocalCluster).

The per-chunk kernels are module level: the OpenCV script and the Dask workers use the same ones.
Each peer runs in a child process of its own, started through the entry point (`bench.py _opencv`,
`bench.py _dask`).
"""
import json
import math
import os
import statistics
import subprocess
import sys
import time

from .common import CASES, ENTRY, OPENCV_DEFAULT_COMPRESSION, SCRIPTS, stats
from .images import compare


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
    # The workers unpickle the kernels by reference to this module: let them import it.
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SCRIPTS, os.environ.get("PYTHONPATH")) if p)
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


# MARK: - Runs

def run_opencv(bench, case, image, ref, runs):
    out = os.path.join(bench.tmp, f"opencv-{case}-{os.path.basename(image)}")
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, ENTRY, "_opencv", case, image, out], capture_output=True, text=True)
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
    p = subprocess.run([sys.executable, ENTRY, "_dask", case, image, out, str(workers), str(reps)],
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
