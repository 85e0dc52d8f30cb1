"""What every part of the benchmark shares: paths, the cases and sizes, and small helpers."""
import json
import os
import statistics
import sys

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(SCRIPTS)
PHOTOS = os.path.join(ROOT, "Tests", "Fixtures", "photos")
# The entry point: child processes (the OpenCV script, the Dask run) are started through it.
ENTRY = os.path.join(SCRIPTS, "bench.py")
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


def config_name(ranks):
    return "1 process" if ranks == 0 else f"mpirun -np {ranks}"


def stats(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt_s(s):
    return f"{s:.3f}" if s < 10 else f"{s:.2f}"


def spread(st):
    return f"{fmt_s(st['median'])} ({fmt_s(st['min'])}–{fmt_s(st['max'])})"


def find(cells, case, mp, ranks):
    return next((c for c in cells if c["case"] == case and c["size_mp"] == mp and c["ranks"] == ranks), None)


def middle_size(sizes):
    """The size the one-size sections measure at: 16 MP when it is measured, else the middle one."""
    return 16 if 16 in sizes else sorted(sizes)[len(sizes) // 2]


def save(results, out):
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
