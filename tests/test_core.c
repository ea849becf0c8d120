/* Core: status codes, context errors, Philox4x32-10 known answers and its derived draws. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "imbal/imbal.h"
#include "internal.h" /* imbal_ctx_restore_error */
#include "test_util.h"

Test(status, names_and_categories) {
    cr_assert_str_eq(imbal_status_string(IMBAL_OK), "IMBAL_OK");
    cr_assert_str_eq(imbal_status_string(IMBAL_ERR_DATA), "IMBAL_ERR_DATA");
    cr_assert_str_eq(imbal_status_string((imbal_status)12345), "IMBAL_ERR_UNKNOWN");
    cr_assert_eq(IMBAL_STATUS_CATEGORY(IMBAL_ERR_FORMAT), 3);
    cr_assert_eq(IMBAL_STATUS_CATEGORY(IMBAL_ERR_CUDA), 5);
}

Test(context, version_handshake_refuses_other_major) {
    imbal_ctx *ctx = (imbal_ctx *)0x1;
    cr_assert_eq(imbal_ctx_create_version(IMBAL_VERSION_NUMBER + 10000, &ctx), IMBAL_ERR_VERSION);
    cr_assert_null(ctx);
    cr_assert(strstr(imbal_ctx_error(NULL), "does not match") != NULL);
    cr_assert_eq(imbal_ctx_last_status(NULL), IMBAL_ERR_VERSION);
}

Test(context, errors_are_per_handle) {
    imbal_ctx *a = tu_ctx(), *b = tu_ctx();
    cr_assert_str_eq(imbal_ctx_error(a), "");
    cr_assert_eq(imbal_ctx_set_threads(a, -3), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(a), "-3") != NULL);
    cr_assert_str_eq(imbal_ctx_error(b), "");
    imbal_ctx_clear_error(a);
    cr_assert_str_eq(imbal_ctx_error(a), "");
    cr_assert_eq(imbal_ctx_set_threads(a, 2), IMBAL_OK);
    cr_assert_eq(imbal_ctx_threads(a), 2);
    imbal_ctx_destroy(a);
    imbal_ctx_destroy(b);
    imbal_ctx_destroy(NULL);
}

/* The conv engine search skips a candidate that fails and puts back what the context said
 * before (kernels/nn_conv_cudnn.cu), through imbal_ctx_restore_error. */
Test(context, restore_error_puts_back_a_saved_state) {
    imbal_ctx *a = tu_ctx();
    cr_assert_eq(imbal_ctx_set_threads(a, -3), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_status st0 = imbal_ctx_last_status(a);
    char saved[256];
    snprintf(saved, sizeof saved, "%s", imbal_ctx_error(a));
    cr_assert_eq(imbal_ctx_set_threads(a, 5000), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(a), "5000") != NULL);
    imbal_ctx_restore_error(a, st0, saved);
    cr_assert_str_eq(imbal_ctx_error(a), saved);
    cr_assert_eq(imbal_ctx_last_status(a), IMBAL_ERR_INVALID_ARGUMENT);
    /* its own buffer: unchanged; NULL: empty */
    imbal_ctx_restore_error(a, IMBAL_ERR_INVALID_ARGUMENT, imbal_ctx_error(a));
    cr_assert_str_eq(imbal_ctx_error(a), saved);
    imbal_ctx_restore_error(a, IMBAL_OK, NULL);
    cr_assert_str_eq(imbal_ctx_error(a), "");
    cr_assert_eq(imbal_ctx_last_status(a), IMBAL_OK);
    imbal_ctx_destroy(a);
}

static void count_log(void *user, imbal_log_level level, const char *msg) {
    (void)level, (void)msg;
    ++*(int *)user;
}

Test(context, silent_unless_asked) {
    imbal_ctx *ctx = tu_ctx();
    int calls = 0;
    imbal_ctx_set_log(ctx, count_log, &calls, IMBAL_LOG_DEBUG);
    imbal_ctx_set_threads(ctx, -1); /* failures are logged at debug level when asked */
    cr_assert_eq(calls, 1);
    imbal_ctx_destroy(ctx);
}

/* Random123 tests/kat_vectors, the three philox4x32 10 lines: counter[4] key[2] -> output[4]. */
Test(philox, random123_known_answers) {
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int i = 0; i < 3; ++i) {
        imbal_u32x4 c = {{kat[i][0], kat[i][1], kat[i][2], kat[i][3]}};
        imbal_u32x4 r = imbal_philox4x32_10(c, kat[i][4], kat[i][5]);
        for (int j = 0; j < 4; ++j)
            cr_assert_eq(r.v[j], kat[i][6 + j], "vector %d word %d: %08x != %08x", i, j, r.v[j],
                         kat[i][6 + j]);
    }
}

Test(philox, stream_keying_layout) {
    /* A stream's block b is the bijection applied to {b, sample lo, epoch, op<<24 | sample hi}. */
    uint64_t seed = 0x0123456789abcdefull, sample = 0x000000AB0000BEEFull;
    imbal_u32x4 c = {{3, 0x0000BEEF, 7, (9u << 24) | 0xAB}};
    imbal_u32x4 want = imbal_philox4x32_10(c, 0x89abcdef, 0x01234567);
    imbal_u32x4 got = imbal_philox_block(seed, 7, sample, 9, 3);
    cr_assert_eq(memcmp(&want, &got, sizeof want), 0);
    imbal_rng r;
    imbal_rng_init(&r, seed, 7, sample, 9);
    for (int i = 0; i < 12; ++i)
        imbal_rng_u32(&r); /* blocks 0, 1, 2 */
    for (int j = 0; j < 4; ++j)
        cr_assert_eq(imbal_rng_u32(&r), want.v[j]);
}

Test(philox, streams_differ_by_every_key_part) {
    imbal_u32x4 base = imbal_philox_block(1, 2, 3, 4, 0);
    imbal_u32x4 other[4] = {imbal_philox_block(9, 2, 3, 4, 0), imbal_philox_block(1, 9, 3, 4, 0),
                            imbal_philox_block(1, 2, 9, 4, 0), imbal_philox_block(1, 2, 3, 9, 0)};
    for (int i = 0; i < 4; ++i)
        cr_assert_neq(memcmp(&base, &other[i], sizeof base), 0);
}

Test(philox, uniform_float_range_and_mean) {
    imbal_rng r;
    imbal_rng_init(&r, 42, 0, 0, IMBAL_OP_TEST);
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        float u = imbal_rng_uniform(&r);
        cr_assert(u >= 0.0f && u < 1.0f);
        sum += u;
    }
    cr_assert(fabs(sum / n - 0.5) < 0.005, "mean %f", sum / n);
    cr_assert_eq(imbal_u32_to_unit_float(0xFFFFFFFFu), 16777215.0f / 16777216.0f);
    cr_assert_eq(imbal_u32_to_unit_float(0), 0.0f);
}

Test(philox, below_is_unbiased_and_in_range) {
    /* n = 3 * 2^30 makes plain modulo visibly biased (values < 2^30 twice as likely); Lemire's
     * rejection keeps the three thirds equal. */
    imbal_rng r;
    imbal_rng_init(&r, 7, 1, 2, IMBAL_OP_TEST);
    const uint32_t n = 3u << 30;
    int64_t thirds[3] = {0, 0, 0};
    const int draws = 300000;
    for (int i = 0; i < draws; ++i) {
        uint32_t v = imbal_rng_below(&r, n);
        cr_assert(v < n);
        thirds[v >> 30]++;
    }
    double probs[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, dof;
    double stat = tu_chi2_stat(thirds, probs, 3, draws, &dof);
    cr_assert(tu_chi2_pvalue(stat, dof) > 0.001, "chi2 %f", stat);
    for (int i = 0; i < 1000; ++i)
        cr_assert_eq(imbal_rng_below(&r, 1), 0u);
    uint64_t big = (1ull << 40) + 12345;
    for (int i = 0; i < 1000; ++i)
        cr_assert(imbal_rng_below64(&r, big) < big);
}

Test(philox, normal_moments) {
    imbal_rng r;
    imbal_rng_init(&r, 5, 0, 0, IMBAL_OP_TEST);
    const int n = 200000;
    double s = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
        double z = imbal_rng_normal(&r);
        cr_assert(isfinite(z));
        s += z;
        s2 += z * z;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    cr_assert(fabs(mean) < 0.01, "mean %f", mean);
    cr_assert(fabs(var - 1.0) < 0.02, "var %f", var);
}

Test(chi2_helper, known_quantiles) {
    /* chi-square critical values: P(X > 3.841) = 0.05 at 1 dof, P(X > 18.307) = 0.05 at 10. */
    cr_assert(fabs(tu_chi2_pvalue(3.841459, 1) - 0.05) < 1e-5);
    cr_assert(fabs(tu_chi2_pvalue(18.307038, 10) - 0.05) < 1e-5);
    cr_assert(fabs(tu_chi2_pvalue(1118.9, 1000) - 0.005) < 5e-4);
}

Test(device, cpu_always_available) {
    imbal_ctx *ctx = tu_ctx();
    char name[64];
    cr_assert_eq(imbal_device_name(ctx, imbal_device_cpu(), name, sizeof name), IMBAL_OK);
    cr_assert_str_eq(name, "cpu");
    imbal_device d;
    cr_assert_eq(imbal_device_parse(ctx, "auto", &d), IMBAL_OK);
    cr_assert_eq(imbal_device_parse(ctx, "tpu", &d), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "tpu") != NULL);
    if (imbal_cuda_device_count() == 0) {
        cr_assert_eq(imbal_device_check(ctx, imbal_device_cuda(0)), IMBAL_ERR_NO_DEVICE);
        cr_assert(strlen(imbal_ctx_error(ctx)) > 10);
    }
    imbal_ctx_destroy(ctx);
}
