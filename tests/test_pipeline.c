/* The random augmentation pipeline (imbal/pipeline.h) on the CPU: spec parsing and checks with
 * their messages; the parameter draw (deterministic, independent of the batch and of the thread
 * count, with the right distributions); the CPU twin against the composition of the functional
 * ops (imbal/augment.h) with the drawn parameters; class strength; RandomResizedCrop's box rules;
 * the three output formats against each other. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment_pixel.h" /* src/: the shared per-pixel chain */
#include "imbal/imbal.h"
#include "test_util.h"

#define SEED UINT64_C(0x5EED1234)

static uint8_t *random_images(int n, int h, int w, uint32_t salt) {
    uint8_t *img = malloc((size_t)n * h * w * 3);
    cr_assert(img);
    uint32_t x = 2463534242u ^ salt;
    for (size_t k = 0; k < (size_t)n * h * w * 3; ++k) {
        /* smooth-ish structure plus noise, so bilinear sampling and contrast are exercised */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        size_t px = k / 3;
        int yy = (int)((px / w) % h), xx = (int)(px % w);
        img[k] = (uint8_t)((yy * 7 + xx * 5 + (int)(k % 3) * 40 + (x & 63)) & 255);
    }
    return img;
}

static imbal_aug_pipeline parse_ok(const char *spec) {
    imbal_aug_pipeline p;
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_aug_pipeline_parse(ctx, spec, &p), IMBAL_OK, "%s: %s", spec,
                 imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return p;
}

static void parse_fails(const char *spec, const char *needle) {
    imbal_aug_pipeline p;
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_aug_pipeline_parse(ctx, spec, &p), IMBAL_ERR_INVALID_ARGUMENT, "%s", spec);
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "spec '%s': message '%s' lacks '%s'", spec,
              imbal_ctx_error(ctx), needle);
    imbal_ctx_destroy(ctx);
}

Test(pipeline, default_values) {
    imbal_aug_pipeline p;
    memset(&p, 0x5A, sizeof p);
    imbal_aug_pipeline_default(&p);
    cr_assert_eq(p.out_height, 32);
    cr_assert_eq(p.out_width, 32);
    cr_assert_eq(p.geometry, IMBAL_AUG_GEOM_NONE);
    cr_assert_eq(p.flip_p, 0.0f);
    cr_assert_float_eq(p.scale[0], 0.08f, 1e-7);
    cr_assert_float_eq(p.ratio[1], 4.0f / 3.0f, 1e-7);
    cr_assert_eq(p.std[2], 1.0f);
    cr_assert_null(p.class_strength);
    cr_assert_eq(p.output, IMBAL_AUG_OUT_U8_NHWC);
}

Test(pipeline, parse_every_step) {
    imbal_aug_pipeline p = parse_ok("crop=32:pad=4:mode=reflect:fill=7,flip=0.3,rotate=10:fill=1/"
                                    "2/3,jitter=0.4/0.3/0.2/0.1,normalize=cifar10:bf16");
    cr_assert_eq(p.geometry, IMBAL_AUG_GEOM_CROP);
    cr_assert_eq(p.out_height, 32);
    cr_assert_eq(p.out_width, 32);
    cr_assert_eq(p.pad, 4);
    cr_assert_eq(p.pad_mode, IMBAL_PAD_REFLECT);
    cr_assert_eq(p.pad_fill, 7);
    cr_assert_float_eq(p.flip_p, 0.3f, 1e-7);
    cr_assert_float_eq(p.rotate_deg, 10.0f, 1e-7);
    cr_assert_eq(p.rotate_fill[0], 1);
    cr_assert_eq(p.rotate_fill[2], 3);
    cr_assert_float_eq(p.brightness, 0.4f, 1e-7);
    cr_assert_float_eq(p.contrast, 0.3f, 1e-7);
    cr_assert_float_eq(p.saturation, 0.2f, 1e-7);
    cr_assert_float_eq(p.hue, 0.1f, 1e-7);
    cr_assert_eq(p.output, IMBAL_AUG_OUT_BF16_NCHW);
    cr_assert_float_eq(p.mean[0], 0.4914f, 1e-7);
    cr_assert_float_eq(p.std[2], 0.2616f, 1e-7);

    p = parse_ok("rrc=224x200:scale=0.25-0.75:ratio=0.5-2,flip,normalize=imagenet");
    cr_assert_eq(p.geometry, IMBAL_AUG_GEOM_RESIZED_CROP);
    cr_assert_eq(p.out_height, 224);
    cr_assert_eq(p.out_width, 200);
    cr_assert_float_eq(p.scale[0], 0.25f, 1e-7);
    cr_assert_float_eq(p.scale[1], 0.75f, 1e-7);
    cr_assert_float_eq(p.ratio[0], 0.5f, 1e-7);
    cr_assert_float_eq(p.ratio[1], 2.0f, 1e-7);
    cr_assert_float_eq(p.flip_p, 0.5f, 1e-7);
    cr_assert_eq(p.output, IMBAL_AUG_OUT_F32_NCHW);
    cr_assert_float_eq(p.std[1], 0.224f, 1e-7);

    p = parse_ok("size=20x30,normalize=0.1/0.2/0.3/0.5/0.25/2");
    cr_assert_eq(p.geometry, IMBAL_AUG_GEOM_NONE);
    cr_assert_eq(p.out_height, 20);
    cr_assert_eq(p.out_width, 30);
    cr_assert_float_eq(p.mean[2], 0.3f, 1e-7);
    cr_assert_float_eq(p.std[2], 2.0f, 1e-7);
    cr_assert_eq(p.flip_p, 0.0f);
    cr_assert_eq(p.output, IMBAL_AUG_OUT_F32_NCHW);
}

Test(pipeline, parse_errors_name_step_and_value) {
    parse_fails("", "empty");
    parse_fails("crop=32,,flip", "empty step");
    parse_fails("crop=abc", "size 'abc'");
    parse_fails("crop=32:pad=-1", "pad '-1'");
    parse_fails("crop=32:mode=wrap", "mode 'wrap'");
    parse_fails("crop=32:fill=300", "fill '300'");
    parse_fails("crop=32:bogus=1", "parameter 'bogus=1'");
    parse_fails("crop=32,rrc=32", "repeats a geometry step");
    parse_fails("rrc=224:scale=0.5-0.1", "scale '0.5-0.1'");
    parse_fails("rrc=224:ratio=0-1", "ratio '0-1'");
    parse_fails("flip=1.5", "probability '1.5'");
    parse_fails("rotate=-3", "degrees '-3'");
    parse_fails("rotate=10:fill=1/2", "fill '1/2'");
    parse_fails("jitter=0.4/0.4/0.4", "'0.4/0.4/0.4'");
    parse_fails("jitter=0.4/0.4/0.4/0.7", "hue");
    parse_fails("normalize=mnist", "value 'mnist'");
    parse_fails("normalize=0/0/0/1/0/1", "zero std");
    parse_fails("normalize=cifar10:fp8", "parameter 'fp8'");
    parse_fails("blur=3", "step 'blur'");
    parse_fails("flip,shear=3", "step 'shear=3'");
}

static void check_fails(const imbal_aug_pipeline *p, int h, int w, const char *needle) {
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_aug_pipeline_check(ctx, p, h, w), IMBAL_ERR_INVALID_ARGUMENT, "%s", needle);
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "message '%s' lacks '%s'", imbal_ctx_error(ctx),
              needle);
    imbal_ctx_destroy(ctx);
}

Test(pipeline, check_names_the_field) {
    imbal_aug_pipeline p = parse_ok("crop=40:pad=2");
    check_fails(&p, 32, 32, "crop 40 x 40 is larger than the padded input 36 x 36");
    p = parse_ok("crop=32:pad=8:mode=reflect");
    check_fails(&p, 8, 40, "reflect pad 8");
    p = parse_ok("size=32");
    check_fails(&p, 31, 32, "must already be the output size");
    p = parse_ok("size=32,normalize=cifar10");
    p.std[1] = 0.0f;
    check_fails(&p, 32, 32, "std[1]");
    p = parse_ok("size=32");
    p.hue = 0.6f;
    check_fails(&p, 32, 32, "hue = 0.6");
    p = parse_ok("size=32");
    p.flip_p = -0.1f;
    check_fails(&p, 32, 32, "flip_p");
    p = parse_ok("size=32");
    p.brightness = NAN;
    check_fails(&p, 32, 32, "brightness");
    p = parse_ok("rrc=16");
    p.scale[0] = 0.0f;
    check_fails(&p, 32, 32, "scale");
    p = parse_ok("size=32");
    float s[2] = {1.0f, -1.0f};
    p.class_strength = s, p.num_classes = 2;
    check_fails(&p, 32, 32, "class_strength[1]");
    p.num_classes = 0;
    check_fails(&p, 32, 32, "num_classes 0");
    p = parse_ok("size=32");
    check_fails(&p, 0, 32, "input size 0 x 32");
    p = parse_ok("crop=32:pad=4:mode=reflect");
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_aug_pipeline_check(ctx, &p, 32, 32), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}

Test(pipeline, batch_errors) {
    imbal_aug_pipeline p = parse_ok("crop=8:pad=2");
    uint8_t img[10 * 10 * 3] = {0}, out[8 * 8 * 3];
    int64_t keys[1] = {-1};
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cpu(), &p, img, 1, 10, 10, keys, NULL, 1, 0,
                                     out, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "keys[0] = -1"), "%s", imbal_ctx_error(ctx));
    keys[0] = 3;
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cpu(), &p, img, 1, 10, 10, keys, NULL, 1, 0,
                                     NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "out is NULL"), "%s", imbal_ctx_error(ctx));
    float s[2] = {1, 2};
    p.class_strength = s, p.num_classes = 2;
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cpu(), &p, img, 1, 10, 10, keys, NULL, 1, 0,
                                     out, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "labels is NULL"), "%s", imbal_ctx_error(ctx));
    int32_t labels[1] = {2};
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cpu(), &p, img, 1, 10, 10, keys, labels, 1,
                                     0, out, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "labels[0] = 2"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cpu(), &p, img, 0, 10, 10, NULL, NULL, 1, 0,
                                     NULL, NULL),
                 IMBAL_OK, "n = 0 is a no-op");
    imbal_ctx_destroy(ctx);
}

Test(pipeline, cuda_without_device_is_a_clean_error) {
    if (imbal_cuda_device_count() > 0) cr_skip_test("a CUDA device answers: see test_pipeline_gpu");
    imbal_aug_pipeline p = parse_ok("crop=8:pad=2,flip");
    uint8_t img[10 * 10 * 3] = {0}, out[8 * 8 * 3];
    int64_t keys[1] = {0};
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cuda(0), &p, img, 1, 10, 10, keys, NULL, 1,
                                     0, out, NULL),
                 IMBAL_ERR_NO_DEVICE);
    cr_assert(strlen(imbal_ctx_error(ctx)) > 0);
    imbal_ctx_destroy(ctx);
}

static int params_equal(const imbal_aug_params *a, const imbal_aug_params *b) {
    return a->top == b->top && a->left == b->left && a->height == b->height &&
           a->width == b->width && a->flip == b->flip && a->angle == b->angle &&
           a->brightness == b->brightness && a->contrast == b->contrast &&
           a->saturation == b->saturation && a->hue == b->hue && a->num_jitter == b->num_jitter &&
           memcmp(a->order, b->order, 4) == 0;
}

Test(pipeline, draw_is_deterministic_and_keyed) {
    imbal_aug_pipeline p = parse_ok("crop=32:pad=4,flip,rotate=15,jitter=0.4/0.4/0.4/0.1");
    imbal_aug_params a, b;
    int differ_key = 0, differ_epoch = 0, differ_seed = 0;
    for (int64_t k = 0; k < 50; ++k) {
        imbal_aug_draw(&p, 32, 32, SEED, 3, k, 0, &a);
        imbal_aug_draw(&p, 32, 32, SEED, 3, k, 0, &b);
        cr_assert(params_equal(&a, &b));
        imbal_aug_draw(&p, 32, 32, SEED, 3, k + 1, 0, &b);
        differ_key += !params_equal(&a, &b);
        imbal_aug_draw(&p, 32, 32, SEED, 4, k, 0, &b);
        differ_epoch += !params_equal(&a, &b);
        imbal_aug_draw(&p, 32, 32, SEED + 1, 3, k, 0, &b);
        differ_seed += !params_equal(&a, &b);
        cr_assert(a.top >= 0 && a.top <= 8 && a.left >= 0 && a.left <= 8);
        cr_assert_eq(a.height, 32);
        cr_assert(a.angle >= -15.0f && a.angle <= 15.0f);
        cr_assert_eq(a.num_jitter, 4);
        cr_assert(a.brightness >= 0.6f && a.brightness <= 1.4f);
        cr_assert(a.hue >= -0.1f && a.hue <= 0.1f);
    }
    cr_assert_eq(differ_key, 50);
    cr_assert_eq(differ_epoch, 50);
    cr_assert_eq(differ_seed, 50);
    /* steps draw from their own streams: switching rotation off keeps the crop and the jitter */
    imbal_aug_pipeline p2 = parse_ok("crop=32:pad=4,flip,jitter=0.4/0.4/0.4/0.1");
    imbal_aug_draw(&p, 32, 32, SEED, 3, 7, 0, &a);
    imbal_aug_draw(&p2, 32, 32, SEED, 3, 7, 0, &b);
    cr_assert_eq(b.angle, 0.0f);
    b.angle = a.angle;
    cr_assert(params_equal(&a, &b));
    /* only switched-on jitter ops enter the order */
    imbal_aug_pipeline p3 = parse_ok("size=32,jitter=0/0.5/0/0.2");
    imbal_aug_draw(&p3, 32, 32, SEED, 0, 1, 0, &a);
    cr_assert_eq(a.num_jitter, 2);
    cr_assert((a.order[0] == 1 && a.order[1] == 3) || (a.order[0] == 3 && a.order[1] == 1));
    cr_assert_eq(a.brightness, 1.0f);
    cr_assert_eq(a.saturation, 1.0f);
}

static uint8_t *run_cpu(const imbal_aug_pipeline *p, const uint8_t *imgs, int n, int h, int w,
                        const int64_t *keys, const int32_t *labels, int threads, size_t elem) {
    size_t per = (size_t)p->out_height * p->out_width * 3;
    uint8_t *out = malloc(per * elem * (size_t)(n > 0 ? n : 1));
    imbal_ctx *ctx = tu_ctx();
    imbal_ctx_set_threads(ctx, threads);
    cr_assert_eq(imbal_augment_batch(ctx, imbal_device_cpu(), p, imgs, n, h, w, keys, labels, SEED,
                                     2, out, NULL),
                 IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return out;
}

Test(pipeline, batch_composition_and_threads_do_not_matter) {
    const char *specs[2] = {"crop=24x20:pad=3:mode=edge,flip,rotate=20,jitter=0.4/0.4/0.4/0.1",
                            "rrc=16x18,flip,jitter=0.3/0.3/0.3/0.05,normalize=cifar10"};
    enum { N = 24, H = 21, W = 23 };
    uint8_t *imgs = random_images(N, H, W, 1);
    int64_t keys[N];
    for (int i = 0; i < N; ++i)
        keys[i] = 1000 + 7 * i;
    for (int s = 0; s < 2; ++s) {
        imbal_aug_pipeline p = parse_ok(specs[s]);
        size_t elem = p.output == IMBAL_AUG_OUT_U8_NHWC ? 1 : 4;
        size_t per = (size_t)p.out_height * p.out_width * 3 * elem;
        uint8_t *one = run_cpu(&p, imgs, N, H, W, keys, NULL, 1, elem);
        uint8_t *four = run_cpu(&p, imgs, N, H, W, keys, NULL, 4, elem);
        cr_assert_eq(memcmp(one, four, per * N), 0, "%s: 1 vs 4 threads", specs[s]);
        for (int i = 0; i < N; i += 5) {
            uint8_t *alone =
                run_cpu(&p, imgs + (size_t)i * H * W * 3, 1, H, W, &keys[i], NULL, 1, elem);
            cr_assert_eq(memcmp(alone, one + per * i, per), 0, "%s: image %d alone", specs[s], i);
            free(alone);
        }
        free(one);
        free(four);
    }
    free(imgs);
}

Test(pipeline, flip_frequency_is_p) {
    const float ps[3] = {0.5f, 0.2f, 0.9f};
    for (int k = 0; k < 3; ++k) {
        imbal_aug_pipeline p = parse_ok("size=8");
        p.flip_p = ps[k];
        int64_t obs[2] = {0, 0};
        for (int64_t key = 0; key < 2000; ++key) {
            imbal_aug_params q;
            imbal_aug_draw(&p, 8, 8, SEED, 0, key, 0, &q);
            obs[q.flip]++;
        }
        double probs[2] = {1.0 - ps[k], ps[k]}, dof;
        double stat = tu_chi2_stat(obs, probs, 2, 2000, &dof);
        cr_assert_gt(tu_chi2_pvalue(stat, dof), 1e-4, "p %g: %lld flips of 2000", (double)ps[k],
                     (long long)obs[1]);
    }
}

Test(pipeline, crop_offsets_uniform_and_angles_in_range) {
    imbal_aug_pipeline p = parse_ok("crop=32:pad=4,rotate=12");
    int64_t top[9] = {0}, left[9] = {0}, sign[2] = {0};
    for (int64_t key = 0; key < 2000; ++key) {
        imbal_aug_params q;
        imbal_aug_draw(&p, 32, 32, SEED, 5, key, 0, &q);
        cr_assert(q.top >= 0 && q.top <= 8 && q.left >= 0 && q.left <= 8);
        top[q.top]++, left[q.left]++;
        cr_assert(q.angle >= -12.0f && q.angle < 12.0f, "angle %g", (double)q.angle);
        sign[q.angle > 0]++;
    }
    double probs[9], dof;
    for (int i = 0; i < 9; ++i)
        probs[i] = 1.0 / 9;
    double x = tu_chi2_stat(top, probs, 9, 2000, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 1e-4, "top: chi2 %g", x);
    x = tu_chi2_stat(left, probs, 9, 2000, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 1e-4, "left: chi2 %g", x);
    double half[2] = {0.5, 0.5};
    x = tu_chi2_stat(sign, half, 2, 2000, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 1e-4, "angle sign: chi2 %g", x);
}

Test(pipeline, jitter_order_covers_all_permutations) {
    imbal_aug_pipeline p = parse_ok("size=8,jitter=0.4/0.4/0.4/0.1");
    int64_t counts[256] = {0};
    for (int64_t key = 0; key < 2400; ++key) {
        imbal_aug_params q;
        imbal_aug_draw(&p, 8, 8, SEED, 1, key, 0, &q);
        cr_assert_eq(q.num_jitter, 4);
        int seen = 0;
        for (int i = 0; i < 4; ++i)
            seen |= 1 << q.order[i];
        cr_assert_eq(seen, 15, "order is a permutation");
        counts[q.order[0] * 64 + q.order[1] * 16 + q.order[2] * 4 + q.order[3]]++;
    }
    int64_t obs[24];
    double probs[24], dof;
    int cells = 0;
    for (int i = 0; i < 256; ++i)
        if (counts[i]) obs[cells] = counts[i], probs[cells++] = 1.0 / 24;
    cr_assert_eq(cells, 24, "all 24 orders occur");
    double x = tu_chi2_stat(obs, probs, 24, 2400, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 1e-4, "orders: chi2 %g", x);
}

/* The composition of the public functional ops with the drawn parameters. */
static void reference(const imbal_aug_pipeline *p, const imbal_aug_params *q, const uint8_t *src,
                      int h, int w, imbal_image *out) {
    imbal_ctx *ctx = tu_ctx();
    imbal_image cur = {0}, next = {0};
    cr_assert_eq(imbal_image_alloc(ctx, w, h, 3, &cur), IMBAL_OK);
    memcpy(cur.data, src, (size_t)w * h * 3);
#define STEP(call)                                                                                 \
    do {                                                                                           \
        cr_assert_eq((call), IMBAL_OK, "%s", imbal_ctx_error(ctx));                                \
        imbal_image_free(&cur);                                                                    \
        cur = next, next = (imbal_image){0};                                                       \
    } while (0)
    if (p->geometry == IMBAL_AUG_GEOM_CROP)
        STEP(imbal_aug_crop(ctx, &cur, q->top, q->left, q->height, q->width, p->pad, p->pad_mode,
                            p->pad_fill, &next));
    if (q->flip) STEP(imbal_aug_hflip(ctx, &cur, &next));
    if (q->angle != 0.0f) STEP(imbal_aug_rotate(ctx, &cur, q->angle, p->rotate_fill, &next));
    for (int j = 0; j < q->num_jitter; ++j) {
        switch (q->order[j]) {
        case 0:
            STEP(imbal_aug_brightness(ctx, &cur, q->brightness, &next));
            break;
        case 1:
            STEP(imbal_aug_contrast(ctx, &cur, q->contrast, &next));
            break;
        case 2:
            STEP(imbal_aug_saturation(ctx, &cur, q->saturation, &next));
            break;
        default:
            STEP(imbal_aug_hue(ctx, &cur, q->hue, &next));
        }
    }
#undef STEP
    *out = cur;
    imbal_ctx_destroy(ctx);
}

static void twin_vs_functional(const char *spec, int h, int w, int max_diff) {
    enum { N = 40 };
    imbal_aug_pipeline p = parse_ok(spec);
    float strength[3] = {0.5f, 1.0f, 2.5f};
    p.class_strength = strength, p.num_classes = 3;
    uint8_t *imgs = random_images(N, h, w, 7);
    int64_t keys[N];
    int32_t labels[N];
    for (int i = 0; i < N; ++i)
        keys[i] = 31 * i + 5, labels[i] = i % 3;
    uint8_t *out = run_cpu(&p, imgs, N, h, w, keys, labels, 2, 1);
    const size_t per = (size_t)p.out_height * p.out_width * 3;
    int64_t off = 0;
    for (int i = 0; i < N; ++i) {
        imbal_aug_params q;
        imbal_aug_draw(&p, h, w, SEED, 2, keys[i], labels[i], &q);
        imbal_image ref;
        reference(&p, &q, imgs + (size_t)i * h * w * 3, h, w, &ref);
        cr_assert_eq(ref.width, p.out_width);
        cr_assert_eq(ref.height, p.out_height);
        for (size_t k = 0; k < per; ++k) {
            int d = abs((int)ref.data[k] - (int)out[per * i + k]);
            cr_assert_leq(d, max_diff, "%s: image %d byte %zu: twin %d, functional ops %d", spec, i,
                          k, out[per * i + k], ref.data[k]);
            off += d != 0;
        }
        imbal_image_free(&ref);
    }
    cr_log_info("%s: %lld of %zu bytes differ from the functional ops", spec, (long long)off,
                per * N);
    free(out);
    free(imgs);
}

Test(pipeline, twin_equals_functional_ops_crop_flip_exact) {
    twin_vs_functional("crop=24x20:pad=4,flip", 21, 23, 0);
    twin_vs_functional("crop=16:pad=5:mode=reflect:fill=9,flip=0.7", 21, 23, 0);
    twin_vs_functional("crop=30:pad=6:mode=constant:fill=200,flip", 21, 23, 0);
}

Test(pipeline, twin_equals_functional_ops_full_chain) {
    twin_vs_functional("crop=24x20:pad=4:mode=edge,flip,rotate=25:fill=10/20/30,"
                       "jitter=0.5/0.5/0.5/0.2",
                       21, 23, 0);
    twin_vs_functional("size=21x23,rotate=40,jitter=0.8/0.8/0.8/0.5", 21, 23, 0);
}

Test(pipeline, class_strength_scales_rotation_and_jitter) {
    imbal_aug_pipeline p = parse_ok("crop=16:pad=2,flip,rotate=10,jitter=0.4/0.4/0.4/0.3");
    float strength[3] = {0.0f, 1.0f, 2.0f};
    imbal_aug_pipeline ps = p;
    ps.class_strength = strength, ps.num_classes = 3;
    for (int64_t key = 0; key < 100; ++key) {
        imbal_aug_params a, zero, one, two;
        imbal_aug_draw(&p, 16, 16, SEED, 0, key, 0, &a);
        imbal_aug_draw(&ps, 16, 16, SEED, 0, key, 0, &zero);
        imbal_aug_draw(&ps, 16, 16, SEED, 0, key, 1, &one);
        imbal_aug_draw(&ps, 16, 16, SEED, 0, key, 2, &two);
        cr_assert(params_equal(&a, &one), "strength 1 = no strength");
        cr_assert_eq(zero.angle, 0.0f);
        cr_assert_eq(zero.num_jitter, 0);
        cr_assert_eq(zero.brightness, 1.0f);
        cr_assert_eq(zero.hue, 0.0f);
        cr_assert_eq(zero.top, a.top, "geometry does not scale");
        cr_assert_eq(zero.flip, a.flip);
        cr_assert_float_eq(two.angle, 2.0f * a.angle, 1e-5, "key %lld", (long long)key);
        cr_assert(two.hue >= -0.5f && two.hue <= 0.5f, "hue capped at 0.5");
        cr_assert(two.brightness >= 0.2f && two.brightness <= 1.8f);
    }
    /* multiplier 0: the output is the crop + flip alone */
    enum { N = 6 };
    uint8_t *imgs = random_images(N, 16, 16, 3);
    int64_t keys[N] = {0, 1, 2, 3, 4, 5};
    int32_t zeros[N] = {0};
    imbal_aug_pipeline geo = parse_ok("crop=16:pad=2,flip");
    uint8_t *a = run_cpu(&ps, imgs, N, 16, 16, keys, zeros, 1, 1);
    uint8_t *b = run_cpu(&geo, imgs, N, 16, 16, keys, NULL, 1, 1);
    cr_assert_eq(memcmp(a, b, (size_t)N * 16 * 16 * 3), 0);
    free(a);
    free(b);
    free(imgs);
}

Test(pipeline, resized_crop_box_follows_torchvision_rules) {
    imbal_aug_pipeline p = parse_ok("rrc=24:scale=0.2-0.9:ratio=0.6-1.7");
    const int H = 40, W = 57;
    int fallback = 0;
    for (int64_t key = 0; key < 2000; ++key) {
        imbal_aug_params q;
        imbal_aug_draw(&p, H, W, SEED, 0, key, 0, &q);
        cr_assert(q.height >= 1 && q.width >= 1 && q.top >= 0 && q.left >= 0 &&
                      q.top + q.height <= H && q.left + q.width <= W,
                  "box %d,%d %dx%d", q.top, q.left, q.height, q.width);
        double area = (double)q.height * q.width / (H * W), r = (double)q.width / q.height;
        /* rounding w and h to integers moves area and ratio a little */
        double tol_a = ((double)q.height + q.width + 1) / (H * W);
        int in_range = area >= 0.2 - tol_a && area <= 0.9 + tol_a &&
                       r >= 0.6 * (1 - 1.0 / q.height) - 1.0 / q.height &&
                       r <= 1.7 * (1 + 1.0 / q.height) + 1.0 / q.height;
        cr_assert(in_range, "key %lld: box %dx%d area %g ratio %g", (long long)key, q.height,
                  q.width, area, r);
        cr_assert_eq(q.flip, 0);
    }
    /* an impossible range forces the fallback: central crop, aspect clamped to the range */
    imbal_aug_pipeline f = parse_ok("rrc=8:scale=1-1:ratio=3-4");
    imbal_aug_params q;
    imbal_aug_draw(&f, 30, 40, SEED, 0, 1, 0, &q);
    /* in_ratio 4/3 < 3: w = 40, h = round(40 / 3) = 13, centred */
    cr_assert_eq(q.width, 40);
    cr_assert_eq(q.height, 13);
    cr_assert_eq(q.top, (30 - 13) / 2);
    cr_assert_eq(q.left, 0);
    fallback = 1;
    cr_assert(fallback);
    imbal_aug_pipeline g = parse_ok("rrc=8:scale=1-1:ratio=0.25-0.3");
    imbal_aug_draw(&g, 30, 40, SEED, 0, 1, 0, &q);
    /* in_ratio 4/3 > 0.3: h = 30, w = round(30 * 0.3) = 9 */
    cr_assert_eq(q.height, 30);
    cr_assert_eq(q.width, 9);
    cr_assert_eq(q.left, (40 - 9) / 2);
    /* scale 1, ratio 1 on a square: the whole image */
    imbal_aug_pipeline whole = parse_ok("rrc=8:scale=1-1:ratio=1-1");
    imbal_aug_draw(&whole, 20, 20, SEED, 0, 9, 0, &q);
    cr_assert(q.top == 0 && q.left == 0 && q.height == 20 && q.width == 20);
}

Test(pipeline, resized_crop_of_whole_image_at_same_size_is_identity) {
    imbal_aug_pipeline p = parse_ok("rrc=20:scale=1-1:ratio=1-1");
    uint8_t *imgs = random_images(2, 20, 20, 9);
    int64_t keys[2] = {0, 1};
    uint8_t *out = run_cpu(&p, imgs, 2, 20, 20, keys, NULL, 1, 1);
    cr_assert_eq(memcmp(out, imgs, 2 * 20 * 20 * 3), 0);
    free(out);
    free(imgs);
}

Test(pipeline, outputs_u8_f32_bf16_agree) {
    imbal_aug_pipeline p = parse_ok("crop=16:pad=3,flip,rotate=15,jitter=0.4/0.4/0.4/0.1,"
                                    "normalize=0.4/0.5/0.6/0.2/0.25/0.3");
    enum { N = 10, H = 18, W = 17 };
    uint8_t *imgs = random_images(N, H, W, 11);
    int64_t keys[N];
    for (int i = 0; i < N; ++i)
        keys[i] = i * 3;
    imbal_aug_pipeline pu = p, pb = p;
    pu.output = IMBAL_AUG_OUT_U8_NHWC;
    pb.output = IMBAL_AUG_OUT_BF16_NCHW;
    uint8_t *u8 = run_cpu(&pu, imgs, N, H, W, keys, NULL, 2, 1);
    float *f32 = (float *)run_cpu(&p, imgs, N, H, W, keys, NULL, 2, 4);
    uint16_t *bf = (uint16_t *)run_cpu(&pb, imgs, N, H, W, keys, NULL, 2, 2);
    const int npx = 16 * 16;
    for (int i = 0; i < N; ++i)
        for (int k = 0; k < npx; ++k)
            for (int c = 0; c < 3; ++c) {
                uint8_t v = u8[((size_t)i * npx + k) * 3 + c];
                float want = ((float)v / 255.0f - p.mean[c]) / p.std[c];
                size_t at = (size_t)i * 3 * npx + (size_t)c * npx + k;
                cr_assert_eq(f32[at], want, "image %d pixel %d channel %d", i, k, c);
                cr_assert_eq(bf[at], imbal_f32_to_bf16(want));
            }
    free(u8);
    free(f32);
    free(bf);
    free(imgs);
}

/* RandomResizedCrop's deterministic part (the box resized bilinearly, rounded to uint8) against
 * torchvision's F.resized_crop(antialias=False) on fixed boxes (tests/data/pipeline). */
Test(pipeline, resized_crop_sampling_matches_torchvision) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor src;
    cr_assert_eq(imbal_npy_read(ctx, IMBAL_TEST_DATA_DIR "/augment/img_32x32.npy", &src), IMBAL_OK,
                 "%s", imbal_ctx_error(ctx));
    char *cases = tu_read_file(IMBAL_TEST_DATA_DIR "/pipeline/rrc_cases.txt", NULL);
    cr_assert(cases);
    const char *c = cases;
    int k = 0, i, j, h, w, oh, ow, used;
    while (sscanf(c, "%d %d %d %d %d %d%n", &i, &j, &h, &w, &oh, &ow, &used) == 6) {
        c += used;
        char path[512];
        snprintf(path, sizeof path, IMBAL_TEST_DATA_DIR "/pipeline/rrc_%d.npy", k);
        imbal_tensor ref;
        cr_assert_eq(imbal_npy_read(ctx, path, &ref), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        cr_assert(ref.shape[0] == oh && ref.shape[1] == ow && ref.shape[2] == 3);
        imbal_aug_pipeline p;
        imbal_aug_pipeline_default(&p);
        p.geometry = IMBAL_AUG_GEOM_RESIZED_CROP, p.out_height = oh, p.out_width = ow;
        imbal_aug_params q = {.top = i,
                              .left = j,
                              .height = h,
                              .width = w,
                              .brightness = 1,
                              .contrast = 1,
                              .saturation = 1};
        imbal_aug_plan pl;
        imbal_aug_plan_make(&p, &q, 32, 32, &pl);
        int differ = 0, maxd = 0, first = -1;
        for (int y = 0; y < oh; ++y)
            for (int x = 0; x < ow; ++x) {
                uint8_t rgb[3];
                imbal_px_geometry(&pl, src.data, y, x, rgb);
                for (int ch = 0; ch < 3; ++ch) {
                    int d = abs((int)rgb[ch] - (int)((uint8_t *)ref.data)[(y * ow + x) * 3 + ch]);
                    if (d && first < 0) first = (y * ow + x) * 3 + ch;
                    differ += d != 0, maxd = d > maxd ? d : maxd;
                }
            }
        cr_assert_eq(differ, 0, "box %d,%d %dx%d -> %dx%d: %d bytes differ (max %d, first %d)", i,
                     j, h, w, oh, ow, differ, maxd, first);
        imbal_tensor_free(&ref);
        ++k;
    }
    cr_assert_eq(k, 16, "sixteen cases read");
    free(cases);
    imbal_tensor_free(&src);
    imbal_ctx_destroy(ctx);
}
