/* Images: JPEG / PNG decoding against what PIL decodes (tests/data/image/make_fixtures.py), the
 * refused inputs, the resize filters against torch 1.13 F.interpolate, the resize policies, DCT
 * scaling and the atomic PNG writer. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

#define DATA IMBAL_TEST_DATA_DIR "/image/"

/* Reads a uint8 HWC .npy into an image. */
static imbal_image npy_image(const char *name) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t;
    cr_assert_eq(imbal_npy_read(ctx, name, &t), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(t.dtype, IMBAL_U8);
    cr_assert_eq(t.ndim, 3);
    imbal_image img;
    cr_assert_eq(imbal_image_alloc(ctx, (int)t.shape[1], (int)t.shape[0], (int)t.shape[2], &img),
                 IMBAL_OK);
    memcpy(img.data, t.data, imbal_tensor_nbytes(&t));
    imbal_tensor_free(&t);
    imbal_ctx_destroy(ctx);
    return img;
}

/* Max |a - b| over all values; asserts equal shapes. */
static int max_diff(const imbal_image *a, const imbal_image *b) {
    cr_assert_eq(a->width, b->width, "width %d vs %d", a->width, b->width);
    cr_assert_eq(a->height, b->height, "height %d vs %d", a->height, b->height);
    cr_assert_eq(a->channels, b->channels);
    int m = 0;
    size_t n = (size_t)a->width * (size_t)a->height * (size_t)a->channels;
    for (size_t i = 0; i < n; ++i) {
        int d = abs((int)a->data[i] - (int)b->data[i]);
        if (d > m) m = d;
    }
    return m;
}

/* Loads DATA file with options o and compares with DATA expect_npy; returns the max diff. */
static int load_vs(const char *file, const char *expect_npy, const imbal_decode_options *o) {
    imbal_ctx *ctx = tu_ctx();
    char path[512], npy[512];
    snprintf(path, sizeof path, DATA "%s", file);
    snprintf(npy, sizeof npy, DATA "%s", expect_npy);
    imbal_image img, ref = npy_image(npy);
    cr_assert_eq(imbal_image_load(ctx, path, o, &img), IMBAL_OK, "%s: %s", file,
                 imbal_ctx_error(ctx));
    cr_assert_eq(img.channels, 3);
    int d = max_diff(&img, &ref);
    cr_log_info("%s: max abs diff against PIL %d", file, d);
    imbal_image_free(&img), imbal_image_free(&ref);
    imbal_ctx_destroy(ctx);
    return d;
}

Test(image, jpeg_rgb_matches_pil) {
    cr_assert_leq(load_vs("rgb_13x7.jpg", "rgb_13x7.jpg.npy", NULL), 2);
    cr_assert_leq(load_vs("rgb_64x48.jpg", "rgb_64x48.jpg.npy", NULL), 2);
}

Test(image, jpeg_gray_and_progressive) {
    cr_assert_leq(load_vs("gray_20x12.jpg", "gray_20x12.jpg.npy", NULL), 2);
    cr_assert_leq(load_vs("progressive_24x16.jpg", "progressive_24x16.jpg.npy", NULL), 2);
}

Test(image, png_every_colour_type_exact) {
    cr_assert_eq(load_vs("rgb_11x9.png", "rgb_11x9.png.npy", NULL), 0);
    cr_assert_eq(load_vs("gray_7x6.png", "gray_7x6.png.npy", NULL), 0);
    cr_assert_eq(load_vs("gray_alpha_7x6.png", "gray_7x6.png.npy", NULL), 0);
    cr_assert_eq(load_vs("rgba_11x9.png", "rgb_11x9.png.npy", NULL), 0);
    cr_assert_eq(load_vs("palette_11x9.png", "palette_11x9.png.npy", NULL), 0);
    cr_assert_eq(load_vs("rgb16_6x5.png", "rgb16_6x5.png.npy", NULL), 0);
    cr_assert_eq(load_vs("interlaced_13x10.png", "interlaced_13x10.png.npy", NULL), 0);
}

/* Expects status st from loading DATA file and every needle in the message. */
static void load_fails(const char *file, imbal_status st, const char *needle) {
    imbal_ctx *ctx = tu_ctx();
    char path[512];
    snprintf(path, sizeof path, DATA "%s", file);
    imbal_image img = {1, 1, 3, (uint8_t *)path};
    cr_assert_eq(imbal_image_load(ctx, path, NULL, &img), st, "%s: %s", file, imbal_ctx_error(ctx));
    cr_assert_null(img.data);
    cr_assert_eq(img.width, 0);
    cr_assert(strstr(imbal_ctx_error(ctx), file), "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}

Test(image, refused_inputs_name_the_file) {
    load_fails("cmyk_16x8.jpg", IMBAL_ERR_UNSUPPORTED, "CMYK");
    load_fails("truncated.jpg", IMBAL_ERR_FORMAT, "JPEG");
    load_fails("truncated.png", IMBAL_ERR_FORMAT, "PNG");
    load_fails("empty.png", IMBAL_ERR_FORMAT, "is empty");
    load_fails("not_an_image.jpg", IMBAL_ERR_FORMAT, "is not a JPEG or PNG image");
    load_fails("missing.png", IMBAL_ERR_IO, "No such file");
}

Test(image, bomb_refused_before_allocation) {
    /* 10^10 pixels x 3 bytes would be 30 GB: ASan would report the attempt. */
    load_fails("bomb_100000x100000.png", IMBAL_ERR_DATA, "100000 x 100000");
    load_fails("bomb_100000x100000.png", IMBAL_ERR_DATA, "max_pixels 89478485");
    imbal_ctx *ctx = tu_ctx();
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.max_pixels = 13 * 7 - 1; /* the JPEG path checks too */
    imbal_image img;
    cr_assert_eq(imbal_image_load(ctx, DATA "rgb_13x7.jpg", &o, &img), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "13 x 7 = 91 pixels"), "%s", imbal_ctx_error(ctx));
    o.max_pixels = 13 * 7;
    cr_assert_eq(imbal_image_load(ctx, DATA "rgb_13x7.jpg", &o, &img), IMBAL_OK);
    imbal_image_free(&img);
    imbal_ctx_destroy(ctx);
}

Test(image, memory_decode_and_bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    imbal_image img;
    cr_assert_eq(imbal_image_decode(ctx, "GIF89a", 6, NULL, NULL, &img), IMBAL_ERR_FORMAT);
    cr_assert(strstr(imbal_ctx_error(ctx), "'<memory>' is not a JPEG or PNG"));
    size_t len;
    char *bytes = tu_read_file(DATA "rgb_11x9.png", &len);
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    cr_assert_eq(o.max_pixels, 89478485);
    cr_assert_eq(o.dct_scaling, 1);
    o.policy = IMBAL_RESIZE_STRETCH; /* target 0 x 0 */
    cr_assert_eq(imbal_image_decode(ctx, bytes, len, "x.png", &o, &img),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "0 x 0"));
    o.policy = (imbal_resize_policy)7;
    cr_assert_eq(imbal_image_decode(ctx, bytes, len, "x.png", &o, &img),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_eq(imbal_image_decode(ctx, bytes, len, "x.png", NULL, &img), IMBAL_OK);
    cr_assert_eq(img.width, 11);
    cr_assert_eq(img.height, 9);
    imbal_image_free(&img);
    imbal_image_free(&img); /* twice is fine */
    imbal_image_free(NULL);
    free(bytes);
    imbal_ctx_destroy(ctx);
}

/* SHORT_SIDE on a 12 x 6 PNG equals the area resize of the same pixels followed by the crop. */
static void short_side_case(int tw, int th, int rw, int rh) {
    imbal_ctx *ctx = tu_ctx();
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.policy = IMBAL_RESIZE_SHORT_SIDE;
    o.target_width = tw, o.target_height = th;
    imbal_image got, src = npy_image(DATA "short_side_12x6.png.npy"), full;
    cr_assert_eq(imbal_image_load(ctx, DATA "short_side_12x6.png", &o, &got), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(got.width, tw);
    cr_assert_eq(got.height, th);
    cr_assert_eq(imbal_image_resize(ctx, &src, rw, rh, IMBAL_FILTER_AREA, &full), IMBAL_OK);
    int x0 = (rw - tw) / 2, y0 = (rh - th) / 2;
    for (int y = 0; y < th; ++y)
        cr_assert_eq(memcmp(got.data + (size_t)y * tw * 3,
                            full.data + ((size_t)(y + y0) * rw + x0) * 3, (size_t)tw * 3),
                     0, "row %d of %dx%d", y, tw, th);
    imbal_image_free(&got), imbal_image_free(&src), imbal_image_free(&full);
    imbal_ctx_destroy(ctx);
}

Test(image, short_side_geometry) {
    short_side_case(4, 4, 8, 4);    /* s = 2/3: 8 x 4, crop x from 2 */
    short_side_case(5, 3, 6, 3);    /* s = 1/2: 6 x 3, crop x from 0 (floor(1/2)) */
    short_side_case(3, 5, 10, 5);   /* s = 5/6: 10 x 5, crop x from 3 */
    short_side_case(24, 6, 24, 12); /* upscaling: s = 2 */
}

Test(image, stretch_and_none_sizes) {
    imbal_ctx *ctx = tu_ctx();
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.target_width = 5, o.target_height = 9;
    imbal_image img;
    cr_assert_eq(imbal_image_load(ctx, DATA "rgb_64x48.jpg", &o, &img), IMBAL_OK);
    cr_assert_eq(img.width, 64); /* NONE ignores the target */
    imbal_image_free(&img);
    o.policy = IMBAL_RESIZE_STRETCH;
    o.filter = IMBAL_FILTER_BILINEAR;
    cr_assert_eq(imbal_image_load(ctx, DATA "rgb_64x48.jpg", &o, &img), IMBAL_OK);
    cr_assert_eq(img.width, 5);
    cr_assert_eq(img.height, 9);
    imbal_image_free(&img);
    imbal_ctx_destroy(ctx);
}

/* DCT scaling changes values only slightly against a full decode + area resize. */
static int dct_case(int tw, int th) {
    imbal_ctx *ctx = tu_ctx();
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.policy = IMBAL_RESIZE_STRETCH;
    o.target_width = tw, o.target_height = th;
    imbal_image a, b;
    cr_assert_eq(imbal_image_load(ctx, DATA "rgb_64x48.jpg", &o, &a), IMBAL_OK);
    o.dct_scaling = 0;
    cr_assert_eq(imbal_image_load(ctx, DATA "rgb_64x48.jpg", &o, &b), IMBAL_OK);
    cr_assert_eq(a.width, tw);
    cr_assert_eq(a.height, th);
    int d = max_diff(&a, &b);
    double sum = 0;
    for (int i = 0; i < tw * th * 3; ++i)
        sum += abs((int)a.data[i] - (int)b.data[i]);
    double mean = sum / (tw * th * 3);
    cr_log_info("DCT scaling 64x48 -> %dx%d: max abs diff %d, mean %.3f against full decode + area",
                tw, th, d, mean);
    cr_assert_leq(mean, 1.5);
    imbal_image_free(&a), imbal_image_free(&b);
    imbal_ctx_destroy(ctx);
    return d;
}

Test(image, dct_scaling_close_to_full_decode) {
    /* measured: max 16 / mean 0.94 (16x12), 15 / 0.79 (20x15), 4 / 0.60 (8x6) */
    cr_assert_leq(dct_case(16, 12), 20); /* decoded at 1/4 directly */
    cr_assert_leq(dct_case(20, 15), 20); /* 1/2, then area */
    cr_assert_leq(dct_case(8, 6), 20);   /* 1/8 */
}

Test(image, write_png_round_trip_atomic) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    for (int ch = 1; ch <= 3; ch += 2) {
        imbal_image img, back;
        cr_assert_eq(imbal_image_alloc(ctx, 7, 5, ch, &img), IMBAL_OK);
        for (int i = 0; i < 7 * 5 * ch; ++i)
            img.data[i] = (uint8_t)(i * 37 + 11);
        char *path = tu_join(dir, ch == 1 ? "g.png" : "c.png");
        cr_assert_eq(imbal_image_write_png(ctx, &img, path), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        cr_assert_eq(imbal_image_load(ctx, path, NULL, &back), IMBAL_OK);
        for (int i = 0; i < 7 * 5; ++i)
            for (int c = 0; c < 3; ++c)
                cr_assert_eq(back.data[i * 3 + c], img.data[i * ch + (ch == 1 ? 0 : c)]);
        imbal_image_free(&img), imbal_image_free(&back);
        free(path);
    }
    int entries = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') {
            ++entries;
            cr_assert_null(strstr(e->d_name, ".tmp"), "temporary file left: %s", e->d_name);
        }
    closedir(d);
    cr_assert_eq(entries, 2);
    imbal_image img;
    cr_assert_eq(imbal_image_alloc(ctx, 2, 2, 3, &img), IMBAL_OK);
    char *missing = tu_join(dir, "no/such/dir/x.png");
    cr_assert_eq(imbal_image_write_png(ctx, &img, missing), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), "no/such/dir/x.png"), "%s", imbal_ctx_error(ctx));
    img.channels = 4;
    cr_assert_eq(imbal_image_write_png(ctx, &img, missing), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_image_free(&img);
    free(missing);
    tu_rmtree(dir);
    free(dir);
    imbal_ctx_destroy(ctx);
}

/* ---- resize ---------------------------------------------------------------------------------- */

static int resize_vs_torch(const char *name, int w, int h, imbal_resize_filter f) {
    imbal_ctx *ctx = tu_ctx();
    char p[512];
    snprintf(p, sizeof p, DATA "%s_src.npy", name);
    imbal_image src = npy_image(p), out;
    snprintf(p, sizeof p, DATA "%s_ref.npy", name);
    imbal_image ref = npy_image(p);
    cr_assert_eq(imbal_image_resize(ctx, &src, w, h, f, &out), IMBAL_OK);
    int d = max_diff(&out, &ref);
    cr_log_info("%s: max abs diff against torch %d", name, d);
    imbal_image_free(&src), imbal_image_free(&ref), imbal_image_free(&out);
    imbal_ctx_destroy(ctx);
    return d;
}

Test(image_resize, bilinear_matches_torch) {
    cr_assert_leq(resize_vs_torch("bilinear_37x23_16x16", 16, 16, IMBAL_FILTER_BILINEAR), 1);
    cr_assert_leq(resize_vs_torch("bilinear_16x16_40x30", 40, 30, IMBAL_FILTER_BILINEAR), 1);
}

Test(image_resize, area_matches_torch) {
    cr_assert_leq(resize_vs_torch("area_64x48_16x12", 16, 12, IMBAL_FILTER_AREA), 1);
    cr_assert_leq(resize_vs_torch("area_37x23_10x7", 10, 7, IMBAL_FILTER_AREA), 1);
}

Test(image_resize, hand_computed) {
    imbal_ctx *ctx = tu_ctx();
    imbal_image src, out;
    cr_assert_eq(imbal_image_alloc(ctx, 2, 1, 1, &src), IMBAL_OK);
    src.data[0] = 10, src.data[1] = 21;
    cr_assert_eq(imbal_image_resize(ctx, &src, 1, 1, IMBAL_FILTER_AREA, &out), IMBAL_OK);
    cr_assert_eq(out.data[0], 16); /* 15.5 rounds up */
    imbal_image_free(&out);
    src.data[0] = 0, src.data[1] = 100;
    /* x = (i + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (tap 1 only) */
    cr_assert_eq(imbal_image_resize(ctx, &src, 4, 1, IMBAL_FILTER_BILINEAR, &out), IMBAL_OK);
    uint8_t want[4] = {0, 25, 75, 100};
    cr_assert_arr_eq(out.data, want, 4);
    imbal_image_free(&out);
    /* area 3 -> 2: bins [0, 2) and [1, 3) overlap (adaptive pooling) */
    imbal_image_free(&src);
    cr_assert_eq(imbal_image_alloc(ctx, 3, 1, 1, &src), IMBAL_OK);
    src.data[0] = 0, src.data[1] = 30, src.data[2] = 90;
    cr_assert_eq(imbal_image_resize(ctx, &src, 2, 1, IMBAL_FILTER_AREA, &out), IMBAL_OK);
    cr_assert_eq(out.data[0], 15);
    cr_assert_eq(out.data[1], 60);
    imbal_image_free(&out), imbal_image_free(&src);
    imbal_ctx_destroy(ctx);
}

Test(image_resize, identity_any_channels_and_threads) {
    imbal_ctx *ctx = tu_ctx();
    for (int ch = 1; ch <= 5; ch += 3) {
        imbal_image src, a, b;
        cr_assert_eq(imbal_image_alloc(ctx, 301, 257, ch, &src), IMBAL_OK);
        for (size_t i = 0; i < (size_t)301 * 257 * ch; ++i)
            src.data[i] = (uint8_t)((i * 2654435761u) >> 13);
        for (int f = 0; f < 2; ++f) {
            cr_assert_eq(imbal_image_resize(ctx, &src, 301, 257, (imbal_resize_filter)f, &a),
                         IMBAL_OK);
            cr_assert_eq(max_diff(&a, &src), 0, "filter %d channels %d", f, ch);
            imbal_image_free(&a);
            /* thread count does not change results */
            imbal_ctx_set_threads(ctx, 1);
            cr_assert_eq(imbal_image_resize(ctx, &src, 190, 333, (imbal_resize_filter)f, &a),
                         IMBAL_OK);
            imbal_ctx_set_threads(ctx, 2);
            cr_assert_eq(imbal_image_resize(ctx, &src, 190, 333, (imbal_resize_filter)f, &b),
                         IMBAL_OK);
            cr_assert_eq(max_diff(&a, &b), 0);
            imbal_image_free(&a), imbal_image_free(&b);
        }
        imbal_image_free(&src);
    }
    imbal_ctx_destroy(ctx);
}

Test(image_resize, bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    imbal_image src, out;
    cr_assert_eq(imbal_image_alloc(ctx, 0, 3, 3, &src), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "width 0"));
    cr_assert_eq(imbal_image_alloc(ctx, 4, 3, 3, &src), IMBAL_OK);
    cr_assert_eq(imbal_image_resize(ctx, &src, 0, 5, IMBAL_FILTER_AREA, &out),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "0 x 5"));
    cr_assert_eq(imbal_image_resize(ctx, &src, 2, 2, (imbal_resize_filter)9, &out),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_eq(imbal_image_resize(ctx, NULL, 2, 2, IMBAL_FILTER_AREA, &out),
                 IMBAL_ERR_INVALID_ARGUMENT);
    imbal_image_free(&src);
    imbal_ctx_destroy(ctx);
}
