"""OpenCV: one Python process per run doing imread + filter + imwrite (cv2.setNumThreads(1)),
timed whole and inside, at every size and case."""
from ..common import SIDES, find, fmt_s, size_label, spread
from ..peers import run_opencv


# The results.json list this section fills.
KEY = 'opencv'


def per_case(run, mp, case, image, ref, n):
    if run.args.no_opencv:
        return
    run.log(f"{case} {size_label(mp)}: OpenCV x{n}")
    rec = run_opencv(run.bench, case, image, ref, n)
    rec.update(size_mp=mp, side=SIDES[mp])
    run.results["opencv"].append(rec)


def markdown(res):
    s, cells = res["settings"], res["cells"]
    L = []
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
    return L
