/* Geometric augmentation ops: padded crop (RandomCrop), horizontal flip, bilinear rotation.
 * Each reproduces torchvision 0.14's tensor path; see docs/augment.md for the exact definitions. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "augment_internal.h"
#include "internal.h"

/* Source index for padded coordinate p (source coordinate p - pad) in a side of n pixels, or -1
 * for the constant fill. torch.nn.functional.pad's "replicate" clamps; "reflect" mirrors about the
 * border pixel without repeating it (valid because pad < n). */
static int pad_source(int s, int n, imbal_pad_mode mode) {
    if (s >= 0 && s < n) return s;
    if (mode == IMBAL_PAD_CONSTANT) return -1;
    if (mode == IMBAL_PAD_EDGE) return s < 0 ? 0 : n - 1;
    return s < 0 ? -s : 2 * (n - 1) - s;
}

imbal_status imbal_aug_crop(imbal_ctx *ctx, const imbal_image *src, int top, int left, int height,
                            int width, int pad, imbal_pad_mode mode, uint8_t fill,
                            imbal_image *out) {
    const char *op = "imbal_aug_crop";
    imbal_status st = imbal_aug_check_io(ctx, op, src, 0, out);
    if (st != IMBAL_OK) return st;
    if (mode != IMBAL_PAD_CONSTANT && mode != IMBAL_PAD_EDGE && mode != IMBAL_PAD_REFLECT)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: mode %d is not a pad mode", op,
                          (int)mode);
    if (pad < 0) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: pad %d < 0", op, pad);
    if (mode == IMBAL_PAD_REFLECT && (pad >= src->width || pad >= src->height))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: reflect pad %d must be smaller than the image sides (%d x %d)", op,
                          pad, src->width, src->height);
    int64_t ph = (int64_t)src->height + 2 * (int64_t)pad;
    int64_t pw = (int64_t)src->width + 2 * (int64_t)pad;
    if (height < 1 || width < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: crop size %d x %d (height x width) is empty", op, height, width);
    if (height > ph)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: height %d exceeds the padded image (%lld)", op, height,
                          (long long)ph);
    if (width > pw)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: width %d exceeds the padded image (%lld)", op, width, (long long)pw);
    if (top < 0 || top > ph - height)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: top %d is outside [0, %lld] (padded height %lld, crop height %d)",
                          op, top, (long long)(ph - height), (long long)ph, height);
    if (left < 0 || left > pw - width)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: left %d is outside [0, %lld] (padded width %lld, crop width %d)", op,
                          left, (long long)(pw - width), (long long)pw, width);
    st = imbal_image_alloc(ctx, width, height, src->channels, out);
    if (st != IMBAL_OK) return st;

    const int c = src->channels, sw = src->width, sh = src->height;
    const size_t srow = (size_t)sw * c, orow = (size_t)width * c;
    /* Columns [x_lo, x_hi) of the window come straight from the source row: one memcpy. */
    int x_lo = pad - left, x_hi = pad + sw - left;
    x_lo = x_lo < 0 ? 0 : x_lo > width ? width : x_lo;
    x_hi = x_hi < x_lo ? x_lo : x_hi > width ? width : x_hi;
    const int parallel = (int64_t)width * height >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) schedule(static)
    for (int y = 0; y < height; ++y) {
        uint8_t *o = out->data + (size_t)y * orow;
        int sy = pad_source(top + y - pad, sh, mode);
        if (sy < 0) {
            memset(o, fill, orow);
            continue;
        }
        const uint8_t *s = src->data + (size_t)sy * srow;
        for (int x = 0; x < x_lo; ++x) {
            int sx = pad_source(left + x - pad, sw, mode);
            for (int k = 0; k < c; ++k)
                o[(size_t)x * c + k] = sx < 0 ? fill : s[(size_t)sx * c + k];
        }
        if (x_hi > x_lo)
            memcpy(o + (size_t)x_lo * c, s + (size_t)(left + x_lo - pad) * c,
                   (size_t)(x_hi - x_lo) * c);
        for (int x = x_hi; x < width; ++x) {
            int sx = pad_source(left + x - pad, sw, mode);
            for (int k = 0; k < c; ++k)
                o[(size_t)x * c + k] = sx < 0 ? fill : s[(size_t)sx * c + k];
        }
    }
    return IMBAL_OK;
}

imbal_status imbal_aug_hflip(imbal_ctx *ctx, const imbal_image *src, imbal_image *out) {
    imbal_status st = imbal_aug_check_io(ctx, "imbal_aug_hflip", src, 0, out);
    if (st != IMBAL_OK) return st;
    st = imbal_image_alloc(ctx, src->width, src->height, src->channels, out);
    if (st != IMBAL_OK) return st;
    const int w = src->width, h = src->height, c = src->channels;
    const size_t row = (size_t)w * c;
    const int parallel = (int64_t)w * h >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) schedule(static)
    for (int y = 0; y < h; ++y) {
        const uint8_t *s = src->data + (size_t)y * row;
        uint8_t *o = out->data + (size_t)y * row;
        for (int x = 0; x < w; ++x)
            for (int k = 0; k < c; ++k)
                o[(size_t)x * c + k] = s[(size_t)(w - 1 - x) * c + k];
    }
    return IMBAL_OK;
}

/* One output pixel of torchvision's rotate: F.rotate builds the inverse affine matrix in double
 * (functional._get_inverse_affine_matrix), F_t._gen_affine_grid maps pixel centres to normalised
 * coordinates in float32, grid_sample(bilinear, zeros, align_corners=False) samples the image and
 * a ones channel ("mask"), and the fill enters as img * mask + (1 - mask) * fill; the float result
 * is rounded half-to-even (torch.round) and cast. All float32, in torch's operation order.
 * torch's x86 build contracts a multiply feeding an add into one fused multiply-add: its grid bmm
 * (x r00 + y r10), grid_sample's unnormalise ((g + 1) * size / 2 - 0.5) and its bilinear sum all
 * round once per fma. We use fmaf at exactly those places; with plain mul + add about 1 byte in
 * 50000 came out one level off, with them none did in our sweeps (docs/augment.md). */
typedef struct rotate_plan {
    float r00, r10, r01, r11; /* rescaled theta: grid = (x r00 + y r10, x r01 + y r11) */
    float half_w, half_h;     /* size / 2: grid_sample's unnormalise scale */
    float fill[3];
} rotate_plan;

static inline __attribute__((always_inline)) void
rotate_row_impl(const rotate_plan *p, const imbal_image *src, int y, uint8_t *o) {
    const int w = src->width, h = src->height;
    const float yf = (float)((double)y + 0.5 - 0.5 * h); /* linspace(-h/2 + 0.5, h/2 - 0.5) */
    for (int x = 0; x < w; ++x) {
        const float xf = (float)((double)x + 0.5 - 0.5 * w);
        float gx = fmaf(yf, p->r10, xf * p->r00);
        float gy = fmaf(yf, p->r11, xf * p->r01);
        /* GridSamplerKernel.cpp ComputeLocationBase<align_corners=false>::unnormalize */
        float ix = fmaf(gx + 1.0f, p->half_w, -0.5f);
        float iy = fmaf(gy + 1.0f, p->half_h, -0.5f);
        float fx = floorf(ix), fy = floorf(iy);
        float we = ix - fx, ea = 1.0f - we, no = iy - fy, so = 1.0f - no;
        float wnw = so * ea, wne = so * we, wsw = no * ea, wse = no * we;
        int x0 = (int)fx, y0 = (int)fy;
        int in_x0 = x0 >= 0 && x0 < w, in_x1 = x0 + 1 >= 0 && x0 + 1 < w;
        int in_y0 = y0 >= 0 && y0 < h, in_y1 = y0 + 1 >= 0 && y0 + 1 < h;
        const uint8_t *r0 = in_y0 ? src->data + (size_t)y0 * w * 3 : NULL;
        const uint8_t *r1 = in_y1 ? src->data + (size_t)(y0 + 1) * w * 3 : NULL;
        float m = (in_y0 && in_x0 ? wnw : 0.0f) + (in_y0 && in_x1 ? wne : 0.0f);
        m = m + (in_y1 && in_x0 ? wsw : 0.0f);
        m = m + (in_y1 && in_x1 ? wse : 0.0f);
        for (int k = 0; k < 3; ++k) {
            float vnw = in_y0 && in_x0 ? (float)r0[(size_t)x0 * 3 + k] : 0.0f;
            float vne = in_y0 && in_x1 ? (float)r0[(size_t)(x0 + 1) * 3 + k] : 0.0f;
            float vsw = in_y1 && in_x0 ? (float)r1[(size_t)x0 * 3 + k] : 0.0f;
            float vse = in_y1 && in_x1 ? (float)r1[(size_t)(x0 + 1) * 3 + k] : 0.0f;
            float v = fmaf(vne, wne, vnw * wnw);
            v = fmaf(vsw, wsw, v);
            v = fmaf(vse, wse, v);
            float a = v * m;
            float b = (1.0f - m) * p->fill[k];
            float r = rintf(a + b); /* torch.round: half to even (default rounding mode) */
            o[(size_t)x * 3 + k] = r <= 0.0f ? 0 : r >= 255.0f ? 255 : (uint8_t)r;
        }
    }
}

/* fmaf is correctly rounded everywhere; compiled for a CPU with FMA it is one instruction instead
 * of a library call (several times faster here), with bit-identical results. */
static void rotate_row_generic(const rotate_plan *p, const imbal_image *src, int y, uint8_t *o) {
    rotate_row_impl(p, src, y, o);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("fma"))) static void
rotate_row_fma(const rotate_plan *p, const imbal_image *src, int y, uint8_t *o) {
    rotate_row_impl(p, src, y, o);
}
typedef void (*rotate_row_fn)(const rotate_plan *, const imbal_image *, int, uint8_t *);
static rotate_row_fn rotate_row_pick(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") ? rotate_row_fma : rotate_row_generic;
}
#else
typedef void (*rotate_row_fn)(const rotate_plan *, const imbal_image *, int, uint8_t *);
static rotate_row_fn rotate_row_pick(void) {
    return rotate_row_generic;
}
#endif

imbal_status imbal_aug_rotate(imbal_ctx *ctx, const imbal_image *src, float angle_deg,
                              const uint8_t fill[3], imbal_image *out) {
    const char *op = "imbal_aug_rotate";
    imbal_status st = imbal_aug_check_io(ctx, op, src, 3, out);
    if (st != IMBAL_OK) return st;
    if (!isfinite(angle_deg))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: angle_deg %g is not finite", op,
                          (double)angle_deg);
    if (!fill) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: fill is NULL", op);
    st = imbal_image_alloc(ctx, src->width, src->height, 3, out);
    if (st != IMBAL_OK) return st;
    /* _get_inverse_affine_matrix(center 0, -angle, no translation, scale 1, no shear) in double:
     * [cos r, sin r, 0; -sin r, cos r, 0] with r = radians(-angle) (math.radians: x * pi / 180). */
    const double rot = (double)(-angle_deg) * (3.14159265358979323846 / 180.0);
    const float t00 = (float)cos(rot), t01 = (float)sin(rot);
    const float t10 = (float)(-sin(rot)), t11 = (float)cos(rot);
    const float sw = (float)(0.5 * src->width), sh = (float)(0.5 * src->height);
    rotate_plan p = {.r00 = t00 / sw,
                     .r10 = t01 / sw,
                     .r01 = t10 / sh,
                     .r11 = t11 / sh,
                     .half_w = (float)src->width / 2.0f,
                     .half_h = (float)src->height / 2.0f,
                     .fill = {fill[0], fill[1], fill[2]}};
    const rotate_row_fn row_fn = rotate_row_pick();
    const int h = src->height;
    const size_t row = (size_t)src->width * 3;
    const int parallel = (int64_t)src->width * h >= IMBAL_AUG_PARALLEL_PIXELS;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) if (parallel) schedule(static)
    for (int y = 0; y < h; ++y)
        row_fn(&p, src, y, out->data + (size_t)y * row);
    return IMBAL_OK;
}
