/* imbal fuzz target: safetensors loading (src/safetensors_read.c): every tensor of a file that
 * opens is fetched and read through, and a metadata key looked up. */
#include <stdlib.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file_path("fuzz.safetensors", data, size);
    imbal_ctx *ctx = fuzz_ctx();
    if (!path || !ctx) {
        imbal_ctx_destroy(ctx);
        return 0;
    }
    imbal_safetensors *st = NULL;
    if (imbal_safetensors_open(ctx, path, &st) == IMBAL_OK) {
        volatile uint8_t sink = 0;
        for (int i = 0; i < imbal_safetensors_count(st); ++i) {
            const char *name = imbal_safetensors_name(st, i);
            imbal_tensor view;
            if (!name || imbal_safetensors_get(ctx, st, name, &view) != IMBAL_OK) abort();
            size_t nbytes = imbal_tensor_nbytes(&view);
            for (size_t b = 0; b < nbytes; ++b)
                sink ^= ((const uint8_t *)view.data)[b];
        }
        (void)imbal_safetensors_metadata(st, "format");
        (void)sink;
        imbal_safetensors_close(st);
    }
    imbal_ctx_destroy(ctx);
    return 0;
}
