/* imbal fuzz target: PNG decoding (libpng, src/image_png.c) with the resize step. Every chunk's
 * CRC is recomputed on a copy of the input first: a mutation inside a chunk would otherwise only
 * ever test libpng's CRC check and never reach the code behind it. The input as given is decoded
 * too (its CRC errors are part of what a real file may hold). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_image_common.h"

static uint32_t crc32_png(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; ++i) {
        c ^= p[i];
        for (int k = 0; k < 8; ++k)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Rewrites the CRC of every whole chunk after the 8-byte signature; 1 if any changed. */
static int fix_crcs(uint8_t *png, size_t size) {
    int changed = 0;
    size_t at = 8;
    while (at + 12 <= size) {
        uint32_t len = be32(png + at);
        if (len > size - at - 12) break;
        uint8_t *crc = png + at + 8 + len;
        uint32_t want = crc32_png(png + at + 4, (size_t)len + 4);
        if (be32(crc) != want) {
            crc[0] = (uint8_t)(want >> 24), crc[1] = (uint8_t)(want >> 16);
            crc[2] = (uint8_t)(want >> 8), crc[3] = (uint8_t)want;
            changed = 1;
        }
        at += (size_t)len + 12;
    }
    return changed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *fixed = malloc(size ? size : 1);
    if (!fixed) return 0;
    if (size) memcpy(fixed, data, size);
    if (fix_crcs(fixed, size)) fuzz_decode_all_ways(fixed, size);
    free(fixed);
    fuzz_decode_all_ways(data, size);
    return 0;
}
