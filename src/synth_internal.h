/* imbal: internals of the synthetic image sets shared by synth_classes.c, synth_draw.c and
 * synth_write.c; not installed. */
#ifndef IMBAL_SYNTH_INTERNAL_H
#define IMBAL_SYNTH_INTERNAL_H

#include <stdint.h>

#include "imbal/synth.h"

/* Highest class count a set may have, and the first sample id of the test split (so train and
 * test images never share a Philox stream). Philox keys only the low 56 bits of a sample. */
#define IMBAL_SYNTH_MAX_CLASSES      1000
#define IMBAL_SYNTH_TEST_SAMPLE_BASE (1ull << 40)
#define IMBAL_SYNTH_MAX_SAMPLE       ((1ull << 56) - 1)

/* Shape families: each is a signed distance function in a unit frame (extent about radius 1). */
enum {
    IMBAL_SYNTH_DISC = 0,
    IMBAL_SYNTH_SQUARE,
    IMBAL_SYNTH_TRIANGLE,
    IMBAL_SYNTH_CROSS,
    IMBAL_SYNTH_RING,
    IMBAL_SYNTH_BARS,
    IMBAL_SYNTH_STRIPE,
    IMBAL_SYNTH_STAR,
    IMBAL_SYNTH_CRESCENT,
    IMBAL_SYNTH_CORNER,
    IMBAL_SYNTH_DIAMOND,
    IMBAL_SYNTH_X,
    IMBAL_SYNTH_ARROW,
    IMBAL_SYNTH_HEART,
    IMBAL_SYNTH_SEMIDISC,
    IMBAL_SYNTH_DOTS,
    IMBAL_SYNTH_NUM_FAMILIES
};

/* Fill styles: the whole shape, a band along its boundary, or the shape cut by diagonal stripes. */
enum { IMBAL_SYNTH_FILLED = 0, IMBAL_SYNTH_OUTLINE, IMBAL_SYNTH_STRIPED, IMBAL_SYNTH_NUM_STYLES };

/* What a class draws: one shape, or two side by side (the first on the left of the pair axis). */
typedef struct imbal_synth_design {
    int parts; /* 1 or 2 */
    int family[2];
    int style[2];
} imbal_synth_design;

/* The design of class_id (0 <= class_id < IMBAL_SYNTH_MAX_CLASSES); independent of K. */
void imbal_synth_design_of(int class_id, imbal_synth_design *d);

/* "disc", "square", ...; "?" outside the range. */
const char *imbal_synth_family_name(int family);

/* imbal_synth_render without argument checks (the caller has validated them): never fails,
 * touches no context, so the writer calls it from OpenMP threads. */
void imbal_synth_render_unchecked(int class_id, uint64_t seed, uint64_t sample, int size,
                                  uint8_t *rgb);

#endif
