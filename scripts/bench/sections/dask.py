"""Dask: LocalCluster(n_workers=N, threads_per_worker=1, processes=True) with map_overlap and
OpenCV per-chunk kernels, N from --dask-workers (--dask-workers-64 at 64 MP); not for canny."""
from ..common import SIDES, find, fmt_s, size_label, spread
from ..peers import run_dask


# The results.json list this section fills.
KEY = 'dask'


def per_case(run, mp, case, image, ref, n):
    if run.args.no_dask or case == "canny":
        return
    for w in [int(x) for x in (run.args.dask_workers_64 if mp >= 64 else run.args.dask_workers).split(",")]:
        reps = n if mp >= 64 else n + 1  # the first run is reported apart (warm-up)
        run.log(f"{case} {size_label(mp)}: Dask {w} workers x{reps}")
        rec = run_dask(run.bench, case, image, ref, w, reps)
        rec.update(size_mp=mp, side=SIDES[mp])
        run.results["dask"].append(rec)


def markdown(res):
    cells = res["cells"]
    L = []
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
    return L
