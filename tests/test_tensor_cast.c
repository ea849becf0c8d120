/* imbal_tensor_cast: conversions between every dtype, rounding, range errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

static imbal_tensor vec(void *data, imbal_dtype dtype, int64_t n) {
    int64_t shape[1] = {n};
    return imbal_tensor_wrap(data, dtype, 1, shape, imbal_device_cpu());
}

Test(tensor_cast, floats_and_integers_round_trip) {
    imbal_ctx *ctx = tu_ctx();
    float f[5] = {0.0f, 1.5f, -2.75f, 65504.0f, 1e-8f};
    uint16_t h[5], b[5];
    float back[5];
    imbal_tensor tf = vec(f, IMBAL_F32, 5), th = vec(h, IMBAL_F16, 5), tb = vec(b, IMBAL_BF16, 5),
                 tback = vec(back, IMBAL_F32, 5);
    cr_assert_eq(imbal_tensor_cast(ctx, &th, &tf), IMBAL_OK);
    cr_assert_eq(imbal_tensor_cast(ctx, &tb, &tf), IMBAL_OK);
    for (int i = 0; i < 5; ++i) {
        cr_assert_eq(h[i], imbal_f32_to_f16(f[i]));
        cr_assert_eq(b[i], imbal_f32_to_bf16(f[i]));
    }
    cr_assert_eq(imbal_tensor_cast(ctx, &tback, &th), IMBAL_OK);
    cr_assert_eq(back[1], 1.5f);
    cr_assert_eq(back[3], 65504.0f);
    int64_t i64[3] = {-5, 0, 7};
    int32_t i32[3];
    float fl[3];
    imbal_tensor t64 = vec(i64, IMBAL_I64, 3), t32 = vec(i32, IMBAL_I32, 3),
                 tfl = vec(fl, IMBAL_F32, 3);
    cr_assert_eq(imbal_tensor_cast(ctx, &t32, &t64), IMBAL_OK);
    cr_assert(i32[0] == -5 && i32[2] == 7);
    cr_assert_eq(imbal_tensor_cast(ctx, &tfl, &t32), IMBAL_OK);
    cr_assert(fl[0] == -5.0f && fl[2] == 7.0f);
    imbal_ctx_destroy(ctx);
}

Test(tensor_cast, truncates_and_refuses_out_of_range) {
    imbal_ctx *ctx = tu_ctx();
    float f[3] = {2.9f, -2.9f, 300.0f};
    int32_t i[3];
    uint8_t u[3];
    imbal_tensor tf = vec(f, IMBAL_F32, 3), ti = vec(i, IMBAL_I32, 3), tu = vec(u, IMBAL_U8, 3);
    cr_assert_eq(imbal_tensor_cast(ctx, &ti, &tf), IMBAL_OK);
    cr_assert(i[0] == 2 && i[1] == -2 && i[2] == 300);
    cr_assert_eq(imbal_tensor_cast(ctx, &tu, &tf), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "element 1") != NULL, "%s", imbal_ctx_error(ctx));
    f[0] = NAN;
    cr_assert_eq(imbal_tensor_cast(ctx, &ti, &tf), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "element 0") != NULL);
    int64_t big[1] = {INT64_C(1) << 40};
    imbal_tensor tbig = vec(big, IMBAL_I64, 1), ti1 = vec(i, IMBAL_I32, 1);
    cr_assert_eq(imbal_tensor_cast(ctx, &ti1, &tbig), IMBAL_ERR_DATA);
    imbal_ctx_destroy(ctx);
}

Test(tensor_cast, shape_mismatch_names_both) {
    imbal_ctx *ctx = tu_ctx();
    float a[6], b[6];
    int64_t s1[2] = {2, 3}, s2[2] = {3, 2};
    imbal_tensor ta = imbal_tensor_wrap(a, IMBAL_F32, 2, s1, imbal_device_cpu());
    imbal_tensor tb = imbal_tensor_wrap(b, IMBAL_F32, 2, s2, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_cast(ctx, &tb, &ta), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "[3,2] vs [2,3]") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}
