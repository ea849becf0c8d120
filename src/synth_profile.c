/* imbal: long-tail profiles of per-class training counts (Cao et al. 2019, "Learning Imbalanced
 * Datasets with Label-Distribution-Aware Margin Loss", NeurIPS; kaidic/LDAM-DRW
 * imbalance_cifar.py get_img_num_per_cls). */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "imbal/synth.h"

imbal_status imbal_profile_parse(imbal_ctx *ctx, const char *name, imbal_profile *out) {
    if (!out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_profile_parse: out is NULL");
    if (!name) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--profile is missing");
    if (strcmp(name, "exp") == 0)
        *out = IMBAL_PROFILE_EXP;
    else if (strcmp(name, "step") == 0)
        *out = IMBAL_PROFILE_STEP;
    else
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "--profile must be 'exp' or 'step', got '%s'", name);
    return IMBAL_OK;
}

const char *imbal_profile_name(imbal_profile profile) {
    switch (profile) {
    case IMBAL_PROFILE_EXP:
        return "exp";
    case IMBAL_PROFILE_STEP:
        return "step";
    }
    return "unknown";
}

imbal_status imbal_profile_counts(imbal_ctx *ctx, imbal_profile profile, int num_classes,
                                  int64_t max_per_class, double ratio, int64_t *counts) {
    if (profile != IMBAL_PROFILE_EXP && profile != IMBAL_PROFILE_STEP)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--profile: unknown profile %d",
                          (int)profile);
    if (num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--classes must be >= 1, got %d",
                          num_classes);
    if (max_per_class < 1 || max_per_class > (INT64_C(1) << 52))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "--max-per-class must be in 1..2^52, got %lld", (long long)max_per_class);
    if (!(ratio >= 1.0) || !isfinite(ratio))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--ratio must be >= 1, got %g", ratio);
    if (!counts)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_profile_counts: counts is NULL");
    /* LDAM-DRW writes the factor as imb_factor = 1/ratio and computes
     * int(img_max * imb_factor ** (i / (K - 1.0))); we evaluate the same double expression so
     * the counts match theirs exactly (CIFAR-10-LT 12406 images, CIFAR-100-LT 10847). */
    const double factor = 1.0 / ratio;
    const double n_max = (double)max_per_class;
    for (int i = 0; i < num_classes; ++i) {
        double n;
        if (profile == IMBAL_PROFILE_EXP)
            n = num_classes == 1 ? n_max : n_max * pow(factor, (double)i / (num_classes - 1.0));
        else
            n = i < num_classes / 2 ? n_max : n_max * factor;
        int64_t c = (int64_t)floor(n);
        counts[i] = c < 1 ? 1 : (c > max_per_class ? max_per_class : c);
    }
    return IMBAL_OK;
}
