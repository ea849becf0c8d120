/* imbal: 16-lane float vectors for the CPU softmax row pass (not installed).
 *
 * GCC vector extensions: each target_clones clone lowers a 16-lane vector to its own registers
 * (one zmm, two ymm or four xmm) with the same lanes and the same operations, so every clone gets
 * the same bits. Written out rather than left to the auto-vectoriser because the row pass of
 * a C = 100 row was mostly per-row overhead: 16-lane accumulators kept on the stack, a sequential
 * scalar max over the lanes, and a scalar exp for the 4 classes past the last full vector. Here
 * the accumulators stay in registers, the lanes are reduced by halving, and the tail is one more
 * vector. */
#ifndef IMBAL_LOSS_CPU_VEC_H
#define IMBAL_LOSS_CPU_VEC_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Every function here, and every function of the including file that handles these vectors, is
 * inlined into its caller's clone: no vector crosses a call, so the warning about the 64-byte
 * vector ABI without AVX-512 does not apply. It stays off for the rest of the including file (GCC
 * reports it where the inlined code lands). */
#pragma GCC diagnostic ignored "-Wpsabi" /* GCC and clang both know it */

typedef float imbal_vf __attribute__((vector_size(64)));
typedef int32_t imbal_vi __attribute__((vector_size(64)));  /* lane masks (comparisons) */
typedef uint32_t imbal_vu __attribute__((vector_size(64))); /* bit arithmetic, wrapping */
#define IMBAL_VL      16
#define IMBAL_VINLINE __attribute__((always_inline)) static inline

IMBAL_VINLINE imbal_vf imbal_vsplat(float a) {
    imbal_vf v;
    for (int k = 0; k < IMBAL_VL; ++k)
        v[k] = a;
    return v;
}

IMBAL_VINLINE imbal_vu imbal_vsplat_u(uint32_t a) {
    imbal_vu v;
    for (int k = 0; k < IMBAL_VL; ++k)
        v[k] = a;
    return v;
}

IMBAL_VINLINE imbal_vf imbal_vload(const float *p) {
    imbal_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

IMBAL_VINLINE void imbal_vstore(float *p, imbal_vf v) {
    memcpy(p, &v, sizeof v);
}

/* a*b + c rounded once, per lane: fmaf is exact, so the clones with FMA (one instruction) and
 * the one without (libm) agree. */
IMBAL_VINLINE imbal_vf imbal_vfma(imbal_vf a, imbal_vf b, imbal_vf c) {
    imbal_vf r;
    for (int k = 0; k < IMBAL_VL; ++k)
        r[k] = fmaf(a[k], b[k], c[k]);
    return r;
}

/* mask ? a : b per lane (mask lanes all ones or zero), as bits. */
IMBAL_VINLINE imbal_vf imbal_vselect(imbal_vi mask, imbal_vf a, imbal_vf b) {
    return (imbal_vf)((mask & (imbal_vi)a) | (~mask & (imbal_vi)b));
}

/* Integer lane masks (all ones where true) by arithmetic instead of comparisons. GCC 12 lowers
 * some vector comparisons whose result is used as an integer mask lane by lane, into scalar
 * compares and inserts: the softmax tail's mask in the AVX-512 clone took ~200 instructions, 20
 * of the 92 ns of a C = 100 row. Shifts and logic stay vector operations in every clone.
 * imbal_vlt_mask assumes a - b does not wrap (small lane numbers here). */
IMBAL_VINLINE imbal_vi imbal_vlt_mask(imbal_vi a, int32_t b) { /* a < b */
    return (a - b) >> 31;
}

IMBAL_VINLINE imbal_vi imbal_veq_mask(imbal_vi a, imbal_vi b) { /* a == b */
    imbal_vu d = (imbal_vu)(a ^ b);
    return ~((imbal_vi)(d | (0u - d)) >> 31); /* d | -d has its top bit set unless d = 0 */
}

/* a > b ? a : b per lane: a NaN in a is skipped, as in the scalar passes. */
IMBAL_VINLINE imbal_vf imbal_vmax(imbal_vf a, imbal_vf b) {
    return imbal_vselect(a > b, a, b);
}

/* The lanes reduced by halving: lane k takes op(lane k, lane k + w) for w = 8, 4, 2, 1. */
/* Lane k + w moved to lane k (the upper lanes repeat; only lane 0 is read at the end).
 * __builtin_shufflevector: GCC 12 and clang both have it. */
#define IMBAL_VHALF8(v)                                                                            \
    __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15)
#define IMBAL_VHALF4(v)                                                                            \
    __builtin_shufflevector(v, v, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7)
#define IMBAL_VHALF2(v)                                                                            \
    __builtin_shufflevector(v, v, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3)
#define IMBAL_VHALF1(v)                                                                            \
    __builtin_shufflevector(v, v, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)

IMBAL_VINLINE float imbal_vhmax(imbal_vf v) {
    v = imbal_vmax(v, IMBAL_VHALF8(v));
    v = imbal_vmax(v, IMBAL_VHALF4(v));
    v = imbal_vmax(v, IMBAL_VHALF2(v));
    v = imbal_vmax(v, IMBAL_VHALF1(v));
    return v[0];
}

IMBAL_VINLINE float imbal_vhsum(imbal_vf v) {
    v = v + IMBAL_VHALF8(v);
    v = v + IMBAL_VHALF4(v);
    v = v + IMBAL_VHALF2(v);
    v = v + IMBAL_VHALF1(v);
    return v[0];
}

/* A 16 x 16 block transposed in registers: afterwards r[j][l] is the old r[l][j]. Four rounds of
 * the perfect shuffle, each interleaving r[i] with r[i + 8] (lanes 0-7, then 8-15), transpose a
 * 2^4 x 2^4 block; each interleave is one two-source permute with AVX-512. Pure data movement,
 * so every clone gives the same result. */
IMBAL_VINLINE void imbal_vtranspose(imbal_vf r[IMBAL_VL]) {
    for (int round = 0; round < 4; ++round) {
        imbal_vf t[IMBAL_VL];
        for (int i = 0; i < IMBAL_VL / 2; ++i) {
            t[2 * i] = __builtin_shufflevector(r[i], r[i + 8], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                               21, 6, 22, 7, 23);
            t[2 * i + 1] = __builtin_shufflevector(r[i], r[i + 8], 8, 24, 9, 25, 10, 26, 11, 27, 12,
                                                   28, 13, 29, 14, 30, 15, 31);
        }
        for (int i = 0; i < IMBAL_VL; ++i)
            r[i] = t[i];
    }
}

/* imbal_expf_nonpos (loss_cpu.h) on 16 lanes: the same operations in the same order, so the
 * same bits. */
IMBAL_VINLINE imbal_vf imbal_vexp_nonpos(imbal_vf x) {
    const imbal_vf shifter = imbal_vsplat(12582912.0f);
    imbal_vf t = imbal_vfma(x, imbal_vsplat(1.44269504088896341f), shifter);
    imbal_vf k = t - shifter;
    imbal_vu kb = (imbal_vu)t - imbal_vsplat_u(0x4B400000u);
    imbal_vf r = imbal_vfma(k, imbal_vsplat(-0.693359375f), x);
    r = imbal_vfma(k, imbal_vsplat(2.12194440e-4f), r);
    imbal_vf z = r * r;
    imbal_vf y = imbal_vsplat(1.9875691500e-4f);
    y = imbal_vfma(y, r, imbal_vsplat(1.3981999507e-3f));
    y = imbal_vfma(y, r, imbal_vsplat(8.3334519073e-3f));
    y = imbal_vfma(y, r, imbal_vsplat(4.1665795894e-2f));
    y = imbal_vfma(y, r, imbal_vsplat(1.6666665459e-1f));
    y = imbal_vfma(y, r, imbal_vsplat(5.0000001201e-1f));
    y = imbal_vfma(y, z, r) + imbal_vsplat(1.0f);
    imbal_vu sb = (kb + imbal_vsplat_u(127u)) << 23;
    imbal_vf v = y * (imbal_vf)sb;
    imbal_vi drop = x < imbal_vsplat(-87.3f); /* NaN compares false and stays */
    return (imbal_vf)((imbal_vi)v & ~drop);
}

#endif
