/* Optimizer steps and learning-rate schedules against PyTorch 1.13 (tests/data/optim/
 * make_optim_ref.py: torch.optim.SGD / AdamW trajectories over 5 steps with per-step gradients and
 * learning rates; MultiStepLR, CosineAnnealingLR and a hand-made linear warm-up), hand-computed
 * single steps, and every validation error with the field or argument it names. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/optim.h"
#include "test_util.h"

#define REF(name) IMBAL_TEST_DATA_DIR "/optim/" name
#define MAXN      16

static void expect_err(imbal_ctx *ctx, imbal_status got, imbal_status want, const char *needle) {
    cr_assert_eq(got, want, "status %s, expected %s (%s)", imbal_status_string(got),
                 imbal_status_string(want), imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "message '%s' lacks '%s'", imbal_ctx_error(ctx),
              needle);
}

static void read_floats(FILE *f, float *x, int n) {
    for (int i = 0; i < n; ++i)
        cr_assert_eq(fscanf(f, "%f", &x[i]), 1);
}

static void close_rel(float got, float want, double rel, const char *what, int step, int i) {
    double tol = rel * fabs((double)want) + 1e-7;
    cr_assert(fabs((double)got - (double)want) <= tol, "%s step %d [%d]: got %.9g want %.9g", what,
              step, i, (double)got, (double)want);
}

/* Replays every case of optim_ref.txt through the step functions on the CPU. */
static void run_reference_cases(const char *only_kind) {
    FILE *f = fopen(REF("optim_ref.txt"), "r");
    cr_assert(f, "cannot open %s", REF("optim_ref.txt"));
    imbal_ctx *ctx = tu_ctx();
    char word[32], name[64], kind[16];
    int cases = 0;
    while (fscanf(f, "%31s", word) == 1) {
        cr_assert_str_eq(word, "case");
        float mom, wd, b1, b2, eps;
        int nest, steps, n;
        cr_assert_eq(fscanf(f, "%63s %15s %f %d %f %f %f %f %d %d", name, kind, &mom, &nest, &wd,
                            &b1, &b2, &eps, &steps, &n),
                     10);
        cr_assert(n <= MAXN);
        float p[MAXN], g[MAXN], want[MAXN], s1[MAXN] = {0}, s2[MAXN] = {0};
        cr_assert_eq(fscanf(f, "%31s", word), 1);
        read_floats(f, p, n);
        int64_t shape[1] = {n};
        imbal_tensor tp = imbal_tensor_wrap(p, IMBAL_F32, 1, shape, imbal_device_cpu());
        imbal_tensor tg = imbal_tensor_wrap(g, IMBAL_F32, 1, shape, imbal_device_cpu());
        imbal_tensor t1 = imbal_tensor_wrap(s1, IMBAL_F32, 1, shape, imbal_device_cpu());
        imbal_tensor t2 = imbal_tensor_wrap(s2, IMBAL_F32, 1, shape, imbal_device_cpu());
        int is_sgd = strcmp(kind, "sgd") == 0;
        imbal_optim_config cfg;
        imbal_optim_config_default(&cfg, is_sgd ? IMBAL_OPTIM_SGD : IMBAL_OPTIM_ADAMW);
        cfg.momentum = mom;
        cfg.nesterov = nest;
        cfg.weight_decay = wd;
        cfg.beta1 = b1;
        cfg.beta2 = b2;
        cfg.eps = eps;
        for (int t = 1; t <= steps; ++t) {
            int tt;
            float lr;
            cr_assert_eq(fscanf(f, "%31s %d %31s %f %31s", word, &tt, word, &lr, word), 5);
            read_floats(f, g, n);
            cr_assert_eq(fscanf(f, "%31s", word), 1);
            read_floats(f, want, n);
            if (only_kind && strcmp(only_kind, kind) != 0) continue;
            imbal_status st = is_sgd ? imbal_sgd_step(ctx, imbal_device_cpu(), &cfg, lr, wd, &tp,
                                                      &tg, mom != 0.0f ? &t1 : NULL)
                                     : imbal_adamw_step(ctx, imbal_device_cpu(), &cfg, lr, wd, t,
                                                        &tp, &tg, &t1, &t2);
            cr_assert_eq(st, IMBAL_OK, "%s: %s", name, imbal_ctx_error(ctx));
            for (int i = 0; i < n; ++i)
                close_rel(p[i], want[i], 1e-6, name, t, i);
        }
        if (!only_kind || strcmp(only_kind, kind) == 0) ++cases;
    }
    fclose(f);
    cr_assert_geq(cases, 3);
    imbal_ctx_destroy(ctx);
}

Test(optim, sgd_matches_pytorch) {
    run_reference_cases("sgd");
}
Test(optim, adamw_matches_pytorch) {
    run_reference_cases("adamw");
}

Test(optim, sgd_by_hand) {
    imbal_ctx *ctx = tu_ctx();
    imbal_optim_config cfg;
    imbal_optim_config_default(&cfg, IMBAL_OPTIM_SGD);
    cfg.momentum = 0.5f;
    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, 1.0f}, b[2] = {0, 0};
    int64_t sh[1] = {2};
    imbal_tensor tp = imbal_tensor_wrap(p, IMBAL_F32, 1, sh, imbal_device_cpu());
    imbal_tensor tg = imbal_tensor_wrap(g, IMBAL_F32, 1, sh, imbal_device_cpu());
    imbal_tensor tb = imbal_tensor_wrap(b, IMBAL_F32, 1, sh, imbal_device_cpu());
    /* step 1: d = g + 0.5 p = (1, 0); buf = d; p -= 0.1 buf -> (0.9, -2) */
    cr_assert_eq(imbal_sgd_step(ctx, imbal_device_cpu(), &cfg, 0.1f, 0.5f, &tp, &tg, &tb),
                 IMBAL_OK);
    cr_assert_float_eq(p[0], 0.9f, 1e-7);
    cr_assert_float_eq(p[1], -2.0f, 1e-7);
    cr_assert_float_eq(b[0], 1.0f, 1e-7);
    /* step 2 (no decay): buf = 0.5 buf + g = (1, 1); p -= 0.1 buf -> (0.8, -2.1) */
    cr_assert_eq(imbal_sgd_step(ctx, imbal_device_cpu(), &cfg, 0.1f, 0.0f, &tp, &tg, &tb),
                 IMBAL_OK);
    cr_assert_float_eq(p[0], 0.8f, 1e-6);
    cr_assert_float_eq(p[1], -2.1f, 1e-6);
    /* Nesterov: d = g = (0.5, 1); buf = 0.5 (1, 1) + d = (1, 1.5); step d + 0.5 buf = (1, 1.75) */
    cfg.nesterov = 1;
    cr_assert_eq(imbal_sgd_step(ctx, imbal_device_cpu(), &cfg, 1.0f, 0.0f, &tp, &tg, &tb),
                 IMBAL_OK);
    cr_assert_float_eq(p[0], -0.2f, 1e-6);
    cr_assert_float_eq(p[1], -3.85f, 1e-6);
    imbal_ctx_destroy(ctx);
}

Test(optim, adamw_first_step_is_sign_times_lr) {
    /* At t = 1 with eps -> 0: m_hat = g, v_hat = g^2, so p -= lr sign(g) after decay. */
    imbal_ctx *ctx = tu_ctx();
    imbal_optim_config cfg;
    imbal_optim_config_default(&cfg, IMBAL_OPTIM_ADAMW);
    cfg.eps = 1e-30f;
    float p[3] = {1.0f, 2.0f, -1.0f}, g[3] = {3.0f, -0.25f, 1e-3f}, m[3] = {0}, v[3] = {0};
    int64_t sh[1] = {3};
    imbal_tensor tp = imbal_tensor_wrap(p, IMBAL_F32, 1, sh, imbal_device_cpu());
    imbal_tensor tg = imbal_tensor_wrap(g, IMBAL_F32, 1, sh, imbal_device_cpu());
    imbal_tensor tm = imbal_tensor_wrap(m, IMBAL_F32, 1, sh, imbal_device_cpu());
    imbal_tensor tv = imbal_tensor_wrap(v, IMBAL_F32, 1, sh, imbal_device_cpu());
    cr_assert_eq(
        imbal_adamw_step(ctx, imbal_device_cpu(), &cfg, 0.01f, 0.5f, 1, &tp, &tg, &tm, &tv),
        IMBAL_OK);
    cr_assert_float_eq(p[0], 1.0f * 0.995f - 0.01f, 1e-6);
    cr_assert_float_eq(p[1], 2.0f * 0.995f + 0.01f, 1e-6);
    cr_assert_float_eq(p[2], -1.0f * 0.995f - 0.01f, 1e-6);
    cr_assert_float_eq(m[0], 0.3f, 1e-6);
    cr_assert_float_eq(v[0], 0.009f, 1e-9);
    imbal_ctx_destroy(ctx);
}

Test(optim, large_tensor_threads_agree) {
    /* The OpenMP path (n above the parallel threshold) equals the 1-thread result bit for bit. */
    enum { N = 100003 };
    imbal_ctx *c1 = tu_ctx(), *c4 = tu_ctx();
    cr_assert_eq(imbal_ctx_set_threads(c1, 1), IMBAL_OK);
    cr_assert_eq(imbal_ctx_set_threads(c4, 4), IMBAL_OK);
    float *p[2], *g = malloc(N * sizeof(float)), *m[2], *v[2];
    for (int k = 0; k < 2; ++k) {
        p[k] = malloc(N * sizeof(float));
        m[k] = calloc(N, sizeof(float));
        v[k] = calloc(N, sizeof(float));
    }
    for (int i = 0; i < N; ++i) {
        p[0][i] = p[1][i] = sinf((float)i);
        g[i] = cosf((float)i * 0.37f);
    }
    int64_t sh[1] = {N};
    imbal_optim_config cfg;
    imbal_optim_config_default(&cfg, IMBAL_OPTIM_ADAMW);
    for (int k = 0; k < 2; ++k) {
        imbal_tensor tp = imbal_tensor_wrap(p[k], IMBAL_F32, 1, sh, imbal_device_cpu());
        imbal_tensor tg = imbal_tensor_wrap(g, IMBAL_F32, 1, sh, imbal_device_cpu());
        imbal_tensor tm = imbal_tensor_wrap(m[k], IMBAL_F32, 1, sh, imbal_device_cpu());
        imbal_tensor tv = imbal_tensor_wrap(v[k], IMBAL_F32, 1, sh, imbal_device_cpu());
        for (int t = 1; t <= 3; ++t)
            cr_assert_eq(imbal_adamw_step(k ? c4 : c1, imbal_device_cpu(), &cfg, 1e-3f, 1e-2f, t,
                                          &tp, &tg, &tm, &tv),
                         IMBAL_OK);
    }
    cr_assert_eq(memcmp(p[0], p[1], N * sizeof(float)), 0);
    cr_assert_eq(memcmp(v[0], v[1], N * sizeof(float)), 0);
    for (int k = 0; k < 2; ++k) {
        free(p[k]);
        free(m[k]);
        free(v[k]);
    }
    free(g);
    imbal_ctx_destroy(c1);
    imbal_ctx_destroy(c4);
}

Test(optim, names_and_defaults) {
    imbal_ctx *ctx = tu_ctx();
    imbal_optim_kind k;
    cr_assert_str_eq(imbal_optim_kind_name(IMBAL_OPTIM_SGD), "sgd");
    cr_assert_str_eq(imbal_optim_kind_name(IMBAL_OPTIM_ADAMW), "adamw");
    cr_assert_str_eq(imbal_optim_kind_name((imbal_optim_kind)7), "?");
    cr_assert_eq(imbal_optim_kind_parse(ctx, "adamw", &k), IMBAL_OK);
    cr_assert_eq(k, IMBAL_OPTIM_ADAMW);
    expect_err(ctx, imbal_optim_kind_parse(ctx, "adam", &k), IMBAL_ERR_INVALID_ARGUMENT, "'adam'");
    imbal_optim_config c;
    imbal_optim_config_default(&c, IMBAL_OPTIM_SGD);
    cr_assert_float_eq(c.momentum, 0.9f, 0);
    cr_assert_float_eq(c.weight_decay, 5e-4f, 0);
    cr_assert_eq(c.nesterov, 0);
    cr_assert_eq(imbal_optim_config_check(ctx, &c), IMBAL_OK);
    imbal_optim_config_default(&c, IMBAL_OPTIM_ADAMW);
    cr_assert_float_eq(c.weight_decay, 1e-2f, 0);
    cr_assert_float_eq(c.beta2, 0.999f, 0);
    cr_assert_float_eq(c.eps, 1e-8f, 0);
    cr_assert_eq(imbal_optim_config_check(ctx, &c), IMBAL_OK);

    imbal_lr_kind lk;
    cr_assert_str_eq(imbal_lr_kind_name(IMBAL_LR_COSINE), "cosine");
    cr_assert_eq(imbal_lr_kind_parse(ctx, "step", &lk), IMBAL_OK);
    cr_assert_eq(lk, IMBAL_LR_STEP);
    expect_err(ctx, imbal_lr_kind_parse(ctx, "poly", &lk), IMBAL_ERR_INVALID_ARGUMENT, "'poly'");
    imbal_ctx_destroy(ctx);
}

Test(optim, config_errors_name_the_field) {
    imbal_ctx *ctx = tu_ctx();
    imbal_optim_config c;
    struct {
        imbal_optim_kind kind;
        int field;
        float value;
        const char *needle;
    } cases[] = {
        {IMBAL_OPTIM_SGD, 0, 1.0f, "momentum"},
        {IMBAL_OPTIM_SGD, 0, -0.1f, "momentum"},
        {IMBAL_OPTIM_SGD, 0, NAN, "momentum"},
        {IMBAL_OPTIM_SGD, 1, -1e-4f, "weight_decay"},
        {IMBAL_OPTIM_SGD, 1, INFINITY, "weight_decay"},
        {IMBAL_OPTIM_SGD, 2, 2, "nesterov"},
        {IMBAL_OPTIM_ADAMW, 3, 1.0f, "beta1"},
        {IMBAL_OPTIM_ADAMW, 4, -0.5f, "beta2"},
        {IMBAL_OPTIM_ADAMW, 5, 0.0f, "eps"},
        {IMBAL_OPTIM_ADAMW, 5, NAN, "eps"},
        {IMBAL_OPTIM_ADAMW, 1, NAN, "weight_decay"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        imbal_optim_config_default(&c, cases[i].kind);
        switch (cases[i].field) {
        case 0:
            c.momentum = cases[i].value;
            break;
        case 1:
            c.weight_decay = cases[i].value;
            break;
        case 2:
            c.nesterov = (int)cases[i].value;
            break;
        case 3:
            c.beta1 = cases[i].value;
            break;
        case 4:
            c.beta2 = cases[i].value;
            break;
        default:
            c.eps = cases[i].value;
            break;
        }
        expect_err(ctx, imbal_optim_config_check(ctx, &c), IMBAL_ERR_INVALID_ARGUMENT,
                   cases[i].needle);
    }
    imbal_optim_config_default(&c, IMBAL_OPTIM_SGD);
    c.momentum = 0;
    c.nesterov = 1;
    expect_err(ctx, imbal_optim_config_check(ctx, &c), IMBAL_ERR_INVALID_ARGUMENT, "nesterov");
    c.kind = (imbal_optim_kind)5;
    expect_err(ctx, imbal_optim_config_check(ctx, &c), IMBAL_ERR_INVALID_ARGUMENT, "kind");
    expect_err(ctx, imbal_optim_config_check(ctx, NULL), IMBAL_ERR_INVALID_ARGUMENT, "cfg");
    imbal_ctx_destroy(ctx);
}

Test(optim, step_errors_name_the_argument) {
    imbal_ctx *ctx = tu_ctx();
    float a[6] = {0}, b[6] = {0}, c[6] = {0}, d[6] = {0};
    int64_t s6[1] = {6}, s23[2] = {2, 3};
    imbal_device cpu = imbal_device_cpu();
    imbal_tensor p = imbal_tensor_wrap(a, IMBAL_F32, 1, s6, cpu);
    imbal_tensor g = imbal_tensor_wrap(b, IMBAL_F32, 1, s6, cpu);
    imbal_tensor m = imbal_tensor_wrap(c, IMBAL_F32, 1, s6, cpu);
    imbal_tensor v = imbal_tensor_wrap(d, IMBAL_F32, 1, s6, cpu);
    imbal_tensor g23 = imbal_tensor_wrap(b, IMBAL_F32, 2, s23, cpu);
    imbal_tensor gi32 = imbal_tensor_wrap(b, IMBAL_I32, 1, s6, cpu);
    imbal_tensor gcuda = imbal_tensor_wrap(b, IMBAL_F32, 1, s6, imbal_device_cuda(0));
    imbal_tensor nodata = imbal_tensor_wrap(NULL, IMBAL_F32, 1, s6, cpu);
    imbal_optim_config sgd, adamw;
    imbal_optim_config_default(&sgd, IMBAL_OPTIM_SGD);
    imbal_optim_config_default(&adamw, IMBAL_OPTIM_ADAMW);

    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, 0, &p, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "step = 0");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, -3, &p, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "step = -3");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, 1, &p, &g23, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "grad has a different shape");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, 1, &p, &g, &m, &g23),
               IMBAL_ERR_INVALID_ARGUMENT, "v (second moment)");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, 1, &p, &g, NULL, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "m (first moment) is NULL");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, 1, &p, &gi32, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "grad has dtype i32");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, 1, &p, &gcuda, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "grad is on cuda:0");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, 0.0f, 1, &nodata, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "param has no data");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, -0.1f, 0.0f, 1, &p, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "lr = -0.1");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, NAN, 0.0f, 1, &p, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "lr");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &adamw, 0.1f, -1.0f, 1, &p, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "imbal_adamw_step: weight_decay");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, &sgd, 0.1f, 0.0f, 1, &p, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "cfg.kind is sgd");
    expect_err(ctx, imbal_adamw_step(ctx, cpu, NULL, 0.1f, 0.0f, 1, &p, &g, &m, &v),
               IMBAL_ERR_INVALID_ARGUMENT, "cfg");

    expect_err(ctx, imbal_sgd_step(ctx, cpu, &sgd, 0.1f, 0.0f, &p, &g, NULL),
               IMBAL_ERR_INVALID_ARGUMENT, "buf (momentum buffer) is NULL");
    expect_err(ctx, imbal_sgd_step(ctx, cpu, &sgd, 0.1f, 0.0f, &p, &g, &g23),
               IMBAL_ERR_INVALID_ARGUMENT, "buf (momentum buffer) has a different shape");
    expect_err(ctx, imbal_sgd_step(ctx, cpu, &sgd, 0.1f, 0.0f, &p, NULL, &m),
               IMBAL_ERR_INVALID_ARGUMENT, "grad is NULL");
    expect_err(ctx, imbal_sgd_step(ctx, cpu, &adamw, 0.1f, 0.0f, &p, &g, &m),
               IMBAL_ERR_INVALID_ARGUMENT, "cfg.kind is adamw");
    sgd.momentum = 2.0f;
    expect_err(ctx, imbal_sgd_step(ctx, cpu, &sgd, 0.1f, 0.0f, &p, &g, &m),
               IMBAL_ERR_INVALID_ARGUMENT, "momentum = 2");
    sgd.momentum = 0.0f; /* no buffer needed then */
    cr_assert_eq(imbal_sgd_step(ctx, cpu, &sgd, 0.1f, 0.0f, &p, &g, NULL), IMBAL_OK);
    /* the call's device is checked too */
    imbal_tensor pc = imbal_tensor_wrap(a, IMBAL_F32, 1, s6, imbal_device_cuda(0));
    imbal_status st =
        imbal_sgd_step(ctx, imbal_device_cuda(0), &sgd, 0.1f, 0.0f, &pc, &gcuda, NULL);
    if (imbal_cuda_device_count() == 0) cr_assert_eq(st, IMBAL_ERR_NO_DEVICE);
    imbal_ctx_destroy(ctx);
}

/* ---- schedules ---- */

static void check_sched(const char *name, const imbal_lr_schedule *s) {
    FILE *f = fopen(REF("lr_ref.txt"), "r");
    cr_assert(f);
    char word[16], nm[64];
    int found = 0;
    while (!found && fscanf(f, "%15s %63s", word, nm) == 2) {
        found = strcmp(nm, name) == 0;
        for (int64_t t = 0;; ++t) {
            double want;
            long pos = ftell(f);
            int c;
            while ((c = fgetc(f)) == ' ') {
            }
            if (c == '\n' || c == EOF) break;
            fseek(f, pos, SEEK_SET);
            cr_assert_eq(fscanf(f, "%lf", &want), 1);
            if (!found) continue;
            cr_assert(t < s->total_steps, "%s: more reference values than steps", name);
            double got = imbal_lr_at(s, t);
            cr_assert(fabs(got - want) <= 1e-12 * fabs(want) + 1e-15,
                      "%s step %lld: %.17g vs torch %.17g", name, (long long)t, got, want);
            if (t == s->total_steps - 1) cr_assert(1);
        }
    }
    fclose(f);
    cr_assert(found, "schedule %s not in lr_ref.txt", name);
}

Test(lr_schedule, matches_pytorch) {
    imbal_ctx *ctx = tu_ctx();
    imbal_lr_schedule s;
    imbal_lr_schedule_default(&s, IMBAL_LR_STEP, 0.1, 10);
    s.num_milestones = 2;
    s.milestones[0] = 3;
    s.milestones[1] = 6;
    cr_assert_eq(imbal_lr_schedule_check(ctx, &s), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    check_sched("step_3_6", &s);
    imbal_lr_schedule_default(&s, IMBAL_LR_STEP, 0.4, 9);
    s.num_milestones = 3;
    s.milestones[0] = 2;
    s.milestones[1] = 5;
    s.milestones[2] = 7;
    s.gamma = 0.5;
    check_sched("step_2_5_7", &s);
    imbal_lr_schedule_default(&s, IMBAL_LR_COSINE, 0.1, 10);
    s.min_lr = 0.001;
    check_sched("cosine_10", &s);
    imbal_lr_schedule_default(&s, IMBAL_LR_COSINE, 0.05, 12);
    check_sched("cosine_12_0", &s);
    imbal_lr_schedule_default(&s, IMBAL_LR_COSINE, 0.1, 12);
    s.warmup_steps = 3;
    s.min_lr = 0.001;
    cr_assert_eq(imbal_lr_schedule_check(ctx, &s), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    check_sched("warm3_cosine_12", &s);
    /* past the end the cosine stays at min_lr */
    cr_assert_float_eq(imbal_lr_at(&s, 12), 0.001, 1e-15);
    cr_assert_float_eq(imbal_lr_at(&s, 1000), 0.001, 1e-15);
    imbal_ctx_destroy(ctx);
}

Test(lr_schedule, constant_and_warmup) {
    imbal_lr_schedule s;
    imbal_lr_schedule_default(&s, IMBAL_LR_CONSTANT, 0.2, 100);
    cr_assert_float_eq(s.gamma, 0.1, 0);
    cr_assert_eq(s.warmup_steps, 0);
    cr_assert_float_eq(imbal_lr_at(&s, 0), 0.2, 0);
    cr_assert_float_eq(imbal_lr_at(&s, 99), 0.2, 0);
    s.warmup_steps = 4;
    cr_assert_float_eq(imbal_lr_at(&s, 0), 0.05, 1e-15);
    cr_assert_float_eq(imbal_lr_at(&s, 3), 0.2, 1e-15);
    cr_assert_float_eq(imbal_lr_at(&s, 4), 0.2, 0);
    /* step with warm-up: milestones count absolute steps */
    imbal_lr_schedule_default(&s, IMBAL_LR_STEP, 1.0, 10);
    s.warmup_steps = 2;
    s.num_milestones = 1;
    s.milestones[0] = 5;
    cr_assert_float_eq(imbal_lr_at(&s, 1), 1.0, 0);
    cr_assert_float_eq(imbal_lr_at(&s, 4), 1.0, 0);
    cr_assert_float_eq(imbal_lr_at(&s, 5), 0.1, 1e-15);
    /* cosine whose warm-up fills the run ends at the warm-up's top, then min_lr */
    imbal_lr_schedule_default(&s, IMBAL_LR_COSINE, 1.0, 4);
    s.warmup_steps = 4;
    s.min_lr = 0.5;
    cr_assert_float_eq(imbal_lr_at(&s, 3), 1.0, 0);
    cr_assert_float_eq(imbal_lr_at(&s, 4), 0.5, 0);
}

Test(lr_schedule, errors_name_the_field) {
    imbal_ctx *ctx = tu_ctx();
    imbal_lr_schedule s;
    imbal_lr_schedule_default(&s, IMBAL_LR_COSINE, 0.0, 10);
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "base_lr");
    imbal_lr_schedule_default(&s, IMBAL_LR_COSINE, 0.1, 0);
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "total_steps");
    imbal_lr_schedule_default(&s, IMBAL_LR_COSINE, 0.1, 10);
    s.warmup_steps = 11;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "warmup_steps");
    s.warmup_steps = -1;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "warmup_steps");
    s.warmup_steps = 0;
    s.min_lr = 0.2;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "min_lr");
    s.kind = (imbal_lr_kind)9;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "kind");
    imbal_lr_schedule_default(&s, IMBAL_LR_STEP, 0.1, 10);
    s.num_milestones = 9;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "num_milestones");
    s.num_milestones = 2;
    s.milestones[0] = 5;
    s.milestones[1] = 5;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "milestones[1]");
    s.milestones[1] = 10;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "milestones[1]");
    s.milestones[0] = 0;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "milestones[0]");
    s.milestones[0] = 2;
    s.milestones[1] = 4;
    s.gamma = 0;
    expect_err(ctx, imbal_lr_schedule_check(ctx, &s), IMBAL_ERR_INVALID_ARGUMENT, "gamma");
    expect_err(ctx, imbal_lr_schedule_check(ctx, NULL), IMBAL_ERR_INVALID_ARGUMENT, "schedule");
    imbal_ctx_destroy(ctx);
}
