/* `imbal augment --op`: the command applies the library's op to a decoded image and writes a PNG
 * (or .npy for normalize) that decodes to exactly the op's output; bad parameters are usage errors
 * (exit 2) or the library's message (exit 1). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

static char *dir;
static char *src_png;

/* A 23 x 17 gradient with some structure, written as PNG through the library. */
static void setup(void) {
    dir = tu_mkdtemp();
    src_png = tu_join(dir, "in.png");
    imbal_image img;
    cr_assert_eq(imbal_image_alloc(NULL, 23, 17, 3, &img), IMBAL_OK);
    for (int y = 0; y < 17; ++y)
        for (int x = 0; x < 23; ++x) {
            uint8_t *p = img.data + (y * 23 + x) * 3;
            p[0] = (uint8_t)(11 * x), p[1] = (uint8_t)(15 * y), p[2] = (uint8_t)((x * y) % 251);
        }
    cr_assert_eq(imbal_image_write_png(NULL, &img, src_png), IMBAL_OK);
    imbal_image_free(&img);
}

static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
    free(src_png);
}

static int run(const char *args, char **err) {
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "augment --in %s %s", src_png, args);
    char *out = NULL;
    int rc = tu_run_cli(cmd, &out, err);
    free(out);
    return rc;
}

static void assert_same(const imbal_image *a, const imbal_image *b) {
    cr_assert_eq(a->width, b->width);
    cr_assert_eq(a->height, b->height);
    cr_assert_eq(memcmp(a->data, b->data, (size_t)a->width * a->height * 3), 0);
}

TestSuite(cli_augment, .init = setup, .fini = teardown);

Test(cli_augment, crop_and_rotate_write_what_the_library_computes) {
    char *out_png = tu_join(dir, "crop.png"), args[4096], *err = NULL;
    snprintf(
        args, sizeof args,
        "--out %s --op crop --top 2 --left 3 --height 20 --width 20 --pad 4 --pad-mode reflect",
        out_png);
    cr_assert_eq(run(args, &err), 0, "%s", err);
    free(err);
    imbal_image in, got, want;
    cr_assert_eq(imbal_image_load(NULL, src_png, NULL, &in), IMBAL_OK);
    cr_assert_eq(imbal_image_load(NULL, out_png, NULL, &got), IMBAL_OK);
    cr_assert_eq(imbal_aug_crop(NULL, &in, 2, 3, 20, 20, 4, IMBAL_PAD_REFLECT, 0, &want), IMBAL_OK);
    assert_same(&got, &want);
    imbal_image_free(&got), imbal_image_free(&want);

    snprintf(args, sizeof args, "--out %s --op rotate --angle 15 --fill 7", out_png);
    cr_assert_eq(run(args, &err), 0, "%s", err);
    free(err);
    const uint8_t fill[3] = {7, 7, 7};
    cr_assert_eq(imbal_image_load(NULL, out_png, NULL, &got), IMBAL_OK);
    cr_assert_eq(imbal_aug_rotate(NULL, &in, 15.0f, fill, &want), IMBAL_OK);
    assert_same(&got, &want);
    imbal_image_free(&got), imbal_image_free(&want), imbal_image_free(&in);
    free(out_png);
}

Test(cli_augment, normalize_writes_float_chw_npy) {
    char *out_npy = tu_join(dir, "n.npy"), args[4096], *err = NULL;
    snprintf(args, sizeof args, "--out %s --op normalize --mean 0.5,0.5,0.5 --std 0.25,0.5,1",
             out_npy);
    cr_assert_eq(run(args, &err), 0, "%s", err);
    free(err);
    imbal_tensor t;
    cr_assert_eq(imbal_npy_read(NULL, out_npy, &t), IMBAL_OK);
    cr_assert_eq(t.dtype, IMBAL_F32);
    cr_assert_eq(t.ndim, 3);
    cr_assert(t.shape[0] == 3 && t.shape[1] == 17 && t.shape[2] == 23);
    const float *v = t.data;
    /* pixel (y = 1, x = 2): r = 22, g = 15, b = 2 */
    cr_assert_float_eq(v[0 * 17 * 23 + 1 * 23 + 2], (22 / 255.0f - 0.5f) / 0.25f, 1e-6f);
    cr_assert_float_eq(v[1 * 17 * 23 + 1 * 23 + 2], (15 / 255.0f - 0.5f) / 0.5f, 1e-6f);
    cr_assert_float_eq(v[2 * 17 * 23 + 1 * 23 + 2], (2 / 255.0f - 0.5f) / 1.0f, 1e-6f);
    imbal_tensor_free(&t);
    free(out_npy);
}

Test(cli_augment, bad_parameters) {
    char *out = tu_join(dir, "x.png"), args[4096], *err = NULL;
    snprintf(args, sizeof args, "--out %s --op hue", out);
    cr_assert_eq(run(args, &err), 2);
    cr_assert(strstr(err, "--factor"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "--out %s --op hue --factor 0.7", out);
    cr_assert_eq(run(args, &err), 1);
    cr_assert(strstr(err, "factor 0.7 is outside"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "--out %s --op normalize", out);
    cr_assert_eq(run(args, &err), 2);
    cr_assert(strstr(err, ".npy"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "--out %s --op shear", out);
    cr_assert_eq(run(args, &err), 2);
    cr_assert(strstr(err, "'shear'"), "%s", err);
    free(err);
    FILE *f = fopen(out, "rb");
    cr_assert_null(f, "no output may be left after a failure");
    free(out);
}

/* --pipeline: K draws tiled into a grid PNG. */
static int run_grid(const char *spec, const char *extra, const char *out_png, char **err) {
    char args[4096];
    snprintf(args, sizeof args, "--pipeline '%s' --grid %s %s", spec, out_png, extra);
    return run(args, err);
}

Test(cli_augment, pipeline_grid_size_and_determinism) {
    char *a = tu_join(dir, "a.png"), *b = tu_join(dir, "b.png"), *c = tu_join(dir, "c.png"),
         *err = NULL;
    const char *spec = "crop=16x12:pad=2,flip,rotate=10,jitter=0.3/0.3/0.3/0.05,normalize=cifar10";
    cr_assert_eq(run_grid(spec, "--seed 7 --count 16", a, &err), 0, "%s", err);
    free(err);
    imbal_image ga, gb, gc;
    cr_assert_eq(imbal_image_load(NULL, a, NULL, &ga), IMBAL_OK);
    /* 4 x 4 tiles of 12 x 16 (w x h) with 2-pixel gaps */
    cr_assert_eq(ga.width, 4 * 12 + 3 * 2);
    cr_assert_eq(ga.height, 4 * 16 + 3 * 2);
    cr_assert_eq(run_grid(spec, "--seed 7 --count 16 --device cpu", b, &err), 0, "%s", err);
    free(err);
    cr_assert_eq(imbal_image_load(NULL, b, NULL, &gb), IMBAL_OK);
    assert_same(&ga, &gb);
    cr_assert_eq(run_grid(spec, "--seed 8 --count 16", c, &err), 0, "%s", err);
    free(err);
    cr_assert_eq(imbal_image_load(NULL, c, NULL, &gc), IMBAL_OK);
    cr_assert_neq(memcmp(ga.data, gc.data, (size_t)ga.width * ga.height * 3), 0,
                  "seeds 7 and 8 give the same grid");
    /* tile k is the library's draw with key k */
    imbal_image src;
    cr_assert_eq(imbal_image_load(NULL, src_png, NULL, &src), IMBAL_OK);
    imbal_aug_pipeline p;
    cr_assert_eq(imbal_aug_pipeline_parse(NULL, spec, &p), IMBAL_OK);
    p.output = IMBAL_AUG_OUT_U8_NHWC;
    uint8_t tile[16 * 12 * 3];
    int64_t key = 6;
    cr_assert_eq(imbal_augment_batch(NULL, imbal_device_cpu(), &p, src.data, 1, 17, 23, &key, NULL,
                                     7, 0, tile, NULL),
                 IMBAL_OK);
    for (int y = 0; y < 16; ++y) /* key 6: row 1, column 2 */
        cr_assert_eq(
            memcmp(ga.data + ((size_t)(18 + y) * ga.width + 28) * 3, tile + y * 12 * 3, 12 * 3), 0,
            "tile 6 row %d", y);
    imbal_image_free(&src);
    imbal_image_free(&ga);
    imbal_image_free(&gb);
    imbal_image_free(&gc);
    free(a);
    free(b);
    free(c);
}

Test(cli_augment, pipeline_grid_columns) {
    char *a = tu_join(dir, "cols.png"), *err = NULL;
    cr_assert_eq(run_grid("crop=10:pad=1,flip", "--count 5 --cols 2 --seed 1 --epoch 3", a, &err),
                 0, "%s", err);
    free(err);
    imbal_image g;
    cr_assert_eq(imbal_image_load(NULL, a, NULL, &g), IMBAL_OK);
    cr_assert_eq(g.width, 2 * 10 + 2);
    cr_assert_eq(g.height, 3 * 10 + 2 * 2);
    imbal_image_free(&g);
    free(a);
}

Test(cli_augment, pipeline_errors) {
    char *a = tu_join(dir, "e.png"), *err = NULL;
    cr_assert_eq(run_grid("crop=10:pad=1,blur=3", "", a, &err), 2);
    cr_assert(strstr(err, "step 'blur=3'"), "%s", err);
    free(err);
    cr_assert_eq(run_grid("crop=40:pad=2", "", a, &err), 1);
    cr_assert(strstr(err, "crop 40 x 40 is larger than the padded input"), "%s", err);
    free(err);
    cr_assert_eq(run("--pipeline flip", &err), 2);
    cr_assert(strstr(err, "--grid"), "%s", err);
    free(err);
    cr_assert_eq(run_grid("crop=10", "--count 0", a, &err), 2);
    free(err);
    if (imbal_cuda_device_count() == 0) {
        cr_assert_eq(run_grid("crop=10:pad=1,flip", "--device cuda", a, &err), 1);
        cr_assert(strstr(err, "CUDA") || strstr(err, "cuda"), "%s", err);
        free(err);
    }
    cr_assert_not(tu_read_file(a, NULL), "no grid is written on failure");
    free(a);
}
