/* Inputs at the edges, through every entry point: 0 and 1 samples, 1 class, 10^5 classes, 1x1
 * and 20000x20000 images, NaN/Inf in .npy arrays, labels out of range, negative weights. Each
 * gives a clear error naming the argument, or the result docs/reliability.md documents. */
/* No Criterion .timeout here: with --jobs 2, Criterion 2.4's runner leaks 48 bytes for timed
 * tests and LeakSanitizer then fails the binary; ctest's TIMEOUT bounds them instead. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "imbal/imbal.h"
#include "test_util.h"

#define BIGK 100000

static void expect_error(imbal_ctx *ctx, imbal_status st, imbal_status want, const char *needle) {
    cr_assert_eq(st, want, "got %s, want %s: %s", imbal_status_string(st),
                 imbal_status_string(want), imbal_ctx_error(ctx));
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), needle), "'%s' not in: %s", needle,
                       imbal_ctx_error(ctx));
}

/* ---- class statistics and weights ------------------------------------------------------------ */

Test(edges, class_stats) {
    imbal_ctx *ctx = tu_ctx();
    imbal_class_stats s;
    int64_t one = 7;
    cr_assert_eq(imbal_class_stats_compute(ctx, &one, 1, &s), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(s.total, 7);
    cr_assert_float_eq(s.imbalance_ratio, 1.0, 0);
    cr_assert_neq(imbal_class_stats_compute(ctx, &one, 0, &s), IMBAL_OK);
    int64_t zero = 0; /* one class, no samples: ratio +inf as documented */
    cr_assert_eq(imbal_class_stats_compute(ctx, &zero, 1, &s), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(s.total, 0);
    int64_t neg[2] = {3, -1};
    cr_assert_neq(imbal_class_stats_compute(ctx, neg, 2, &s), IMBAL_OK);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "-1"), "%s", imbal_ctx_error(ctx));
    int64_t *big = malloc(BIGK * sizeof *big);
    for (int c = 0; c < BIGK; c++)
        big[c] = 1 + c % 1000;
    cr_assert_eq(imbal_class_stats_compute(ctx, big, BIGK, &s), IMBAL_OK);
    cr_assert_eq(s.max_count, 1000);
    cr_assert_eq(s.min_count, 1);
    cr_assert_float_eq(s.imbalance_ratio, 1000.0, 0);
    free(big);
    imbal_ctx_destroy(ctx);
}

Test(edges, class_weights) {
    imbal_ctx *ctx = tu_ctx();
    imbal_weight_options o;
    imbal_weight_options_default(&o);
    const imbal_weight_scheme schemes[] = {IMBAL_WEIGHTS_INVERSE, IMBAL_WEIGHTS_BALANCED,
                                           IMBAL_WEIGHTS_INS, IMBAL_WEIGHTS_ISNS,
                                           IMBAL_WEIGHTS_ENS};
    int64_t one = 5;
    double w = 0;
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        o.scheme = schemes[i];
        cr_assert_eq(imbal_class_weights(ctx, &one, 1, NULL, &o, &w), IMBAL_OK, "%s: %s",
                     imbal_weight_scheme_name(schemes[i]), imbal_ctx_error(ctx));
        cr_assert(isfinite(w) && w > 0, "%s: one class gets %g",
                  imbal_weight_scheme_name(schemes[i]), w);
    }
    o.scheme = IMBAL_WEIGHTS_INVERSE;
    expect_error(ctx, imbal_class_weights(ctx, &one, 0, NULL, &o, &w), IMBAL_ERR_INVALID_ARGUMENT,
                 "0");
    int64_t neg[2] = {4, -2};
    const char *names[2] = {"cat", "dog"};
    expect_error(ctx, imbal_class_weights(ctx, neg, 2, names, &o, &w), IMBAL_ERR_INVALID_ARGUMENT,
                 "dog");
    int64_t empty[2] = {4, 0};
    double w2[2];
    expect_error(ctx, imbal_class_weights(ctx, empty, 2, names, &o, w2), IMBAL_ERR_DATA, "dog");
    double manual[2] = {1, -0.5};
    o.scheme = IMBAL_WEIGHTS_MANUAL;
    o.manual = manual;
    expect_error(ctx, imbal_class_weights(ctx, empty, 2, names, &o, w2), IMBAL_ERR_INVALID_ARGUMENT,
                 "dog");
    manual[1] = NAN;
    expect_error(ctx, imbal_class_weights(ctx, empty, 2, names, &o, w2), IMBAL_ERR_INVALID_ARGUMENT,
                 "dog");
    /* 10^5 classes: finite weights, balanced mean 1 over classes */
    int64_t *big = malloc(BIGK * sizeof *big);
    double *bw = malloc(BIGK * sizeof *bw);
    for (int c = 0; c < BIGK; c++)
        big[c] = 1 + c % 97;
    o.manual = NULL;
    o.scheme = IMBAL_WEIGHTS_ENS;
    cr_assert_eq(imbal_class_weights(ctx, big, BIGK, NULL, &o, bw), IMBAL_OK);
    for (int c = 0; c < BIGK; c++)
        cr_assert(isfinite(bw[c]) && bw[c] > 0, "class %d: %g", c, bw[c]);
    free(big), free(bw);
    expect_error(ctx, imbal_weights_parse_manual(ctx, "1,-2", NULL, 2, w2),
                 IMBAL_ERR_INVALID_ARGUMENT, "-2");
    expect_error(ctx, imbal_weights_parse_manual(ctx, "1,nan", NULL, 2, w2),
                 IMBAL_ERR_INVALID_ARGUMENT, "nan");
    imbal_ctx_destroy(ctx);
}

/* ---- samplers -------------------------------------------------------------------------------- */

static const imbal_sampler_kind all_kinds[] = {
    IMBAL_SAMPLER_SEQUENTIAL,           IMBAL_SAMPLER_SHUFFLE,    IMBAL_SAMPLER_WEIGHTED,
    IMBAL_SAMPLER_CLASS_POWER,          IMBAL_SAMPLER_OVERSAMPLE, IMBAL_SAMPLER_UNDERSAMPLE,
    IMBAL_SAMPLER_ROTATING_UNDERSAMPLE, IMBAL_SAMPLER_REPEAT,     IMBAL_SAMPLER_BALANCED_BATCH};

static void sampler_cfg(imbal_sampler_config *c, imbal_sampler_kind kind, const double *cw,
                        const double *rf) {
    imbal_sampler_config_default(c, kind);
    c->seed = 3;
    c->class_weights = cw;
    c->repeat_factors = rf;
    c->batch_size = 2;
    c->q = 0.5;
}

/* One sample, one class: every kind yields indices in range; 0 samples: a clear error. */
Test(edges, samplers_one_and_zero_samples) {
    imbal_ctx *ctx = tu_ctx();
    double cw[1] = {1}, rf[1] = {1};
    int32_t label = 0;
    for (size_t i = 0; i < sizeof all_kinds / sizeof all_kinds[0]; i++) {
        imbal_sampler_config c;
        sampler_cfg(&c, all_kinds[i], cw, rf);
        const char *name = imbal_sampler_kind_name(all_kinds[i]);
        imbal_sampler *s = NULL;
        cr_assert_eq(imbal_sampler_create(ctx, &c, &label, 1, 1, &s), IMBAL_OK, "%s: %s", name,
                     imbal_ctx_error(ctx));
        int64_t n = imbal_sampler_epoch_length(s, 0);
        cr_assert(n >= 1 && n <= 4, "%s: %lld indices from 1 sample", name, (long long)n);
        int64_t out[4];
        cr_assert_eq(imbal_sampler_epoch(ctx, s, 0, out), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        for (int64_t k = 0; k < n; k++)
            cr_assert_eq(out[k], 0, "%s", name);
        imbal_sampler_destroy(s);
        s = NULL;
        imbal_status st = imbal_sampler_create(ctx, &c, NULL, 0, 1, &s);
        cr_assert_neq(st, IMBAL_OK, "%s accepted 0 samples", name);
        cr_assert_null(s);
    }
    imbal_ctx_destroy(ctx);
}

Test(edges, samplers_bad_labels_and_weights) {
    imbal_ctx *ctx = tu_ctx();
    int32_t labels[4] = {0, 1, 2, 1};
    double cw[2] = {1, 1}, rf[2] = {1, 1};
    for (size_t i = 0; i < sizeof all_kinds / sizeof all_kinds[0]; i++) {
        imbal_sampler_config c;
        sampler_cfg(&c, all_kinds[i], cw, rf);
        imbal_sampler *s = NULL;
        expect_error(ctx, imbal_sampler_create(ctx, &c, labels, 4, 2, &s), IMBAL_ERR_DATA, "2");
        cr_assert_null(s);
    }
    labels[2] = -1;
    imbal_sampler_config c;
    sampler_cfg(&c, IMBAL_SAMPLER_SHUFFLE, cw, rf);
    imbal_sampler *s = NULL;
    expect_error(ctx, imbal_sampler_create(ctx, &c, labels, 4, 2, &s), IMBAL_ERR_DATA, "-1");
    labels[2] = 0;
    double neg[2] = {1, -1};
    sampler_cfg(&c, IMBAL_SAMPLER_WEIGHTED, neg, rf);
    expect_error(ctx, imbal_sampler_create(ctx, &c, labels, 4, 2, &s), IMBAL_ERR_DATA,
                 "class_weights[1] = -1");
    double zero[2] = {0, 0};
    sampler_cfg(&c, IMBAL_SAMPLER_WEIGHTED, zero, rf);
    cr_assert_neq(imbal_sampler_create(ctx, &c, labels, 4, 2, &s), IMBAL_OK,
                  "all-zero weights accepted");
    sampler_cfg(&c, IMBAL_SAMPLER_REPEAT, cw, neg);
    cr_assert_neq(imbal_sampler_create(ctx, &c, labels, 4, 2, &s), IMBAL_OK,
                  "negative repeat factor accepted");
    imbal_ctx_destroy(ctx);
}

/* 10^5 classes, one sample each: class-balanced sampling and balanced batches stay fast. */
Test(edges, samplers_1e5_classes) {
    imbal_ctx *ctx = tu_ctx();
    int32_t *labels = malloc(BIGK * sizeof *labels);
    for (int i = 0; i < BIGK; i++)
        labels[i] = i;
    int64_t *out = NULL;
    const imbal_sampler_kind kinds[] = {IMBAL_SAMPLER_CLASS_POWER, IMBAL_SAMPLER_UNDERSAMPLE,
                                        IMBAL_SAMPLER_BALANCED_BATCH};
    for (size_t i = 0; i < 3; i++) {
        imbal_sampler_config c;
        sampler_cfg(&c, kinds[i], NULL, NULL);
        c.batch_size = 256;
        imbal_sampler *s = NULL;
        cr_assert_eq(imbal_sampler_create(ctx, &c, labels, BIGK, BIGK, &s), IMBAL_OK, "%s",
                     imbal_ctx_error(ctx));
        int64_t n = imbal_sampler_epoch_length(s, 0);
        /* balanced batches round the epoch up to whole batches */
        cr_assert(n > 0 && n <= BIGK + 256, "%lld", (long long)n);
        out = realloc(out, (size_t)n * sizeof *out);
        cr_assert_eq(imbal_sampler_epoch(ctx, s, 0, out), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        for (int64_t k = 0; k < n; k++)
            cr_assert(out[k] >= 0 && out[k] < BIGK);
        imbal_sampler_destroy(s);
    }
    free(out), free(labels);
    imbal_ctx_destroy(ctx);
}

/* ---- loss ------------------------------------------------------------------------------------ */

static imbal_status ce(imbal_ctx *ctx, float *logits, int64_t n, int64_t c, int32_t *targets,
                       float *cw, int check_finite, float *loss) {
    int64_t ls[2] = {n, c}, ts[1] = {n}, ws[1] = {c};
    imbal_tensor L = imbal_tensor_wrap(logits, IMBAL_F32, 2, ls, imbal_device_cpu());
    imbal_tensor T = imbal_tensor_wrap(targets, IMBAL_I32, 1, ts, imbal_device_cpu());
    imbal_tensor W = imbal_tensor_wrap(cw, IMBAL_F32, 1, ws, imbal_device_cpu());
    imbal_tensor out = imbal_tensor_wrap(loss, IMBAL_F32, 0, NULL, imbal_device_cpu());
    imbal_loss_params p;
    imbal_loss_params_default(&p, IMBAL_LOSS_CE);
    p.check_finite = check_finite;
    imbal_loss_inputs in = {&L, &T, cw ? &W : NULL, NULL, NULL, NULL};
    imbal_loss_outputs o = {&out, NULL, NULL};
    return imbal_loss(ctx, imbal_device_cpu(), &p, &in, &o);
}

Test(edges, loss) {
    imbal_ctx *ctx = tu_ctx();
    float loss = -1;
    /* one class: log-softmax of one logit is 0 */
    float l1[2] = {3.0f, -2.0f};
    int32_t t1[2] = {0, 0};
    cr_assert_eq(ce(ctx, l1, 2, 1, t1, NULL, 0, &loss), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(loss, 0.0f, 1e-7);
    /* label out of range: names the row and the label */
    float l2[4] = {0, 1, 2, 3};
    int32_t t2[2] = {0, 2};
    expect_error(ctx, ce(ctx, l2, 2, 2, t2, NULL, 0, &loss), IMBAL_ERR_DATA, "2");
    t2[1] = -5;
    expect_error(ctx, ce(ctx, l2, 2, 2, t2, NULL, 0, &loss), IMBAL_ERR_DATA, "-5");
    t2[1] = 1;
    /* negative class weight: an error naming the class */
    float cw[2] = {1, -1};
    expect_error(ctx, ce(ctx, l2, 2, 2, t2, cw, 0, &loss), IMBAL_ERR_DATA, "class_weights[1]");
    /* NaN / +inf logits with check_finite: IMBAL_ERR_DATA naming row and class */
    l2[3] = NAN;
    expect_error(ctx, ce(ctx, l2, 2, 2, t2, NULL, 1, &loss), IMBAL_ERR_DATA, "1");
    l2[3] = INFINITY;
    expect_error(ctx, ce(ctx, l2, 2, 2, t2, NULL, 1, &loss), IMBAL_ERR_DATA, "1");
    imbal_ctx_destroy(ctx);
}

Test(edges, loss_zero_rows_and_1e5_classes) {
    imbal_ctx *ctx = tu_ctx();
    float loss = -1;
    float dummy[1] = {0};
    int32_t tdummy[1] = {0};
    /* N = 0: the mean over no rows is NaN (0/0), as torch.nn.functional.cross_entropy gives. */
    cr_assert_eq(ce(ctx, dummy, 0, 3, tdummy, NULL, 0, &loss), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert(isnan(loss), "mean over 0 rows is %g", loss);
    /* 10^5 classes, 2 rows of zeros: loss = log(C) */
    float *big = calloc(2 * (size_t)BIGK, sizeof *big);
    int32_t t[2] = {0, BIGK - 1};
    cr_assert_eq(ce(ctx, big, 2, BIGK, t, NULL, 0, &loss), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(loss, logf((float)BIGK), 1e-4);
    free(big);
    imbal_ctx_destroy(ctx);
}

/* ---- metrics --------------------------------------------------------------------------------- */

Test(edges, metrics) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = NULL;
    cr_assert_neq(imbal_metrics_create(ctx, 0, 1, &m), IMBAL_OK);
    cr_assert_eq(imbal_metrics_create(ctx, 1, 1, &m), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_metrics_report r;
    expect_error(ctx, imbal_metrics_compute(ctx, m, NULL, &r), IMBAL_ERR_DATA, "no samples");
    int32_t y[1] = {0}, p[1] = {0};
    cr_assert_eq(imbal_metrics_add(ctx, m, y, p, 1), IMBAL_OK);
    cr_assert_eq(imbal_metrics_compute(ctx, m, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(r.accuracy, 1.0, 0);
    cr_assert_float_eq(r.balanced_accuracy, 1.0, 0);
    cr_assert_float_eq(r.macro_f1, 1.0, 0);
    cr_assert(isnan(r.top_k_accuracy), "top-1 of 1 class without logits: %g", r.top_k_accuracy);
    imbal_metrics_report_free(&r);
    int32_t bad[2] = {0, 1};
    expect_error(ctx, imbal_metrics_add(ctx, m, bad, p, 2), IMBAL_ERR_DATA, "1");
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* NaN logits: the arg-max must not silently pick a class. */
Test(edges, metrics_nan_logits) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = NULL;
    cr_assert_eq(imbal_metrics_create(ctx, 3, 1, &m), IMBAL_OK);
    float logits[6] = {0, 1, 2, 0, NAN, 1};
    int32_t y[2] = {2, 1};
    expect_error(ctx, imbal_metrics_add_logits(ctx, m, logits, y, 2), IMBAL_ERR_DATA, "row 1");
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* The confusion matrix is dense (C x C int64): 10^5 classes (the limit) need 80 GB and fail with
 * IMBAL_ERR_OUT_OF_MEMORY naming the bytes where that memory is not there; beyond the limit is
 * refused up front. 4000 classes (128 MB) work. */
Test(edges, metrics_many_classes) {
    imbal_ctx *ctx = tu_ctx();
    imbal_metrics *m = NULL;
    expect_error(ctx, imbal_metrics_create(ctx, BIGK + 1, 5, &m), IMBAL_ERR_INVALID_ARGUMENT,
                 "100001");
    const int K = 4000;
    cr_assert_eq(imbal_metrics_create(ctx, K, 5, &m), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    int32_t y[4] = {0, 1, K - 1, 7}, p[4] = {0, 2, K - 1, 7};
    cr_assert_eq(imbal_metrics_add(ctx, m, y, p, 4), IMBAL_OK);
    imbal_metrics_report r;
    cr_assert_eq(imbal_metrics_compute(ctx, m, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(r.accuracy, 0.75, 1e-12);
    cr_assert_float_eq(r.balanced_accuracy, 0.75, 1e-12); /* over the 4 classes with support */
    imbal_metrics_report_free(&r);
    imbal_metrics_destroy(m);
    imbal_ctx_destroy(ctx);
}

/* ---- images ---------------------------------------------------------------------------------- */

static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static void be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

/* A PNG signature and IHDR announcing w x h RGB, an empty IDAT, then IEND: no pixel data. */
static size_t png_header(uint8_t *buf, uint32_t w, uint32_t h) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    be32(buf + 8, 13);
    memcpy(buf + 12, "IHDR", 4);
    be32(buf + 16, w);
    be32(buf + 20, h);
    buf[24] = 8, buf[25] = 2, buf[26] = 0, buf[27] = 0, buf[28] = 0;
    be32(buf + 29, crc32_png(buf + 12, 17));
    be32(buf + 33, 0);
    memcpy(buf + 37, "IDAT", 4);
    be32(buf + 41, crc32_png(buf + 37, 4));
    be32(buf + 45, 0);
    memcpy(buf + 49, "IEND", 4);
    be32(buf + 53, crc32_png(buf + 49, 4));
    return 57;
}

Test(edges, images) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    char *p1 = tu_join(dir, "one.png");
    uint8_t px[3] = {10, 20, 30};
    imbal_image one = {1, 1, 3, px};
    cr_assert_eq(imbal_image_write_png(ctx, &one, p1), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    imbal_image img;
    cr_assert_eq(imbal_image_load(ctx, p1, &o, &img), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(img.width, 1);
    cr_assert_eq(img.height, 1);
    cr_assert_eq(img.data[2], 30);
    imbal_image_free(&img);
    /* 20000 x 20000: refused by the pixel limit before any pixel memory */
    uint8_t hdr[64];
    size_t n = png_header(hdr, 20000, 20000);
    expect_error(ctx, imbal_image_decode(ctx, hdr, n, "huge.png", &o, &img), IMBAL_ERR_DATA,
                 "huge.png");
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "400000000"), "%s", imbal_ctx_error(ctx));
    /* with the limit raised, the (empty) data is the error: no 1.2 GB allocation survives */
    o.max_pixels = 400000000;
    imbal_status st = imbal_image_decode(ctx, hdr, n, "huge.png", &o, &img);
    cr_assert_neq(st, IMBAL_OK);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "huge.png"), "%s", imbal_ctx_error(ctx));
    /* 0 bytes and a 0 x 0 header */
    imbal_decode_options_default(&o);
    cr_assert_neq(imbal_image_decode(ctx, hdr, 0, "empty.png", &o, &img), IMBAL_OK);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "empty.png"), "%s", imbal_ctx_error(ctx));
    n = png_header(hdr, 0, 0);
    cr_assert_neq(imbal_image_decode(ctx, hdr, n, "zero.png", &o, &img), IMBAL_OK);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "zero.png"), "%s", imbal_ctx_error(ctx));
    tu_rmtree(dir);
    free(p1), free(dir);
    imbal_ctx_destroy(ctx);
}

/* ---- npy: NaN / Inf are data, read verbatim; the consumers decide ---------------------------- */

Test(edges, npy_nan_inf_roundtrip_and_loss_cli) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    char *lp = tu_join(dir, "logits.npy"), *tp = tu_join(dir, "targets.npy");
    float v[4] = {NAN, 1.0f, INFINITY, -INFINITY};
    int64_t shape[2] = {2, 2};
    imbal_tensor t = imbal_tensor_wrap(v, IMBAL_F32, 2, shape, imbal_device_cpu());
    cr_assert_eq(imbal_npy_write(ctx, lp, &t), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_tensor back;
    cr_assert_eq(imbal_npy_read(ctx, lp, &back), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    const float *b = back.data;
    cr_assert(isnan(b[0]) && b[1] == 1.0f && isinf(b[2]) && b[2] > 0 && isinf(b[3]) && b[3] < 0);
    imbal_tensor_free(&back);
    int32_t y[2] = {0, 1};
    int64_t ys[1] = {2};
    imbal_tensor T = imbal_tensor_wrap(y, IMBAL_I32, 1, ys, imbal_device_cpu());
    cr_assert_eq(imbal_npy_write(ctx, tp, &T), IMBAL_OK);
    char args[8192], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "loss --kind ce --logits '%s' --targets '%s' --check-finite", lp,
             tp);
    cr_assert_neq(tu_run_cli(args, &out, &err), 0);
    cr_assert_not_null(strstr(err, "row 0"), "%s", err);
    free(out), free(err);
    /* a label out of range in the targets file */
    y[1] = 9;
    cr_assert_eq(imbal_npy_write(ctx, tp, &T), IMBAL_OK);
    v[0] = 0, v[2] = 0, v[3] = 0;
    cr_assert_eq(imbal_npy_write(ctx, lp, &t), IMBAL_OK);
    snprintf(args, sizeof args, "loss --kind ce --logits '%s' --targets '%s'", lp, tp);
    cr_assert_neq(tu_run_cli(args, &out, &err), 0);
    cr_assert_not_null(strstr(err, "9"), "%s", err);
    free(out), free(err);
    tu_rmtree(dir);
    free(lp), free(tp), free(dir);
    imbal_ctx_destroy(ctx);
}

/* ---- datasets and the commands --------------------------------------------------------------- */

Test(edges, dataset_manifests) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    char *m0 = tu_join(dir, "empty.csv"), *m1 = tu_join(dir, "one.csv");
    tu_write_file(m0, "path,label\n");
    imbal_dataset *ds = NULL;
    cr_assert_neq(imbal_dataset_open_manifest(ctx, m0, 0, &ds), IMBAL_OK);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "empty.csv"), "%s", imbal_ctx_error(ctx));
    cr_assert_null(ds);
    tu_write_file(m1, "path,label\na.png,cat\n");
    cr_assert_eq(imbal_dataset_open_manifest(ctx, m1, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_size(ds), 1);
    cr_assert_eq(imbal_dataset_num_classes(ds), 1);
    imbal_dataset_destroy(ds);
    /* an empty ImageFolder */
    char *f0 = tu_join(dir, "folder");
    char *cls = tu_join(f0, "cat");
    cr_assert_eq(imbal_mkdirs(ctx, cls), IMBAL_OK);
    ds = NULL;
    cr_assert_neq(imbal_dataset_open(ctx, f0, 0, &ds), IMBAL_OK);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "folder"), "%s", imbal_ctx_error(ctx));
    /* 10^5 classes from counts */
    int64_t *counts = malloc(BIGK * sizeof *counts);
    for (int c = 0; c < BIGK; c++)
        counts[c] = 1;
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, BIGK, NULL, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_num_classes(ds), BIGK);
    imbal_dataset_destroy(ds);
    free(counts);
    tu_rmtree(dir);
    free(m0), free(m1), free(f0), free(cls), free(dir);
    imbal_ctx_destroy(ctx);
}

/* imbal train on one class and on one sample: a clear error naming the problem. */
Test(edges, train_one_class_and_one_sample) {
    char *dir = tu_mkdtemp();
    char *one_class = tu_join(dir, "one_class"), *one_sample = tu_join(dir, "one_sample");
    uint8_t px[8 * 8 * 3] = {0};
    imbal_image img = {8, 8, 3, px};
    char p[4200];
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%.4000s/cat/%d.png", one_class, i);
        char d[4200];
        snprintf(d, sizeof d, "%.4000s/cat", one_class);
        cr_assert_eq(imbal_mkdirs(NULL, d), IMBAL_OK);
        cr_assert_eq(imbal_image_write_png(NULL, &img, p), IMBAL_OK);
    }
    for (int c = 0; c < 2; c++) {
        char d[4200];
        snprintf(d, sizeof d, "%.4000s/c%d", one_sample, c);
        cr_assert_eq(imbal_mkdirs(NULL, d), IMBAL_OK);
        if (c == 0) {
            snprintf(p, sizeof p, "%.4000s/0.png", d);
            cr_assert_eq(imbal_image_write_png(NULL, &img, p), IMBAL_OK);
        }
    }
    char args[8192], *out = NULL, *err = NULL;
    const char *common = "--arch resnet8 --width 4 --size 8 --epochs 1 --batch 2 "
                         "--augment crop=8,normalize=cifar10 --quiet";
    char *run = tu_join(dir, "run1");
    snprintf(args, sizeof args, "train --data '%s' --out '%s' %s", one_class, run, common);
    int rc = tu_run_cli(args, &out, &err);
    cr_assert_eq(rc, 1, "one class: exit %d: %s", rc, err);
    cr_assert_not_null(strstr(err, "class"), "%s", err);
    free(out), free(err), free(run);
    run = tu_join(dir, "run2");
    snprintf(args, sizeof args, "train --data '%s' --out '%s' %s", one_sample, run, common);
    rc = tu_run_cli(args, &out, &err);
    cr_assert_eq(rc, 1, "an empty class: exit %d: %s", rc, err);
    cr_assert_not_null(strstr(err, "c1"), "%s", err);
    free(out), free(err), free(run);
    tu_rmtree(dir);
    free(one_class), free(one_sample), free(dir);
}
