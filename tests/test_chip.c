/* Chipping: the tile geometry by hand, and imbal_chip_dataset on a small ImageFolder whose pixels
 * encode their position (R = x, G = y, B = source id), so every chip can be checked against the
 * source window at its manifest offset. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

static void expect_offsets(int length, int size, int overlap, double min_cover, const int *want,
                           int n) {
    int got[64];
    int count = imbal_chip_offsets(length, size, overlap, min_cover, got, 64);
    cr_assert_eq(count, n, "L=%d S=%d O=%d F=%g: %d tiles, want %d", length, size, overlap,
                 min_cover, count, n);
    cr_assert_eq(imbal_chip_offsets(length, size, overlap, min_cover, NULL, 0), n);
    for (int i = 0; i < n; ++i)
        cr_assert_eq(got[i], want[i], "L=%d S=%d O=%d: offset %d is %d, want %d", length, size,
                     overlap, i, got[i], want[i]);
}

Test(chip, offsets_by_hand) {
    expect_offsets(100, 32, 0, 0.0, (int[]){0, 32, 64, 68}, 4);
    expect_offsets(64, 32, 0, 0.0, (int[]){0, 32}, 2);
    expect_offsets(32, 32, 0, 0.0, (int[]){0}, 1);
    expect_offsets(31, 32, 0, 0.0, NULL, 0);
    expect_offsets(0, 32, 0, 0.0, NULL, 0);
    /* O = 8: stride 24; 0, 24, 48 (48 + 32 = 80 < 100), then the edge tile at 68 */
    expect_offsets(100, 32, 8, 0.0, (int[]){0, 24, 48, 68}, 4);
    /* the edge tile at 68 leaves 100 - 80 = 20 of its 32 columns uncovered: 0.625 */
    expect_offsets(100, 32, 8, 0.625, (int[]){0, 24, 48, 68}, 4);
    expect_offsets(100, 32, 8, 0.63, (int[]){0, 24, 48}, 3);
    /* O = 0, L = 100: the edge tile adds 4 new columns of 32 (0.125) */
    expect_offsets(100, 32, 0, 0.5, (int[]){0, 32, 64}, 3);
    /* a tile that ends exactly at the edge is not shifted: all of it is new, kept even at F = 1 */
    expect_offsets(64, 32, 0, 1.0, (int[]){0, 32}, 2);
    /* the shifted edge tile at 8 adds 8 of 32 columns; a single tile is always kept */
    expect_offsets(40, 32, 0, 0.0, (int[]){0, 8}, 2);
    expect_offsets(40, 32, 0, 0.25, (int[]){0, 8}, 2);
    expect_offsets(40, 32, 0, 0.26, (int[]){0}, 1);
    expect_offsets(32, 32, 0, 1.0, (int[]){0}, 1);
    expect_offsets(40, 32, 31, 0.0, (int[]){0, 1, 2, 3, 4, 5, 6, 7, 8}, 9);
    /* max_offsets bounds the writes, not the count */
    int few[2] = {-7, -7}, one[1];
    cr_assert_eq(imbal_chip_offsets(100, 32, 0, 0.0, few, 1), 4);
    cr_assert_eq(few[0], 0);
    cr_assert_eq(few[1], -7);
    cr_assert_eq(imbal_chip_offsets(100, 32, 0, 0.0, one, 1), 4);
}

Test(chip, offsets_bad_arguments) {
    int o[8];
    cr_assert_eq(imbal_chip_offsets(100, 0, 0, 0.0, o, 8), -1);
    cr_assert_eq(imbal_chip_offsets(100, 32, -1, 0.0, o, 8), -1);
    cr_assert_eq(imbal_chip_offsets(100, 32, 32, 0.0, o, 8), -1);
    cr_assert_eq(imbal_chip_offsets(100, 32, 0, -0.1, o, 8), -1);
    cr_assert_eq(imbal_chip_offsets(100, 32, 0, 1.5, o, 8), -1);
    cr_assert_eq(imbal_chip_offsets(100, 32, 0, NAN, o, 8), -1);
    cr_assert_eq(imbal_chip_offsets(-1, 32, 0, 0.0, o, 8), -1);
    cr_assert_eq(imbal_chip_offsets(100, 32, 0, 0.0, o, -1), -1);
    /* near INT_MAX: no overflow */
    cr_assert_eq(imbal_chip_offsets(2147483647, 1 << 30, 0, 0.0, o, 8), 2);
    cr_assert_eq(o[1], 2147483647 - (1 << 30));
}

/* ---- imbal_chip_dataset ---------------------------------------------------------------------- */

static char *dir, *src_dir, *out_dir;

static int file_exists(const char *path) {
    char *text = tu_read_file(path, NULL);
    int found = text != NULL;
    free(text);
    return found;
}

/* width x height PNG with R = x, G = y, B = id. */
static void write_source(const char *rel, int width, int height, int id) {
    imbal_image img;
    cr_assert_eq(imbal_image_alloc(NULL, width, height, 3, &img), IMBAL_OK);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) {
            uint8_t *p = img.data + ((size_t)y * width + x) * 3;
            p[0] = (uint8_t)x, p[1] = (uint8_t)y, p[2] = (uint8_t)id;
        }
    char *path = tu_join(src_dir, rel);
    tu_touch(path); /* parent directories */
    cr_assert_eq(imbal_image_write_png(NULL, &img, path), IMBAL_OK);
    free(path);
    imbal_image_free(&img);
}

static void setup(void) {
    dir = tu_mkdtemp();
    src_dir = tu_join(dir, "src");
    out_dir = tu_join(dir, "out");
    write_source("cat/big.png", 100, 70, 1); /* x: 0,32,64,68; y: 0,32,38 -> 12 chips */
    write_source("cat/sq.png", 64, 64, 2);   /* 2 x 2 */
    write_source("dog/tiny.png", 20, 50, 3); /* too small */
    write_source("dog/a/x.png", 40, 32, 4);  /* x: 0,8; y: 0 -> 2; stem x shared ... */
    write_source("dog/b/x.png", 32, 32, 5);  /* ... with this one -> x_<index> */
}

static void teardown(void) {
    tu_rmtree(dir);
    free(dir), free(src_dir), free(out_dir);
}

TestSuite(chip_dataset, .init = setup, .fini = teardown);

static imbal_dataset *open_src(imbal_ctx *ctx) {
    imbal_dataset *ds = NULL;
    cr_assert_eq(imbal_dataset_open(ctx, src_dir, 0, &ds), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    return ds;
}

static imbal_chip_config config(int size, int overlap) {
    imbal_chip_config cfg;
    imbal_chip_config_default(&cfg);
    cfg.size = size, cfg.overlap = overlap;
    return cfg;
}

/* Each chip of the manifest equals the source window at its offset. Returns the chip count. */
static int64_t check_chips(imbal_ctx *ctx, const imbal_dataset *src, int size) {
    char *manifest = tu_join(out_dir, "manifest.csv");
    char *text = tu_read_file(manifest, NULL);
    cr_assert_not_null(text);
    cr_assert(strncmp(text, "path,label,source,x,y,width,height\n", 35) == 0, "%s", text);
    free(text);
    imbal_dataset *chips = NULL;
    cr_assert_eq(imbal_dataset_open(ctx, manifest, 0, &chips), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    /* the fields after label, row by row, in manifest order */
    FILE *fp = fopen(manifest, "r");
    char line[1024];
    cr_assert_not_null(fgets(line, sizeof line, fp));
    int64_t n = imbal_dataset_size(chips);
    for (int64_t i = 0; i < n; ++i) {
        char path[256], label[64], source[256];
        int x, y, w, h;
        cr_assert_not_null(fgets(line, sizeof line, fp));
        cr_assert_eq(sscanf(line, "%255[^,],%63[^,],%255[^,],%d,%d,%d,%d", path, label, source, &x,
                            &y, &w, &h),
                     7, "%s", line);
        cr_assert_str_eq(imbal_dataset_path(chips, i), path);
        cr_assert_str_eq(imbal_dataset_class_name(chips, imbal_dataset_labels(chips)[i]), label);
        cr_assert_eq(w, size);
        cr_assert_eq(h, size);
        /* the source's class is the chip's label */
        int64_t s = -1;
        for (int64_t k = 0; k < imbal_dataset_size(src); ++k)
            if (strcmp(imbal_dataset_path(src, k), source) == 0) s = k;
        cr_assert_geq(s, 0, "source '%s' not in the dataset", source);
        cr_assert_str_eq(imbal_dataset_class_name(src, imbal_dataset_labels(src)[s]), label);
        char *chip_path = tu_join(out_dir, path);
        imbal_image img;
        cr_assert_eq(imbal_image_load(ctx, chip_path, NULL, &img), IMBAL_OK, "%s",
                     imbal_ctx_error(ctx));
        free(chip_path);
        cr_assert_eq(img.width, size);
        cr_assert_eq(img.height, size);
        int id = -1;
        for (int yy = 0; yy < size; ++yy)
            for (int xx = 0; xx < size; ++xx) {
                const uint8_t *p = img.data + ((size_t)yy * size + xx) * 3;
                cr_assert_eq(p[0], x + xx, "%s (%d,%d)", path, xx, yy);
                cr_assert_eq(p[1], y + yy, "%s (%d,%d)", path, xx, yy);
                if (id < 0) id = p[2];
                cr_assert_eq(p[2], id);
            }
        imbal_image_free(&img);
    }
    cr_assert_null(fgets(line, sizeof line, fp), "extra manifest row: %s", line);
    fclose(fp);
    imbal_dataset_destroy(chips);
    free(manifest);
    return n;
}

Test(chip_dataset, chips_equal_their_source_windows) {
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds = open_src(ctx);
    imbal_chip_config cfg = config(32, 0);
    imbal_chip_stats st;
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, &st), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(st.sources, 5);
    cr_assert_eq(st.chips, 12 + 4 + 2 + 1);
    cr_assert_eq(st.too_small, 1);
    cr_assert_eq(st.bad, 0);
    cr_assert_eq(check_chips(ctx, ds, 32), 19);
    /* names: dataset order dog/a/x.png (index 2), dog/b/x.png (3) share the stem x */
    int64_t ia = -1, ib = -1;
    for (int64_t k = 0; k < imbal_dataset_size(ds); ++k) {
        if (strcmp(imbal_dataset_path(ds, k), "dog/a/x.png") == 0) ia = k;
        if (strcmp(imbal_dataset_path(ds, k), "dog/b/x.png") == 0) ib = k;
    }
    char rel[64];
    snprintf(rel, sizeof rel, "dog/x_%lld_y0_x8.png", (long long)ia);
    char *p = tu_join(out_dir, rel);
    cr_assert(file_exists(p), "%s missing", rel);
    free(p);
    snprintf(rel, sizeof rel, "dog/x_%lld_y0_x0.png", (long long)ib);
    p = tu_join(out_dir, rel);
    cr_assert(file_exists(p), "%s missing", rel);
    free(p);
    p = tu_join(out_dir, "cat/big_y38_x68.png");
    cr_assert(file_exists(p));
    free(p);
    /* the manifest's first rows: dataset order, then y, then x */
    p = tu_join(out_dir, "manifest.csv");
    char *text = tu_read_file(p, NULL);
    cr_assert(strncmp(text,
                      "path,label,source,x,y,width,height\n"
                      "cat/big_y0_x0.png,cat,cat/big.png,0,0,32,32\n"
                      "cat/big_y0_x32.png,cat,cat/big.png,32,0,32,32\n",
                      35 + 44 + 46) == 0,
              "%s", text);
    free(text), free(p);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}

Test(chip_dataset, overlap_and_min_cover) {
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds = open_src(ctx);
    imbal_chip_config cfg = config(32, 8);
    cfg.min_cover = 0.7;
    imbal_chip_stats st;
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, &st), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    /* big 100x70: x 0,24,48 (edge 68 has 20/32 new), y 0,24 (edge 38 has 14/32 new) -> 6;
     * sq 64x64: 0,24 (edge 32 has 8/32 new) -> 4; x 40x32: x 0 (edge 8: 8/32) -> 1; x 32 -> 1 */
    cr_assert_eq(st.chips, 6 + 4 + 1 + 1);
    cr_assert_eq(check_chips(ctx, ds, 32), 12);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}

Test(chip_dataset, same_result_with_one_and_two_threads) {
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds = open_src(ctx);
    imbal_chip_config cfg = config(16, 4);
    char *m = tu_join(out_dir, "manifest.csv");
    imbal_chip_stats s1, s2;
    cr_assert_eq(imbal_ctx_set_threads(ctx, 1), IMBAL_OK);
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, &s1), IMBAL_OK);
    char *t1 = tu_read_file(m, NULL);
    tu_rmtree(out_dir);
    cr_assert_eq(imbal_ctx_set_threads(ctx, 2), IMBAL_OK);
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, &s2), IMBAL_OK);
    char *t2 = tu_read_file(m, NULL);
    cr_assert_str_eq(t1, t2);
    cr_assert_eq(memcmp(&s1, &s2, sizeof s1), 0);
    cr_assert_eq(check_chips(ctx, ds, 16), s2.chips);
    free(t1), free(t2), free(m);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}

static void log_count(void *user, imbal_log_level level, const char *message) {
    (void)level;
    if (strstr(message, "broken.png")) ++*(int *)user;
}

Test(chip_dataset, corrupt_source_fails_or_is_skipped) {
    char *bad = tu_join(src_dir, "cat/broken.png");
    tu_write_file(bad, "\x89PNG\r\n\x1a\n not really");
    free(bad);
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds = open_src(ctx);
    imbal_chip_config cfg = config(32, 0);
    imbal_chip_stats st;
    for (int threads = 1; threads <= 2; ++threads) {
        cr_assert_eq(imbal_ctx_set_threads(ctx, threads), IMBAL_OK);
        imbal_status s = imbal_chip_dataset(ctx, ds, &cfg, out_dir, &st);
        cr_assert_eq(s, IMBAL_ERR_FORMAT, "%s", imbal_status_string(s));
        cr_assert(strstr(imbal_ctx_error(ctx), "broken.png") != NULL, "%s", imbal_ctx_error(ctx));
        char *m = tu_join(out_dir, "manifest.csv");
        cr_assert_null(tu_read_file(m, NULL), "no manifest after a failure");
        free(m);
    }
    int logged = 0;
    imbal_ctx_set_log(ctx, log_count, &logged, IMBAL_LOG_WARN);
    cfg.skip_bad = 1;
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, &st), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(logged, 1);
    cr_assert_eq(st.bad, 1);
    cr_assert_eq(st.sources, 5);
    cr_assert_eq(st.chips, 19);
    cr_assert_eq(check_chips(ctx, ds, 32), 19);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}

Test(chip_dataset, bad_arguments_and_name_clash) {
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds = open_src(ctx);
    imbal_chip_config cfg = config(32, 32);
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "overlap 32") != NULL, "%s", imbal_ctx_error(ctx));
    cfg = config(0, 0);
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "size 0") != NULL, "%s", imbal_ctx_error(ctx));
    cfg = config(32, 0);
    cfg.min_cover = 2;
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "min_cover 2") != NULL, "%s", imbal_ctx_error(ctx));
    cfg = config(32, 0);
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, "", NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_eq(imbal_chip_dataset(ctx, NULL, &cfg, out_dir, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    /* a decompression-bomb limit below the sources' size: the error names the file */
    cfg.max_pixels = 100;
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, NULL), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "big.png") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_dataset_destroy(ds);
    cfg = config(32, 0);
    /* x_<index> equal to another source's plain stem is refused, naming both. Dataset order:
     * cat/big 0, cat/sq 1, dog/tiny 2, dog/x_4 3, dog/a/x 4 (renamed x_4: clash), dog/b/x 5 */
    write_source("dog/x_4.png", 32, 32, 6);
    ds = open_src(ctx);
    cr_assert_str_eq(imbal_dataset_path(ds, 4), "dog/a/x.png");
    cr_assert_eq(imbal_chip_dataset(ctx, ds, &cfg, out_dir, NULL), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "dog/a/x.png") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "dog/x_4.png") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}
