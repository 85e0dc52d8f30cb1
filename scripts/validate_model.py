#!/usr/bin/env python3
"""Checks the cost model (scripts/predict.py, scripts/model-params.json) against the emulated-link
measurements in bench-results/links.json (issue 16).

    python3 scripts/validate_model.py [--links bench-results/links.json] [--tolerance 0.30] [--json]

For every shaped cell (1gbit, 10gbit, 100mbit; the unshaped cells were used for fitting) it
predicts the communication phases as bandsaw reports them (slowest rank) and prints the error
against the measured median:
  scatter   the linear MPI_Scatterv from rank 0
  halo      the halo exchange plus the wait for the last band of the scatter
  gather    the linear MPI_Gatherv of pixels (PGM/PPM output), or of the deflated pieces and
            rank 0's stitch (PNG output: the parallel-encode stitch)
  broadcast the other ranks' wait for rank 0's read plus the small collectives; rank 0's read is
            CPU work on an oversubscribed machine, so the measured read is put in its place
A phase passes within the tolerance, or within --floor-ms (5 ms: scheduling noise on a busy
2-core machine) of the measurement. Exits 1 when any gated phase fails. Two kinds of rows are
printed but not gated, each for a stated reason:
  - a link faster than this machine's own TCP stack between namespaces (10 Gbit/s here): the
    emulated "link" is then the 2-core VM's CPU, whose throughput varies with the load and the
    number of ranks, not a link
  - the halo phase at 2 ranks: with nothing to wait for but rank 0's last scatter bytes still in
    its socket buffer, it measures the buffer Linux autotuned (1.5-2.6 MB here, depending on the
    rate), which the model holds constant
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import predict  # noqa: E402

CHECKED = ["scatter", "halo", "gather", "broadcast"]


def compare(links, params, tolerance=0.30, floor_ms=5.0):
    rows = []
    ceiling = params["tcp"]["emulator_stack_Bps"]
    for c in links["cells"]:
        if c["link"] == "unshaped":
            continue
        ranks_per_host = -(-c["ranks"] // c["hosts"])
        pred = predict.predict(params, c["ranks"], c["width"] * c["height"] / 1e6, c["link"], c["op"],
                               channels=c["channels"], input_format="ppm",
                               output_format="png" if c["output"] == "png" else "ppm", io="root",
                               ranks_per_host=ranks_per_host, emulated=True, width=c["width"], height=c["height"])
        measured = c["median"]["max_ms"]
        phases = dict(pred["phases"])
        phases["broadcast"] = phases["broadcast"] - phases["read"] + measured["read"] / 1000
        link_Bps = params["links"][c["link"]]["rate_bps"] / 8 * params["tcp"]["payload_efficiency"]
        for name in CHECKED:
            p_ms, m_ms = phases[name] * 1000, measured[name]
            error = (p_ms - m_ms) / m_ms if m_ms > 0 else 0.0
            ok = abs(error) <= tolerance or abs(p_ms - m_ms) <= floor_ms
            why_not = None
            if link_Bps > ceiling:
                why_not = f"link faster than this machine's namespace TCP ({ceiling / 1e6:.0f} MB/s)"
            elif name == "halo" and c["ranks"] == 2:
                why_not = "2-rank halo: the drain of rank 0's autotuned socket buffer"
            rows.append({"link": c["link"], "image": c["image"], "output": c["output"], "ranks": c["ranks"],
                         "hosts": c["hosts"], "phase": name, "predicted_ms": round(p_ms, 1), "measured_ms": m_ms,
                         "error": round(error, 3), "ok": ok, "gated": why_not is None, "why_not_gated": why_not,
                         "load1": c["median"]["load1"]})
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--links", default=os.path.join(predict.HERE, "..", "bench-results", "links.json"))
    ap.add_argument("--params", default=predict.DEFAULT_PARAMS)
    ap.add_argument("--tolerance", type=float, default=0.30)
    ap.add_argument("--floor-ms", type=float, default=5.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = compare(json.load(open(args.links)), predict.load_params(args.params), args.tolerance, args.floor_ms)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"{'link':8} {'image':10} {'out':4} {'ranks':>5} {'phase':10} {'predicted':>10} {'measured':>10} {'error':>7}")
        for r in rows:
            print(f"{r['link']:8} {r['image']:10} {r['output']:4} {r['ranks']:>2}/{r['hosts']}h {r['phase']:10} "
                  f"{r['predicted_ms']:10.1f} {r['measured_ms']:10.1f} {r['error'] * 100:6.1f}%"
                  + ("" if r["ok"] else "  FAIL" if r["gated"] else f"  (not gated: {r['why_not_gated']})"))
    gated = [r for r in rows if r["gated"]]
    failed = [r for r in gated if not r["ok"]]
    print(f"gated: {len(gated) - len(failed)} of {len(gated)} phases within {args.tolerance:.0%} (or {args.floor_ms:g} ms); "
          f"all rows: {sum(r['ok'] for r in rows)} of {len(rows)}", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
