/* Colour augmentation ops: brightness, contrast, saturation, hue (torchvision ColorJitter's
 * functional parts), reproducing torchvision 0.14's uint8 tensor arithmetic in float32:
 *   _blend(a, b, r) = (r * a + (1 - r) * b).clamp(0, 255).to(uint8)   (truncation)
 *   grayscale      = (0.2989 r + 0.587 g + 0.114 b).to(uint8)          (truncation)
 * Python scalars become float32 when they meet a float32 tensor, so r is (float)factor and
 * (1 - r) is computed in double first, then rounded to float. See docs/augment.md. */
#include <math.h>
#include <stdint.h>

#include "augment_internal.h"
#include "augment_pixel.h"
#include "internal.h"

static inline uint8_t gray_u8(const uint8_t *p) {
    float g = 0.2989f * (float)p[0] + 0.587f * (float)p[1];
    g = g + 0.114f * (float)p[2];
    return imbal_aug_trunc_u8(g);
}

static inline uint8_t blend_u8(float r, float omr, float a, float b) {
    float v = r * a + omr * b;
    return imbal_aug_trunc_u8(v);
}

/* The per-pixel work of the four ops, selected by `kind`. */
typedef enum color_kind {
    COLOR_BRIGHTNESS,
    COLOR_CONTRAST,
    COLOR_SATURATION,
    COLOR_HUE
} color_kind;

typedef struct color_plan {
    color_kind kind;
    float r, omr; /* blend ratio and (float)(1.0 - ratio) */
    float mean;   /* contrast: mean of the grayscale image */
    float hue;    /* hue shift in turns */
} color_plan;

/* torchvision _rgb2hsv, + hue, % 1.0, _hsv2rgb, * 255, .to(uint8), over one row: the per-pixel
 * function of the random pipeline (written with selects only, every step the same IEEE float32
 * operation torch performs, so the results are bit-identical). */
static void hue_row(const uint8_t *restrict in, float shift, uint8_t *restrict o, int w) {
    for (int x = 0; x < w; ++x) {
        uint8_t rgb[3] = {in[3 * x], in[3 * x + 1], in[3 * x + 2]};
        imbal_px_hue(rgb, shift); /* src/augment_pixel.h: the one copy, shared with the kernel */
        o[3 * x] = rgb[0];
        o[3 * x + 1] = rgb[1];
        o[3 * x + 2] = rgb[2];
    }
}

/* One row of one op. The plan's fields are copied to locals first: the uint8 stores could alias
 * them otherwise, which keeps the compiler from vectorising. */
static void color_row(const color_plan *plan, const uint8_t *restrict s, uint8_t *restrict o,
                      int w) {
    const float r = plan->r, omr = plan->omr, mean = plan->mean;
    switch (plan->kind) {
    case COLOR_BRIGHTNESS:
        for (int i = 0; i < 3 * w; ++i)
            o[i] = blend_u8(r, omr, (float)s[i], 0.0f);
        break;
    case COLOR_CONTRAST:
        for (int i = 0; i < 3 * w; ++i)
            o[i] = blend_u8(r, omr, (float)s[i], mean);
        break;
    case COLOR_SATURATION:
        for (int x = 0; x < w; ++x) {
            const float g = (float)gray_u8(s + 3 * x);
            o[3 * x] = blend_u8(r, omr, (float)s[3 * x], g);
            o[3 * x + 1] = blend_u8(r, omr, (float)s[3 * x + 1], g);
            o[3 * x + 2] = blend_u8(r, omr, (float)s[3 * x + 2], g);
        }
        break;
    case COLOR_HUE:
        hue_row(s, plan->hue, o, w);
        break;
    }
}

static imbal_status color_apply(imbal_ctx *ctx, const imbal_image *src, const color_plan *p,
                                imbal_image *out) {
    imbal_status st = imbal_image_alloc(ctx, src->width, src->height, 3, out);
    if (st != IMBAL_OK) return st;
    const int w = src->width, h = src->height;
    const size_t row = (size_t)w * 3;
    const int parallel = (int64_t)w * h >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) schedule(static)
    for (int y = 0; y < h; ++y)
        color_row(p, src->data + (size_t)y * row, out->data + (size_t)y * row, w);
    return IMBAL_OK;
}

static color_plan blend_plan(color_kind kind, float factor) {
    color_plan p = {.kind = kind, .r = factor, .omr = (float)(1.0 - (double)factor)};
    return p;
}

/* The arguments every blend op checks: an RGB source, an output, a factor >= 0. */
static imbal_status check_blend(imbal_ctx *ctx, const char *op, const imbal_image *src,
                                float factor, imbal_image *out) {
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, out);
    return st == IMBAL_OK ? imbal_aug_check_factor(ctx, op, factor) : st;
}

imbal_status imbal_aug_brightness(imbal_ctx *ctx, const imbal_image *src, float factor,
                                  imbal_image *out) {
    imbal_status st = check_blend(ctx, "imbal_aug_brightness", src, factor, out);
    if (st != IMBAL_OK) return st;
    color_plan p = blend_plan(COLOR_BRIGHTNESS, factor);
    return color_apply(ctx, src, &p, out);
}

imbal_status imbal_aug_contrast(imbal_ctx *ctx, const imbal_image *src, float factor,
                                imbal_image *out) {
    imbal_status st = check_blend(ctx, "imbal_aug_contrast", src, factor, out);
    if (st != IMBAL_OK) return st;
    /* torch.mean(gray.to(float32)): the integer sum is exact; torch's float32 sum is too while it
     * stays below 2^24 (images up to 65793 pixels), then it is divided by the count in float32. */
    const int w = src->width, h = src->height;
    const int64_t n = (int64_t)w * h;
    int64_t sum = 0;
    const int parallel = n >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) reduction(+ : sum)
    for (int64_t i = 0; i < n; ++i)
        sum += gray_u8(src->data + 3 * i);
    color_plan p = blend_plan(COLOR_CONTRAST, factor);
    p.mean = (float)sum / (float)n;
    return color_apply(ctx, src, &p, out);
}

imbal_status imbal_aug_saturation(imbal_ctx *ctx, const imbal_image *src, float factor,
                                  imbal_image *out) {
    imbal_status st = check_blend(ctx, "imbal_aug_saturation", src, factor, out);
    if (st != IMBAL_OK) return st;
    color_plan p = blend_plan(COLOR_SATURATION, factor);
    return color_apply(ctx, src, &p, out);
}

imbal_status imbal_aug_hue(imbal_ctx *ctx, const imbal_image *src, float factor, imbal_image *out) {
    const char *op = "imbal_aug_hue";
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, out);
    if (st != IMBAL_OK) return st;
    if (!(factor >= -0.5f && factor <= 0.5f)) /* also refuses NaN */
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: factor %g is outside [-0.5, 0.5]",
                          op, (double)factor);
    color_plan p = {.kind = COLOR_HUE, .hue = factor};
    return color_apply(ctx, src, &p, out);
}
