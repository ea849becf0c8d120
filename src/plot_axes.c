/* imbal: axis layout shared by the charts: nice linear ticks (1-2-5 steps), log10 ticks, value
 * formatting, and the frame (grid, border, tick labels, axis labels) around a plot area. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plot_internal.h"

void imbal_plot_format(char *out, size_t size, double v, int decimals) {
    if (isnan(v)) {
        snprintf(out, size, "n/a");
        return;
    }
    if (decimals < 0) decimals = 0;
    if (decimals > 6 || fabs(v) >= 1e7) {
        snprintf(out, size, "%.3g", v);
        return;
    }
    snprintf(out, size, "%.*f", decimals, v);
    if (strcmp(out, "-0") == 0 || (out[0] == '-' && strspn(out + 1, "0.") == strlen(out + 1)))
        memmove(out, out + 1, strlen(out)); /* no "-0.0" */
}

/* The "nice" number (1, 2, 5 or 10 times a power of ten) nearest x (Heckbert 1990). */
static double nice_step(double x) {
    double e = floor(log10(x)), f = x / pow(10, e);
    double n = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    return n * pow(10, e);
}

void imbal_axis_linear(imbal_axis *a, double lo, double hi, int target) {
    memset(a, 0, sizeof *a);
    if (!isfinite(lo) || !isfinite(hi)) lo = 0, hi = 1;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    if (hi - lo < 1e-12 * (fabs(lo) + fabs(hi)) || hi == lo) {
        double pad = lo == 0 ? 1 : fabs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    if (target < 2) target = 2;
    if (target > PLOT_MAX_TICKS - 2) target = PLOT_MAX_TICKS - 2;
    double step = nice_step((hi - lo) / (target - 1));
    double first = floor(lo / step + 1e-9), last = ceil(hi / step - 1e-9);
    while (last - first + 1 > PLOT_MAX_TICKS) { /* rounding made too many: double the step */
        step *= 2;
        first = floor(lo / step + 1e-9);
        last = ceil(hi / step - 1e-9);
    }
    a->lo = first * step;
    a->hi = last * step;
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    for (double k = first; k <= last + 1e-9; k += 1) {
        double v = k * step;
        if (fabs(v) < step * 1e-9) v = 0;
        a->ticks[a->n_ticks] = v;
        imbal_plot_format(a->labels[a->n_ticks], sizeof a->labels[0], v, decimals);
        ++a->n_ticks;
    }
}

void imbal_axis_log10(imbal_axis *a, double lo, double hi) {
    memset(a, 0, sizeof *a);
    a->log = 1;
    if (!(lo > 0) || !isfinite(lo)) lo = 1;
    if (!(hi > 0) || !isfinite(hi)) hi = lo;
    if (lo > hi) {
        double t = lo;
        lo = hi;
        hi = t;
    }
    double e0 = floor(log10(lo) + 1e-9), e1 = ceil(log10(hi) - 1e-9);
    if (e1 <= e0) e1 = e0 + 1;
    while (e1 - e0 + 1 > PLOT_MAX_TICKS)
        e0 += 1; /* absurd ranges: keep the top decades */
    a->lo = e0;
    a->hi = e1;
    int minor = e1 - e0 < 2; /* a single decade: also 2 and 5 times the power */
    for (double e = e0; e <= e1 + 1e-9 && a->n_ticks < PLOT_MAX_TICKS; e += 1) {
        static const double mult[3] = {1, 2, 5};
        for (int m = 0; m < (minor ? 3 : 1); ++m) {
            double v = mult[m] * pow(10, e);
            if (log10(v) > e1 + 1e-9 || a->n_ticks >= PLOT_MAX_TICKS) break;
            a->ticks[a->n_ticks] = v;
            if (v >= 1e6 || v < 1e-3)
                snprintf(a->labels[a->n_ticks], sizeof a->labels[0], "%.0e", v);
            else
                snprintf(a->labels[a->n_ticks], sizeof a->labels[0], "%g", v);
            ++a->n_ticks;
        }
    }
}

double imbal_axis_map(const imbal_axis *a, double v, double p0, double p1) {
    double t = a->log ? log10(v) : v;
    if (a->hi == a->lo) return p0;
    return p0 + (t - a->lo) / (a->hi - a->lo) * (p1 - p0);
}

int imbal_axis_label_width(const imbal_axis *a) {
    int w = 0;
    for (int i = 0; i < a->n_ticks; ++i) {
        int t = imbal_canvas_text_width(a->labels[i], 1);
        if (t > w) w = t;
    }
    return w;
}

void imbal_plot_draw_frame(imbal_canvas *c, const imbal_plot_frame *f, const char *x_label,
                           const char *y_label) {
    int x0 = f->x, y0 = f->y, x1 = f->x + f->w - 1, y1 = f->y + f->h - 1;
    /* grid and tick labels */
    for (int i = 0; i < f->xa.n_ticks; ++i) {
        int px = (int)lround(imbal_axis_map(&f->xa, f->xa.ticks[i], x0, x1));
        imbal_canvas_line_c(c, px, y0, px, y1, PLOT_GRID);
        imbal_canvas_line_c(c, px, y1, px, y1 + 4, PLOT_AXIS);
        int tw = imbal_canvas_text_width(f->xa.labels[i], 1);
        imbal_canvas_text_c(c, px - tw / 2, y1 + 8, f->xa.labels[i], 1, 0, PLOT_TEXT);
    }
    for (int i = 0; i < f->ya.n_ticks; ++i) {
        int py = (int)lround(imbal_axis_map(&f->ya, f->ya.ticks[i], y1, y0));
        imbal_canvas_line_c(c, x0, py, x1, py, PLOT_GRID);
        imbal_canvas_line_c(c, x0 - 4, py, x0, py, PLOT_AXIS);
        int tw = imbal_canvas_text_width(f->ya.labels[i], 1);
        imbal_canvas_text_c(c, x0 - 8 - tw, py - 4, f->ya.labels[i], 1, 0, PLOT_TEXT);
    }
    imbal_canvas_frame(c, f->x, f->y, f->w, f->h, PLOT_AXIS);
    char buf[128];
    if (x_label && *x_label) {
        imbal_plot_fit_text(x_label, f->w, 1, buf, sizeof buf);
        int tw = imbal_canvas_text_width(buf, 1);
        imbal_canvas_text_c(c, f->x + (f->w - tw) / 2, y1 + 24, buf, 1, 0, PLOT_TEXT);
    }
    if (y_label && *y_label) {
        imbal_plot_fit_text(y_label, f->h, 1, buf, sizeof buf);
        int tw = imbal_canvas_text_width(buf, 1);
        int lw = imbal_axis_label_width(&f->ya);
        imbal_canvas_text_c(c, x0 - 8 - lw - 8 - PLOT_GLYPH, f->y + (f->h + tw) / 2, buf, 1, 1,
                            PLOT_TEXT);
    }
}

int imbal_plot_title_height(const char *title, int w) {
    if (!title || !*title) return 0;
    return imbal_canvas_text_width(title, 2) <= w - 16 ? 2 * PLOT_GLYPH + 16 : PLOT_GLYPH + 16;
}

int imbal_plot_title(imbal_canvas *c, const char *title, int x, int w, int y) {
    if (!title || !*title) return 0;
    int scale = imbal_canvas_text_width(title, 2) <= w - 16 ? 2 : 1;
    char buf[256];
    imbal_plot_fit_text(title, w - 16, scale, buf, sizeof buf);
    int tw = imbal_canvas_text_width(buf, scale);
    imbal_canvas_text_c(c, x + (w - tw) / 2, y + 8, buf, scale, 0, PLOT_TEXT);
    return scale * PLOT_GLYPH + 16;
}
