#!/usr/bin/env python3
"""The service benchmark (scripts/bench.sh --serve): a warm `bandsaw serve` against a command per image.

For 1, 16 and 64 MP, JPEG and PNG in and out, sobel: the whole client round trip (curl
uploading the file and writing the answer) against a one-process `bandsaw` command and against
`mpirun -np 2 bandsaw` per image; the answer must be byte-identical to the 2-rank command's.
Then 8 concurrent clients sending 2 MP JPEGs (images per second, against one process given the
same images as a folder), and the idle service's CPU over 10 s, every process of it together.
Medians, side by side in one run; `uptime` first. Writes bench-results/serve.md and serve.json.
"""
import argparse
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_pml="ob1")
MPIRUN = ["mpirun", "-q", "--bind-to", "none", "-np", "2"]


def photo_like(megapixels, seed):
    """A smooth RGB scene with texture and noise (compresses like a photo, not like flat colour)."""
    side = int((megapixels * 1e6) ** 0.5)
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    base = 128 + 50 * np.sin(x / (31 + seed)) * np.cos(y / 47) + 30 * np.sin((x + y) / 200)
    rgb = np.stack([base, base * 0.8 + 0.2 * (x % 97), base * 0.7 + 0.3 * (y % 113)], -1)
    rgb += rng.normal(0, 12, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def timed(argv, **kw):
    start = time.perf_counter()
    subprocess.run(argv, check=True, env=ENV, stdout=subprocess.DEVNULL, **kw)
    return time.perf_counter() - start


def median_of(runs, fn):
    return statistics.median(fn() for _ in range(runs))


class Service:
    def __init__(self, bandsaw):
        self.process = subprocess.Popen(MPIRUN + [bandsaw, "serve", "--port", "0", "--max-upload-bytes", str(1 << 30),
                                                  "--request-timeout", "600"],
                                        env=ENV, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not match:
            self.process.kill()
            sys.exit(f"error: the service did not start: {line!r}")
        self.url = f"http://127.0.0.1:{match.group(1)}"

    def pids(self):
        children = open(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read().split()
        return [self.process.pid] + [int(c) for c in children]

    def stop(self):
        self.process.kill()
        for pid in self.pids()[1:]:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        self.process.wait()


def curl(url, src, dst, fmt):
    subprocess.run(["curl", "-sS", "--fail", "--data-binary", "@" + src, "-o", dst,
                    f"{url}/v1/process?op=sobel&format={fmt}"], check=True, env=ENV)


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bandsaw", required=True)
    parser.add_argument("--quick", action="store_true", help="1 and 16 MP only, 3 runs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-results"))
    parser.add_argument("--clients-only", action="store_true",
                        help="only the 8-client throughput (printed, nothing written): to compare two builds quickly")
    args = parser.parse_args()
    sizes = [1, 16] if args.quick else [1, 16, 64]
    runs = 3 if args.quick else args.runs
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(load, flush=True)
    work = tempfile.mkdtemp(prefix="bench-serve-", dir=os.path.join(ROOT, "bench-results", "tmp")
                            if os.path.isdir(os.path.join(ROOT, "bench-results", "tmp")) else None)
    service = Service(args.bandsaw)
    rows, failures = [], []
    try:
        for mp in [] if args.clients_only else sizes:
            picture = photo_like(mp, mp)
            for fmt in ("jpg", "png"):
                src = os.path.join(work, f"in-{mp}mp.{fmt}")
                if fmt == "jpg":
                    picture.save(src, quality=90)
                else:
                    picture.save(src, compress_level=1)
                one, two, served = (os.path.join(work, f"{tag}-{mp}.{fmt}") for tag in ("one", "two", "served"))
                r = max(1, runs if mp < 64 else min(runs, 3))
                curl(service.url, src, served, fmt)  # warm: the file in the page cache, the ranks awake
                t_one = median_of(r, lambda: timed([args.bandsaw, src, "-o", one, "-q"]))
                t_two = median_of(r, lambda: timed(MPIRUN + [args.bandsaw, src, "-o", two, "-q"]))
                t_srv = median_of(r, lambda: timed(["curl", "-sS", "--fail", "--data-binary", "@" + src, "-o", served,
                                                    f"{service.url}/v1/process?op=sobel&format={fmt}"]))
                same = open(two, "rb").read() == open(served, "rb").read()
                if not same:
                    failures.append(f"{mp} MP {fmt}: the service's bytes differ from mpirun -np 2's")
                rows.append(dict(mp=mp, format=fmt, one_process_s=t_one, mpirun_2_s=t_two, service_s=t_srv,
                                 speedup_vs_one=t_one / t_srv, speedup_vs_mpirun=t_two / t_srv, identical=same))
                print(f"{mp:3d} MP {fmt}: one process {t_one * 1000:8.1f} ms, mpirun -np 2 {t_two * 1000:8.1f} ms, "
                      f"service round trip {t_srv * 1000:8.1f} ms ({t_one / t_srv:.2f}x one process, "
                      f"{t_two / t_srv:.2f}x mpirun), identical: {same}", flush=True)
                for f in (src, one, two, served):
                    os.remove(f)

        # 8 concurrent clients, 2 MP JPEGs, against one process given the same images as a folder.
        folder = os.path.join(work, "two-mp")
        os.makedirs(folder)
        count = 16
        for i in range(count):
            photo_like(2, 100 + i).save(os.path.join(folder, f"img{i:02d}.jpg"), quality=90)
        one_out, two_out, srv_out = (os.path.join(work, d) for d in ("folder-one", "folder-two", "folder-served"))
        for d in (one_out, two_out, srv_out):
            os.makedirs(d)
        names = sorted(os.listdir(folder))

        def clients():
            start = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda n: curl(service.url, os.path.join(folder, n), os.path.join(srv_out, n), "jpg"), names))
            return time.perf_counter() - start

        clients()
        t_folder = median_of(3, lambda: timed([args.bandsaw, folder, "-o", one_out, "-q"]))
        t_clients = median_of(3, clients)
        timed(MPIRUN + [args.bandsaw, folder, "-o", two_out, "-q"])
        wrong = [n for n in names if open(os.path.join(two_out, n), "rb").read() != open(os.path.join(srv_out, n), "rb").read()]
        if wrong:
            failures.append(f"8 clients: {len(wrong)} answers differ from mpirun -np 2's: {wrong}")
        throughput = dict(images=count, one_process_folder_s=t_folder, clients_8_s=t_clients,
                          one_process_ips=count / t_folder, clients_8_ips=count / t_clients,
                          ratio=(count / t_clients) / (count / t_folder), all_right=not wrong)
        print(f"8 clients, {count} x 2 MP JPEG: {count / t_clients:.2f} images/s against {count / t_folder:.2f} for one "
              f"process over the folder ({throughput['ratio']:.2f}x); every answer right: {not wrong}", flush=True)

        if args.clients_only:
            for failure in failures:
                print("failure: " + failure)
            return 1 if failures else 0
        # Idle: past the ranks' brisk period (2 s after the last job), 10 s of every process.
        time.sleep(3)
        pids = service.pids()
        before, start = cpu_ticks(pids), time.perf_counter()
        time.sleep(10)
        used = (cpu_ticks(pids) - before) / os.sysconf("SC_CLK_TCK")
        idle = dict(seconds=time.perf_counter() - start, cpu_seconds=used,
                    percent_of_one_core=100 * used / (time.perf_counter() - start), processes=len(pids))
        print(f"idle: {idle['percent_of_one_core']:.2f}% of one core over {idle['seconds']:.1f} s "
              f"({len(pids)} processes: mpirun and the ranks)", flush=True)
    finally:
        service.stop()
        subprocess.run(["rm", "-rf", work])

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "serve.json"), "w") as f:
        json.dump(dict(commit=commit, uptime=load, rows=rows, throughput=throughput, idle=idle, failures=failures), f, indent=1)
    lines = ["# The service: a warm `bandsaw serve` (2 ranks) against a command per image", "",
             f"Commit {commit}; `{load}`; sobel, output in the input's format; medians of {runs} runs (3 at 64 MP).", "",
             "| image | one process ms | mpirun -np 2 ms | curl round trip ms | vs one process | vs mpirun | identical |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['mp']} MP {row['format']} | {row['one_process_s'] * 1000:.1f} | {row['mpirun_2_s'] * 1000:.1f} | "
                     f"{row['service_s'] * 1000:.1f} | {row['speedup_vs_one']:.2f}x | {row['speedup_vs_mpirun']:.2f}x | "
                     f"{'yes' if row['identical'] else 'NO'} |")
    lines += ["", f"8 concurrent clients, {throughput['images']} x 2 MP JPEG: {throughput['clients_8_ips']:.2f} images/s; "
              f"one process over the same folder: {throughput['one_process_ips']:.2f} images/s "
              f"({throughput['ratio']:.2f}x); every answer right: {throughput['all_right']}.", "",
              f"Idle: {idle['percent_of_one_core']:.2f}% of one core over {idle['seconds']:.1f} s, "
              f"mpirun and both ranks together."]
    if failures:
        lines += ["", "Failures:"] + [f"- {f}" for f in failures]
    with open(os.path.join(args.out, "serve.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
