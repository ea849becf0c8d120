/* imbal fuzz targets fuzz_jpeg and fuzz_png: one body, two corpora. Each input is decoded three
 * ways, as the loader does: at its own size, stretched (area filter, DCT scaling on) and
 * short-side resized + centre-cropped (bilinear), through one reusable decoder so that its
 * buffer reuse across calls is exercised too. The pixel limit is lowered so a forged header
 * cannot make the fuzzer spend its time allocating. */
#ifndef IMBAL_FUZZ_IMAGE_COMMON_H
#define IMBAL_FUZZ_IMAGE_COMMON_H

#include "fuzz_util.h"

static void fuzz_decode_all_ways(const uint8_t *data, size_t size) {
    imbal_ctx *ctx = fuzz_ctx();
    if (!ctx) return;
    imbal_image_decoder *d = NULL;
    if (imbal_image_decoder_create(ctx, &d) != IMBAL_OK) {
        imbal_ctx_destroy(ctx);
        return;
    }
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.max_pixels = 1 << 20;
    imbal_image img;
    if (imbal_image_decoder_decode(d, ctx, data, size, "fuzz", &o, &img) == IMBAL_OK) {
        /* Touch every byte so ASan sees any overrun of the returned buffer. */
        volatile uint8_t sink = 0;
        size_t n = (size_t)img.width * (size_t)img.height * (size_t)img.channels;
        for (size_t i = 0; i < n; ++i)
            sink ^= img.data[i];
        (void)sink;
    }
    o.policy = IMBAL_RESIZE_STRETCH;
    o.target_width = 7;
    o.target_height = 5;
    o.filter = IMBAL_FILTER_AREA;
    o.dct_scaling = 1;
    (void)imbal_image_decoder_decode(d, ctx, data, size, "fuzz", &o, &img);
    o.policy = IMBAL_RESIZE_SHORT_SIDE;
    o.target_width = 16;
    o.target_height = 9;
    o.filter = IMBAL_FILTER_BILINEAR;
    o.dct_scaling = 0;
    (void)imbal_image_decoder_decode(d, ctx, data, size, "fuzz", &o, &img);
    /* The one-shot path owns its result. */
    imbal_decode_options plain;
    imbal_decode_options_default(&plain);
    plain.max_pixels = 1 << 20;
    imbal_image own = {0};
    if (imbal_image_decode(ctx, data, size, NULL, &plain, &own) == IMBAL_OK) imbal_image_free(&own);
    imbal_image_decoder_destroy(d);
    imbal_ctx_destroy(ctx);
}

#endif
