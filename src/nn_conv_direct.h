/* imbal internal: the CPU convolution's direct path (src/nn_conv_direct.c), used by
 * src/nn_conv_cpu.c for stride-1 "same" square kernels and 3x3 stride-2 ones on CPUs with AVX-512F
 * or AVX2+FMA. */
#ifndef IMBAL_NN_CONV_DIRECT_H
#define IMBAL_NN_CONV_DIRECT_H

#include <stdint.h>

#include "nn_internal.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define IMBAL_DIRECT_X86 1
#else
#define IMBAL_DIRECT_X86 0
#endif

/* Taps per kernel the direct path takes (7x7). */
#define DIRECT_MAX_TAPS 49

typedef enum imbal_direct_isa {
    IMBAL_DIRECT_NONE = 0,
    IMBAL_DIRECT_AVX2 = 1,
    IMBAL_DIRECT_AVX512 = 2,
} imbal_direct_isa;

/* One direct convolution: images [n][cin][xplane] -> [n][cout][yplane], r x r taps; h x w is the
 * output plane, and each tap reads the input at a fixed offset from the output pixel (off), its
 * border lanes masked. Stride 1: the input plane itself (xplane = h*w). Stride 2: the input split
 * into its four phase planes of h*w each (xplane = 4*h*w). */
typedef struct direct_conv {
    int n, cin, cout, h, w, r, tiles;
    int64_t xplane, yplane; /* floats per channel of x and of y */
    const float *x;
    float *y;
    const float *wp;          /* weights packed in blocks of the kernel's output channels */
    const uint32_t *masks;    /* per tile: lane bits per tap and vector, then the in-plane bits */
    int off[DIRECT_MAX_TAPS]; /* input offset of each tap from the output pixel */
} direct_conv;

/* The weight gradient of a 3x3 pad-1 convolution: x [n][cin][xplane] (stride 2: its phase
 * planes), dy [n][cout][h*w] over the h x w output plane. */
typedef struct direct_filter {
    int n, cin, cout, h, w, tiles; /* tiles: vectors of pixels per plane */
    int64_t xplane;
    int x_n0; /* the batch index of x's first image (stride 2: x holds one chunk's phases) */
    const float *x, *dy;
    float *part;           /* per (output block, input channel): per-lane partial sums per tap */
    const uint32_t *masks; /* per vector of pixels: lane bits per tap, then the in-plane bits */
    int off[9];
} direct_filter;

/* Whether a shape takes the direct path (stride 1, r == s > 1, pad (r - 1) / 2 on both sides; or
 * 3x3 pad 1 stride 2 over an even plane, whose backward-data stays on the im2col path), and the
 * best instruction set this CPU has for it (NONE: use im2col). */
int imbal_nn_direct_conv_applies(const imbal_conv2d_shape *shape);
imbal_direct_isa imbal_nn_direct_conv_isa(void);

/* y = conv(x, w) for such a shape with the given instruction set (not NONE); h x w is the input
 * plane. w is [cout][cin][r][r]; with `transpose` (stride 1 only), w is [cin][cout][r][r] and the
 * call computes the backward-data of the convolution w belongs to (w transposed and rotated by
 * 180 degrees). Stride 2 splits the input into phase planes in ws (ws_floats floats, at least one
 * image's cin*h*w), as many images at a time as fit. Fails only for memory. */
imbal_status imbal_nn_direct_conv(imbal_ctx *ctx, imbal_direct_isa isa, int n, int cin, int cout,
                                  int h, int w, int r, int stride, const float *x, const float *wt,
                                  int transpose, float *y, float *ws, size_t ws_floats);

/* Whether the weight gradient of a shape takes the direct path (3x3, pad 1, stride 1, or stride 2
 * over an even plane), and dw = the weight gradient with that instruction set (h x w: the input
 * plane; stride 2 uses ws as imbal_nn_direct_conv does). Lanes are summed in a fixed order, so
 * the result does not depend on the thread count; it does on the instruction set (16 or 8 lanes).
 */
int imbal_nn_direct_filter_applies(const imbal_conv2d_shape *shape);
imbal_status imbal_nn_direct_filter(imbal_ctx *ctx, imbal_direct_isa isa, int n, int cin, int cout,
                                    int h, int w, int stride, const float *x, const float *dy,
                                    float *dw, float *ws, size_t ws_floats);

#endif
