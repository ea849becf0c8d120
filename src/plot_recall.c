/* imbal: per-class recall (y, 0..1) against training count (x, log10), one disc per class with its
 * name beside it (up to LABEL_MAX_CLASSES classes). With a second run, its discs are drawn in a
 * second colour, a grey segment joins each class's two points (the change at a glance), and a
 * legend names the runs. NaN recall (a class absent from the evaluation set) draws nothing. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "internal.h"
#include "plot_internal.h"

#define PLOT_W            620
#define PLOT_H            380
#define LABEL_MAX_CLASSES 40

static imbal_status check_recall(imbal_ctx *ctx, const char *path, const char *which,
                                 const double *r, int n) {
    for (int i = 0; i < n; ++i)
        if (!isnan(r[i]) && !(r[i] >= 0 && r[i] <= 1))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "imbal_plot_recall_vs_count '%s': %s[%d] = %g is outside [0, 1]",
                              path, which, i, r[i]);
    return IMBAL_OK;
}

imbal_status imbal_plot_recall_vs_count(imbal_ctx *ctx, const char *path, const char *title,
                                        int num_classes, const int64_t *train_counts,
                                        const double *recall_a, const double *recall_b,
                                        const char *const *class_names,
                                        const char *const *run_names) {
    const char *fn = "imbal_plot_recall_vs_count";
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: path is empty", fn);
    if (num_classes < 1 || num_classes > 100000)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s '%s': num_classes %d is outside 1..100000", fn, path, num_classes);
    if (!train_counts || !recall_a)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s '%s': %s is NULL", fn, path,
                          !train_counts ? "train_counts" : "recall_a");
    int64_t cmin = INT64_MAX, cmax = 0;
    for (int i = 0; i < num_classes; ++i) {
        if (train_counts[i] < 1)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': train_counts[%d] = %" PRId64
                              " (the log axis needs counts >= 1)",
                              fn, path, i, train_counts[i]);
        if (train_counts[i] < cmin) cmin = train_counts[i];
        if (train_counts[i] > cmax) cmax = train_counts[i];
    }
    imbal_status st = check_recall(ctx, path, "recall_a", recall_a, num_classes);
    if (!st && recall_b) st = check_recall(ctx, path, "recall_b", recall_b, num_classes);
    if (st) return st;

    imbal_plot_frame f;
    imbal_axis_log10(&f.xa, (double)cmin, (double)cmax);
    imbal_axis_linear(&f.ya, 0, 1, 6);
    const char *xl = "training images (log scale)", *yl = "recall";
    int left = 16 + PLOT_GLYPH + 8 + imbal_axis_label_width(&f.ya) + 8;
    int width = left + PLOT_W + 24;
    int top = imbal_plot_title_height(title, width) + 8 + (recall_b ? 18 : 0);
    int height = top + PLOT_H + 24 + 16 + 8;
    f.x = left, f.y = top, f.w = PLOT_W, f.h = PLOT_H;
    imbal_canvas c;
    st = imbal_canvas_create(ctx, &c, width, height, 255, 255, 255);
    if (st) return st;
    int th = imbal_plot_title(&c, title, 0, width, 0);
    imbal_plot_draw_frame(&c, &f, xl, yl);
    int x0 = f.x + 6, x1 = f.x + f.w - 7, y0 = f.y + 6, y1 = f.y + f.h - 7; /* discs stay inside */
    imbal_rgb ca = imbal_palette_tab10(0), cb = imbal_palette_tab10(1);
    char buf[256], fit[32];
    for (int i = 0; i < num_classes; ++i) {
        int px = (int)lround(imbal_axis_map(&f.xa, (double)train_counts[i], x0, x1));
        int pa = (int)lround(imbal_axis_map(&f.ya, recall_a[i], y1, y0));
        int pb = recall_b ? (int)lround(imbal_axis_map(&f.ya, recall_b[i], y1, y0)) : 0;
        if (recall_b && !isnan(recall_a[i]) && !isnan(recall_b[i]))
            imbal_canvas_line_c(&c, px, pa, px, pb, (imbal_rgb){170, 170, 170});
        if (!isnan(recall_a[i])) imbal_canvas_disc(&c, px, pa, 4, ca);
        if (recall_b && !isnan(recall_b[i])) imbal_canvas_disc(&c, px, pb, 4, cb);
        if (num_classes > LABEL_MAX_CLASSES) continue;
        double r = recall_b && !isnan(recall_b[i]) ? recall_b[i] : recall_a[i];
        if (isnan(r)) continue;
        if (class_names && class_names[i])
            snprintf(buf, sizeof buf, "%s", class_names[i]);
        else
            snprintf(buf, sizeof buf, "%d", i);
        imbal_plot_fit_text(buf, 12 * PLOT_GLYPH, 1, fit, sizeof fit);
        int tw = imbal_canvas_text_width(fit, 1);
        /* below-right of the point: recall tends to rise with count, so the neighbour on the
         * right sits higher and the label stays clear of it */
        int ty = (int)lround(imbal_axis_map(&f.ya, r, y1, y0)) + 3;
        int tx = px + 7 + tw <= f.x + f.w - 2 ? px + 7 : px - 7 - tw; /* flip at the right edge */
        imbal_canvas_text_c(&c, tx, ty, fit, 1, 0, PLOT_TEXT);
    }
    if (recall_b) { /* legend between the title and the plot */
        const char *na = run_names && run_names[0] ? run_names[0] : "run A";
        const char *nb = run_names && run_names[1] ? run_names[1] : "run B";
        int lx = f.x, ly = th + 4;
        imbal_plot_fit_text(na, 28 * PLOT_GLYPH, 1, buf, sizeof buf);
        imbal_canvas_disc(&c, lx + 4, ly + 4, 4, ca);
        lx += 14 + imbal_canvas_text_c(&c, lx + 12, ly, buf, 1, 0, PLOT_TEXT) + 16;
        imbal_plot_fit_text(nb, 28 * PLOT_GLYPH, 1, buf, sizeof buf);
        imbal_canvas_disc(&c, lx + 4, ly + 4, 4, cb);
        imbal_canvas_text_c(&c, lx + 12, ly, buf, 1, 0, PLOT_TEXT);
    }
    return imbal_plot_finish(ctx, &c, path);
}
