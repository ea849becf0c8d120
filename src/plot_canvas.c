/* imbal: an RGB canvas with clipped rectangles, Bresenham lines, discs and bitmap text, written
 * as PNG through imbal_image_write_png (atomic). Every primitive clips to the canvas, so callers
 * may draw partly (or wholly) outside it. */
#include <stdlib.h>
#include <string.h>

#include "imbal/image.h"
#include "internal.h"
#include "plot_internal.h"

#define CANVAS_MAX_SIDE 8192

imbal_status imbal_canvas_create(imbal_ctx *ctx, imbal_canvas *c, int width, int height, uint8_t r,
                                 uint8_t g, uint8_t b) {
    if (!c)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_canvas_create: canvas is NULL");
    memset(c, 0, sizeof *c);
    if (width < 1 || height < 1 || width > CANVAS_MAX_SIDE || height > CANVAS_MAX_SIDE)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_canvas_create: size %d x %d is outside 1..%d per side", width,
                          height, CANVAS_MAX_SIDE);
    size_t n = (size_t)width * (size_t)height;
    uint8_t *px = imbal_xmalloc(ctx, n, 3, "canvas pixels");
    if (!px) return IMBAL_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; ++i) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    c->width = width;
    c->height = height;
    c->rgb = px;
    return IMBAL_OK;
}

void imbal_canvas_free(imbal_canvas *c) {
    if (!c) return;
    free(c->rgb);
    memset(c, 0, sizeof *c);
}

static inline void put(imbal_canvas *c, int x, int y, imbal_rgb col) {
    if (x < 0 || y < 0 || x >= c->width || y >= c->height) return;
    uint8_t *p = c->rgb + 3 * ((size_t)y * (size_t)c->width + (size_t)x);
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

void imbal_canvas_rect_c(imbal_canvas *c, int x, int y, int w, int h, imbal_rgb col) {
    if (!c || !c->rgb || w <= 0 || h <= 0) return;
    /* Clip in 64-bit so x + w cannot overflow. */
    long long x0 = x, y0 = y, x1 = (long long)x + w, y1 = (long long)y + h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->width) x1 = c->width;
    if (y1 > c->height) y1 = c->height;
    for (long long yy = y0; yy < y1; ++yy) {
        uint8_t *p = c->rgb + 3 * ((size_t)yy * (size_t)c->width + (size_t)x0);
        for (long long xx = x0; xx < x1; ++xx, p += 3) {
            p[0] = col.r;
            p[1] = col.g;
            p[2] = col.b;
        }
    }
}

void imbal_canvas_fill_rect(imbal_canvas *c, int x, int y, int w, int h, uint8_t r, uint8_t g,
                            uint8_t b) {
    imbal_canvas_rect_c(c, x, y, w, h, (imbal_rgb){r, g, b});
}

void imbal_canvas_frame(imbal_canvas *c, int x, int y, int w, int h, imbal_rgb col) {
    if (w <= 0 || h <= 0) return;
    imbal_canvas_rect_c(c, x, y, w, 1, col);
    imbal_canvas_rect_c(c, x, y + h - 1, w, 1, col);
    imbal_canvas_rect_c(c, x, y, 1, h, col);
    imbal_canvas_rect_c(c, x + w - 1, y, 1, h, col);
}

/* Bresenham's line algorithm (all octants, integer error term), each point stamped with a
 * brush x brush square. Endpoints are clamped far outside the canvas first so the loop stays
 * bounded for huge coordinates; the clamp moves the line only where it is invisible anyway when
 * it is axis-parallel, and callers draw their lines inside or near the canvas. */
static void bresenham(imbal_canvas *c, int x0, int y0, int x1, int y1, int brush, imbal_rgb col) {
    if (!c || !c->rgb) return;
    const int lim = 4 * CANVAS_MAX_SIDE;
    x0 = x0 < -lim ? -lim : x0 > lim ? lim : x0;
    x1 = x1 < -lim ? -lim : x1 > lim ? lim : x1;
    y0 = y0 < -lim ? -lim : y0 > lim ? lim : y0;
    y1 = y1 < -lim ? -lim : y1 > lim ? lim : y1;
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int err = dx + dy, off = (brush - 1) / 2;
    for (;;) {
        if (brush <= 1)
            put(c, x0, y0, col);
        else
            imbal_canvas_rect_c(c, x0 - off, y0 - off, brush, brush, col);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

void imbal_canvas_line_c(imbal_canvas *c, int x0, int y0, int x1, int y1, imbal_rgb col) {
    bresenham(c, x0, y0, x1, y1, 1, col);
}

void imbal_canvas_line(imbal_canvas *c, int x0, int y0, int x1, int y1, uint8_t r, uint8_t g,
                       uint8_t b) {
    bresenham(c, x0, y0, x1, y1, 1, (imbal_rgb){r, g, b});
}

void imbal_canvas_thick_line(imbal_canvas *c, int x0, int y0, int x1, int y1, int thickness,
                             imbal_rgb col) {
    bresenham(c, x0, y0, x1, y1, thickness < 1 ? 1 : thickness, col);
}

void imbal_canvas_disc(imbal_canvas *c, int cx, int cy, int radius, imbal_rgb col) {
    if (radius < 0) return;
    for (int dy = -radius; dy <= radius; ++dy) {
        int half = 0;
        while ((half + 1) * (half + 1) + dy * dy <= radius * radius + radius)
            ++half;
        imbal_canvas_rect_c(c, cx - half, cy + dy, 2 * half + 1, 1, col);
    }
}

int imbal_canvas_text_c(imbal_canvas *c, int x, int y, const char *text, int scale, int vertical,
                        imbal_rgb col) {
    if (!c || !c->rgb || !text || scale < 1) return 0;
    int pos = 0; /* along the text, in pixels */
    for (const unsigned char *s = (const unsigned char *)text; *s; ++s) {
        const uint8_t *g = imbal_font_glyph(*s);
        for (int gy = 0; gy < PLOT_GLYPH; ++gy)
            for (int gx = 0; gx < PLOT_GLYPH; ++gx) {
                if (!(g[gy] >> gx & 1)) continue;
                int u = pos + gx * scale, v = gy * scale;
                if (vertical) /* rotated 90 degrees counter-clockwise: glyph tops face left */
                    imbal_canvas_rect_c(c, x + v, y - u - scale + 1, scale, scale, col);
                else
                    imbal_canvas_rect_c(c, x + u, y + v, scale, scale, col);
            }
        pos += PLOT_GLYPH * scale;
        if (pos > 4 * CANVAS_MAX_SIDE) break; /* the rest is off any canvas */
    }
    return imbal_canvas_text_width(text, scale);
}

int imbal_canvas_text(imbal_canvas *c, int x, int y, const char *text, int scale, int vertical,
                      uint8_t r, uint8_t g, uint8_t b) {
    return imbal_canvas_text_c(c, x, y, text, scale, vertical, (imbal_rgb){r, g, b});
}

char *imbal_plot_fit_text(const char *text, int max_px, int scale, char *out, size_t out_size) {
    if (!out || out_size == 0) return out;
    out[0] = '\0';
    if (!text || scale < 1) return out;
    size_t max_chars = max_px <= 0 ? 0 : (size_t)(max_px / (PLOT_GLYPH * scale));
    if (max_chars > out_size - 1) max_chars = out_size - 1;
    size_t n = strlen(text);
    if (n <= max_chars) {
        memcpy(out, text, n + 1);
        return out;
    }
    if (max_chars <= 3) { /* no room for a name and "...": keep what fits */
        memcpy(out, text, max_chars);
        out[max_chars] = '\0';
        return out;
    }
    memcpy(out, text, max_chars - 3);
    memcpy(out + max_chars - 3, "...", 4);
    return out;
}

imbal_status imbal_canvas_write_png(imbal_ctx *ctx, const imbal_canvas *c, const char *path) {
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_canvas_write_png: path is empty");
    if (!c || !c->rgb || c->width < 1 || c->height < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_canvas_write_png '%s': the canvas is empty or NULL", path);
    imbal_image img = {c->width, c->height, 3, c->rgb};
    return imbal_image_write_png(ctx, &img, path);
}

imbal_status imbal_plot_finish(imbal_ctx *ctx, imbal_canvas *c, const char *path) {
    imbal_status st = imbal_canvas_write_png(ctx, c, path);
    imbal_canvas_free(c);
    return st;
}
