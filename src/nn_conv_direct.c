/* imbal: the CPU convolution's direct path for "same" stride-1 square kernels (3x3 pad 1, 5x5
 * pad 2, ...), the convolutions that make up most of a ResNet. See docs/nn.md.
 *
 * Why: the im2col path writes every input value R*R times into a column matrix that OpenBLAS then
 * copies again into its packed panels, and stages the output through a second copy (2/3 of the
 * CPU training step went to those copies and the sgemm). Here the output plane is walked as a
 * flat run of H*W pixels; with Q == W and stride 1, the input value under tap (r, s) of output
 * pixel j sits at j + (r - pad) * W + (s - pad) of the input plane, so a tap of a whole vector of
 * output pixels is one unaligned load, its border lanes (rows above or below the image, columns
 * off either edge) masked to zero. A block of output channels times a tile of pixels is held in
 * registers while the (input channel, tap) loop broadcasts the weights: nothing is lowered, nothing
 * is staged, the output is stored once.
 *
 * Backward-data of a stride-1 convolution is a convolution of dy with the weights transposed
 * (input and output channels swapped) and rotated by 180 degrees, and pad R - 1 - pad == pad, so
 * it runs through the same kernel.
 *
 * Each output value is one fused multiply-add chain in (channel, tap) order, so the result does
 * not depend on the thread count, the tile or the instruction set (AVX-512 and AVX2 give the same
 * bits).
 *
 * The weight gradient of a 3x3 convolution, dw[k][c][t] = sum over images and pixels j of
 * dy[k][j] * x[c][j + off(t)], uses the same masked loads with the pixels in the lanes: each lane
 * keeps a partial sum per (k, c, t), the batch is walked in chunks whose x and dy stay in L2, and
 * the lanes are added in a fixed order at the end, so the bits depend on the vector width (16 or
 * 8 lanes) but never on the thread count.
 *
 * Chosen at run time: AVX-512F, else AVX2+FMA, else the im2col path. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "nn_conv_direct.h"

#if IMBAL_DIRECT_X86
#include <immintrin.h>
#endif

/* Register blocks. Forward / backward-data: MR output channels x TILE_VECS vectors of pixels (32
 * pixels with AVX-512, 16 with AVX2: whole rows of the 8x8 to 32x32 planes, no idle lanes; 48
 * pixels left a third of the 8x8 plane's second tile idle). Weight gradient: FMR output channels x
 * 9 taps (27 of AVX-512's 32 registers; 3 ran 10-20% faster than 2). AVX2 has 16 registers. */
#define TILE_VECS    2
#define AVX512_LANES 16
#define AVX512_MR    8
#define AVX512_FMR   3
#define AVX2_LANES   8
#define AVX2_MR      4
#define AVX2_FMR     1

/* 3x3 pad 1 stride 2 over an even plane: output pixel (p, q) reads input rows 2p - 1, 2p, 2p + 1
 * (and columns alike), which are rows p - 1, p, p of the input's odd, even, odd phase planes. */
static int is_stride2_3x3(const imbal_conv2d_shape *sh) {
    return sh->stride == 2 && sh->r == 3 && sh->s == 3 && sh->pad == 1 && sh->h % 2 == 0 &&
           sh->w % 2 == 0;
}

int imbal_nn_direct_conv_applies(const imbal_conv2d_shape *sh) {
    return (sh->stride == 1 && sh->r == sh->s && sh->r > 1 && sh->r * sh->r <= DIRECT_MAX_TAPS &&
            2 * sh->pad == sh->r - 1) ||
           is_stride2_3x3(sh);
}

imbal_direct_isa imbal_nn_direct_conv_isa(void) {
#if IMBAL_DIRECT_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return IMBAL_DIRECT_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return IMBAL_DIRECT_AVX2;
#endif
    return IMBAL_DIRECT_NONE;
}

#if IMBAL_DIRECT_X86

/* ---- the tile kernels ------------------------------------------------------------------------ */

#define DK_FN(name)           name##_avx512
#define DK_TARGET             "avx512f"
#define DK_VEC                __m512
#define DK_L                  AVX512_LANES
#define DK_MR                 AVX512_MR
#define DK_FMR                AVX512_FMR
#define DK_V                  TILE_VECS
#define DK_MASK               __mmask16
#define DK_MASK_OF(bits)      ((__mmask16)(bits))
#define DK_ZERO()             _mm512_setzero_ps()
#define DK_SET1(f)            _mm512_set1_ps(f)
#define DK_FMA(a, b, c)       _mm512_fmadd_ps(a, b, c)
#define DK_LOADM(mask, p)     _mm512_maskz_loadu_ps(mask, p)
#define DK_LOAD(p)            _mm512_loadu_ps(p)
#define DK_STORE(p, v)        _mm512_storeu_ps(p, v)
#define DK_STOREM(p, mask, v) _mm512_mask_storeu_ps(p, mask, v)
#include "nn_conv_direct_kernel.h"
#undef DK_FN
#undef DK_TARGET
#undef DK_VEC
#undef DK_L
#undef DK_MR
#undef DK_FMR
#undef DK_LOAD
#undef DK_V
#undef DK_MASK
#undef DK_MASK_OF
#undef DK_ZERO
#undef DK_SET1
#undef DK_FMA
#undef DK_LOADM
#undef DK_STORE
#undef DK_STOREM

/* Lane bits -> an AVX2 mask vector (a lane is on when its sign bit is set). */
__attribute__((target("avx2"))) static inline __m256i avx2_mask_of(uint32_t bits) {
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256i b = _mm256_and_si256(_mm256_set1_epi32((int)bits), lane);
    return _mm256_cmpeq_epi32(b, lane);
}

#define DK_FN(name)           name##_avx2
#define DK_TARGET             "avx2,fma"
#define DK_VEC                __m256
#define DK_L                  AVX2_LANES
#define DK_MR                 AVX2_MR
#define DK_FMR                AVX2_FMR
#define DK_V                  TILE_VECS
#define DK_MASK               __m256i
#define DK_MASK_OF(bits)      avx2_mask_of(bits)
#define DK_ZERO()             _mm256_setzero_ps()
#define DK_SET1(f)            _mm256_set1_ps(f)
#define DK_FMA(a, b, c)       _mm256_fmadd_ps(a, b, c)
#define DK_LOADM(mask, p)     _mm256_maskload_ps(p, mask)
#define DK_LOAD(p)            _mm256_loadu_ps(p)
#define DK_STORE(p, v)        _mm256_storeu_ps(p, v)
#define DK_STOREM(p, mask, v) _mm256_maskstore_ps(p, mask, v)
#include "nn_conv_direct_kernel.h"

#endif /* IMBAL_DIRECT_X86 */

/* ---- the driver ---------------------------------------------------------------------------- */

/* An instruction set's register blocks: vector lanes, output channels per forward block and per
 * weight-gradient block (the kernels' DK_L, DK_MR, DK_FMR). */
typedef struct isa_blocks {
    int lanes, mr, fmr;
} isa_blocks;

static isa_blocks blocks_of(imbal_direct_isa isa) {
    return isa == IMBAL_DIRECT_AVX512 ? (isa_blocks){AVX512_LANES, AVX512_MR, AVX512_FMR}
                                      : (isa_blocks){AVX2_LANES, AVX2_MR, AVX2_FMR};
}

/* Where tap t of an output pixel (p, q) of an h x w output plane reads: row p + dr[t], column
 * q + dc[t] of the input plane that starts base[t] floats into the channel (the same h x w size).
 */
typedef struct tap_map {
    int taps, dr[DIRECT_MAX_TAPS], dc[DIRECT_MAX_TAPS], base[DIRECT_MAX_TAPS];
} tap_map;

/* Stride 1, r x r taps, pad r / 2: the input plane itself, shifted. */
static tap_map taps_stride1(int r) {
    tap_map m = {.taps = r * r};
    for (int t = 0; t < r * r; ++t)
        m.dr[t] = t / r - r / 2, m.dc[t] = t % r - r / 2, m.base[t] = 0;
    return m;
}

/* 3x3 pad 1 stride 2 over phase planes [4][h*w] (phase_split): tap row a reads row p - 1 of the
 * odd phase (a = 0), row p of the even (a = 1) or row p of the odd (a = 2); columns alike. */
static tap_map taps_stride2(int h, int w) {
    tap_map m = {.taps = 9};
    for (int t = 0; t < 9; ++t) {
        int a = t / 3, b = t % 3, pa = a != 1, pb = b != 1;
        m.dr[t] = a == 0 ? -1 : 0, m.dc[t] = b == 0 ? -1 : 0;
        m.base[t] = (pa * 2 + pb) * h * w;
    }
    return m;
}

/* For an h x w output plane, in tiles of `vecs` vectors of `lanes` pixels: the lane bits of every
 * tile, per tap and vector, then the in-plane bits (j < h*w) as tap `taps` (a lane is on when its
 * input pixel lies inside the image), and each tap's input offset from the output pixel. */
static void build_masks(int h, int w, const tap_map *tm, int tiles, int lanes, int vecs,
                        uint32_t *masks, int *off) {
    const int rs = tm->taps, hw = h * w;
    for (int tile = 0; tile < tiles; ++tile) {
        uint32_t *bits = masks + (size_t)tile * (size_t)(rs + 1) * (size_t)vecs;
        memset(bits, 0, (size_t)(rs + 1) * (size_t)vecs * sizeof *bits);
        for (int l = 0; l < lanes * vecs; ++l) {
            int j = tile * lanes * vecs + l;
            if (j >= hw) continue;
            int p = j / w, q = j % w, v = l / lanes;
            uint32_t bit = 1u << (l % lanes);
            bits[rs * vecs + v] |= bit;
            for (int t = 0; t < rs; ++t) {
                int ih = p + tm->dr[t], iw = q + tm->dc[t];
                if (ih >= 0 && ih < h && iw >= 0 && iw < w) bits[t * vecs + v] |= bit;
            }
        }
    }
    for (int t = 0; t < rs; ++t)
        off[t] = tm->base[t] + tm->dr[t] * w + tm->dc[t];
}

/* Images [n0, n0 + cnt) of x [n][c][h][w] (h, w even) into xp [cnt][c][4][h/2 * w/2]: phase
 * (pa, pb) holds the pixels (2u + pa, 2v + pb). */
static void phase_split(imbal_ctx *ctx, const float *x, int n0, int cnt, int c, int h, int w,
                        float *xp) {
    const int ho = h / 2, wo = w / 2;
    const int64_t planes = (int64_t)cnt * c, hwo = (int64_t)ho * wo;
#pragma omp parallel for schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
    for (int64_t pl = 0; pl < planes; ++pl) {
        const float *src = x + ((int64_t)n0 * c + pl) * h * w;
        float *dst = xp + pl * 4 * hwo;
        for (int u = 0; u < ho; ++u)
            for (int pa = 0; pa < 2; ++pa) {
                const float *row = src + (int64_t)(2 * u + pa) * w;
                float *d0 = dst + (pa * 2) * hwo + (int64_t)u * wo, *d1 = d0 + hwo;
                for (int v = 0; v < wo; ++v)
                    d0[v] = row[2 * v], d1[v] = row[2 * v + 1];
            }
    }
}

/* Images per phase split that fit ws_floats (at least 1: the callers' im2col workspace holds
 * 2.25 images' worth of a 3x3 stride-2 convolution's input at least). */
static int split_chunk(int c, int h, int w, size_t ws_floats) {
    size_t per = (size_t)c * (size_t)h * (size_t)w, k = ws_floats / (per ? per : 1);
    return k < 1 ? 1 : k > 1 << 20 ? 1 << 20 : (int)k;
}

/* Packs weights into blocks of `mr` output channels: wp[kb][c][t][i] = the weight from input
 * channel c to output channel kb*mr + i at tap t (0 past the last output channel). With
 * `transpose`, w is the forward weight [cin_fwd = cout][cout_fwd = cin][t] of the convolution whose
 * backward-data this is, read transposed and rotated by 180 degrees (tap rs - 1 - t). */
static void pack_weights(const float *w, int cout, int cin, int rs, int mr, int transpose,
                         float *wp) {
    const int kbs = (cout + mr - 1) / mr;
    for (int kb = 0; kb < kbs; ++kb)
        for (int c = 0; c < cin; ++c)
            for (int t = 0; t < rs; ++t)
                for (int i = 0; i < mr; ++i) {
                    int k = kb * mr + i;
                    float v = 0.0f;
                    if (k < cout)
                        v = transpose ? w[((int64_t)c * cout + k) * rs + (rs - 1 - t)]
                                      : w[((int64_t)k * cin + c) * rs + t];
                    wp[(((int64_t)kb * cin + c) * rs + t) * mr + i] = v;
                }
}

imbal_status imbal_nn_direct_conv(imbal_ctx *ctx, imbal_direct_isa isa, int n, int cin, int cout,
                                  int h, int w, int r, int stride, const float *x, const float *wt,
                                  int transpose, float *y, float *ws, size_t ws_floats) {
#if IMBAL_DIRECT_X86
    const isa_blocks bl = blocks_of(isa);
    const int rs = r * r, mr = bl.mr, vecs = TILE_VECS, tile_px = bl.lanes * vecs;
    const int ho = h / stride, wo = w / stride;
    direct_conv d = {.n = n, .cin = cin, .cout = cout, .h = ho, .w = wo, .r = r, .x = x, .y = y};
    d.xplane = (int64_t)h * w, d.yplane = (int64_t)ho * wo;
    d.tiles = (ho * wo + tile_px - 1) / tile_px;
    size_t wp_floats = (size_t)((cout + mr - 1) / mr) * (size_t)mr * (size_t)cin * (size_t)rs;
    float *wp = imbal_xmalloc(ctx, wp_floats, sizeof *wp, "direct convolution weights");
    uint32_t *masks = imbal_xmalloc(ctx, (size_t)d.tiles * (size_t)(rs + 1) * (size_t)vecs,
                                    sizeof *masks, "direct convolution masks");
    if (!wp || !masks) {
        free(wp);
        free(masks);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    pack_weights(wt, cout, cin, rs, mr, transpose, wp);
    d.wp = wp, d.masks = masks;
    const tap_map tm = stride == 2 ? taps_stride2(ho, wo) : taps_stride1(r);
    build_masks(ho, wo, &tm, d.tiles, bl.lanes, vecs, masks, d.off);
    /* Stride 1 reads x in place; stride 2 reads phase planes of `chunk` images at a time. */
    const int chunk = stride == 2 ? split_chunk(cin, h, w, ws_floats) : n;
    for (int n0 = 0; n0 < n; n0 += chunk) {
        const int cnt = n - n0 < chunk ? n - n0 : chunk;
        if (stride == 2) {
            phase_split(ctx, x, n0, cnt, cin, h, w, ws);
            d.x = ws;
        } else {
            d.x = x + (int64_t)n0 * cin * d.xplane;
        }
        d.y = y + (int64_t)n0 * cout * d.yplane;
        const int64_t items = (int64_t)cnt * d.tiles;
#pragma omp parallel for schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
        for (int64_t it = 0; it < items; ++it) {
            int img = (int)(it / d.tiles), tile = (int)(it % d.tiles);
            if (isa == IMBAL_DIRECT_AVX512)
                direct_tile_avx512(&d, img, tile);
            else
                direct_tile_avx2(&d, img, tile);
        }
    }
    free(wp);
    free(masks);
    return IMBAL_OK;
#else
    (void)n, (void)cin, (void)cout, (void)h, (void)w, (void)r, (void)stride, (void)x, (void)wt,
        (void)transpose, (void)y, (void)isa, (void)ws, (void)ws_floats;
    return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "direct convolution: not built for this CPU");
#endif
}

/* ---- the weight gradient --------------------------------------------------------------------- */

int imbal_nn_direct_filter_applies(const imbal_conv2d_shape *sh) {
    return (sh->stride == 1 && sh->r == 3 && sh->s == 3 && sh->pad == 1) || is_stride2_3x3(sh);
}

/* Images per chunk: x and dy of a chunk stay within 512 KiB (the L2 of the CPUs this was tuned
 * on), so the (block, channel) pairs all read them from cache. Any value gives the same bits. */
static int filter_chunk(int cin, int cout, int hw) {
    int64_t per = (int64_t)(cin + cout) * hw * (int64_t)sizeof(float);
    int64_t c = ((int64_t)512 << 10) / (per > 0 ? per : 1);
    return c < 1 ? 1 : (int)(c > 1 << 20 ? 1 << 20 : c);
}

imbal_status imbal_nn_direct_filter(imbal_ctx *ctx, imbal_direct_isa isa, int n, int cin, int cout,
                                    int h, int w, int stride, const float *x, const float *dy,
                                    float *dw, float *ws, size_t ws_floats) {
#if IMBAL_DIRECT_X86
    const isa_blocks bl = blocks_of(isa);
    const int lanes = bl.lanes, fmr = bl.fmr, kbs = (cout + fmr - 1) / fmr;
    const int ho = h / stride, wo = w / stride;
    direct_filter f = {.n = n, .cin = cin, .cout = cout, .h = ho, .w = wo, .x = x, .dy = dy};
    f.xplane = (int64_t)h * w;
    f.tiles = (ho * wo + lanes - 1) / lanes;
    size_t part_floats = (size_t)kbs * (size_t)fmr * (size_t)cin * 9u * (size_t)lanes;
    float *part = imbal_xcalloc(ctx, part_floats, sizeof *part, "weight-gradient partial sums");
    uint32_t *masks =
        imbal_xmalloc(ctx, (size_t)f.tiles * 10u, sizeof *masks, "direct convolution masks");
    if (!part || !masks) {
        free(part);
        free(masks);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    const tap_map tm = stride == 2 ? taps_stride2(ho, wo) : taps_stride1(3);
    build_masks(ho, wo, &tm, f.tiles, lanes, 1, masks, f.off);
    f.part = part, f.masks = masks;
    int chunk = filter_chunk(cin, cout, ho * wo);
    if (stride == 2) {
        const int fit = split_chunk(cin, h, w, ws_floats);
        chunk = chunk < fit ? chunk : fit;
    }
    const int pairs = kbs * cin;
    for (int n0 = 0; n0 < n; n0 += chunk) {
        int cnt = n - n0 < chunk ? n - n0 : chunk;
        if (stride == 2) {
            /* The chunk's x is read from its phase planes in ws, whose first image is image n0. */
            phase_split(ctx, x, n0, cnt, cin, h, w, ws);
            f.x = ws, f.x_n0 = n0;
        }
#pragma omp parallel for schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
        for (int pr = 0; pr < pairs; ++pr) {
            if (isa == IMBAL_DIRECT_AVX512)
                filter_block_avx512(&f, n0, cnt, pr / cin, pr % cin);
            else
                filter_block_avx2(&f, n0, cnt, pr / cin, pr % cin);
        }
    }
    /* dw[k][c][t]: lanes summed in order. */
#pragma omp parallel for schedule(static) num_threads(imbal_ctx_omp_threads(ctx))
    for (int k = 0; k < cout; ++k)
        for (int c = 0; c < cin; ++c)
            for (int t = 0; t < 9; ++t) {
                const float *v =
                    part + (((int64_t)(k / fmr) * cin + c) * fmr * 9 + (k % fmr) * 9 + t) * lanes;
                float sum = 0.0f;
                for (int l = 0; l < lanes; ++l)
                    sum += v[l];
                dw[((int64_t)k * cin + c) * 9 + t] = sum;
            }
    free(part);
    free(masks);
    return IMBAL_OK;
#else
    (void)isa, (void)n, (void)cin, (void)cout, (void)h, (void)w, (void)stride, (void)x, (void)dy,
        (void)dw, (void)ws, (void)ws_floats;
    return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "direct convolution: not built for this CPU");
#endif
}
