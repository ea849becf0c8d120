/* Random fills: the CPU twin against direct Philox calls, slicing and thread-count invariance,
 * the distribution, argument errors; the CUDA twin bit-exact against the CPU twin where a device
 * answers (skipped otherwise). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

#define SEED UINT64_C(0x0123456789ABCDEF)

static float *fill_cpu(imbal_ctx *ctx, uint64_t first, int64_t count, int normal) {
    float *out = malloc(sizeof(float) * (size_t)(count ? count : 1));
    cr_assert_not_null(out);
    imbal_status st = normal ? imbal_random_normal_fill(ctx, imbal_device_cpu(), SEED, 3,
                                                        IMBAL_OP_TEST, first, count, out)
                             : imbal_random_uniform_fill(ctx, imbal_device_cpu(), SEED, 3,
                                                         IMBAL_OP_TEST, first, count, out);
    cr_assert_eq(st, IMBAL_OK, "%s", imbal_ctx_error(ctx));
    return out;
}

Test(random_fill, uniform_equals_direct_philox) {
    imbal_ctx *ctx = tu_ctx();
    const uint64_t firsts[] = {0, 1, 2, 3, 5, 1000003, UINT64_C(1) << 40};
    for (size_t f = 0; f < sizeof firsts / sizeof firsts[0]; ++f) {
        float *out = fill_cpu(ctx, firsts[f], 1001, 0);
        for (int64_t i = 0; i < 1001; ++i) {
            uint64_t j = firsts[f] + (uint64_t)i;
            imbal_u32x4 r = imbal_philox_block(SEED, 3, j / 4, IMBAL_OP_TEST, 0);
            float want = imbal_u32_to_unit_float(r.v[j % 4]);
            cr_assert_eq(out[i], want, "first %llu element %lld", (unsigned long long)firsts[f],
                         (long long)i);
            cr_assert(out[i] >= 0.0f && out[i] < 1.0f);
        }
        free(out);
    }
    /* The sequential reader of stream (seed, epoch, sample 0, op) gives elements 0..3. */
    imbal_rng r;
    imbal_rng_init(&r, SEED, 3, 0, IMBAL_OP_TEST);
    float *out = fill_cpu(ctx, 0, 4, 0);
    for (int i = 0; i < 4; ++i)
        cr_assert_eq(out[i], imbal_rng_uniform(&r));
    free(out);
    imbal_ctx_destroy(ctx);
}

Test(random_fill, normal_equals_box_muller_of_philox) {
    imbal_ctx *ctx = tu_ctx();
    float *out = fill_cpu(ctx, 7, 999, 1);
    for (int64_t i = 0; i < 999; ++i) {
        uint64_t j = 7 + (uint64_t)i;
        imbal_u32x4 r = imbal_philox_block(SEED, 3, j / 2, IMBAL_OP_TEST, 0);
        int w = (int)(j % 2) * 2;
        double u1 = ((r.v[w] >> 8) + 1.0) / 16777216.0, u2 = (r.v[w + 1] >> 8) / 16777216.0;
        double want = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        cr_assert(fabs(out[i] - want) <= 1e-5 * (1.0 + fabs(want)), "element %lld: %.9g vs %.9g",
                  (long long)i, (double)out[i], want);
    }
    free(out);
    imbal_ctx_destroy(ctx);
}

Test(random_fill, slicing_and_thread_count_do_not_matter) {
    imbal_ctx *ctx = tu_ctx();
    for (int normal = 0; normal < 2; ++normal) {
        float *whole = fill_cpu(ctx, 0, 1000, normal);
        float *a = fill_cpu(ctx, 0, 400, normal), *b = fill_cpu(ctx, 400, 600, normal);
        cr_assert_eq(memcmp(whole, a, 400 * sizeof(float)), 0);
        cr_assert_eq(memcmp(whole + 400, b, 600 * sizeof(float)), 0);
        free(whole), free(a), free(b);

        enum { N = 200001 }; /* above the parallel threshold */
        cr_assert_eq(imbal_ctx_set_threads(ctx, 1), IMBAL_OK);
        float *one = fill_cpu(ctx, 13, N, normal);
        cr_assert_eq(imbal_ctx_set_threads(ctx, 2), IMBAL_OK);
        float *two = fill_cpu(ctx, 13, N, normal);
        cr_assert_eq(imbal_ctx_set_threads(ctx, 3), IMBAL_OK);
        float *three = fill_cpu(ctx, 13, N, normal);
        cr_assert_eq(memcmp(one, two, N * sizeof(float)), 0);
        cr_assert_eq(memcmp(one, three, N * sizeof(float)), 0);
        free(one), free(two), free(three);
        cr_assert_eq(imbal_ctx_set_threads(ctx, 0), IMBAL_OK);
    }
    imbal_ctx_destroy(ctx);
}

/* Uniform: chi-square over 64 equal bins; normal: mean, variance and the share within 1 sd. */
Test(random_fill, distributions) {
    imbal_ctx *ctx = tu_ctx();
    enum { N = 1 << 18, BINS = 64 };
    float *u = fill_cpu(ctx, 0, N, 0);
    int64_t counts[BINS] = {0};
    double probs[BINS];
    for (int k = 0; k < BINS; ++k)
        probs[k] = 1.0 / BINS;
    for (int i = 0; i < N; ++i)
        ++counts[(int)(u[i] * BINS)];
    double dof, stat = tu_chi2_stat(counts, probs, BINS, N, &dof);
    cr_assert_gt(tu_chi2_pvalue(stat, dof), 1e-4, "chi2 %.1f on %.0f dof", stat, dof);
    free(u);

    float *z = fill_cpu(ctx, 0, N, 1);
    double sum = 0, sq = 0;
    int within = 0;
    for (int i = 0; i < N; ++i) {
        cr_assert(isfinite(z[i]));
        sum += z[i];
        sq += (double)z[i] * z[i];
        within += fabsf(z[i]) < 1.0f;
    }
    double mean = sum / N, var = sq / N - mean * mean;
    cr_assert(fabs(mean) < 5.0 / sqrt(N), "mean %g", mean);
    cr_assert(fabs(var - 1.0) < 5.0 * sqrt(2.0 / N), "variance %g", var);
    cr_assert(fabs((double)within / N - 0.682689492) < 0.005, "share within 1 sd %g",
              (double)within / N);
    free(z);
    imbal_ctx_destroy(ctx);
}

Test(random_fill, argument_errors) {
    imbal_ctx *ctx = tu_ctx();
    float buf[4];
    imbal_device cpu = imbal_device_cpu();
    cr_assert_eq(imbal_random_uniform_fill(ctx, cpu, 1, 0, 0, 0, -1, buf),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "count -1") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_random_uniform_fill(ctx, cpu, 1, 0, 256, 0, 4, buf),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "op 256") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_random_uniform_fill(ctx, cpu, 1, 0, 0, 0, 4, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "out is NULL") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_random_uniform_fill(ctx, cpu, 1, 0, 0, UINT64_C(1) << 58, 1, buf),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "2^58") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_random_uniform_fill(ctx, cpu, 1, 0, 0, (UINT64_C(1) << 58) - 4, 4, buf),
                 IMBAL_OK);
    cr_assert_eq(imbal_random_normal_fill(ctx, cpu, 1, 0, 0, UINT64_C(1) << 57, 1, buf),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "2^57") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_random_uniform_fill(ctx, cpu, 1, 0, 0, 0, 0, NULL), IMBAL_OK);
    if (imbal_cuda_device_count() == 0) {
        cr_assert_eq(imbal_random_uniform_fill(ctx, imbal_device_cuda(0), 1, 0, 0, 0, 4, buf),
                     IMBAL_ERR_NO_DEVICE);
        cr_assert(strstr(imbal_ctx_error(ctx), "cuda:0") != NULL, "%s", imbal_ctx_error(ctx));
    }
    imbal_ctx_destroy(ctx);
}

/* ---- GPU: run only where a device answers ---------------------------------------------------- */

static void require_gpu(void) {
    if (!imbal_built_with_cuda())
        cr_skip_test("no CUDA device: this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0) cr_skip_test("no CUDA device answers on this machine");
}

static float *fill_gpu(imbal_ctx *ctx, uint64_t first, int64_t count, int normal) {
    imbal_tensor dev, host;
    cr_assert_eq(imbal_tensor_alloc(ctx, &dev, IMBAL_F32, 1, &count, imbal_device_cuda(0)),
                 IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_alloc(ctx, &host, IMBAL_F32, 1, &count, imbal_device_cpu()),
                 IMBAL_OK);
    imbal_status st = normal ? imbal_random_normal_fill(ctx, dev.device, SEED, 3, IMBAL_OP_TEST,
                                                        first, count, dev.data)
                             : imbal_random_uniform_fill(ctx, dev.device, SEED, 3, IMBAL_OP_TEST,
                                                         first, count, dev.data);
    cr_assert_eq(st, IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_copy(ctx, &host, &dev), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_tensor_free(&dev);
    return host.data; /* owned buffer from malloc: the caller frees it */
}

Test(random_fill_gpu, uniform_is_bit_exact_with_cpu) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    const uint64_t firsts[] = {0, 3, UINT64_C(1) << 40};
    for (size_t f = 0; f < 3; ++f) {
        const int64_t n = 1000000;
        float *gpu = fill_gpu(ctx, firsts[f], n, 0), *cpu = fill_cpu(ctx, firsts[f], n, 0);
        for (int64_t i = 0; i < n; ++i)
            cr_assert_eq(imbal_f32_bits(gpu[i]), imbal_f32_bits(cpu[i]),
                         "first %llu element %lld: gpu %.9g cpu %.9g",
                         (unsigned long long)firsts[f], (long long)i, (double)gpu[i],
                         (double)cpu[i]);
        free(gpu), free(cpu);
    }
    imbal_ctx_destroy(ctx);
}

Test(random_fill_gpu, normal_matches_cpu_within_ulps) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    const int64_t n = 1000000;
    float *gpu = fill_gpu(ctx, 5, n, 1), *cpu = fill_cpu(ctx, 5, n, 1);
    for (int64_t i = 0; i < n; ++i)
        cr_assert(fabsf(gpu[i] - cpu[i]) <= 4e-6f * (1.0f + fabsf(cpu[i])),
                  "element %lld: gpu %.9g cpu %.9g", (long long)i, (double)gpu[i], (double)cpu[i]);
    free(gpu), free(cpu);
    imbal_ctx_destroy(ctx);
}

Test(random_fill_gpu, refuses_host_pointer) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    float host[16];
    cr_assert_eq(imbal_random_uniform_fill(ctx, imbal_device_cuda(0), 1, 0, 0, 0, 16, host),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "host memory") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}
