"""`--encode serial` against parallel (2 ranks, each case) and `--compression 6` against the
default 1 (sobel), at the middle size."""
from ..common import SIDES, config_name, find, size_label, spread
from ..images import compare


# The results.json list this section fills.
KEY = 'extra'


def per_case(run, mp, case, image, ref, n):
    if mp != run.mid:
        return
    cell, out = run.bench.bandsaw(image, case, 2, n, extra=("--encode", "serial"), tag="-serial")
    cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref), variant="--encode serial")
    run.results["extra"].append(cell)
    if case == "sobel":
        for r in (0, 2):
            cell, out = run.bench.bandsaw(image, case, r, n, extra=("--compression", "6"), tag="-c6")
            cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref), variant="--compression 6")
            run.results["extra"].append(cell)


def markdown(res):
    cells = res["cells"]
    extra = res.get("extra", [])
    L = []
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
    return L
