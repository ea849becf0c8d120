/* imbal loss end to end: every PyTorch reference case of tests/data/loss/cases.txt run through
 * the command (loss from --json, dlogits from --grad-out), plus its errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define LOSS_DIR IMBAL_TEST_DATA_DIR "/loss"

typedef struct ref_case {
    char name[64], kind[32], reduction[16], dtype[8], norm[16], target_dtype[8];
    double gamma, alpha, smoothing, tau, ldam_m, ldam_s, grad_scale;
    long long ignore;
    int has_cw, has_sw, has_pw, has_counts;
} ref_case;

static int read_case(FILE *f, ref_case *c) {
    return fscanf(f, "%63s %31s %15s %7s %15s %lf %lf %lf %lld %lf %lf %lf %lf %7s %d %d %d %d",
                  c->name, c->kind, c->reduction, c->dtype, c->norm, &c->gamma, &c->alpha,
                  &c->smoothing, &c->ignore, &c->tau, &c->ldam_m, &c->ldam_s, &c->grad_scale,
                  c->target_dtype, &c->has_cw, &c->has_sw, &c->has_pw, &c->has_counts) == 18;
}

/* Appends " --opt 'DIR/<case>_<array>.npy'" to args. */
static void add_array(char *args, size_t len, const char *opt, const ref_case *c,
                      const char *array) {
    size_t used = strlen(args);
    snprintf(args + used, len - used, " %s '%s/%s_%s.npy'", opt, LOSS_DIR, c->name, array);
}

static float *load_f32(imbal_ctx *ctx, const char *path, int64_t *count) {
    imbal_tensor t, f;
    cr_assert_eq(imbal_npy_read(ctx, path, &t), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_alloc(ctx, &f, IMBAL_F32, t.ndim, t.shape, imbal_device_cpu()),
                 IMBAL_OK);
    cr_assert_eq(imbal_tensor_cast(ctx, &f, &t), IMBAL_OK);
    *count = imbal_tensor_numel(&f);
    float *v = malloc(sizeof *v * (size_t)(*count ? *count : 1));
    memcpy(v, f.data, sizeof *v * (size_t)*count);
    imbal_tensor_free(&t);
    imbal_tensor_free(&f);
    return v;
}

static double tolerance(const char *dtype) {
    return strcmp(dtype, "f16") == 0 ? 2e-3 : strcmp(dtype, "bf16") == 0 ? 1.6e-2 : 2e-5;
}

Test(cli_loss, every_pytorch_reference_case) {
    FILE *f = fopen(LOSS_DIR "/cases.txt", "r");
    cr_assert_not_null(f);
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *grad_path = tu_join(dir, "grad.npy");
    ref_case c;
    int cases = 0;
    while (read_case(f, &c)) {
        char args[4096];
        snprintf(args, sizeof args,
                 "loss --kind %s --reduction %s --weight-norm %s --dtype %s --gamma %.17g "
                 "--alpha %.17g --label-smoothing %.17g --ignore-index %lld --tau %.17g "
                 "--ldam-margin %.17g --ldam-scale %.17g --grad-scale %.17g --json --grad-out '%s'",
                 c.kind, c.reduction, c.norm, c.dtype, c.gamma, c.alpha, c.smoothing, c.ignore,
                 c.tau, c.ldam_m, c.ldam_s, c.grad_scale, grad_path);
        add_array(args, sizeof args, "--logits", &c, "logits");
        add_array(args, sizeof args, "--targets", &c, "targets");
        if (c.has_cw) add_array(args, sizeof args, "--weights", &c, "class_weights");
        if (c.has_sw) add_array(args, sizeof args, "--sample-weights", &c, "sample_weights");
        if (c.has_pw) add_array(args, sizeof args, "--pos-weight", &c, "pos_weight");
        if (c.has_counts) add_array(args, sizeof args, "--class-counts", &c, "class_counts");
        char *out, *err;
        cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s: %s", c.name, err);
        double tol = tolerance(c.dtype);
        char path[512];
        int64_t n;
        if (strcmp(c.reduction, "none") != 0) {
            const char *p = strstr(out, "\"loss\": ");
            cr_assert_not_null(p, "%s: %s", c.name, out);
            double got = strtod(p + 8, NULL);
            snprintf(path, sizeof path, "%s/%s_loss.npy", LOSS_DIR, c.name);
            float *want = load_f32(ctx, path, &n);
            cr_assert(fabs(got - want[0]) <= tol * fabs(want[0]) + 1e-6, "%s: loss %.9g vs %.9g",
                      c.name, got, want[0]);
            free(want);
        }
        snprintf(path, sizeof path, "%s/%s_dlogits.npy", LOSS_DIR, c.name);
        int64_t m;
        float *want = load_f32(ctx, path, &n), *got = load_f32(ctx, grad_path, &m);
        cr_assert_eq(n, m, "%s", c.name);
        double scale = 0;
        for (int64_t i = 0; i < n; ++i)
            scale = fmax(scale, fabs(want[i]));
        for (int64_t i = 0; i < n; ++i)
            cr_assert(fabs(got[i] - want[i]) <= tol * scale + 1e-7,
                      "%s: dlogits[%lld] %.9g vs %.9g", c.name, (long long)i, got[i], want[i]);
        free(want), free(got), free(out), free(err);
        ++cases;
    }
    cr_assert_geq(cases, 30, "only %d cases read", cases);
    fclose(f);
    imbal_ctx_destroy(ctx);
    tu_rmtree(dir);
    free(dir), free(grad_path);
}

Test(cli_loss, class_balanced_weights_from_counts) {
    /* --cb-beta B must equal passing the ENS weights (Cui et al.) as --weights; the bsm case has
     * class counts, and ce over its logits gives the comparison. */
    char args[2048], *out, *err;
    snprintf(args, sizeof args,
             "loss --kind focal --gamma 1 --logits '%s/bsm_logits.npy' --targets "
             "'%s/bsm_targets.npy' --class-counts '%s/bsm_class_counts.npy' --cb-beta 0.99 --json",
             LOSS_DIR, LOSS_DIR, LOSS_DIR);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"loss\": ") != NULL);
    double cb = strtod(strstr(out, "\"loss\": ") + 8, NULL);
    free(out), free(err);
    snprintf(args, sizeof args,
             "loss --kind focal --gamma 1 --logits '%s/bsm_logits.npy' --targets "
             "'%s/bsm_targets.npy' --json",
             LOSS_DIR, LOSS_DIR);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    double plain = strtod(strstr(out, "\"loss\": ") + 8, NULL);
    free(out), free(err);
    cr_assert(isfinite(cb) && isfinite(plain) && cb != plain, "%g %g", cb, plain);
}

Test(cli_loss, errors_name_the_argument) {
    char args[2048], *out, *err;
    cr_assert_eq(
        tu_run_cli("loss --kind ce --logits /nonexistent/l.npy --targets /x.npy", &out, &err), 1);
    cr_assert(strstr(err, "/nonexistent/l.npy"), "%s", err);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("loss --kind hinge --logits a.npy --targets b.npy", &out, &err), 2);
    cr_assert(strstr(err, "hinge"), "%s", err);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("loss --logits a.npy", &out, &err), 2);
    cr_assert(strstr(err, "--kind"), "%s", err);
    free(out), free(err);
    /* float targets for a softmax kind */
    snprintf(args, sizeof args,
             "loss --kind ce --logits '%s/ce_plain_logits.npy' --targets '%s/ce_plain_logits.npy'",
             LOSS_DIR, LOSS_DIR);
    cr_assert_eq(tu_run_cli(args, &out, &err), 1);
    cr_assert(strstr(err, "--targets") && strstr(err, "class indices"), "%s", err);
    free(out), free(err);
    if (imbal_cuda_device_count() == 0) {
        snprintf(args, sizeof args,
                 "loss --kind ce --device cuda --logits '%s/ce_plain_logits.npy' --targets "
                 "'%s/ce_plain_targets.npy'",
                 LOSS_DIR, LOSS_DIR);
        cr_assert_neq(tu_run_cli(args, &out, &err), 0);
        cr_assert(strstr(err, "cuda"), "%s", err);
        free(out), free(err);
    }
}
