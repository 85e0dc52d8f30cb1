#!/usr/bin/env python3
"""Hostile input files for bandsaw (issue 22), and the fuzzers' seed corpora.

    scripts/make-hostile.py OUT_DIR        write the hostile files and OUT_DIR/manifest.json
    scripts/make-hostile.py --seeds        rewrite fuzz/corpus/<target>/ (small, committed)
    scripts/make-hostile.py --regressions  add the small hostile regressions to Tests/Fixtures/fuzz-regressions/

Each hostile file lies about itself in one way a parser must survive: an inflate bomb, chunk
lengths past the end, zero or overflowing sizes, EXIF IFD loops and offsets outside their
segment, a progressive JPEG scan bomb, TIFF offsets past the end and IFD loops, WebP canvases
that disagree with their frame. The manifest says what bandsaw must answer for each: "refused"
(exit 3, one error line) or "ok" (the image is genuinely valid; the lie is in a part bandsaw
ignores or recovers from). HostileInputTests runs the real executable on every file.

Deterministic and standard library only (zlib, struct), except the WebP files, which wrap a
frame encoded by Pillow (the test suite's reference decoder, installed by .ci/run).
"""

import io
import json
import os
import struct
import sys
import zlib

# MARK: - PNG


def chunk(kind, data, crc=None):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) if crc is None else crc)


def raw_chunk(length, kind, data):
    """A chunk whose length field says `length`, whatever the data holds."""
    body = kind + data
    return struct.pack(">I", length) + body + struct.pack(">I", zlib.crc32(body))


SIG = b"\x89PNG\r\n\x1a\n"


def ihdr(width, height, depth=8, colour=2, interlace=0):
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


def rows(width, height, channels, seed=1):
    """Filtered rows (filter None) of a simple pattern."""
    out = bytearray()
    for y in range(height):
        out.append(0)
        out.extend(((x * 7 + y * 13 + c * 29 + seed) & 0xFF) for x in range(width) for c in range(channels))
    return bytes(out)


def png(width, height, channels, colour, stream, extra=b""):
    return SIG + ihdr(width, height, 8, colour) + extra + chunk(b"IDAT", stream) + chunk(b"IEND", b"")


def bomb_stream(image_rows, garbage_bytes):
    """The image's rows, then `garbage_bytes` zeros in the same deflate stream."""
    z = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    out = [z.compress(image_rows)]
    piece = bytes(16 << 20)
    left = garbage_bytes
    while left > 0:
        n = min(left, len(piece))
        out.append(z.compress(piece[:n]))
        left -= n
    out.append(z.flush())
    return b"".join(out)


def restart_png(width, height, channels, segments):
    """A PNG with restart points as bandsaw writes them (docs/png-restart-points.md)."""
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    base, extra = divmod(height, segments)
    starts = [0] + [extra + k * base for k in range(1, segments)] + [height]
    raw = rows(width, height, channels)
    line = width * channels + 1
    z = zlib.compressobj(6)
    idats = []
    for k in range(segments):
        piece = raw[starts[k] * line:starts[k + 1] * line]
        data = z.compress(piece) + (z.flush(zlib.Z_FULL_FLUSH) if k + 1 < segments else z.flush())
        idats.append(chunk(b"IDAT", data))
    mark = chunk(b"mARK", bytes([0, 1]) + struct.pack(">I", segments))
    return SIG + ihdr(width, height, 8, colour) + mark + b"".join(idats) + chunk(b"IEND", b"")


# MARK: - JPEG (hand-built: one-symbol Huffman tables make every block flat grey)


def segment(marker, payload):
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def dht(table_class, table_id, symbol):
    """A Huffman table with one symbol, of code length 1 (the code '0')."""
    counts = bytes([1] + [0] * 15)
    return segment(0xC4, bytes([table_class << 4 | table_id]) + counts + bytes([symbol]))


def sof(marker, width, height):
    return segment(marker, struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0]))


def dqt():
    return segment(0xDB, bytes([0]) + bytes([1] * 64))


def sos(ss, se, ah_al):
    return segment(0xDA, bytes([1, 1, 0x00, ss, se, ah_al]))


def bits_to_bytes(nbits):
    """nbits zero bits, padded with ones to a byte boundary."""
    full, rest = divmod(nbits, 8)
    return bytes(full) + (bytes([(1 << (8 - rest)) - 1]) if rest else b"")


def baseline_jpeg(width, height, app=b""):
    """A valid gray baseline JPEG: each block is DC difference 0 and an end of block."""
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    return (b"\xff\xd8" + app + dqt() + sof(0xC0, width, height) + dht(0, 0, 0x00) + dht(1, 0, 0x00)
            + sos(0, 63, 0) + bits_to_bytes(2 * blocks) + b"\xff\xd9")


def scan_bomb_jpeg(width, height, scans):
    """A progressive gray JPEG: a DC scan, then `scans` AC scans of coefficient 63 at full
    precision (Ah = Al = 0: repeating one is no inconsistency libjpeg warns about), each one
    end-of-band run over every block, so each costs a pass over the image for a few bytes."""
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    assert blocks <= 32767
    r = blocks.bit_length() - 1  # EOBr: run of 2^r + r extra bits
    extra = blocks - (1 << r)
    bits = "0" + format(extra, "0%db" % r) if r else "0"
    bits += "1" * (-len(bits) % 8)
    ac = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    out = [b"\xff\xd8", dqt(), sof(0xC2, width, height), dht(0, 0, 0x00), dht(1, 0, r << 4),
           sos(0, 0, 0), bits_to_bytes(blocks)]
    one = sos(63, 63, 0) + ac
    out.append(one * scans)
    out.append(b"\xff\xd9")
    return b"".join(out)


def exif_app1(tiff):
    return segment(0xE1, b"Exif\x00\x00" + tiff)


def exif_ifd_loop():
    """IFD0 with the orientation tag behind 400 filler entries, next-IFD pointing back at itself."""
    entries = [struct.pack("<HHII", 0x010F, 2, 1, 0) for _ in range(400)]
    entries.append(struct.pack("<HHIHH", 274, 3, 1, 6, 0))
    ifd = struct.pack("<H", len(entries)) + b"".join(entries) + struct.pack("<I", 8)
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def exif_entry_count_lie():
    """IFD0 claims 65535 entries; the segment holds two."""
    ifd = struct.pack("<H", 0xFFFF) + struct.pack("<HHIHH", 0x010F, 2, 1, 0, 0) * 2
    return b"II*\x00" + struct.pack("<I", 8) + ifd


def exif_offset_outside():
    """IFD0 offset far beyond the segment, and a big-endian variant pointing before it."""
    return b"MM\x00*" + struct.pack(">I", 0xFFFFFFF0) + bytes(16)


# MARK: - TIFF (classic, little-endian, hand-built)


def tiff(entries, data=b"", ifd_offset=8, next_ifd=0, tail=b""):
    """entries: (tag, type, count, value-or-offset). Data sits after the IFD."""
    entries = sorted(entries)
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if typ == 3 and count == 1:
            ifd += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", next_ifd)
    head = b"II*\x00" + struct.pack("<I", ifd_offset)
    return head + ifd + data + tail


def gray_strip_tiff(width=16, height=16, overrides=None, next_ifd=0):
    """An uncompressed 8-bit gray TIFF, one strip; `overrides` replaces tags by number."""
    n_entries = 8
    data_offset = 8 + 2 + 12 * n_entries + 4
    pixels = bytes((x * 5 + y * 3) & 0xFF for y in range(height) for x in range(width))
    tags = {
        256: (256, 4, 1, width), 257: (257, 4, 1, height), 258: (258, 3, 1, 8), 259: (259, 3, 1, 1),
        262: (262, 3, 1, 1), 273: (273, 4, 1, data_offset), 278: (278, 4, 1, height),
        279: (279, 4, 1, len(pixels)),
    }
    for tag, entry in (overrides or {}).items():
        tags[tag] = entry
    assert len(tags) == n_entries
    return tiff(list(tags.values()), pixels, next_ifd=next_ifd)


def tiled_tiff(width, height, tile):
    """An uncompressed gray TIFF with one tile of tile x tile, of which only the image's share
    is stored (the rest of the tile's bytes are missing)."""
    n_entries = 9
    data_offset = 8 + 2 + 12 * n_entries + 4
    stored = bytes(width * height)
    entries = [(256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (322, 4, 1, tile), (323, 4, 1, tile), (324, 4, 1, data_offset), (325, 4, 1, tile * tile)]
    return tiff(entries, stored)


# MARK: - WebP (a Pillow-encoded frame in a hand-built container)


def riff(chunks, size=None):
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body) if size is None else size) + body


def riff_chunk(kind, data):
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def vp8x(width, height, flags=0):
    return riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + (width - 1).to_bytes(3, "little")
                      + (height - 1).to_bytes(3, "little"))


def webp_frame(lossless, width=16, height=16):
    """The VP8L or VP8 chunk of a Pillow-encoded still."""
    from PIL import Image
    image = Image.new("RGB", (width, height))
    image.putdata([((x * 16) & 255, (y * 16) & 255, 128) for y in range(height) for x in range(width)])
    buffer = io.BytesIO()
    image.save(buffer, "WEBP", lossless=lossless, quality=80)
    data = buffer.getvalue()
    assert data[12:16] in (b"VP8L", b"VP8 "), data[12:16]
    return data[12:]


# MARK: - The hostile set


def hostile():
    """name -> (bytes, expectation, what it lies about)."""
    files = {}

    def add(name, data, expect, why):
        files[name] = (data, expect, why)

    rgb = rows(16, 16, 3)
    add("png-inflate-bomb.png", png(16, 16, 3, 2, bomb_stream(rgb, 1 << 30)), "refused",
        "16x16 RGB whose IDAT inflates to 1 GiB (the fast path's layout)")
    palette = b"".join(bytes([0]) + bytes(16) for _ in range(16))
    add("png-inflate-bomb-palette.png",
        png(16, 16, 1, 3, bomb_stream(palette, 1 << 28), extra=chunk(b"PLTE", bytes(range(48)))), "refused",
        "16x16 palette (libpng's path) whose IDAT inflates to 256 MiB")
    add("png-extra-data-small.png", png(16, 16, 3, 2, zlib.compress(rgb + bytes(49 * 4))), "ok",
        "four rows more than the header claims: libpng's 'extra compressed data', decoded as claimed")
    add("png-idat-length-lie.png",
        SIG + ihdr(16, 16) + raw_chunk(0x7FFFFFF0, b"IDAT", zlib.compress(rgb)) + chunk(b"IEND", b""), "refused",
        "IDAT length 2^31-16 in a 1 KB file")
    add("png-chunk-length-over-31-bits.png",
        SIG + ihdr(16, 16) + raw_chunk(0x80000010, b"IDAT", zlib.compress(rgb)) + chunk(b"IEND", b""), "refused",
        "IDAT length over 2^31")
    add("png-text-length-lie.png", hostile_png_text_claim(), "refused",
        "zTXt claiming 184 MB in a 1 KB file (libpng allocated it; found by fuzzing)")
    add("png-zero-width.png", png(0, 16, 3, 2, zlib.compress(b"")), "refused", "width 0")
    add("png-zero-height.png", png(16, 0, 3, 2, zlib.compress(b"")), "refused", "height 0")
    add("png-overflowing-dimensions.png", png(0x7FFFFFFF, 0x7FFFFFFF, 3, 2, zlib.compress(rgb)), "refused",
        "2^31-1 x 2^31-1: the product overflows 32 and 62 bits of bytes")
    add("png-claim-at-limit-tiny-data.png", png(16384, 16384, 1, 0, zlib.compress(bytes(64))), "refused",
        "16384x16384 gray (exactly --max-pixels) from 64 bytes of pixels")
    add("png-restart-lie.png",
        SIG + ihdr(16, 24) + chunk(b"mARK", bytes([0, 1]) + struct.pack(">I", 3))
        + b"".join(chunk(b"IDAT", p) for p in (lambda s: (s[:40], s[40:80], s[80:]))(zlib.compress(rows(16, 24, 3))))
        + chunk(b"IEND", b""), "ok", "mARK promises 3 restart segments; the stream has no flush points")
    add("png-restart-count-lie.png",
        SIG + ihdr(16, 16) + chunk(b"mARK", bytes([0, 1]) + struct.pack(">I", 0xFFFFFFFF))
        + chunk(b"IDAT", zlib.compress(rgb)) + chunk(b"IEND", b""), "ok", "mARK claims 2^32-1 segments for 16 rows")

    add("pnm-overflowing-width.pgm", b"P5\n99999999999999999999 1\n255\n\x00", "refused", "a width of 20 digits")
    add("pnm-overflowing-area.ppm", b"P6\n2147483647 2147483647\n255\n\x00", "refused",
        "2^31-1 x 2^31-1: the area overflows")
    add("pnm-zero-width.pgm", b"P5\n0 16\n255\n", "refused", "width 0")
    add("pnm-claim-big-data-small.ppm", b"P6\n16384 16384\n255\n" + bytes(100), "refused",
        "16384x16384 RGB (exactly --max-pixels) with 100 bytes of samples")
    add("pnm-endless-comment.pgm", b"P5\n#" + b"x" * (1 << 20), "refused", "a header comment that never ends")
    add("pnm-maxval-zero.pgm", b"P5\n4 4\n0\n" + bytes(16), "refused", "maxval 0")

    add("jpeg-scan-bomb.jpg", scan_bomb_jpeg(1024, 1024, 50000), "refused",
        "1024x1024 progressive JPEG with 50000 scans, each a pass over all 16384 blocks")
    add("jpeg-exif-ifd-loop.jpg", baseline_jpeg(16, 16, exif_app1(exif_ifd_loop())), "ok",
        "EXIF IFD0 whose next-IFD offset points back at itself")
    add("jpeg-exif-entry-count-lie.jpg", baseline_jpeg(16, 16, exif_app1(exif_entry_count_lie())), "ok",
        "EXIF IFD0 claiming 65535 entries in a 40-byte segment")
    add("jpeg-exif-offset-outside.jpg", baseline_jpeg(16, 16, exif_app1(exif_offset_outside())), "ok",
        "EXIF IFD0 offset 2^32-16, far outside its segment")
    add("jpeg-segment-length-lie.jpg",
        b"\xff\xd8" + bytes([0xFF, 0xE1, 0xFF, 0xFF]) + b"Exif\x00\x00II*\x00" + bytes(8), "refused",
        "an APP1 claiming 65535 bytes in a 24-byte file")
    add("jpeg-huge-dimensions.jpg", baseline_jpeg(16, 16).replace(struct.pack(">HH", 16, 16), struct.pack(">HH", 65535, 65535), 1),
        "refused", "SOF says 65535x65535 (over --max-pixels) over a 16x16 image's data")

    add("tiff-ifd-loop.tif", gray_strip_tiff(next_ifd=8), "ok", "IFD0's next-IFD offset points back at IFD0")
    add("tiff-ifd-beyond-file.tif", b"II*\x00" + struct.pack("<I", 0x7FFFFFF0) + bytes(64), "refused",
        "IFD0 offset 2 GiB into a 72-byte file")
    add("tiff-strip-offset-beyond-file.tif", gray_strip_tiff(overrides={273: (273, 4, 1, 0x7FFFFF00)}), "refused",
        "the strip's offset is 2 GiB into a 400-byte file")
    add("tiff-strip-bytecount-lie.tif", gray_strip_tiff(overrides={279: (279, 4, 1, 0xFFFFFFF0)}), "ok",
        "StripByteCounts 4 GiB for a 256-byte strip (libtiff reads the strip's own size)")
    add("tiff-huge-strip-count.tif",
        gray_strip_tiff(overrides={273: (273, 4, 0x10000000, 200), 279: (279, 4, 0x10000000, 200)}), "refused",
        "StripOffsets and StripByteCounts with 2^28 entries each in a 400-byte file")
    add("tiff-rows-per-strip-one.tif", gray_strip_tiff(height=16, overrides={278: (278, 4, 1, 1)}), "refused",
        "16 strips of one row per the header, one offset and one count in the file")
    add("tiff-tile-huge.tif", tiled_tiff(16, 16, 16384), "refused",
        "a 16x16 image in one 16384x16384 tile (268 MB of tile for 256 pixels)")
    add("tiff-zero-width.tif", gray_strip_tiff(overrides={256: (256, 4, 1, 0)}), "refused", "width 0")
    add("tiff-overflowing-dimensions.tif",
        gray_strip_tiff(overrides={256: (256, 4, 1, 0xFFFFFFFF), 257: (257, 4, 1, 0xFFFFFFFF)}), "refused",
        "2^32-1 x 2^32-1")

    lossless, lossy = webp_frame(True), webp_frame(False)
    add("webp-canvas-larger.webp", riff([vp8x(16000, 16000), lossless]), "refused",
        "VP8X canvas 16000x16000 around a 16x16 lossless frame")
    add("webp-canvas-smaller.webp", riff([vp8x(2, 2), lossy]), "refused",
        "VP8X canvas 2x2 around a 16x16 lossy frame")
    add("webp-canvas-max.webp", riff([vp8x(1 << 24, 1 << 24), lossy]), "refused",
        "VP8X canvas 2^24 x 2^24, the format's largest, around a 16x16 frame")
    add("webp-riff-size-lie.webp", riff([lossless], size=0xFFFFFFF0), "ok",
        "RIFF size 4 GiB in a small file whose one frame is whole (libwebp reads the frame)")
    add("webp-frame-truncated.webp", riff([lossy[:len(lossy) // 2]]), "refused", "a VP8 frame cut in half")
    return files


# MARK: - Seeds


def seeds():
    """target -> {name: bytes}: small valid files of every layout each parser takes."""
    from PIL import Image
    out = {}

    def pillow(image, fmt, **options):
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        return buffer.getvalue()

    photo = Image.new("RGB", (24, 16))
    photo.putdata([((x * 10) & 255, (y * 16) & 255, ((x + y) * 5) & 255) for y in range(16) for x in range(24)])
    gray = photo.convert("L")
    out["png_restart"] = {
        "gray-3seg.png": restart_png(6, 12, 1, 3), "rgb-2seg.png": restart_png(5, 9, 3, 2),
        "rgba-4seg.png": restart_png(3, 10, 4, 4), "graya-2seg.png": restart_png(4, 5, 2, 2),
    }
    out["png_fast"] = {"rgb-2idat.png": SIG + ihdr(5, 4) + b"".join(
        chunk(b"IDAT", p) for p in (lambda s: (s[:20], s[20:]))(zlib.compress(rows(5, 4, 3)))) + chunk(b"IEND", b""),
        **out["png_restart"]}
    exif6 = photo.getexif()
    exif6[274] = 6
    out["jpeg_decode"] = {
        "baseline-gray.jpg": pillow(gray, "JPEG", quality=80),
        "baseline-rgb-420.jpg": pillow(photo, "JPEG", quality=80),
        "progressive-rgb.jpg": pillow(photo, "JPEG", quality=80, progressive=True),
        "cmyk.jpg": pillow(photo.convert("CMYK"), "JPEG", quality=80),
        "rgb-444-exif6.jpg": pillow(photo, "JPEG", quality=90, subsampling=0, exif=exif6.tobytes()),
        "handmade-gray.jpg": baseline_jpeg(16, 8),
        "scans-8.jpg": scan_bomb_jpeg(16, 16, 8),
    }
    out["exif"] = {k: v for k, v in out["jpeg_decode"].items() if "exif" in k or "handmade" in k}
    out["exif"]["ifd-loop.jpg"] = baseline_jpeg(8, 8, exif_app1(exif_ifd_loop()))[:600]
    out["exif"]["big-endian.jpg"] = baseline_jpeg(8, 8, exif_app1(
        b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", 274, 3, 1, 8, 0) + bytes(4)))
    out["tiff_layout"] = {
        "gray-strip.tif": gray_strip_tiff(8, 6),
        "gray-tile.tif": tiled_tiff(16, 16, 16),
        "rgb-lzw.tif": pillow(photo, "TIFF", compression="tiff_lzw"),
        "rgb-deflate.tif": pillow(photo, "TIFF", compression="tiff_adobe_deflate"),
        "rgba-packbits.tif": pillow(photo.convert("RGBA"), "TIFF", compression="packbits"),
        "palette.tif": pillow(photo.convert("P"), "TIFF"),
        "gray16.tif": pillow(gray.convert("I;16"), "TIFF"),
        "la.tif": pillow(photo.convert("LA"), "TIFF"),
    }
    out["webp_decode"] = {
        "lossless.webp": pillow(photo, "WEBP", lossless=True),
        "lossy.webp": pillow(photo, "WEBP", quality=60),
        "lossy-alpha.webp": pillow(photo.convert("RGBA"), "WEBP", quality=60),
        "vp8x.webp": riff([vp8x(16, 16), webp_frame(True)]),
    }
    out["pnm"] = {
        "gray.pgm": b"P5\n# a comment\n4 3\n255\n" + bytes(range(12)),
        "rgb.ppm": b"P6 2 2 255\n" + bytes(range(12)),
        "gray16.pgm": b"P5\n2 2\n65535\n" + bytes(range(8)),
        "rgb-maxval7.ppm": b"P6\r2\t1\x0b7\n" + bytes([1, 2, 3, 4, 5, 6]),
    }
    out["filter_spec"] = {
        "sobel.txt": b"sobel", "pipeline.txt": b"gaussian:sigma=2\nmedian:size=5\ninvert",
        "canny.txt": b"canny:low=20,high=90,sigma=1.4,l2=true", "params.txt": b"sharpen:amount=2.5,sigma=0.8\nbox:size=7",
        "threshold.txt": b"threshold:value=100\ngrayscale\nemboss\nscharr\nprewitt\nlaplacian",
    }
    # JPEG by bands: restart markers every MCU row (bandsaw's own and phone cameras'), every
    # two rows, every few blocks (not a row: decoded whole), none (decoded by skipping), over
    # every sampling, sizes off the MCU grid and optimised Huffman tables.
    odd = photo.resize((37, 61))
    out["jpeg_bands"] = {
        "rst-row-420.jpg": pillow(odd, "JPEG", quality=85, restart_marker_rows=1),
        "rst-row-444.jpg": pillow(odd, "JPEG", quality=85, subsampling=0, restart_marker_rows=1),
        "rst-row-422.jpg": pillow(odd, "JPEG", quality=85, subsampling=1, restart_marker_rows=1),
        "rst-row-gray.jpg": pillow(odd.convert("L"), "JPEG", quality=85, restart_marker_rows=1),
        "rst-2rows-optimized.jpg": pillow(odd, "JPEG", quality=85, restart_marker_rows=2, optimize=True),
        "rst-2blocks.jpg": pillow(odd, "JPEG", quality=85, restart_marker_blocks=2),
        "no-rst-420.jpg": pillow(odd, "JPEG", quality=85),
        "rst-row-exif6.jpg": pillow(odd, "JPEG", quality=85, restart_marker_rows=1, exif=exif6.tobytes()),
    }
    out["decode"] = {}
    for target in ("png_fast", "jpeg_decode", "tiff_layout", "webp_decode", "pnm"):
        for name, data in list(out[target].items())[:3]:
            out["decode"][target + "-" + name] = data
    return out


def regressions():
    """Small versions of the hostile files whose fixes the unit tests replay
    (Tests/Fixtures/fuzz-regressions/<target>/, beside what the fuzzers found)."""
    rgb = rows(16, 16, 3)
    palette = b"".join(bytes([0]) + bytes(16) for _ in range(16))
    return {
        "png_fast": {"inflate-bomb-32mib.png": png(16, 16, 3, 2, bomb_stream(rgb, 32 << 20))},
        "decode": {
            "inflate-bomb-palette-32mib.png": png(16, 16, 1, 3, bomb_stream(palette, 32 << 20),
                                                  extra=chunk(b"PLTE", bytes(range(48)))),
            "ztxt-length-claim.png": hostile_png_text_claim(),
        },
        "jpeg_decode": {"scan-bomb-300.jpg": scan_bomb_jpeg(64, 64, 300), "scans-250.jpg": scan_bomb_jpeg(64, 64, 249)},
        "tiff_layout": {"tile-16384.tif": tiled_tiff(16, 16, 16384)},
    }


def hostile_png_text_claim():
    rgb = rows(16, 16, 3)
    return (SIG + ihdr(16, 16) + raw_chunk(0x0B000000, b"zTXt", b"k\x00\x00" + bytes(30))
            + chunk(b"IDAT", zlib.compress(rgb)) + chunk(b"IEND", b""))


def write_tree(root, tree, clear):
    for target, files in tree.items():
        folder = os.path.join(root, target)
        os.makedirs(folder, exist_ok=True)
        if clear:
            for old in os.listdir(folder):
                os.remove(os.path.join(folder, old))
        for name, data in files.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.argv[1:] == ["--regressions"]:
        write_tree(os.path.join(here, "..", "Tests", "Fixtures", "fuzz-regressions"), regressions(), clear=False)
        return
    if sys.argv[1:] == ["--seeds"]:
        write_tree(os.path.join(here, "..", "fuzz", "corpus"), seeds(), clear=True)
        return
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = {}
    for name, (data, expect, why) in hostile().items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        manifest[name] = {"expect": expect, "lie": why, "bytes": len(data)}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
