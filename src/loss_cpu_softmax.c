/* imbal: CPU row pass of the softmax losses (ce, focal, balanced-softmax, ldam). One row at a time:
 * every read of the logits row comes before the first write of its dlogits row, so dlogits may
 * alias the logits. Derivations in docs/losses.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "loss_cpu.h"
#include "loss_cpu_vec.h"

/* Per-thread scratch: z (the transformed logits) and e (exp(z - max)). */
typedef struct row_scratch {
    float *z, *e;
} row_scratch;

/* Focal modulating factor u^gamma and the gradient factor F = u^gamma (1 - gamma p_y log(p_y)/u),
 * where u = 1 - p_y = S_other / S and log p_y = log1p(-u); u^gamma = exp(gamma log u) (Lin et al.
 * 2017, eq. 5; the gradient is derived in docs/losses.md). u -> 0 gives log(p_y)/u -> -1, so the
 * factor stays finite for gamma < 1. gamma = 0 gives exactly (1, 1), so focal equals ce. */
static void focal_factors(float gamma, float u, float logp, float p, float *mod, float *grad) {
    if (gamma == 0.0f) {
        *mod = 1.0f;
        *grad = 1.0f;
        return;
    }
    if (!(u > 0.0f)) {
        *mod = u == 0.0f ? 0.0f : u; /* u = 0: p_y = 1, loss and gradient 0; NaN propagates */
        *grad = *mod;
        return;
    }
    float m = gamma == 1.0f ? u : gamma == 2.0f ? u * u : expf(gamma * logf(u));
    float r = logp / u;
    *mod = m;
    *grad = m * (1.0f - gamma * p * r);
}

/* Row max and S_other = sum_{j != y} exp(z_j - max), both in 16 vector lanes (loss_cpu_vec.h),
 * then the lanes by halving; e receives exp(z_j - max). The classes past the last full vector
 * are one more vector, the row's last 16 classes: an overlapping load (max is idempotent, exp
 * gives the same bits again, and the sum masks the lanes already counted). Rows of C < 16 go
 * left to right, as the narrow-row pass does (the pass that takes them unless a test asks
 * otherwise). NaN entries are skipped by the max and poison the row through exp. */
__attribute__((always_inline)) static inline float row_max(const float *restrict z, int64_t c) {
    if (c < IMBAL_VL) {
        float m = -INFINITY;
        for (int64_t j = 0; j < c; ++j)
            m = z[j] > m ? z[j] : m;
        return m;
    }
    const int64_t full = c / IMBAL_VL * IMBAL_VL;
    imbal_wf m = imbal_wsplat(-INFINITY);
    for (int64_t j = 0; j < full; j += IMBAL_VL)
        m = imbal_wmax(imbal_wload(z + j), m);
    if (full < c) m = imbal_wmax(imbal_wload(z + c - IMBAL_VL), m);
    return imbal_whmax(m);
}

__attribute__((always_inline)) static inline float
row_exp_sum_other(const float *restrict z, int64_t c, float m, int64_t y, float *restrict e) {
    if (c < IMBAL_VL) {
        float so = 0.0f;
        for (int64_t j = 0; j < c; ++j) {
            e[j] = imbal_expf_nonpos(z[j] - m);
            so += j == y ? 0.0f : e[j];
        }
        return so;
    }
    const int64_t full = c / IMBAL_VL * IMBAL_VL;
    const imbal_wi lane = imbal_wlanes();
    const imbal_wf mv = imbal_wsplat(m), zero = imbal_wsplat(0.0f);
    imbal_wf so = zero;
    imbal_wi yl = imbal_wi_splat((int32_t)y); /* y's lane relative to the vector's first class */
    for (int64_t j = 0; j < full; j += IMBAL_VL) {
        imbal_wf v = imbal_wexp_nonpos(imbal_wsub(imbal_wload(z + j), mv));
        imbal_wstore(e + j, v);
        so = imbal_wadd(so, imbal_wselect(imbal_weq(lane, yl), zero, v));
        yl = imbal_wi_add(yl, -IMBAL_VL);
    }
    if (full == c) return imbal_whsum(so);
    const int64_t j = c - IMBAL_VL, seen = full - j; /* lanes [0, seen) were counted above */
    yl = imbal_wi_add(yl, (int32_t)seen);
    imbal_wf v = imbal_wexp_nonpos(imbal_wsub(imbal_wload(z + j), mv));
    imbal_wstore(e + j, v);
    imbal_wi skip = imbal_wi_or(imbal_wlt(lane, (int32_t)seen), imbal_weq(lane, yl));
    so = imbal_wadd(so, imbal_wselect(skip, zero, v));
    return imbal_whsum(so);
}

/* One row's state between the phases of the row pass. */
typedef struct row_state {
    const float *z; /* the (transformed) logits row */
    float *e;       /* exp(z - max), then the gradient for non-f32 dlogits */
    int64_t y;
    float m, so, zscale;
    int ignored;
} row_state;

/* Phase 1: the target, the logits row (transformed into zb when a kind or dtype needs it) and
 * its max; an ignored row gets its zero loss and gradient here and skips the other phases. */
__attribute__((always_inline)) static inline void softmax_row_begin(const imbal_loss_cpu_plan *plan,
                                                                    int64_t i, float *restrict zb,
                                                                    float *e, row_state *r) {
    const imbal_loss_job *job = plan->job;
    const int64_t c = job->c;
    r->e = e;
    r->y = imbal_loss_target(job, i);
    r->ignored = r->y == job->p.ignore_index;
    if (r->ignored) {
        plan->row_loss[i] = 0.0;
        if (job->per_sample) job->per_sample[i] = 0.0f;
        if (job->dlogits && job->dtype == IMBAL_F32) {
            memset((float *)job->dlogits + i * c, 0, (size_t)c * sizeof(float));
        } else if (job->dlogits) {
            for (int64_t j = 0; j < c; ++j)
                e[j] = 0.0f;
            imbal_loss_store_row(job->dtype, job->dlogits, i, c, e);
        }
        return;
    }
    /* z: the f32 logits row itself when nothing transforms it (every read of z comes before the
     * first write of dlogits, so in place is safe), else the transformed copy in zb. */
    r->zscale = 1.0f;
    if (job->dtype == IMBAL_F32 && !plan->offset && !plan->margin) {
        r->z = (const float *)job->logits + i * c;
    } else {
        imbal_loss_load_row(job->dtype, job->logits, i, c, zb);
        if (plan->offset) {
            const float *restrict off = plan->offset;
            for (int64_t j = 0; j < c; ++j)
                zb[j] += off[j];
        } else if (plan->margin) {
            r->zscale = job->p.ldam_scale;
            zb[r->y] -= plan->margin[r->y];
            for (int64_t j = 0; j < c; ++j)
                zb[j] *= r->zscale;
        }
        r->z = zb;
    }
    r->m = row_max(r->z, c);
    if (isnan(r->z[r->y])) r->m = NAN;
}

/* Phase 2: S_other = sum over j != y, summed directly so u = 1 - p_y keeps its precision. */
__attribute__((always_inline)) static inline void softmax_row_exp(const imbal_loss_cpu_plan *plan,
                                                                  row_state *r) {
    if (!r->ignored) r->so = row_exp_sum_other(r->z, plan->job->c, r->m, r->y, r->e);
}

/* Phase 3: the row's loss and its gradient. */
__attribute__((always_inline)) static inline void softmax_row_end(const imbal_loss_cpu_plan *plan,
                                                                  int64_t i, const row_state *r) {
    if (r->ignored) return;
    const imbal_loss_job *job = plan->job;
    const imbal_loss_params *p = &job->p;
    const int64_t c = job->c, y = r->y;
    const float *restrict z = r->z;
    float *restrict e = r->e;
    const float m = r->m, so = r->so, zy = z[y];
    /* f32 gradients go straight into dlogits; other dtypes through e and a rounding store. */
    float *out = job->dlogits && job->dtype == IMBAL_F32 ? (float *)job->dlogits + i * c : NULL;
    float ey = e[y];
    float sum = so + ey;
    float log_s = imbal_softmax_log_s_row(ey, so, sum);
    float logp = (zy - m) - log_s;
    const float *cw = job->class_weights;
    float wy = cw ? cw[y] : 1.0f;
    float sw = job->sample_weights ? job->sample_weights[i] : 1.0f;
    float eps = p->label_smoothing;
    float inv_c = 1.0f / (float)c;
    float base = wy * -logp;
    if (eps > 0.0f) {
        /* smooth = -sum_c w_c log p_c = W log S - sum_c w_c (z_c - m) */
        float acc = 0.0f;
        if (cw) {
            for (int64_t j = 0; j < c; ++j)
                acc += cw[j] * (z[j] - m);
        } else {
            for (int64_t j = 0; j < c; ++j)
                acc += z[j] - m;
        }
        float smooth = plan->class_weight_sum * log_s - acc;
        base = (1.0f - eps) * base + eps * inv_c * smooth;
    }
    float py = ey / sum;
    float mod = 1.0f, fgrad = 1.0f;
    if (p->kind == IMBAL_LOSS_FOCAL) {
        focal_factors(p->gamma, so / sum, logp, py, &mod, &fgrad);
        base = mod * base;
    }
    float loss = sw * base;
    plan->row_loss[i] = (double)loss;
    if (job->per_sample) job->per_sample[i] = loss;
    if (!job->dlogits) return;
    /* d/dz_j = coef * [a p_j - b_j], a = (1-eps) w_y F + (eps/C) W, b_j = (1-eps) w_y F [j = y]
     * + (eps/C) w_j; coef = s * upstream / denominator, times s_ldam for ldam. */
    float coef = sw * plan->grad_coef * r->zscale;
    float inv_sum = 1.0f / sum;
    float ay = (1.0f - eps) * wy * fgrad;
    float es = eps * inv_c;
    float a = (ay + es * plan->class_weight_sum) * coef * inv_sum;
    float bs = es * coef;
    float *restrict g = out ? out : e;
    if (eps > 0.0f && cw) {
        for (int64_t j = 0; j < c; ++j)
            g[j] = a * e[j] - bs * cw[j];
    } else {
        for (int64_t j = 0; j < c; ++j)
            g[j] = a * e[j] - bs;
    }
    g[y] -= ay * coef;
    if (!out) imbal_loss_store_row(job->dtype, job->dlogits, i, c, e);
}

/* Rows [begin, end) in groups of up to ROW_GROUP, each phase for every row of the group before
 * the next phase, in the clone for this machine's vector unit. A row alone is mostly a chain of
 * dependent steps (max, its horizontal reduction, exp, the sum's reduction, log, the gradient),
 * and interleaving independent rows lets the core overlap them: ce at 16384 x 100 went from 104
 * to 93 ns a row. The group's z, e and gradient rows must stay in L1 between the phases, so long
 * rows go one at a time (a group of 4 made 16384 x 1000 25% slower). Each row's operations and
 * their order are unchanged, so the bits are too. s holds ROW_GROUP rows of z, then of e. */
#define ROW_GROUP 4
IMBAL_LOSS_CLONES static void softmax_rows(const imbal_loss_cpu_plan *plan, int64_t begin,
                                           int64_t end, row_scratch *s) {
    const int64_t c = plan->job->c;
    const int64_t fit = 1024 / c, group = fit < 1 ? 1 : fit > ROW_GROUP ? ROW_GROUP : fit;
    row_state r[ROW_GROUP];
    for (int64_t i = begin; i < end; i += group) {
        const int g = (int)(end - i < group ? end - i : group);
        for (int k = 0; k < g; ++k)
            softmax_row_begin(plan, i + k, s->z + k * c, s->e + k * c, &r[k]);
        for (int k = 0; k < g; ++k)
            softmax_row_exp(plan, &r[k]);
        for (int k = 0; k < g; ++k)
            softmax_row_end(plan, i + k, &r[k]);
    }
}

/* ---- narrow rows: 16 rows in the vector lanes ---------------------------------------------- */

/* With C < 16 the class loops of softmax_row have no full 16-wide step and run scalar, so ce at
 * 65536 x 10 took ~50 ns a row. Here a block of 16 rows is transposed into zt[class][row] and
 * every step runs across the rows, one vector per class. The operations per row are those of
 * softmax_row in the same order (for C < 16, row_max and row_exp_sum_other are left-to-right
 * loops starting from -inf and 0), so both give the same bits
 * (tests/test_loss.c compares them). Only the focal factor for gamma other than 0, 1, 2 (libm's
 * expf/logf) stays per lane. */
#define LANES 16
/* From 9 classes a block moves in and out of zt by whole-row vectors and a transpose in
 * registers (ce at 65536 x 10: 1.17 -> 1.00 ms); with fewer, a gather per class in and scalar
 * stores out cost less than the transpose's fixed 64 permutes (C = 2: 0.47 against 0.77 ms). */
#define TRANSPOSE_MIN_C 9

/* Rows [i0, i0 + cnt), cnt <= 16. */
__attribute__((always_inline)) static inline void
softmax_lanes_block(const imbal_loss_cpu_plan *plan, int64_t i0, int cnt) {
    const imbal_loss_job *job = plan->job;
    const imbal_loss_params *p = &job->p;
    const int c = (int)job->c;
    const float *cw = job->class_weights, *off = plan->offset, *mg = plan->margin;
    float zt[LANES][LANES], e[LANES][LANES];
    float m[LANES], zy[LANES], ey[LANES], so[LANES], sum[LANES], log_s[LANES], logp[LANES];
    float wy[LANES], sw[LANES], base[LANES], mod[LANES], fgrad[LANES];
    int y[LANES], ign[LANES], row[LANES];
    for (int l = 0; l < LANES; ++l) {
        /* Lanes past the last row repeat it and are never stored; ignored rows compute class 0
         * and are zeroed at the end. */
        row[l] = l < cnt ? l : cnt - 1;
        int64_t t = imbal_loss_target(job, i0 + row[l]);
        ign[l] = t == p->ignore_index;
        y[l] = ign[l] ? 0 : (int)t;
    }
    if (job->dtype == IMBAL_F32 && c < TRANSPOSE_MIN_C) {
        /* 32-bit offsets within the block (16 c floats), so the load is one gather per class. */
        const float *src = (const float *)job->logits + i0 * c;
        int at[LANES];
        for (int l = 0; l < LANES; ++l)
            at[l] = row[l] * c;
        for (int j = 0; j < c; ++j)
#pragma omp simd
            for (int l = 0; l < LANES; ++l)
                zt[j][l] = src[at[l] + j];
    } else if (job->dtype == IMBAL_F32) {
        /* Each row as one vector (its c classes, then whatever follows, never used), the block
         * transposed in registers. A row whose 16 floats would reach past the block is copied
         * into a zeroed vector first: the floats past the block may be another thread's rows. */
        const float *src = (const float *)job->logits + i0 * c;
        imbal_wf v[LANES];
        for (int l = 0; l < LANES; ++l) {
            if (row[l] * c + LANES <= cnt * c) {
                v[l] = imbal_wload(src + row[l] * c);
            } else {
                v[l] = imbal_wsplat(0.0f);
                memcpy(&v[l], src + row[l] * c, (size_t)(c < LANES ? c : LANES) * sizeof(float));
            }
        }
        imbal_wtranspose(v);
        for (int j = 0; j < c && j < LANES; ++j) /* c < LANES here; the bound is for GCC */
            imbal_wstore(zt[j], v[j]);
    } else {
        for (int l = 0; l < LANES; ++l)
            for (int j = 0; j < c; ++j)
                zt[j][l] = imbal_loss_load(job->dtype, job->logits, (i0 + row[l]) * c + j);
    }
    const float zscale = mg ? p->ldam_scale : 1.0f;
    if (off) {
        for (int j = 0; j < c; ++j)
#pragma omp simd
            for (int l = 0; l < LANES; ++l)
                zt[j][l] += off[j];
    } else if (mg) {
        for (int j = 0; j < c; ++j)
#pragma omp simd
            for (int l = 0; l < LANES; ++l)
                zt[j][l] = (zt[j][l] - imbal_loss_select(j == y[l], mg[j], 0.0f)) * zscale;
    }
#pragma omp simd
    for (int l = 0; l < LANES; ++l)
        m[l] = -INFINITY, zy[l] = 0.0f, so[l] = 0.0f, ey[l] = 0.0f;
    for (int j = 0; j < c; ++j)
#pragma omp simd
        for (int l = 0; l < LANES; ++l) {
            m[l] = imbal_loss_select(zt[j][l] > m[l], zt[j][l], m[l]);
            zy[l] = imbal_loss_select(j == y[l], zt[j][l], zy[l]);
        }
#pragma omp simd
    for (int l = 0; l < LANES; ++l)
        m[l] = imbal_loss_select(isnan(zy[l]), NAN, m[l]);
    for (int j = 0; j < c; ++j)
#pragma omp simd
        for (int l = 0; l < LANES; ++l) {
            float v = imbal_expf_nonpos(zt[j][l] - m[l]);
            e[j][l] = v;
            ey[l] = imbal_loss_select(j == y[l], v, ey[l]);
            so[l] += imbal_loss_select(j == y[l], 0.0f, v);
        }
    const float eps = p->label_smoothing, inv_c = 1.0f / (float)c;
    for (int l = 0; l < LANES; ++l) {
        wy[l] = cw ? cw[y[l]] : 1.0f;
        sw[l] = job->sample_weights ? job->sample_weights[i0 + row[l]] : 1.0f;
    }
#pragma omp simd
    for (int l = 0; l < LANES; ++l) {
        sum[l] = so[l] + ey[l];
        log_s[l] = imbal_softmax_log_s(ey[l], so[l], sum[l]);
        logp[l] = (zy[l] - m[l]) - log_s[l];
        base[l] = wy[l] * -logp[l];
        mod[l] = 1.0f, fgrad[l] = 1.0f;
    }
    if (eps > 0.0f) {
        float acc[LANES];
#pragma omp simd
        for (int l = 0; l < LANES; ++l)
            acc[l] = 0.0f;
        for (int j = 0; j < c; ++j)
#pragma omp simd
            for (int l = 0; l < LANES; ++l)
                acc[l] += cw ? cw[j] * (zt[j][l] - m[l]) : zt[j][l] - m[l];
#pragma omp simd
        for (int l = 0; l < LANES; ++l) {
            float smooth = plan->class_weight_sum * log_s[l] - acc[l];
            base[l] = (1.0f - eps) * base[l] + eps * inv_c * smooth;
        }
    }
    if (p->kind == IMBAL_LOSS_FOCAL && p->gamma != 0.0f) {
        for (int l = 0; l < LANES; ++l) {
            focal_factors(p->gamma, so[l] / sum[l], logp[l], ey[l] / sum[l], &mod[l], &fgrad[l]);
            base[l] = mod[l] * base[l];
        }
    }
    for (int l = 0; l < cnt; ++l) {
        float loss = ign[l] ? 0.0f : sw[l] * base[l];
        plan->row_loss[i0 + l] = (double)loss;
        if (job->per_sample) job->per_sample[i0 + l] = loss;
    }
    if (!job->dlogits) return;
    float a[LANES], bs[LANES], ayc[LANES];
    const float es = eps * inv_c;
#pragma omp simd
    for (int l = 0; l < LANES; ++l) {
        float coef = sw[l] * plan->grad_coef * zscale;
        float inv_sum = 1.0f / sum[l];
        float ay = (1.0f - eps) * wy[l] * fgrad[l];
        a[l] = (ay + es * plan->class_weight_sum) * coef * inv_sum;
        bs[l] = es * coef;
        ayc[l] = ay * coef;
    }
    for (int j = 0; j < c; ++j)
#pragma omp simd
        for (int l = 0; l < LANES; ++l) {
            float g = eps > 0.0f && cw ? a[l] * e[j][l] - bs[l] * cw[j] : a[l] * e[j][l] - bs[l];
            g = imbal_loss_select(j == y[l], g - ayc[l], g);
            e[j][l] = imbal_loss_select(ign[l], 0.0f, g);
        }
    if (job->dtype == IMBAL_F32 && c < TRANSPOSE_MIN_C && cnt == LANES) {
        float *out = (float *)job->dlogits + i0 * c;
        for (int j = 0; j < c; ++j)
#pragma omp simd
            for (int l = 0; l < LANES; ++l)
                out[l * c + j] = e[j][l];
    } else if (job->dtype == IMBAL_F32 && c >= TRANSPOSE_MIN_C) {
        /* Transposed back in registers; rows stored in order as whole vectors, each spilling
         * into the next row's place, which the next store overwrites. The rows whose vector
         * would reach past the block store their c floats alone. */
        float *out = (float *)job->dlogits + i0 * c;
        imbal_wf v[LANES];
        for (int j = 0; j < LANES; ++j)
            v[j] = j < c ? imbal_wload(e[j]) : imbal_wsplat(0.0f);
        imbal_wtranspose(v);
        for (int l = 0; l < cnt && l < LANES; ++l) {
            if (l * c + LANES <= cnt * c)
                imbal_wstore(out + l * c, v[l]);
            else
                memcpy(out + l * c, &v[l], (size_t)(c < LANES ? c : LANES) * sizeof(float));
        }
    } else {
        for (int l = 0; l < cnt; ++l) {
            float r[LANES];
            for (int j = 0; j < c; ++j)
                r[j] = e[j][l];
            imbal_loss_store_row(job->dtype, job->dlogits, i0 + l, c, r);
        }
    }
}

/* Rows [begin, end) of a job with C < 16, 16 at a time, in the clone for this machine. */
IMBAL_LOSS_CLONES static void softmax_lanes(const imbal_loss_cpu_plan *plan, int64_t begin,
                                            int64_t end) {
    for (int64_t i = begin; i < end; i += LANES)
        softmax_lanes_block(plan, i, end - i < LANES ? (int)(end - i) : LANES);
}

imbal_status imbal_loss_cpu_softmax(imbal_ctx *ctx, const imbal_loss_cpu_plan *plan) {
    const imbal_loss_job *job = plan->job;
    const int narrow = plan->narrow && job->c < LANES;
    int failed = 0;
#pragma omp parallel num_threads(plan->threads) reduction(| : failed)
    {
        row_scratch s = {0};
        if (!narrow) s.z = malloc((size_t)job->c * 2 * ROW_GROUP * sizeof(float));
        s.e = s.z ? s.z + job->c * ROW_GROUP : NULL;
        if (!narrow && !s.z) failed = 1;
        /* Blocks of rows, so the clone dispatch is paid once per block; every row's result is
         * independent of the blocking and of the thread count. */
        const int64_t block = 64, nb = (job->n + block - 1) / block;
#pragma omp for schedule(static)
        for (int64_t b = 0; b < nb; ++b)
            if (narrow)
                softmax_lanes(plan, b * block,
                              b * block + block < job->n ? b * block + block : job->n);
            else if (s.z)
                softmax_rows(plan, b * block,
                             b * block + block < job->n ? b * block + block : job->n, &s);
        free(s.z);
    }
    if (failed)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "loss: row buffer of %lld floats",
                          (long long)(2 * ROW_GROUP * job->c));
    return IMBAL_OK;
}
