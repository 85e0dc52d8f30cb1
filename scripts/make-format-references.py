#!/usr/bin/env python3
"""Writes JPEG, TIFF and WebP test files and their reference decodes, for the codec tests.

Usage: make-format-references.py SOURCE.png OUTDIR

For every case NAME it writes OUTDIR/NAME.<ext> and OUTDIR/NAME.ref: the line "W H C\\n"
followed by the 8-bit pixels, row after row, as the reference decoder reads the file:
Pillow (libjpeg-turbo, libtiff, libwebp underneath) for JPEG and WebP and most TIFFs, with
EXIF orientation applied by ImageOps.exif_transpose, CMYK converted by Pillow's
convert("RGB"), 16-bit samples scaled round(v * 255 / 65535). TIFF layouts Pillow cannot
write (tiles, BigTIFF, 16-bit RGB, min-is-white) are written here through libtiff itself
(ctypes) from a known array, and their reference is that array (Pillow reads them too, and
where its reading is exact the two are checked to agree).
"""
import ctypes
import ctypes.util
import io
import os
import sys

import numpy as np
from PIL import Image, ImageOps

source, out = sys.argv[1], sys.argv[2]
photo = Image.open(source).convert("RGB")


def save_ref(name, array):
    array = np.ascontiguousarray(array, dtype=np.uint8)
    if array.ndim == 2:
        array = array[:, :, None]
    h, w, c = array.shape
    with open(os.path.join(out, name + ".ref"), "wb") as f:
        f.write(f"{w} {h} {c}\n".encode() + array.tobytes())


def scale16(v):
    return ((v.astype(np.uint64) * 255 + 32767) // 65535).astype(np.uint8)


def pillow_pixels(path):
    im = Image.open(path)
    im.seek(0)
    if im.mode in ("I;16", "I;16B", "I;16L"):
        return scale16(np.asarray(im).astype(np.uint16))
    if im.mode in ("P", "CMYK", "YCbCr", "1"):
        im = im.convert("RGB")
    return np.asarray(im)


def pillow_case(name, ext, image, **options):
    path = os.path.join(out, f"{name}.{ext}")
    image.save(path, **options)
    save_ref(name, pillow_pixels(path))
    return path


# MARK: - JPEG

rgb = photo.crop((10, 20, 111, 97))  # 101 x 77: odd, not a multiple of the 16-pixel MCU
pillow_case("jpeg-baseline-420", "jpg", rgb, quality=90)
pillow_case("jpeg-422", "jpg", rgb, quality=85, subsampling=1)
pillow_case("jpeg-444", "jpg", rgb, quality=95, subsampling=0)
pillow_case("jpeg-progressive", "jpg", rgb, quality=80, progressive=True)
pillow_case("jpeg-restart", "jpg", rgb, quality=75, restart_marker_blocks=3)
pillow_case("jpeg-gray", "jpg", rgb.convert("L"), quality=90)
pillow_case("jpeg-cmyk", "jpg", rgb.convert("CMYK"), quality=90)
pillow_case("jpeg-photo", "jpg", photo, quality=92)
# A restart marker after every MCU row (as phone cameras write them), and after every 2.
pillow_case("jpeg-restart-rows", "jpg", photo, quality=90, restart_marker_rows=1)
pillow_case("jpeg-restart-2rows", "jpg", rgb, quality=90, restart_marker_rows=2, optimize=True)
for orientation in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = os.path.join(out, f"jpeg-orient-{orientation}.jpg")
    rgb.save(path, quality=90, exif=exif)
    save_ref(f"jpeg-orient-{orientation}", np.asarray(ImageOps.exif_transpose(Image.open(path))))
    # The stored orientation, for --no-autorotate.
    save_ref(f"jpeg-orient-{orientation}.stored", np.asarray(Image.open(path)))

# MARK: - WebP

rgba = rgb.convert("RGBA")
alpha = np.fromfunction(lambda y, x: (7 * x + 3 * y) % 256, (77, 101)).astype(np.uint8)
rgba.putalpha(Image.fromarray(alpha))
pillow_case("webp-lossless-rgb", "webp", rgb, lossless=True)
pillow_case("webp-lossless-rgba", "webp", rgba, lossless=True, exact=True)
pillow_case("webp-lossy-rgb", "webp", rgb, quality=80)
pillow_case("webp-lossy-rgba", "webp", rgba, quality=70)

# MARK: - TIFF through Pillow

gray = rgb.convert("L")
for compression in ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits"):
    short = {"raw": "none", "tiff_lzw": "lzw", "tiff_adobe_deflate": "deflate", "packbits": "packbits"}[compression]
    pillow_case(f"tiff-rgb8-{short}", "tif", rgb, compression=compression)
    pillow_case(f"tiff-gray8-{short}", "tif", gray, compression=compression)
pillow_case("tiff-rgba8", "tif", rgba, compression="tiff_lzw")
pillow_case("tiff-graya8", "tif", rgba.convert("LA"), compression="tiff_adobe_deflate")
pillow_case("tiff-palette", "tif", rgb.quantize(200), compression="tiff_lzw")
gray16 = (np.asarray(gray).astype(np.uint32) * 257 + np.fromfunction(lambda y, x: (x * 13 + y * 7) % 257, (77, 101))).astype(np.uint16)
pillow_case("tiff-gray16", "tif", Image.fromarray(gray16), compression="tiff_adobe_deflate")
pillow_case("tiff-bigtiff-rgb8", "tif", rgb, big_tiff=True)
# A multi-page file: the first page is read.
path = os.path.join(out, "tiff-multipage.tif")
rgb.save(path, save_all=True, append_images=[rgb.rotate(90, expand=True), gray], compression="tiff_lzw")
save_ref("tiff-multipage", np.asarray(rgb))

# MARK: - TIFF through libtiff (layouts Pillow does not write)

libtiff = ctypes.CDLL(ctypes.util.find_library("tiff") or "libtiff.so.6")
libtiff.TIFFOpen.restype = ctypes.c_void_p
libtiff.TIFFOpen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libtiff.TIFFComputeTile.restype = ctypes.c_uint32
libtiff.TIFFComputeTile.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint16]
libtiff.TIFFComputeStrip.restype = ctypes.c_uint32
libtiff.TIFFComputeStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint16]
libtiff.TIFFWriteEncodedTile.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_ssize_t]
libtiff.TIFFWriteEncodedStrip.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_ssize_t]
libtiff.TIFFWriteDirectory.argtypes = [ctypes.c_void_p]
libtiff.TIFFClose.argtypes = [ctypes.c_void_p]


def set_field(tif, tag, *values):
    assert libtiff.TIFFSetField(ctypes.c_void_p(tif), ctypes.c_uint32(tag), *values) == 1, tag


def libtiff_write(name, samples, photometric, tile=None, compression=1, big=False, extra=None, rows_per_strip=7):
    """Writes samples (H x W x C, uint8 or uint16) as a TIFF through libtiff."""
    h, w, c = samples.shape
    bits = samples.dtype.itemsize * 8
    path = os.path.join(out, name + ".tif")
    tif = libtiff.TIFFOpen(path.encode(), b"w8" if big else b"w")
    assert tif
    set_field(tif, 256, ctypes.c_uint32(w))
    set_field(tif, 257, ctypes.c_uint32(h))
    set_field(tif, 258, ctypes.c_int(bits))
    set_field(tif, 277, ctypes.c_int(c))
    set_field(tif, 262, ctypes.c_int(photometric))
    set_field(tif, 284, ctypes.c_int(1))
    set_field(tif, 259, ctypes.c_int(compression))
    if extra is not None:
        kinds = (ctypes.c_uint16 * 1)(extra)
        set_field(tif, 338, ctypes.c_int(1), kinds)
    if tile:
        set_field(tif, 322, ctypes.c_uint32(tile[0]))
        set_field(tif, 323, ctypes.c_uint32(tile[1]))
        tw, th = tile
        for y in range(0, h, th):
            for x in range(0, w, tw):
                block = np.zeros((th, tw, c), samples.dtype)
                part = samples[y:y + th, x:x + tw]
                block[:part.shape[0], :part.shape[1]] = part
                data = block.tobytes()
                index = libtiff.TIFFComputeTile(tif, x, y, 0, 0)
                assert libtiff.TIFFWriteEncodedTile(tif, index, data, len(data)) >= 0
    else:
        set_field(tif, 278, ctypes.c_uint32(rows_per_strip))
        for y in range(0, h, rows_per_strip):
            data = np.ascontiguousarray(samples[y:y + rows_per_strip]).tobytes()
            assert libtiff.TIFFWriteEncodedStrip(tif, libtiff.TIFFComputeStrip(tif, y, 0), data, len(data)) >= 0
    assert libtiff.TIFFWriteDirectory(tif) == 1
    libtiff.TIFFClose(tif)
    return path


rgb8 = np.asarray(rgb)
rgba8 = np.asarray(rgba)
gray8 = np.asarray(gray)[:, :, None]
rgb16 = (rgb8.astype(np.uint32) * 257 + np.fromfunction(lambda y, x, c: (x * 5 + y * 3 + c) % 257, rgb8.shape)).astype(np.uint16)
cases = [
    ("tiff-tiled-rgb8", rgb8, 2, dict(tile=(32, 16), compression=5)),
    ("tiff-tiled-rgba8-deflate", rgba8, 2, dict(tile=(16, 32), compression=8, extra=2)),
    ("tiff-tiled-gray8-packbits", gray8, 1, dict(tile=(48, 48), compression=32773)),
    ("tiff-tiled-gray16", gray16[:, :, None], 1, dict(tile=(32, 32), compression=8)),
    ("tiff-bigtiff-tiled-rgb16", rgb16, 2, dict(tile=(16, 16), compression=5, big=True)),
    ("tiff-rgb16-strips", rgb16, 2, dict(compression=1)),
    ("tiff-miniswhite8", gray8, 0, dict(compression=5)),
]
for name, samples, photometric, options in cases:
    libtiff_write(name, samples, photometric, **options)
    expected = scale16(samples) if samples.dtype == np.uint16 else samples
    if photometric == 0:
        expected = 255 - expected
    save_ref(name, expected)
    if samples.dtype == np.uint8 or samples.shape[2] == 1:
        # Where Pillow's own reading is exact, it must agree with the known array.
        seen = pillow_pixels(os.path.join(out, name + ".tif"))
        assert np.array_equal(seen.reshape(expected.shape), expected), name
print("ok")
