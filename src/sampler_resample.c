/* imbal: samplers that resample each class to a count, redrawn every epoch, then shuffle the whole
 * epoch (imbal_shuffle_keyed, stream (seed, epoch, position, IMBAL_OP_SHUFFLE)):
 *   OVERSAMPLE   all originals + (T_c - n_c) draws with replacement from class c, T_c =
 *                max(n_c, ceil(ratio n_max)); draws read stream (seed, epoch, c, IMBAL_OP_SUBSET).
 *                Like imbalanced-learn's RandomOverSampler, but redrawn each epoch.
 *   UNDERSAMPLE  T_c = min(n_c, floor(n_min / ratio)) of class c without replacement: the first
 *                T_c steps of a Fisher-Yates shuffle of the class's members, stream (seed, epoch,
 *                c, IMBAL_OP_SUBSET). Like RandomUnderSampler, redrawn each epoch.
 *   ROTATING_UNDERSAMPLE  n_min samples per class: chunk (epoch mod m_c) of a permutation of class
 *                c, m_c = ceil(n_c / n_min); the permutation is keyed by (seed, cycle, c), cycle =
 *                epoch / m_c, so the m_c chunks of a cycle are disjoint. The last chunk of a cycle
 *                is padded with the start of the same permutation.
 *   REPEAT       sample i of class c appears floor(r_c) times, plus once more with probability
 *                frac(r_c) (uniform double of stream (seed, epoch, i, IMBAL_OP_REPEAT) < frac):
 *                repeat factor sampling (Gupta et al., "LVIS", CVPR 2019). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/philox.h"
#include "internal.h"
#include "sampler_internal.h"

static imbal_status need_nonempty(imbal_ctx *ctx, const imbal_sampler *s) {
    for (int c = 0; c < s->num_classes; ++c)
        if (s->class_count[c] == 0)
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "%s sampler: class %d is empty; every class needs samples",
                              imbal_sampler_kind_name(s->kind), c);
    return IMBAL_OK;
}

static imbal_status build_targets(imbal_ctx *ctx, imbal_sampler *s, double ratio) {
    const char *name = imbal_sampler_kind_name(s->kind);
    if (!(ratio >= 0.0 && ratio <= 1.0))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s sampler: ratio = %g; must be in [0, 1] (0 = fully balanced)", name,
                          ratio);
    int k = s->num_classes;
    if (s->kind == IMBAL_SAMPLER_UNDERSAMPLE) {
        imbal_status st = need_nonempty(ctx, s);
        if (st != IMBAL_OK) return st;
    }
    int64_t n_min = INT64_MAX, n_max = 0;
    for (int c = 0; c < k; ++c) {
        int64_t nc = s->class_count[c];
        if (nc > n_max) n_max = nc;
        if (nc > 0 && nc < n_min) n_min = nc;
    }
    s->target = imbal_xmalloc(ctx, (size_t)k, sizeof *s->target, "sampler class targets");
    if (!s->target) return IMBAL_ERR_OUT_OF_MEMORY;
    int full = ratio == 0.0 || ratio == 1.0;
    int64_t total = 0;
    for (int c = 0; c < k; ++c) {
        int64_t nc = s->class_count[c], t;
        if (s->kind == IMBAL_SAMPLER_OVERSAMPLE) {
            double want = full ? (double)n_max : ceil(ratio * (double)n_max);
            t = nc == 0 ? 0 : (want > (double)nc ? (int64_t)want : nc);
        } else {
            double want = full ? (double)n_min : floor((double)n_min / ratio);
            t = want < (double)nc ? (int64_t)want : nc;
        }
        s->target[c] = t;
        total += t;
    }
    s->fixed_length = total;
    return IMBAL_OK;
}

imbal_status imbal_sampler_build_resample(imbal_ctx *ctx, imbal_sampler *s,
                                          const imbal_sampler_config *cfg) {
    int k = s->num_classes;
    switch (s->kind) {
    case IMBAL_SAMPLER_OVERSAMPLE:
    case IMBAL_SAMPLER_UNDERSAMPLE:
        return build_targets(ctx, s, cfg->ratio);
    case IMBAL_SAMPLER_ROTATING_UNDERSAMPLE: {
        imbal_status st = need_nonempty(ctx, s);
        if (st != IMBAL_OK) return st;
        s->n_min = INT64_MAX;
        for (int c = 0; c < k; ++c)
            if (s->class_count[c] < s->n_min) s->n_min = s->class_count[c];
        s->fixed_length = s->n_min * k;
        return IMBAL_OK;
    }
    case IMBAL_SAMPLER_REPEAT: {
        if (!cfg->repeat_factors)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "repeat sampler: repeat_factors is NULL");
        double bound = 0.0;
        for (int c = 0; c < k; ++c) {
            double r = cfg->repeat_factors[c];
            if (!(r >= 0.0) || !isfinite(r))
                return imbal_fail(
                    ctx, IMBAL_ERR_INVALID_ARGUMENT,
                    "repeat sampler: repeat_factors[%d] = %g; must be finite and >= 0", c, r);
            bound += ceil(r) * (double)s->class_count[c];
        }
        if (bound > 4.0e18)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "repeat sampler: repeat_factors give up to %g indices per epoch; too "
                              "many for int64",
                              bound);
        s->repeat = imbal_xmalloc(ctx, (size_t)k, sizeof *s->repeat, "repeat factors");
        if (!s->repeat) return IMBAL_ERR_OUT_OF_MEMORY;
        memcpy(s->repeat, cfg->repeat_factors, (size_t)k * sizeof *s->repeat);
        return IMBAL_OK;
    }
    default:
        return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "sampler kind %d has no builder", (int)s->kind);
    }
}

/* ---- per-epoch writers ----------------------------------------------------------------------- */

static imbal_status oversample_epoch(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                     int64_t *out) {
    int k = s->num_classes;
    int64_t *offset = imbal_xmalloc(ctx, (size_t)k + 1, sizeof *offset, "oversample offsets");
    if (!offset) return IMBAL_ERR_OUT_OF_MEMORY;
    offset[0] = s->n;
    for (int c = 0; c < k; ++c)
        offset[c + 1] = offset[c] + s->target[c] - s->class_count[c];
    for (int64_t i = 0; i < s->n; ++i)
        out[i] = i;
    int threads = imbal_ctx_omp_threads(ctx);
    /* One sequential stream per class, so the parallelism is over classes. */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (s->n >= 65536)
    for (int c = 0; c < k; ++c) {
        const int64_t *mem = s->members + s->class_start[c];
        uint64_t nc = (uint64_t)s->class_count[c];
        imbal_rng r;
        imbal_rng_init(&r, s->seed, epoch, (uint64_t)c, IMBAL_OP_SUBSET);
        for (int64_t t = offset[c]; t < offset[c + 1]; ++t)
            out[t] = mem[imbal_rng_below64(&r, nc)];
    }
    free(offset);
    return IMBAL_OK;
}

static imbal_status undersample_epoch(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                      int64_t *out) {
    int k = s->num_classes;
    int64_t *scratch = imbal_xmalloc(ctx, (size_t)s->n, sizeof *scratch, "undersample scratch");
    if (!scratch) return IMBAL_ERR_OUT_OF_MEMORY;
    memcpy(scratch, s->members, (size_t)s->n * sizeof *scratch);
    int64_t *offset = imbal_xmalloc(ctx, (size_t)k + 1, sizeof *offset, "undersample offsets");
    if (!offset) {
        free(scratch);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    offset[0] = 0;
    for (int c = 0; c < k; ++c)
        offset[c + 1] = offset[c] + s->target[c];
    int threads = imbal_ctx_omp_threads(ctx);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (s->n >= 65536)
    for (int c = 0; c < k; ++c) {
        int64_t *a = scratch + s->class_start[c];
        uint64_t nc = (uint64_t)s->class_count[c];
        imbal_rng r;
        imbal_rng_init(&r, s->seed, epoch, (uint64_t)c, IMBAL_OP_SUBSET);
        for (int64_t i = 0; i < s->target[c]; ++i) {
            int64_t j = i + (int64_t)imbal_rng_below64(&r, nc - (uint64_t)i);
            int64_t t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        memcpy(out + offset[c], a, (size_t)s->target[c] * sizeof *out);
    }
    free(offset);
    free(scratch);
    return IMBAL_OK;
}

static imbal_status rotating_epoch(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                   int64_t *out) {
    int64_t *perm = imbal_xmalloc(ctx, (size_t)s->n, sizeof *perm, "rotating permutation");
    if (!perm) return IMBAL_ERR_OUT_OF_MEMORY;
    int64_t m = s->n_min;
    imbal_status st = IMBAL_OK;
    for (int c = 0; c < s->num_classes && st == IMBAL_OK; ++c) {
        int64_t nc = s->class_count[c];
        uint32_t chunks = (uint32_t)((nc + m - 1) / m);
        uint32_t cycle = epoch / chunks, chunk = epoch % chunks;
        memcpy(perm, s->members + s->class_start[c], (size_t)nc * sizeof *perm);
        uint64_t key = imbal_derive_seed(s->seed, cycle, (uint64_t)c, IMBAL_OP_CLASS_PERMUTE, 0);
        st = imbal_shuffle_keyed(ctx, perm, nc, key, cycle, 0, IMBAL_OP_CLASS_PERMUTE);
        int64_t start = (int64_t)chunk * m;
        for (int64_t t = 0; t < m; ++t)
            out[c * m + t] = perm[(start + t) % nc];
    }
    free(perm);
    return st;
}

static int64_t repeat_count(const imbal_sampler *s, uint32_t epoch, int64_t i) {
    double r = s->repeat[s->labels[i]];
    double whole = floor(r), frac = r - whole;
    int64_t cnt = (int64_t)whole;
    if (frac > 0.0) {
        imbal_rng g;
        imbal_rng_init(&g, s->seed, epoch, (uint64_t)i, IMBAL_OP_REPEAT);
        cnt += imbal_rng_uniform_double(&g) < frac;
    }
    return cnt;
}

int64_t imbal_sampler_repeat_length(const imbal_sampler *s, uint32_t epoch) {
    int64_t total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static) if (s->n >= 65536)
    for (int64_t i = 0; i < s->n; ++i)
        total += repeat_count(s, epoch, i);
    return total;
}

static void repeat_epoch(const imbal_sampler *s, uint32_t epoch, int64_t *out) {
    int64_t pos = 0;
    for (int64_t i = 0; i < s->n; ++i)
        for (int64_t t = repeat_count(s, epoch, i); t > 0; --t)
            out[pos++] = i;
}

imbal_status imbal_sampler_epoch_resample(imbal_ctx *ctx, const imbal_sampler *s, uint32_t epoch,
                                          int64_t *out) {
    imbal_status st = IMBAL_OK;
    int64_t len = s->fixed_length;
    switch (s->kind) {
    case IMBAL_SAMPLER_OVERSAMPLE:
        st = oversample_epoch(ctx, s, epoch, out);
        break;
    case IMBAL_SAMPLER_UNDERSAMPLE:
        st = undersample_epoch(ctx, s, epoch, out);
        break;
    case IMBAL_SAMPLER_ROTATING_UNDERSAMPLE:
        st = rotating_epoch(ctx, s, epoch, out);
        break;
    case IMBAL_SAMPLER_REPEAT:
        len = imbal_sampler_repeat_length(s, epoch);
        repeat_epoch(s, epoch, out);
        break;
    default:
        return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "sampler kind %d has no epoch writer",
                          (int)s->kind);
    }
    if (st != IMBAL_OK) return st;
    return imbal_shuffle_keyed(ctx, out, len, s->seed, epoch, 0, IMBAL_OP_SHUFFLE);
}
