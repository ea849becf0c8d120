/* imbal: a run's record (metrics.jsonl, training curves) and its report (report.json, pictures,
 * report.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "imbal/plot.h"
#include "input_file.h"
#include "internal.h"
#include "json_parse.h"
#include "train_internal.h"

void history_free(train_history *h) {
    free(h->train_loss);
    free(h->val_loss);
    free(h->val_acc);
    free(h->val_bacc);
    free(h->val_f1);
    free(h->jsonl);
    memset(h, 0, sizeof *h);
}

imbal_status history_add(imbal_ctx *ctx, train_history *h, double train_loss, double val_loss,
                         double val_acc, double val_bacc, double val_f1, const char *line) {
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 16;
        double **arrays[] = {&h->train_loss, &h->val_loss, &h->val_acc, &h->val_bacc, &h->val_f1};
        for (int i = 0; i < 5; i++) {
            double *p = imbal_xrealloc(ctx, *arrays[i], (size_t)cap, sizeof *p, "history");
            if (!p) return IMBAL_ERR_OUT_OF_MEMORY;
            *arrays[i] = p;
        }
        h->cap = cap;
    }
    h->train_loss[h->n] = train_loss;
    h->val_loss[h->n] = val_loss;
    h->val_acc[h->n] = val_acc;
    h->val_bacc[h->n] = val_bacc;
    h->val_f1[h->n] = val_f1;
    h->n++;
    size_t add = strlen(line) + 1;
    char *j = imbal_xrealloc(ctx, h->jsonl, h->jsonl_len + add + 1, 1, "metrics.jsonl");
    if (!j) return IMBAL_ERR_OUT_OF_MEMORY;
    h->jsonl = j;
    memcpy(h->jsonl + h->jsonl_len, line, add - 1);
    h->jsonl[h->jsonl_len + add - 1] = '\n';
    h->jsonl_len += add;
    h->jsonl[h->jsonl_len] = '\0';
    return IMBAL_OK;
}

/* A number field of a parsed JSON object (null or absent: NaN). */
static double field_number(const json_value *obj, const char *key) {
    const json_value *v = json_object_find(obj, key);
    return v && (v->type == JSON_INT || v->type == JSON_NUMBER) ? v->number : NAN;
}

/* One line of metrics.jsonl back into the history (line is 1-based, for the message). */
static imbal_status history_add_line(imbal_ctx *ctx, train_history *h, const char *path, int lineno,
                                     const char *line) {
    json_value obj;
    char err[128];
    if (json_parse(line, strlen(line), &obj, err, sizeof err) != JSON_OK ||
        obj.type != JSON_OBJECT) {
        json_value_free(&obj);
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "train --resume: '%s' line %d is not a JSON object", path, lineno);
    }
    imbal_status st =
        history_add(ctx, h, field_number(&obj, "train_loss"), field_number(&obj, "val_loss"),
                    field_number(&obj, "accuracy"), field_number(&obj, "balanced_accuracy"),
                    field_number(&obj, "macro_f1"), line);
    json_value_free(&obj);
    return st;
}

imbal_status history_load(imbal_ctx *ctx, train_history *h, const char *path, int epochs) {
    FILE *fp = imbal_fopen_input(path);
    if (!fp)
        return epochs == 0
                   ? IMBAL_OK
                   : imbal_fail(ctx, IMBAL_ERR_IO,
                                "train --resume: cannot read '%s' (the run's metrics)", path);
    char *line = NULL;
    size_t cap = 0;
    imbal_status st = IMBAL_OK;
    while (st == IMBAL_OK && h->n < epochs && getline(&line, &cap, fp) > 0) {
        line[strcspn(line, "\n")] = '\0';
        st = history_add_line(ctx, h, path, h->n + 1, line);
    }
    free(line);
    fclose(fp);
    if (st == IMBAL_OK && h->n < epochs)
        st = imbal_fail(ctx, IMBAL_ERR_FORMAT,
                        "train --resume: '%s' has %d epoch lines, the checkpoint %d", path, h->n,
                        epochs);
    return st;
}

/* ---- the report ---------------------------------------------------------------------------- */

static const char *join(char *buf, size_t cap, const char *dir, const char *file) {
    snprintf(buf, cap, "%s/%s", dir, file);
    return buf;
}

static imbal_status curves(imbal_ctx *ctx, const char *dir, const train_history *h) {
    if (!h || h->n == 0) return IMBAL_OK;
    double *x = imbal_xmalloc(ctx, (size_t)h->n, sizeof *x, "curve x");
    if (!x) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < h->n; i++)
        x[i] = i + 1;
    char path[4096];
    const double *loss[2] = {h->train_loss, h->val_loss};
    const char *loss_names[2] = {"train loss", "val loss"};
    imbal_status st =
        imbal_plot_lines(ctx, join(path, sizeof path, dir, "curves_loss.png"), "Loss per epoch",
                         "epoch", "loss", h->n, x, 2, loss, loss_names);
    const double *acc[3] = {h->val_acc, h->val_bacc, h->val_f1};
    const char *acc_names[3] = {"accuracy", "balanced accuracy", "macro F1"};
    if (st == IMBAL_OK)
        st = imbal_plot_lines(ctx, join(path, sizeof path, dir, "curves_accuracy.png"),
                              "Validation per epoch", "epoch", "score", h->n, x, 3, acc, acc_names);
    free(x);
    return st;
}

static void md_table(FILE *fp, const imbal_metrics_report *r, char *const *names,
                     const int64_t *train_counts, double beta) {
    fprintf(fp, "| class | train count | test count | precision | recall | F1 | F%.2g |\n", beta);
    fprintf(fp, "|---|---:|---:|---:|---:|---:|---:|\n");
    for (int k = 0; k < r->num_classes; k++) {
        const imbal_class_metrics *c = &r->per_class[k];
        fprintf(fp, "| %s | %lld | %lld | %.3f | %.3f | %.3f | %.3f |\n", names[k],
                train_counts ? (long long)train_counts[k] : -1LL, (long long)c->support,
                c->precision, c->recall, c->f1, c->fbeta);
    }
}

static imbal_status write_md(imbal_ctx *ctx, const char *dir, const char *title,
                             const imbal_metrics_report *r, const imbal_metrics_options *o,
                             char *const *names, const int64_t *train_counts,
                             const train_history *h) {
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "report.md");
    fprintf(fp, "# imbal report: %s\n\n", title);
    if (r) {
        fprintf(fp, "| metric | value |\n|---|---:|\n");
        fprintf(fp, "| samples | %lld |\n| accuracy | %.4f |\n| balanced accuracy | %.4f |\n",
                (long long)r->total, r->accuracy, r->balanced_accuracy);
        fprintf(fp, "| macro F1 | %.4f |\n| macro F%.2g | %.4f |\n| G-mean | %.4f |\n", r->macro_f1,
                o->beta, r->macro_fbeta, r->gmean);
        if (!isnan(r->top_k_accuracy))
            fprintf(fp, "| top-%d accuracy | %.4f |\n", r->top_k, r->top_k_accuracy);
        if (!isnan(r->many_shot) || !isnan(r->medium_shot) || !isnan(r->few_shot))
            fprintf(fp,
                    "| many-shot (> %lld) | %.4f |\n| medium-shot | %.4f |\n| few-shot (< %lld) "
                    "| %.4f |\n",
                    (long long)o->many_above, r->many_shot, r->medium_shot, (long long)o->few_below,
                    r->few_shot);
        fprintf(fp, "\n## Per class\n\n");
        md_table(fp, r, names, train_counts, o->beta);
        fprintf(fp, "\n## Pictures\n\n![confusion matrix](confusion.png)\n\n"
                    "![row-normalised confusion matrix](confusion_normalized.png)\n\n"
                    "![recall against training count](recall_vs_count.png)\n");
    }
    if (h && h->n)
        fprintf(fp,
                "\n## Training curves (%d epochs)\n\n![loss](curves_loss.png)\n\n"
                "![validation scores](curves_accuracy.png)\n",
                h->n);
    fprintf(fp, "\nreport.json holds every number above.\n");
    fclose(fp);
    char path[4096];
    imbal_status st =
        imbal_atomic_write_all(ctx, join(path, sizeof path, dir, "report.md"), buf, len);
    free(buf);
    return st;
}

imbal_status report_write(imbal_ctx *ctx, const char *out_dir, const char *title,
                          const imbal_metrics *m, const imbal_metrics_report *r,
                          const imbal_metrics_options *o, char *const *names,
                          const int64_t *train_counts, const train_history *h) {
    char path[4096];
    imbal_status st = imbal_mkdirs(ctx, out_dir);
    const char *const *cn = (const char *const *)names;
    if (st == IMBAL_OK && m && r) {
        st = imbal_metrics_write_json(ctx, join(path, sizeof path, out_dir, "report.json"), m, r, o,
                                      cn);
        int C = r->num_classes;
        if (st == IMBAL_OK)
            st = imbal_plot_confusion(ctx, join(path, sizeof path, out_dir, "confusion.png"), C,
                                      imbal_metrics_confusion(m), cn, 0, "Confusion matrix");
        if (st == IMBAL_OK)
            st = imbal_plot_confusion(ctx,
                                      join(path, sizeof path, out_dir, "confusion_normalized.png"),
                                      C, imbal_metrics_confusion(m), cn, 1,
                                      "Confusion matrix, row-normalised (recall on the diagonal)");
        double *recall = imbal_xmalloc(ctx, (size_t)C, sizeof *recall, "recall");
        if (!recall) return IMBAL_ERR_OUT_OF_MEMORY;
        for (int k = 0; k < C; k++)
            recall[k] = r->per_class[k].recall;
        if (st == IMBAL_OK && train_counts)
            st = imbal_plot_recall_vs_count(
                ctx, join(path, sizeof path, out_dir, "recall_vs_count.png"),
                "Recall against training count", C, train_counts, recall, NULL, cn, NULL);
        free(recall);
    }
    if (st == IMBAL_OK) st = curves(ctx, out_dir, h);
    if (st == IMBAL_OK) st = write_md(ctx, out_dir, title, r, o, names, train_counts, h);
    return st;
}
