/* imbal: checking that an index's files exist (imbal_dataset_check_files). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset_internal.h"
#include "internal.h"

/* 0 if sample i's file is a regular file, else the errno (EISDIR-like EINVAL for non-files). */
static int check_one(const imbal_dataset *ds, int64_t i, char *buf, size_t cap) {
    const char *p = ds->pool + ds->offsets[i];
    const char *full = p;
    if (p[0] != '/') {
        size_t need = strlen(ds->root) + strlen(p) + 2;
        if (need > cap) return ENAMETOOLONG;
        strcpy(buf, ds->root);
        strcat(buf, "/");
        strcat(buf, p);
        full = buf;
    }
    struct stat st;
    if (stat(full, &st) != 0) return errno ? errno : ENOENT;
    return S_ISREG(st.st_mode) ? 0 : EINVAL;
}

imbal_status imbal_dataset_check_files(imbal_ctx *ctx, const imbal_dataset *ds,
                                       int64_t *missing_index) {
    if (missing_index) *missing_index = -1;
    if (!ds) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "check_files: dataset is NULL");
    if (!*ds->root)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "check_files: the index has no files (made from counts)");
    enum { CAP = 8192 };
    int64_t first = INT64_MAX;
    int64_t n = ds->size;
#pragma omp parallel num_threads(imbal_ctx_omp_threads(ctx))
    {
        char buf[CAP];
#pragma omp for schedule(dynamic, 4096) reduction(min : first)
        for (int64_t i = 0; i < n; ++i)
            if (i < first && check_one(ds, i, buf, CAP) != 0) first = i;
    }
    if (first == INT64_MAX) return IMBAL_OK;
    if (missing_index) *missing_index = first;
    char buf[CAP];
    int err = check_one(ds, first, buf, CAP);
    const char *why = err == EINVAL ? "not a regular file" : strerror(err);
    const char *path = ds->pool + ds->offsets[first];
    int64_t row = imbal_ds_row_of(ds, first);
    if (row > 0)
        return imbal_fail(ctx, IMBAL_ERR_IO, "manifest '%s' row %lld: file '%s' (root '%s'): %s",
                          ds->source ? ds->source : "?", (long long)row, path, ds->root, why);
    return imbal_fail(ctx, IMBAL_ERR_IO, "sample %lld: file '%s' (root '%s'): %s", (long long)first,
                      path, ds->root, why);
}
