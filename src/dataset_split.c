/* imbal: stratified train/val/test split. Within each class, a Philox-keyed Fisher-Yates
 * permutation (stream (seed, 0, class id, IMBAL_OP_SPLIT)) of the class's samples, taken in index
 * order, is cut into the counts of imbal_split_counts. Classes are independent streams, so the
 * result does not depend on the thread count. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset_internal.h"
#include "imbal/philox.h"
#include "internal.h"

void imbal_split_counts(int64_t n, const double f[3], int64_t out[3]) {
    double sum = f[0] + f[1] + f[2], rem[3];
    int64_t given = 0;
    for (int k = 0; k < 3; ++k) {
        double q = n > 0 && sum > 0 ? f[k] / sum * (double)n : 0.0;
        out[k] = (int64_t)floor(q);
        rem[k] = q - (double)out[k];
        given += out[k];
    }
    while (given > n) { /* rounding of q can overshoot by one in extreme cases */
        int big = 0;
        for (int k = 1; k < 3; ++k)
            if (out[k] > out[big]) big = k;
        out[big]--;
        given--;
    }
    while (given < n) { /* largest remainder first, ties to the lower split */
        int best = -1;
        for (int k = 0; k < 3; ++k)
            if (f[k] > 0 && (best < 0 || rem[k] > rem[best])) best = k;
        if (best < 0) break;
        out[best]++;
        rem[best] = -1.0; /* each split gets at most one extra per round */
        given++;
        int left = 0;
        for (int k = 0; k < 3; ++k)
            left += f[k] > 0 && rem[k] >= 0;
        if (!left)
            for (int k = 0; k < 3; ++k)
                rem[k] = 0.0;
    }
    int nonzero = (f[0] > 0) + (f[1] > 0) + (f[2] > 0);
    if (n < nonzero) return;
    for (int k = 0; k < 3; ++k) {
        if (f[k] <= 0 || out[k] > 0) continue;
        int big = 0;
        for (int j = 1; j < 3; ++j)
            if (out[j] > out[big]) big = j;
        out[big]--;
        out[k]++;
    }
}

static imbal_status check_fractions(imbal_ctx *ctx, const double f[3]) {
    static const char *const name[3] = {"train", "val", "test"};
    for (int k = 0; k < 3; ++k)
        if (!isfinite(f[k]) || f[k] < 0 || f[k] > 1)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "dataset_split: %s fraction %g is not in [0, 1] (train=%g val=%g "
                              "test=%g)",
                              name[k], f[k], f[0], f[1], f[2]);
    double sum = f[0] + f[1] + f[2];
    if (fabs(sum - 1.0) > 1e-6)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "dataset_split: fractions train=%g val=%g test=%g sum to %.9g, not 1",
                          f[0], f[1], f[2], sum);
    return IMBAL_OK;
}

/* Permutes the class's members (idx[0..n)) and tags them. */
static void split_class(imbal_dataset *ds, int64_t *idx, int64_t n, const double f[3], int c,
                        uint64_t seed) {
    imbal_rng r;
    imbal_rng_init(&r, seed, 0, (uint64_t)c, IMBAL_OP_SPLIT);
    for (int64_t i = n - 1; i > 0; --i) {
        int64_t j = (int64_t)imbal_rng_below64(&r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    int64_t cnt[3];
    imbal_split_counts(n, f, cnt);
    int64_t i = 0;
    for (int k = 0; k < 3; ++k)
        for (int64_t m = 0; m < cnt[k]; ++m, ++i)
            ds->splits[idx[i]] = (int8_t)k;
}

imbal_status imbal_dataset_split(imbal_ctx *ctx, imbal_dataset *ds, double train, double val,
                                 double test, uint64_t seed) {
    if (!ds) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "dataset_split: dataset is NULL");
    const double f[3] = {train, val, test};
    imbal_status st = check_fractions(ctx, f);
    if (st != IMBAL_OK) return st;
    int nc = ds->num_classes;
    int64_t *start = imbal_xcalloc(ctx, (size_t)nc + 1, sizeof *start, "class starts");
    int64_t *idx =
        imbal_xmalloc(ctx, (size_t)(ds->size > 0 ? ds->size : 1), sizeof *idx, "split order");
    if (!start || !idx) {
        free(start);
        free(idx);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    /* Counting sort by class keeps each class's members in index order. */
    for (int64_t i = 0; i < ds->size; ++i)
        start[ds->labels[i] + 1]++;
    for (int c = 0; c < nc; ++c)
        start[c + 1] += start[c];
    int64_t *fill = imbal_xmalloc(ctx, (size_t)nc, sizeof *fill, "class fill");
    if (!fill) {
        free(start);
        free(idx);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    memcpy(fill, start, (size_t)nc * sizeof *fill);
    for (int64_t i = 0; i < ds->size; ++i)
        idx[fill[ds->labels[i]]++] = i;
    free(fill);
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) schedule(dynamic, 1)
    for (int c = 0; c < nc; ++c)
        split_class(ds, idx + start[c], start[c + 1] - start[c], f, c, seed);
    free(start);
    free(idx);
    return IMBAL_OK;
}
