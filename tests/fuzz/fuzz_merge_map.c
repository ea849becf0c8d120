/* imbal fuzz target: the class-merge map (src/dataset_merge.c): `old_name,new_name` lines applied
 * to a fixed index of five named classes. */
#include <stdlib.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[] = {"bird", "cat", "dog", "fish", "a,b"};
    static const int64_t counts[] = {3, 0, 2, 1, 4};
    const char *path = fuzz_file_path("merge.map", data, size);
    imbal_ctx *ctx = fuzz_ctx();
    imbal_dataset *ds = NULL;
    if (!path || !ctx || imbal_dataset_from_counts(ctx, counts, 5, names, &ds) != IMBAL_OK) {
        imbal_ctx_destroy(ctx);
        return 0;
    }
    if (imbal_dataset_merge_classes(ctx, ds, path) == IMBAL_OK) {
        int k = imbal_dataset_num_classes(ds);
        const int32_t *labels = imbal_dataset_labels(ds);
        if (k < 1 || k > 5) abort();
        for (int64_t i = 0; i < imbal_dataset_size(ds); ++i)
            if (labels[i] < 0 || labels[i] >= k) abort();
    }
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    return 0;
}
