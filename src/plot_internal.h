/* imbal: helpers shared by the plot files (font, drawing primitives, colours, axes); not
 * installed. */
#ifndef IMBAL_PLOT_INTERNAL_H
#define IMBAL_PLOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/plot.h"

typedef struct imbal_rgb {
    uint8_t r, g, b;
} imbal_rgb;

/* Shared look: white background, dark grey text, light grid, grey axes. */
#define PLOT_BG   ((imbal_rgb){255, 255, 255})
#define PLOT_TEXT ((imbal_rgb){45, 45, 45})
#define PLOT_GRID ((imbal_rgb){232, 232, 232})
#define PLOT_AXIS ((imbal_rgb){110, 110, 110})

/* ---- font (plot_font.c) ---- */
#define PLOT_GLYPH 8
/* The 8 rows of a glyph, top to bottom, bit 0 = leftmost pixel. Bytes outside printable ASCII
 * 32..126 give the '?' glyph. */
const uint8_t *imbal_font_glyph(unsigned char c);

/* ---- drawing (plot_canvas.c) ---- */
void imbal_canvas_rect_c(imbal_canvas *c, int x, int y, int w, int h, imbal_rgb col);
void imbal_canvas_line_c(imbal_canvas *c, int x0, int y0, int x1, int y1, imbal_rgb col);
/* A line `thickness` pixels wide (a square brush along the Bresenham path). */
void imbal_canvas_thick_line(imbal_canvas *c, int x0, int y0, int x1, int y1, int thickness,
                             imbal_rgb col);
/* The outline of a rectangle, 1 pixel wide. */
void imbal_canvas_frame(imbal_canvas *c, int x, int y, int w, int h, imbal_rgb col);
/* A filled disc of the given radius centred on (cx, cy). */
void imbal_canvas_disc(imbal_canvas *c, int cx, int cy, int radius, imbal_rgb col);
int imbal_canvas_text_c(imbal_canvas *c, int x, int y, const char *text, int scale, int vertical,
                        imbal_rgb col);
/* Copies text into out (size out_size), shortened with "..." so that it is at most max_px wide at
 * `scale`; returns out. */
char *imbal_plot_fit_text(const char *text, int max_px, int scale, char *out, size_t out_size);

/* ---- colours (plot_colors.c) ---- */
/* viridis (matplotlib's perceptually uniform sequential map), t in [0, 1] clamped; NaN gives 0. */
imbal_rgb imbal_colormap_viridis(double t);
/* matplotlib's tab10 qualitative palette, i modulo 10. */
imbal_rgb imbal_palette_tab10(int i);
/* Black or white, whichever reads better on bg (relative luminance, ITU-R BT.709 weights). */
imbal_rgb imbal_text_on(imbal_rgb bg);

/* ---- axes (plot_axes.c) ---- */
#define PLOT_MAX_TICKS 24
typedef struct imbal_axis {
    double lo, hi; /* data range shown (log10 of the values when log) */
    int log;       /* 1: log10 scale */
    int n_ticks;
    double ticks[PLOT_MAX_TICKS]; /* data values (not log10) */
    char labels[PLOT_MAX_TICKS][24];
} imbal_axis;

/* A linear axis covering [lo, hi] with "nice" ticks (steps 1, 2 or 5 times a power of ten,
 * Heckbert, "Nice numbers for graph labels", Graphics Gems 1990), about `target` ticks; the range
 * is widened to whole steps. lo == hi is widened around the value. */
void imbal_axis_linear(imbal_axis *a, double lo, double hi, int target);
/* A log10 axis covering [lo, hi] (both > 0), widened to powers of ten; ticks at the powers (and at
 * 2 and 5 times them when the range is under two decades). */
void imbal_axis_log10(imbal_axis *a, double lo, double hi);
/* The pixel coordinate of value v on an axis drawn from p0 (at lo) to p1 (at hi). */
double imbal_axis_map(const imbal_axis *a, double v, double p0, double p1);
/* Formats v with `decimals` digits after the point, or %g for very large/small values. */
void imbal_plot_format(char *out, size_t size, double v, int decimals);

/* A plot area and its two axes: draws the grid, the frame, tick labels and axis labels. */
typedef struct imbal_plot_frame {
    int x, y, w, h; /* plot area on the canvas */
    imbal_axis xa, ya;
} imbal_plot_frame;
void imbal_plot_draw_frame(imbal_canvas *c, const imbal_plot_frame *f, const char *x_label,
                           const char *y_label);
/* Widest tick label of an axis in pixels at scale 1. */
int imbal_axis_label_width(const imbal_axis *a);
/* Draws the title centred over [x, x + w) at row y, scale 2 when it fits else 1; returns the
 * height used (0 for NULL/empty). */
int imbal_plot_title(imbal_canvas *c, const char *title, int x, int w, int y);
/* Height the title will take for a canvas `w` wide. */
int imbal_plot_title_height(const char *title, int w);

/* Writes the canvas, shared by the charts: frees it whatever happens. */
imbal_status imbal_plot_finish(imbal_ctx *ctx, imbal_canvas *c, const char *path);

#endif
