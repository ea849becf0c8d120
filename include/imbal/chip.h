/* imbal: image chipping. Cuts large images (aerial, slide, defect scans) into size x size tiles
 * that keep their source's class label, and writes them as an ImageFolder plus a manifest that
 * records each chip's source and offset (docs/pipeline.md, "Chipping").
 *
 * Geometry along one axis of length L, tile size S, overlap O (0 <= O < S), stride T = S - O:
 * offsets 0, T, 2T, ... while offset + S < L, then one last tile at L - S: the edge tile is shifted
 * inwards (it overlaps its neighbour by more than O) instead of being padded, so every chip is
 * real pixels. With min_cover F in [0, 1], that shifted edge tile is kept only when at least a
 * fraction F of its width is not covered by the previous tile (so F = 0 keeps it always and full
 * coverage is guaranteed). An image with L < S along either axis gives no chips and is counted
 * (imbal_chip_stats.too_small).
 */
#ifndef IMBAL_CHIP_H
#define IMBAL_CHIP_H

#include <stdint.h>

#include "dataset.h"
#include "status.h"

IMBAL_EXTERN_C_BEGIN

/* Tile offsets along one axis: writes up to max_offsets values into offsets (NULL to count only)
 * and returns how many tiles the axis has (0 when length < size; -1 on bad arguments: size < 1,
 * overlap < 0 or >= size, min_cover outside [0, 1]). */
IMBAL_API int imbal_chip_offsets(int length, int size, int overlap, double min_cover, int *offsets,
                                 int max_offsets);

typedef struct imbal_chip_config {
    int size;         /* S >= 1 */
    int overlap;      /* 0 <= O < S; default 0 */
    double min_cover; /* [0, 1]; default 0 */
    int64_t
        max_pixels; /* decompression-bomb limit for the sources; default as imbal_decode_options */
    int skip_bad;   /* 1: unreadable sources are counted and skipped; 0 (default): an error */
} imbal_chip_config;

/* size 256, overlap 0, min_cover 0, max_pixels as imbal_decode_options_default, skip_bad 0. */
IMBAL_API void imbal_chip_config_default(imbal_chip_config *cfg);

typedef struct imbal_chip_stats {
    int64_t sources;   /* images read */
    int64_t chips;     /* chips written */
    int64_t too_small; /* sources smaller than size on an axis */
    int64_t bad;       /* unreadable sources skipped (skip_bad) */
} imbal_chip_stats;

/* Chips every image of ds into out_dir/<class name>/<source stem>_y<Y>_x<X>.png (lossless PNG)
 * and writes out_dir/manifest.csv with header "path,label,source,x,y,width,height" (path relative
 * to out_dir, label the class name, source the source path as the dataset gives it), readable by
 * imbal_dataset_open. Every file is written atomically; out_dir is created. OpenMP over sources;
 * the manifest lists chips in dataset order, then y, then x. stats may be NULL.
 * Two sources of one class with the same stem (a/x.jpg, b/x.png) are both named
 * <stem>_<dataset index>; if that equals another source's stem, IMBAL_ERR_DATA names both files.
 * On failure (the first in dataset order, naming its file) chips already written stay and no
 * manifest is written. With skip_bad, unreadable sources are logged (IMBAL_LOG_WARN) on ctx. */
IMBAL_API imbal_status imbal_chip_dataset(imbal_ctx *ctx, const imbal_dataset *ds,
                                          const imbal_chip_config *cfg, const char *out_dir,
                                          imbal_chip_stats *stats);

IMBAL_EXTERN_C_END

#endif
