/* imbal: decoded images (uint8 RGB, HWC) and their decoding, resizing and PNG writing.
 *
 * Decoding: JPEG through libjpeg-turbo's TurboJPEG API (the 2.x API of the Debian package:
 * tjDecompressHeader3 / tjDecompress2), PNG through libpng. Grayscale (with or without alpha),
 * palette and 16-bit PNGs become 8-bit RGB (alpha is dropped: composited on nothing, i.e. the
 * colour channels are kept as stored); grayscale JPEGs become RGB. Progressive JPEGs and
 * interlaced PNGs are supported. CMYK/YCCK JPEGs are IMBAL_ERR_UNSUPPORTED; an unknown signature,
 * a zero-byte or truncated file or a corrupt stream is IMBAL_ERR_FORMAT; every message names the
 * file (the `name` argument) and what is wrong. A header announcing more than `max_pixels` pixels
 * is refused before any pixel memory is allocated (decompression bombs): IMBAL_ERR_DATA with the
 * width, height, their product and the limit in the message.
 * libjpeg-turbo warnings (e.g. "premature end of data segment", which still yields an image with
 * grey rows) are errors too: a silent half-grey image is worse than a clear error.
 *
 * Resizing to a training size: when the source is at least twice the target in both directions,
 * JPEG decoding first scales in the DCT domain by the largest TurboJPEG factor (1/2, 1/4, 1/8)
 * that keeps both sides >= the target (documented in docs/pipeline.md: this changes pixel values
 * slightly against a full decode + resize), then the image is resized exactly by the chosen filter.
 *
 * Memory: an imbal_image returned by these functions owns `data` (malloc); free it with
 * imbal_image_free. Rows are tightly packed: stride = width * 3. */
#ifndef IMBAL_IMAGE_H
#define IMBAL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef struct imbal_image {
    int width, height; /* >= 1 for a decoded image */
    int channels;      /* always 3 (RGB) for decoded images */
    uint8_t *data;     /* height * width * channels bytes, row-major HWC */
} imbal_image;

/* How the decoded image is brought to the target size. */
typedef enum imbal_resize_policy {
    IMBAL_RESIZE_NONE = 0,       /* keep the decoded size (target ignored) */
    IMBAL_RESIZE_STRETCH = 1,    /* resize to exactly target_width x target_height */
    IMBAL_RESIZE_SHORT_SIDE = 2, /* scale so the short side fits the target's, then centre-crop
                                    (torchvision Resize(s) + CenterCrop): s = max(tw / w, th / h),
                                    resize to max(round(w s), tw) x max(round(h s), th), keep the
                                    tw x th window at floor((W' - tw) / 2), floor((H' - th) / 2) */
} imbal_resize_policy;

typedef enum imbal_resize_filter {
    IMBAL_FILTER_AREA = 0,     /* box average over the source footprint (downscaling default):
                                  adaptive_avg_pool2d bins [floor(i in / out), ceil((i+1) in / out)),
                                  = torch.nn.functional.interpolate mode="area" */
    IMBAL_FILTER_BILINEAR = 1, /* half-pixel centres, align_corners = False, no antialias
                                  (torch.nn.functional.interpolate mode="bilinear") */
} imbal_resize_filter;

typedef struct imbal_decode_options {
    int64_t max_pixels; /* refuse larger headers; default 89478485 (PIL's 2^32 / 4 / 12) */
    int target_width, target_height; /* used unless policy is NONE; >= 1 then */
    imbal_resize_policy policy;      /* default NONE */
    imbal_resize_filter filter;      /* default AREA */
    int dct_scaling;                 /* JPEG DCT-domain downscaling when >= 2x; default 1 (on) */
} imbal_decode_options;

IMBAL_API void imbal_decode_options_default(imbal_decode_options *o);

/* Decodes a JPEG or PNG held in memory (format from the signature, not the name). `name` is used
 * in messages only (a path, or NULL for "<memory>"). On failure *out is left zeroed. */
IMBAL_API imbal_status imbal_image_decode(imbal_ctx *ctx, const void *bytes, size_t len,
                                          const char *name, const imbal_decode_options *o,
                                          imbal_image *out);

/* Reads the file and decodes it; an unreadable or empty file is IMBAL_ERR_IO / IMBAL_ERR_FORMAT
 * naming the path. o may be NULL (defaults). */
IMBAL_API imbal_status imbal_image_load(imbal_ctx *ctx, const char *path,
                                        const imbal_decode_options *o, imbal_image *out);

/* A reusable decoder for one thread that decodes many files: it keeps a TurboJPEG handle (made
 * on the first JPEG) and its pixel, resize and file buffers between calls, so small images do not
 * pay a handle setup and several allocations each. Decoding gives the same pixels and the same
 * errors as imbal_image_decode / imbal_image_load (which use one internally, created and destroyed
 * per call). A decoder is not thread-safe: use one per thread. A failed call leaves it usable. */
typedef struct imbal_image_decoder imbal_image_decoder;

IMBAL_API imbal_status imbal_image_decoder_create(imbal_ctx *ctx, imbal_image_decoder **out);

/* NULL is fine. Invalidates every image the decoder returned. */
IMBAL_API void imbal_image_decoder_destroy(imbal_image_decoder *d);

/* Like imbal_image_decode, but *out borrows the decoder's memory: out->data stays valid until the
 * next call on d or its destruction; do not imbal_image_free it (copy it to keep it). */
IMBAL_API imbal_status imbal_image_decoder_decode(imbal_image_decoder *d, imbal_ctx *ctx,
                                                  const void *bytes, size_t len, const char *name,
                                                  const imbal_decode_options *o, imbal_image *out);

/* Like imbal_image_load (the file is read into a buffer of the decoder), *out borrowed as above. */
IMBAL_API imbal_status imbal_image_decoder_load(imbal_image_decoder *d, imbal_ctx *ctx,
                                                const char *path, const imbal_decode_options *o,
                                                imbal_image *out);

/* Resizes src (any channels >= 1) to width x height into a new image. */
IMBAL_API imbal_status imbal_image_resize(imbal_ctx *ctx, const imbal_image *src, int width,
                                          int height, imbal_resize_filter filter, imbal_image *out);

/* Allocates a zeroed width x height x channels image. */
IMBAL_API imbal_status imbal_image_alloc(imbal_ctx *ctx, int width, int height, int channels,
                                         imbal_image *out);

/* Frees img->data and zeroes *img. NULL and already-freed images are fine. */
IMBAL_API void imbal_image_free(imbal_image *img);

/* Writes an 8-bit RGB (3 channels) or grayscale (1 channel) PNG, atomically (temporary name, then
 * rename): the file appears whole or not at all. */
IMBAL_API imbal_status imbal_image_write_png(imbal_ctx *ctx, const imbal_image *img,
                                             const char *path);

IMBAL_EXTERN_C_END

#endif
