/* imbal: JPEG decoding through TurboJPEG (the 2.x API: tjDecompressHeader3 / tjDecompress2).
 *
 * A handle is made and destroyed per call (no shared state; about 1 us against a decode).
 * TJFLAG_STOPONWARNING turns libjpeg warnings (e.g. a truncated scan that would otherwise give
 * grey rows) into failures, and any -1 return is an error, warning or not. */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

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

imbal_status imbal_jpeg_decode(imbal_ctx *ctx, const uint8_t *bytes, size_t len, const char *name,
                               const imbal_decode_options *o, imbal_image *out) {
    if (len > (size_t)0xFFFFFFFFu)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "'%s': JPEG of %zu bytes is over 4 GiB",
                          imbal_image_name(name), len);
    tjhandle tj = tjInitDecompress();
    if (!tj)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "'%s': cannot create a TurboJPEG handle: %s", imbal_image_name(name),
                          tjGetErrorStr2(NULL));
    int w = 0, h = 0, subsamp = 0, cs = 0;
    imbal_status st = IMBAL_OK;
    if (tjDecompressHeader3(tj, bytes, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
        st = tj_fail(ctx, tj, name, "header");
        goto done;
    }
    if (cs == TJCS_CMYK || cs == TJCS_YCCK) {
        st = imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                        "'%s': CMYK/YCCK JPEGs are not supported (convert the file to RGB)",
                        imbal_image_name(name));
        goto done;
    }
    if ((st = imbal_image_check_pixels(ctx, name, w, h, o->max_pixels)) != IMBAL_OK) goto done;
    tjscalingfactor sf = {1, 1};
    if (o->dct_scaling && o->policy != IMBAL_RESIZE_NONE) {
        int need_w, need_h;
        imbal_policy_resize_size(o, w, h, &need_w, &need_h);
        sf = pick_scale(w, h, need_w, need_h);
    }
    int dw = TJSCALED(w, sf), dh = TJSCALED(h, sf);
    if ((st = imbal_image_alloc(ctx, dw, dh, 3, out)) != IMBAL_OK) goto done;
    if (tjDecompress2(tj, bytes, (unsigned long)len, out->data, dw, 0, dh, TJPF_RGB,
                      TJFLAG_STOPONWARNING) != 0) {
        st = tj_fail(ctx, tj, name, "decode");
        imbal_image_free(out);
    }
done:
    tjDestroy(tj);
    return st;
}
