"""Machine probes: what the benchmark ran on, and waiting for it to be idle before measuring."""
import os
import platform
import re
import subprocess
import time

from .common import log


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:  # noqa: BLE001
        return f"unavailable ({e})"


def machine_info():
    lscpu = sh("lscpu")
    field = lambda name: next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith(name + ":")), "?")
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
    info = {
        "cpu_model": field("Model name"),
        "cpus": os.cpu_count(),
        "cores_per_socket": field("Core(s) per socket"),
        "threads_per_core": field("Thread(s) per core"),
        "sockets": field("Socket(s)"),
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "open_mpi": sh("mpirun --version 2>&1 | head -1"),
        "swift": sh("swift --version 2>&1 | head -1"),
        "python": platform.python_version(),
    }
    try:
        import cv2, numpy, dask, distributed, PIL
        info.update(opencv=cv2.__version__, numpy=numpy.__version__, dask=dask.__version__,
                    distributed=distributed.__version__, pillow=PIL.__version__)
    except ImportError as e:
        info["python_packages"] = f"missing: {e}"
    return info


def load_and_builders():
    load1 = os.getloadavg()[0]
    # pgrep without a shell: a `sh -c "pgrep -f PATTERN"` would count its own shell.
    p = subprocess.run(["pgrep", "-f", "swift-frontend|swift-build"], capture_output=True, text=True)
    return load1, len(p.stdout.split())


def cpu_busy(seconds=5.0):
    """Fraction of all CPU time not idle over `seconds`, from /proc/stat."""
    def sample():
        f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(f), f[3] + f[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(t1 - t0, 1)


def wait_until_idle(limit_s):
    """Waits up to limit_s for no Swift compiler and either load1 < 0.5 or under 5% CPU busy over
    5 s (on this VM the load average idles around 0.8 with the CPUs 99% idle). Returns the record."""
    start = time.time()
    while True:
        load1, builders = load_and_builders()
        busy = cpu_busy()
        idle = builders == 0 and (load1 < 0.5 or busy < 0.05)
        waited = time.time() - start
        if idle or waited >= limit_s:
            return {"idle": idle, "waited_s": round(waited), "load1": load1, "cpu_busy_5s": round(busy, 3),
                    "swift_compilers": builders}
        log(f"  waiting for an idle machine: load {load1:.2f}, CPU {busy:.0%} busy, {builders} swift compiler "
            f"processes ({waited:.0f}/{limit_s} s)")
        time.sleep(10)
