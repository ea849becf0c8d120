/* imbal fuzz target: the CSV manifest reader (src/dataset_manifest.c, src/csv_reader.c). An
 * index that opens is walked (names, paths, labels, splits, counts) as the commands do. */
#include <stdlib.h>

#include "fuzz_util.h"

static void walk(imbal_ctx *ctx, imbal_dataset *ds) {
    int k = imbal_dataset_num_classes(ds);
    int64_t n = imbal_dataset_size(ds);
    const int32_t *labels = imbal_dataset_labels(ds);
    const int8_t *splits = imbal_dataset_splits(ds);
    volatile size_t sink = 0;
    for (int c = 0; c < k; ++c)
        sink += (size_t)imbal_dataset_class_name(ds, c)[0];
    for (int64_t i = 0; i < n; ++i) {
        if (labels[i] < 0 || labels[i] >= k) abort(); /* the index's own invariant */
        sink += (size_t)imbal_dataset_path(ds, i)[0] + (size_t)splits[i];
    }
    int64_t *counts = calloc((size_t)k + 1, sizeof *counts);
    if (counts) {
        (void)imbal_dataset_class_counts(ctx, ds, IMBAL_SPLIT_NONE, counts);
        (void)imbal_dataset_class_counts(ctx, ds, IMBAL_SPLIT_TRAIN, counts);
        free(counts);
    }
    imbal_dataset *sub = NULL;
    if (imbal_dataset_subset(ctx, ds, IMBAL_SPLIT_VAL, &sub) == IMBAL_OK)
        imbal_dataset_destroy(sub);
    (void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file_path("manifest.csv", data, size);
    imbal_ctx *ctx = fuzz_ctx();
    if (!path || !ctx) {
        imbal_ctx_destroy(ctx);
        return 0;
    }
    /* The empty-class flag only turns an IMBAL_ERR_DATA (a gap in integer labels) into an index,
     * so the second open runs only then (opening costs the CSV reader's 1 MiB buffer). */
    imbal_dataset *ds = NULL;
    imbal_status st = imbal_dataset_open_manifest(ctx, path, 0, &ds);
    if (st == IMBAL_ERR_DATA)
        st = imbal_dataset_open_manifest(ctx, path, IMBAL_INDEX_ALLOW_EMPTY_CLASSES, &ds);
    if (st == IMBAL_OK) {
        walk(ctx, ds);
        imbal_dataset_destroy(ds);
    }
    imbal_ctx_destroy(ctx);
    return 0;
}
