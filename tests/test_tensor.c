/* Tensors: dtype names, shape validation, host copies; GPU allocation and copies when a CUDA
 * device answers (skipped otherwise). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

Test(dtype, sizes_names_and_parse) {
    static const imbal_dtype all[] = {IMBAL_F32, IMBAL_F16, IMBAL_BF16,
                                      IMBAL_U8,  IMBAL_I32, IMBAL_I64};
    static const size_t sizes[] = {4, 2, 2, 1, 4, 8};
    imbal_ctx *ctx = tu_ctx();
    for (int i = 0; i < 6; ++i) {
        cr_assert_eq(imbal_dtype_size(all[i]), sizes[i]);
        imbal_dtype back;
        cr_assert_eq(imbal_dtype_parse(ctx, imbal_dtype_name(all[i]), &back), IMBAL_OK);
        cr_assert_eq(back, all[i]);
    }
    cr_assert_eq(imbal_dtype_size((imbal_dtype)99), 0);
    cr_assert_str_eq(imbal_dtype_name((imbal_dtype)99), "?");
    imbal_dtype d;
    cr_assert_eq(imbal_dtype_parse(ctx, "float32", &d), IMBAL_OK);
    cr_assert_eq(d, IMBAL_F32);
    cr_assert_eq(imbal_dtype_parse(ctx, "f64", &d), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "'f64'") != NULL);
    imbal_ctx_destroy(ctx);
}

Test(tensor, alloc_numel_nbytes_free) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t;
    int64_t shape[3] = {2, 3, 4};
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F16, 3, shape, imbal_device_cpu()), IMBAL_OK);
    cr_assert_eq(imbal_tensor_numel(&t), 24);
    cr_assert_eq(imbal_tensor_nbytes(&t), 48);
    cr_assert_eq(t.owns_data, 1);
    cr_assert_not_null(t.data);
    memset(t.data, 0xAB, 48);
    imbal_tensor_free(&t);
    cr_assert_null(t.data);
    imbal_tensor_free(&t); /* twice is harmless */
    imbal_tensor_free(NULL);

    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_I64, 0, NULL, imbal_device_cpu()), IMBAL_OK);
    cr_assert_eq(imbal_tensor_numel(&t), 1); /* 0-d: one element */
    cr_assert_eq(imbal_tensor_nbytes(&t), 8);
    imbal_tensor_free(&t);

    int64_t empty[2] = {0, 5};
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 2, empty, imbal_device_cpu()), IMBAL_OK);
    cr_assert_eq(imbal_tensor_numel(&t), 0);
    cr_assert_eq(imbal_tensor_nbytes(&t), 0);
    imbal_tensor_free(&t);
    imbal_ctx_destroy(ctx);
}

Test(tensor, alloc_rejects_bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t;
    int64_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 9, shape, imbal_device_cpu()),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "ndim 9") != NULL);
    cr_assert_null(t.data);
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, -1, shape, imbal_device_cpu()),
                 IMBAL_ERR_INVALID_ARGUMENT);

    int64_t neg[2] = {3, -2};
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 2, neg, imbal_device_cpu()),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "[3,-2]") != NULL, "%s", imbal_ctx_error(ctx));

    int64_t huge[2] = {INT64_C(1) << 40, INT64_C(1) << 30};
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 2, huge, imbal_device_cpu()),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "overflows") != NULL, "%s", imbal_ctx_error(ctx));
    /* A zero extent after huge ones makes an empty tensor, not an overflow. */
    int64_t huge_empty[3] = {INT64_C(1) << 40, INT64_C(1) << 40, 0};
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 3, huge_empty, imbal_device_cpu()),
                 IMBAL_OK);
    cr_assert_eq(imbal_tensor_nbytes(&t), 0);
    imbal_tensor_free(&t);

    cr_assert_eq(imbal_tensor_alloc(ctx, &t, (imbal_dtype)42, 1, shape, imbal_device_cpu()),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "dtype 42") != NULL);
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 2, NULL, imbal_device_cpu()),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_eq(imbal_tensor_alloc(ctx, NULL, IMBAL_F32, 1, shape, imbal_device_cpu()),
                 IMBAL_ERR_INVALID_ARGUMENT);
    imbal_ctx_destroy(ctx);
}

Test(tensor, cuda_device_without_cuda_is_no_device) {
    if (imbal_cuda_device_count() > 0) cr_skip_test("a CUDA device answers; tested in tensor_gpu");
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t;
    int64_t n = 4;
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 1, &n, imbal_device_cuda(0)),
                 IMBAL_ERR_NO_DEVICE);
    cr_assert(strstr(imbal_ctx_error(ctx), "cuda:0") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_null(t.data);
    imbal_ctx_destroy(ctx);
}

Test(tensor, wrap_same_shape_and_host_copy) {
    imbal_ctx *ctx = tu_ctx();
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0};
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2};
    imbal_tensor ta = imbal_tensor_wrap(a, IMBAL_F32, 2, s23, imbal_device_cpu());
    imbal_tensor tb = imbal_tensor_wrap(b, IMBAL_F32, 2, s23, imbal_device_cpu());
    imbal_tensor tc = imbal_tensor_wrap(b, IMBAL_F32, 2, s32, imbal_device_cpu());
    cr_assert_eq(ta.owns_data, 0);
    cr_assert(imbal_tensor_same_shape(&ta, &tb));
    cr_assert_not(imbal_tensor_same_shape(&ta, &tc));
    cr_assert_eq(imbal_tensor_copy(ctx, &tb, &ta), IMBAL_OK);
    cr_assert_eq(memcmp(a, b, sizeof a), 0);
    imbal_tensor_free(&tb); /* a view: left alone */
    cr_assert_eq(tb.data, (void *)b);

    cr_assert_eq(imbal_tensor_copy(ctx, &tc, &ta), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "[3,2] vs [2,3]") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_tensor ti = imbal_tensor_wrap(b, IMBAL_I32, 2, s23, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_copy(ctx, &ti, &ta), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "i32 vs f32") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_tensor tn = imbal_tensor_wrap(NULL, IMBAL_F32, 2, s23, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_copy(ctx, &tn, &ta), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "dst") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_tensor bad = imbal_tensor_wrap(b, IMBAL_F32, 12, s23, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_copy(ctx, &bad, &ta), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "ndim 12") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}

/* ---- GPU: run only where a device answers ---------------------------------------------------- */

static void require_gpu(void) {
    if (!imbal_built_with_cuda())
        cr_skip_test("no CUDA device: this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0) cr_skip_test("no CUDA device answers on this machine");
}

Test(tensor_gpu, host_device_host_round_trip) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    enum { N = 100003 };
    int64_t n = N;
    imbal_tensor host, dev, dev2, back;
    cr_assert_eq(imbal_tensor_alloc(ctx, &host, IMBAL_I32, 1, &n, imbal_device_cpu()), IMBAL_OK);
    int32_t *h = host.data;
    for (int i = 0; i < N; ++i)
        h[i] = i * 7 - 5;
    cr_assert_eq(imbal_tensor_alloc(ctx, &dev, IMBAL_I32, 1, &n, imbal_device_cuda(0)), IMBAL_OK,
                 "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_alloc(ctx, &dev2, IMBAL_I32, 1, &n, imbal_device_cuda(0)), IMBAL_OK);
    cr_assert_eq(imbal_tensor_alloc(ctx, &back, IMBAL_I32, 1, &n, imbal_device_cpu()), IMBAL_OK);
    cr_assert_eq(imbal_tensor_copy(ctx, &dev, &host), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_copy(ctx, &dev2, &dev), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_copy(ctx, &back, &dev2), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(memcmp(host.data, back.data, sizeof(int32_t) * N), 0);
    imbal_tensor_free(&dev);
    imbal_tensor_free(&dev2);
    imbal_tensor_free(&host);
    imbal_tensor_free(&back);
    imbal_ctx_destroy(ctx);
}

Test(tensor_gpu, out_of_memory_names_bytes_and_ctx_survives) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t;
    int64_t n = INT64_C(1) << 50;
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_U8, 1, &n, imbal_device_cuda(0)),
                 IMBAL_ERR_DEVICE_OUT_OF_MEMORY, "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "1125899906842624") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_null(t.data);
    /* The failure is not sticky: the device and the context still work. */
    int64_t small = 16;
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 1, &small, imbal_device_cuda(0)), IMBAL_OK,
                 "%s", imbal_ctx_error(ctx));
    float src[16], dst[16];
    for (int i = 0; i < 16; ++i)
        src[i] = (float)i / 3.0f;
    imbal_tensor hs = imbal_tensor_wrap(src, IMBAL_F32, 1, &small, imbal_device_cpu());
    imbal_tensor hd = imbal_tensor_wrap(dst, IMBAL_F32, 1, &small, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_copy(ctx, &t, &hs), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_copy(ctx, &hd, &t), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(memcmp(src, dst, sizeof src), 0);
    imbal_tensor_free(&t);
    imbal_ctx_destroy(ctx);
}

Test(tensor_gpu, bad_device_index) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t;
    int64_t n = 4;
    int count = imbal_cuda_device_count();
    cr_assert_eq(imbal_tensor_alloc(ctx, &t, IMBAL_F32, 1, &n, imbal_device_cuda(count)),
                 IMBAL_ERR_NO_DEVICE);
    imbal_ctx_destroy(ctx);
}
