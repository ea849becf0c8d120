/* The fused augmentation kernel (kernels/augment_pipeline.cu) against its CPU twin: the same
 * parameters for every key (one host/device draw), crop + flip bit-exact, the full chain within
 * one level of 255 per pixel (float32: one level / std; bf16: plus its rounding), the same result
 * whatever the batch split, and host pointers refused. Every test skips without a CUDA device.
 * Failure messages give the maximum difference, how many values differ and the first of them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

#define SEED  UINT64_C(0xA06D3E7)
#define EPOCH 3u

enum { N = 64, H = 37, W = 41 };

static void need_gpu(void) {
    if (!imbal_built_with_cuda())
        cr_skip_test("no CUDA device: this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0) cr_skip_test("no CUDA device answers on this machine");
}

/* Structured content (gradients, edges, saturated and gray pixels) plus noise. */
static uint8_t *make_images(int n) {
    uint8_t *img = malloc((size_t)n * H * W * 3);
    cr_assert(img);
    uint32_t x = 88172645u;
    for (int i = 0; i < n; ++i)
        for (int y = 0; y < H; ++y)
            for (int xx = 0; xx < W; ++xx)
                for (int c = 0; c < 3; ++c) {
                    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                    int v = (y * (5 + i % 7) + xx * (3 + c) + i * 11) & 255;
                    if ((xx / 8 + y / 8 + i) % 5 == 0) v = (i % 3 == 0) ? 255 : 128; /* flat */
                    if (i % 4 == 1) v = (v + (int)(x & 31)) & 255;
                    img[(((size_t)i * H + y) * W + xx) * 3 + c] = (uint8_t)v;
                }
    return img;
}

static size_t out_elem(const imbal_aug_pipeline *p) {
    return p->output == IMBAL_AUG_OUT_U8_NHWC ? 1 : p->output == IMBAL_AUG_OUT_F32_NCHW ? 4 : 2;
}

static size_t out_bytes(const imbal_aug_pipeline *p, int n) {
    return (size_t)n * p->out_height * p->out_width * 3 * out_elem(p);
}

static void *run_cpu(const imbal_aug_pipeline *p, const uint8_t *imgs, int n, const int64_t *keys,
                     const int32_t *labels) {
    void *out = malloc(out_bytes(p, n));
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cpu(), p, imgs, n, H, W, keys, labels, SEED,
                                     EPOCH, out, NULL),
                 IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return out;
}

static imbal_tensor upload(imbal_ctx *ctx, const void *host, imbal_dtype dt, int64_t count) {
    imbal_tensor d, h = imbal_tensor_wrap((void *)host, dt, 1, &count, imbal_device_cpu());
    cr_assert_eq(imbal_tensor_alloc(ctx, &d, dt, 1, &count, imbal_device_cuda(0)), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(imbal_tensor_copy(ctx, &d, &h), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    return d;
}

static void *run_gpu(const imbal_aug_pipeline *p, const uint8_t *imgs, int n, const int64_t *keys,
                     const int32_t *labels) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor di = upload(ctx, imgs, IMBAL_U8, (int64_t)n * H * W * 3);
    imbal_tensor dk = upload(ctx, keys, IMBAL_I64, n);
    imbal_tensor dl = {0};
    if (labels) dl = upload(ctx, labels, IMBAL_I32, n);
    int64_t nb = (int64_t)out_bytes(p, n);
    imbal_tensor dout, hout;
    cr_assert_eq(imbal_tensor_alloc(ctx, &dout, IMBAL_U8, 1, &nb, imbal_device_cuda(0)), IMBAL_OK);
    cr_assert_eq(imbal_tensor_alloc(ctx, &hout, IMBAL_U8, 1, &nb, imbal_device_cpu()), IMBAL_OK);
    memset(hout.data, 0xEE, (size_t)nb);
    cr_assert_eq(imbal_tensor_copy(ctx, &dout, &hout), IMBAL_OK, "poison the output");
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cuda(0), p, di.data, n, H, W, dk.data,
                                     labels ? dl.data : NULL, SEED, EPOCH, dout.data, NULL),
                 IMBAL_OK, "%s", imbal_ctx_error(ctx));
    /* the copy on the legacy default stream waits for the kernel */
    cr_assert_eq(imbal_tensor_copy(ctx, &hout, &dout), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_tensor_free(&di);
    imbal_tensor_free(&dk);
    imbal_tensor_free(&dl);
    imbal_tensor_free(&dout);
    void *out = hout.data; /* keep the host buffer: the tensor owns malloc'd memory */
    hout.owns_data = 0;
    imbal_ctx_destroy(ctx);
    return out;
}

static float value_at(const imbal_aug_pipeline *p, const void *buf, size_t k) {
    if (p->output == IMBAL_AUG_OUT_U8_NHWC) return (float)((const uint8_t *)buf)[k];
    if (p->output == IMBAL_AUG_OUT_F32_NCHW) return ((const float *)buf)[k];
    return imbal_bf16_to_f32(((const uint16_t *)buf)[k]);
}

/* Allowed |gpu - cpu| for value k: `levels` of 255 through the normalisation, plus bf16 rounding
 * (both sides rounded: up to one bf16 ulp of the value apart). */
static float tolerance(const imbal_aug_pipeline *p, size_t k, float v, int levels) {
    if (p->output == IMBAL_AUG_OUT_U8_NHWC) return (float)levels;
    const size_t npx = (size_t)p->out_height * p->out_width;
    const int c = (int)((k / npx) % 3);
    float t = (float)levels / 255.0f / fabsf(p->std[c]) * 1.0001f;
    if (p->output == IMBAL_AUG_OUT_BF16_NCHW) t += fabsf(v) * (1.0f / 128.0f) + 1e-30f;
    return t;
}

static void compare(const char *what, const imbal_aug_pipeline *p, const void *gpu, const void *cpu,
                    int n, int levels) {
    const size_t count = out_bytes(p, n) / out_elem(p);
    size_t bad = 0, differ = 0, first = (size_t)-1;
    float maxd = 0.0f;
    for (size_t k = 0; k < count; ++k) {
        float g = value_at(p, gpu, k), c = value_at(p, cpu, k);
        float d = fabsf(g - c);
        if (!(d == 0.0f)) {
            ++differ;
            if (first == (size_t)-1) first = k;
        }
        if (d > maxd || d != d) maxd = d;
        if (!(d <= tolerance(p, k, c, levels))) ++bad;
    }
    const size_t per = count / (size_t)n;
    cr_log_info("%s: %zu of %zu values differ, max diff %g", what, differ, count, (double)maxd);
    cr_assert_eq(bad, 0,
                 "%s: %zu values beyond %d level(s), %zu differ in all, max diff %g; first "
                 "differing value %zu (image %zu, offset %zu): gpu %g cpu %g",
                 what, bad, levels, differ, (double)maxd, first, first / per, first % per,
                 (double)value_at(p, gpu, first), (double)value_at(p, cpu, first));
}

static imbal_aug_pipeline parse(const char *spec) {
    imbal_aug_pipeline p;
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_aug_pipeline_parse(ctx, spec, &p), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return p;
}

static void twin_case(const char *spec, int with_strength, int levels) {
    static float strength[4] = {0.0f, 0.5f, 1.0f, 2.5f};
    imbal_aug_pipeline p = parse(spec);
    if (with_strength) p.class_strength = strength, p.num_classes = 4;
    uint8_t *imgs = make_images(N);
    int64_t keys[N];
    int32_t labels[N];
    for (int i = 0; i < N; ++i)
        keys[i] = 977 * i + 13, labels[i] = (i * 7) % 4;
    const imbal_aug_output outs[3] = {IMBAL_AUG_OUT_U8_NHWC, IMBAL_AUG_OUT_F32_NCHW,
                                      IMBAL_AUG_OUT_BF16_NCHW};
    for (int o = 0; o < 3; ++o) {
        imbal_aug_pipeline q = p;
        q.output = outs[o];
        if (outs[o] != IMBAL_AUG_OUT_U8_NHWC && q.std[0] == 1.0f)
            q.mean[0] = 0.5f, q.mean[1] = 0.4f, q.mean[2] = 0.3f, q.std[0] = 0.25f, q.std[1] = 0.2f,
            q.std[2] = 0.3f;
        void *c = run_cpu(&q, imgs, N, keys, labels);
        void *g = run_gpu(&q, imgs, N, keys, labels);
        char what[512];
        snprintf(what, sizeof what, "%s [%s%s]", spec,
                 o == 0   ? "u8"
                 : o == 1 ? "f32"
                          : "bf16",
                 with_strength ? ", class strengths" : "");
        compare(what, &q, g, c, N, levels);
        free(c);
        free(g);
    }
    free(imgs);
}

Test(pipeline_gpu, crop_flip_bit_exact) {
    need_gpu();
    twin_case("crop=32:pad=4,flip", 0, 0);
    twin_case("crop=30x28:pad=6:mode=reflect,flip=0.7", 0, 0);
    twin_case("crop=40x44:pad=5:mode=edge,flip", 1, 0);
    twin_case("crop=24:pad=2:mode=constant:fill=77,flip=1", 0, 0);
}

Test(pipeline_gpu, full_chain_within_one_level) {
    need_gpu();
    twin_case("crop=32:pad=4:mode=reflect,flip,rotate=20:fill=10/200/30,jitter=0.4/0.4/0.4/0.1", 0,
              1);
    twin_case("crop=32:pad=4,flip,rotate=15,jitter=0.5/0.5/0.5/0.2", 1, 1);
    twin_case("rrc=24x28:scale=0.2-1,flip,rotate=10,jitter=0.4/0.4/0.4/0.1", 1, 1);
    twin_case("rrc=64:scale=0.08-1,flip,jitter=0.8/0.8/0.8/0.5", 0, 1);
    twin_case("size=37x41,rotate=45,jitter=0/0.9/0/0", 0, 1);
}

Test(pipeline_gpu, batch_split_does_not_matter) {
    need_gpu();
    imbal_aug_pipeline p =
        parse("rrc=32,flip,rotate=12,jitter=0.4/0.4/0.4/0.1,normalize=cifar10:bf16");
    uint8_t *imgs = make_images(N);
    int64_t keys[N];
    for (int i = 0; i < N; ++i)
        keys[i] = 5 * i;
    uint8_t *all = run_gpu(&p, imgs, N, keys, NULL);
    uint8_t *lo = run_gpu(&p, imgs, N / 2, keys, NULL);
    uint8_t *hi = run_gpu(&p, imgs + (size_t)(N / 2) * H * W * 3, N / 2, keys + N / 2, NULL);
    size_t half = out_bytes(&p, N / 2);
    cr_assert_eq(memcmp(all, lo, half), 0, "first half differs from the batch of 64");
    cr_assert_eq(memcmp(all + half, hi, half), 0, "second half differs from the batch of 64");
    /* and one image alone, taken from the middle */
    uint8_t *one = run_gpu(&p, imgs + (size_t)41 * H * W * 3, 1, keys + 41, NULL);
    cr_assert_eq(memcmp(all + out_bytes(&p, 41), one, out_bytes(&p, 1)), 0, "image 41 alone");
    free(all);
    free(lo);
    free(hi);
    free(one);
    free(imgs);
}

Test(pipeline_gpu, host_pointers_are_refused) {
    need_gpu();
    imbal_aug_pipeline p = parse("crop=32:pad=4,flip");
    uint8_t *imgs = make_images(1);
    int64_t key = 0;
    uint8_t out[32 * 32 * 3];
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cuda(0), &p, imgs, 1, H, W, &key, NULL, SEED,
                                     0, out, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "images is host memory"), "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    free(imgs);
}
