/* imbal: 16-lane float vectors for the CPU softmax passes (not installed).
 *
 * GCC vector extensions, written out rather than left to the auto-vectoriser because the row
 * pass of a C = 100 row was mostly per-row overhead: 16-lane accumulators kept on the stack, a
 * sequential scalar max over the lanes, and a scalar exp for the 4 classes past the last full
 * vector. Here the accumulators stay in registers, the lanes are reduced by halving, and the tail
 * is one more vector. Every target_clones clone runs the same lanes through the same operations,
 * so every clone gets the same bits.
 *
 * The row pass holds its 16 lanes as two 8-lane halves (imbal_wf: lanes 0-7, then 8-15), one ymm
 * register each with AVX2 or AVX-512 and two xmm in the baseline. GCC 12 handles a single vector
 * twice the unit's width badly: in the AVX2 clone a 64-byte vector was spilled to the stack,
 * loaded a float at a time and compared lane by lane in scalar code, and ce at C = 100 took
 * 790 ns a row against 73 ns with AVX-512. Even with AVX-512, the mask of a row's last vector
 * (two comparisons or-ed) became ~200 scalar instructions, 20 of the 92 ns of a C = 100 row. On
 * 8-lane halves both compile to vector compares. The narrow pass's 16 x 16 transposes use the
 * same halves. */
#ifndef IMBAL_LOSS_CPU_VEC_H
#define IMBAL_LOSS_CPU_VEC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Every function here, and every function of the including file that handles these vectors, is
 * inlined into its caller's clone: no vector crosses a call, so the warning about the 32-byte
 * vector ABI without AVX does not apply. It stays off for the rest of the including file (GCC
 * reports it where the inlined code lands). */
#pragma GCC diagnostic ignored "-Wpsabi" /* GCC and clang both know it */

#define IMBAL_VL      16
#define IMBAL_VINLINE __attribute__((always_inline)) static inline

/* ---- 16 lanes as two 8-lane halves ------------------------------------------------------- */

typedef float imbal_hf __attribute__((vector_size(32)));
typedef int32_t imbal_hi __attribute__((vector_size(32)));  /* lane masks, lane numbers */
typedef uint32_t imbal_hu __attribute__((vector_size(32))); /* bit arithmetic, wrapping */
#define IMBAL_HL 8

typedef struct imbal_wf {
    imbal_hf h[2];
} imbal_wf;
typedef struct imbal_wi {
    imbal_hi h[2];
} imbal_wi;

IMBAL_VINLINE imbal_hf imbal_hsplat(float a) {
    imbal_hf v;
    for (int k = 0; k < IMBAL_HL; ++k)
        v[k] = a;
    return v;
}

IMBAL_VINLINE imbal_hu imbal_hsplat_u(uint32_t a) {
    imbal_hu v;
    for (int k = 0; k < IMBAL_HL; ++k)
        v[k] = a;
    return v;
}

IMBAL_VINLINE imbal_wf imbal_wsplat(float a) {
    return (imbal_wf){{imbal_hsplat(a), imbal_hsplat(a)}};
}

IMBAL_VINLINE imbal_wf imbal_wload(const float *p) {
    imbal_wf v;
    memcpy(&v.h[0], p, sizeof v.h[0]);
    memcpy(&v.h[1], p + IMBAL_HL, sizeof v.h[1]);
    return v;
}

IMBAL_VINLINE void imbal_wstore(float *p, imbal_wf v) {
    memcpy(p, &v.h[0], sizeof v.h[0]);
    memcpy(p + IMBAL_HL, &v.h[1], sizeof v.h[1]);
}

IMBAL_VINLINE imbal_wf imbal_wadd(imbal_wf a, imbal_wf b) {
    return (imbal_wf){{a.h[0] + b.h[0], a.h[1] + b.h[1]}};
}

IMBAL_VINLINE imbal_wf imbal_wsub(imbal_wf a, imbal_wf b) {
    return (imbal_wf){{a.h[0] - b.h[0], a.h[1] - b.h[1]}};
}

/* mask ? a : b per lane (mask lanes all ones or zero), as bits. */
IMBAL_VINLINE imbal_hf imbal_hselect(imbal_hi mask, imbal_hf a, imbal_hf b) {
    return (imbal_hf)((mask & (imbal_hi)a) | (~mask & (imbal_hi)b));
}

IMBAL_VINLINE imbal_wf imbal_wselect(imbal_wi mask, imbal_wf a, imbal_wf b) {
    return (imbal_wf){
        {imbal_hselect(mask.h[0], a.h[0], b.h[0]), imbal_hselect(mask.h[1], a.h[1], b.h[1])}};
}

/* a > b ? a : b per lane: a NaN in a is skipped, as in the scalar passes. */
IMBAL_VINLINE imbal_hf imbal_hmax(imbal_hf a, imbal_hf b) {
    return imbal_hselect(a > b, a, b);
}

IMBAL_VINLINE imbal_wf imbal_wmax(imbal_wf a, imbal_wf b) {
    return (imbal_wf){{imbal_hmax(a.h[0], b.h[0]), imbal_hmax(a.h[1], b.h[1])}};
}

/* The 16 lanes reduced by halving: lane k takes op(lane k, lane k + w) for w = 8 (the two
 * halves), 4, 2, 1; lane k + w is moved to lane k (the upper lanes repeat; only lane 0 is read).
 * __builtin_shufflevector: GCC 12 and clang both have it. */
#define IMBAL_HHALF4(v) __builtin_shufflevector(v, v, 4, 5, 6, 7, 4, 5, 6, 7)
#define IMBAL_HHALF2(v) __builtin_shufflevector(v, v, 2, 3, 2, 3, 2, 3, 2, 3)
#define IMBAL_HHALF1(v) __builtin_shufflevector(v, v, 1, 1, 1, 1, 1, 1, 1, 1)

IMBAL_VINLINE float imbal_whmax(imbal_wf w) {
    imbal_hf v = imbal_hmax(w.h[0], w.h[1]);
    v = imbal_hmax(v, IMBAL_HHALF4(v));
    v = imbal_hmax(v, IMBAL_HHALF2(v));
    v = imbal_hmax(v, IMBAL_HHALF1(v));
    return v[0];
}

IMBAL_VINLINE float imbal_whsum(imbal_wf w) {
    imbal_hf v = w.h[0] + w.h[1];
    v = v + IMBAL_HHALF4(v);
    v = v + IMBAL_HHALF2(v);
    v = v + IMBAL_HHALF1(v);
    return v[0];
}

/* Lane numbers 0..15, a on every lane, and a + b on every lane. */
IMBAL_VINLINE imbal_wi imbal_wlanes(void) {
    return (imbal_wi){{{0, 1, 2, 3, 4, 5, 6, 7}, {8, 9, 10, 11, 12, 13, 14, 15}}};
}

IMBAL_VINLINE imbal_wi imbal_wi_splat(int32_t a) {
    const imbal_hi zero = {0};
    return (imbal_wi){{zero + a, zero + a}};
}

IMBAL_VINLINE imbal_wi imbal_wi_add(imbal_wi a, int32_t b) {
    return (imbal_wi){{a.h[0] + b, a.h[1] + b}};
}

IMBAL_VINLINE imbal_wi imbal_wi_or(imbal_wi a, imbal_wi b) {
    return (imbal_wi){{a.h[0] | b.h[0], a.h[1] | b.h[1]}};
}

/* a < b and a == b per lane, as lane masks (all ones where true). */
IMBAL_VINLINE imbal_wi imbal_wlt(imbal_wi a, int32_t b) {
    return (imbal_wi){{a.h[0] < b, a.h[1] < b}};
}

IMBAL_VINLINE imbal_wi imbal_weq(imbal_wi a, imbal_wi b) {
    return (imbal_wi){{a.h[0] == b.h[0], a.h[1] == b.h[1]}};
}

/* a*b + c rounded once, per lane: fmaf is exact, so the clones with FMA (one instruction) and
 * the one without (libm) agree. */
IMBAL_VINLINE imbal_hf imbal_hfma(imbal_hf a, imbal_hf b, imbal_hf c) {
    imbal_hf r;
    for (int k = 0; k < IMBAL_HL; ++k)
        r[k] = fmaf(a[k], b[k], c[k]);
    return r;
}

/* A 16 x 16 block transposed in registers: afterwards r[j][l] is the old r[l][j]. Four rounds of
 * the perfect shuffle, each interleaving r[i] with r[i + 8] (lanes 0-7, then 8-15), transpose a
 * 2^4 x 2^4 block; each interleave is two-source 8-lane permutes (one instruction each with
 * AVX2 or AVX-512). Pure data movement, so every clone gives the same result. */
IMBAL_VINLINE void imbal_wtranspose(imbal_wf r[IMBAL_VL]) {
    for (int round = 0; round < 4; ++round) {
        imbal_wf t[IMBAL_VL];
        for (int i = 0; i < IMBAL_VL / 2; ++i)
            for (int k = 0; k < 2; ++k) { /* k = 0: lanes 0-7 of both; k = 1: lanes 8-15 */
                imbal_hf a = r[i].h[k], b = r[i + 8].h[k];
                t[2 * i + k].h[0] = __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11);
                t[2 * i + k].h[1] = __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15);
            }
        for (int i = 0; i < IMBAL_VL; ++i)
            r[i] = t[i];
    }
}

/* imbal_expf_nonpos (loss_cpu.h) on 8 lanes: the same operations in the same order, so the
 * same bits. */
IMBAL_VINLINE imbal_hf imbal_hexp_nonpos(imbal_hf x) {
    const imbal_hf shifter = imbal_hsplat(12582912.0f);
    imbal_hf t = imbal_hfma(x, imbal_hsplat(1.44269504088896341f), shifter);
    imbal_hf k = t - shifter;
    imbal_hu kb = (imbal_hu)t - imbal_hsplat_u(0x4B400000u);
    imbal_hf r = imbal_hfma(k, imbal_hsplat(-0.693359375f), x);
    r = imbal_hfma(k, imbal_hsplat(2.12194440e-4f), r);
    imbal_hf z = r * r;
    imbal_hf y = imbal_hsplat(1.9875691500e-4f);
    y = imbal_hfma(y, r, imbal_hsplat(1.3981999507e-3f));
    y = imbal_hfma(y, r, imbal_hsplat(8.3334519073e-3f));
    y = imbal_hfma(y, r, imbal_hsplat(4.1665795894e-2f));
    y = imbal_hfma(y, r, imbal_hsplat(1.6666665459e-1f));
    y = imbal_hfma(y, r, imbal_hsplat(5.0000001201e-1f));
    y = imbal_hfma(y, z, r) + imbal_hsplat(1.0f);
    imbal_hu sb = (kb + imbal_hsplat_u(127u)) << 23;
    imbal_hf v = y * (imbal_hf)sb;
    imbal_hi drop = x < imbal_hsplat(-87.3f); /* NaN compares false and stays */
    return (imbal_hf)((imbal_hi)v & ~drop);
}

IMBAL_VINLINE imbal_wf imbal_wexp_nonpos(imbal_wf x) {
    return (imbal_wf){{imbal_hexp_nonpos(x.h[0]), imbal_hexp_nonpos(x.h[1])}};
}

#endif
