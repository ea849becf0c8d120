/* imbal: procedurally drawn long-tailed image sets (`imbal synth`).
 *
 * Each class is a shape family (disc, square, triangle, cross, ring, stripes, ...); every image
 * draws its shape at a random position, scale and rotation, with random foreground and background
 * colours and pixel noise, so colour alone never gives the class away and a small CNN must learn
 * the shape. Everything is a pure function of (seed, class, index) through Philox, so the same
 * seed writes byte-identical files.
 *
 * Profiles (the CIFAR-LT protocol of Cao et al. 2019, kaidic/LDAM-DRW imbalance_cifar.py):
 *   exp   class i gets floor(n_max * ratio^(-i / (K-1)))   (K = 1: n_max)
 *   step  the first floor(K/2) classes get n_max, the others floor(n_max / ratio)
 * Every class gets at least 1 training image. The test split is balanced: test_per_class each.
 *
 * Layout written: OUT/train/<class>/<index>.jpg and OUT/test/<class>/<index>.jpg, class directory
 * names whose sorted order is the class id order ("00-disc", "01-square", ...), and OUT/synth.json
 * (options, class names, train counts). Index files are "%06lld.jpg", JPEG 4:2:0.
 *
 * Error messages name options as the command line does: --out, --classes, --max-per-class,
 * --ratio, --profile, --size, --test-per-class, --quality. See docs/synth.md. */
#ifndef IMBAL_SYNTH_H
#define IMBAL_SYNTH_H

#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_profile { IMBAL_PROFILE_EXP = 0, IMBAL_PROFILE_STEP = 1 } imbal_profile;

IMBAL_API imbal_status imbal_profile_parse(imbal_ctx *ctx, const char *name, imbal_profile *out);
IMBAL_API const char *imbal_profile_name(imbal_profile profile);

/* Per-class training counts of a profile. ratio >= 1, n_max >= 1, K >= 1. */
IMBAL_API imbal_status imbal_profile_counts(imbal_ctx *ctx, imbal_profile profile, int num_classes,
                                            int64_t max_per_class, double ratio, int64_t *counts);

typedef struct imbal_synth_options {
    const char *out_dir;
    int num_classes;        /* 1..1000; default 10 */
    int64_t max_per_class;  /* default 500 */
    double ratio;           /* default 100 */
    imbal_profile profile;  /* default exp */
    int size;               /* square image side, 8..1024; default 32 */
    int64_t test_per_class; /* default 100; 0 writes no test split */
    uint64_t seed;          /* default 0 */
    int quality;            /* JPEG quality 1..100; default 95 */
} imbal_synth_options;

IMBAL_API void imbal_synth_options_default(imbal_synth_options *opts);

/* The directory name of class c for K classes, e.g. "03-cross": "%02d-" for K <= 100, "%03d-"
 * above. What class c draws does not depend on K (only the width of the number does). */
IMBAL_API imbal_status imbal_synth_class_name(imbal_ctx *ctx, int class_id, int num_classes,
                                              char *buf, int buf_len);

/* Draws one image of class `class_id` (0..999) into rgb (size*size*3 bytes, HWC). `sample`
 * (< 2^56) distinguishes images (the writer uses index for train and 2^40 + index for test).
 * The Philox stream is (seed, epoch = class_id, sample, IMBAL_OP_SYNTH). */
IMBAL_API imbal_status imbal_synth_render(imbal_ctx *ctx, int class_id, uint64_t seed,
                                          uint64_t sample, int size, uint8_t *rgb);

/* Writes the whole set. Existing files of the same name are replaced atomically; the output
 * directory is created if needed. An existing non-empty OUT must hold a synth.json of an earlier
 * run (else IMBAL_ERR_INVALID_ARGUMENT, nothing touched); then our image files that this run does
 * not rewrite are deleted first, other files are left alone. Results do not depend on the
 * context's thread count. */
IMBAL_API imbal_status imbal_synth_write(imbal_ctx *ctx, const imbal_synth_options *opts);

IMBAL_EXTERN_C_END

#endif
