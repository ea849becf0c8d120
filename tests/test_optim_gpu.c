/* The CUDA twins of the optimizer steps against the CPU twins (themselves checked against
 * PyTorch in test_optim.c): SGD plain / momentum / Nesterov / weight decay and AdamW over several
 * steps, sizes from 1 to past one grid (grid-stride loop), empty tensors, and a host pointer
 * handed to a CUDA call. Both twins round every operation to f32 in the same order (no FMA
 * contraction: the kernels use __f*_rn), so agreement is expected to be bit-exact; the check
 * allows 1e-6 relative. Every test skips where no CUDA device answers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/optim.h"
#include "imbal/philox.h"
#include "test_util.h"

static void need_gpu(void) {
    if (!imbal_built_with_cuda())
        cr_skip_test("no CUDA device: this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0) cr_skip_test("no CUDA device answers on this machine");
}

static void fill(float *x, int64_t n, uint32_t op, float scale) {
    imbal_rng r;
    imbal_rng_init(&r, 77, 0, op, IMBAL_OP_TEST);
    for (int64_t i = 0; i < n; ++i)
        x[i] = (imbal_rng_uniform(&r) * 2.0f - 1.0f) * scale;
}

/* A CPU tensor of n floats and its CUDA copy. */
typedef struct pair {
    imbal_tensor cpu, gpu;
} pair;

static pair make_pair(imbal_ctx *ctx, int64_t n, uint32_t op, float scale, int zero) {
    pair p;
    int64_t sh[1] = {n};
    cr_assert_eq(imbal_tensor_alloc(ctx, &p.cpu, IMBAL_F32, 1, sh, imbal_device_cpu()), IMBAL_OK);
    cr_assert_eq(imbal_tensor_alloc(ctx, &p.gpu, IMBAL_F32, 1, sh, imbal_device_cuda(0)), IMBAL_OK,
                 "%s", imbal_ctx_error(ctx));
    if (zero)
        memset(p.cpu.data, 0, (size_t)n * sizeof(float));
    else
        fill(p.cpu.data, n, op, scale);
    cr_assert_eq(imbal_tensor_copy(ctx, &p.gpu, &p.cpu), IMBAL_OK);
    return p;
}

static void expect_same(imbal_ctx *ctx, pair *p, const char *what) {
    int64_t n = imbal_tensor_numel(&p->cpu);
    float *back = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    imbal_tensor h = imbal_tensor_wrap(back, IMBAL_F32, 1, p->cpu.shape, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_copy(ctx, &h, &p->gpu), IMBAL_OK);
    const float *ref = p->cpu.data;
    for (int64_t i = 0; i < n; ++i)
        cr_assert(fabsf(back[i] - ref[i]) <= 1e-6f * fabsf(ref[i]) + 1e-12f,
                  "%s [%lld]: cuda %.9g cpu %.9g", what, (long long)i, (double)back[i],
                  (double)ref[i]);
    free(back);
}

static void free_pair(pair *p) {
    imbal_tensor_free(&p->cpu);
    imbal_tensor_free(&p->gpu);
}

static void sgd_case(int64_t n, float momentum, int nesterov, float wd) {
    imbal_ctx *ctx = tu_ctx();
    imbal_optim_config cfg;
    imbal_optim_config_default(&cfg, IMBAL_OPTIM_SGD);
    cfg.momentum = momentum;
    cfg.nesterov = nesterov;
    pair p = make_pair(ctx, n, 1, 2.0f, 0), b = make_pair(ctx, n, 0, 0, 1);
    for (int t = 0; t < 4; ++t) {
        pair g = make_pair(ctx, n, 10 + (uint32_t)t, 1.5f, 0);
        float lr = 0.1f / (float)(t + 1);
        cr_assert_eq(imbal_sgd_step(ctx, imbal_device_cpu(), &cfg, lr, wd, &p.cpu, &g.cpu,
                                    momentum != 0 ? &b.cpu : NULL),
                     IMBAL_OK, "%s", imbal_ctx_error(ctx));
        cr_assert_eq(imbal_sgd_step(ctx, imbal_device_cuda(0), &cfg, lr, wd, &p.gpu, &g.gpu,
                                    momentum != 0 ? &b.gpu : NULL),
                     IMBAL_OK, "%s", imbal_ctx_error(ctx));
        free_pair(&g);
    }
    expect_same(ctx, &p, "sgd param");
    if (momentum != 0) expect_same(ctx, &b, "sgd buf");
    free_pair(&p);
    free_pair(&b);
    imbal_ctx_destroy(ctx);
}

static void adamw_case(int64_t n, float b1, float b2, float eps, float wd) {
    imbal_ctx *ctx = tu_ctx();
    imbal_optim_config cfg;
    imbal_optim_config_default(&cfg, IMBAL_OPTIM_ADAMW);
    cfg.beta1 = b1;
    cfg.beta2 = b2;
    cfg.eps = eps;
    pair p = make_pair(ctx, n, 2, 1.0f, 0), m = make_pair(ctx, n, 0, 0, 1),
         v = make_pair(ctx, n, 0, 0, 1);
    for (int t = 1; t <= 4; ++t) {
        pair g = make_pair(ctx, n, 20 + (uint32_t)t, 3.0f, 0);
        cr_assert_eq(imbal_adamw_step(ctx, imbal_device_cpu(), &cfg, 1e-3f, wd, t, &p.cpu, &g.cpu,
                                      &m.cpu, &v.cpu),
                     IMBAL_OK, "%s", imbal_ctx_error(ctx));
        cr_assert_eq(imbal_adamw_step(ctx, imbal_device_cuda(0), &cfg, 1e-3f, wd, t, &p.gpu, &g.gpu,
                                      &m.gpu, &v.gpu),
                     IMBAL_OK, "%s", imbal_ctx_error(ctx));
        free_pair(&g);
    }
    expect_same(ctx, &p, "adamw param");
    expect_same(ctx, &m, "adamw m");
    expect_same(ctx, &v, "adamw v");
    free_pair(&p);
    free_pair(&m);
    free_pair(&v);
    imbal_ctx_destroy(ctx);
}

static const int64_t sizes[] = {1, 7, 256, 1000, 65537};
/* Past 65536 blocks of 256 threads: the grid-stride loop takes a second lap. */
#define BIG_N 17000000

Test(optim_gpu, sgd_twins_agree) {
    need_gpu();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        sgd_case(sizes[i], 0.0f, 0, 0.0f);
        sgd_case(sizes[i], 0.9f, 0, 5e-4f);
        sgd_case(sizes[i], 0.9f, 1, 1e-2f);
    }
    sgd_case(BIG_N, 0.9f, 1, 1e-2f);
}

Test(optim_gpu, adamw_twins_agree) {
    need_gpu();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
        adamw_case(sizes[i], 0.9f, 0.999f, 1e-8f, 1e-2f);
        adamw_case(sizes[i], 0.5f, 0.9f, 1e-3f, 0.0f);
    }
    adamw_case(BIG_N, 0.9f, 0.999f, 1e-8f, 1e-2f);
}

Test(optim_gpu, empty_and_host_pointer) {
    need_gpu();
    imbal_ctx *ctx = tu_ctx();
    imbal_optim_config cfg;
    imbal_optim_config_default(&cfg, IMBAL_OPTIM_SGD);
    int64_t zero[1] = {0};
    imbal_tensor e = imbal_tensor_wrap(NULL, IMBAL_F32, 1, zero, imbal_device_cuda(0));
    cr_assert_eq(imbal_sgd_step(ctx, imbal_device_cuda(0), &cfg, 0.1f, 0.0f, &e, &e, &e), IMBAL_OK,
                 "%s", imbal_ctx_error(ctx));
    float host[4] = {0};
    int64_t four[1] = {4};
    imbal_tensor h = imbal_tensor_wrap(host, IMBAL_F32, 1, four, imbal_device_cuda(0));
    cfg.momentum = 0;
    imbal_status st = imbal_sgd_step(ctx, imbal_device_cuda(0), &cfg, 0.1f, 0.0f, &h, &h, NULL);
    cr_assert_eq(st, IMBAL_ERR_INVALID_ARGUMENT, "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "param is host memory"), "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}
