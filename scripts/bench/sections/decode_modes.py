"""Shared decode at the middle size, each case: the photo as Pillow wrote it (no restart points:
rank 0 inflates, every rank unfilters its rows) and as bandsaw wrote it (restart points: every
rank decodes its own segments), as 1 process, 2 ranks --decode whole and 2 ranks --decode auto."""
import os
import subprocess

from ..common import SIDES, config_name, size_label, spread
from ..images import compare


# The results.json list this section fills.
KEY = 'decode_modes'


def per_case(run, mp, case, image, ref, n):
    if mp != run.mid or run.args.no_decode_modes:
        return
    # The photo as bandsaw writes it: restart points (a pass-through pipeline).
    marked = image[:-4] + ".restart.png"
    if not os.path.exists(marked):
        subprocess.run([run.args.bandsaw, image, "-o", marked, "--op", "invert", "--op", "invert", "-q"],
                       check=True, env=run.bench.env)
    for source, path in (("Pillow PNG", image), ("bandsaw PNG (restart points)", marked)):
        for r, mode in ((0, None), (2, "whole"), (2, "auto")):
            run.log(f"decode {case} {source} {config_name(r)} {mode or ''}")
            extra = ("--decode", mode) if mode else ()
            cell, out = run.bench.bandsaw(path, case, r, n, extra=extra, tag=f"-dec-{r}-{mode}-{path[-11:-4]}")
            cell.update(size_mp=mp, side=SIDES[mp], vs_single=compare(out, ref), source=source,
                        variant=f"--decode {mode}" if mode else "1 process")
            run.results["decode_modes"].append(cell)


def markdown(res):
    L = []
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
    return L
