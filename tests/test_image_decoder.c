/* The reusable decoder (imbal_image_decoder): the same bytes as one-shot imbal_image_load /
 * imbal_image_decode over a mixed sequence of JPEG and PNG files of different sizes and with every
 * resize policy, buffers reused (a huge one given back), usable again after every kind of failure,
 * argument checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "imbal/imbal.h"
#include "test_util.h"

#define DATA IMBAL_TEST_DATA_DIR "/image/"

/* JPEG and PNG, colour, gray, palette, 16-bit, progressive, interlaced, small and large. */
static const char *const FILES[] = {
    "rgb_64x48.jpg", "rgb_13x7.jpg",     "gray_7x6.png",         "progressive_24x16.jpg",
    "rgb_11x9.png",  "palette_11x9.png", "interlaced_13x10.png", "gray_20x12.jpg",
    "rgb16_6x5.png", "rgba_11x9.png",    "gray_alpha_7x6.png",   "rgb_64x48.jpg",
};
#define NFILES ((int)(sizeof FILES / sizeof FILES[0]))

static void options(imbal_decode_options *o, int which) {
    imbal_decode_options_default(o);
    if (which == 1) o->policy = IMBAL_RESIZE_STRETCH, o->target_width = 9, o->target_height = 5;
    if (which == 2) {
        o->policy = IMBAL_RESIZE_SHORT_SIDE, o->target_width = 8, o->target_height = 8;
        o->filter = IMBAL_FILTER_BILINEAR;
    }
    if (which == 3) o->policy = IMBAL_RESIZE_STRETCH, o->target_width = 16, o->target_height = 12;
}

/* Asserts that the decoder's (borrowed) image equals the one-shot load of the same file. */
static void expect_same_as_oneshot(imbal_ctx *ctx, const char *path, const imbal_decode_options *o,
                                   const imbal_image *got) {
    imbal_image ref;
    cr_assert_eq(imbal_image_load(ctx, path, o, &ref), IMBAL_OK, "%s: %s", path,
                 imbal_ctx_error(ctx));
    cr_assert_eq(got->width, ref.width, "%s", path);
    cr_assert_eq(got->height, ref.height, "%s", path);
    cr_assert_eq(got->channels, 3, "%s", path);
    cr_assert(memcmp(got->data, ref.data, (size_t)ref.width * ref.height * 3) == 0,
              "%s: pixels differ from the one-shot decode", path);
    imbal_image_free(&ref);
}

Test(image_decoder, same_bytes_as_oneshot_across_sizes_formats_and_policies) {
    imbal_ctx *ctx = tu_ctx();
    imbal_image_decoder *d = NULL;
    cr_assert_eq(imbal_image_decoder_create(ctx, &d), IMBAL_OK);
    /* forwards then backwards, every policy in turn: buffers grow and shrink in use */
    for (int pass = 0; pass < 2; ++pass)
        for (int k = 0; k < NFILES; ++k) {
            int f = pass ? NFILES - 1 - k : k;
            char path[512];
            snprintf(path, sizeof path, DATA "%s", FILES[f]);
            imbal_decode_options o;
            options(&o, (k + pass) % 4);
            imbal_image img;
            cr_assert_eq(imbal_image_decoder_load(d, ctx, path, &o, &img), IMBAL_OK, "%s: %s", path,
                         imbal_ctx_error(ctx));
            expect_same_as_oneshot(ctx, path, &o, &img);
            /* from memory too */
            size_t len;
            char *bytes = tu_read_file(path, &len);
            imbal_image mem;
            cr_assert_eq(imbal_image_decoder_decode(d, ctx, bytes, len, path, &o, &mem), IMBAL_OK);
            expect_same_as_oneshot(ctx, path, &o, &mem);
            free(bytes);
        }
    imbal_image_decoder_destroy(d);
    imbal_ctx_destroy(ctx);
}

Test(image_decoder, buffers_are_reused_for_same_sized_images) {
    imbal_ctx *ctx = tu_ctx();
    imbal_image_decoder *d = NULL;
    cr_assert_eq(imbal_image_decoder_create(ctx, &d), IMBAL_OK);
    imbal_image a, b;
    cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_64x48.jpg", NULL, &a), IMBAL_OK);
    uint8_t *first = a.data;
    cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_13x7.jpg", NULL, &b), IMBAL_OK);
    cr_assert_eq(b.data, first, "a smaller image reuses the buffer");
    cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_11x9.png", NULL, &b), IMBAL_OK);
    cr_assert_eq(b.data, first, "a PNG reuses the same pixel buffer");
    expect_same_as_oneshot(ctx, DATA "rgb_11x9.png", NULL, &b);
    imbal_image_decoder_destroy(d);
    imbal_ctx_destroy(ctx);
}

/* A failure of `file` with status st whose message names the file and needle; *out is zeroed. */
static void expect_fail(imbal_image_decoder *d, imbal_ctx *ctx, const char *file, imbal_status st,
                        const char *needle) {
    char path[512];
    snprintf(path, sizeof path, DATA "%s", file);
    imbal_image img = {1, 1, 3, (uint8_t *)path};
    cr_assert_eq(imbal_image_decoder_load(d, ctx, path, NULL, &img), st, "%s: %s", file,
                 imbal_ctx_error(ctx));
    cr_assert_null(img.data);
    cr_assert_eq(img.width, 0);
    cr_assert(strstr(imbal_ctx_error(ctx), file), "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "%s", imbal_ctx_error(ctx));
}

/* After each kind of failure the same decoder decodes a good JPEG and a good PNG exactly. */
Test(image_decoder, usable_after_every_error) {
    imbal_ctx *ctx = tu_ctx();
    imbal_image_decoder *d = NULL;
    cr_assert_eq(imbal_image_decoder_create(ctx, &d), IMBAL_OK);
    static const struct {
        const char *file;
        imbal_status st;
        const char *needle;
    } bad[] = {
        {"truncated.jpg", IMBAL_ERR_FORMAT, "corrupt JPEG"},
        {"truncated.png", IMBAL_ERR_FORMAT, "corrupt PNG"},
        {"cmyk_16x8.jpg", IMBAL_ERR_UNSUPPORTED, "CMYK"},
        {"empty.png", IMBAL_ERR_FORMAT, "is empty"},
        {"not_an_image.jpg", IMBAL_ERR_FORMAT, "is not a JPEG or PNG image"},
        {"bomb_100000x100000.png", IMBAL_ERR_DATA, "100000 x 100000"},
        {"missing.png", IMBAL_ERR_IO, "No such file"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; ++k) {
        imbal_image img;
        cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_64x48.jpg", NULL, &img), IMBAL_OK);
        expect_fail(d, ctx, bad[k].file, bad[k].st, bad[k].needle);
        cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_13x7.jpg", NULL, &img), IMBAL_OK,
                     "after %s: %s", bad[k].file, imbal_ctx_error(ctx));
        expect_same_as_oneshot(ctx, DATA "rgb_13x7.jpg", NULL, &img);
        cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "palette_11x9.png", NULL, &img),
                     IMBAL_OK, "after %s: %s", bad[k].file, imbal_ctx_error(ctx));
        expect_same_as_oneshot(ctx, DATA "palette_11x9.png", NULL, &img);
    }
    /* the bomb limit on the JPEG path, then the same file allowed */
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.max_pixels = 13 * 7 - 1;
    imbal_image img;
    cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_13x7.jpg", &o, &img), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "13 x 7 = 91 pixels"), "%s", imbal_ctx_error(ctx));
    o.max_pixels = 13 * 7;
    cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_13x7.jpg", &o, &img), IMBAL_OK);
    expect_same_as_oneshot(ctx, DATA "rgb_13x7.jpg", &o, &img);
    imbal_image_decoder_destroy(d);
    imbal_ctx_destroy(ctx);
}

Test(image_decoder, bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_image_decoder_create(ctx, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "imbal_image_decoder_create: out is NULL"));
    imbal_image_decoder *d = NULL;
    cr_assert_eq(imbal_image_decoder_create(ctx, &d), IMBAL_OK);
    imbal_image img;
    cr_assert_eq(imbal_image_decoder_decode(NULL, ctx, "x", 1, NULL, NULL, &img),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "decoder is NULL"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_image_decoder_decode(d, ctx, "x", 1, NULL, NULL, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "out is NULL"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_image_decoder_decode(d, ctx, NULL, 5, NULL, NULL, &img),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "imbal_image_decoder_decode: bytes is NULL"), "%s",
              imbal_ctx_error(ctx));
    cr_assert_eq(imbal_image_decoder_decode(d, ctx, "GIF89a", 6, NULL, NULL, &img),
                 IMBAL_ERR_FORMAT);
    cr_assert(strstr(imbal_ctx_error(ctx), "'<memory>' is not a JPEG or PNG"));
    cr_assert_eq(imbal_image_decoder_load(NULL, ctx, DATA "rgb_13x7.jpg", NULL, &img),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_eq(imbal_image_decoder_load(d, ctx, "", NULL, &img), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "imbal_image_decoder_load: path is empty"), "%s",
              imbal_ctx_error(ctx));
    /* the one-shot functions keep their own names in messages */
    cr_assert_eq(imbal_image_load(ctx, "", NULL, &img), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "imbal_image_load: path is empty"), "%s",
              imbal_ctx_error(ctx));
    cr_assert_eq(imbal_image_decode(ctx, NULL, 5, NULL, NULL, &img), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "imbal_image_decode: bytes is NULL"), "%s",
              imbal_ctx_error(ctx));
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.policy = IMBAL_RESIZE_STRETCH; /* target 0 x 0 */
    cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_13x7.jpg", &o, &img),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "0 x 0"), "%s", imbal_ctx_error(ctx));
    imbal_image_decoder_destroy(d);
    imbal_image_decoder_destroy(NULL);
    imbal_ctx_destroy(ctx);
}

/* A buffer over 64 MiB is given back once a call needs under a quarter of it. */
Test(image_decoder, huge_buffer_not_pinned) {
    const int w = 4800, h = 4700; /* 67.7 MB of RGB > 64 MiB */
    unsigned char *px = calloc((size_t)w * h, 1);
    cr_assert_not_null(px);
    tjhandle tj = tjInitCompress();
    unsigned char *jpg = NULL;
    unsigned long len = 0;
    cr_assert_eq(tjCompress2(tj, px, w, 0, h, TJPF_GRAY, &jpg, &len, TJSAMP_GRAY, 50, 0), 0);
    tjDestroy(tj);
    free(px);
    imbal_ctx *ctx = tu_ctx();
    imbal_image_decoder *d = NULL;
    cr_assert_eq(imbal_image_decoder_create(ctx, &d), IMBAL_OK);
    imbal_image big, small;
    cr_assert_eq(imbal_image_decoder_decode(d, ctx, jpg, len, "big.jpg", NULL, &big), IMBAL_OK,
                 "%s", imbal_ctx_error(ctx));
    cr_assert_eq(big.width, w);
    cr_assert_eq(big.data[(size_t)w * h * 3 - 1], 0);
    uint8_t *huge = big.data;
    cr_assert_eq(imbal_image_decoder_load(d, ctx, DATA "rgb_64x48.jpg", NULL, &small), IMBAL_OK);
    cr_assert_neq(small.data, huge, "the 67 MB buffer was kept for a 64x48 image");
    expect_same_as_oneshot(ctx, DATA "rgb_64x48.jpg", NULL, &small);
    tjFree(jpg);
    imbal_image_decoder_destroy(d);
    imbal_ctx_destroy(ctx);
}
