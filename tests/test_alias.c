/* Vose's alias table: the table's implied distribution, the Philox word mapping, draws against a
 * chi-square test, slicing and thread independence, a 2^25-category table, every error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imbal/imbal.h"
#include "sampler_internal.h"
#include "test_util.h"

/* P(i) implied by the table: column i keeps itself with probability threshold / 2^32 and gives
 * the rest to its alias; each column has probability 1/n. */
static double *implied(const imbal_alias *a) {
    uint64_t n = a->n;
    double *p = calloc(n, sizeof *p);
    cr_assert_not_null(p);
    for (uint64_t i = 0; i < n; ++i) {
        double keep = a->table[i].alias == i ? 1.0 : a->table[i].threshold / 4294967296.0;
        p[i] += keep / (double)n;
        p[a->table[i].alias] += (1.0 - keep) / (double)n;
    }
    return p;
}

static imbal_alias *make(const float *w, uint64_t n) {
    imbal_alias *a = NULL;
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_alias_create(ctx, w, n, &a), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return a;
}

Test(alias, small_table_is_exact) {
    const float w[5] = {1, 2, 3, 4, 0};
    imbal_alias *a = make(w, 5);
    cr_assert_eq(imbal_alias_size(a), 5);
    cr_assert_eq(imbal_alias_table_bytes(a), 40);
    double *p = implied(a);
    for (int i = 0; i < 5; ++i)
        cr_assert_float_eq(p[i], w[i] / 10.0, 1e-9, "p[%d] = %g", i, p[i]);
    /* The zero-weight column never keeps itself. */
    cr_assert_eq(a->table[4].threshold, 0);
    cr_assert_neq(a->table[4].alias, 4);
    free(p);
    imbal_alias_destroy(a);
}

/* Lemire's column from word w, with the documented redraws from the retry stream. */
static uint64_t ref_below(uint64_t n, uint32_t w, imbal_rng *retry, int *ready, uint64_t seed,
                          uint32_t epoch, uint64_t d, int *rejections) {
    uint32_t reject = (uint32_t)(4294967296ull % n);
    uint64_t m = (uint64_t)w * n;
    while ((uint32_t)m < reject) {
        if (!*ready) imbal_rng_init(retry, seed, epoch, d, IMBAL_OP_SAMPLE_RETRY), *ready = 1;
        ++*rejections;
        m = (uint64_t)imbal_rng_u32(retry) * n;
    }
    return m >> 32;
}

/* Draw d as docs/sampling.md defines it, recomputed from imbal_philox_block. */
static int64_t ref_draw(const imbal_alias *a, uint64_t seed, uint32_t epoch, uint64_t d,
                        int *rejections) {
    imbal_u32x4 b =
        imbal_philox_block(seed, epoch, d >> 33, IMBAL_OP_SAMPLE_DRAW, (uint32_t)(d >> 1));
    uint32_t wc = b.v[(d & 1) * 2], coin = b.v[(d & 1) * 2 + 1];
    imbal_rng retry;
    int ready = 0;
    uint64_t col = ref_below(a->n, wc, &retry, &ready, seed, epoch, d, rejections);
    return coin < a->table[col].threshold ? (int64_t)col : a->table[col].alias;
}

static void check_mapping(uint64_t n, uint64_t first, int64_t count, int want_rejections) {
    float *w = malloc(n * sizeof *w);
    for (uint64_t i = 0; i < n; ++i)
        w[i] = (float)(1 + (i * 7) % 11);
    imbal_alias *a = make(w, n);
    uint64_t seed = 0x1234567890abcdefull;
    int64_t *out = malloc((size_t)count * sizeof *out);
    imbal_alias_draw(NULL, a, seed, 7, first, count, out);
    int rejections = 0;
    for (int64_t j = 0; j < count; ++j)
        cr_assert_eq(out[j], ref_draw(a, seed, 7, first + (uint64_t)j, &rejections),
                     "n %llu draw %llu", (unsigned long long)n, (unsigned long long)first + j);
    if (want_rejections) cr_assert_gt(rejections, 0);
    free(out), free(w);
    imbal_alias_destroy(a);
}

Test(alias, word_mapping_matches_docs) {
    check_mapping(6, 100, 1000, 0);        /* small table, partial and full chunks */
    check_mapping(100003, 3, 300000, 1);   /* prefetching path, with Lemire redraws */
    check_mapping(1ull << 17, 0, 1000, 0); /* power of two: never redraws */
}

/* Class-then-member draws: block d, words 0 (column), 1 (coin), 2 (member). */
Test(alias, grouped_mapping_matches_docs) {
    const double gw[4] = {3, 0, 1, 2};
    const int64_t start[5] = {0, 5, 5, 12, 112}; /* group sizes 5, 0, 7, 100 */
    int64_t members[112];
    for (int i = 0; i < 112; ++i)
        members[i] = 1000 + i;
    imbal_alias *a = NULL;
    cr_assert_eq(imbal_alias_build(NULL, NULL, gw, 4, "gw", &a), IMBAL_OK);
    enum { D = 5000 };
    int64_t out[D];
    uint64_t seed = 99;
    imbal_alias_draw_grouped(NULL, a, seed, 4, 250, D, start, members, out);
    int rejections = 0;
    for (uint64_t d = 250; d < 250 + D; ++d) {
        imbal_u32x4 b = imbal_philox_block(seed, 4, d >> 32, IMBAL_OP_SAMPLE_DRAW, (uint32_t)d);
        imbal_rng retry;
        int ready = 0;
        uint64_t col = ref_below(4, b.v[0], &retry, &ready, seed, 4, d, &rejections);
        uint32_t g = b.v[1] < a->table[col].threshold ? (uint32_t)col : a->table[col].alias;
        cr_assert_neq(g, 1);
        uint64_t m = ref_below((uint64_t)(start[g + 1] - start[g]), b.v[2], &retry, &ready, seed, 4,
                               d, &rejections);
        cr_assert_eq(out[d - 250], members[start[g] + (int64_t)m], "draw %llu",
                     (unsigned long long)d);
    }
    imbal_alias_destroy(a);
}

Test(alias, chi_square_skewed) {
    enum { N = 1000, D = 2000000 };
    float w[N];
    double p[N], sum = 0;
    for (int i = 0; i < N; ++i)
        sum += w[i] = (float)(1.0 / (i + 1)) + (i % 7 == 0 ? 0.5f : 0.f);
    for (int i = 0; i < N; ++i)
        p[i] = w[i] / sum;
    imbal_alias *a = make(w, N);
    int64_t *out = malloc(D * sizeof *out), obs[N] = {0};
    imbal_alias_draw(NULL, a, 42, 3, 0, D, out);
    for (int i = 0; i < D; ++i) {
        cr_assert(out[i] >= 0 && out[i] < N);
        obs[out[i]]++;
    }
    double dof, x = tu_chi2_stat(obs, p, N, D, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 0.01, "chi2 %g dof %g", x, dof);
    free(out);
    imbal_alias_destroy(a);
}

Test(alias, uniform_three_and_single) {
    const float w3[3] = {2, 2, 2};
    imbal_alias *a = make(w3, 3);
    enum { D = 300000 };
    int64_t *out = malloc(D * sizeof *out), obs[3] = {0};
    imbal_alias_draw(NULL, a, 1, 0, 0, D, out);
    for (int i = 0; i < D; ++i)
        obs[out[i]]++;
    double p[3] = {1 / 3.0, 1 / 3.0, 1 / 3.0}, dof;
    double x = tu_chi2_stat(obs, p, 3, D, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 0.01);
    imbal_alias_destroy(a);
    const float w1[1] = {0.25f};
    a = make(w1, 1);
    imbal_alias_draw(NULL, a, 1, 0, 5, 1000, out);
    for (int i = 0; i < 1000; ++i)
        cr_assert_eq(out[i], 0);
    imbal_alias_destroy(a);
    free(out);
}

Test(alias, slices_and_threads_agree) {
    enum { N = 5000, D = 300001 };
    float w[N];
    for (int i = 0; i < N; ++i)
        w[i] = (float)((i * 37) % 101);
    imbal_alias *a = make(w, N);
    int64_t *x = malloc(D * sizeof *x), *y = malloc(D * sizeof *y);
    imbal_ctx *one = tu_ctx(), *two = tu_ctx();
    imbal_ctx_set_threads(one, 1);
    imbal_ctx_set_threads(two, 2);
    imbal_alias_draw(one, a, 9, 2, 17, D, x);
    imbal_alias_draw(two, a, 9, 2, 17, D, y);
    cr_assert_eq(memcmp(x, y, D * sizeof *x), 0);
    /* Any split of the range gives the same draws. */
    imbal_alias_draw(two, a, 9, 2, 17, 1001, y);
    imbal_alias_draw(two, a, 9, 2, 17 + 1001, D - 1001, y + 1001);
    cr_assert_eq(memcmp(x, y, D * sizeof *x), 0);
    imbal_alias_draw(one, a, 9, 2, 18, 1, y);
    cr_assert_eq(y[0], x[1]);
    /* Another epoch or seed gives other draws; zero-weight categories never appear. */
    imbal_alias_draw(two, a, 9, 3, 17, D, y);
    cr_assert_neq(memcmp(x, y, D * sizeof *x), 0);
    for (int i = 0; i < D; ++i)
        cr_assert_neq(w[x[i]], 0.0f);
    imbal_ctx_destroy(one);
    imbal_ctx_destroy(two);
    free(x);
    free(y);
    imbal_alias_destroy(a);
}

/* 2^25 categories (torch.multinomial refuses more than 2^24): the table's implied distribution is
 * exact to rounding, and 2^25 draws pass a chi-square test on 2^16 bins of 512 categories. */
Test(alias, two_pow_25_categories, .timeout = 60) {
    const uint64_t n = 1ull << 25;
#if defined(__SANITIZE_ADDRESS__)
    /* Sanitized Debug builds are ~10x slower: fewer draws, same table size. */
    const int64_t draws = 1ll << 23;
#else
    const int64_t draws = 1ll << 25;
#endif
    float *w = malloc(n * sizeof *w);
    cr_assert_not_null(w);
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i)
        sum += w[i] = (float)(1.0 / (double)(i + 1) + 1e-7);
    imbal_alias *a = make(w, n);
    cr_assert_eq(imbal_alias_table_bytes(a), 8 * n);
    double *p = implied(a), worst = 0;
    for (uint64_t i = 0; i < n; ++i) {
        double want = w[i] / sum, err = fabs(p[i] - want) / want;
        if (err > worst) worst = err;
    }
    cr_assert_lt(worst, 1e-4, "worst relative error of the implied probabilities %g", worst);
    enum { BINS = 1 << 16 };
    const uint64_t per = n / BINS;
    double *pb = calloc(BINS, sizeof *pb);
    int64_t *obs = calloc(BINS, sizeof *obs);
    for (uint64_t i = 0; i < n; ++i)
        pb[i / per] += w[i] / sum;
    enum { CH = 1 << 21 };
    int64_t *out = malloc(CH * sizeof *out);
    imbal_ctx *ctx = tu_ctx();
    for (int64_t first = 0; first < draws; first += CH) {
        imbal_alias_draw(ctx, a, 2025, 0, (uint64_t)first, CH, out);
        for (int64_t j = 0; j < CH; ++j)
            obs[(uint64_t)out[j] / per]++;
    }
    double dof, x = tu_chi2_stat(obs, pb, BINS, draws, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 0.01, "chi2 %g dof %g", x, dof);
    imbal_ctx_destroy(ctx);
    free(out), free(obs), free(pb), free(p), free(w);
    imbal_alias_destroy(a);
}

Test(alias, errors_name_the_value) {
    imbal_ctx *ctx = tu_ctx();
    imbal_alias *a = (imbal_alias *)0x1;
    float w[4] = {1, 2, NAN, 4};
    cr_assert_eq(imbal_alias_create(ctx, w, 4, &a), IMBAL_ERR_DATA);
    cr_assert_null(a);
    cr_assert(strstr(imbal_ctx_error(ctx), "weights[2]"), "%s", imbal_ctx_error(ctx));
    w[2] = -1;
    cr_assert_eq(imbal_alias_create(ctx, w, 4, &a), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "weights[2] = -1"), "%s", imbal_ctx_error(ctx));
    w[2] = INFINITY;
    cr_assert_eq(imbal_alias_create(ctx, w, 4, &a), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "weights[2] = inf"), "%s", imbal_ctx_error(ctx));
    float z[3] = {0, 0, 0};
    cr_assert_eq(imbal_alias_create(ctx, z, 3, &a), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "sum to 0"), "%s", imbal_ctx_error(ctx));
    float big[2] = {3e38f, 3e38f}; /* sums beyond float, fine in double */
    cr_assert_eq(imbal_alias_create(ctx, big, 2, &a), IMBAL_OK);
    imbal_alias_destroy(a);
    cr_assert_eq(imbal_alias_create(ctx, w, 0, &a), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "0 categories"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_alias_create(ctx, w, (1ull << 32) + 1, &a), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "4294967297 categories"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_alias_create(ctx, NULL, 4, &a), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "weights"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_alias_create(ctx, w, 4, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "out"), "%s", imbal_ctx_error(ctx));
    imbal_alias_destroy(NULL);
    cr_assert_eq(imbal_alias_size(NULL), 0);
    imbal_ctx_destroy(ctx);
}
