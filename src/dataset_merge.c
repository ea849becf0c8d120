/* imbal: merging classes by a map file of `old_name,new_name` lines. */
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "dataset_internal.h"
#include "internal.h"

static int find_class(const imbal_dataset *ds, const char *name) {
    for (int c = 0; c < ds->num_classes; ++c)
        if (strcmp(ds->class_names[c], name) == 0) return c;
    return -1;
}

/* Reads the map: target[c] = the new name of class c (owned), or NULL to keep its name. */
static imbal_status read_map(imbal_ctx *ctx, const imbal_dataset *ds, const char *map_path,
                             char **target) {
    imbal_csv_reader r;
    imbal_status st = imbal_csv_open(ctx, &r, map_path, "class map", "line", '#');
    if (st != IMBAL_OK) return st;
    int64_t *mapped_at =
        imbal_xcalloc(ctx, (size_t)ds->num_classes, sizeof *mapped_at, "map lines");
    if (!mapped_at) {
        imbal_csv_close(&r);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    for (;;) {
        int got;
        st = imbal_csv_next(ctx, &r, &got);
        if (st != IMBAL_OK || !got) break;
        long long line = (long long)r.record_line;
        size_t nold = 0, nnew = 0;
        const char *old_name = r.num_fields == 2 ? imbal_csv_field(&r, 0, &nold) : NULL;
        const char *new_name = r.num_fields == 2 ? imbal_csv_field(&r, 1, &nnew) : NULL;
        if (!old_name || nold == 0 || nnew == 0) {
            st = imbal_fail(ctx, IMBAL_ERR_FORMAT,
                            "class map '%s' line %lld: expected `old_name,new_name` with two "
                            "non-empty names (%d fields)",
                            map_path, line, r.num_fields);
            break;
        }
        int c = find_class(ds, old_name);
        if (c < 0) {
            st = imbal_fail(ctx, IMBAL_ERR_DATA,
                            "class map '%s' line %lld: no class named '%s' in the dataset",
                            map_path, line, old_name);
            break;
        }
        if (mapped_at[c]) {
            st = imbal_fail(ctx, IMBAL_ERR_FORMAT,
                            "class map '%s' line %lld: class '%s' is already mapped on line %lld",
                            map_path, line, old_name, (long long)mapped_at[c]);
            break;
        }
        mapped_at[c] = line;
        target[c] = imbal_xstrdup(ctx, new_name);
        if (!target[c]) {
            st = IMBAL_ERR_OUT_OF_MEMORY;
            break;
        }
    }
    free(mapped_at);
    imbal_csv_close(&r);
    return st;
}

typedef struct named_class {
    const char *name;
    int old_id;
} named_class;

static int cmp_named_class(const void *a, const void *b) {
    const named_class *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->old_id > y->old_id) - (x->old_id < y->old_id);
}

/* Renumbers: new ids are the sorted distinct final names. */
static imbal_status apply(imbal_ctx *ctx, imbal_dataset *ds, char **target) {
    int n = ds->num_classes;
    named_class *order = imbal_xmalloc(ctx, (size_t)n, sizeof *order, "class order");
    int32_t *remap = imbal_xmalloc(ctx, (size_t)n, sizeof *remap, "class remap");
    char **names = imbal_xcalloc(ctx, (size_t)n, sizeof *names, "class names");
    imbal_status st = order && remap && names ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
    int k = 0;
    if (st == IMBAL_OK) {
        for (int c = 0; c < n; ++c)
            order[c] = (named_class){target[c] ? target[c] : ds->class_names[c], c};
        qsort(order, (size_t)n, sizeof *order, cmp_named_class);
        for (int i = 0; i < n && st == IMBAL_OK; ++i) {
            if (i == 0 || strcmp(order[i].name, order[i - 1].name) != 0) {
                names[k] = imbal_xstrdup(ctx, order[i].name);
                if (!names[k]) st = IMBAL_ERR_OUT_OF_MEMORY;
                ++k;
            }
            remap[order[i].old_id] = k - 1;
        }
    }
    if (st == IMBAL_OK) {
        int32_t *labels = ds->labels;
        int64_t size = ds->size;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) schedule(static)
        for (int64_t i = 0; i < size; ++i)
            labels[i] = remap[labels[i]];
        for (int c = 0; c < n; ++c)
            free(ds->class_names[c]);
        free(ds->class_names);
        ds->class_names = names;
        ds->class_cap = n;
        ds->num_classes = k;
        names = NULL;
    }
    if (names)
        for (int c = 0; c < n; ++c)
            free(names[c]);
    free(names);
    free(order);
    free(remap);
    return st;
}

imbal_status imbal_dataset_merge_classes(imbal_ctx *ctx, imbal_dataset *ds, const char *map_path) {
    if (!ds || !map_path || !*map_path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "merge_classes: %s",
                          ds ? "the map path is empty" : "dataset is NULL");
    int n = ds->num_classes;
    char **target = imbal_xcalloc(ctx, (size_t)n, sizeof *target, "class map");
    if (!target) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st = read_map(ctx, ds, map_path, target);
    if (st == IMBAL_OK) st = apply(ctx, ds, target);
    for (int c = 0; c < n; ++c)
        free(target[c]);
    free(target);
    return st;
}
