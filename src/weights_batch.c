/* imbal: per-batch sample weights (INS / ISNS / ENS applied to a batch's own class counts). */
#include "imbal/weights.h"

#include <stdlib.h>

#include "internal.h"

imbal_status imbal_batch_sample_weights(imbal_ctx *ctx, const int32_t *labels, int64_t n,
                                        int num_classes, const imbal_weight_options *opts,
                                        float *out) {
    if (!opts)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_batch_sample_weights: opts is NULL");
    if (num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_batch_sample_weights: num_classes must be >= 1, got %d",
                          num_classes);
    if (n < 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_batch_sample_weights: n must be >= 0, got %lld", (long long)n);
    imbal_weight_scheme s = opts->scheme;
    if (s != IMBAL_WEIGHTS_INS && s != IMBAL_WEIGHTS_ISNS && s != IMBAL_WEIGHTS_ENS &&
        s != IMBAL_WEIGHTS_NONE)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_batch_sample_weights: scheme '%s' is not a per-batch scheme "
                          "(use ins, isns, ens or none)",
                          imbal_weight_scheme_name(s));
    if (n == 0) return IMBAL_OK;
    if (!labels || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_batch_sample_weights: labels or out is NULL");

    int k = num_classes;
    int64_t *counts = imbal_xcalloc(ctx, (size_t)k, sizeof *counts, "batch class counts");
    double *w = imbal_xmalloc(ctx, (size_t)k, sizeof *w, "batch class weights");
    imbal_status r = IMBAL_OK;
    if (!counts || !w) {
        r = IMBAL_ERR_OUT_OF_MEMORY;
        goto done;
    }
    for (int64_t i = 0; i < n; ++i) {
        int32_t y = labels[i];
        if (y < 0 || y >= k) {
            r = imbal_fail(ctx, IMBAL_ERR_DATA,
                           "batch sample weights: label %d at position %lld is outside [0, %d)",
                           (int)y, (long long)i, k);
            goto done;
        }
        ++counts[y];
    }
    /* Classes absent from the batch get weight 0 and stay out of the normalisation, so the
     * present classes' weights sum to the number present (imbal_class_weights' empty policy). */
    imbal_weight_options o = *opts;
    o.zero_weight_for_empty = 1;
    o.manual = NULL;
    r = imbal_class_weights(ctx, counts, k, NULL, &o, w);
    if (r != IMBAL_OK) goto done;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) schedule(static) if (n > 65536)
    for (int64_t i = 0; i < n; ++i)
        out[i] = (float)w[labels[i]];
done:
    free(w);
    free(counts);
    return r;
}
