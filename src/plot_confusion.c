/* imbal: the confusion-matrix heatmap. Rows are true classes, columns predicted ones; cells are
 * coloured with viridis by count / max count or, normalised, by row fraction (recall on the
 * diagonal), with the value written in black or white by the cell's luminance when it fits. A
 * colour bar on the right gives the scale. Layout sizes follow the class count and name lengths. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "plot_internal.h"

#define NAMES_MAX_CLASSES 50   /* above: colours only */
#define NAME_MAX_PX       160  /* names longer than 20 glyphs are shortened with "..." */
#define GRID_TARGET_PX    1000 /* the grid's side when cells must shrink */
#define MAX_CLASSES       8000 /* one pixel per cell, within the canvas limit */

static void class_label(char *out, size_t size, const char *const *names, int i) {
    if (names && names[i])
        snprintf(out, size, "%s", names[i]);
    else
        snprintf(out, size, "%d", i);
}

static void cell_text(char *out, size_t size, int normalize, int64_t count, int64_t row_sum) {
    if (normalize)
        snprintf(out, size, "%.2f", row_sum > 0 ? (double)count / (double)row_sum : 0.0);
    else
        snprintf(out, size, "%" PRId64, count);
}

typedef struct layout {
    int cell, grid, left, top, name_w, label_w, names, labels, cbar_x, cbar_lw, width, height;
} layout;

static void plan(layout *L, int n, const char *const *names, int normalize, const char *title,
                 int64_t max_count) {
    memset(L, 0, sizeof *L);
    L->names = n <= NAMES_MAX_CLASSES;
    char buf[256];
    for (int i = 0; L->names && i < n; ++i) {
        class_label(buf, sizeof buf, names, i);
        int w = imbal_canvas_text_width(buf, 1);
        if (w > L->name_w) L->name_w = w;
    }
    if (L->name_w > NAME_MAX_PX) L->name_w = NAME_MAX_PX;
    cell_text(buf, sizeof buf, normalize, max_count, max_count);
    L->label_w = imbal_canvas_text_width(normalize ? "0.00" : buf, 1);
    int want = L->label_w + 10 < 28 ? 28 : L->label_w + 10;
    if (!L->names)
        L->cell = GRID_TARGET_PX / n < 1 ? 1 : GRID_TARGET_PX / n;
    else if ((int64_t)n * want <= GRID_TARGET_PX)
        L->cell = want;
    else
        L->cell = GRID_TARGET_PX / n < 10 ? 10 : GRID_TARGET_PX / n; /* a name row is 8 px */
    L->labels = L->names && L->label_w + 4 <= L->cell;
    L->grid = L->cell * n;
    int side_label = L->names ? 2 * PLOT_GLYPH + 8 : PLOT_GLYPH + 16;
    L->left = 16 + side_label + (L->names ? L->name_w + 8 : 0);
    cell_text(buf, sizeof buf, normalize, max_count, max_count);
    L->cbar_lw = imbal_canvas_text_width(normalize ? "1.0" : buf, 1);
    L->cbar_x = L->left + L->grid + 20;
    L->width = L->cbar_x + 16 + 8 + L->cbar_lw + 16;
    /* a small matrix widens to show its title whole (at scale 1 at least) */
    int title_w = title ? imbal_canvas_text_width(title, 1) + 16 : 0;
    if (title_w > L->width) L->width = title_w < 2000 ? title_w : 2000;
    L->top = imbal_plot_title_height(title, L->width) + 8;
    L->height = L->top + L->grid + 8 + (L->names ? L->name_w + 8 : 0) + 2 * PLOT_GLYPH + 16;
}

static void draw_colour_bar(imbal_canvas *c, const layout *L, int normalize, int64_t max_count) {
    int x = L->cbar_x, y = L->top, h = L->grid;
    for (int i = 0; i < h; ++i)
        imbal_canvas_rect_c(c, x, y + i, 16, 1,
                            imbal_colormap_viridis(h > 1 ? 1.0 - (double)i / (h - 1) : 1.0));
    imbal_canvas_frame(c, x, y, 16, h, PLOT_AXIS);
    double vmax = normalize ? 1.0 : (double)(max_count > 0 ? max_count : 1);
    imbal_axis a;
    imbal_axis_linear(&a, 0, vmax, h >= 200 ? 6 : h >= 80 ? 3 : 2);
    for (int i = 0; i < a.n_ticks; ++i) {
        if (a.ticks[i] > vmax * (1 + 1e-9) || a.ticks[i] < 0) continue;
        if (!normalize && a.ticks[i] != (double)(int64_t)a.ticks[i]) continue; /* no 0.5 counts */
        int py = y + (int)((1.0 - a.ticks[i] / vmax) * (h - 1) + 0.5);
        imbal_canvas_line_c(c, x + 16, py, x + 19, py, PLOT_AXIS);
        imbal_canvas_text_c(c, x + 22, py - 4, a.labels[i], 1, 0, PLOT_TEXT);
    }
}

static void draw_names(imbal_canvas *c, const layout *L, int n, const char *const *names) {
    char raw[256], fit[64];
    for (int i = 0; i < n; ++i) {
        class_label(raw, sizeof raw, names, i);
        imbal_plot_fit_text(raw, L->name_w, 1, fit, sizeof fit);
        int tw = imbal_canvas_text_width(fit, 1);
        int mid = i * L->cell + L->cell / 2 - PLOT_GLYPH / 2;
        /* rows: right-aligned left of the grid; columns: vertical, ending below the grid */
        imbal_canvas_text_c(c, L->left - 8 - tw, L->top + mid, fit, 1, 0, PLOT_TEXT);
        imbal_canvas_text_c(c, L->left + mid, L->top + L->grid + 8 + tw - 1, fit, 1, 1, PLOT_TEXT);
    }
}

imbal_status imbal_plot_confusion(imbal_ctx *ctx, const char *path, int num_classes,
                                  const int64_t *confusion, const char *const *class_names,
                                  int normalize, const char *title) {
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_plot_confusion: path is empty");
    if (num_classes < 1 || num_classes > MAX_CLASSES)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_plot_confusion '%s': num_classes %d is outside 1..%d", path,
                          num_classes, MAX_CLASSES);
    if (!confusion)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_plot_confusion '%s': confusion is NULL", path);
    int n = num_classes;
    int64_t max_count = 0;
    for (int64_t i = 0; i < (int64_t)n * n; ++i) {
        if (confusion[i] < 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "imbal_plot_confusion '%s': confusion[%d][%d] = %" PRId64
                              " is negative",
                              path, (int)(i / n), (int)(i % n), confusion[i]);
        if (confusion[i] > max_count) max_count = confusion[i];
    }
    layout L;
    plan(&L, n, class_names, normalize, title, max_count);
    imbal_canvas c;
    imbal_status st = imbal_canvas_create(ctx, &c, L.width, L.height, 255, 255, 255);
    if (st) return st;
    imbal_plot_title(&c, title, 0, L.width, 0);
    char buf[64];
    for (int r = 0; r < n; ++r) {
        int64_t row_sum = 0;
        for (int k = 0; k < n; ++k)
            row_sum += confusion[(int64_t)r * n + k];
        for (int k = 0; k < n; ++k) {
            int64_t v = confusion[(int64_t)r * n + k];
            int x = L.left + k * L.cell, y = L.top + r * L.cell;
            if (normalize && row_sum == 0) { /* no samples of this class: nothing to colour */
                imbal_canvas_rect_c(&c, x, y, L.cell, L.cell, (imbal_rgb){240, 240, 240});
                continue;
            }
            double t = normalize ? (double)v / (double)row_sum
                                 : (max_count > 0 ? (double)v / (double)max_count : 0.0);
            imbal_rgb col = imbal_colormap_viridis(t);
            imbal_canvas_rect_c(&c, x, y, L.cell, L.cell, col);
            if (!L.labels || v == 0) continue; /* blank zeros keep the errors readable */
            cell_text(buf, sizeof buf, normalize, v, row_sum);
            int tw = imbal_canvas_text_width(buf, 1);
            imbal_canvas_text_c(&c, x + (L.cell - tw) / 2, y + (L.cell - PLOT_GLYPH) / 2, buf, 1, 0,
                                imbal_text_on(col));
        }
    }
    imbal_canvas_frame(&c, L.left - 1, L.top - 1, L.grid + 2, L.grid + 2, PLOT_AXIS);
    if (L.names) draw_names(&c, &L, n, class_names);
    /* axis titles: "predicted" under the column names, "true" left of the row names */
    int below = L.top + L.grid + 8 + (L.names ? L.name_w + 8 : 0);
    const char *xl = "predicted", *yl = "true";
    int xw = imbal_canvas_text_width(xl, 1), yw = imbal_canvas_text_width(yl, 1);
    imbal_canvas_text_c(&c, L.left + (L.grid - xw) / 2, below + 4, xl, 1, 0, PLOT_TEXT);
    imbal_canvas_text_c(&c, 16, L.top + (L.grid + yw) / 2, yl, 1, 1, PLOT_TEXT);
    draw_colour_bar(&c, &L, normalize, max_count);
    return imbal_plot_finish(ctx, &c, path);
}
