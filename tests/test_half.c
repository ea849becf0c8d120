/* half.h: f32 <-> f16 and bf16 conversions against numpy's float16 and torch's bfloat16
 * (tests/data/half/make_half_fixtures.py), plus exhaustive f16 invariants. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "imbal/imbal.h"
#include "test_util.h"

static int f16_is_nan(uint16_t h) {
    return (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0;
}
static int bf16_is_nan(uint16_t h) {
    return (h & 0x7F80u) == 0x7F80u && (h & 0x7Fu) != 0;
}

Test(half, matches_numpy_and_torch_reference) {
    FILE *fp = fopen(IMBAL_TEST_DATA_DIR "/half/half_reference.csv", "r");
    cr_assert_not_null(fp);
    char line[128];
    cr_assert_not_null(fgets(line, sizeof line, fp)); /* header */
    int rows = 0, nans = 0;
    unsigned w, h, b;
    while (fscanf(fp, "%x,%x,%x\n", &w, &h, &b) == 3) {
        float f = imbal_bits_f32(w);
        uint16_t got16 = imbal_f32_to_f16(f), gotbf = imbal_f32_to_bf16(f);
        if (isnan(f)) {
            ++nans;
            cr_assert(f16_is_nan(got16), "f32 %08x -> f16 %04x is not NaN", w, got16);
            cr_assert(bf16_is_nan(gotbf), "f32 %08x -> bf16 %04x is not NaN", w, gotbf);
            cr_assert(f16_is_nan((uint16_t)h) && bf16_is_nan((uint16_t)b));
        } else {
            cr_assert_eq(got16, h, "f32 %08x (%.9g) -> f16 %04x, numpy says %04x", w, (double)f,
                         got16, h);
            cr_assert_eq(gotbf, b, "f32 %08x (%.9g) -> bf16 %04x, torch says %04x", w, (double)f,
                         gotbf, b);
        }
        ++rows;
    }
    fclose(fp);
    cr_assert_gt(rows, 1000);
    cr_assert_geq(nans, 6);
}

Test(half, hand_checked_edges) {
    cr_assert_eq(imbal_f32_to_f16(65504.0f), 0x7BFF);
    cr_assert_eq(imbal_f32_to_f16(65519.996f), 0x7BFF); /* below the midpoint to 65536 */
    cr_assert_eq(imbal_f32_to_f16(65520.0f), 0x7C00);   /* the tie rounds to even: infinity */
    cr_assert_eq(imbal_f32_to_f16(-0.0f), 0x8000);
    cr_assert_eq(imbal_f32_to_f16(5.9604645e-08f), 0x0001);      /* 2^-24, smallest subnormal */
    cr_assert_eq(imbal_f32_to_f16(2.9802322e-08f), 0x0000);      /* 2^-25: tie to even (0) */
    cr_assert_eq(imbal_f32_to_f16(8.9406967e-08f), 0x0002);      /* 1.5 * 2^-24: tie to even (2) */
    cr_assert_eq(imbal_f32_to_f16(1.0f + 0x1p-11f), 0x3C00);     /* tie, even below */
    cr_assert_eq(imbal_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3C02); /* tie, even above */
    cr_assert_eq(imbal_f32_to_bf16(imbal_bits_f32(0x3F808000u)), 0x3F80); /* tie, keep even */
    cr_assert_eq(imbal_f32_to_bf16(imbal_bits_f32(0x3F818000u)), 0x3F82); /* tie, round up */
    cr_assert_eq(imbal_f32_to_bf16(imbal_bits_f32(0x3F808001u)), 0x3F81);
    cr_assert_eq(imbal_f32_to_bf16(imbal_bits_f32(0x7F7F8000u)), 0x7F80); /* FLT_MAX -> inf */
    cr_assert_eq(imbal_f32_to_bf16(INFINITY), 0x7F80);
    cr_assert_eq(imbal_bf16_to_f32(0x3F80), 1.0f);
    cr_assert(isinf(imbal_f16_to_f32(0x7C00)) && imbal_f16_to_f32(0x7C00) > 0);
    cr_assert(isnan(imbal_f16_to_f32(0x7E00)));
    cr_assert(signbit(imbal_f16_to_f32(0x8000)) && imbal_f16_to_f32(0x8000) == 0.0f);
}

/* Every f16 value: the decoder agrees with the definition (-1)^s * 2^(e-15) * (1 + m/1024), and
 * encoding the decoded value gives the same bits back (NaN stays NaN). */
Test(half, exhaustive_f16_round_trip) {
    for (uint32_t h = 0; h < 65536; ++h) {
        float f = imbal_f16_to_f32((uint16_t)h);
        int s = (int)(h >> 15), e = (int)((h >> 10) & 31), m = (int)(h & 1023);
        if (e == 31) {
            cr_assert(m ? isnan(f) : isinf(f), "f16 %04x", h);
            if (m) {
                cr_assert(f16_is_nan(imbal_f32_to_f16(f)));
                continue;
            }
        } else {
            double want = e ? ldexp(1.0 + m / 1024.0, e - 15) : ldexp(m / 1024.0, -14);
            if (s) want = -want;
            cr_assert_eq((double)f, want, "f16 %04x -> %.9g, want %.9g", h, (double)f, want);
        }
        cr_assert_eq(imbal_f32_to_f16(f), h, "f16 %04x does not round-trip", h);
        cr_assert_eq(!!signbit(f), s);
    }
}

Test(half, bf16_round_trip_is_exact) {
    for (uint32_t b = 0; b < 65536; ++b) {
        float f = imbal_bf16_to_f32((uint16_t)b);
        if (isnan(f))
            cr_assert(bf16_is_nan(imbal_f32_to_bf16(f)));
        else
            cr_assert_eq(imbal_f32_to_bf16(f), b, "bf16 %04x does not round-trip", b);
    }
}
