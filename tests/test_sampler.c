/* Samplers: exact invariants (identity, permutations, per-class counts, coverage, batch balance,
 * schedule switch), chi-square fits at fixed seeds, thread independence, every error path. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

/* A long-tailed label set: class c has counts[c] samples, spread over the indices by a fixed
 * stride so that classes interleave. */
static int32_t *make_labels(const int64_t *counts, int k, int64_t *n_out) {
    int64_t n = 0;
    for (int c = 0; c < k; ++c)
        n += counts[c];
    int32_t *seq = malloc((size_t)n * sizeof *seq), *lab = malloc((size_t)n * sizeof *lab);
    int64_t p = 0;
    for (int c = 0; c < k; ++c)
        for (int64_t i = 0; i < counts[c]; ++i)
            seq[p++] = c;
    /* 7919 is prime and coprime with every n used here (a permutation of positions). */
    for (int64_t i = 0; i < n; ++i)
        lab[(i * 7919) % n] = seq[i];
    free(seq);
    *n_out = n;
    return lab;
}

static const int64_t LT[4] = {500, 200, 50, 10}; /* n = 760 */

static imbal_sampler *make(imbal_ctx *ctx, const imbal_sampler_config *cfg, const int32_t *lab,
                           int64_t n, int k) {
    imbal_sampler *s = NULL;
    cr_assert_eq(imbal_sampler_create(ctx, cfg, lab, n, k, &s), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    return s;
}

static int64_t *run(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch, int64_t *len) {
    *len = imbal_sampler_epoch_length(s, epoch);
    int64_t *out = malloc((size_t)(*len > 0 ? *len : 1) * sizeof *out);
    cr_assert_eq(imbal_sampler_epoch(ctx, s, epoch, out), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    return out;
}

static void class_hist(const int64_t *idx, int64_t len, const int32_t *lab, int64_t n, int k,
                       int64_t *hist) {
    memset(hist, 0, (size_t)k * sizeof *hist);
    for (int64_t i = 0; i < len; ++i) {
        cr_assert(idx[i] >= 0 && idx[i] < n, "index %lld out of range", (long long)idx[i]);
        hist[lab[idx[i]]]++;
    }
}

static double pvalue(const int64_t *obs, const double *p, int64_t cells, int64_t total) {
    double dof, x = tu_chi2_stat(obs, p, cells, total, &dof);
    return tu_chi2_pvalue(x, dof);
}

/* ---- names, parsing, defaults --------------------------------------------------------------- */

Test(sampler, names_and_parse) {
    imbal_ctx *ctx = tu_ctx();
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_SHUFFLE);
    cr_assert_eq(cfg.kind, IMBAL_SAMPLER_SHUFFLE);
    cr_assert_eq(cfg.batch_size, 128);
    cr_assert_eq(cfg.seed, 0);
    cr_assert_null(cfg.sample_weights);
    const char *names[] = {"sequential",
                           "shuffle",
                           "weighted",
                           "class-power",
                           "oversample",
                           "undersample",
                           "rotating-undersample",
                           "repeat",
                           "balanced-batch",
                           "schedule"};
    for (int k = 0; k < 10; ++k) {
        cr_assert_str_eq(imbal_sampler_kind_name((imbal_sampler_kind)k), names[k]);
        cr_assert_eq(imbal_sampler_config_parse_kind(ctx, names[k], &cfg), IMBAL_OK);
        cr_assert_eq(cfg.kind, (imbal_sampler_kind)k);
    }
    cr_assert_str_eq(imbal_sampler_kind_name((imbal_sampler_kind)99), "unknown");
    cr_assert_eq(imbal_sampler_config_parse_kind(ctx, "class-balanced", &cfg), IMBAL_OK);
    cr_assert_eq(cfg.kind, IMBAL_SAMPLER_CLASS_POWER);
    cr_assert_eq(cfg.q, 0.0);
    cr_assert_eq(imbal_sampler_config_parse_kind(ctx, "sqrt", &cfg), IMBAL_OK);
    cr_assert_eq(cfg.kind, IMBAL_SAMPLER_CLASS_POWER);
    cr_assert_eq(cfg.q, 0.5);
    cr_assert_eq(imbal_sampler_config_parse_kind(ctx, "smote", &cfg), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "'smote'"), "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "rotating-undersample"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_sampler_config_parse_kind(ctx, NULL, &cfg), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "name"));
    imbal_ctx_destroy(ctx);
}

/* ---- sequential and shuffle ------------------------------------------------------------------ */

Test(sampler, sequential_is_identity) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len;
    int32_t *lab = make_labels(LT, 4, &n);
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_SEQUENTIAL);
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *out = run(ctx, s, 5, &len);
    cr_assert_eq(len, n);
    for (int64_t i = 0; i < n; ++i)
        cr_assert_eq(out[i], i);
    free(out);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

static void assert_permutation(const int64_t *p, int64_t n) {
    char *seen = calloc((size_t)n, 1);
    for (int64_t i = 0; i < n; ++i) {
        cr_assert(p[i] >= 0 && p[i] < n);
        cr_assert_eq(seen[p[i]], 0, "%lld repeated", (long long)p[i]);
        seen[p[i]] = 1;
    }
    free(seen);
}

Test(sampler, shuffle_is_a_fresh_permutation_each_epoch) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len;
    int32_t *lab = make_labels(LT, 4, &n);
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_SHUFFLE);
    cfg.seed = 11;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *a = run(ctx, s, 0, &len), *b = run(ctx, s, 0, &len), *c = run(ctx, s, 1, &len);
    assert_permutation(a, n);
    assert_permutation(c, n);
    cr_assert_eq(memcmp(a, b, (size_t)n * sizeof *a), 0);
    cr_assert_neq(memcmp(a, c, (size_t)n * sizeof *a), 0);
    /* The documented keying: Fisher-Yates from the top, j = below64 of stream (seed, e, i,
     * SHUFFLE). */
    int64_t *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; ++i)
        want[i] = i;
    for (int64_t i = n - 1; i >= 1; --i) {
        imbal_rng r;
        imbal_rng_init(&r, 11, 0, (uint64_t)i, IMBAL_OP_SHUFFLE);
        int64_t j = (int64_t)imbal_rng_below64(&r, (uint64_t)i + 1), t = want[i];
        want[i] = want[j];
        want[j] = t;
    }
    cr_assert_eq(memcmp(a, want, (size_t)n * sizeof *a), 0);
    /* Uniformity: position 0 over 4000 epochs of a 5-element shuffle. */
    int32_t five[5] = {0, 0, 0, 0, 0};
    imbal_sampler *s5 = make(ctx, &cfg, five, 5, 1);
    int64_t hist[5] = {0}, l5;
    for (uint32_t e = 0; e < 4000; ++e) {
        int64_t *p = run(ctx, s5, e, &l5);
        hist[p[0]]++;
        free(p);
    }
    double pr[5] = {.2, .2, .2, .2, .2};
    cr_assert_gt(pvalue(hist, pr, 5, 4000), 0.01);
    imbal_sampler_destroy(s5);
    free(want), free(a), free(b), free(c);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

/* ---- weighted and class-power ---------------------------------------------------------------- */

Test(sampler, weighted_per_sample_chi_square) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len;
    int32_t *lab = make_labels(LT, 4, &n);
    double *w = malloc((size_t)n * sizeof *w), *p = malloc((size_t)n * sizeof *p), sum = 0;
    for (int64_t i = 0; i < n; ++i)
        sum += w[i] = (double)(i % 5);
    for (int64_t i = 0; i < n; ++i)
        p[i] = w[i] / sum;
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_WEIGHTED);
    cfg.seed = 3;
    cfg.sample_weights = w;
    cfg.num_samples = 400000;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *out = run(ctx, s, 2, &len), *obs = calloc((size_t)n, sizeof *obs);
    cr_assert_eq(len, 400000);
    for (int64_t i = 0; i < len; ++i)
        obs[out[i]]++;
    cr_assert_gt(pvalue(obs, p, n, len), 0.01);
    for (int64_t i = 0; i < n; i += 5)
        cr_assert_eq(obs[i], 0); /* weight 0 */
    /* num_samples 0 -> n */
    cfg.num_samples = 0;
    imbal_sampler *s2 = make(ctx, &cfg, lab, n, 4);
    cr_assert_eq(imbal_sampler_epoch_length(s2, 0), n);
    imbal_sampler_destroy(s2);
    free(obs), free(out), free(w), free(p);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

Test(sampler, weighted_class_weights_chi_square) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len, hist[4];
    int32_t *lab = make_labels(LT, 4, &n);
    const double cw[4] = {1.0 / 500, 1.0 / 200, 1.0 / 50, 1.0 / 10}; /* inverse frequency */
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_WEIGHTED);
    cfg.seed = 5;
    cfg.class_weights = cw;
    cfg.num_samples = 200000;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *out = run(ctx, s, 0, &len);
    class_hist(out, len, lab, n, 4, hist);
    double pc[4] = {.25, .25, .25, .25};
    cr_assert_gt(pvalue(hist, pc, 4, len), 0.01);
    /* Within class 1 (200 members) every member is equally likely. */
    int64_t *obs = calloc((size_t)n, sizeof *obs);
    double *p = calloc((size_t)n, sizeof *p);
    for (int64_t i = 0; i < len; ++i)
        obs[out[i]]++;
    for (int64_t i = 0; i < n; ++i)
        p[i] = lab[i] == 1 ? 1.0 / 200 : 0.0;
    for (int64_t i = 0; i < n; ++i)
        if (lab[i] != 1) obs[i] = 0;
    cr_assert_gt(pvalue(obs, p, n, hist[1]), 0.01);
    free(obs), free(p), free(out);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

Test(sampler, class_power_chi_square) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len, hist[5];
    const int64_t counts[5] = {500, 200, 0, 50, 10}; /* class 2 empty: never drawn */
    int32_t *lab = make_labels(counts, 5, &n);
    const double qs[3] = {0.0, 0.5, 1.0};
    for (int t = 0; t < 3; ++t) {
        imbal_sampler_config cfg;
        imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_CLASS_POWER);
        cfg.q = qs[t];
        cfg.seed = 100 + (uint64_t)t;
        cfg.num_samples = 100000;
        imbal_sampler *s = make(ctx, &cfg, lab, n, 5);
        int64_t *out = run(ctx, s, 1, &len);
        class_hist(out, len, lab, n, 5, hist);
        double p[5], sum = 0;
        for (int c = 0; c < 5; ++c)
            sum += p[c] = counts[c] ? pow((double)counts[c], qs[t]) : 0;
        for (int c = 0; c < 5; ++c)
            p[c] /= sum;
        cr_assert_eq(hist[2], 0);
        cr_assert_gt(pvalue(hist, p, 5, len), 0.01, "q = %g", qs[t]);
        free(out);
        imbal_sampler_destroy(s);
    }
    free(lab);
    imbal_ctx_destroy(ctx);
}

/* ---- over- and undersampling ----------------------------------------------------------------- */

Test(sampler, oversample_exact_counts) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len, hist[4];
    int32_t *lab = make_labels(LT, 4, &n);
    const double ratios[2] = {0.0, 0.5};
    const int64_t want[2][4] = {{500, 500, 500, 500}, {500, 250, 250, 250}};
    for (int t = 0; t < 2; ++t) {
        imbal_sampler_config cfg;
        imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_OVERSAMPLE);
        cfg.ratio = ratios[t];
        cfg.seed = 8;
        imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
        int64_t total = want[t][0] + want[t][1] + want[t][2] + want[t][3];
        cr_assert_eq(imbal_sampler_epoch_length(s, 4), total);
        int64_t *out = run(ctx, s, 4, &len), *seen = calloc((size_t)n, sizeof *seen);
        class_hist(out, len, lab, n, 4, hist);
        for (int c = 0; c < 4; ++c)
            cr_assert_eq(hist[c], want[t][c], "class %d", c);
        for (int64_t i = 0; i < len; ++i)
            seen[out[i]]++;
        for (int64_t i = 0; i < n; ++i)
            cr_assert_geq(seen[i], 1, "sample %lld missing", (long long)i);
        int64_t *again = run(ctx, s, 5, &len);
        cr_assert_neq(memcmp(out, again, (size_t)len * sizeof *out), 0);
        free(again), free(seen), free(out);
        imbal_sampler_destroy(s);
    }
    /* The extra draws of class 3 (10 members, 490 extras per epoch) are uniform over members. */
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_OVERSAMPLE);
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *obs = calloc((size_t)n, sizeof *obs), extra = 0;
    double *p = calloc((size_t)n, sizeof *p);
    for (uint32_t e = 0; e < 40; ++e) {
        int64_t *out = run(ctx, s, e, &len);
        for (int64_t i = 0; i < len; ++i)
            if (lab[out[i]] == 3) obs[out[i]]++, extra++;
        free(out);
    }
    for (int64_t i = 0; i < n; ++i) {
        if (lab[i] == 3) obs[i] -= 40, p[i] = 0.1; /* minus the originals */
    }
    extra -= 400;
    cr_assert_gt(pvalue(obs, p, n, extra), 0.01);
    free(obs), free(p);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

Test(sampler, undersample_exact_counts_no_duplicates) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len, hist[4];
    int32_t *lab = make_labels(LT, 4, &n);
    const double ratios[3] = {0.0, 1.0, 0.5};
    const int64_t want[3][4] = {{10, 10, 10, 10}, {10, 10, 10, 10}, {20, 20, 20, 10}};
    for (int t = 0; t < 3; ++t) {
        imbal_sampler_config cfg;
        imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_UNDERSAMPLE);
        cfg.ratio = ratios[t];
        imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
        int64_t *out = run(ctx, s, 0, &len), *seen = calloc((size_t)n, sizeof *seen);
        class_hist(out, len, lab, n, 4, hist);
        for (int c = 0; c < 4; ++c)
            cr_assert_eq(hist[c], want[t][c], "ratio %g class %d", ratios[t], c);
        for (int64_t i = 0; i < len; ++i)
            cr_assert_eq(seen[out[i]]++, 0, "duplicate");
        free(seen), free(out);
        imbal_sampler_destroy(s);
    }
    /* Each member of class 0 is kept with probability 10/500 per epoch. */
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_UNDERSAMPLE);
    cfg.seed = 77;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *obs = calloc((size_t)n, sizeof *obs);
    double *p = calloc((size_t)n, sizeof *p);
    for (uint32_t e = 0; e < 1000; ++e) {
        int64_t *out = run(ctx, s, e, &len);
        for (int64_t i = 0; i < len; ++i)
            if (lab[out[i]] == 0) obs[out[i]]++;
        free(out);
    }
    for (int64_t i = 0; i < n; ++i)
        p[i] = lab[i] == 0 ? 1.0 / 500 : 0;
    cr_assert_gt(pvalue(obs, p, n, 10000), 0.01);
    free(obs), free(p);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

Test(sampler, rotating_covers_every_sample) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len, hist[4];
    const int64_t counts[4] = {500, 200, 53, 10};
    int32_t *lab = make_labels(counts, 4, &n);
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_ROTATING_UNDERSAMPLE);
    cfg.seed = 21;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *seen = calloc((size_t)n, sizeof *seen);
    for (uint32_t e = 0; e < 50; ++e) { /* ceil(500 / 10) epochs */
        int64_t *out = run(ctx, s, e, &len);
        cr_assert_eq(len, 40);
        class_hist(out, len, lab, n, 4, hist);
        for (int c = 0; c < 4; ++c)
            cr_assert_eq(hist[c], 10);
        for (int64_t i = 0; i < len; ++i)
            seen[out[i]]++;
        free(out);
    }
    int64_t twice = 0, thrice = 0;
    for (int64_t i = 0; i < n; ++i) {
        cr_assert_geq(seen[i], 1, "sample %lld never seen", (long long)i);
        if (lab[i] == 0) cr_assert_eq(seen[i], 1); /* 50 disjoint chunks */
        /* Class 1: cycles 0 and 1 of 20 chunks each, then 10 chunks of cycle 2. */
        if (lab[i] == 1) cr_assert(seen[i] == 2 || seen[i] == 3);
        if (lab[i] == 1) thrice += seen[i] == 3;
        if (lab[i] == 2) twice += seen[i] > 1;
    }
    /* Class 2: 6 chunks of 10 (7 padded from the start of the permutation) per cycle; 50 epochs =
     * 8 full cycles + 2 chunks: every member is seen 8 or more times. */
    for (int64_t i = 0; i < n; ++i)
        if (lab[i] == 2) cr_assert_geq(seen[i], 8);
    cr_assert_gt(twice, 0);
    cr_assert_eq(thrice, 100);
    free(seen);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

Test(sampler, classes_must_be_nonempty_for_undersampling) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n;
    const int64_t counts[3] = {5, 0, 7};
    int32_t *lab = make_labels(counts, 3, &n);
    imbal_sampler *s = (imbal_sampler *)0x1;
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_UNDERSAMPLE);
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, n, 3, &s), IMBAL_ERR_DATA);
    cr_assert_null(s);
    cr_assert(strstr(imbal_ctx_error(ctx), "class 1 is empty"), "%s", imbal_ctx_error(ctx));
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_ROTATING_UNDERSAMPLE);
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, n, 3, &s), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "class 1 is empty"), "%s", imbal_ctx_error(ctx));
    /* Oversampling skips the empty class. */
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_OVERSAMPLE);
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, n, 3, &s), IMBAL_OK);
    cr_assert_eq(imbal_sampler_epoch_length(s, 0), 14);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

/* ---- repeat factors -------------------------------------------------------------------------- */

Test(sampler, repeat_integer_factors_exact) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len;
    int32_t *lab = make_labels(LT, 4, &n);
    const double r[4] = {1, 0, 2, 5};
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_REPEAT);
    cfg.repeat_factors = r;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    cr_assert_eq(imbal_sampler_epoch_length(s, 3), 500 + 0 + 100 + 50);
    int64_t *out = run(ctx, s, 3, &len), *cnt = calloc((size_t)n, sizeof *cnt);
    for (int64_t i = 0; i < len; ++i)
        cnt[out[i]]++;
    for (int64_t i = 0; i < n; ++i)
        cr_assert_eq(cnt[i], (int64_t)r[lab[i]]);
    free(cnt), free(out);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

Test(sampler, repeat_fractional_expected_counts) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len;
    int32_t *lab = make_labels(LT, 4, &n);
    const double r[4] = {1.0, 1.5, 0.25, 3.7};
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_REPEAT);
    cfg.repeat_factors = r;
    cfg.seed = 4;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    int64_t *cnt = calloc((size_t)n, sizeof *cnt);
    int64_t up[4] = {0}, tries[4] = {0}, lengths_differ = 0, prev = -1;
    for (uint32_t e = 0; e < 200; ++e) {
        int64_t *out = run(ctx, s, e, &len);
        memset(cnt, 0, (size_t)n * sizeof *cnt);
        for (int64_t i = 0; i < len; ++i)
            cnt[out[i]]++;
        for (int64_t i = 0; i < n; ++i) {
            int c = lab[i];
            int64_t fl = (int64_t)floor(r[c]);
            cr_assert(cnt[i] == fl || cnt[i] == fl + 1, "sample %lld count %lld", (long long)i,
                      (long long)cnt[i]);
            up[c] += cnt[i] == fl + 1;
            tries[c]++;
        }
        lengths_differ += prev >= 0 && prev != len;
        prev = len;
        free(out);
    }
    cr_assert_eq(up[0], 0);
    for (int c = 1; c < 4; ++c) {
        double f = r[c] - floor(r[c]);
        int64_t obs[2] = {tries[c] - up[c], up[c]};
        double p[2] = {1 - f, f};
        cr_assert_gt(pvalue(obs, p, 2, tries[c]), 0.01, "class %d: %lld of %lld", c,
                     (long long)up[c], (long long)tries[c]);
    }
    cr_assert_gt(lengths_differ, 0);
    free(cnt);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

/* ---- balanced batches ------------------------------------------------------------------------ */

Test(sampler, balanced_batches) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len;
    const int64_t counts[5] = {500, 200, 50, 0, 10}; /* class 3 empty: K' = 4 */
    int32_t *lab = make_labels(counts, 5, &n);
    const int64_t sizes[3] = {32, 6, 3}; /* B mod 4 = 0, 2; B < K' */
    for (int t = 0; t < 3; ++t) {
        int64_t bsz = sizes[t];
        imbal_sampler_config cfg;
        imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_BALANCED_BATCH);
        cfg.batch_size = bsz;
        cfg.seed = 6;
        imbal_sampler *s = make(ctx, &cfg, lab, n, 5);
        int64_t nb = (n + bsz - 1) / bsz;
        cr_assert_eq(imbal_sampler_epoch_length(s, 0), nb * bsz);
        int64_t *use = calloc((size_t)n, sizeof *use), total[5] = {0};
        for (uint32_t e = 0; e < 6; ++e) {
            int64_t *out = run(ctx, s, e, &len);
            cr_assert_eq(len, nb * bsz);
            for (int64_t b = 0; b < nb; ++b) {
                int64_t h[5];
                class_hist(out + b * bsz, bsz, lab, n, 5, h);
                cr_assert_eq(h[3], 0);
                int64_t lo = INT64_MAX, hi = 0;
                for (int c = 0; c < 5; ++c)
                    if (c != 3) lo = h[c] < lo ? h[c] : lo, hi = h[c] > hi ? h[c] : hi;
                cr_assert_leq(hi - lo, 1, "B %lld epoch %u batch %lld", (long long)bsz, e,
                              (long long)b);
                for (int c = 0; c < 5; ++c)
                    total[c] += h[c];
            }
            for (int64_t i = 0; i < len; ++i)
                use[out[i]]++;
            free(out);
        }
        /* Over the whole run the classes are balanced within one sample per batch rotation. */
        for (int c = 0; c < 5; ++c)
            if (c != 3) cr_assert_leq(llabs(total[c] - total[0]), 6, "class %d", c);
        /* A class's stream continues across epochs: member use counts differ by at most 1. */
        for (int c = 0; c < 5; ++c) {
            int64_t lo = INT64_MAX, hi = 0;
            for (int64_t i = 0; i < n; ++i)
                if (lab[i] == c) lo = use[i] < lo ? use[i] : lo, hi = use[i] > hi ? use[i] : hi;
            if (c != 3)
                cr_assert_leq(hi - lo, 1, "B %lld class %d: %lld..%lld", (long long)bsz, c,
                              (long long)lo, (long long)hi);
        }
        free(use);
        imbal_sampler_destroy(s);
    }
    /* num_samples rounds up to whole batches. */
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_BALANCED_BATCH);
    cfg.batch_size = 16;
    cfg.num_samples = 33;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 5);
    cr_assert_eq(imbal_sampler_epoch_length(s, 0), 48);
    imbal_sampler_destroy(s);
    free(lab);
    imbal_ctx_destroy(ctx);
}

/* ---- schedule -------------------------------------------------------------------------------- */

Test(sampler, schedule_switches_at_the_epoch) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n, len, la, lb;
    int32_t *lab = make_labels(LT, 4, &n);
    imbal_sampler_config before, after, cfg;
    imbal_sampler_config_default(&before, IMBAL_SAMPLER_SHUFFLE);
    before.seed = 1;
    imbal_sampler_config_default(&after, IMBAL_SAMPLER_CLASS_POWER);
    after.seed = 2;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_SCHEDULE);
    cfg.before = &before;
    cfg.after = &after;
    cfg.switch_epoch = 3;
    imbal_sampler *s = make(ctx, &cfg, lab, n, 4);
    imbal_sampler *sb = make(ctx, &before, lab, n, 4), *sa = make(ctx, &after, lab, n, 4);
    for (uint32_t e = 0; e < 6; ++e) {
        int64_t *got = run(ctx, s, e, &len);
        int64_t *want = run(ctx, e < 3 ? sb : sa, e, &la);
        cr_assert_eq(len, la);
        cr_assert_eq(memcmp(got, want, (size_t)len * sizeof *got), 0, "epoch %u", e);
        free(got), free(want);
    }
    (void)lb;
    /* Errors: a missing part, a nested schedule. */
    imbal_sampler *bad = NULL;
    cfg.after = NULL;
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, n, 4, &bad), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "after"), "%s", imbal_ctx_error(ctx));
    cfg.after = &after;
    cfg.before = NULL;
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, n, 4, &bad), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "before"), "%s", imbal_ctx_error(ctx));
    imbal_sampler_config nested = cfg;
    nested.before = &before;
    cfg.before = &nested;
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, n, 4, &bad), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "before is itself a schedule"), "%s",
              imbal_ctx_error(ctx));
    /* An error inside a part is reported as is. */
    imbal_sampler_config broken;
    imbal_sampler_config_default(&broken, IMBAL_SAMPLER_BALANCED_BATCH);
    broken.batch_size = 0;
    cfg.before = &before;
    cfg.after = &broken;
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, n, 4, &bad), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "batch_size = 0"), "%s", imbal_ctx_error(ctx));
    cr_assert_null(bad);
    imbal_sampler_destroy(s), imbal_sampler_destroy(sa), imbal_sampler_destroy(sb);
    free(lab);
    imbal_ctx_destroy(ctx);
}

/* ---- thread independence --------------------------------------------------------------------- */

Test(sampler, identical_for_any_thread_count, .timeout = 60) {
    imbal_ctx *one = tu_ctx(), *two = tu_ctx();
    imbal_ctx_set_threads(one, 1);
    imbal_ctx_set_threads(two, 2);
    const int64_t counts[4] = {70000, 20000, 9000, 1000};
    int64_t n;
    int32_t *lab = make_labels(counts, 4, &n);
    double *sw = malloc((size_t)n * sizeof *sw);
    for (int64_t i = 0; i < n; ++i)
        sw[i] = 1.0 + (double)(i % 13);
    const double cw[4] = {1, 2, 3, 4}, rf[4] = {0.5, 1.25, 2.5, 7.1};
    imbal_sampler_config before, after;
    imbal_sampler_config_default(&before, IMBAL_SAMPLER_SEQUENTIAL);
    imbal_sampler_config_default(&after, IMBAL_SAMPLER_SHUFFLE);
    for (int k = 0; k <= 9; ++k) {
        for (int variant = 0; variant < 2; ++variant) {
            imbal_sampler_config cfg;
            imbal_sampler_config_default(&cfg, (imbal_sampler_kind)k);
            cfg.seed = 1234;
            cfg.num_samples = 100000;
            cfg.sample_weights = variant ? NULL : sw;
            cfg.class_weights = cw;
            cfg.q = 0.5;
            cfg.ratio = variant ? 0.3 : 0.0;
            cfg.repeat_factors = rf;
            cfg.batch_size = variant ? 100 : 7;
            cfg.before = &before;
            cfg.after = &after;
            cfg.switch_epoch = 1;
            imbal_sampler *s = make(one, &cfg, lab, n, 4);
            for (uint32_t e = 0; e < 2; ++e) {
                int64_t la, lb;
                int64_t *a = run(one, s, e, &la), *b = run(two, s, e, &lb);
                cr_assert_eq(la, lb);
                cr_assert_eq(memcmp(a, b, (size_t)la * sizeof *a), 0, "kind %s variant %d",
                             imbal_sampler_kind_name((imbal_sampler_kind)k), variant);
                free(a), free(b);
            }
            imbal_sampler_destroy(s);
        }
    }
    free(sw), free(lab);
    imbal_ctx_destroy(one), imbal_ctx_destroy(two);
}

/* ---- errors ---------------------------------------------------------------------------------- */

static void expect_error(imbal_sampler_config *cfg, const int32_t *lab, int64_t n, int k,
                         imbal_status want, const char *needle) {
    imbal_ctx *ctx = tu_ctx();
    imbal_sampler *s = (imbal_sampler *)0x1;
    imbal_status st = imbal_sampler_create(ctx, cfg, lab, n, k, &s);
    cr_assert_eq(st, want, "%s: status %d, message '%s'", needle, (int)st, imbal_ctx_error(ctx));
    cr_assert_null(s);
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "wanted '%s' in '%s'", needle,
              imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}

Test(sampler, errors_name_the_parameter) {
    int32_t lab[8] = {0, 1, 2, 0, 1, 2, 0, 1};
    imbal_sampler_config cfg;
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_SHUFFLE);
    lab[5] = 3;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_DATA, "labels[5] = 3");
    lab[5] = -1;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_DATA, "labels[5] = -1");
    lab[5] = 2;
    expect_error(&cfg, lab, 0, 3, IMBAL_ERR_INVALID_ARGUMENT, "n = 0");
    expect_error(&cfg, lab, 8, 0, IMBAL_ERR_INVALID_ARGUMENT, "num_classes = 0");
    expect_error(&cfg, NULL, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "labels");
    expect_error(NULL, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "cfg");
    cfg.kind = (imbal_sampler_kind)42;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "kind = 42");
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_WEIGHTED);
    cfg.num_samples = -5;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "num_samples = -5");
    cfg.num_samples = 0;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "sample_weights and class_weights");
    double sw[8] = {1, 1, 1, 1, 1, -2, 1, 1};
    cfg.sample_weights = sw;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_DATA, "sample_weights[5] = -2");
    sw[5] = NAN;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_DATA, "sample_weights[5] = nan");
    double zero[8] = {0};
    cfg.sample_weights = zero;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_DATA, "sample_weights sum to 0");
    double cw[3] = {1, INFINITY, 1};
    cfg.sample_weights = NULL;
    cfg.class_weights = cw;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_DATA, "class_weights[1] = inf");
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_CLASS_POWER);
    cfg.q = NAN;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "q = nan");
    cfg.q = 1e6;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "q = 1e+06");
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_OVERSAMPLE);
    cfg.ratio = 1.5;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "ratio = 1.5");
    cfg.ratio = NAN;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "ratio = nan");
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_UNDERSAMPLE);
    cfg.ratio = -0.1;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "ratio = -0.1");
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_REPEAT);
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "repeat_factors is NULL");
    double rf[3] = {1, 2, -1};
    cfg.repeat_factors = rf;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "repeat_factors[2] = -1");
    rf[2] = INFINITY;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "repeat_factors[2] = inf");
    rf[2] = 1e300;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "repeat_factors");
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_BALANCED_BATCH);
    cfg.batch_size = -3;
    expect_error(&cfg, lab, 8, 3, IMBAL_ERR_INVALID_ARGUMENT, "batch_size = -3");
    /* Bad epoch arguments. */
    imbal_ctx *ctx = tu_ctx();
    int64_t out[8];
    cr_assert_eq(imbal_sampler_epoch(ctx, NULL, 0, out), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "sampler is NULL"));
    imbal_sampler_config_default(&cfg, IMBAL_SAMPLER_SEQUENTIAL);
    imbal_sampler *s = NULL;
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, 8, 3, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "out is NULL"));
    cr_assert_eq(imbal_sampler_create(ctx, &cfg, lab, 8, 3, &s), IMBAL_OK);
    cr_assert_eq(imbal_sampler_epoch(ctx, s, 0, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "out is NULL"));
    cr_assert_eq(imbal_sampler_epoch_length(NULL, 0), 0);
    imbal_sampler_destroy(s);
    imbal_sampler_destroy(NULL);
    imbal_ctx_destroy(ctx);
}
