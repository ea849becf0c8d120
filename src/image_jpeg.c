/* imbal: JPEG decoding through TurboJPEG (the 2.x API: tjDecompressHeader3 / tjDecompress2).
 *
 * The handle lives in the caller's imbal_image_decoder (one per thread, no shared state): made on
 * the first JPEG, kept between calls (creating one costs several us, a 32x32 decode about 14 us).
 * TJFLAG_STOPONWARNING turns libjpeg warnings (e.g. a truncated scan that would otherwise give
 * grey rows) into failures, and any -1 return is an error, warning or not. */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "image_decoder.h"
#include "image_internal.h"
#include "internal.h"

/* The smallest TurboJPEG factor among 1/8, 1/4, 1/2 (1/1 otherwise) whose scaled size still
 * covers need_w x need_h. */
static tjscalingfactor pick_scale(int w, int h, int need_w, int need_h) {
    static const tjscalingfactor cand[3] = {{1, 8}, {1, 4}, {1, 2}};
    for (int i = 0; i < 3; ++i)
        if (TJSCALED(w, cand[i]) >= need_w && TJSCALED(h, cand[i]) >= need_h) return cand[i];
    tjscalingfactor one = {1, 1};
    return one;
}

static imbal_status tj_fail(imbal_ctx *ctx, tjhandle tj, const char *name, const char *stage) {
    int code = tjGetErrorCode(tj);
    return imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s': corrupt JPEG (%s %s: %s)",
                      imbal_image_name(name), stage, code == TJERR_WARNING ? "warning" : "error",
                      tjGetErrorStr2(tj));
}

/* The decoder's handle, made on first use. */
static tjhandle get_handle(imbal_image_decoder *d, imbal_ctx *ctx, const char *name,
                           imbal_status *st) {
    if (!d->tj) d->tj = tjInitDecompress();
    if (!d->tj)
        *st = imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "'%s': cannot create a TurboJPEG handle: %s",
                         imbal_image_name(name), tjGetErrorStr2(NULL));
    return d->tj;
}

imbal_status imbal_jpeg_decode(imbal_image_decoder *d, imbal_ctx *ctx, const uint8_t *bytes,
                               size_t len, const char *name, const imbal_decode_options *o,
                               imbal_image *out) {
    memset(out, 0, sizeof *out);
    if (len > (size_t)0xFFFFFFFFu)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "'%s': JPEG of %zu bytes is over 4 GiB",
                          imbal_image_name(name), len);
    imbal_status st = IMBAL_OK;
    tjhandle tj = get_handle(d, ctx, name, &st);
    if (!tj) return st;
    int w = 0, h = 0, subsamp = 0, cs = 0;
    if (tjDecompressHeader3(tj, bytes, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
        st = tj_fail(ctx, tj, name, "header");
        goto fail;
    }
    if (cs == TJCS_CMYK || cs == TJCS_YCCK)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                          "'%s': CMYK/YCCK JPEGs are not supported (convert the file to RGB)",
                          imbal_image_name(name));
    if ((st = imbal_image_check_pixels(ctx, name, w, h, o->max_pixels)) != IMBAL_OK) return st;
    tjscalingfactor sf = {1, 1};
    if (o->dct_scaling && o->policy != IMBAL_RESIZE_NONE) {
        int need_w, need_h;
        imbal_policy_resize_size(o, w, h, &need_w, &need_h);
        sf = pick_scale(w, h, need_w, need_h);
    }
    int dw = TJSCALED(w, sf), dh = TJSCALED(h, sf);
    uint8_t *px = imbal_image_decoder_reserve(ctx, &d->pixels, &d->pixels_cap,
                                              (size_t)dw * (size_t)dh * 3, "decoded JPEG pixels");
    if (!px) return IMBAL_ERR_OUT_OF_MEMORY;
    if (tjDecompress2(tj, bytes, (unsigned long)len, px, dw, 0, dh, TJPF_RGB,
                      TJFLAG_STOPONWARNING) != 0) {
        st = tj_fail(ctx, tj, name, "decode");
        goto fail;
    }
    out->width = dw, out->height = dh, out->channels = 3, out->data = px;
    return IMBAL_OK;
fail:
    /* libjpeg-turbo aborts the decompressor on errors, so the handle would be reusable; a fresh
     * one after a (rare) corrupt file costs nothing and rules out any state left behind. */
    tjDestroy(tj);
    d->tj = NULL;
    return st;
}
