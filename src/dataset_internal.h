/* imbal: the dataset index's storage, shared by the files that build and change it; not installed.
 *
 * Scale design: one growing char pool holds every path NUL-terminated; sample i's path starts at
 * offsets[i]. Per sample that is 8 (offset) + 4 (label) + 1 (split) bytes plus the path and its
 * NUL, and no heap object. Arrays grow by doubling, so 10 million paths cost ~24 reallocations. */
#ifndef IMBAL_DATASET_INTERNAL_H
#define IMBAL_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/dataset.h"

/* Manifest row numbers are not stored per sample: row(i) = i + base, where base changes only after
 * a header, blank lines or multi-line quoted records. Each change is one mark (first sample, base);
 * a lookup is a binary search. */
typedef struct imbal_row_mark {
    int64_t first_sample;
    int64_t base;
} imbal_row_mark;

struct imbal_dataset {
    char *root; /* absolute directory paths are relative to; "" for from_counts */
    int64_t size, capacity;
    int64_t *offsets; /* into pool */
    int32_t *labels;
    int8_t *splits;
    char *pool;
    size_t pool_len, pool_cap;
    int num_classes, class_cap;
    char **class_names; /* owned strings */
    char *source;       /* the manifest file the rows came from (NULL otherwise) */
    imbal_row_mark *row_marks;
    int64_t num_row_marks, row_mark_cap;
};

/* An empty index with this root (copied; NULL means ""). */
imbal_status imbal_ds_create(imbal_ctx *ctx, const char *root, imbal_dataset **out);
/* Grows the sample arrays to hold at least `n` samples and the pool at least `bytes` more. */
imbal_status imbal_ds_reserve(imbal_ctx *ctx, imbal_dataset *ds, int64_t n, size_t bytes);
/* Appends a sample (path of length len, not necessarily NUL-terminated). */
imbal_status imbal_ds_push(imbal_ctx *ctx, imbal_dataset *ds, const char *path, size_t len,
                           int32_t label, int8_t split);
/* Gives back the slack that doubling left (best effort: a failed shrink keeps the larger block). */
void imbal_ds_shrink(imbal_dataset *ds);
/* Appends a class name (copied). */
imbal_status imbal_ds_add_class(imbal_ctx *ctx, imbal_dataset *ds, const char *name);
/* Records that sample `first_sample` onward sits on manifest row first_sample + base. */
imbal_status imbal_ds_mark_row(imbal_ctx *ctx, imbal_dataset *ds, int64_t first_sample,
                               int64_t base);
/* The manifest row of sample i, or 0 when the index did not come from a manifest. */
int64_t imbal_ds_row_of(const imbal_dataset *ds, int64_t i);
/* Bytewise strcmp for qsort over char* arrays. */
int imbal_ds_cmp_strptr(const void *a, const void *b);
/* The canonical absolute form of an existing directory (malloc'd), or an IO error naming it. */
imbal_status imbal_ds_realdir(imbal_ctx *ctx, const char *dir, char **out);

/* How many of n samples go to train, val and test for fractions f (>= 0, sum > 0): the largest
 * remainder (Hamilton) apportionment of n * f / sum(f) (ties to the lower split), then, when n is
 * at least the number of non-zero fractions, each non-zero split that got nothing takes one from
 * the currently largest split. */
void imbal_split_counts(int64_t n, const double f[3], int64_t out[3]);

#endif
