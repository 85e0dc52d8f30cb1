"""bandsaw's own cells: one command run --runs times, timed whole and by phase, with each rank's
peak memory; and the list of phases, read from the engine's report rather than written out here."""
import json
import os
import statistics
import subprocess
import time

from .common import CASES, MPI_ENV, PHOTOS, stats
from .machine import load_and_builders


def engine_phases(bandsaw, tmp):
    """The phases bandsaw times, in the order they happen: the names are the keys of `phases` in
    its JSON report (less `total_ms`); the order is its timing table's, since the report's keys
    are sorted. One 1-process run on a fixture photo, before anything is measured."""
    out, report = os.path.join(tmp, "phases-probe.png"), os.path.join(tmp, "phases-probe.json")
    p = subprocess.run([bandsaw, os.path.join(PHOTOS, "coffee-256.png"), "-o", out, "--report", report],
                       capture_output=True, text=True, env=dict(os.environ, **MPI_ENV))
    if p.returncode != 0:
        raise SystemExit(f"{bandsaw} failed ({p.returncode}) on the phase probe:\n{p.stderr}")
    with open(report) as f:
        names = [k for k in json.load(f)["images"][0]["phases"] if k != "total_ms"]
    for path in (out, report):
        os.remove(path)
    table = [line.split()[0] for line in p.stdout.splitlines() if line.split()]
    return sorted(names, key=lambda name: table.index(name) if name in table else len(table))


def mpirun_command(ranks, command, exports=()):
    """`mpirun` for `ranks` ranks on this machine (oversubscribed only past its CPU count)."""
    return ["mpirun", "-q", "--bind-to", "none", *[a for name in exports for a in ("-x", name)], "-np", str(ranks)] + \
           (["--oversubscribe"] if ranks > os.cpu_count() else []) + command


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = os.path.join(args.out, "tmp")
        os.makedirs(self.tmp, exist_ok=True)
        self.wrapper = os.path.join(self.tmp, "memwrap.sh")
        with open(self.wrapper, "w") as f:
            f.write('#!/bin/sh\n# Peak RSS (KiB) of this rank into $BENCH_MEM.<rank>.\n'
                    'exec /usr/bin/time -f %M -o "$BENCH_MEM.${OMPI_COMM_WORLD_RANK:-0}" "$@"\n')
        os.chmod(self.wrapper, 0o755)
        self.env = dict(os.environ, **MPI_ENV)
        self.env["BENCH_MEM"] = os.path.join(self.tmp, "mem")
        self.phases = engine_phases(args.bandsaw, self.tmp)

    def bandsaw(self, image, case, ranks, runs, extra=(), tag=""):
        """One cell: `runs` runs of bandsaw (ranks=0: no mpirun). Returns the record and the output path."""
        op = CASES[case][0]
        out = os.path.join(self.tmp, f"out-{case}-{os.path.basename(image)[:-4]}-{ranks}{tag}.png")
        report = os.path.join(self.tmp, "report.json")
        cmd = [self.wrapper, self.args.bandsaw, image, "-o", out, "--op", op, "-q", "--report", report, *extra]
        if ranks > 0:
            cmd = mpirun_command(ranks, cmd, exports=("BENCH_MEM",))
        load_before = os.getloadavg()[0]
        compilers_before = load_and_builders()[1]
        samples = []
        for _ in range(runs):
            for f in os.listdir(self.tmp):
                if f.startswith("mem.") or f == "report.json":
                    os.remove(os.path.join(self.tmp, f))
            t0 = time.perf_counter()
            p = subprocess.run(cmd, env=self.env, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if p.returncode != 0:
                raise SystemExit(f"bandsaw failed ({p.returncode}): {' '.join(cmd)}\n{p.stdout}\n{p.stderr}")
            with open(report) as f:
                rep = json.load(f)["images"][0]["phases"]
            mem = {}
            for f in os.listdir(self.tmp):
                if f.startswith("mem."):
                    text = open(os.path.join(self.tmp, f)).read().split()
                    mem[int(f[4:])] = int(text[-1]) if text else None
            samples.append({"wall_s": wall, "total_ms": rep["total_ms"],
                            "phases_max_ms": {k: rep[k]["max_ms"] for k in self.phases},
                            "phases_mean_ms": {k: rep[k]["mean_ms"] for k in self.phases},
                            "peak_rss_kib": [mem.get(r) for r in sorted(mem)]})
        return {"case": case, "op": op, "ranks": ranks, "mpirun": ranks > 0,
                "oversubscribed": ranks > os.cpu_count(), "extra_args": list(extra),
                "load1_before": load_before, "swift_compilers_before": compilers_before,
                "swift_compilers_after": load_and_builders()[1], "png_bytes": os.path.getsize(out), "samples": samples,
                **summarize(samples)}, out


def summarize(samples):
    phases = list(samples[0]["phases_max_ms"])
    s = {"wall_s": stats([x["wall_s"] for x in samples]),
         "total_ms": stats([x["total_ms"] for x in samples]),
         "phases_max_ms": {k: statistics.median([x["phases_max_ms"][k] for x in samples]) for k in phases},
         "rank0_peak_rss_mib": statistics.median([x["peak_rss_kib"][0] / 1024 for x in samples if x["peak_rss_kib"]])}
    sums = [sum(v for v in x["peak_rss_kib"] if v) / 1024 for x in samples if x["peak_rss_kib"]]
    s["all_ranks_peak_rss_mib"] = statistics.median(sums) if sums else None
    return s
