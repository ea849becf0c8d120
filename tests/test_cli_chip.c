/* `imbal chip`: end to end on a small ImageFolder (chips, manifest, summary as text and JSON),
 * unreadable sources with and without --skip-bad, and usage errors naming the option. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

static char *dir, *src_dir, *out_dir;

static void write_png(const char *rel, int width, int height) {
    imbal_image img;
    cr_assert_eq(imbal_image_alloc(NULL, width, height, 3, &img), IMBAL_OK);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            uint8_t *p = img.data + ((size_t)y * width + x) * 3;
            p[0] = (uint8_t)x, p[1] = (uint8_t)y, p[2] = 9;
        }
    char *path = tu_join(src_dir, rel);
    tu_touch(path);
    cr_assert_eq(imbal_image_write_png(NULL, &img, path), IMBAL_OK);
    free(path);
    imbal_image_free(&img);
}

static void setup(void) {
    dir = tu_mkdtemp();
    src_dir = tu_join(dir, "src");
    out_dir = tu_join(dir, "out dir"); /* a space: the command line is quoted */
    write_png("cat/a.png", 50, 40);    /* size 20: x 0,20,30; y 0,20 -> 6 */
    write_png("dog/b.png", 20, 20);    /* 1 */
    write_png("dog/c.png", 10, 30);    /* too small */
}

static void teardown(void) {
    tu_rmtree(dir);
    free(dir), free(src_dir), free(out_dir);
}

TestSuite(cli_chip, .init = setup, .fini = teardown);

static int run(const char *extra, char **out, char **err) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "chip --in '%s' --out '%s' %s", src_dir, out_dir, extra);
    return tu_run_cli(cmd, out, err);
}

Test(cli_chip, writes_chips_and_a_readable_manifest) {
    char *out = NULL, *err = NULL;
    cr_assert_eq(run("--size 20 --threads 2", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "wrote 7 chips of 20x20") != NULL, "%s", out);
    cr_assert(strstr(out, "sources 3, too small 1, unreadable skipped 0") != NULL, "%s", out);
    free(out), free(err);
    char *m = tu_join(out_dir, "manifest.csv");
    imbal_dataset *ds = NULL;
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_dataset_open(ctx, m, 0, &ds), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_size(ds), 7);
    cr_assert_str_eq(imbal_dataset_path(ds, 2), "cat/a_y0_x30.png");
    cr_assert_str_eq(imbal_dataset_path(ds, 6), "dog/b_y0_x0.png");
    cr_assert_str_eq(imbal_dataset_class_name(ds, imbal_dataset_labels(ds)[6]), "dog");
    imbal_image img;
    char *chip = tu_join(out_dir, "cat/a_y20_x30.png");
    cr_assert_eq(imbal_image_load(ctx, chip, NULL, &img), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(img.width, 20);
    cr_assert_eq(img.data[0], 30);
    cr_assert_eq(img.data[1], 20);
    imbal_image_free(&img);
    free(chip);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    /* the manifest is itself a dataset for the other commands */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "stats '%s' --json", m);
    cr_assert_eq(tu_run_cli(cmd, &out, &err), 0, "%s", err);
    free(out), free(err), free(m);
}

Test(cli_chip, json_summary) {
    char *out = NULL, *err = NULL;
    cr_assert_eq(run("--size 20 --overlap 5 --min-cover 0.5 --json", &out, &err), 0, "%s", err);
    /* a 50 x 40, stride 15: x 0, 15, edge 30 (50 - 35 = 15 of 20 new: kept); y 0, 15, edge 20
     * (40 - 35 = 5 of 20 new: dropped) -> 6; b -> 1 */
    cr_assert(strstr(out, "\"sources\": 3") || strstr(out, "\"sources\":3"), "%s", out);
    cr_assert(strstr(out, "\"chips\": 7") || strstr(out, "\"chips\":7"), "%s", out);
    cr_assert(strstr(out, "\"too_small\": 1") || strstr(out, "\"too_small\":1"), "%s", out);
    cr_assert(strstr(out, "\"bad\": 0") || strstr(out, "\"bad\":0"), "%s", out);
    cr_assert_eq(out[0], '{', "%s", out);
    free(out), free(err);
}

Test(cli_chip, unreadable_source_fails_or_is_skipped) {
    char *bad = tu_join(src_dir, "dog/zz.png");
    tu_write_file(bad, "not an image");
    free(bad);
    char *out = NULL, *err = NULL;
    cr_assert_eq(run("--size 20", &out, &err), 1, "%s", out);
    cr_assert(strstr(err, "zz.png") != NULL, "%s", err);
    free(out), free(err);
    cr_assert_eq(run("--size 20 --skip-bad --json", &out, &err), 0, "%s", err);
    cr_assert(strstr(out, "\"bad\": 1") || strstr(out, "\"bad\":1"), "%s", out);
    cr_assert(strstr(err, "zz.png") != NULL, "the skip is reported: %s", err);
    free(out), free(err);
}

static void expect_usage(const char *args, const char *needle) {
    char *out = NULL, *err = NULL;
    cr_assert_eq(tu_run_cli(args, &out, &err), 2, "%s: %s", args, err);
    cr_assert(strstr(err, needle) != NULL, "%s: want '%s' in: %s", args, needle, err);
    free(out), free(err);
}

Test(cli_chip, usage_errors_name_the_option) {
    char a[4096];
    snprintf(a, sizeof a, "chip --in '%s' --out '%s' --size 16 --overlap 16", src_dir, out_dir);
    expect_usage(a, "--overlap");
    snprintf(a, sizeof a, "chip --in '%s' --out '%s' --size 0", src_dir, out_dir);
    expect_usage(a, "--size");
    snprintf(a, sizeof a, "chip --in '%s' --out '%s' --size 8 --min-cover 1.5", src_dir, out_dir);
    expect_usage(a, "--min-cover");
    snprintf(a, sizeof a, "chip --in '%s' --out '%s' --size 8 --threads 0", src_dir, out_dir);
    expect_usage(a, "--threads");
    snprintf(a, sizeof a, "chip --in '%s' --out '%s'", src_dir, out_dir);
    expect_usage(a, "--size");
    snprintf(a, sizeof a, "chip --out '%s' --size 8", out_dir);
    expect_usage(a, "--in");
    snprintf(a, sizeof a, "chip --in '%s' --size 8", src_dir);
    expect_usage(a, "--out");
    expect_usage("chip --bogus", "bogus");
    char *out = NULL, *err = NULL;
    cr_assert_eq(tu_run_cli("chip --help", &out, &err), 0);
    cr_assert(strstr(out, "--min-cover") != NULL, "%s", out);
    free(out), free(err);
    cr_assert_eq(tu_run_cli("--help", &out, &err), 0);
    cr_assert(strstr(out, "chip") != NULL, "%s", out);
    free(out), free(err);
}
