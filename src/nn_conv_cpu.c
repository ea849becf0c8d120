/* imbal: the CPU twin of the convolution (see docs/nn.md): im2col lowering + OpenBLAS sgemm.
 *
 * The batch is cut into groups of G images, G fixed by the shape alone (imbal_nn_cpu_conv_group),
 * so that one sgemm covers a whole group: columns [C*R*S, G*P*Q] with image i in the column
 * block [i*P*Q, (i+1)*P*Q). OpenBLAS threads each large sgemm itself (outside any OpenMP region,
 * so it never nests); the lowering (im2col, col2im, the NCHW <-> [K, G*P*Q] copies) runs under
 * OpenMP over (image, channel) pairs, each pair written by one thread in a fixed order. The
 * weight gradient accumulates group after group in batch order (beta = 1 after the first), so
 * the result depends on the shape only, never on the thread count. A 1x1 stride-1 pad-0
 * convolution needs no lowering: each image is already its own [C, H*W] column matrix. */
#include <string.h>

#include "internal.h"
#include "nn_conv_direct.h"
#include "nn_cpu.h"

/* The im2col matrix of one group stays under this many floats (4 MiB) where one image allows: small
 * enough that the sgemm reads the columns im2col has just written (and col2im the columns the sgemm
 * has just written) from cache rather than memory; 16 MiB ran 30% slower on 1 thread. */
#define GROUP_BUDGET_FLOATS ((int64_t)1 << 20)

typedef struct geom {
    int n, c, h, w, k, r, s, st, pad, p, q;
    int crs, pq, hw;
} geom;

static geom geom_of(const imbal_conv2d_shape *sh, int64_t batch) {
    geom g;
    g.n = (int)batch, g.c = sh->c, g.h = sh->h, g.w = sh->w, g.k = sh->k;
    g.r = sh->r, g.s = sh->s, g.st = sh->stride, g.pad = sh->pad;
    imbal_conv2d_out_hw(sh, &g.p, &g.q);
    g.crs = g.c * g.r * g.s, g.pq = g.p * g.q, g.hw = g.h * g.w;
    return g;
}

static int is_pointwise(const geom *g) {
    return g->r == 1 && g->s == 1 && g->st == 1 && g->pad == 0;
}

int imbal_nn_cpu_conv_set_path(imbal_conv_plan *plan, int direct_isa) {
    if (direct_isa && (!imbal_nn_direct_conv_applies(&plan->shape) ||
                       direct_isa > (int)imbal_nn_direct_conv_isa()))
        return 0;
    plan->direct_isa = direct_isa;
    return 1;
}

int imbal_nn_cpu_conv_group(const imbal_conv2d_shape *shape) {
    int p, q;
    imbal_conv2d_out_hw(shape, &p, &q);
    int64_t per = (int64_t)shape->c * shape->r * shape->s * p * q;
    int64_t g = GROUP_BUDGET_FLOATS / (per > 0 ? per : 1);
    if (g < 1) g = 1;
    if (g > shape->n) g = shape->n;
    /* The column index of a group (g * P * Q) must fit BLAS's int. */
    while (g > 1 && g * p * q > 0x7fffffff)
        g /= 2;
    return (int)g;
}

size_t imbal_nn_cpu_conv_workspace(const imbal_conv2d_shape *shape) {
    int p, q;
    imbal_conv2d_out_hw(shape, &p, &q);
    size_t g = (size_t)imbal_nn_cpu_conv_group(shape), pq = (size_t)p * (size_t)q;
    size_t col = g * (size_t)shape->c * (size_t)shape->r * (size_t)shape->s * pq;
    size_t stage = g * (size_t)shape->k * pq;
    return col + stage + 1;
}

/* The output columns q whose input column q*st - pad + s lies in [0, W): [*lo, *hi). */
static void valid_q(const geom *g, int s, int *lo, int *hi) {
    int off = s - g->pad; /* iw = q * st + off */
    int a = off >= 0 ? 0 : (-off + g->st - 1) / g->st;
    int b = (g->w - 1 - off) >= 0 ? (g->w - 1 - off) / g->st + 1 : 0;
    if (b > g->q) b = g->q;
    if (a > b) a = b;
    *lo = a, *hi = b;
}

/* One im2col tap whose rows are whole input rows (stride 1, no column shift, Q == W): the valid
 * output rows map onto consecutive input rows, so they are one block copy. */
static void copy_rows(const geom *g, int r, const float *src, float *dst) {
    int lo = g->pad - r > 0 ? g->pad - r : 0, hi = g->h + g->pad - r; /* ih = p - pad + r */
    if (hi > g->p) hi = g->p;
    if (hi < lo) hi = lo;
    memset(dst, 0, (size_t)lo * (size_t)g->q * sizeof *dst);
    memcpy(dst + (int64_t)lo * g->q, src + (int64_t)(lo - g->pad + r) * g->w,
           (size_t)(hi - lo) * (size_t)g->q * sizeof *dst);
    memset(dst + (int64_t)hi * g->q, 0, (size_t)(g->p - hi) * (size_t)g->q * sizeof *dst);
}

/* Lowers images [n0, n0 + cnt) of x into col [crs, cnt * pq]. */
static void im2col(imbal_ctx *ctx, const geom *g, const float *x, int n0, int cnt, float *col) {
    const int64_t ld = (int64_t)cnt * g->pq;
#pragma omp parallel for collapse(2) schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
    for (int i = 0; i < cnt; ++i) {
        for (int c = 0; c < g->c; ++c) {
            const float *src = x + ((int64_t)(n0 + i) * g->c + c) * g->hw;
            for (int r = 0; r < g->r; ++r) {
                for (int s = 0; s < g->s; ++s) {
                    float *dst =
                        col + ((int64_t)(c * g->r + r) * g->s + s) * ld + (int64_t)i * g->pq;
                    int lo, hi, off = s - g->pad;
                    valid_q(g, s, &lo, &hi);
                    if (g->st == 1 && off == 0 && g->q == g->w) {
                        copy_rows(g, r, src, dst);
                        continue;
                    }
                    for (int p = 0; p < g->p; ++p) {
                        float *d = dst + (int64_t)p * g->q;
                        int ih = p * g->st - g->pad + r;
                        if (ih < 0 || ih >= g->h) {
                            memset(d, 0, (size_t)g->q * sizeof *d);
                            continue;
                        }
                        const float *row = src + (int64_t)ih * g->w + off;
                        for (int q = 0; q < lo; ++q)
                            d[q] = 0.0f;
                        if (g->st == 1)
                            memcpy(d + lo, row + lo, (size_t)(hi - lo) * sizeof *d);
                        else
                            for (int q = lo; q < hi; ++q)
                                d[q] = row[q * g->st];
                        for (int q = hi; q < g->q; ++q)
                            d[q] = 0.0f;
                    }
                }
            }
        }
    }
}

/* Scatters col [crs, cnt * pq] back onto images [n0, n0 + cnt) of dx (overwritten). Each
 * (image, channel) plane is summed by one thread in (r, s, p, q) order. When the centre tap of a
 * stride-1 "same" convolution covers the whole plane, it is copied first instead of zeroing the
 * plane and adding it (a memset and one read-modify-write sweep fewer), then the other taps follow
 * in (r, s, p, q) order. */
static void col2im(imbal_ctx *ctx, const geom *g, const float *col, int n0, int cnt, float *dx) {
    const int64_t ld = (int64_t)cnt * g->pq;
    const int centre = g->st == 1 && g->p == g->h && g->q == g->w && g->pad < g->r && g->pad < g->s;
#pragma omp parallel for collapse(2) schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
    for (int i = 0; i < cnt; ++i) {
        for (int c = 0; c < g->c; ++c) {
            float *dst = dx + ((int64_t)(n0 + i) * g->c + c) * g->hw;
            const float *plane = col + (int64_t)c * g->r * g->s * ld + (int64_t)i * g->pq;
            if (centre)
                memcpy(dst, plane + ((int64_t)g->pad * g->s + g->pad) * ld,
                       (size_t)g->hw * sizeof *dst);
            else
                memset(dst, 0, (size_t)g->hw * sizeof *dst);
            for (int r = 0; r < g->r; ++r) {
                for (int s = 0; s < g->s; ++s) {
                    if (centre && r == g->pad && s == g->pad) continue;
                    const float *src =
                        col + ((int64_t)(c * g->r + r) * g->s + s) * ld + (int64_t)i * g->pq;
                    int lo, hi, off = s - g->pad;
                    valid_q(g, s, &lo, &hi);
                    for (int p = 0; p < g->p; ++p) {
                        int ih = p * g->st - g->pad + r;
                        if (ih < 0 || ih >= g->h) continue;
                        float *row = dst + (int64_t)ih * g->w + off;
                        const float *sv = src + (int64_t)p * g->q;
                        if (g->st == 1) {
#pragma omp simd
                            for (int q = lo; q < hi; ++q)
                                row[q] += sv[q];
                        } else {
                            for (int q = lo; q < hi; ++q)
                                row[q * g->st] += sv[q];
                        }
                    }
                }
            }
        }
    }
}

/* NCHW images [n0, n0 + cnt) with `ch` channels of `plane` floats <-> stage [ch, cnt * plane]. */
static void gather(imbal_ctx *ctx, const float *t, int ch, int plane, int n0, int cnt,
                   float *stage) {
    const int64_t ld = (int64_t)cnt * plane;
#pragma omp parallel for collapse(2) schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
    for (int i = 0; i < cnt; ++i)
        for (int k = 0; k < ch; ++k)
            memcpy(stage + k * ld + (int64_t)i * plane, t + ((int64_t)(n0 + i) * ch + k) * plane,
                   (size_t)plane * sizeof *stage);
}

static void scatter(imbal_ctx *ctx, const float *stage, int ch, int plane, int n0, int cnt,
                    float *t) {
    const int64_t ld = (int64_t)cnt * plane;
#pragma omp parallel for collapse(2) schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
    for (int i = 0; i < cnt; ++i)
        for (int k = 0; k < ch; ++k)
            memcpy(t + ((int64_t)(n0 + i) * ch + k) * plane, stage + k * ld + (int64_t)i * plane,
                   (size_t)plane * sizeof *stage);
}

imbal_status imbal_nn_cpu_conv_forward(imbal_ctx *ctx, imbal_conv_plan *plan, const imbal_tensor *x,
                                       const imbal_tensor *w, imbal_tensor *y) {
    geom g = geom_of(&plan->shape, x->shape[0]);
    const float *xd = x->data, *wd = w->data;
    float *yd = y->data;
    if (plan->direct_isa)
        return imbal_nn_direct_conv(ctx, (imbal_direct_isa)plan->direct_isa, g.n, g.c, g.k, g.h,
                                    g.w, g.r, g.st, xd, wd, 0, yd, plan->col, plan->col_floats);
    if (is_pointwise(&g)) {
        for (int n = 0; n < g.n; ++n)
            imbal_nn_sgemm(ctx, 0, 0, g.k, g.hw, g.c, 1.0f, wd, g.c, xd + (int64_t)n * g.c * g.hw,
                           g.hw, 0.0f, yd + (int64_t)n * g.k * g.pq, g.pq);
        return IMBAL_OK;
    }
    const int grp = imbal_nn_cpu_conv_group(&plan->shape);
    float *col = plan->col, *stage = plan->col + (size_t)grp * g.crs * g.pq;
    for (int n0 = 0; n0 < g.n; n0 += grp) {
        int cnt = g.n - n0 < grp ? g.n - n0 : grp, cols = cnt * g.pq;
        im2col(ctx, &g, xd, n0, cnt, col);
        float *out = cnt == 1 ? yd + (int64_t)n0 * g.k * g.pq : stage;
        imbal_nn_sgemm(ctx, 0, 0, g.k, cols, g.crs, 1.0f, wd, g.crs, col, cols, 0.0f, out, cols);
        if (cnt > 1) scatter(ctx, stage, g.k, g.pq, n0, cnt, yd);
    }
    return IMBAL_OK;
}

imbal_status imbal_nn_cpu_conv_backward_data(imbal_ctx *ctx, imbal_conv_plan *plan,
                                             const imbal_tensor *dy, const imbal_tensor *w,
                                             imbal_tensor *dx) {
    geom g = geom_of(&plan->shape, dy->shape[0]);
    const float *dyd = dy->data, *wd = w->data;
    float *dxd = dx->data;
    /* Stride 2 has no direct backward-data: its dx is a stride-2 scatter, the im2col path below. */
    if (plan->direct_isa && g.st == 1)
        return imbal_nn_direct_conv(ctx, (imbal_direct_isa)plan->direct_isa, g.n, g.k, g.c, g.h,
                                    g.w, g.r, 1, dyd, wd, 1, dxd, NULL, 0);
    if (is_pointwise(&g)) {
        for (int n = 0; n < g.n; ++n)
            imbal_nn_sgemm(ctx, 1, 0, g.c, g.hw, g.k, 1.0f, wd, g.c, dyd + (int64_t)n * g.k * g.pq,
                           g.pq, 0.0f, dxd + (int64_t)n * g.c * g.hw, g.hw);
        return IMBAL_OK;
    }
    const int grp = imbal_nn_cpu_conv_group(&plan->shape);
    float *col = plan->col, *stage = plan->col + (size_t)grp * g.crs * g.pq;
    for (int n0 = 0; n0 < g.n; n0 += grp) {
        int cnt = g.n - n0 < grp ? g.n - n0 : grp, cols = cnt * g.pq;
        const float *in = dyd + (int64_t)n0 * g.k * g.pq;
        if (cnt > 1) {
            gather(ctx, dyd, g.k, g.pq, n0, cnt, stage);
            in = stage;
        }
        imbal_nn_sgemm(ctx, 1, 0, g.crs, cols, g.k, 1.0f, wd, g.crs, in, cols, 0.0f, col, cols);
        col2im(ctx, &g, col, n0, cnt, dxd);
    }
    return IMBAL_OK;
}

imbal_status imbal_nn_cpu_conv_backward_filter(imbal_ctx *ctx, imbal_conv_plan *plan,
                                               const imbal_tensor *x, const imbal_tensor *dy,
                                               imbal_tensor *dw) {
    geom g = geom_of(&plan->shape, x->shape[0]);
    const float *xd = x->data, *dyd = dy->data;
    float *dwd = dw->data;
    if (plan->direct_isa && imbal_nn_direct_filter_applies(&plan->shape))
        return imbal_nn_direct_filter(ctx, (imbal_direct_isa)plan->direct_isa, g.n, g.c, g.k, g.h,
                                      g.w, g.st, xd, dyd, dwd, plan->col, plan->col_floats);
    if (is_pointwise(&g)) {
        for (int n = 0; n < g.n; ++n)
            imbal_nn_sgemm(ctx, 0, 1, g.k, g.c, g.hw, 1.0f, dyd + (int64_t)n * g.k * g.pq, g.pq,
                           xd + (int64_t)n * g.c * g.hw, g.hw, n ? 1.0f : 0.0f, dwd, g.c);
        return IMBAL_OK;
    }
    const int grp = imbal_nn_cpu_conv_group(&plan->shape);
    float *col = plan->col, *stage = plan->col + (size_t)grp * g.crs * g.pq;
    for (int n0 = 0; n0 < g.n; n0 += grp) {
        int cnt = g.n - n0 < grp ? g.n - n0 : grp, cols = cnt * g.pq;
        im2col(ctx, &g, xd, n0, cnt, col);
        const float *in = dyd + (int64_t)n0 * g.k * g.pq;
        if (cnt > 1) {
            gather(ctx, dyd, g.k, g.pq, n0, cnt, stage);
            in = stage;
        }
        imbal_nn_sgemm(ctx, 0, 1, g.k, g.crs, cols, 1.0f, in, cols, col, cols, n0 ? 1.0f : 0.0f,
                       dwd, g.crs);
    }
    return IMBAL_OK;
}
