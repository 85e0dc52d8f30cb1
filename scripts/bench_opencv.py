#!/usr/bin/env python3
"""OpenCV equivalents of bandsaw's filters, timed on one thread: the baseline for bandsaw-bench.

    pip install opencv-python-headless numpy
    bandsaw-bench --write-ppm /tmp/bench.ppm
    python3 scripts/bench_opencv.py /tmp/bench.ppm [--reps 7] [--json] [--op sobel --op gaussian:sigma=1.5 ...]

`bandsaw-bench --compare-opencv` runs this script itself on the same pixels and prints the
ratio per filter. Each filter is written the way an OpenCV user would write it, with
BORDER_REPLICATE to match bandsaw's border rule. Names mirror bandsaw-bench's rows:

- `NAME` starts from the RGB image, like bandsaw's row of the same name (so the gray
  filters include `cvtColor`).
- `NAME/gray` starts from a gray image already converted, like bandsaw's `/gray` rows.
- The gradient filters (sobel, prewitt, scharr) are timed as `d/dx + d/dy + cv2.magnitude`
  on CV_16S (converted to float for magnitude) and on CV_32F, and the faster is reported;
  the float magnitude is *not* converted back to 8 bits, which flatters OpenCV slightly.

Output: a table, or with --json a list of {name, spec, megapixelsPerSecond, medianMilliseconds}.
"""
import argparse
import json
import sys
import time

import cv2
import numpy as np

REPLICATE = cv2.BORDER_REPLICATE


def read_ppm(path):
    """Binary P6 with maxval 255, as bandsaw-bench writes it (RGB order)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        sys.exit(f"{path}: expected a binary 8-bit PPM (P6, maxval 255)")
    width, height = int(fields[1]), int(fields[2])
    pixels = np.frombuffer(data, dtype=np.uint8, count=width * height * 3, offset=pos + 1)
    return pixels.reshape(height, width, 3)


def gradient(kx, ky):
    """d/dx and d/dy by the given functions, then the float magnitude: the faster of 16S and 32F."""
    def on16(gray):
        gx, gy = kx(gray, cv2.CV_16S), ky(gray, cv2.CV_16S)
        return cv2.magnitude(gx.astype(np.float32), gy.astype(np.float32))

    def on32(gray):
        return cv2.magnitude(kx(gray, cv2.CV_32F), ky(gray, cv2.CV_32F))
    return [on16, on32]


PREWITT_X = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], np.float32)
EMBOSS = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32)

# name -> (takes gray input, [candidate implementations taking (image, params)])
GRADIENTS = {
    "sobel": gradient(lambda g, d: cv2.Sobel(g, d, 1, 0, ksize=3, borderType=REPLICATE),
                      lambda g, d: cv2.Sobel(g, d, 0, 1, ksize=3, borderType=REPLICATE)),
    "prewitt": gradient(lambda g, d: cv2.filter2D(g, d, PREWITT_X, borderType=REPLICATE),
                        lambda g, d: cv2.filter2D(g, d, PREWITT_X.T, borderType=REPLICATE)),
    "scharr": gradient(lambda g, d: cv2.Scharr(g, d, 1, 0, borderType=REPLICATE),
                       lambda g, d: cv2.Scharr(g, d, 0, 1, borderType=REPLICATE)),
}


def laplacian(gray, p):
    return cv2.convertScaleAbs(cv2.Laplacian(gray, cv2.CV_16S, ksize=1, borderType=REPLICATE))


def sharpen(rgb, p):
    blurred = cv2.GaussianBlur(rgb, (0, 0), p.get("sigma", 1.0), borderType=REPLICATE)
    amount = p.get("amount", 1.0)
    return cv2.addWeighted(rgb, 1 + amount, blurred, -amount, 0)


GRAY_FILTERS = {name: [lambda g, p, f=f: f(g) for f in impls] for name, impls in GRADIENTS.items()}
GRAY_FILTERS["laplacian"] = [laplacian]
GRAY_FILTERS["canny"] = [lambda g, p: cv2.Canny(g, p.get("low", 50), p.get("high", 150), apertureSize=3,
                                                  L2gradient=bool(p.get("l2", 0)))]
GRAY_FILTERS["threshold"] = [lambda g, p: cv2.threshold(g, p.get("value", 128) - 1, 255, cv2.THRESH_BINARY)[1]]

RGB_FILTERS = {
    "grayscale": [lambda x, p: cv2.cvtColor(x, cv2.COLOR_RGB2GRAY)],
    "invert": [lambda x, p: cv2.bitwise_not(x)],
    "emboss": [lambda x, p: cv2.filter2D(x, -1, EMBOSS, delta=128, borderType=REPLICATE)],
    "gaussian": [lambda x, p: cv2.GaussianBlur(x, (0, 0), p.get("sigma", 1.5), borderType=REPLICATE)],
    "box": [lambda x, p: cv2.blur(x, (int(p.get("size", 3)),) * 2, borderType=REPLICATE)],
    "median": [lambda x, p: cv2.medianBlur(x, int(p.get("size", 3)))],
    "sharpen": [sharpen],
}


def parse_spec(spec):
    name, _, rest = spec.partition(":")
    params = {}
    for kv in filter(None, rest.split(",")):
        key, _, value = kv.partition("=")
        params[key] = {"true": 1.0, "false": 0.0}[value] if value in ("true", "false") else float(value)
    return name, params


def median_seconds(fn, reps):
    fn()  # warm-up: first-touch page faults and OpenCV's lazy dispatch
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ppm")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--op", action="append", default=[],
                        help="bandsaw filter spec, e.g. sobel or gaussian:sigma=1.5 (default: all known)")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    rgb = np.ascontiguousarray(read_ppm(args.ppm))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    megapixels = rgb.shape[0] * rgb.shape[1] / 1e6
    specs = args.op or list(GRAY_FILTERS) + list(RGB_FILTERS)

    rows = []

    def record(name, spec, seconds):
        rows.append({"name": name, "spec": spec, "megapixelsPerSecond": megapixels / seconds,
                     "medianMilliseconds": seconds * 1e3})

    for spec in specs:
        name, params = parse_spec(spec)
        if name in GRAY_FILTERS:
            impls = GRAY_FILTERS[name]
            from_gray = min(median_seconds(lambda f=f: f(gray, params), args.reps) for f in impls)
            from_rgb = min(median_seconds(lambda f=f: f(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), params), args.reps)
                           for f in impls)
            record(name, spec, from_rgb)
            record(name + "/gray", spec, from_gray)
        elif name in RGB_FILTERS:
            impl = RGB_FILTERS[name][0]
            record(name, spec, median_seconds(lambda: impl(rgb, params), args.reps))
        else:
            print(f"bench_opencv: no OpenCV equivalent for '{spec}', skipped", file=sys.stderr)

    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(f"OpenCV {cv2.__version__}, {rgb.shape[1]}x{rgb.shape[0]} RGB, one thread, median of {args.reps}")
        for r in rows:
            print(f"{r['name']:<18}{r['megapixelsPerSecond']:12.1f} {r['medianMilliseconds']:8.2f} ms")


if __name__ == "__main__":
    main()
