#ifndef CSTATUS_H
#define CSTATUS_H

/*
 * The status codes every function of the C doors returns (cpng_ in CPNG, ccodec_ in CCodecs):
 * one family, each value distinct, so a code means the same whichever door returned it and
 * Swift maps them to ImageError in one place (ImageCodecs' CodecStatus). Kept as macros so
 * Swift imports them as plain Int32 constants matching the int return type.
 */

/** Success. */
#define CSTATUS_OK 0
/** The bytes are not in the format the function reads (no PNG signature, no JPEG SOI, ...). */
#define CSTATUS_NOT_FORMAT 1
/** The data ends before the image does (signature only, or cut inside a chunk or segment). */
#define CSTATUS_TRUNCATED 2
/** A damaged header, chunk, CRC or compressed stream; the message says what the library saw. */
#define CSTATUS_CORRUPT 3
/** The header announces more pixels than the caller's limit. */
#define CSTATUS_TOO_LARGE 4
/** An allocation failed. */
#define CSTATUS_NO_MEMORY 5
/** The encoder (or the deflate stream of a band) could not produce its output. */
#define CSTATUS_WRITE_FAILED 6
/** The caller passed an impossible argument (bad channel count, short buffer, ...). */
#define CSTATUS_BAD_ARGUMENT 7
/** A valid file in a layout bandsaw does not read; the message names it. */
#define CSTATUS_UNSUPPORTED 8
/** Not a layout the PNG fast path takes: decode with libpng instead (not an error). */
#define CSTATUS_FAST_DECLINED 9
/** Not decodable by restart segments: decode the whole file the usual way (not an error). */
#define CSTATUS_NO_RESTART 10

#endif
