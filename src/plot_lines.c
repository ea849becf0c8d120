/* imbal: the line chart (training curves): several series against a shared x, a legend right of
 * the plot area, nice ticks on both axes, light grid. Non-finite points are gaps: a segment is
 * drawn only between two consecutive finite points. */
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "plot_internal.h"

#define PLOT_W        560
#define PLOT_H        340
#define LEGEND_MAX_PX 200

static void series_name(char *out, size_t size, const char *const *names, int s) {
    if (names && names[s])
        snprintf(out, size, "%s", names[s]);
    else
        snprintf(out, size, "series %d", s + 1);
}

imbal_status imbal_plot_lines(imbal_ctx *ctx, const char *path, const char *title,
                              const char *x_label, const char *y_label, int n_points,
                              const double *x, int num_series, const double *const *y,
                              const char *const *series_names) {
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_plot_lines: path is empty");
    if (n_points < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_plot_lines '%s': n_points %d (>= 1 needed)", path, n_points);
    if (num_series < 1 || num_series > 64)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_plot_lines '%s': num_series %d is outside 1..64", path,
                          num_series);
    if (!x || !y)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_plot_lines '%s': %s is NULL",
                          path, !x ? "x" : "y");
    for (int s = 0; s < num_series; ++s)
        if (!y[s])
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "imbal_plot_lines '%s': y[%d] is NULL", path, s);
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int i = 0; i < n_points; ++i) {
        if (!isfinite(x[i])) continue;
        xlo = fmin(xlo, x[i]);
        xhi = fmax(xhi, x[i]);
        for (int s = 0; s < num_series; ++s)
            if (isfinite(y[s][i])) ylo = fmin(ylo, y[s][i]), yhi = fmax(yhi, y[s][i]);
    }
    if (!(xlo <= xhi)) xlo = 0, xhi = 1; /* nothing finite: an empty frame */
    if (!(ylo <= yhi)) ylo = 0, yhi = 1;
    imbal_plot_frame f;
    imbal_axis_linear(&f.xa, xlo, xhi, 8);
    imbal_axis_linear(&f.ya, ylo, yhi, 7);
    char buf[256];
    int legend_w = 0;
    for (int s = 0; s < num_series; ++s) {
        series_name(buf, sizeof buf, series_names, s);
        int w = imbal_canvas_text_width(buf, 1);
        if (w > legend_w) legend_w = w;
    }
    if (legend_w > LEGEND_MAX_PX) legend_w = LEGEND_MAX_PX;
    int left = 16 + (y_label && *y_label ? PLOT_GLYPH + 8 : 0) + imbal_axis_label_width(&f.ya) + 8;
    int width = left + PLOT_W + 16 + 24 + legend_w + 16;
    int top = imbal_plot_title_height(title, width) + 8;
    int legend_h = num_series * 14 + 8;
    int plot_h = PLOT_H > legend_h ? PLOT_H : legend_h;
    int height = top + plot_h + 24 + (x_label && *x_label ? 16 : 0) + 8;
    f.x = left;
    f.y = top;
    f.w = PLOT_W;
    f.h = plot_h;
    imbal_canvas c;
    imbal_status st = imbal_canvas_create(ctx, &c, width, height, 255, 255, 255);
    if (st) return st;
    imbal_plot_title(&c, title, 0, width, 0);
    imbal_plot_draw_frame(&c, &f, x_label, y_label);
    int x0 = f.x, x1 = f.x + f.w - 1, y0 = f.y, y1 = f.y + f.h - 1;
    int markers = n_points <= 40;
    for (int s = 0; s < num_series; ++s) {
        imbal_rgb col = imbal_palette_tab10(s);
        int have_prev = 0, px_prev = 0, py_prev = 0;
        for (int i = 0; i < n_points; ++i) {
            if (!isfinite(x[i]) || !isfinite(y[s][i])) {
                have_prev = 0;
                continue;
            }
            int px = (int)lround(imbal_axis_map(&f.xa, x[i], x0, x1));
            int py = (int)lround(imbal_axis_map(&f.ya, y[s][i], y1, y0));
            if (have_prev) imbal_canvas_thick_line(&c, px_prev, py_prev, px, py, 2, col);
            if (markers) imbal_canvas_disc(&c, px, py, 2, col);
            have_prev = 1, px_prev = px, py_prev = py;
        }
    }
    /* legend: a short line in the series colour, then its name */
    char fit[64];
    int lx = f.x + f.w + 16, ly = f.y + 4;
    for (int s = 0; s < num_series; ++s) {
        series_name(buf, sizeof buf, series_names, s);
        imbal_plot_fit_text(buf, LEGEND_MAX_PX, 1, fit, sizeof fit);
        imbal_canvas_thick_line(&c, lx, ly + 14 * s + 4, lx + 16, ly + 14 * s + 4, 2,
                                imbal_palette_tab10(s));
        imbal_canvas_text_c(&c, lx + 22, ly + 14 * s, fit, 1, 0, PLOT_TEXT);
    }
    return imbal_plot_finish(ctx, &c, path);
}
