/* imbal internal: one instruction set's direct-convolution tile kernel, included by
 * src/nn_conv_direct.c once per instruction set (a C template). Before including, define:
 *   DK_FN(name)      the function's name with the instruction-set suffix
 *   DK_TARGET        the GCC target string ("avx512f", "avx2,fma")
 *   DK_VEC           the vector type; DK_L its lanes; DK_MR output channels per block (the packed
 *                    weights' block); DK_V vectors of pixels per tile (DK_L * DK_V == the driver's
 *                    tile width)
 *   DK_MASK          the per-vector mask type, DK_MASK_OF(bits) building it from lane bits
 *   DK_ZERO(), DK_SET1(f), DK_FMA(a, b, c) (a * b + c, one rounding), DK_LOADM(mask, p)
 *   (masked-off lanes read as 0 and never fault), DK_STORE(p, v), DK_STOREM(p, mask, v).
 *
 * Every output is one fused multiply-add chain over (input channel, tap) in that order, starting
 * from 0: the same bits whatever the vector width, the tile or the thread. */

__attribute__((target(DK_TARGET))) static void DK_FN(direct_tile)(const direct_conv *d, int n,
                                                                  int tile) {
    const int rs = d->r * d->r, hw = d->h * d->w, j0 = tile * DK_L * DK_V;
    const uint32_t *bits = d->masks + (size_t)tile * (size_t)(rs + 1) * DK_V;
    DK_MASK m[DIRECT_MAX_TAPS + 1][DK_V];
    for (int t = 0; t <= rs; ++t)
        for (int v = 0; v < DK_V; ++v)
            m[t][v] = DK_MASK_OF(bits[t * DK_V + v]);
    const float *x = d->x + (int64_t)n * d->cin * d->xplane + j0;
    float *y = d->y + (int64_t)n * d->cout * d->yplane + j0;
    const int full = j0 + DK_L * DK_V <= hw;
    for (int k0 = 0; k0 < d->cout; k0 += DK_MR) {
        const float *wk = d->wp + (int64_t)(k0 / DK_MR) * d->cin * rs * DK_MR;
        DK_VEC acc[DK_MR][DK_V];
#pragma GCC unroll 16
        for (int i = 0; i < DK_MR; ++i)
#pragma GCC unroll 4
            for (int v = 0; v < DK_V; ++v)
                acc[i][v] = DK_ZERO();
        for (int c = 0; c < d->cin; ++c) {
            const float *xc = x + (int64_t)c * d->xplane;
            for (int t = 0; t < rs; ++t, wk += DK_MR) {
                const float *p = xc + d->off[t];
                DK_VEC b[DK_V];
#pragma GCC unroll 4
                for (int v = 0; v < DK_V; ++v)
                    b[v] = DK_LOADM(m[t][v], p + v * DK_L);
#pragma GCC unroll 16
                for (int i = 0; i < DK_MR; ++i) {
                    DK_VEC a = DK_SET1(wk[i]);
#pragma GCC unroll 4
                    for (int v = 0; v < DK_V; ++v)
                        acc[i][v] = DK_FMA(a, b[v], acc[i][v]);
                }
            }
        }
        /* Fixed trip counts (a row past cout is skipped) so acc stays in registers. */
#pragma GCC unroll 16
        for (int i = 0; i < DK_MR; ++i) {
            if (k0 + i >= d->cout) break;
            float *yk = y + (int64_t)(k0 + i) * d->yplane;
#pragma GCC unroll 4
            for (int v = 0; v < DK_V; ++v) {
                if (full)
                    DK_STORE(yk + v * DK_L, acc[i][v]);
                else
                    DK_STOREM(yk + v * DK_L, m[rs][v], acc[i][v]);
            }
        }
    }
}

/* The weight gradient of a 3x3 convolution, for output channels [kb * DK_FMR, + DK_FMR) and input
 * channel c over images [n0, n0 + cnt): per tap, a vector of DK_L per-lane partial sums of
 * dy[k][j] * x[c][j + off[t]] over the pixels j (lane j % DK_L), carried between calls in f->part
 * so the order of every lane's sum is (image, pixel) whatever the chunking or the thread. */
__attribute__((target(DK_TARGET))) static void DK_FN(filter_block)(const direct_filter *f, int n0,
                                                                   int cnt, int kb, int c) {
    const int hw = f->h * f->w;
    float *part = f->part + ((int64_t)kb * f->cin + c) * DK_FMR * 9 * DK_L;
    DK_VEC acc[DK_FMR][9];
#pragma GCC unroll 4
    for (int i = 0; i < DK_FMR; ++i)
#pragma GCC unroll 9
        for (int t = 0; t < 9; ++t)
            acc[i][t] = DK_LOAD(part + (i * 9 + t) * DK_L);
    int live = f->cout - kb * DK_FMR; /* output channels of this block that exist */
    for (int n = n0; n < n0 + cnt; ++n) {
        const float *xc = f->x + ((int64_t)(n - f->x_n0) * f->cin + c) * f->xplane;
        const float *dyk = f->dy + ((int64_t)n * f->cout + kb * DK_FMR) * hw;
        for (int tile = 0; tile < f->tiles; ++tile) {
            const uint32_t *bits = f->masks + tile * 10;
            const int j = tile * DK_L;
            DK_VEC g[DK_FMR];
#pragma GCC unroll 4
            for (int i = 0; i < DK_FMR; ++i)
                g[i] = i < live ? DK_LOADM(DK_MASK_OF(bits[9]), dyk + i * hw + j) : DK_ZERO();
#pragma GCC unroll 9
            for (int t = 0; t < 9; ++t) {
                DK_VEC xv = DK_LOADM(DK_MASK_OF(bits[t]), xc + j + f->off[t]);
#pragma GCC unroll 4
                for (int i = 0; i < DK_FMR; ++i)
                    acc[i][t] = DK_FMA(g[i], xv, acc[i][t]);
            }
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < DK_FMR; ++i)
#pragma GCC unroll 9
        for (int t = 0; t < 9; ++t)
            DK_STORE(part + (i * 9 + t) * DK_L, acc[i][t]);
}
