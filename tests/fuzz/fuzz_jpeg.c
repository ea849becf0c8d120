/* imbal fuzz target: JPEG decoding (TurboJPEG, src/image_jpeg.c) with the resize step. */
#include "fuzz_image_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_decode_all_ways(data, size);
    return 0;
}
