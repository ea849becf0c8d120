/* imbal: the weighted and class-power samplers, num_samples draws with replacement by Vose's
 * alias method (src/alias.c).
 *   per-sample weights: one alias table over the N samples, draw d = imbal_alias_draw's draw d;
 *   class weights w_c:  P(class c) = w_c n_c / sum_k w_k n_k (the same distribution as giving each
 *                       sample its class's weight), then a uniform member: exact, 8 bytes per
 *                       class instead of per sample (imbal_alias_draw_grouped's mapping);
 *   class-power q:      P(class c) = n_c^q / sum_k n_k^q over non-empty classes (Kang et al.,
 *                       "Decoupling representation and classifier", ICLR 2020), then a uniform
 *                       member, as for class weights. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"
#include "sampler_internal.h"

imbal_status imbal_sampler_build_weighted(imbal_ctx *ctx, imbal_sampler *s,
                                          const imbal_sampler_config *cfg) {
    int k = s->num_classes;
    s->fixed_length = s->num_samples;
    if (s->kind == IMBAL_SAMPLER_WEIGHTED && cfg->sample_weights)
        return imbal_alias_build(ctx, NULL, cfg->sample_weights, (uint64_t)s->n, "sample_weights",
                                 &s->alias);
    if (s->kind == IMBAL_SAMPLER_WEIGHTED && !cfg->class_weights)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "weighted sampler: sample_weights and class_weights are both NULL");
    if (s->kind == IMBAL_SAMPLER_CLASS_POWER && !isfinite(cfg->q))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "class-power sampler: q = %g must be finite", cfg->q);
    double *w = imbal_xmalloc(ctx, (size_t)k, sizeof *w, "class sampling weights");
    if (!w) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st = IMBAL_OK;
    for (int c = 0; c < k && st == IMBAL_OK; ++c) {
        double nc = (double)s->class_count[c];
        if (s->kind == IMBAL_SAMPLER_CLASS_POWER) {
            w[c] = nc > 0 ? pow(nc, cfg->q) : 0.0;
            if (!isfinite(w[c]))
                st = imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                "class-power sampler: q = %g overflows n_c^q for class %d (n_c = "
                                "%.0f)",
                                cfg->q, c, nc);
        } else {
            double wc = cfg->class_weights[c];
            if (!(wc >= 0.0) || !isfinite(wc))
                st = imbal_fail(ctx, IMBAL_ERR_DATA,
                                "weighted sampler: class_weights[%d] = %g; must be finite and >= 0",
                                c, wc);
            else
                w[c] = wc * nc;
        }
    }
    if (st == IMBAL_OK) {
        st = imbal_alias_build(ctx, NULL, w, (uint64_t)k,
                               s->kind == IMBAL_SAMPLER_CLASS_POWER ? "class-power weights n_c^q"
                                                                    : "class_weights * n_c",
                               &s->alias);
        s->alias_over_classes = 1;
    }
    free(w);
    return st;
}

imbal_status imbal_sampler_epoch_weighted(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                          int64_t *out) {
    if (s->alias_over_classes)
        imbal_alias_draw_grouped(ctx, s->alias, s->seed, epoch, 0, s->num_samples, s->class_start,
                                 s->members, out);
    else
        imbal_alias_draw(ctx, s->alias, s->seed, epoch, 0, s->num_samples, out);
    return IMBAL_OK;
}
