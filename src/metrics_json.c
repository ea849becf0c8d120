/* imbal: report.json, built in memory and written atomically. */
#include "imbal/metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include "atomic_file.h"
#include "internal.h"
#include "json_writer.h"
#include "metrics_internal.h"

static void write_class(json_writer *w, const imbal_metrics_report *r, int j,
                        const imbal_metrics_options *o, const char *const *class_names) {
    const imbal_class_metrics *k = &r->per_class[j];
    char id[16];
    snprintf(id, sizeof id, "%d", j);
    json_object_begin(w);
    json_kv_int(w, "id", j);
    json_kv_string(w, "name", class_names && class_names[j] ? class_names[j] : id);
    json_kv_int(w, "count", k->support);
    if (o->train_counts) json_kv_int(w, "train_count", o->train_counts[j]);
    json_kv_int(w, "predicted", k->predicted);
    json_kv_double(w, "precision", k->precision);
    json_kv_double(w, "recall", k->recall);
    json_kv_double(w, "f1", k->f1);
    json_kv_double(w, "fbeta", k->fbeta);
    json_object_end(w);
}

static void write_report(json_writer *w, const imbal_metrics *m, const imbal_metrics_report *r,
                         const imbal_metrics_options *o, const char *const *class_names) {
    json_object_begin(w);
    json_kv_int(w, "num_classes", r->num_classes);
    json_kv_int(w, "total", r->total);
    json_kv_double(w, "accuracy", r->accuracy);
    json_kv_double(w, "balanced_accuracy", r->balanced_accuracy);
    json_kv_double(w, "macro_precision", r->macro_precision);
    json_kv_double(w, "macro_recall", r->macro_recall);
    json_kv_double(w, "macro_f1", r->macro_f1);
    json_kv_double(w, "macro_fbeta", r->macro_fbeta);
    json_kv_double(w, "beta", o->beta);
    json_kv_double(w, "weighted_f1", r->weighted_f1);
    json_kv_double(w, "gmean", r->gmean);
    json_kv_int(w, "top_k", r->top_k);
    json_kv_double(w, "top_k_accuracy", r->top_k_accuracy);
    json_kv_double(w, "many_shot", r->many_shot);
    json_kv_double(w, "medium_shot", r->medium_shot);
    json_kv_double(w, "few_shot", r->few_shot);
    json_kv_int(w, "many_classes", r->many_classes);
    json_kv_int(w, "medium_classes", r->medium_classes);
    json_kv_int(w, "few_classes", r->few_classes);
    if (o->train_counts) {
        json_kv_int(w, "many_above", o->many_above);
        json_kv_int(w, "few_below", o->few_below);
    }
    json_key(w, "per_class");
    json_array_begin(w);
    for (int j = 0; j < r->num_classes; ++j)
        write_class(w, r, j, o, class_names);
    json_array_end(w);
    json_key(w, "confusion");
    json_array_begin(w);
    const int64_t c = r->num_classes;
    for (int64_t i = 0; i < c; ++i) {
        json_array_begin(w);
        for (int64_t j = 0; j < c; ++j)
            json_int(w, m->confusion[i * c + j]);
        json_array_end(w);
    }
    json_array_end(w);
    json_object_end(w);
    json_end(w);
}

imbal_status imbal_metrics_write_json(imbal_ctx *ctx, const char *path, const imbal_metrics *m,
                                      const imbal_metrics_report *r,
                                      const imbal_metrics_options *opts,
                                      const char *const *class_names) {
    const char *fn = "metrics_write_json";
    if (!path || !m || !r)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: %s is NULL", fn,
                          !path ? "path"
                          : !m  ? "metrics"
                                : "report");
    if (r->num_classes != m->num_classes || !r->per_class)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: the report (%d classes%s) does not come from these metrics (%d "
                          "classes)",
                          fn, r->num_classes, r->per_class ? "" : ", no per-class data",
                          m->num_classes);
    imbal_metrics_options o;
    imbal_metrics_options_default(&o);
    if (opts) o = *opts;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "%s: no memory to build '%s'", fn, path);
    json_writer w;
    json_begin(&w, fp);
    write_report(&w, m, r, &o, class_names);
    int bad = ferror(fp);
    if (fclose(fp) != 0) bad = 1;
    if (bad) {
        free(buf);
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "%s: no memory to build '%s'", fn, path);
    }
    imbal_status st = imbal_atomic_write_all(ctx, path, buf, len);
    free(buf);
    return st;
}
