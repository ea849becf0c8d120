/* imbal_image_alloc / imbal_image_free: the owned-buffer life cycle of an imbal_image. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/image.h"
#include "internal.h"

imbal_status imbal_image_alloc(imbal_ctx *ctx, int width, int height, int channels,
                               imbal_image *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_alloc: out is NULL");
    memset(out, 0, sizeof *out);
    if (width < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_alloc: width %d < 1",
                          width);
    if (height < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_alloc: height %d < 1",
                          height);
    if (channels < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_alloc: channels %d < 1",
                          channels);
    size_t pixels = (size_t)width * (size_t)height; /* two ints: cannot overflow size_t (64-bit) */
    if (pixels > SIZE_MAX / (size_t)channels)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "imbal_image_alloc: %d x %d x %d bytes overflows size_t", width, height,
                          channels);
    void *data = calloc(pixels * (size_t)channels, 1);
    if (!data)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "imbal_image_alloc: out of memory for %d x %d x %d bytes", width, height,
                          channels);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->data = data;
    return IMBAL_OK;
}

void imbal_image_free(imbal_image *img) {
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}
