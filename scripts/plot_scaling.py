#!/usr/bin/env python3
"""Predicted speedup curves from the issue-16 cost model: sobel, gaussian:sigma=8 and
median:size=15 at 16 MP, 256 MP and 1 GP (RGB), 1 to 512 ranks (one per host), on the three
links, with rank 0's I/O (--io root) and MPI-IO (--io mpiio), and a markdown table of where
adding ranks stops paying.

    python3 scripts/plot_scaling.py [--plot bench-results/scaling.png] [--table]

The table needs only the standard library; the plot needs matplotlib.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import predict  # noqa: E402

OPS = ["sobel", "gaussian:sigma=8", "median:size=15"]
SIZES = [16, 256, 1024]
LINKS = ["100mbit", "1gbit", "10gbit"]
RANKS = [2 ** k for k in range(10)]
# The phases on rank 0's path (the critical path), for naming the dominant one.
PATH = ["read", "scatter", "decode", "compute", "encode", "gather", "write"]


def curve(params, op, mp, link, io, input_format="ppm", output_format="ppm"):
    one = predict.predict(params, 1, mp, "loopback", op, input_format=input_format, output_format=output_format)
    points = []
    for n in RANKS:
        r = predict.predict(params, n, mp, link if n > 1 else "loopback", op, io=io if n > 1 else "root",
                            input_format=input_format, output_format=output_format)
        points.append((n, one["total"] / r["total"], r))
    return points


def dominant(r):
    ph = r["phases"]
    name = max(PATH, key=lambda k: ph[k])
    return name, ph[name] / r["total"]


def table(params):
    lines = ["| size | filter | link | I/O | best ranks | best speedup | 512 ranks | dominant phase at best | at 512 |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mp in SIZES:
        for op in OPS:
            for link in LINKS:
                for io in ["root", "mpiio"]:
                    pts = curve(params, op, mp, link, io)
                    n, s, r = max(pts, key=lambda t: t[1])
                    d, share = dominant(r)
                    d512, share512 = dominant(pts[-1][2])
                    lines.append(f"| {mp:g} MP | {op} | {link} | {io} | {n} | {s:.1f}x | {pts[-1][1]:.1f}x | "
                                 f"{d} {share:.0%} | {d512} {share512:.0%} |")
    return "\n".join(lines)


def plot(params, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(SIZES), len(OPS), figsize=(11, 9), sharex=True)
    colours = {"100mbit": "tab:red", "1gbit": "tab:blue", "10gbit": "tab:green"}
    for i, mp in enumerate(SIZES):
        for j, op in enumerate(OPS):
            ax = axes[i][j]
            for link in LINKS:
                for io, style in [("root", "-"), ("mpiio", "--")]:
                    pts = curve(params, op, mp, link, io)
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=colours[link],
                            label=f"{link}, --io {io}", linewidth=1.4)
            ax.plot(RANKS, RANKS, ":", color="grey", linewidth=0.8, label="ideal")
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            ax.set_ylim(0.02, 600)
            ax.set_title(f"{op}, {mp:g} MP RGB", fontsize=9)
            ax.grid(True, which="major", linewidth=0.3)
            if i == len(SIZES) - 1:
                ax.set_xlabel("ranks (one per host)")
            if j == 0:
                ax.set_ylabel("speedup over one process")
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.suptitle("bandsaw, predicted read-to-write speedup (scripts/predict.py; PPM in and out, launch excluded)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    print("wrote", path, os.path.getsize(path), "bytes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plot", default="bench-results/scaling.png")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--params", default=predict.DEFAULT_PARAMS)
    args = ap.parse_args()
    params = predict.load_params(args.params)
    if args.table:
        print(table(params))
    if not args.no_plot:
        plot(params, args.plot)


if __name__ == "__main__":
    main()
