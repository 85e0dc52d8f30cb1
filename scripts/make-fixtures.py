#!/usr/bin/env python3
"""Builds the codec test fixtures under Tests/Fixtures/ from public-domain / CC0 photos.

    pip install scikit-image pillow pooch
    python3 scripts/make-fixtures.py

Sources (both shipped inside scikit-image, see skimage.data):
  * astronaut: Eileen Collins, NASA photo, public domain.
  * coffee: Rachel Michetti, CC0.

Output (all small; the folder stays well under 1.5 MB):
  photos/    256x256 RGB PNG crops of both photos (written by Pillow).
  variants/  one 67x45 crop of the astronaut in every PNG colour type and depth, plus
             PGM/PPM, written by the hand-rolled PNG writer below so that colour type, bit
             depth, tRNS, interlacing and per-row filters are exactly what the name says.
  bad/       inputs every reader must refuse with a specific error.

The variant crop is first reduced to at most 256 colours, so the palette variants hold it
losslessly and every 8-bit variant can be compared pixel for pixel with rgb8.png / gray8.png.
16-bit variants store v * 257, which any rounding 16->8 scaler maps back to v exactly.
Alpha planes (graya8, rgba8) are alpha(x, y) = (7x + 3y) mod 256, which the tests recompute.
"""

import io
import os
import struct
import zlib

import numpy as np
from PIL import Image
from skimage import data

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures")
VARIANT_W, VARIANT_H = 67, 45  # odd on purpose: no width is a multiple of a SIMD lane


# MARK: - A minimal PNG writer (every chunk under our control)

def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows: list, bpp: int) -> bytes:
    """Filters each packed row with filter type (row index mod 5), so the reader's
    None, Sub, Up, Average and Paeth reconstruction paths all run."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        ftype = y % 5
        line = bytearray()
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = (0, a, b, (a + b) // 2, paeth(a, b, c))[ftype]
            line.append((x - pred) & 0xFF)
        out.append(ftype)
        out += line
        prev = row
    return bytes(out)


def pack_rows(samples: np.ndarray, depth: int) -> list:
    """samples: (h, w*channels) integers < 2**depth; returns packed scanlines."""
    rows = []
    for r in samples:
        if depth == 16:
            rows.append(r.astype(">u2").tobytes())
        elif depth == 8:
            rows.append(r.astype(np.uint8).tobytes())
        else:
            per_byte = 8 // depth
            padded = np.concatenate([r, np.zeros((-len(r)) % per_byte, dtype=r.dtype)]).astype(np.uint32)
            groups = padded.reshape(-1, per_byte)
            shifts = np.array([8 - depth * (k + 1) for k in range(per_byte)], dtype=np.uint32)
            rows.append((groups << shifts).sum(axis=1).astype(np.uint8).tobytes())
    return rows


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path: str, pixels: np.ndarray, color_type: int, depth: int,
              palette=None, trns: bytes = None, interlace: bool = False) -> None:
    """pixels: (h, w, channels) or (h, w) array of samples at `depth` bits."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    h, w, channels = pixels.shape
    bpp = max(1, channels * depth // 8)
    if interlace:
        raw = b""
        for x0, y0, dx, dy in ADAM7:
            sub = pixels[y0::dy, x0::dx]
            if sub.shape[0] and sub.shape[1]:
                raw += filter_rows(pack_rows(sub.reshape(sub.shape[0], -1), depth), bpp)
    else:
        raw = filter_rows(pack_rows(pixels.reshape(h, -1), depth), bpp)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        out += chunk(b"PLTE", bytes(np.asarray(palette, dtype=np.uint8).reshape(-1)))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    out += chunk(b"IEND", b"")
    save(path, out)


def write_pnm(path: str, pixels: np.ndarray, maxval: int = 255, comment: str = None) -> None:
    magic = "P5" if pixels.ndim == 2 else "P6"
    h, w = pixels.shape[:2]
    head = magic + "\n" + (f"# {comment}\n" if comment else "") + f"{w} {h}\n{maxval}\n"
    body = pixels.astype(">u2" if maxval > 255 else np.uint8).tobytes()
    save(path, head.encode() + body)


def save(path: str, blob: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(blob)


def fixture(*parts: str) -> str:
    return os.path.join(ROOT, *parts)


# MARK: - Fixtures

def photos(astronaut: np.ndarray, coffee: np.ndarray) -> None:
    os.makedirs(fixture("photos"), exist_ok=True)
    Image.fromarray(astronaut[20:276, 150:406]).save(fixture("photos", "astronaut-256.png"))
    Image.fromarray(coffee[80:336, 180:436]).save(fixture("photos", "coffee-256.png"))


def variants(astronaut: np.ndarray) -> np.ndarray:
    h, w = VARIANT_H, VARIANT_W
    crop = Image.fromarray(astronaut[100:100 + 2 * h, 190:190 + 2 * w]).resize((w, h), Image.LANCZOS)
    quantised = crop.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    index = np.asarray(quantised, dtype=np.uint8)
    palette = np.asarray(quantised.getpalette()[:3 * 256], dtype=np.uint8).reshape(-1, 3)
    rgb = palette[index]                                   # the 8-bit RGB reference
    gray = np.asarray(Image.fromarray(rgb).convert("L"))   # the 8-bit gray reference
    ys, xs = np.mgrid[0:h, 0:w]
    alpha = ((7 * xs + 3 * ys) % 256).astype(np.uint8)

    v = lambda name: fixture("variants", name)
    write_png(v("rgb8.png"), rgb, 2, 8)
    write_png(v("rgb8-adam7.png"), rgb, 2, 8, interlace=True)
    write_png(v("rgb16.png"), rgb.astype(np.uint16) * 257, 2, 16)
    write_png(v("rgba8.png"), np.dstack([rgb, alpha]), 6, 8)
    write_png(v("gray8.png"), gray, 0, 8)
    write_png(v("gray16.png"), gray.astype(np.uint16) * 257, 0, 16)
    write_png(v("graya8.png"), np.dstack([gray, alpha]), 4, 8)
    for depth in (1, 2, 4):
        # Top `depth` bits of the gray reference; libpng expands by bit replication.
        write_png(v(f"gray{depth}.png"), gray >> (8 - depth), 0, depth)
    key = int(np.bincount(gray.reshape(-1)).argmax())  # the commonest gray level becomes transparent
    write_png(v("gray8-trns.png"), gray, 0, 8, trns=struct.pack(">H", key))
    write_png(v("palette8.png"), index, 3, 8, palette=palette)
    used = int(index.max()) + 1
    trns = bytes(255 if i % 4 else i for i in range(used))  # every 4th entry partly transparent
    write_png(v("palette8-trns.png"), index, 3, 8, palette=palette[:used], trns=trns)

    write_pnm(v("gray8.pgm"), gray, comment="gray8.png as binary PGM")
    write_pnm(v("rgb8.ppm"), rgb)
    write_pnm(v("gray16.pgm"), gray.astype(np.uint16) * 257, maxval=65535)
    write_pnm(v("rgb16.ppm"), rgb.astype(np.uint16) * 257, maxval=65535)
    return rgb


def bad_inputs(rgb: np.ndarray) -> None:
    b = lambda name: fixture("bad", name)
    with open(fixture("variants", "rgb8.png"), "rb") as f:
        good = f.read()
    idat = good.index(b"IDAT")
    idat_len = struct.unpack(">I", good[idat - 4:idat])[0]

    save(b("empty.png"), b"")
    save(b("signature-only.png"), good[:8])
    save(b("truncated.png"), good[:idat + 4 + idat_len // 2])  # cut mid-IDAT

    flipped = bytearray(good)
    flipped[idat + 4 + idat_len // 2] ^= 0xFF  # data changed, CRC left stale
    save(b("bad-crc.png"), bytes(flipped))

    garbage = bytes((i * 37 + 11) & 0xFF for i in range(idat_len))  # not a zlib stream; CRC valid
    save(b("garbage-idat.png"), good[:idat - 4] + chunk(b"IDAT", garbage) + good[idat + 4 + idat_len + 4:])

    # Decompression bomb: the header claims 100000 x 100000 gray pixels (10 GB) in a tiny file.
    rows = zlib.compress(bytes(100001) * 16, 9)
    save(b("bomb.png"), b"\x89PNG\r\n\x1a\n"
         + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 0, 0, 0, 0))
         + chunk(b"IDAT", rows) + chunk(b"IEND", b""))

    jpeg = io.BytesIO()
    Image.fromarray(rgb).save(jpeg, format="JPEG", quality=70)
    save(b("photo.jpg"), jpeg.getvalue())
    gif = io.BytesIO()
    Image.fromarray(rgb[:8, :8]).save(gif, format="GIF")
    save(b("tiny.gif"), gif.getvalue())
    save(b("notes.txt"), b"These are notes, not an image.\n")
    save(b("ascii.pgm"), b"P2\n2 2\n255\n0 64\n128 255\n")
    with open(fixture("variants", "rgb8.ppm"), "rb") as f:
        ppm = f.read()
    save(b("truncated.ppm"), ppm[:len(ppm) // 2])


def main() -> None:
    astronaut, coffee = data.astronaut(), data.coffee()
    photos(astronaut, coffee)
    rgb = variants(astronaut)
    bad_inputs(rgb)


if __name__ == "__main__":
    main()
