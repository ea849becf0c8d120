/* imbal: grouped horizontal bars, one group per class and one bar per series (e.g. the percent
 * change of precision, recall and F-beta from run A to run B). Bars grow right of the zero line
 * for positive values and left for negative ones, each labelled with its signed value and suffix;
 * NaN values are written "n/a" at the zero line. Bars get thinner when there are many classes and
 * lose their labels when thinner than a glyph. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "plot_internal.h"

#define PLOT_W      520
#define NAME_MAX_PX 160
#define MAX_PLOT_H  7600 /* the canvas limit is 8192 */

static void value_text(char *out, size_t size, double v, const char *suffix) {
    if (isnan(v))
        snprintf(out, size, "n/a");
    else
        snprintf(out, size, "%+.1f%s", v, suffix ? suffix : "");
}

imbal_status imbal_plot_bars(imbal_ctx *ctx, const char *path, const char *title, int num_classes,
                             const char *const *class_names, int num_series,
                             const char *const *series_names, const double *values,
                             const char *value_suffix) {
    const char *fn = "imbal_plot_bars";
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: path is empty", fn);
    if (num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s '%s': num_classes %d (>= 1 needed)",
                          fn, path, num_classes);
    if (num_series < 1 || num_series > 10)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s '%s': num_series %d is outside 1..10", fn, path, num_series);
    if (!values)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s '%s': values is NULL", fn, path);
    int bar_h = 12, gap = 10;
    int64_t rows = (int64_t)num_classes * num_series;
    if (rows * bar_h + (int64_t)num_classes * gap > MAX_PLOT_H) {
        gap = 2;
        bar_h = (int)((MAX_PLOT_H - (int64_t)num_classes * gap) / rows);
        if (bar_h < 1)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': %d classes x %d series do not fit a %d-pixel picture", fn,
                              path, num_classes, num_series, MAX_PLOT_H);
    }
    int labels = bar_h >= 10, names = bar_h * num_series + gap >= 9;
    double lo = 0, hi = 0;
    int label_w = imbal_canvas_text_width("n/a", 1);
    char buf[256], fit[64];
    for (int64_t i = 0; i < rows; ++i) {
        double v = values[i];
        if (isinf(v))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': values[%d][%d] is infinite", fn, path,
                              (int)(i / num_series), (int)(i % num_series));
        if (isnan(v)) continue;
        lo = fmin(lo, v), hi = fmax(hi, v);
        value_text(buf, sizeof buf, v, value_suffix);
        int w = imbal_canvas_text_width(buf, 1);
        if (w > label_w) label_w = w;
    }
    if (label_w > 96) label_w = 96;
    imbal_plot_frame f;
    imbal_axis_linear(&f.xa, lo, hi, 7);
    for (int i = 0; i < f.xa.n_ticks; ++i) /* the suffix on the ticks too: "+10%" reads better */
        if (value_suffix && strlen(f.xa.labels[i]) + strlen(value_suffix) < sizeof f.xa.labels[0])
            strcat(f.xa.labels[i], value_suffix);
    memset(&f.ya, 0, sizeof f.ya);
    int name_w = 0;
    for (int k = 0; names && k < num_classes; ++k) {
        if (class_names && class_names[k])
            snprintf(buf, sizeof buf, "%s", class_names[k]);
        else
            snprintf(buf, sizeof buf, "%d", k);
        int w = imbal_canvas_text_width(buf, 1);
        if (w > name_w) name_w = w;
    }
    if (name_w > NAME_MAX_PX) name_w = NAME_MAX_PX;
    int pad = labels ? label_w + 8 : 8; /* room for the value labels beyond the bar ends */
    int left = 16 + name_w + 8;
    int width = left + pad + PLOT_W + pad + 16;
    int th = imbal_plot_title_height(title, width);
    int top = th + 8 + 18; /* legend row under the title */
    int plot_h = num_classes * (num_series * bar_h + gap) + gap;
    int height = top + plot_h + 24 + 8;
    f.x = left, f.y = top, f.w = pad + PLOT_W + pad, f.h = plot_h;
    imbal_canvas c;
    imbal_status st = imbal_canvas_create(ctx, &c, width, height, 255, 255, 255);
    if (st) return st;
    imbal_plot_title(&c, title, 0, width, 0);
    /* the axis maps onto the inner part so that labels beyond bar ends stay in the frame */
    imbal_plot_frame inner = f;
    inner.x = f.x + pad, inner.w = PLOT_W;
    for (int i = 0; i < f.xa.n_ticks; ++i) {
        int px = (int)lround(imbal_axis_map(&f.xa, f.xa.ticks[i], inner.x, inner.x + PLOT_W - 1));
        imbal_canvas_line_c(&c, px, f.y, px, f.y + f.h - 1, PLOT_GRID);
        imbal_canvas_line_c(&c, px, f.y + f.h - 1, px, f.y + f.h + 3, PLOT_AXIS);
        int tw = imbal_canvas_text_width(f.xa.labels[i], 1);
        imbal_canvas_text_c(&c, px - tw / 2, f.y + f.h + 8, f.xa.labels[i], 1, 0, PLOT_TEXT);
    }
    imbal_canvas_frame(&c, f.x, f.y, f.w, f.h, PLOT_AXIS);
    int zx = (int)lround(imbal_axis_map(&f.xa, 0, inner.x, inner.x + PLOT_W - 1));
    for (int k = 0; k < num_classes; ++k) {
        int gy = f.y + gap + k * (num_series * bar_h + gap);
        if (names) {
            if (class_names && class_names[k])
                snprintf(buf, sizeof buf, "%s", class_names[k]);
            else
                snprintf(buf, sizeof buf, "%d", k);
            imbal_plot_fit_text(buf, name_w, 1, fit, sizeof fit);
            int tw = imbal_canvas_text_width(fit, 1);
            imbal_canvas_text_c(&c, f.x - 8 - tw, gy + (num_series * bar_h - PLOT_GLYPH) / 2, fit,
                                1, 0, PLOT_TEXT);
        }
        for (int s = 0; s < num_series; ++s) {
            double v = values[(int64_t)k * num_series + s];
            int by = gy + s * bar_h;
            int inset = bar_h >= 6 ? 1 : 0; /* a pixel of white between bars of a group */
            value_text(buf, sizeof buf, v, value_suffix);
            if (isnan(v)) {
                if (labels)
                    imbal_canvas_text_c(&c, zx + 4, by + (bar_h - PLOT_GLYPH) / 2, buf, 1, 0,
                                        PLOT_AXIS);
                continue;
            }
            int px = (int)lround(imbal_axis_map(&f.xa, v, inner.x, inner.x + PLOT_W - 1));
            int bx = px < zx ? px : zx + 1, bw = px < zx ? zx - px : px - zx;
            imbal_canvas_rect_c(&c, bx, by + inset, bw, bar_h - 2 * inset, imbal_palette_tab10(s));
            if (!labels) continue;
            int tw = imbal_canvas_text_width(buf, 1);
            int tx = v < 0 ? px - 4 - tw : px + 4;
            imbal_canvas_text_c(&c, tx, by + (bar_h - PLOT_GLYPH) / 2, buf, 1, 0, PLOT_TEXT);
        }
    }
    imbal_canvas_line_c(&c, zx, f.y, zx, f.y + f.h - 1, PLOT_TEXT); /* the zero line */
    int lx = f.x, ly = th + 6;
    for (int s = 0; s < num_series; ++s) {
        if (series_names && series_names[s])
            snprintf(buf, sizeof buf, "%s", series_names[s]);
        else
            snprintf(buf, sizeof buf, "series %d", s + 1);
        imbal_plot_fit_text(buf, 24 * PLOT_GLYPH, 1, fit, sizeof fit);
        imbal_canvas_rect_c(&c, lx, ly, 10, 10, imbal_palette_tab10(s));
        lx += 14 + imbal_canvas_text_c(&c, lx + 14, ly + 1, fit, 1, 0, PLOT_TEXT) + 16;
    }
    return imbal_plot_finish(ctx, &c, path);
}
