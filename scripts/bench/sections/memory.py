"""Peak memory of every cell (measured by the runner): the table only."""
from ..common import SIDES, config_name, find, size_label



def markdown(res):
    s, cells = res["settings"], res["cells"]
    sizes, ranks = s["sizes_mp"], s["ranks"]
    L = []
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
    return L
