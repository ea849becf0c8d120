/* imbal: pieces of the CPU loss twin shared by src/loss_cpu*.c (not installed). */
#ifndef IMBAL_LOSS_CPU_H
#define IMBAL_LOSS_CPU_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "imbal/half.h"
#include "loss_internal.h"

/* What the row passes need besides the job: the per-row loss buffer (the reduction sums it in a
 * fixed order, so the result does not depend on the thread count), the upstream gradient per unit
 * of row loss, and the per-class logit transform of balanced-softmax and ldam. */
typedef struct imbal_loss_cpu_plan {
    const imbal_loss_job *job;
    double *row_loss; /* [n]: the row's (weighted) loss; sigmoid kinds: sum over its C elements */
    float grad_coef;  /* grad_scale / denominator (mean) or grad_scale (sum, none) */
    float class_weight_sum; /* sum_c w_c (C without class weights): label smoothing's gradient */
    const float *offset;    /* [c] balanced-softmax: tau * log(n_c / N), else NULL */
    const float *margin;    /* [c] ldam: Delta_c, else NULL */
    int threads;
    int narrow; /* softmax kinds with C < 16: 16 rows in vector lanes (same bits as row by row) */
} imbal_loss_cpu_plan;

/* imbal_loss_cpu with the narrow-row pass allowed or not (tests compare the two). */
imbal_status imbal_loss_cpu_path(imbal_ctx *ctx, const imbal_loss_job *job, int narrow);

/* Every row loop of src/loss_cpu*.c runs in a clone for the widest vector unit found at load
 * time (GCC function multiversioning, as in alias.c): x86-64-v4 (AVX-512), v3 (AVX2 and FMA) or
 * the baseline. Lane counts are fixed (16), contraction is off (ISO C mode) and every
 * multiply-add of the polynomials below is an explicit fmaf, so every clone computes
 * bit-identical results. */
#define IMBAL_LOSS_CLONES                                                                          \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

/* Row passes; each returns IMBAL_OK or IMBAL_ERR_OUT_OF_MEMORY (ctx) for its row buffers. */
imbal_status imbal_loss_cpu_softmax(imbal_ctx *ctx, const imbal_loss_cpu_plan *plan);
imbal_status imbal_loss_cpu_sigmoid(imbal_ctx *ctx, const imbal_loss_cpu_plan *plan);

/* exp(x) for x <= 0, NaN or -inf, branch-free so loops over classes vectorise. Cody-Waite
 * reduction x = k ln2 + r and Cephes' degree-7 polynomial for e^r (error < 2 ulp against the
 * correctly rounded value on [-87.3, 0]); below -87.3 (where e^x < FLT_MIN) the result is 0, so no
 * subnormal is ever built. NaN stays NaN. Every multiply-add is fmaf: one instruction in the
 * clones with FMA (x86-64-v3 and up), exact libm elsewhere, so all give the same bits; the
 * 8-lane twin imbal_hexp_nonpos (loss_cpu_vec.h) repeats these steps. */
static inline float imbal_expf_nonpos(float x) {
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    float t = fmaf(x, 1.44269504088896341f, shifter);
    float k = t - shifter;
    uint32_t tb;
    memcpy(&tb, &t, sizeof tb);
    uint32_t kb = tb - 0x4B400000u; /* k as a two's complement integer in the low bits */
    float r = fmaf(k, -0.693359375f, x);
    r = fmaf(k, 2.12194440e-4f, r);
    float z = r * r;
    float y = 1.9875691500e-4f;
    y = fmaf(y, r, 1.3981999507e-3f);
    y = fmaf(y, r, 8.3334519073e-3f);
    y = fmaf(y, r, 4.1665795894e-2f);
    y = fmaf(y, r, 1.6666665459e-1f);
    y = fmaf(y, r, 5.0000001201e-1f);
    y = fmaf(y, z, r) + 1.0f;
    uint32_t sb = (kb + 127u) << 23;
    float scale;
    memcpy(&scale, &sb, sizeof scale);
    float v = y * scale;
    /* A bit mask instead of a branch so the loop vectorises; !(x < -87.3) keeps NaN. */
    uint32_t vb, keep = 0u - (uint32_t) !(x < -87.3f);
    memcpy(&vb, &v, sizeof vb);
    vb &= keep;
    memcpy(&v, &vb, sizeof v);
    return v;
}

/* cond ? a : b on already computed values, as bit masks: GCC (with its default -ftrapping-math)
 * does not if-convert a float ?: whose arms it could sink into branches, which stops the loop
 * from vectorising; integer blends it always does. */
static inline float imbal_loss_select(int cond, float a, float b) {
    uint32_t ua, ub, m = 0u - (uint32_t)(cond != 0);
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    uint32_t r = (ua & m) | (ub & ~m);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* log(1 + e) for e in [0, 1] (the softplus term of the sigmoid losses), branch-free:
 * log(1 + e) = 2 atanh(s) with s = e / (2 + e) in [0, 1/3], whose odd series to s^15 is accurate
 * to a few ulp and keeps full relative precision as e -> 0. */
static inline float imbal_log1pf_unit(float e) {
    float s = e / (2.0f + e);
    float z = s * s;
    float y = 1.0f / 15.0f;
    y = fmaf(y, z, 1.0f / 13.0f);
    y = fmaf(y, z, 1.0f / 11.0f);
    y = fmaf(y, z, 1.0f / 9.0f);
    y = fmaf(y, z, 1.0f / 7.0f);
    y = fmaf(y, z, 1.0f / 5.0f);
    y = fmaf(y, z, 1.0f / 3.0f);
    y = fmaf(y, z, 1.0f);
    return 2.0f * s * y;
}

/* log(x) for finite x > 0 (subnormals included), branch-free: x = 2^k m with m in [sqrt(1/2),
 * sqrt(2)) (the exponent split of musl's logf), log m = 2 atanh((m - 1)/(m + 1)) by its odd series
 * (|s| < 0.172, terms to s^11), k ln2 in two parts. The caller handles x <= 0, inf and NaN. */
static inline float imbal_logf_pos(float x) {
    int sub = x < 1.17549435e-38f;
    float xs = imbal_loss_select(sub, x * 16777216.0f, x);
    uint32_t b;
    memcpy(&b, &xs, sizeof b);
    uint32_t ix = b + (0x3f800000u - 0x3f3504f3u);
    float k = (float)((int32_t)(ix >> 23) - 127) - imbal_loss_select(sub, 24.0f, 0.0f);
    uint32_t mb = (ix & 0x007fffffu) + 0x3f3504f3u;
    float m;
    memcpy(&m, &mb, sizeof m);
    float f = m - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float y = 1.0f / 11.0f;
    y = fmaf(y, z, 1.0f / 9.0f);
    y = fmaf(y, z, 1.0f / 7.0f);
    y = fmaf(y, z, 1.0f / 5.0f);
    y = fmaf(y, z, 1.0f / 3.0f);
    y = fmaf(y, z, 1.0f);
    return fmaf(k, 0.693145752f, fmaf(k, 1.42860677e-6f, 2.0f * s * y));
}

/* log S of a softmax row, S = S_other + e_y with e_y = exp(z_y - max) <= 1, branch-free so that
 * the narrow-row pass computes it in vector lanes. When the target is the maximum (e_y = 1),
 * log S = log1p(S_other): the series keeps p_y -> 1 accurate while S_other <= 1, and above 1
 * log(1 + S_other) loses nothing. A NaN sum (a NaN logit in the row) stays NaN. */
static inline float imbal_softmax_log_s(float ey, float so, float sum) {
    float small = imbal_loss_select(so <= 1.0f, so, 0.0f);
    float lp = imbal_loss_select(so <= 1.0f, imbal_log1pf_unit(small), imbal_logf_pos(1.0f + so));
    float lg = imbal_logf_pos(imbal_loss_select(sum > 0.0f, sum, 1.0f));
    float r = imbal_loss_select(ey == 1.0f, lp, lg);
    return imbal_loss_select(sum == sum, r, sum);
}

/* imbal_softmax_log_s for one row: the same bits, computing only the logarithm it selects
 * (the branch-free form computes both so the narrow pass can run it in vector lanes). */
static inline float imbal_softmax_log_s_row(float ey, float so, float sum) {
    if (!(sum == sum)) return sum;
    if (ey == 1.0f) return so <= 1.0f ? imbal_log1pf_unit(so) : imbal_logf_pos(1.0f + so);
    return imbal_logf_pos(sum > 0.0f ? sum : 1.0f);
}

static inline float imbal_loss_load(imbal_dtype dtype, const void *base, int64_t i) {
    switch (dtype) {
    case IMBAL_F16:
        return imbal_f16_to_f32(((const uint16_t *)base)[i]);
    case IMBAL_BF16:
        return imbal_bf16_to_f32(((const uint16_t *)base)[i]);
    default:
        return ((const float *)base)[i];
    }
}

/* Reads row `row` of an [n, c] tensor of `dtype` into buf as f32. */
static inline void imbal_loss_load_row(imbal_dtype dtype, const void *base, int64_t row, int64_t c,
                                       float *buf) {
    int64_t o = row * c;
    if (dtype == IMBAL_F32) {
        memcpy(buf, (const float *)base + o, (size_t)c * sizeof(float));
    } else if (dtype == IMBAL_F16) {
        const uint16_t *h = (const uint16_t *)base + o;
        for (int64_t j = 0; j < c; ++j)
            buf[j] = imbal_f16_to_f32(h[j]);
    } else {
        const uint16_t *h = (const uint16_t *)base + o;
        for (int64_t j = 0; j < c; ++j)
            buf[j] = imbal_bf16_to_f32(h[j]);
    }
}

/* Writes buf (f32) into row `row`, rounding to `dtype`. */
static inline void imbal_loss_store_row(imbal_dtype dtype, void *base, int64_t row, int64_t c,
                                        const float *buf) {
    int64_t o = row * c;
    if (dtype == IMBAL_F32) {
        memcpy((float *)base + o, buf, (size_t)c * sizeof(float));
    } else if (dtype == IMBAL_F16) {
        uint16_t *h = (uint16_t *)base + o;
        for (int64_t j = 0; j < c; ++j)
            h[j] = imbal_f32_to_f16(buf[j]);
    } else {
        uint16_t *h = (uint16_t *)base + o;
        for (int64_t j = 0; j < c; ++j)
            h[j] = imbal_f32_to_bf16(buf[j]);
    }
}

static inline int64_t imbal_loss_target(const imbal_loss_job *job, int64_t row) {
    return job->target_dtype == IMBAL_I32 ? (int64_t)((const int32_t *)job->targets)[row]
                                          : ((const int64_t *)job->targets)[row];
}

#endif
