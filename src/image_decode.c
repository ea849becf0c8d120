/* imbal: decoding entry points: format sniffing, file loading and the resize policy.
 *
 * Policies (target tw x th, decoded image w x h):
 *   NONE        the decoded image as is.
 *   STRETCH     resize to tw x th (aspect ratio not kept).
 *   SHORT_SIDE  s = max(tw / w, th / h); resize to W' x H' = max(round(w * s), tw) x
 *               max(round(h * s), th), then keep the centre window at
 *               (floor((W' - tw) / 2), floor((H' - th) / 2)): torchvision Resize + CenterCrop
 *               for a square target. Only the window is computed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_internal.h"
#include "internal.h"

static const uint8_t JPEG_SIG[3] = {0xFF, 0xD8, 0xFF};
static const uint8_t PNG_SIG[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

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

static imbal_status check_options(imbal_ctx *ctx, const imbal_decode_options *o) {
    if (o->max_pixels < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "decode options: max_pixels %lld < 1",
                          (long long)o->max_pixels);
    if (o->policy != IMBAL_RESIZE_NONE && o->policy != IMBAL_RESIZE_STRETCH &&
        o->policy != IMBAL_RESIZE_SHORT_SIDE)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "decode options: unknown policy %d",
                          (int)o->policy);
    if (o->filter != IMBAL_FILTER_AREA && o->filter != IMBAL_FILTER_BILINEAR)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "decode options: unknown filter %d",
                          (int)o->filter);
    if (o->policy != IMBAL_RESIZE_NONE && (o->target_width < 1 || o->target_height < 1))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "decode options: target %d x %d must be >= 1 x 1 with a resize policy",
                          o->target_width, o->target_height);
    return IMBAL_OK;
}

/* Brings the decoded image to the policy's size (replacing *img). */
static imbal_status apply_policy(imbal_ctx *ctx, const imbal_decode_options *o, imbal_image *img) {
    if (o->policy == IMBAL_RESIZE_NONE) return IMBAL_OK;
    int rw, rh;
    imbal_policy_resize_size(o, img->width, img->height, &rw, &rh);
    int tw = o->target_width, th = o->target_height;
    if (rw == img->width && rh == img->height && tw == rw && th == rh) return IMBAL_OK;
    imbal_image r;
    imbal_status st = imbal_image_resize_window(ctx, img, rw, rh, (rw - tw) / 2, (rh - th) / 2, tw,
                                                th, o->filter, &r);
    if (st) return st;
    imbal_image_free(img);
    *img = r;
    return IMBAL_OK;
}

imbal_status imbal_image_decode(imbal_ctx *ctx, const void *bytes, size_t len, const char *name,
                                const imbal_decode_options *o, imbal_image *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_decode: out is NULL");
    memset(out, 0, sizeof *out);
    imbal_decode_options defaults;
    if (!o) {
        imbal_decode_options_default(&defaults);
        o = &defaults;
    }
    imbal_status st = check_options(ctx, o);
    if (st) return st;
    if (len == 0) return imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s' is empty", imbal_image_name(name));
    if (!bytes)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_decode: bytes is NULL");
    const uint8_t *b = bytes;
    if (len >= sizeof JPEG_SIG && memcmp(b, JPEG_SIG, sizeof JPEG_SIG) == 0)
        st = imbal_jpeg_decode(ctx, b, len, name, o, out);
    else if (len >= sizeof PNG_SIG && memcmp(b, PNG_SIG, sizeof PNG_SIG) == 0)
        st = imbal_png_decode(ctx, b, len, name, o, out);
    else
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s' is not a JPEG or PNG image",
                          imbal_image_name(name));
    if (st == IMBAL_OK) st = apply_policy(ctx, o, out);
    if (st) imbal_image_free(out);
    return st;
}

/* Reads a whole file; *len 0 for an empty one. */
static imbal_status read_file(imbal_ctx *ctx, const char *path, uint8_t **data, size_t *len) {
    *data = NULL, *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return imbal_fail(ctx, IMBAL_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 0, n = 0;
    uint8_t *buf = NULL;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long size = ftell(fp);
        if (size > 0) cap = (size_t)size + 1; /* +1 sees EOF without another grow */
        rewind(fp);
    }
    for (;;) {
        if (n == cap || !buf) {
            size_t ncap = !buf && cap ? cap : cap ? cap * 2 : 65536;
            uint8_t *nb = imbal_xrealloc(ctx, buf, ncap, 1, "image file");
            if (!nb) {
                free(buf), fclose(fp);
                return IMBAL_ERR_OUT_OF_MEMORY;
            }
            buf = nb, cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(fp) ? errno : 0;
    fclose(fp);
    if (err) {
        free(buf);
        return imbal_fail(ctx, IMBAL_ERR_IO, "cannot read '%s': %s", path, strerror(err));
    }
    *data = buf, *len = n;
    return IMBAL_OK;
}

imbal_status imbal_image_load(imbal_ctx *ctx, const char *path, const imbal_decode_options *o,
                              imbal_image *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_load: path is empty");
    uint8_t *data;
    size_t len;
    imbal_status st = read_file(ctx, path, &data, &len);
    if (st) return st;
    st = imbal_image_decode(ctx, data, len, path, o, out);
    free(data);
    return st;
}
