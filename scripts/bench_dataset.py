#!/usr/bin/env python3
"""The dataset section of scripts/bench.sh (`scripts/bench.sh --dataset`): folders of many images.

Three folders (made once under bench-results/tmp/dataset/): 200 photo-like JPEGs of 1600x1200,
1000 PNGs of 256x256, and a mixed folder (20 JPEGs of 1600x1200 and one 64 MP JPEG). For each,
side by side in one run, whole commands timed from outside (process start to exit):

  bandsaw one process;  mpirun -np 2 bandsaw --schedule bands | images | auto;
  a Python multiprocessing pool of 2 OpenCV processes (gray, 3x3 Sobel, |gx|/2+|gy|/2, same
  format out);  a dask.bag map on a dask.distributed LocalCluster of 2 single-thread workers.

Every bandsaw output is compared byte for byte with the one-process run's. Medians of --runs
runs, interleaved (one run of each contender per round). Writes bench-results/dataset.json and
bench-results/dataset.md.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# MARK: - The OpenCV worker (the pool's and Dask's): the same sobel arithmetic bandsaw runs

def cv_sobel(pair):
    import cv2
    import numpy as np
    src, dst = pair
    image = cv2.imread(src, cv2.IMREAD_COLOR)
    if image is None:
        return False
    # One thread per process: the pool is the parallelism (as bandsaw's ranks are).
    cv2.setNumThreads(1)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gx = cv2.Sobel(gray, cv2.CV_16S, 1, 0, ksize=3, borderType=cv2.BORDER_REPLICATE)
    gy = cv2.Sobel(gray, cv2.CV_16S, 0, 1, ksize=3, borderType=cv2.BORDER_REPLICATE)
    out = np.minimum((np.abs(gx.astype(np.int32)) >> 1) + (np.abs(gy.astype(np.int32)) >> 1), 255).astype(np.uint8)
    params = [cv2.IMWRITE_JPEG_QUALITY, 90] if dst.lower().endswith((".jpg", ".jpeg")) else []
    return bool(cv2.imwrite(dst, out, params))


def pairs(folder, out):
    names = sorted(n for n in os.listdir(folder) if n.lower().endswith((".jpg", ".jpeg", ".png")))
    return [(os.path.join(folder, n), os.path.join(out, n)) for n in names]


def child_pool(folder, out, workers):
    import multiprocessing
    os.makedirs(out, exist_ok=True)
    with multiprocessing.Pool(workers) as pool:
        ok = pool.map(cv_sobel, pairs(folder, out), chunksize=4)
    sys.exit(0 if all(ok) else 3)


def child_dask(folder, out, workers):
    import logging
    import warnings
    warnings.filterwarnings("ignore")
    import dask.bag as db
    from dask.distributed import Client, LocalCluster
    os.makedirs(out, exist_ok=True)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    jobs = pairs(folder, out)
    ok = db.from_sequence(jobs, npartitions=min(len(jobs), workers * 8)).map(cv_sobel).compute()
    client.close()
    cluster.close()
    sys.exit(0 if all(ok) else 3)


# MARK: - The folders

def photo(width, height, seed):
    """A photo-like image: smooth shapes and gradients with a little noise (JPEG-typical sizes)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        fx, fy = rng.uniform(1, 6, 2) / max(width, height)
        image[..., c] = 128 + 90 * np.sin(2 * np.pi * (fx * x + fy * y) + rng.uniform(0, 6))
    for _ in range(12):
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.03, 0.2) * min(width, height)
        mask = (x - cx) ** 2 + (y - cy) ** 2 < r * r
        image[mask] = rng.uniform(0, 255, 3)
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def make_folders(tmp, quick):
    import cv2
    specs = {
        "jpeg200": [("img%03d.jpg" % i, 1600, 1200) for i in range(40 if quick else 200)],
        "png1000": [("tile%04d.png" % i, 256, 256) for i in range(200 if quick else 1000)],
        "mixed": [("img%02d.jpg" % i, 1600, 1200) for i in range(20)] + [("huge.jpg", 9248, 6936)],
    }
    folders = {}
    for name, files in specs.items():
        folder = os.path.join(tmp, name)
        stamp = os.path.join(folder, ".complete")
        if not os.path.exists(stamp) or open(stamp).read() != repr(files):
            shutil.rmtree(folder, ignore_errors=True)
            os.makedirs(folder)
            log(f"making {name}: {len(files)} images")
            cache = {}
            for i, (file, w, h) in enumerate(files):
                # A few distinct pictures per size, each file its own noise: generation stays fast.
                key = (w, h, i % 8)
                if key not in cache:
                    cache[key] = photo(w, h, seed=hash(key) & 0xFFFF)
                image = cache[key].copy()
                image[i % h, :, 0] ^= 1
                params = [cv2.IMWRITE_JPEG_QUALITY, 90] if file.endswith(".jpg") else [cv2.IMWRITE_PNG_COMPRESSION, 1]
                cv2.imwrite(os.path.join(folder, file), image, params)
            open(stamp, "w").write(repr(files))
        folders[name] = folder
    return folders


# MARK: - Running

def timed(cmd, env=None):
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()[-400:]}")
    return elapsed


def same_outputs(a, b):
    """'bytes' when every file is identical, 'pixels' when some differ only in encoding (PNG
    pieces deflated on several ranks), else 'NO'."""
    import cv2
    import numpy as np
    names = sorted(os.listdir(a))
    if names != sorted(os.listdir(b)):
        return "NO"
    verdict = "bytes"
    for n in names:
        x, y = open(os.path.join(a, n), "rb").read(), open(os.path.join(b, n), "rb").read()
        if x == y:
            continue
        px = cv2.imdecode(np.frombuffer(x, np.uint8), cv2.IMREAD_UNCHANGED)
        py = cv2.imdecode(np.frombuffer(y, np.uint8), cv2.IMREAD_UNCHANGED)
        if px is None or py is None or px.shape != py.shape or not np.array_equal(px, py):
            return "NO"
        verdict = "pixels"
    return verdict


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bandsaw", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="40 JPEGs, 200 PNGs, 3 runs")
    ap.add_argument("--folders", default="jpeg200,png1000,mixed")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--name", default="dataset", help="results go to bench-results/NAME.json and NAME.md")
    args = ap.parse_args()
    runs = 3 if args.quick and args.runs == 5 else args.runs
    tmp = os.path.join(ROOT, "bench-results", "tmp", "dataset")
    os.makedirs(tmp, exist_ok=True)
    folders = make_folders(tmp, args.quick)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    mpirun = ["mpirun", "-q", "-np", "2", "--bind-to", "none"]
    py = sys.executable
    me = os.path.abspath(__file__)
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    log(uptime)
    results = {"uptime_before": uptime, "runs": runs, "folders": {}}
    for name in args.folders.split(","):
        folder = folders[name]
        out = lambda tag: os.path.join(tmp, "out", name, tag)
        contenders = {
            "bandsaw 1 process": lambda o: [args.bandsaw, folder, "-o", o, "-q"],
            "bandsaw -np 2 bands": lambda o: mpirun + [args.bandsaw, folder, "-o", o, "-q", "--schedule", "bands"],
            "bandsaw -np 2 images": lambda o: mpirun + [args.bandsaw, folder, "-o", o, "-q", "--schedule", "images"],
            "bandsaw -np 2 auto": lambda o: mpirun + [args.bandsaw, folder, "-o", o, "-q", "--schedule", "auto"],
            "OpenCV pool of 2": lambda o: [py, me, "_pool", folder, o, "2"],
        }
        if not args.no_dask:
            contenders["Dask bag, 2 workers"] = lambda o: [py, me, "_dask", folder, o, "2"]
        times = {k: [] for k in contenders}
        for r in range(runs):
            for label, cmd in contenders.items():
                o = out(label.replace(" ", "_"))
                shutil.rmtree(o, ignore_errors=True)
                os.makedirs(o)
                times[label].append(timed(cmd(o), env))
            log(f"{name} run {r + 1}/{runs}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in times.items()))
        base = out("bandsaw_1_process")
        identical = {k: same_outputs(base, out(k.replace(" ", "_"))) for k in contenders if k.startswith("bandsaw -np")}
        medians = {k: statistics.median(v) for k, v in times.items()}
        count = len([n for n in os.listdir(folder) if not n.startswith(".")])
        results["folders"][name] = {"images": count, "seconds": times, "median_s": medians,
                                    "identical_to_one_process": identical}
    results["uptime_after"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    os.makedirs(os.path.join(ROOT, "bench-results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench-results", args.name + ".json"), "w") as f:
        json.dump(results, f, indent=1)
    lines = [f"# Dataset benchmark (sobel, 2 cores, whole commands, medians of {runs})", "",
             f"Load: before `{results['uptime_before']}`, after `{results['uptime_after']}`", ""]
    for name, cell in results["folders"].items():
        med = cell["median_s"]
        one = med["bandsaw 1 process"]
        pool = med["OpenCV pool of 2"]
        lines += [f"## {name} ({cell['images']} images)", "", "| command | median s | images/s | vs 1 process | vs OpenCV pool |",
                  "|---|---:|---:|---:|---:|"]
        for k, v in med.items():
            lines.append(f"| {k} | {v:.2f} | {cell['images'] / v:.1f} | {one / v:.2f}x | {pool / v:.2f}x |")
        lines += ["", "Outputs identical to one process: " + ", ".join(f"{k}: {v}"
                                                                       for k, v in cell["identical_to_one_process"].items()), ""]
    with open(os.path.join(ROOT, "bench-results", args.name + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_pool":
        child_pool(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) > 1 and sys.argv[1] == "_dask":
        child_dask(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
