/* imbal: the schedule sampler, `before` until switch_epoch and `after` from then on: deferred
 * re-sampling (Cao et al., "Learning imbalanced datasets with label-distribution-aware margin
 * loss", NeurIPS 2019). Both parts are built up front and use their own seeds; the epoch number
 * passed to a part is the absolute epoch. */
#include "internal.h"
#include "sampler_internal.h"

static imbal_status check_part(imbal_ctx *ctx, const imbal_sampler_config *part, const char *name) {
    if (!part)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "schedule sampler: %s is NULL", name);
    if (part->kind == IMBAL_SAMPLER_SCHEDULE)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "schedule sampler: %s is itself a schedule; nesting is not allowed",
                          name);
    return IMBAL_OK;
}

imbal_status imbal_sampler_build_schedule(imbal_ctx *ctx, imbal_sampler *s,
                                          const imbal_sampler_config *cfg, const int32_t *labels) {
    imbal_status st = check_part(ctx, cfg->before, "before");
    if (st == IMBAL_OK) st = check_part(ctx, cfg->after, "after");
    if (st != IMBAL_OK) return st;
    s->switch_epoch = cfg->switch_epoch;
    st = imbal_sampler_create(ctx, cfg->before, labels, s->n, s->num_classes, &s->before);
    if (st == IMBAL_OK)
        st = imbal_sampler_create(ctx, cfg->after, labels, s->n, s->num_classes, &s->after);
    return st;
}
