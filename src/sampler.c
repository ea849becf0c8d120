/* imbal: sampler configuration, kind names, creation (label validation, class member lists),
 * dispatch to the per-kind files, and epoch lengths. Definitions: docs/sampling.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sampler_internal.h"

static const char *const kind_names[] = {
    "sequential",           "shuffle", "weighted",       "class-power", "oversample", "undersample",
    "rotating-undersample", "repeat",  "balanced-batch", "schedule"};
#define NUM_KINDS ((int)(sizeof kind_names / sizeof kind_names[0]))

const char *imbal_sampler_kind_name(imbal_sampler_kind kind) {
    if ((int)kind < 0 || (int)kind >= NUM_KINDS) return "unknown";
    return kind_names[kind];
}

void imbal_sampler_config_default(imbal_sampler_config *cfg, imbal_sampler_kind kind) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->q = 0.0;
    cfg->ratio = 0.0;
    cfg->batch_size = 128;
    cfg->seed = 0;
}

imbal_status imbal_sampler_config_parse_kind(imbal_ctx *ctx, const char *name,
                                             imbal_sampler_config *cfg) {
    if (!cfg) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler kind: cfg is NULL");
    if (!name) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler kind: name is NULL");
    if (strcmp(name, "class-balanced") == 0) {
        cfg->kind = IMBAL_SAMPLER_CLASS_POWER;
        cfg->q = 0.0;
        return IMBAL_OK;
    }
    if (strcmp(name, "sqrt") == 0) {
        cfg->kind = IMBAL_SAMPLER_CLASS_POWER;
        cfg->q = 0.5;
        return IMBAL_OK;
    }
    for (int k = 0; k < NUM_KINDS; ++k)
        if (strcmp(name, kind_names[k]) == 0) {
            cfg->kind = (imbal_sampler_kind)k;
            return IMBAL_OK;
        }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "sampler kind '%s' is unknown; valid names: sequential, shuffle, weighted, "
                      "class-power, class-balanced, sqrt, oversample, undersample, "
                      "rotating-undersample, repeat, balanced-batch, schedule",
                      name);
}

void imbal_sampler_destroy(imbal_sampler *s) {
    if (!s) return;
    free(s->labels);
    free(s->class_count);
    free(s->class_start);
    free(s->members);
    imbal_alias_destroy(s->alias);
    free(s->target);
    free(s->repeat);
    free(s->active);
    imbal_sampler_destroy(s->before);
    imbal_sampler_destroy(s->after);
    free(s);
}

/* Copies and checks the labels and groups the samples by class (a counting sort, so members of a
 * class are in ascending index order). */
static imbal_status build_classes(imbal_ctx *ctx, imbal_sampler *s, const int32_t *labels) {
    int64_t n = s->n;
    int k = s->num_classes;
    for (int64_t i = 0; i < n; ++i)
        if (labels[i] < 0 || labels[i] >= k)
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "sampler: labels[%lld] = %d is outside [0, num_classes = %d)",
                              (long long)i, (int)labels[i], k);
    s->labels = imbal_xmalloc(ctx, (size_t)n, sizeof *s->labels, "sampler labels");
    s->class_count = imbal_xcalloc(ctx, (size_t)k, sizeof *s->class_count, "sampler class counts");
    s->class_start = imbal_xcalloc(ctx, (size_t)k + 1, sizeof *s->class_start, "sampler classes");
    s->members = imbal_xmalloc(ctx, (size_t)n, sizeof *s->members, "sampler class members");
    if (!s->labels || !s->class_count || !s->class_start || !s->members)
        return IMBAL_ERR_OUT_OF_MEMORY;
    memcpy(s->labels, labels, (size_t)n * sizeof *labels);
    for (int64_t i = 0; i < n; ++i)
        s->class_count[labels[i]]++;
    for (int c = 0; c < k; ++c)
        s->class_start[c + 1] = s->class_start[c] + s->class_count[c];
    int64_t *fill = imbal_xmalloc(ctx, (size_t)k, sizeof *fill, "sampler class fill");
    if (!fill) return IMBAL_ERR_OUT_OF_MEMORY;
    memcpy(fill, s->class_start, (size_t)k * sizeof *fill);
    for (int64_t i = 0; i < n; ++i)
        s->members[fill[labels[i]]++] = i;
    free(fill);
    return IMBAL_OK;
}

imbal_status imbal_sampler_create(imbal_ctx *ctx, const imbal_sampler_config *cfg,
                                  const int32_t *labels, int64_t n, int num_classes,
                                  imbal_sampler **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler: out is NULL");
    *out = NULL;
    if (!cfg) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler: cfg is NULL");
    if ((int)cfg->kind < 0 || (int)cfg->kind >= NUM_KINDS)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "sampler: kind = %d is not a sampler kind", (int)cfg->kind);
    if (n < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler: n = %lld; need >= 1 sample",
                          (long long)n);
    if (num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler: num_classes = %d; need >= 1",
                          num_classes);
    if (!labels) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler: labels is NULL");
    if (cfg->num_samples < 0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "sampler: num_samples = %lld; must be >= 0 (0 = n)",
                          (long long)cfg->num_samples);

    imbal_sampler *s = imbal_xcalloc(ctx, 1, sizeof *s, "sampler");
    if (!s) return IMBAL_ERR_OUT_OF_MEMORY;
    s->kind = cfg->kind;
    s->seed = cfg->seed;
    s->n = n;
    s->num_classes = num_classes;
    s->num_samples = cfg->num_samples > 0 ? cfg->num_samples : n;
    imbal_status st = IMBAL_OK;
    if (cfg->kind == IMBAL_SAMPLER_SCHEDULE) {
        st = imbal_sampler_build_schedule(ctx, s, cfg, labels);
    } else {
        st = build_classes(ctx, s, labels);
        if (st == IMBAL_OK) {
            switch (cfg->kind) {
            case IMBAL_SAMPLER_SEQUENTIAL:
            case IMBAL_SAMPLER_SHUFFLE:
                s->fixed_length = n;
                break;
            case IMBAL_SAMPLER_WEIGHTED:
            case IMBAL_SAMPLER_CLASS_POWER:
                st = imbal_sampler_build_weighted(ctx, s, cfg);
                break;
            case IMBAL_SAMPLER_BALANCED_BATCH:
                st = imbal_sampler_build_balanced_batch(ctx, s, cfg);
                break;
            default:
                st = imbal_sampler_build_resample(ctx, s, cfg);
                break;
            }
        }
    }
    if (st != IMBAL_OK) {
        imbal_sampler_destroy(s);
        return st;
    }
    *out = s;
    return IMBAL_OK;
}

int64_t imbal_sampler_epoch_length(const imbal_sampler *s, uint32_t epoch) {
    if (!s) return 0;
    switch (s->kind) {
    case IMBAL_SAMPLER_SCHEDULE:
        return imbal_sampler_epoch_length(epoch < s->switch_epoch ? s->before : s->after, epoch);
    case IMBAL_SAMPLER_REPEAT:
        return imbal_sampler_repeat_length(s, epoch);
    default:
        return s->fixed_length;
    }
}

imbal_status imbal_sampler_epoch(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                 int64_t *out) {
    if (!s) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler epoch: sampler is NULL");
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "sampler epoch: out is NULL");
    switch (s->kind) {
    case IMBAL_SAMPLER_SEQUENTIAL:
    case IMBAL_SAMPLER_SHUFFLE:
        return imbal_sampler_epoch_basic(ctx, s, epoch, out);
    case IMBAL_SAMPLER_WEIGHTED:
    case IMBAL_SAMPLER_CLASS_POWER:
        return imbal_sampler_epoch_weighted(ctx, s, epoch, out);
    case IMBAL_SAMPLER_BALANCED_BATCH:
        return imbal_sampler_epoch_balanced_batch(ctx, s, epoch, out);
    case IMBAL_SAMPLER_SCHEDULE:
        return imbal_sampler_epoch(ctx, epoch < s->switch_epoch ? s->before : s->after, epoch, out);
    default:
        return imbal_sampler_epoch_resample(ctx, s, epoch, out);
    }
}
