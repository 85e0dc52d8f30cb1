"""speedup.png (speedup against one process, by case and size) and phases.png (where the time
goes at the middle size), from results.json."""
import os

from .common import config_name, find, middle_size, size_label


def plot(res, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    s, cells = res["settings"], res["cells"]
    cases, ranks, sizes = list(s["cases"]), s["ranks"], s["sizes_mp"]
    fig, axes = plt.subplots(2, len(cases), figsize=(4.2 * len(cases), 7), squeeze=False, sharey="row")
    for j, case in enumerate(cases):
        for row, (key, label) in enumerate((("wall", "whole command (wall)"), ("compute", "compute phase"))):
            ax = axes[row][j]
            for mp in sizes:
                base = find(cells, case, mp, 0)
                if not base:
                    continue
                ys = []
                for r in ranks:
                    c = find(cells, case, mp, r)
                    ys.append(base["wall_s"]["median"] / c["wall_s"]["median"] if key == "wall"
                              else base["phases_max_ms"]["compute"] / c["phases_max_ms"]["compute"])
                ax.plot(ranks, ys, marker="o", label=size_label(mp))
            ideal = [min(r, res["machine"]["cpus"]) for r in ranks]
            ax.plot(ranks, ideal, "k--", lw=0.8, label=f"ideal ({res['machine']['cpus']} cores)")
            ax.axhline(1, color="grey", lw=0.5)
            ax.set_xticks(ranks)
            ax.set_title(f"{s['cases'][case]}: {label}", fontsize=9)
            ax.set_xlabel("ranks (4 = oversubscribed)")
            if j == 0:
                ax.set_ylabel("speedup vs 1 process")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "speedup.png"), dpi=90)
    plt.close(fig)

    mid = middle_size(sizes)
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 4.2), squeeze=False)
    colors = plt.get_cmap("tab10")
    for j, case in enumerate(cases):
        ax = axes[0][j]
        rows = [(config_name(r).replace("mpirun -np ", "np "), find(cells, case, mid, r)) for r in [0] + ranks]
        rows += [(("1 process " if e["ranks"] == 0 else f"np {e['ranks']} ") + e["variant"].replace("--encode ", "").replace("--compression ", "c"), e)
                 for e in res.get("extra", []) if e["case"] == case and e["size_mp"] == mid]
        rows = [(n, c) for n, c in rows if c]
        bottoms = [0.0] * len(rows)
        # Each phase is its slowest rank, and a rank waiting in a collective books the wait to that
        # phase: past one rank, broadcast is the others waiting for rank 0's read (left out), and in
        # serial encoding write is the others waiting for rank 0's encode in the status broadcast.
        # So the last segment is the rest of bandsaw's total after the other phases.
        stacked = ["read", "scatter", "halo", "compute", "encode", "gather"]
        for k, phase in enumerate(stacked + ["write + rest", "launch"]):
            if phase == "launch":
                vals = [c["wall_s"]["median"] * 1000 - c["total_ms"]["median"] for _, c in rows]
            elif phase == "write + rest":
                vals = [c["total_ms"]["median"] - sum(c["phases_max_ms"][p] for p in stacked) for _, c in rows]
            else:
                vals = [c["phases_max_ms"][phase] for _, c in rows]
            vals = [max(v, 0) / 1000 for v in vals]
            ax.bar(range(len(rows)), vals, bottom=bottoms, color=colors(k), label=phase)
            bottoms = [b + v for b, v in zip(bottoms, vals)]
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([n for n, _ in rows], rotation=30, ha="right", fontsize=8)
        ax.scatter(range(len(rows)), [c["wall_s"]["median"] for _, c in rows], marker="_", s=300, color="black",
                   label="wall (measured)", zorder=3)
        ax.set_title(f"{s['cases'][case]}, {size_label(mid)}", fontsize=9)
        if j == 0:
            ax.set_ylabel("seconds (slowest rank per phase)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(os.path.join(out, "phases.png"), dpi=90)
    plt.close(fig)
