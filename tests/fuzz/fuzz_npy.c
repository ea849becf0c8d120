/* imbal fuzz target: .npy reading (src/npy.c). A tensor that reads is checked against its size. */
#include <stdlib.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file_path("fuzz.npy", data, size);
    imbal_ctx *ctx = fuzz_ctx();
    if (!path || !ctx) {
        imbal_ctx_destroy(ctx);
        return 0;
    }
    imbal_tensor t;
    if (imbal_npy_read(ctx, path, &t) == IMBAL_OK) {
        size_t nbytes = imbal_tensor_nbytes(&t);
        if (nbytes > size) abort(); /* the payload came from the file */
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < nbytes; ++i)
            sink ^= ((const uint8_t *)t.data)[i];
        (void)sink;
        imbal_tensor_free(&t);
    }
    imbal_ctx_destroy(ctx);
    return 0;
}
