#!/usr/bin/env python3
"""bandsaw against one rank, OpenCV and Dask: the entry point of the benchmark package in
scripts/bench/ (`bench.py --help` for what it measures and every option)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench.cli import entry  # noqa: E402

if __name__ == "__main__":
    entry(sys.argv[1:])
