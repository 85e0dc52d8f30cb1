"""A three-stage pipeline (gaussian, median, sobel: 27 halo rows) with one wide halo exchange
against one exchange per stage, on 2 and 4 ranks at the middle size; both must give the same pixels."""
from ..common import SIDES, size_label, spread
from ..images import compare, read_pixels


# The results.json list this section fills.
KEY = 'halo_modes'


def per_case(run, mp, case, image, ref, n):
    if mp != run.mid or case != "gaussian":
        return
    wide_pixels = None
    for r in (2, 4):
        for mode in ("wide", "per-stage"):
            run.log(f"pipeline {size_label(mp)} {r} ranks --halo-mode {mode}")
            cell, out = run.bench.bandsaw(image, case, r, n, tag=f"-halo-{mode}-{r}", extra=(
                "--op", "median:size=5", "--op", "sobel", "--halo-mode", mode))
            if wide_pixels is None:
                wide_pixels = read_pixels(out)
            cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, wide_pixels),
                        variant=f"--halo-mode {mode}")
            run.results["halo_modes"].append(cell)


def markdown(res):
    L = []
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
    return L
