/* imbal: the reusable decoder's state (include/imbal/image.h, imbal_image_decoder), shared by
 * image_decoder.c (the calls), image_decode.c (one-shot decoding on a decoder on the stack),
 * image_jpeg.c and image_png.c (which decode into its pixel buffer); not installed. */
#ifndef IMBAL_IMAGE_DECODER_H
#define IMBAL_IMAGE_DECODER_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/image.h"

/* All zero is a valid empty decoder (nothing made yet). */
struct imbal_image_decoder {
    void *tj;        /* tjhandle, made on the first JPEG, dropped after a TurboJPEG error */
    uint8_t *pixels; /* the decoded image (JPEG or PNG) */
    size_t pixels_cap;
    uint8_t *resized; /* the resize policy's output */
    size_t resized_cap;
    uint8_t *file; /* imbal_image_decoder_load's file bytes */
    size_t file_cap;
};

/* Frees what d holds and zeroes it (d itself is not freed: it may live on the stack). */
void imbal_image_decoder_release(imbal_image_decoder *d);

/* Makes *buf hold at least n bytes (contents not kept when it is replaced). A buffer over 64 MiB
 * is replaced by one of n bytes when n is under a quarter of it. NULL, with an out-of-memory
 * message naming `what`, on failure; *buf and *cap are then unchanged. */
uint8_t *imbal_image_decoder_reserve(imbal_ctx *ctx, uint8_t **buf, size_t *cap, size_t n,
                                     const char *what);

/* Gives the caller ownership of img->data, a result of d (d forgets that buffer). */
void imbal_image_decoder_detach(imbal_image_decoder *d, const imbal_image *img);

/* imbal_image_decoder_decode / _load without the NULL checks of d and out, with `fn` (the public
 * function called) in the messages about arguments. */
imbal_status imbal_image_decoder_decode_as(imbal_image_decoder *d, imbal_ctx *ctx, const char *fn,
                                           const void *bytes, size_t len, const char *name,
                                           const imbal_decode_options *o, imbal_image *out);
imbal_status imbal_image_decoder_load_as(imbal_image_decoder *d, imbal_ctx *ctx, const char *fn,
                                         const char *path, const imbal_decode_options *o,
                                         imbal_image *out);

#endif
