/* imbal: report pictures as PNG, drawn in C with a small built-in bitmap font (no external
 * plotting library): the confusion-matrix heatmap, training curves, per-class recall against
 * class count, and the per-class change between two runs. Every picture is written atomically
 * through libpng (RGB, 8 bit). Class names are drawn as given (printable ASCII; other bytes
 * become '?'), shortened with "..." when they do not fit. docs/plots.md shows each picture. */
#ifndef IMBAL_PLOT_H
#define IMBAL_PLOT_H

#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

/* ---- a canvas and the font, for callers who draw their own pictures ------------------------ */

typedef struct imbal_canvas {
    int width, height;
    uint8_t *rgb; /* width * height * 3, row-major, owned */
} imbal_canvas;

/* A canvas filled with (r, g, b). 1..8192 per side. */
IMBAL_API imbal_status imbal_canvas_create(imbal_ctx *ctx, imbal_canvas *c, int width, int height,
                                           uint8_t r, uint8_t g, uint8_t b);
IMBAL_API void imbal_canvas_free(imbal_canvas *c);
/* Clipped to the canvas (any coordinates are safe). imbal_canvas_line is Bresenham's, both
 * endpoints included. */
IMBAL_API void imbal_canvas_fill_rect(imbal_canvas *c, int x, int y, int w, int h, uint8_t r,
                                      uint8_t g, uint8_t b);
IMBAL_API void imbal_canvas_line(imbal_canvas *c, int x0, int y0, int x1, int y1, uint8_t r,
                                 uint8_t g, uint8_t b);
/* Draws text with its top-left corner at (x, y), each glyph 8 x 8 pixels times `scale` (>= 1);
 * returns the width drawn. vertical != 0 draws it rotated 90 degrees counter-clockwise, reading
 * bottom to top, with (x, y) its bottom-left corner (the pixel itself is drawn on). Bytes outside
 * printable ASCII draw '?'. Clipped. text_width is strlen(text) * 8 * scale (0 for NULL). */
IMBAL_API int imbal_canvas_text(imbal_canvas *c, int x, int y, const char *text, int scale,
                                int vertical, uint8_t r, uint8_t g, uint8_t b);
IMBAL_API int imbal_canvas_text_width(const char *text, int scale);
IMBAL_API imbal_status imbal_canvas_write_png(imbal_ctx *ctx, const imbal_canvas *c,
                                              const char *path);

/* ---- the report's pictures ----------------------------------------------------------------- */

/* Heatmap of a C x C confusion matrix (rows true, columns predicted) with class names on both
 * axes and the value in each cell when cells are large enough. normalize != 0 colours and labels
 * each cell by its row fraction (recall on the diagonal, "0.87"); else by count. Large C (> 50)
 * drops the names and cell labels but still draws the colours. class_names (or any entry) may be
 * NULL: the index is drawn. Zero cells are left blank; a row without samples is grey when
 * normalised. Negative counts are IMBAL_ERR_INVALID_ARGUMENT naming the cell; 1..8000 classes. */
IMBAL_API imbal_status imbal_plot_confusion(imbal_ctx *ctx, const char *path, int num_classes,
                                            const int64_t *confusion,
                                            const char *const *class_names, int normalize,
                                            const char *title);

/* Line chart: num_series series of n_points y values against x (shared x, e.g. epochs), with a
 * legend of series names, axis labels and tick values. NaN points are gaps. title, labels and
 * series_names (or entries) may be NULL; 1..64 series (colours repeat after 10). */
IMBAL_API imbal_status imbal_plot_lines(imbal_ctx *ctx, const char *path, const char *title,
                                        const char *x_label, const char *y_label, int n_points,
                                        const double *x, int num_series, const double *const *y,
                                        const char *const *series_names);

/* Per-class recall (y, 0..1) against training count (x, log scale), one marker per class labelled
 * with its name; with recall_b != NULL a second run's recall in a second colour and a legend
 * (run_names[0], run_names[1]). train_counts must be >= 1 (log axis) and recall within [0, 1] or
 * NaN (nothing drawn for that class). class_names and run_names may be NULL. */
IMBAL_API imbal_status imbal_plot_recall_vs_count(imbal_ctx *ctx, const char *path,
                                                  const char *title, int num_classes,
                                                  const int64_t *train_counts,
                                                  const double *recall_a, const double *recall_b,
                                                  const char *const *class_names,
                                                  const char *const *run_names);

/* Grouped horizontal bars: for each class, num_series values (e.g. percent change of precision,
 * recall and F-beta from run A to run B), positive to the right of a zero line, negative to the
 * left, each bar labelled with its value ("+12.5%"). NaN values are drawn as "n/a". values is
 * [num_classes][num_series]; infinite values are refused. 1..10 series; class_names,
 * series_names and value_suffix may be NULL. */
IMBAL_API imbal_status imbal_plot_bars(imbal_ctx *ctx, const char *path, const char *title,
                                       int num_classes, const char *const *class_names,
                                       int num_series, const char *const *series_names,
                                       const double *values, const char *value_suffix);

IMBAL_EXTERN_C_END

#endif
