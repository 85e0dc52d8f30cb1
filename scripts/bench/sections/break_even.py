"""Break-even: sobel at --break-even-sizes, 1 process against 1 and 2 ranks, after the sizes."""
from ..common import SIDES, size_label, spread
from ..images import make_image


# The results.json list this section fills.
KEY = 'break_even'


def after_sizes(run):
    if run.args.no_break_even:
        return
    be_sizes = [float(s) if "." in s else int(s) for s in run.args.break_even_sizes.split(",")]
    if run.args.quick:
        be_sizes = [s for s in be_sizes if s <= 4]
    for mp in be_sizes:
        run.log(f"break-even sobel {size_label(mp)}")
        image = make_image(mp, run.bench.tmp)
        row = {"size_mp": mp, "side": SIDES[mp]}
        for r in (0, 1, 2):
            cell, _ = run.bench.bandsaw(image, "sobel", r, run.runs, tag="-be")
            row[f"ranks{r}" if r else "single"] = {"wall_s": cell["wall_s"], "total_ms": cell["total_ms"],
                                                   "phases_max_ms": cell["phases_max_ms"]}
        run.results["break_even"].append(row)
    run.save()


def break_even(rows, key):
    """The smallest size from which on 2 ranks beat 1 process at every larger size (None if never)."""
    found = None
    for b in sorted(rows, key=lambda b: b["size_mp"], reverse=True):
        if b["ranks2"][key]["median"] < b["single"][key]["median"]:
            found = b["size_mp"]
        else:
            break
    return found


def markdown(res):
    L = []
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
    return L
