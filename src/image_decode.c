/* imbal: the one-shot decoding entry points (a decoder on the stack, its result detached), the
 * bomb check and the resize policy's size. The decoding itself is in image_decoder.c.
 *
 * Policies (target tw x th, decoded image w x h):
 *   NONE        the decoded image as is.
 *   STRETCH     resize to tw x th (aspect ratio not kept).
 *   SHORT_SIDE  s = max(tw / w, th / h); resize to W' x H' = max(round(w * s), tw) x
 *               max(round(h * s), th), then keep the centre window at
 *               (floor((W' - tw) / 2), floor((H' - th) / 2)): torchvision Resize + CenterCrop
 *               for a square target. Only the window is computed. */
#include <math.h>
#include <string.h>

#include "image_decoder.h"
#include "image_internal.h"
#include "internal.h"

const char *imbal_image_name(const char *name) {
    return name ? name : "<memory>";
}

imbal_status imbal_image_check_pixels(imbal_ctx *ctx, const char *name, int64_t w, int64_t h,
                                      int64_t max_pixels) {
    if (w < 1 || h < 1)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s': header gives an empty image (%lld x %lld)",
                          imbal_image_name(name), (long long)w, (long long)h);
    if (w * h > max_pixels)
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "'%s': %lld x %lld = %lld pixels exceeds max_pixels %lld (a "
                          "decompression bomb?)",
                          imbal_image_name(name), (long long)w, (long long)h, (long long)(w * h),
                          (long long)max_pixels);
    return IMBAL_OK;
}

void imbal_policy_resize_size(const imbal_decode_options *o, int w, int h, int *rw, int *rh) {
    *rw = w, *rh = h;
    if (o->policy == IMBAL_RESIZE_STRETCH) {
        *rw = o->target_width, *rh = o->target_height;
    } else if (o->policy == IMBAL_RESIZE_SHORT_SIDE) {
        double sx = (double)o->target_width / w, sy = (double)o->target_height / h;
        double s = sx > sy ? sx : sy;
        double fw = floor((double)w * s + 0.5), fh = floor((double)h * s + 0.5);
        *rw = fw < o->target_width ? o->target_width : (int)fw;
        *rh = fh < o->target_height ? o->target_height : (int)fh;
    }
}

/* Runs a fresh decoder (its handle and buffers live for this call only) and hands its result
 * to the caller. */
imbal_status imbal_image_decode(imbal_ctx *ctx, const void *bytes, size_t len, const char *name,
                                const imbal_decode_options *o, imbal_image *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_decode: out is NULL");
    imbal_image_decoder d;
    memset(&d, 0, sizeof d);
    imbal_status st =
        imbal_image_decoder_decode_as(&d, ctx, "imbal_image_decode", bytes, len, name, o, out);
    if (st == IMBAL_OK) imbal_image_decoder_detach(&d, out);
    imbal_image_decoder_release(&d);
    return st;
}

imbal_status imbal_image_load(imbal_ctx *ctx, const char *path, const imbal_decode_options *o,
                              imbal_image *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_load: out is NULL");
    imbal_image_decoder d;
    memset(&d, 0, sizeof d);
    imbal_status st = imbal_image_decoder_load_as(&d, ctx, "imbal_image_load", path, o, out);
    if (st == IMBAL_OK) imbal_image_decoder_detach(&d, out);
    imbal_image_decoder_release(&d);
    return st;
}
