/* imbal: the pieces of the image pipeline shared between image.c, image_decode.c, image_jpeg.c and
 * image_png.c; not installed. */
#ifndef IMBAL_IMAGE_INTERNAL_H
#define IMBAL_IMAGE_INTERNAL_H

#include "imbal/image.h"

/* Resizes src to a virtual full_w x full_h image with `filter` and keeps only the window
 * [x0, x0 + out_w) x [y0, y0 + out_h) of it (the centre crop of the SHORT_SIDE policy without
 * computing the cropped-away pixels). Output pixels equal those of imbal_image_resize followed by
 * the crop. Arguments are validated by the caller. _to writes into dst (out_h * out_w *
 * src->channels bytes, not overlapping src); the other allocates *out. */
imbal_status imbal_image_resize_window(imbal_ctx *ctx, const imbal_image *src, int full_w,
                                       int full_h, int x0, int y0, int out_w, int out_h,
                                       imbal_resize_filter filter, imbal_image *out);
imbal_status imbal_image_resize_window_to(imbal_ctx *ctx, const imbal_image *src, int full_w,
                                          int full_h, int x0, int y0, int out_w, int out_h,
                                          imbal_resize_filter filter, uint8_t *dst);

/* The size the policy resizes a w x h image to before cropping (NONE: w x h; STRETCH: the
 * target; SHORT_SIDE: round(w * s) x round(h * s) with s = max(tw / w, th / h), at least the
 * target). */
void imbal_policy_resize_size(const imbal_decode_options *o, int w, int h, int *rw, int *rh);

/* "'<name>'" helper: the name used in messages ("<memory>" when NULL). */
const char *imbal_image_name(const char *name);

/* Decoders: bytes hold a whole file whose signature was already checked. When need_w > 0 the
 * JPEG decoder may scale in the DCT domain as long as both decoded sides stay >= the size the
 * policy needs for that header (computed with imbal_policy_resize_size from o). The output is
 * 8-bit RGB at the decoded size in d's pixel buffer (*out borrows it; zeroed on failure). */
imbal_status imbal_jpeg_decode(imbal_image_decoder *d, imbal_ctx *ctx, const uint8_t *bytes,
                               size_t len, const char *name, const imbal_decode_options *o,
                               imbal_image *out);
imbal_status imbal_png_decode(imbal_image_decoder *d, imbal_ctx *ctx, const uint8_t *bytes,
                              size_t len, const char *name, const imbal_decode_options *o,
                              imbal_image *out);

/* Shared bomb check: refuses width * height > o->max_pixels with a message naming the file and
 * the numbers. */
imbal_status imbal_image_check_pixels(imbal_ctx *ctx, const char *name, int64_t w, int64_t h,
                                      int64_t max_pixels);

#endif
