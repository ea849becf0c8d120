/* imbal: IEEE binary16 (f16) and bfloat16 (bf16) conversions, host and device alike.
 * f32 -> f16/bf16 rounds to nearest even; NaN stays NaN; overflow gives infinity. */
#ifndef IMBAL_HALF_H
#define IMBAL_HALF_H

#include <stdint.h>
#include <string.h>

#include "export.h"

IMBAL_HD uint32_t imbal_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

IMBAL_HD float imbal_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

IMBAL_HD float imbal_bf16_to_f32(uint16_t h) { return imbal_bits_f32((uint32_t)h << 16); }

IMBAL_HD uint16_t imbal_f32_to_bf16(float f) {
    uint32_t u = imbal_f32_bits(f);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u); /* quiet NaN */
    u += 0x7FFFu + ((u >> 16) & 1u);                                             /* nearest even */
    return (uint16_t)(u >> 16);
}

IMBAL_HD float imbal_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    if (exp == 0x1Fu) return imbal_bits_f32(sign | 0x7F800000u | (man << 13)); /* inf / NaN */
    if (exp == 0) {
        if (man == 0) return imbal_bits_f32(sign);
        /* subnormal: man * 2^-24 is exact in f32 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return imbal_bits_f32(sign | ((exp + 112u) << 23) | (man << 13));
}

IMBAL_HD uint16_t imbal_f32_to_f16(float f) {
    uint32_t u = imbal_f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t abs = u & 0x7FFFFFFFu;
    if (abs > 0x7F800000u) return (uint16_t)(sign | 0x7E00u); /* NaN */
    if (abs >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u); /* rounds to >= 65520: inf */
    if (abs < 0x38800000u) {                                   /* below 2^-14: subnormal or 0 */
        /* Adding 0.5 (2^-1) shifts the value so its low f32 mantissa bits are the f16 subnormal
         * bits, with the FPU doing round-to-nearest-even. */
        float v = imbal_bits_f32(abs) + 0.5f;
        return (uint16_t)(sign | (imbal_f32_bits(v) - 0x3F000000u));
    }
    uint32_t mant_odd = (abs >> 13) & 1u;
    abs += 0xC8000FFFu + mant_odd; /* rebias exponent (-112 << 23) and round to nearest even */
    return (uint16_t)(sign | (abs >> 13));
}

#endif
