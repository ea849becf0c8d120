/* imbal: the dataset index: storage, accessors, from_counts, counts and subsets. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_internal.h"
#include "internal.h"

const char *imbal_split_name(imbal_split split) {
    switch (split) {
    case IMBAL_SPLIT_TRAIN:
        return "train";
    case IMBAL_SPLIT_VAL:
        return "val";
    case IMBAL_SPLIT_TEST:
        return "test";
    default:
        return "";
    }
}

imbal_status imbal_ds_create(imbal_ctx *ctx, const char *root, imbal_dataset **out) {
    *out = NULL;
    imbal_dataset *ds = imbal_xcalloc(ctx, 1, sizeof *ds, "dataset");
    if (!ds) return IMBAL_ERR_OUT_OF_MEMORY;
    ds->root = imbal_xstrdup(ctx, root ? root : "");
    if (!ds->root) {
        free(ds);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    *out = ds;
    return IMBAL_OK;
}

static int64_t grow_to(int64_t have, int64_t need, int64_t first) {
    int64_t cap = have > 0 ? have : first;
    while (cap < need)
        cap = cap > INT64_MAX / 2 ? need : cap * 2;
    return cap;
}

imbal_status imbal_ds_reserve(imbal_ctx *ctx, imbal_dataset *ds, int64_t n, size_t bytes) {
    if (n > ds->capacity) {
        int64_t cap = grow_to(ds->capacity, n, 1024);
        int64_t *off = imbal_xrealloc(ctx, ds->offsets, (size_t)cap, sizeof *off, "path offsets");
        if (!off) return IMBAL_ERR_OUT_OF_MEMORY;
        ds->offsets = off;
        int32_t *lab = imbal_xrealloc(ctx, ds->labels, (size_t)cap, sizeof *lab, "labels");
        if (!lab) return IMBAL_ERR_OUT_OF_MEMORY;
        ds->labels = lab;
        int8_t *spl = imbal_xrealloc(ctx, ds->splits, (size_t)cap, sizeof *spl, "split tags");
        if (!spl) return IMBAL_ERR_OUT_OF_MEMORY;
        ds->splits = spl;
        ds->capacity = cap;
    }
    if (bytes > SIZE_MAX - ds->pool_len)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "path pool would exceed the address space");
    if (ds->pool_len + bytes > ds->pool_cap) {
        int64_t cap = grow_to((int64_t)ds->pool_cap, (int64_t)(ds->pool_len + bytes), 65536);
        char *pool = imbal_xrealloc(ctx, ds->pool, (size_t)cap, 1, "path pool");
        if (!pool) return IMBAL_ERR_OUT_OF_MEMORY;
        ds->pool = pool;
        ds->pool_cap = (size_t)cap;
    }
    return IMBAL_OK;
}

imbal_status imbal_ds_push(imbal_ctx *ctx, imbal_dataset *ds, const char *path, size_t len,
                           int32_t label, int8_t split) {
    imbal_status st = imbal_ds_reserve(ctx, ds, ds->size + 1, len + 1);
    if (st != IMBAL_OK) return st;
    memcpy(ds->pool + ds->pool_len, path, len);
    ds->pool[ds->pool_len + len] = '\0';
    ds->offsets[ds->size] = (int64_t)ds->pool_len;
    ds->labels[ds->size] = label;
    ds->splits[ds->size] = split;
    ds->pool_len += len + 1;
    ds->size++;
    return IMBAL_OK;
}

void imbal_ds_shrink(imbal_dataset *ds) {
    if (ds->size > 0 && ds->size < ds->capacity) {
        size_t n = (size_t)ds->size;
        int64_t *off = realloc(ds->offsets, n * sizeof *off);
        if (off) ds->offsets = off;
        int32_t *lab = realloc(ds->labels, n * sizeof *lab);
        if (lab) ds->labels = lab;
        int8_t *spl = realloc(ds->splits, n * sizeof *spl);
        if (spl) ds->splits = spl;
        if (off && lab && spl) ds->capacity = ds->size;
    }
    if (ds->pool_len > 0 && ds->pool_len < ds->pool_cap) {
        char *pool = realloc(ds->pool, ds->pool_len);
        if (pool) {
            ds->pool = pool;
            ds->pool_cap = ds->pool_len;
        }
    }
}

imbal_status imbal_ds_add_class(imbal_ctx *ctx, imbal_dataset *ds, const char *name) {
    if (ds->num_classes == ds->class_cap) {
        int cap = ds->class_cap ? ds->class_cap * 2 : 16;
        char **names = imbal_xrealloc(ctx, ds->class_names, (size_t)cap, sizeof *names, "classes");
        if (!names) return IMBAL_ERR_OUT_OF_MEMORY;
        ds->class_names = names;
        ds->class_cap = cap;
    }
    char *copy = imbal_xstrdup(ctx, name);
    if (!copy) return IMBAL_ERR_OUT_OF_MEMORY;
    ds->class_names[ds->num_classes++] = copy;
    return IMBAL_OK;
}

imbal_status imbal_ds_mark_row(imbal_ctx *ctx, imbal_dataset *ds, int64_t first_sample,
                               int64_t base) {
    if (ds->num_row_marks > 0 && ds->row_marks[ds->num_row_marks - 1].base == base) return IMBAL_OK;
    if (ds->num_row_marks == ds->row_mark_cap) {
        int64_t cap = grow_to(ds->row_mark_cap, ds->num_row_marks + 1, 16);
        imbal_row_mark *m =
            imbal_xrealloc(ctx, ds->row_marks, (size_t)cap, sizeof *m, "manifest row marks");
        if (!m) return IMBAL_ERR_OUT_OF_MEMORY;
        ds->row_marks = m;
        ds->row_mark_cap = cap;
    }
    ds->row_marks[ds->num_row_marks].first_sample = first_sample;
    ds->row_marks[ds->num_row_marks].base = base;
    ds->num_row_marks++;
    return IMBAL_OK;
}

int64_t imbal_ds_row_of(const imbal_dataset *ds, int64_t i) {
    if (ds->num_row_marks == 0 || i < ds->row_marks[0].first_sample) return 0;
    int64_t lo = 0, hi = ds->num_row_marks - 1; /* last mark with first_sample <= i */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (ds->row_marks[mid].first_sample <= i)
            lo = mid;
        else
            hi = mid - 1;
    }
    return i + ds->row_marks[lo].base;
}

int imbal_ds_cmp_strptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

imbal_status imbal_ds_realdir(imbal_ctx *ctx, const char *dir, char **out) {
    *out = NULL;
    char *real = realpath(dir, NULL);
    if (!real)
        return imbal_fail(ctx, IMBAL_ERR_IO, "cannot resolve directory '%s': %s", dir,
                          strerror(errno));
    *out = real;
    return IMBAL_OK;
}

void imbal_dataset_destroy(imbal_dataset *ds) {
    if (!ds) return;
    for (int c = 0; c < ds->num_classes; ++c)
        free(ds->class_names[c]);
    free(ds->class_names);
    free(ds->root);
    free(ds->offsets);
    free(ds->labels);
    free(ds->splits);
    free(ds->pool);
    free(ds->source);
    free(ds->row_marks);
    free(ds);
}

int64_t imbal_dataset_size(const imbal_dataset *ds) {
    return ds ? ds->size : 0;
}

int imbal_dataset_num_classes(const imbal_dataset *ds) {
    return ds ? ds->num_classes : 0;
}

const char *imbal_dataset_class_name(const imbal_dataset *ds, int class_id) {
    if (!ds || class_id < 0 || class_id >= ds->num_classes) return NULL;
    return ds->class_names[class_id];
}

const char *imbal_dataset_root(const imbal_dataset *ds) {
    return ds ? ds->root : NULL;
}

const char *imbal_dataset_path(const imbal_dataset *ds, int64_t i) {
    if (!ds || i < 0 || i >= ds->size) return NULL;
    return ds->pool + ds->offsets[i];
}

const int32_t *imbal_dataset_labels(const imbal_dataset *ds) {
    return ds ? ds->labels : NULL;
}

const int8_t *imbal_dataset_splits(const imbal_dataset *ds) {
    return ds ? ds->splits : NULL;
}

imbal_status imbal_dataset_open(imbal_ctx *ctx, const char *path, unsigned flags,
                                imbal_dataset **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "dataset_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "dataset_open: path is empty");
    struct stat st;
    if (stat(path, &st) != 0)
        return imbal_fail(ctx, IMBAL_ERR_IO, "dataset '%s' cannot be opened: %s", path,
                          strerror(errno));
    if (S_ISDIR(st.st_mode)) return imbal_dataset_open_folder(ctx, path, flags, out);
    return imbal_dataset_open_manifest(ctx, path, flags, out);
}

static imbal_status check_names(imbal_ctx *ctx, const char *const *names, int num_classes) {
    for (int c = 0; c < num_classes; ++c) {
        if (!names[c] || !*names[c])
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "dataset_from_counts: class %d has an empty name", c);
        for (int d = 0; d < c; ++d)
            if (strcmp(names[c], names[d]) == 0)
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "dataset_from_counts: classes %d and %d are both named '%s'", d,
                                  c, names[c]);
    }
    return IMBAL_OK;
}

imbal_status imbal_dataset_from_counts(imbal_ctx *ctx, const int64_t *counts, int num_classes,
                                       const char *const *names, imbal_dataset **out) {
    if (!out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "dataset_from_counts: out is NULL");
    *out = NULL;
    if (!counts || num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "dataset_from_counts: need counts for at least one class (got %d)",
                          num_classes);
    int64_t total = 0;
    for (int c = 0; c < num_classes; ++c) {
        if (counts[c] < 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "dataset_from_counts: count of class %d is negative (%lld)", c,
                              (long long)counts[c]);
        if (counts[c] > INT64_MAX / 16 - total)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "dataset_from_counts: total count overflows at class %d (%lld)", c,
                              (long long)counts[c]);
        total += counts[c];
    }
    if (names) {
        imbal_status st = check_names(ctx, names, num_classes);
        if (st != IMBAL_OK) return st;
    }
    imbal_dataset *ds;
    imbal_status st = imbal_ds_create(ctx, "", &ds);
    if (st == IMBAL_OK) st = imbal_ds_reserve(ctx, ds, total > 0 ? total : 1, 1);
    for (int c = 0; st == IMBAL_OK && c < num_classes; ++c) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", c);
        st = imbal_ds_add_class(ctx, ds, names ? names[c] : buf);
    }
    if (st != IMBAL_OK) {
        imbal_dataset_destroy(ds);
        return st;
    }
    /* Every path is the one empty string at pool offset 0: 13 bytes per sample. */
    ds->pool[0] = '\0';
    ds->pool_len = 1;
    int64_t i = 0;
    for (int c = 0; c < num_classes; ++c) {
        for (int64_t k = 0; k < counts[c]; ++k, ++i) {
            ds->offsets[i] = 0;
            ds->labels[i] = c;
            ds->splits[i] = IMBAL_SPLIT_NONE;
        }
    }
    ds->size = total;
    *out = ds;
    return IMBAL_OK;
}

static imbal_status check_split_arg(imbal_ctx *ctx, const char *fn, imbal_split split) {
    if (split < IMBAL_SPLIT_NONE || split > IMBAL_SPLIT_TEST)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: split %d is not -1, 0, 1 or 2", fn,
                          (int)split);
    return IMBAL_OK;
}

imbal_status imbal_dataset_class_counts(imbal_ctx *ctx, const imbal_dataset *ds, imbal_split split,
                                        int64_t *counts) {
    if (!ds || !counts)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "dataset_class_counts: %s is NULL",
                          ds ? "counts" : "dataset");
    imbal_status st = check_split_arg(ctx, "dataset_class_counts", split);
    if (st != IMBAL_OK) return st;
    memset(counts, 0, (size_t)ds->num_classes * sizeof *counts);
    const int32_t *labels = ds->labels;
    const int8_t *splits = ds->splits;
    if (split == IMBAL_SPLIT_NONE) {
        for (int64_t i = 0; i < ds->size; ++i)
            counts[labels[i]]++;
    } else {
        for (int64_t i = 0; i < ds->size; ++i)
            counts[labels[i]] += splits[i] == (int8_t)split;
    }
    return IMBAL_OK;
}

imbal_status imbal_dataset_subset(imbal_ctx *ctx, const imbal_dataset *ds, imbal_split split,
                                  imbal_dataset **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "dataset_subset: out is NULL");
    *out = NULL;
    if (!ds) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "dataset_subset: dataset is NULL");
    imbal_status st = check_split_arg(ctx, "dataset_subset", split);
    if (st != IMBAL_OK) return st;
    int64_t n = 0;
    size_t bytes = 0;
    for (int64_t i = 0; i < ds->size; ++i) {
        if (split != IMBAL_SPLIT_NONE && ds->splits[i] != (int8_t)split) continue;
        ++n;
        bytes += strlen(ds->pool + ds->offsets[i]) + 1;
    }
    imbal_dataset *sub;
    st = imbal_ds_create(ctx, ds->root, &sub);
    if (st == IMBAL_OK) st = imbal_ds_reserve(ctx, sub, n > 0 ? n : 1, bytes > 0 ? bytes : 1);
    for (int c = 0; st == IMBAL_OK && c < ds->num_classes; ++c)
        st = imbal_ds_add_class(ctx, sub, ds->class_names[c]);
    for (int64_t i = 0; st == IMBAL_OK && i < ds->size; ++i) {
        if (split != IMBAL_SPLIT_NONE && ds->splits[i] != (int8_t)split) continue;
        const char *p = ds->pool + ds->offsets[i];
        st = imbal_ds_push(ctx, sub, p, strlen(p), ds->labels[i], ds->splits[i]);
    }
    if (st != IMBAL_OK) {
        imbal_dataset_destroy(sub);
        return st;
    }
    *out = sub;
    return IMBAL_OK;
}
