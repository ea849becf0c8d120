/* imbal: which shapes a synthetic class draws, and its directory name. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "synth_internal.h"

static const char *const family_names[IMBAL_SYNTH_NUM_FAMILIES] = {
    "disc",     "square", "triangle", "cross", "ring",  "bars",  "stripe",   "star",
    "crescent", "corner", "diamond",  "x",     "arrow", "heart", "semidisc", "dots"};

static const char *const style_suffix[IMBAL_SYNTH_NUM_STYLES] = {"", "-outline", "-striped"};

const char *imbal_synth_family_name(int family) {
    if (family < 0 || family >= IMBAL_SYNTH_NUM_FAMILIES) return "?";
    return family_names[family];
}

/* Classes 0..F-1 are the filled families (the first ten are the default set), then the outlined
 * and striped variants (F*S single-shape classes in all), then ordered pairs of shapes: the first
 * shape with each style, the second shape offset by 1..F-1 families, with each style. That gives
 * F*S + F*S*(F-1)*S = 2208 distinct designs, more than IMBAL_SYNTH_MAX_CLASSES. */
void imbal_synth_design_of(int class_id, imbal_synth_design *d) {
    const int F = IMBAL_SYNTH_NUM_FAMILIES, S = IMBAL_SYNTH_NUM_STYLES;
    memset(d, 0, sizeof *d);
    if (class_id < F * S) {
        d->parts = 1;
        d->family[0] = class_id % F;
        d->style[0] = class_id / F;
        return;
    }
    int r = class_id - F * S;
    int rest = r / (F * S);
    d->parts = 2;
    d->family[0] = r % F;
    d->style[0] = (r / F) % S;
    d->family[1] = (d->family[0] + 1 + rest % (F - 1)) % F;
    d->style[1] = (rest / (F - 1)) % S;
}

imbal_status imbal_synth_class_name(imbal_ctx *ctx, int class_id, int num_classes, char *buf,
                                    int buf_len) {
    if (num_classes < 1 || num_classes > IMBAL_SYNTH_MAX_CLASSES)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--classes must be in 1..%d, got %d",
                          IMBAL_SYNTH_MAX_CLASSES, num_classes);
    if (class_id < 0 || class_id >= num_classes)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_synth_class_name: class %d is outside 0..%d", class_id,
                          num_classes - 1);
    if (!buf || buf_len < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_synth_class_name: no buffer for class %d", class_id);
    imbal_synth_design d;
    imbal_synth_design_of(class_id, &d);
    /* Fixed-width ids make the sorted directory order the class id order. */
    int width = num_classes <= 100 ? 2 : 3;
    int n;
    if (d.parts == 1)
        n = snprintf(buf, (size_t)buf_len, "%0*d-%s%s", width, class_id, family_names[d.family[0]],
                     style_suffix[d.style[0]]);
    else
        n = snprintf(buf, (size_t)buf_len, "%0*d-%s%s-with-%s%s", width, class_id,
                     family_names[d.family[0]], style_suffix[d.style[0]], family_names[d.family[1]],
                     style_suffix[d.style[1]]);
    if (n < 0 || n >= buf_len)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_synth_class_name: buffer of %d bytes is too small for class %d "
                          "(needs %d)",
                          buf_len, class_id, n + 1);
    return IMBAL_OK;
}
