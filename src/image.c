/* imbal: decode option defaults and the resize filters (alloc/free: src/image_alloc.c).
 *
 * Both filters are separable and computed in float: a horizontal pass over every source row
 * into a float buffer, then a vertical pass; each pass is a table of (first tap, tap count,
 * weights) per output index.
 * AREA is adaptive average pooling (torch.nn.functional.interpolate mode="area", i.e.
 * adaptive_avg_pool2d): output index i averages source indices [floor(i * in / out),
 * ceil((i + 1) * in / out)). BILINEAR is interpolate(mode="bilinear", align_corners=False,
 * antialias=False): source coordinate (i + 0.5) * in / out - 0.5, clamped below at 0, taps
 * floor(x) and min(floor(x) + 1, in - 1). Results are rounded to nearest and clamped to 0..255. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image_internal.h"
#include "internal.h"

/* Below this many output values a pass runs on one thread: OpenMP start-up costs more. */
#define PARALLEL_MIN_WORK 65536

void imbal_decode_options_default(imbal_decode_options *o) {
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->max_pixels = 89478485;
    o->policy = IMBAL_RESIZE_NONE;
    o->filter = IMBAL_FILTER_AREA;
    o->dct_scaling = 1;
}

/* Taps of one pass: output index i reads source indices first[i] .. first[i] + count[i] - 1
 * with weights w[i * stride ..]. */
typedef struct taps {
    int *first, *count;
    float *w;
    int stride;
} taps;

static void taps_free(taps *t) {
    free(t->first), free(t->count), free(t->w);
    memset(t, 0, sizeof *t);
}

/* Taps for output indices off .. off + n - 1 of a resize from `in` to `full`. */
static imbal_status taps_make(imbal_ctx *ctx, int in, int full, int off, int n,
                              imbal_resize_filter filter, taps *t) {
    memset(t, 0, sizeof *t);
    t->stride = filter == IMBAL_FILTER_AREA ? (in + full - 1) / full + 1 : 2;
    t->first = imbal_xmalloc(ctx, (size_t)n, sizeof *t->first, "resize taps");
    t->count = imbal_xmalloc(ctx, (size_t)n, sizeof *t->count, "resize taps");
    t->w = imbal_xcalloc(ctx, (size_t)n * (size_t)t->stride, sizeof *t->w, "resize taps");
    if (!t->first || !t->count || !t->w) {
        taps_free(t);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    for (int k = 0; k < n; ++k) {
        int64_t i = off + k;
        float *w = t->w + (size_t)k * (size_t)t->stride;
        if (filter == IMBAL_FILTER_AREA) {
            /* adaptive_avg_pool2d's start_index / end_index */
            int64_t a = (i * in) / full, b = ((i + 1) * in + full - 1) / full;
            t->first[k] = (int)a;
            t->count[k] = (int)(b - a);
            for (int64_t j = 0; j < b - a; ++j)
                w[j] = 1.0f / (float)(b - a);
        } else {
            float scale = (float)in / (float)full;
            float x = ((float)i + 0.5f) * scale - 0.5f;
            if (x < 0) x = 0;
            int x0 = (int)x;
            float l = x - (float)x0;
            t->first[k] = x0;
            if (x0 + 1 < in) {
                t->count[k] = 2;
                w[0] = 1.0f - l;
                w[1] = l;
            } else {
                t->count[k] = 1;
                w[0] = 1.0f;
            }
        }
    }
    return IMBAL_OK;
}

static uint8_t to_u8(float v) {
    v = floorf(v + 0.5f);
    return (uint8_t)(v < 0.0f ? 0.0f : v > 255.0f ? 255.0f : v);
}

imbal_status imbal_image_resize_window_to(imbal_ctx *ctx, const imbal_image *src, int full_w,
                                          int full_h, int x0, int y0, int out_w, int out_h,
                                          imbal_resize_filter filter, uint8_t *dst) {
    const int ch = src->channels, in_w = src->width, in_h = src->height;
    taps tx, ty;
    imbal_status st = taps_make(ctx, in_w, full_w, x0, out_w, filter, &tx);
    if (st) return st;
    st = taps_make(ctx, in_h, full_h, y0, out_h, filter, &ty);
    if (st) {
        taps_free(&tx);
        return st;
    }
    /* Only the source rows the vertical taps touch go through the horizontal pass. */
    int row_lo = ty.first[0], row_hi = ty.first[out_h - 1] + ty.count[out_h - 1];
    int rows = row_hi - row_lo;
    size_t row_len = (size_t)out_w * (size_t)ch;
    float *tmp = imbal_xmalloc(ctx, (size_t)rows * row_len, sizeof *tmp, "resize buffer");
    if (!tmp) {
        taps_free(&tx), taps_free(&ty);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    int threads = imbal_ctx_omp_threads(ctx);
    int par_h = (size_t)rows * row_len >= PARALLEL_MIN_WORK;
#pragma omp parallel for schedule(static) num_threads(threads) if (par_h)
    for (int r = 0; r < rows; ++r) {
        const uint8_t *s = src->data + (size_t)(row_lo + r) * (size_t)in_w * (size_t)ch;
        float *d = tmp + (size_t)r * row_len;
        for (int j = 0; j < out_w; ++j) {
            const float *w = tx.w + (size_t)j * (size_t)tx.stride;
            const uint8_t *p = s + (size_t)tx.first[j] * (size_t)ch;
            for (int c = 0; c < ch; ++c) {
                float acc = 0.0f;
                for (int k = 0; k < tx.count[j]; ++k)
                    acc += w[k] * (float)p[(size_t)k * (size_t)ch + (size_t)c];
                d[(size_t)j * (size_t)ch + (size_t)c] = acc;
            }
        }
    }
    int par_v = (size_t)out_h * row_len >= PARALLEL_MIN_WORK;
#pragma omp parallel for schedule(static) num_threads(threads) if (par_v)
    for (int i = 0; i < out_h; ++i) {
        const float *w = ty.w + (size_t)i * (size_t)ty.stride;
        const float *base = tmp + (size_t)(ty.first[i] - row_lo) * row_len;
        uint8_t *d = dst + (size_t)i * row_len;
        int n = ty.count[i];
        for (size_t x = 0; x < row_len; ++x) {
            float acc = 0.0f;
            for (int k = 0; k < n; ++k)
                acc += w[k] * base[(size_t)k * row_len + x];
            d[x] = to_u8(acc);
        }
    }
    free(tmp);
    taps_free(&tx), taps_free(&ty);
    return IMBAL_OK;
}

imbal_status imbal_image_resize_window(imbal_ctx *ctx, const imbal_image *src, int full_w,
                                       int full_h, int x0, int y0, int out_w, int out_h,
                                       imbal_resize_filter filter, imbal_image *out) {
    imbal_status st = imbal_image_alloc(ctx, out_w, out_h, src->channels, out);
    if (st) return st;
    st = imbal_image_resize_window_to(ctx, src, full_w, full_h, x0, y0, out_w, out_h, filter,
                                      out->data);
    if (st) imbal_image_free(out);
    return st;
}

imbal_status imbal_image_resize(imbal_ctx *ctx, const imbal_image *src, int width, int height,
                                imbal_resize_filter filter, imbal_image *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_resize: out is NULL");
    memset(out, 0, sizeof *out);
    if (!src || !src->data || src->width < 1 || src->height < 1 || src->channels < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_resize: the source image is empty or NULL");
    if (width < 1 || height < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_resize: target %d x %d must be >= 1 x 1", width, height);
    if (filter != IMBAL_FILTER_AREA && filter != IMBAL_FILTER_BILINEAR)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_resize: unknown filter %d",
                          (int)filter);
    return imbal_image_resize_window(ctx, src, width, height, 0, 0, width, height, filter, out);
}
