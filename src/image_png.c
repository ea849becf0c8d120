/* imbal: PNG decoding and writing through libpng.
 *
 * Decoding reads from memory (png_set_read_fn) and normalises every colour type to 8-bit RGB:
 * palette -> RGB, gray -> RGB, low bit depths expanded, 16-bit truncated to the high byte
 * (png_set_strip_16), alpha dropped (channels kept as stored). libpng errors longjmp back here and
 * become IMBAL_ERR_FORMAT with libpng's text; libpng never prints (our error and warning
 * functions replace its stderr ones; warnings are ignored). */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#include "atomic_file.h"
#include "image_decoder.h"
#include "image_internal.h"
#include "internal.h"

/* What the error callback leaves for the setjmp site. */
typedef struct png_err {
    char msg[256];
} png_err;

static void on_error(png_structp png, png_const_charp msg) {
    png_err *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "unknown libpng error");
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
    (void)png, (void)msg;
}

typedef struct mem_reader {
    const uint8_t *p;
    size_t left;
} mem_reader;

static void read_mem(png_structp png, png_bytep dst, size_t n) {
    mem_reader *r = png_get_io_ptr(png);
    if (n > r->left) png_error(png, "unexpected end of file (truncated PNG)");
    memcpy(dst, r->p, n);
    r->p += n, r->left -= n;
}

imbal_status imbal_png_decode(imbal_image_decoder *d, imbal_ctx *ctx, const uint8_t *bytes,
                              size_t len, const char *name, const imbal_decode_options *o,
                              imbal_image *out) {
    memset(out, 0, sizeof *out);
    png_err err = {{0}};
    mem_reader rd = {bytes, len};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "'%s': cannot create libpng structures",
                          imbal_image_name(name));
    }
    /* Modified between setjmp and longjmp: volatile so the error path sees their values. */
    png_bytep *volatile rows = NULL;
    volatile imbal_status st = IMBAL_OK;
    if (setjmp(png_jmpbuf(png))) {
        if (st == IMBAL_OK)
            st = imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s': corrupt PNG: %s", imbal_image_name(name),
                            err.msg);
        goto done;
    }
    png_set_read_fn(png, &rd, read_mem);
    /* Our own pixel limit applies; libpng's default 1e6 x 1e6 user limits are looser. */
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((st = imbal_image_check_pixels(ctx, name, (int64_t)w, (int64_t)h, o->max_pixels)) !=
        IMBAL_OK)
        goto done;
    int color = png_get_color_type(png, info);
    png_set_expand(png); /* palette -> RGB, gray < 8 bits -> 8 bits, tRNS -> alpha */
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3 || png_get_channels(png, info) != 3) {
        st = imbal_fail(ctx, IMBAL_ERR_INTERNAL, "'%s': libpng gave %u channels after expansion",
                        imbal_image_name(name), (unsigned)png_get_channels(png, info));
        goto done;
    }
    uint8_t *px = imbal_image_decoder_reserve(ctx, &d->pixels, &d->pixels_cap,
                                              (size_t)w * (size_t)h * 3, "decoded PNG pixels");
    rows = px ? imbal_xmalloc(ctx, h, sizeof *rows, "PNG row pointers") : NULL;
    if (!rows) {
        st = IMBAL_ERR_OUT_OF_MEMORY;
        goto done;
    }
    for (png_uint_32 y = 0; y < h; ++y)
        rows[y] = px + (size_t)y * w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    out->width = (int)w, out->height = (int)h, out->channels = 3, out->data = px;
done:
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    if (st != IMBAL_OK) memset(out, 0, sizeof *out);
    return st;
}

imbal_status imbal_image_write_png(imbal_ctx *ctx, const imbal_image *img, const char *path) {
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_image_write_png: path is empty");
    if (!img || !img->data || img->width < 1 || img->height < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_write_png '%s': the image is empty or NULL", path);
    if (img->channels != 1 && img->channels != 3)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_image_write_png '%s': %d channels (1 or 3 are written)", path,
                          img->channels);
    imbal_atomic_file f;
    memset(&f, 0, sizeof f);
    imbal_status st = imbal_atomic_open(ctx, &f, path);
    if (st) return st;
    png_err err = {{0}};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        imbal_atomic_abort(&f);
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "'%s': cannot create libpng structures",
                          path);
    }
    if (setjmp(png_jmpbuf(png))) {
        /* libpng says only "Write Error" when fwrite fails: add the system's reason (a full disk,
         * a file-size limit). */
        int e = errno;
        int io = f.fp && ferror(f.fp);
        png_destroy_write_struct(&png, &info);
        imbal_atomic_abort(&f);
        return imbal_fail(ctx, IMBAL_ERR_IO, "cannot write PNG '%s': %s%s%s%s", path, err.msg,
                          io ? " (" : "", io ? strerror(e ? e : EIO) : "", io ? ")" : "");
    }
    png_init_io(png, f.fp);
    png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
                 img->channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)img->width * (size_t)img->channels;
    for (int y = 0; y < img->height; ++y)
        png_write_row(png, img->data + (size_t)y * stride);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    st = imbal_atomic_commit(ctx, &f);
    imbal_atomic_abort(&f);
    return st;
}
