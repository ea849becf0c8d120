/* Argument checks shared by the augmentation ops. */
#include <math.h>
#include <string.h>

#include "augment_internal.h"
#include "internal.h"

imbal_status imbal_aug_check_io(imbal_ctx *ctx, const char *op, const imbal_image *src,
                                int need_channels, imbal_image *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: out is NULL", op);
    memset(out, 0, sizeof *out);
    if (!src) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: src is NULL", op);
    if (!src->data)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: src has no pixel data", op);
    if (src->width < 1 || src->height < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: src size %d x %d is empty", op,
                          src->width, src->height);
    if (need_channels > 0 && src->channels != need_channels)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: src has %d channels, needs %d", op,
                          src->channels, need_channels);
    if (src->channels < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: src has %d channels", op,
                          src->channels);
    return IMBAL_OK;
}

imbal_status imbal_aug_check_factor(imbal_ctx *ctx, const char *op, float factor) {
    if (!isfinite(factor) || factor < 0.0f)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s: factor %g is not a finite value >= 0", op, (double)factor);
    return IMBAL_OK;
}

int imbal_pad_mode_from_name(const char *name, imbal_pad_mode *out) {
    static const char *const names[] = {"constant", "edge", "reflect"};
    for (int m = 0; name && m < 3; ++m)
        if (strcmp(name, names[m]) == 0) {
            *out = (imbal_pad_mode)m;
            return 1;
        }
    return 0;
}
