/* imbal: the balanced-batch sampler. Epoch length L = ceil(num_samples / B) * B; batch b holds,
 * for each of the K' non-empty classes (j-th in ascending class id), floor(B / K') samples plus
 * one more when (j - b * (B mod K')) mod K' < B mod K', so the extra slots rotate over the
 * classes from batch to batch. A class's samples come from a stream that continues across epochs:
 * its t-th sample overall (t = epoch * A_c + position within the epoch, A_c = its per-epoch count,
 * the same every epoch) is element t mod n_c of permutation round r = t / n_c of its members;
 * that permutation is imbal_shuffle_keyed with key imbal_derive_seed(seed, r >> 32, c,
 * IMBAL_OP_CLASS_PERMUTE, r mod 2^32), epoch 0, op IMBAL_OP_CLASS_PERMUTE. So every sample of a
 * class is used once before any is reused. Finally each batch is shuffled in place: a Fisher-Yates
 * over its B slots with streams (seed, epoch, b * B + i, IMBAL_OP_SHUFFLE). */
#include <stdlib.h>
#include <string.h>

#include "imbal/philox.h"
#include "internal.h"
#include "sampler_internal.h"

imbal_status imbal_sampler_build_balanced_batch(imbal_ctx *ctx, imbal_sampler *s,
                                                const imbal_sampler_config *cfg) {
    if (cfg->batch_size < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "balanced-batch sampler: batch_size = %lld; must be >= 1",
                          (long long)cfg->batch_size);
    s->batch_size = cfg->batch_size;
    int64_t batches = (s->num_samples + s->batch_size - 1) / s->batch_size;
    if (batches > INT64_MAX / s->batch_size)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "balanced-batch sampler: num_samples = %lld rounded up to batch_size = "
                          "%lld overflows",
                          (long long)s->num_samples, (long long)s->batch_size);
    s->fixed_length = batches * s->batch_size;
    s->active = imbal_xmalloc(ctx, (size_t)s->num_classes, sizeof *s->active, "active classes");
    if (!s->active) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int c = 0; c < s->num_classes; ++c)
        if (s->class_count[c] > 0) s->active[s->num_active++] = c;
    /* The continuing per-class stream position is epoch * A_c; keep it inside 64 bits. */
    if (s->fixed_length / s->num_active + 1 >= (int64_t)1 << 31)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "balanced-batch sampler: num_samples = %lld gives too many samples per "
                          "class per epoch (limit 2^31)",
                          (long long)s->num_samples);
    return IMBAL_OK;
}

/* Per-epoch count of each active class: nb * floor(B/K') plus the extra slots, which batch b
 * gives to the rem classes starting at (b * rem) mod K' (a difference array over the classes). */
static void per_epoch_counts(const imbal_sampler *s, int64_t *count) {
    int64_t kk = s->num_active, bsz = s->batch_size, nb = s->fixed_length / bsz;
    int64_t base = bsz / kk, rem = bsz % kk;
    memset(count, 0, (size_t)(kk + 1) * sizeof *count);
    for (int64_t b = 0; b < nb && rem > 0; ++b) {
        int64_t start = (int64_t)(((uint64_t)b * (uint64_t)rem) % (uint64_t)kk);
        int64_t end = start + rem;
        count[start] += 1;
        if (end <= kk) {
            count[end] -= 1;
        } else {
            count[kk] -= 1;
            count[0] += 1;
            count[end - kk] -= 1;
        }
    }
    int64_t run = 0;
    for (int64_t j = 0; j < kk; ++j) {
        run += count[j];
        count[j] = run + nb * base;
    }
}

/* Fills dst[0..len) with the class's samples t0, t0 + 1, ... of its continuing stream. perm is
 * scratch of the class's size. */
static imbal_status class_stream(imbal_ctx *ctx, const imbal_sampler *s, int c, uint64_t t0,
                                 int64_t len, int64_t *perm, int64_t *dst) {
    int64_t nc = s->class_count[c];
    const int64_t *mem = s->members + s->class_start[c];
    uint64_t t = t0;
    while (len > 0) {
        uint64_t r = t / (uint64_t)nc;
        int64_t p0 = (int64_t)(t % (uint64_t)nc);
        memcpy(perm, mem, (size_t)nc * sizeof *perm);
        uint64_t key = imbal_derive_seed(s->seed, (uint32_t)(r >> 32), (uint64_t)c,
                                         IMBAL_OP_CLASS_PERMUTE, (uint32_t)r);
        imbal_status st = imbal_shuffle_keyed(ctx, perm, nc, key, 0, 0, IMBAL_OP_CLASS_PERMUTE);
        if (st != IMBAL_OK) return st;
        int64_t take = nc - p0 < len ? nc - p0 : len;
        memcpy(dst, perm + p0, (size_t)take * sizeof *dst);
        dst += take;
        len -= take;
        t += (uint64_t)take;
    }
    return IMBAL_OK;
}

imbal_status imbal_sampler_epoch_balanced_batch(imbal_ctx *ctx, const imbal_sampler *s,
                                                uint32_t epoch, int64_t *out) {
    int64_t kk = s->num_active, bsz = s->batch_size, nb = s->fixed_length / bsz;
    int64_t base = bsz / kk, rem = bsz % kk;
    int64_t *count = imbal_xmalloc(ctx, (size_t)kk + 1, sizeof *count, "batch class counts");
    int64_t *qoff = imbal_xmalloc(ctx, (size_t)kk + 1, sizeof *qoff, "batch queue offsets");
    int64_t *queue = imbal_xmalloc(ctx, (size_t)s->fixed_length, sizeof *queue, "batch queues");
    int64_t *perm = imbal_xmalloc(ctx, (size_t)s->n, sizeof *perm, "batch permutations");
    imbal_status st = IMBAL_OK;
    if (!count || !qoff || !queue || !perm) {
        st = IMBAL_ERR_OUT_OF_MEMORY;
        goto done;
    }
    per_epoch_counts(s, count);
    qoff[0] = 0;
    for (int64_t j = 0; j < kk; ++j)
        qoff[j + 1] = qoff[j] + count[j];
    for (int64_t j = 0; j < kk && st == IMBAL_OK; ++j) {
        int c = s->active[j];
        st = class_stream(ctx, s, c, (uint64_t)epoch * (uint64_t)count[j], count[j],
                          perm + s->class_start[c], queue + qoff[j]);
    }
    if (st != IMBAL_OK) goto done;
    /* Deal the queues into batches (qoff[j] now walks class j's queue). */
    int64_t pos = 0;
    for (int64_t b = 0; b < nb; ++b) {
        int64_t start = (int64_t)(((uint64_t)b * (uint64_t)rem) % (uint64_t)kk);
        for (int64_t j = 0; j < kk; ++j) {
            int64_t take = base + ((j - start + kk) % kk < rem);
            memcpy(out + pos, queue + qoff[j], (size_t)take * sizeof *out);
            qoff[j] += take;
            pos += take;
        }
    }
    int threads = imbal_ctx_omp_threads(ctx);
#pragma omp parallel for schedule(static) num_threads(threads) if (s->fixed_length >= 65536)
    for (int64_t b = 0; b < nb; ++b) {
        int64_t *a = out + b * bsz;
        for (int64_t i = bsz - 1; i >= 1; --i) {
            imbal_rng r;
            imbal_rng_init(&r, s->seed, epoch, (uint64_t)(b * bsz + i), IMBAL_OP_SHUFFLE);
            int64_t k = (int64_t)imbal_rng_below64(&r, (uint64_t)i + 1);
            int64_t t = a[i];
            a[i] = a[k];
            a[k] = t;
        }
    }
done:
    free(count);
    free(qoff);
    free(queue);
    free(perm);
    return st;
}
