/* imbal: the reusable decoder (include/imbal/image.h): format sniffing, file reading and the
 * resize policy, with the TurboJPEG handle and the pixel, resize and file buffers kept between
 * calls. One-shot imbal_image_decode / imbal_image_load (image_decode.c) run a decoder on the
 * stack for one call, so both paths share every line of decoding. Buffers only grow: a thread that
 * decodes a data set of same-sized images allocates nothing after its first image (except resize
 * temporaries when a policy resizes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "image_decoder.h"
#include "image_internal.h"
#include "input_file.h"
#include "internal.h"

static const uint8_t JPEG_SIG[3] = {0xFF, 0xD8, 0xFF};
static const uint8_t PNG_SIG[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};

imbal_status imbal_image_decoder_create(imbal_ctx *ctx, imbal_image_decoder **out) {
    if (!out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_decoder_create: out is NULL");
    *out = imbal_xcalloc(ctx, 1, sizeof **out, "image decoder");
    return *out ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
}

void imbal_image_decoder_release(imbal_image_decoder *d) {
    if (d->tj) tjDestroy(d->tj);
    free(d->pixels);
    free(d->resized);
    free(d->file);
    memset(d, 0, sizeof *d);
}

void imbal_image_decoder_destroy(imbal_image_decoder *d) {
    if (!d) return;
    imbal_image_decoder_release(d);
    free(d);
}

uint8_t *imbal_image_decoder_reserve(imbal_ctx *ctx, uint8_t **buf, size_t *cap, size_t n,
                                     const char *what) {
    /* One huge image must not pin its buffer for the decoder's life: a buffer over 64 MiB is
     * given back as soon as a call needs less than a quarter of it. */
    int oversized = *cap > ((size_t)64 << 20) && n < *cap / 4;
    if (n <= *cap && *buf && !oversized) return *buf;
    uint8_t *nb = imbal_xmalloc(ctx, n ? n : 1, 1, what);
    if (!nb) return NULL;
    free(*buf);
    *buf = nb, *cap = n;
    return nb;
}

void imbal_image_decoder_detach(imbal_image_decoder *d, const imbal_image *img) {
    if (img->data && img->data == d->pixels) d->pixels = NULL, d->pixels_cap = 0;
    if (img->data && img->data == d->resized) d->resized = NULL, d->resized_cap = 0;
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

/* Brings the decoded image (in d->pixels) to the policy's size, into d->resized. */
static imbal_status apply_policy(imbal_image_decoder *d, imbal_ctx *ctx,
                                 const imbal_decode_options *o, imbal_image *img) {
    if (o->policy == IMBAL_RESIZE_NONE) return IMBAL_OK;
    int rw, rh;
    imbal_policy_resize_size(o, img->width, img->height, &rw, &rh);
    int tw = o->target_width, th = o->target_height;
    if (rw == img->width && rh == img->height && tw == rw && th == rh) return IMBAL_OK;
    uint8_t *dst = imbal_image_decoder_reserve(ctx, &d->resized, &d->resized_cap,
                                               (size_t)tw * (size_t)th * 3, "resized image");
    if (!dst) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st = imbal_image_resize_window_to(ctx, img, rw, rh, (rw - tw) / 2, (rh - th) / 2,
                                                   tw, th, o->filter, dst);
    if (st) return st;
    img->width = tw, img->height = th, img->data = dst;
    return IMBAL_OK;
}

imbal_status imbal_image_decoder_decode_as(imbal_image_decoder *d, imbal_ctx *ctx, const char *fn,
                                           const void *bytes, size_t len, const char *name,
                                           const imbal_decode_options *o, imbal_image *out) {
    memset(out, 0, sizeof *out);
    imbal_decode_options defaults;
    if (!o) {
        imbal_decode_options_default(&defaults);
        o = &defaults;
    }
    imbal_status st = check_options(ctx, o);
    if (st) return st;
    if (len == 0) return imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s' is empty", imbal_image_name(name));
    if (!bytes) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: bytes is NULL", fn);
    const uint8_t *b = bytes;
    if (len >= sizeof JPEG_SIG && memcmp(b, JPEG_SIG, sizeof JPEG_SIG) == 0)
        st = imbal_jpeg_decode(d, ctx, b, len, name, o, out);
    else if (len >= sizeof PNG_SIG && memcmp(b, PNG_SIG, sizeof PNG_SIG) == 0)
        st = imbal_png_decode(d, ctx, b, len, name, o, out);
    else
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s' is not a JPEG or PNG image",
                          imbal_image_name(name));
    if (st == IMBAL_OK) st = apply_policy(d, ctx, o, out);
    if (st) memset(out, 0, sizeof *out);
    return st;
}

imbal_status imbal_image_decoder_decode(imbal_image_decoder *d, imbal_ctx *ctx, const void *bytes,
                                        size_t len, const char *name, const imbal_decode_options *o,
                                        imbal_image *out) {
    if (!out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_decoder_decode: out is NULL");
    memset(out, 0, sizeof *out);
    if (!d)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_decoder_decode: decoder is NULL");
    return imbal_image_decoder_decode_as(d, ctx, "imbal_image_decoder_decode", bytes, len, name, o,
                                         out);
}

/* Reads the whole file into d->file (kept between calls); *len 0 for an empty file. */
static imbal_status read_file(imbal_image_decoder *d, imbal_ctx *ctx, const char *path,
                              size_t *len) {
    *len = 0;
    FILE *fp = imbal_fopen_input(path);
    if (!fp) return imbal_fail(ctx, IMBAL_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    size_t want = 65536, n = 0;
    if (fseek(fp, 0, SEEK_END) == 0) {
        long size = ftell(fp);
        if (size > 0) want = (size_t)size + 1; /* +1 sees EOF without another grow */
        rewind(fp);
    }
    if (!imbal_image_decoder_reserve(ctx, &d->file, &d->file_cap, want, "image file")) {
        fclose(fp);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    for (;;) {
        if (n == d->file_cap) { /* the file grew since ftell, or its size was unknown */
            uint8_t *nb = imbal_xrealloc(ctx, d->file, d->file_cap * 2, 1, "image file");
            if (!nb) {
                fclose(fp);
                return IMBAL_ERR_OUT_OF_MEMORY;
            }
            d->file = nb, d->file_cap *= 2;
        }
        size_t got = fread(d->file + n, 1, d->file_cap - n, fp);
        n += got;
        if (got == 0) break;
    }
    int err = ferror(fp) ? errno : 0;
    fclose(fp);
    if (err) return imbal_fail(ctx, IMBAL_ERR_IO, "cannot read '%s': %s", path, strerror(err));
    *len = n;
    return IMBAL_OK;
}

imbal_status imbal_image_decoder_load_as(imbal_image_decoder *d, imbal_ctx *ctx, const char *fn,
                                         const char *path, const imbal_decode_options *o,
                                         imbal_image *out) {
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: path is empty", fn);
    size_t len;
    imbal_status st = read_file(d, ctx, path, &len);
    if (st) return st;
    return imbal_image_decoder_decode_as(d, ctx, fn, d->file, len, path, o, out);
}

imbal_status imbal_image_decoder_load(imbal_image_decoder *d, imbal_ctx *ctx, const char *path,
                                      const imbal_decode_options *o, imbal_image *out) {
    if (!out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_decoder_load: out is NULL");
    memset(out, 0, sizeof *out);
    if (!d)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_decoder_load: decoder is NULL");
    return imbal_image_decoder_load_as(d, ctx, "imbal_image_decoder_load", path, o, out);
}
