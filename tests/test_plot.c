/* Plots: the bitmap font, canvas primitives (values, clipping), axis ticks, and each chart: it
 * writes a PNG that decodes to the expected size, with pixel checks where cheap, NaN handling,
 * argument errors and atomic replacement. With IMBAL_PLOT_DOCS_DIR set, the docs' example
 * pictures (docs/img) are written there too. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

#include "imbal/imbal.h"
#include "plot_internal.h"
#include "test_util.h"

/* ---- helpers ---- */

static imbal_image load_png(const char *path) {
    imbal_image img;
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_image_load(ctx, path, NULL, &img), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return img;
}

static int px_is(const uint8_t *p, imbal_rgb c) {
    return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

static int64_t count_colour(const imbal_image *img, imbal_rgb c) {
    int64_t n = 0;
    for (int64_t i = 0; i < (int64_t)img->width * img->height; ++i)
        n += px_is(img->data + 3 * i, c);
    return n;
}

static const uint8_t *pixel(const imbal_canvas *c, int x, int y) {
    return c->rgb + 3 * ((size_t)y * (size_t)c->width + (size_t)x);
}

/* ---- font ---- */

Test(plot_font, glyph_bits_and_width) {
    const uint8_t *a = imbal_font_glyph('A');
    static const uint8_t want[8] = {0x0C, 0x1E, 0x33, 0x33, 0x3F, 0x33, 0x33, 0x00};
    cr_assert_arr_eq(a, want, 8);
    /* '0' and '~' are the table's ends of the digits and of printable ASCII */
    cr_assert_eq(imbal_font_glyph('0')[0], 0x3E);
    cr_assert_eq(imbal_font_glyph('~')[0], 0x6E);
    cr_assert_eq(imbal_font_glyph(' ')[3], 0x00);
    /* bytes outside 32..126 draw '?' */
    cr_assert_eq(imbal_font_glyph(200), imbal_font_glyph('?'));
    cr_assert_eq(imbal_font_glyph('\n'), imbal_font_glyph('?'));
    cr_assert_eq(imbal_canvas_text_width("00-disc", 1), 56);
    cr_assert_eq(imbal_canvas_text_width("ab", 2), 32);
    cr_assert_eq(imbal_canvas_text_width("", 1), 0);
    cr_assert_eq(imbal_canvas_text_width(NULL, 1), 0);
    cr_assert_eq(imbal_canvas_text_width("x", 0), 0);
}

Test(plot_font, text_pixels_match_the_glyph) {
    imbal_canvas c;
    cr_assert_eq(imbal_canvas_create(NULL, &c, 20, 12, 255, 255, 255), IMBAL_OK);
    cr_assert_eq(imbal_canvas_text(&c, 2, 1, "T", 1, 0, 0, 0, 0), 8);
    const uint8_t *g = imbal_font_glyph('T');
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
            cr_assert_eq(pixel(&c, 2 + x, 1 + y)[0], (g[y] >> x & 1) ? 0 : 255, "x %d y %d", x, y);
    imbal_canvas_free(&c);
}

Test(plot_font, vertical_text_reads_bottom_to_top) {
    imbal_canvas c;
    cr_assert_eq(imbal_canvas_create(NULL, &c, 12, 20, 255, 255, 255), IMBAL_OK);
    /* bottom-left corner (1, 18): glyph column gx lands on row 18 - gx, glyph row gy on x 1 + gy */
    cr_assert_eq(imbal_canvas_text(&c, 1, 18, "L", 1, 1, 0, 0, 0), 8);
    const uint8_t *g = imbal_font_glyph('L');
    int64_t dark = 0;
    for (int gy = 0; gy < 8; ++gy)
        for (int gx = 0; gx < 8; ++gx) {
            int on = g[gy] >> gx & 1;
            cr_assert_eq(pixel(&c, 1 + gy, 18 - gx)[0], on ? 0 : 255, "gx %d gy %d", gx, gy);
            dark += on;
        }
    int64_t total = 0;
    for (int i = 0; i < 12 * 20; ++i)
        total += c.rgb[3 * i] == 0;
    cr_assert_eq(total, dark); /* nothing drawn elsewhere */
    imbal_canvas_free(&c);
}

Test(plot_font, scaled_text_and_fit) {
    imbal_canvas c;
    cr_assert_eq(imbal_canvas_create(NULL, &c, 40, 20, 255, 255, 255), IMBAL_OK);
    cr_assert_eq(imbal_canvas_text(&c, 0, 0, "|", 2, 0, 9, 9, 9), 16);
    /* '|' row 0 is 0x18: glyph columns 3 and 4, so pixels 6..9 at scale 2 */
    for (int x = 0; x < 16; ++x)
        cr_assert_eq(pixel(&c, x, 1)[0], x >= 6 && x <= 9 ? 9 : 255);
    imbal_canvas_free(&c);
    char out[32];
    cr_assert_str_eq(imbal_plot_fit_text("00-disc", 56, 1, out, sizeof out), "00-disc");
    cr_assert_str_eq(imbal_plot_fit_text("00-disc-long", 56, 1, out, sizeof out), "00-d...");
    cr_assert_str_eq(imbal_plot_fit_text("abcdef", 16, 1, out, sizeof out), "ab");
    cr_assert_str_eq(imbal_plot_fit_text("abcdef", 0, 1, out, sizeof out), "");
}

/* ---- canvas ---- */

Test(plot_canvas, create_fill_and_line) {
    imbal_canvas c;
    cr_assert_eq(imbal_canvas_create(NULL, &c, 10, 6, 1, 2, 3), IMBAL_OK);
    cr_assert_eq(c.width, 10);
    cr_assert_eq(c.height, 6);
    cr_assert_eq(pixel(&c, 9, 5)[2], 3);
    imbal_canvas_fill_rect(&c, 2, 1, 3, 2, 200, 100, 50);
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 10; ++x) {
            int in = x >= 2 && x < 5 && y >= 1 && y < 3;
            cr_assert_eq(pixel(&c, x, y)[0], in ? 200 : 1, "x %d y %d", x, y);
        }
    /* a diagonal: exactly the 5 pixels (0,0)..(4,4) */
    imbal_canvas_fill_rect(&c, 0, 0, 10, 6, 0, 0, 0);
    imbal_canvas_line(&c, 0, 0, 4, 4, 255, 0, 0);
    int n = 0;
    for (int y = 0; y < 6; ++y)
        for (int x = 0; x < 10; ++x)
            if (pixel(&c, x, y)[0] == 255) {
                cr_assert_eq(x, y);
                ++n;
            }
    cr_assert_eq(n, 5);
    /* a shallow line reversed: endpoints included, one pixel per column */
    imbal_canvas_fill_rect(&c, 0, 0, 10, 6, 0, 0, 0);
    imbal_canvas_line(&c, 9, 5, 0, 2, 0, 255, 0);
    for (int x = 0; x < 10; ++x) {
        int in_column = 0;
        for (int y = 0; y < 6; ++y)
            in_column += pixel(&c, x, y)[1] == 255;
        cr_assert_eq(in_column, 1, "column %d", x);
    }
    cr_assert_eq(pixel(&c, 0, 2)[1], 255);
    cr_assert_eq(pixel(&c, 9, 5)[1], 255);
    imbal_canvas_free(&c);
    cr_assert_null(c.rgb);
    imbal_canvas_free(&c); /* twice is fine */
    imbal_canvas_free(NULL);
}

Test(plot_canvas, clipping_never_writes_outside) {
    /* The canvas sits inside a guard buffer; everything drawn far outside must leave the guard
     * bytes alone (ASan checks the same from the other side). */
    imbal_canvas c;
    cr_assert_eq(imbal_canvas_create(NULL, &c, 7, 5, 0, 0, 0), IMBAL_OK);
    size_t n = 7 * 5 * 3;
    uint8_t *guarded = malloc(n + 64);
    memset(guarded, 0xAB, n + 64);
    memcpy(guarded + 32, c.rgb, n);
    free(c.rgb);
    c.rgb = guarded + 32;
    imbal_canvas_fill_rect(&c, -100, -100, 1000, 1000, 9, 9, 9);
    imbal_canvas_fill_rect(&c, 5, 3, 2147483647, 2147483647, 1, 1, 1);
    imbal_canvas_fill_rect(&c, -2147483647, 0, 10, 10, 1, 1, 1);
    imbal_canvas_line(&c, -50, -20, 60, 40, 255, 255, 255);
    imbal_canvas_line(&c, -2000000000, 2, 2000000000, 2, 7, 7, 7);
    imbal_canvas_text(&c, -20, -3, "clip me", 3, 0, 5, 5, 5);
    imbal_canvas_text(&c, 4, 2, "vertical", 2, 1, 6, 6, 6);
    imbal_canvas_disc(&c, 6, 4, 10, (imbal_rgb){4, 4, 4});
    imbal_canvas_thick_line(&c, -3, 6, 9, -2, 5, (imbal_rgb){3, 3, 3});
    for (int i = 0; i < 32; ++i) {
        cr_assert_eq(guarded[i], 0xAB);
        cr_assert_eq(guarded[32 + n + i], 0xAB);
    }
    /* the full-canvas fill did cover everything inside */
    cr_assert_eq(pixel(&c, 0, 4)[0] != 0, 1);
    c.rgb = NULL;
    free(guarded);
}

Test(plot_canvas, bad_sizes) {
    imbal_ctx *ctx = tu_ctx();
    imbal_canvas c;
    cr_assert_eq(imbal_canvas_create(ctx, &c, 0, 5, 0, 0, 0), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "0 x 5") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_null(c.rgb);
    cr_assert_eq(imbal_canvas_create(ctx, &c, 5, 9000, 0, 0, 0), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "9000") != NULL);
    cr_assert_eq(imbal_canvas_create(ctx, NULL, 5, 5, 0, 0, 0), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_canvas empty = {0, 0, NULL};
    cr_assert_eq(imbal_canvas_write_png(ctx, &empty, "x.png"), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "x.png") != NULL);
    imbal_ctx_destroy(ctx);
}

Test(plot_canvas, png_round_trip_and_atomic_failure) {
    char *dir = tu_mkdtemp();
    char *path = tu_join(dir, "c.png");
    imbal_ctx *ctx = tu_ctx();
    imbal_canvas c;
    cr_assert_eq(imbal_canvas_create(ctx, &c, 9, 4, 10, 20, 30), IMBAL_OK);
    imbal_canvas_fill_rect(&c, 8, 3, 1, 1, 250, 0, 0);
    cr_assert_eq(imbal_canvas_write_png(ctx, &c, path), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_image img = load_png(path);
    cr_assert_eq(img.width, 9);
    cr_assert_eq(img.height, 4);
    cr_assert_arr_eq(img.data, c.rgb, 9 * 4 * 3);
    imbal_image_free(&img);
    /* A missing directory: the error names the path. */
    char *bad = tu_join(dir, "no/such/dir/c.png");
    cr_assert_eq(imbal_canvas_write_png(ctx, &c, bad), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), "no/such/dir/c.png") != NULL, "%s",
              imbal_ctx_error(ctx));
    imbal_canvas_free(&c);
    free(bad);
    free(path);
    tu_rmtree(dir);
    free(dir);
    imbal_ctx_destroy(ctx);
}

/* ---- axes ---- */

Test(plot_axes, nice_linear_ticks) {
    imbal_axis a;
    imbal_axis_linear(&a, 0, 1, 6);
    cr_assert_eq(a.n_ticks, 6);
    cr_assert_float_eq(a.ticks[1], 0.2, 1e-12);
    cr_assert_str_eq(a.labels[1], "0.2");
    cr_assert_str_eq(a.labels[5], "1.0");
    imbal_axis_linear(&a, 0.13, 9.4, 6); /* step 2: 0..10 */
    cr_assert_float_eq(a.lo, 0, 1e-12);
    cr_assert_float_eq(a.hi, 10, 1e-12);
    cr_assert_str_eq(a.labels[1], "2");
    imbal_axis_linear(&a, -37, 12, 6); /* step 10 (49 / 5 = 9.8) */
    cr_assert_float_eq(a.lo, -40, 1e-12);
    cr_assert_float_eq(a.hi, 20, 1e-12);
    cr_assert_str_eq(a.labels[4], "0");
    imbal_axis_linear(&a, 5, 5, 6); /* a flat series still gets a range */
    cr_assert(a.lo < 5 && a.hi > 5);
    imbal_axis_linear(&a, NAN, 1, 6);
    cr_assert(a.n_ticks >= 2);
    cr_assert_float_eq(imbal_axis_map(&a, a.lo, 10, 110), 10, 1e-9);
    cr_assert_float_eq(imbal_axis_map(&a, a.hi, 10, 110), 110, 1e-9);
}

Test(plot_axes, log_ticks) {
    imbal_axis a;
    imbal_axis_log10(&a, 7, 5000);
    cr_assert_eq(a.n_ticks, 5); /* widened to whole decades: 1 .. 10000 */
    cr_assert_str_eq(a.labels[0], "1");
    cr_assert_str_eq(a.labels[4], "10000");
    imbal_axis_log10(&a, 20, 60); /* within one decade: 1-2-5 minor ticks */
    cr_assert_str_eq(a.labels[0], "10");
    cr_assert_str_eq(a.labels[1], "20");
    cr_assert_str_eq(a.labels[2], "50");
    cr_assert_str_eq(a.labels[3], "100");
    cr_assert_float_eq(imbal_axis_map(&a, 10, 0, 100), 0, 1e-9);
    cr_assert_float_eq(imbal_axis_map(&a, 100, 0, 100), 100, 1e-9);
}

/* ---- charts ---- */

typedef struct tmp {
    char *dir, *path;
    imbal_ctx *ctx;
} tmp;

static tmp tmp_open(const char *name) {
    tmp t;
    t.dir = tu_mkdtemp();
    t.path = tu_join(t.dir, name);
    t.ctx = tu_ctx();
    return t;
}

static void tmp_close(tmp *t) {
    tu_rmtree(t->dir);
    free(t->dir);
    free(t->path);
    imbal_ctx_destroy(t->ctx);
}

#define ERR_HAS(t, s)                                                                              \
    cr_assert(strstr(imbal_ctx_error((t).ctx), s) != NULL, "%s", imbal_ctx_error((t).ctx))

/* The first pixel of colour c in raster order; returns 0 if none. */
static int find_first(const imbal_image *img, imbal_rgb c, int *x, int *y) {
    for (int yy = 0; yy < img->height; ++yy)
        for (int xx = 0; xx < img->width; ++xx)
            if (px_is(img->data + 3 * ((size_t)yy * img->width + xx), c)) {
                *x = xx, *y = yy;
                return 1;
            }
    return 0;
}

static const uint8_t *img_px(const imbal_image *img, int x, int y) {
    return img->data + 3 * ((size_t)y * img->width + x);
}

Test(plot_confusion, identity_diagonal_is_the_colour_map_max) {
    tmp t = tmp_open("cm.png");
    static const char *names[] = {"00-disc", "01-ring", "02-cross"};
    int64_t cm[9] = {7, 0, 0, 0, 3, 0, 0, 0, 1};
    imbal_rgb hi = imbal_colormap_viridis(1), lo = imbal_colormap_viridis(0);
    cr_assert(px_is((uint8_t[]){253, 231, 37}, hi));
    for (int normalize = 0; normalize <= 1; ++normalize) {
        if (normalize) /* row fractions: every diagonal is 1.0 however many samples */
            ;
        else
            cm[4] = cm[8] = 7; /* counts: the diagonal is the max count */
        cr_assert_eq(imbal_plot_confusion(t.ctx, t.path, 3, cm, names, normalize, "Confusion"),
                     IMBAL_OK, "%s", imbal_ctx_error(t.ctx));
        imbal_image img = load_png(t.path);
        cr_assert(img.width >= 3 * 28 && img.height >= 3 * 28);
        int x, y;
        cr_assert(find_first(&img, hi, &x, &y)); /* cell (0, 0)'s top-left corner */
        int cell = 0;
        while (px_is(img_px(&img, x + cell, y), hi))
            ++cell;
        cr_assert_geq(cell, 28);
        for (int r = 0; r < 3; ++r)
            for (int k = 0; k < 3; ++k) {
                const uint8_t *p = img_px(&img, x + k * cell + 1, y + r * cell + 1);
                cr_assert(px_is(p, r == k ? hi : lo), "cell %d %d: %d %d %d", r, k, p[0], p[1],
                          p[2]);
            }
        /* the cell's value is written in black on the bright yellow: some black inside cell 0 */
        int64_t black = 0;
        for (int yy = y; yy < y + cell; ++yy)
            for (int xx = x; xx < x + cell; ++xx)
                black += px_is(img_px(&img, xx, yy), (imbal_rgb){0, 0, 0});
        cr_assert_gt(black, 10);
        imbal_image_free(&img);
    }
    tmp_close(&t);
}

Test(plot_confusion, empty_rows_large_c_and_no_names) {
    tmp t = tmp_open("cm.png");
    int64_t cm[4] = {0, 0, 2, 5}; /* class 0 has no samples */
    cr_assert_eq(imbal_plot_confusion(t.ctx, t.path, 2, cm, NULL, 1, NULL), IMBAL_OK);
    imbal_image img = load_png(t.path);
    cr_assert_gt(count_colour(&img, (imbal_rgb){240, 240, 240}), 2 * 28 * 28 - 1);
    imbal_image_free(&img);
    int n = 60; /* > 50: colours only */
    int64_t *big = calloc((size_t)n * n, sizeof *big);
    for (int i = 0; i < n; ++i)
        big[i * n + i] = 10 + i;
    cr_assert_eq(imbal_plot_confusion(t.ctx, t.path, n, big, NULL, 0, "sixty"), IMBAL_OK);
    img = load_png(t.path);
    cr_assert_geq(img.width, n * 16);
    cr_assert_gt(count_colour(&img, imbal_colormap_viridis(1)), 16 * 16 - 1);
    imbal_image_free(&img);
    free(big);
    tmp_close(&t);
}

Test(plot_confusion, errors) {
    tmp t = tmp_open("cm.png");
    int64_t cm[4] = {1, 2, 3, 4};
    cr_assert_eq(imbal_plot_confusion(t.ctx, t.path, 0, cm, NULL, 0, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "num_classes 0");
    cr_assert_eq(imbal_plot_confusion(t.ctx, t.path, 2, NULL, NULL, 0, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "confusion is NULL");
    cm[2] = -3;
    cr_assert_eq(imbal_plot_confusion(t.ctx, t.path, 2, cm, NULL, 0, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "confusion[1][0] = -3");
    cm[2] = 3;
    cr_assert_eq(imbal_plot_confusion(t.ctx, NULL, 2, cm, NULL, 0, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    char *bad = tu_join(t.dir, "missing/cm.png");
    cr_assert_eq(imbal_plot_confusion(t.ctx, bad, 2, cm, NULL, 0, NULL), IMBAL_ERR_IO);
    ERR_HAS(t, "missing/cm.png");
    free(bad);
    tmp_close(&t);
}

Test(plot_confusion, a_failed_write_leaves_the_old_file) {
    tmp t = tmp_open("cm.png");
    int64_t cm[4] = {1, 2, 3, 4};
    cr_assert_eq(imbal_plot_confusion(t.ctx, t.path, 2, cm, NULL, 0, "old"), IMBAL_OK);
    size_t n0, n1;
    char *before = tu_read_file(t.path, &n0);
    cm[3] = -1; /* refused before anything is written */
    cr_assert_neq(imbal_plot_confusion(t.ctx, t.path, 2, cm, NULL, 0, "new"), IMBAL_OK);
    char *after = tu_read_file(t.path, &n1);
    cr_assert_eq(n0, n1);
    cr_assert_arr_eq(before, after, n0);
    free(after);
    /* a path under the old file (not a directory) fails at open: the old file stays too */
    char *under = tu_join(t.path, "x.png");
    cm[3] = 4;
    cr_assert_eq(imbal_plot_confusion(t.ctx, under, 2, cm, NULL, 0, "new"), IMBAL_ERR_IO);
    ERR_HAS(t, "cm.png/x.png");
    after = tu_read_file(t.path, &n1);
    cr_assert_eq(n0, n1);
    cr_assert_arr_eq(before, after, n0);
    /* and no temporary file is left beside it */
    DIR *d = opendir(t.dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(entries, 1);
    free(under);
    free(after);
    free(before);
    tmp_close(&t);
}

Test(plot_lines, series_nan_gaps_and_legend) {
    tmp t = tmp_open("lines.png");
    double x[6] = {1, 2, 3, 4, 5, 6};
    double a[6] = {2.3, 1.7, NAN, 1.1, 0.9, 0.8};
    double b[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    const double *y[2] = {a, b};
    const char *names[2] = {"train loss", "val loss"};
    cr_assert_eq(imbal_plot_lines(t.ctx, t.path, "Loss", "epoch", "loss", 6, x, 2, y, names),
                 IMBAL_OK, "%s", imbal_ctx_error(t.ctx));
    imbal_image img = load_png(t.path);
    cr_assert_gt(img.width, 560);
    cr_assert_gt(img.height, 340);
    /* the all-NaN series only shows in the legend: its 18 x 2 sample line */
    cr_assert_eq(count_colour(&img, imbal_palette_tab10(1)), 36);
    cr_assert_gt(count_colour(&img, imbal_palette_tab10(0)), 200);
    imbal_image_free(&img);
    /* a single point, no names, no labels */
    cr_assert_eq(imbal_plot_lines(t.ctx, t.path, NULL, NULL, NULL, 1, x, 1, y, NULL), IMBAL_OK);
    img = load_png(t.path);
    cr_assert_gt(count_colour(&img, imbal_palette_tab10(0)), 36);
    imbal_image_free(&img);
    tmp_close(&t);
}

Test(plot_lines, errors) {
    tmp t = tmp_open("lines.png");
    double x[2] = {0, 1}, a[2] = {0, 1};
    const double *y[2] = {a, NULL};
    cr_assert_eq(imbal_plot_lines(t.ctx, t.path, NULL, NULL, NULL, 0, x, 1, y, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "n_points 0");
    cr_assert_eq(imbal_plot_lines(t.ctx, t.path, NULL, NULL, NULL, 2, NULL, 1, y, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "x is NULL");
    cr_assert_eq(imbal_plot_lines(t.ctx, t.path, NULL, NULL, NULL, 2, x, 2, y, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "y[1] is NULL");
    cr_assert_eq(imbal_plot_lines(t.ctx, t.path, NULL, NULL, NULL, 2, x, 0, y, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "num_series 0");
    tmp_close(&t);
}

Test(plot_recall, one_and_two_runs) {
    tmp t = tmp_open("recall.png");
    int64_t counts[4] = {5000, 800, 90, 12};
    double ra[4] = {0.95, 0.8, 0.4, NAN}, rb[4] = {0.9, 0.85, 0.7, 0.5};
    const char *names[4] = {"00-disc", "01-ring", "02-cross", "03-star"};
    const char *runs[2] = {"ce", "balanced-softmax"};
    cr_assert_eq(
        imbal_plot_recall_vs_count(t.ctx, t.path, "Recall", 4, counts, ra, NULL, names, NULL),
        IMBAL_OK, "%s", imbal_ctx_error(t.ctx));
    imbal_image one = load_png(t.path);
    cr_assert_eq(count_colour(&one, imbal_palette_tab10(1)), 0);
    cr_assert_gt(count_colour(&one, imbal_palette_tab10(0)), 3 * 50); /* three discs */
    cr_assert_eq(
        imbal_plot_recall_vs_count(t.ctx, t.path, "Recall", 4, counts, ra, rb, names, runs),
        IMBAL_OK);
    imbal_image two = load_png(t.path);
    cr_assert_eq(two.width, one.width);
    cr_assert_eq(two.height, one.height + 18); /* the legend row */
    cr_assert_gt(count_colour(&two, imbal_palette_tab10(1)), 4 * 50);
    imbal_image_free(&one);
    imbal_image_free(&two);
    tmp_close(&t);
}

Test(plot_recall, errors) {
    tmp t = tmp_open("recall.png");
    int64_t counts[2] = {10, 0};
    double r[2] = {0.5, 0.5};
    cr_assert_eq(imbal_plot_recall_vs_count(t.ctx, t.path, NULL, 2, counts, r, NULL, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "train_counts[1] = 0");
    counts[1] = 3;
    r[1] = 1.5;
    cr_assert_eq(imbal_plot_recall_vs_count(t.ctx, t.path, NULL, 2, counts, NULL, r, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "recall_a is NULL");
    cr_assert_eq(imbal_plot_recall_vs_count(t.ctx, t.path, NULL, 2, counts, r, NULL, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "recall_a[1] = 1.5");
    cr_assert_eq(imbal_plot_recall_vs_count(t.ctx, t.path, NULL, 0, counts, r, NULL, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "num_classes 0");
    tmp_close(&t);
}

Test(plot_bars, sides_of_the_zero_line_and_nan) {
    tmp t = tmp_open("bars.png");
    const char *names[1] = {"00-disc"};
    const char *series[3] = {"precision", "recall", "F1"};
    double v[3] = {50, -25, NAN};
    cr_assert_eq(imbal_plot_bars(t.ctx, t.path, "Change", 1, names, 3, series, v, "%"), IMBAL_OK,
                 "%s", imbal_ctx_error(t.ctx));
    imbal_image img = load_png(t.path);
    /* bar pixels below the legend row: positive right of every negative one */
    int pos_min = img.width, neg_max = -1, legend_bottom = 60;
    for (int y = legend_bottom; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
            const uint8_t *p = img_px(&img, x, y);
            if (px_is(p, imbal_palette_tab10(0)) && x < pos_min) pos_min = x;
            if (px_is(p, imbal_palette_tab10(1)) && x > neg_max) neg_max = x;
        }
    cr_assert_lt(neg_max, pos_min);
    cr_assert_geq(neg_max, 0);
    /* the positive bar is twice as long as the negative one (50 vs 25) */
    int64_t np = count_colour(&img, imbal_palette_tab10(0)) - 100,
            nn = count_colour(&img, imbal_palette_tab10(1)) - 100;
    cr_assert(llabs(np - 2 * nn) <= 2 * 10 + 10, "%lld %lld", (long long)np, (long long)nn);
    /* NaN: only the legend swatch (10 x 10) in the third colour */
    cr_assert_eq(count_colour(&img, imbal_palette_tab10(2)), 100);
    imbal_image_free(&img);
    /* many classes: thinner bars, still a picture */
    int n = 400;
    double *many = malloc(sizeof(double) * 3 * n);
    for (int i = 0; i < 3 * n; ++i)
        many[i] = (i % 7) - 3.0;
    cr_assert_eq(imbal_plot_bars(t.ctx, t.path, NULL, n, NULL, 3, NULL, many, NULL), IMBAL_OK, "%s",
                 imbal_ctx_error(t.ctx));
    img = load_png(t.path);
    cr_assert_leq(img.height, 8192);
    imbal_image_free(&img);
    free(many);
    tmp_close(&t);
}

Test(plot_bars, errors) {
    tmp t = tmp_open("bars.png");
    double v[2] = {1, INFINITY};
    cr_assert_eq(imbal_plot_bars(t.ctx, t.path, NULL, 1, NULL, 2, NULL, v, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "values[0][1] is infinite");
    cr_assert_eq(imbal_plot_bars(t.ctx, t.path, NULL, 1, NULL, 2, NULL, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "values is NULL");
    cr_assert_eq(imbal_plot_bars(t.ctx, t.path, NULL, 0, NULL, 2, NULL, v, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "num_classes 0");
    cr_assert_eq(imbal_plot_bars(t.ctx, t.path, NULL, 1, NULL, 0, NULL, v, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    ERR_HAS(t, "num_series 0");
    tmp_close(&t);
}

/* ---- the docs' example pictures (docs/img), from made-up data ---- */

static const char *const demo_names[10] = {"00-disc",   "01-ring",    "02-cross", "03-star",
                                           "04-square", "05-stripe",  "06-dot",   "07-wave",
                                           "08-grid",   "09-triangle"};

static void write_examples(imbal_ctx *ctx, const char *dir) {
    int n = 10;
    int64_t train[10];
    int64_t cm[100];
    double ra[10], rb[10], change[30];
    for (int i = 0; i < n; ++i)
        train[i] = (int64_t)llround(5000 * pow(0.6, i)); /* 5000 .. 50 */
    for (int r = 0; r < n; ++r) { /* rarer classes leak into the frequent ones */
        int64_t total = 100, right = 95 - 6 * r;
        for (int k = 0; k < n; ++k)
            cm[r * n + k] = 0;
        cm[r * n + r] = right;
        int64_t rest = total - right;
        for (int k = 0; rest > 0; k = (k + 1) % (r + 1)) {
            if (k == r && r > 0) continue;
            int64_t take = rest > 3 ? 3 : rest;
            cm[r * n + k] += take;
            rest -= take;
        }
    }
    for (int i = 0; i < n; ++i) {
        ra[i] = cm[i * n + i] / 100.0;
        rb[i] = fmin(1.0, ra[i] + 0.025 * i - 0.02);
        double dr = 100 * (rb[i] - ra[i]) / ra[i];
        change[3 * i] = -0.8 * dr + 4; /* precision */
        change[3 * i + 1] = dr;        /* recall */
        change[3 * i + 2] = 0.5 * dr;  /* F1 */
    }
    change[3 * 9] = NAN;
    double x[30], tl[30], vl[30], va[30];
    for (int e = 0; e < 30; ++e) {
        x[e] = e + 1;
        tl[e] = 2.2 * exp(-e / 8.0) + 0.15;
        vl[e] = 2.1 * exp(-e / 9.0) + 0.35 + 0.01 * e;
        va[e] = 1 - exp(-e / 6.0) * 0.9;
    }
    vl[12] = NAN; /* a skipped evaluation: a gap */
    const double *ys[3] = {tl, vl, va};
    const char *series[3] = {"train loss", "val loss", "val balanced acc"};
    const char *runs[2] = {"ce", "balanced-softmax"};
    const char *metrics[3] = {"precision", "recall", "F1"};
    char *p = tu_join(dir, "confusion.png");
    cr_assert_eq(
        imbal_plot_confusion(ctx, p, n, cm, demo_names, 1, "Confusion (row-normalised), val"),
        IMBAL_OK, "%s", imbal_ctx_error(ctx));
    free(p);
    p = tu_join(dir, "curves.png");
    cr_assert_eq(
        imbal_plot_lines(ctx, p, "Training curves", "epoch", "value", 30, x, 3, ys, series),
        IMBAL_OK, "%s", imbal_ctx_error(ctx));
    free(p);
    p = tu_join(dir, "recall_vs_count.png");
    cr_assert_eq(imbal_plot_recall_vs_count(ctx, p, "Recall vs training images", n, train, ra, rb,
                                            demo_names, runs),
                 IMBAL_OK, "%s", imbal_ctx_error(ctx));
    free(p);
    p = tu_join(dir, "change.png");
    cr_assert_eq(imbal_plot_bars(ctx, p, "Change from ce to balanced-softmax", n, demo_names, 3,
                                 metrics, change, "%"),
                 IMBAL_OK, "%s", imbal_ctx_error(ctx));
    free(p);
}

Test(plot_docs, example_pictures) {
    tmp t = tmp_open("unused");
    write_examples(t.ctx, t.dir);
    const char *docs = getenv("IMBAL_PLOT_DOCS_DIR");
    if (docs && *docs) write_examples(t.ctx, docs);
    tmp_close(&t);
}
