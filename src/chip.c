/* imbal: chip geometry (imbal_chip_offsets) and the chipping configuration's defaults. The
 * geometry is defined in include/imbal/chip.h and docs/pipeline.md ("Chipping"). */
#include <stdint.h>

#include "imbal/chip.h"
#include "imbal/image.h"

int imbal_chip_offsets(int length, int size, int overlap, double min_cover, int *offsets,
                       int max_offsets) {
    if (length < 0 || size < 1 || overlap < 0 || overlap >= size ||
        !(min_cover >= 0.0 && min_cover <= 1.0) || (offsets && max_offsets < 0))
        return -1;
    if (length < size) return 0;
    /* 64-bit so that offset + size cannot overflow for lengths near INT_MAX. */
    const int64_t len = length, s = size, stride = size - overlap;
    int count = 0;
    int64_t off = 0;
    for (; off + s < len; off += stride) {
        if (offsets && count < max_offsets) offsets[count] = (int)off;
        ++count;
    }
    /* The edge tile at L - S: kept when it is the only tile, or when the part of it that the
     * previous tile leaves uncovered is at least min_cover of its width. */
    int64_t last = len - s;
    if (count > 0) {
        int64_t prev_end = off - stride + s;
        double uncovered = (double)(len - prev_end) / (double)s;
        if (uncovered < min_cover) return count;
    }
    if (offsets && count < max_offsets) offsets[count] = (int)last;
    return count + 1;
}

void imbal_chip_config_default(imbal_chip_config *cfg) {
    if (!cfg) return;
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    cfg->size = 256;
    cfg->overlap = 0;
    cfg->min_cover = 0.0;
    cfg->max_pixels = o.max_pixels;
    cfg->skip_bad = 0;
}
