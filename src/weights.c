/* imbal: class weights from class counts (formulas and sources in docs/weights.md). */
#include "imbal/weights.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char *const scheme_names[] = {"none", "inverse", "balanced", "one-minus-freq",
                                           "ins",  "isns",    "ens",      "manual"};
#define SCHEME_COUNT ((int)(sizeof scheme_names / sizeof scheme_names[0]))

const char *imbal_weight_scheme_name(imbal_weight_scheme scheme) {
    int s = (int)scheme;
    return (s >= 0 && s < SCHEME_COUNT) ? scheme_names[s] : "unknown";
}

imbal_status imbal_weight_scheme_parse(imbal_ctx *ctx, const char *name, imbal_weight_scheme *out) {
    if (!name || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_weight_scheme_parse: name or out is NULL");
    for (int s = 0; s < SCHEME_COUNT; ++s) {
        if (strcmp(name, scheme_names[s]) == 0) {
            *out = (imbal_weight_scheme)s;
            return IMBAL_OK;
        }
    }
    return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                      "unknown class weight scheme '%s' (expected none, inverse, balanced, "
                      "one-minus-freq, ins, isns, ens or manual)",
                      name);
}

void imbal_weight_options_default(imbal_weight_options *opts) {
    if (!opts) return;
    opts->scheme = IMBAL_WEIGHTS_NONE;
    opts->beta = 0.999;
    opts->power = 1.0;
    opts->zero_weight_for_empty = 0;
    opts->manual = NULL;
}

/* "class 'cat' (id 2)" or "class 2" when there is no name. */
static const char *class_label(const char *const *names, int c, char *buf, size_t size) {
    if (names && names[c])
        snprintf(buf, size, "class '%s' (id %d)", names[c], c);
    else
        snprintf(buf, size, "class %d", c);
    return buf;
}

/* Effective-number weight 1 / E_n with E_n = (1 - b^n) / (1 - b) (Cui et al., CVPR 2019, eq. 3).
 * 1 - b^n is computed as -expm1(n log b) so it keeps full precision when b is close to 1 (where
 * the literal 1 - pow(b, n) cancels); log1p(b - 1) is exact-input for b >= 0.5 (Sterbenz). */
static double ens_weight(double beta, int64_t n) {
    if (beta == 0.0) return 1.0;
    double log_b = beta >= 0.5 ? log1p(beta - 1.0) : log(beta);
    return (1.0 - beta) / -expm1((double)n * log_b);
}

static int scheme_is_normalised(imbal_weight_scheme s) {
    return s == IMBAL_WEIGHTS_INS || s == IMBAL_WEIGHTS_ISNS || s == IMBAL_WEIGHTS_ENS;
}

static imbal_status validate_options(imbal_ctx *ctx, const imbal_weight_options *opts, int k) {
    int s = (int)opts->scheme;
    if (s < 0 || s >= SCHEME_COUNT)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "class weights: unknown scheme value %d",
                          s);
    if (!isfinite(opts->power) || opts->power < 0.0)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "class weights: power must be finite and >= 0, got %g", opts->power);
    if (opts->scheme == IMBAL_WEIGHTS_ENS && !(opts->beta >= 0.0 && opts->beta < 1.0))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "class weights: ens beta must be in [0, 1), got %g", opts->beta);
    if (opts->scheme == IMBAL_WEIGHTS_MANUAL && !opts->manual)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "class weights: scheme 'manual' needs opts->manual (%d weights)", k);
    return IMBAL_OK;
}

/* Checks counts (>= 0, no overflow of N) and the empty-class policy; writes N. */
static imbal_status validate_counts(imbal_ctx *ctx, const int64_t *counts, int k,
                                    const char *const *names, const imbal_weight_options *opts,
                                    int64_t *total) {
    char buf[320];
    int64_t n = 0;
    for (int c = 0; c < k; ++c) {
        if (counts[c] < 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "class weights: %s has negative count %lld",
                              class_label(names, c, buf, sizeof buf), (long long)counts[c]);
        if (counts[c] > INT64_MAX - n)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "class weights: total count overflows at %s",
                              class_label(names, c, buf, sizeof buf));
        if (counts[c] == 0 && !opts->zero_weight_for_empty)
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "class weights (%s): %s is empty (set zero_weight_for_empty to give "
                              "it weight 0)",
                              imbal_weight_scheme_name(opts->scheme),
                              class_label(names, c, buf, sizeof buf));
        n += counts[c];
    }
    *total = n;
    return IMBAL_OK;
}

/* The scheme's base weight for a non-empty class, before power and normalisation. */
static double base_weight(const imbal_weight_options *opts, int64_t n_c, int64_t n, int k) {
    switch (opts->scheme) {
    case IMBAL_WEIGHTS_INVERSE:
        return (double)n / (double)n_c;
    /* scikit-learn: n_samples / (n_classes * np.bincount(y)); K * n_c is exact below 2^53. */
    case IMBAL_WEIGHTS_BALANCED:
        return (double)n / ((double)k * (double)n_c);
    /* (N - n_c) / N is the correctly rounded 1 - n_c / N (no cancellation). */
    case IMBAL_WEIGHTS_ONE_MINUS_FREQ:
        return (double)(n - n_c) / (double)n;
    case IMBAL_WEIGHTS_INS:
        return 1.0 / (double)n_c;
    case IMBAL_WEIGHTS_ISNS:
        return 1.0 / sqrt((double)n_c);
    case IMBAL_WEIGHTS_ENS:
        return ens_weight(opts->beta, n_c);
    default:
        return 1.0;
    }
}

/* Neumaier-compensated sum, so the normalisation stays exact-ish for many classes. */
static double sum_compensated(const double *w, int k) {
    double s = 0.0, comp = 0.0;
    for (int c = 0; c < k; ++c) {
        double t = s + w[c];
        comp += fabs(s) >= fabs(w[c]) ? (s - t) + w[c] : (w[c] - t) + s;
        s = t;
    }
    return s + comp;
}

/* ins/isns/ens: base weights lie in (0, 1]. With power != 1 they are first divided by their
 * maximum (the normalised result is scale-invariant) so w^p cannot underflow them all to 0. */
static void normalise(double *out, const int64_t *counts, int k, double power) {
    int present = 0;
    double max_w = 0.0;
    for (int c = 0; c < k; ++c) {
        if (counts[c] == 0) continue;
        ++present;
        if (out[c] > max_w) max_w = out[c];
    }
    if (present == 0) return; /* every class empty: all weights stay 0 */
    if (power != 1.0) {
        for (int c = 0; c < k; ++c)
            if (counts[c] > 0) out[c] = pow(out[c] / max_w, power);
    }
    double s = sum_compensated(out, k);
    /* Same operation order as Cui et al.'s code: weights / sum(weights) * K. */
    for (int c = 0; c < k; ++c)
        if (counts[c] > 0) out[c] = out[c] / s * (double)present;
}

static imbal_status apply_power(imbal_ctx *ctx, double *out, int k, const char *const *names,
                                const imbal_weight_options *opts, const int64_t *counts) {
    if (opts->power == 1.0) return IMBAL_OK;
    char buf[320];
    for (int c = 0; c < k; ++c) {
        if (counts && counts[c] == 0) continue; /* an empty class keeps weight 0 */
        double w = pow(out[c], opts->power);
        if (!isfinite(w))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "class weights (%s): power %g overflows the weight %g of %s",
                              imbal_weight_scheme_name(opts->scheme), opts->power, out[c],
                              class_label(names, c, buf, sizeof buf));
        out[c] = w;
    }
    return IMBAL_OK;
}

static imbal_status manual_weights(imbal_ctx *ctx, int k, const char *const *names,
                                   const imbal_weight_options *opts, double *out) {
    char buf[320];
    for (int c = 0; c < k; ++c) {
        double w = opts->manual[c];
        if (!isfinite(w) || w < 0.0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "class weights (manual): %s has weight %g (must be finite and >= 0)",
                              class_label(names, c, buf, sizeof buf), w);
    }
    for (int c = 0; c < k; ++c)
        out[c] = opts->manual[c] + 0.0; /* -0 becomes +0 */
    return apply_power(ctx, out, k, names, opts, NULL);
}

imbal_status imbal_class_weights(imbal_ctx *ctx, const int64_t *counts, int num_classes,
                                 const char *const *names, const imbal_weight_options *opts,
                                 double *out) {
    if (!opts || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_class_weights: opts or out is NULL");
    if (num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_class_weights: num_classes must be >= 1, got %d", num_classes);
    imbal_status st = validate_options(ctx, opts, num_classes);
    if (st != IMBAL_OK) return st;
    int k = num_classes;
    if (opts->scheme == IMBAL_WEIGHTS_NONE) {
        for (int c = 0; c < k; ++c)
            out[c] = 1.0;
        return IMBAL_OK;
    }
    if (opts->scheme == IMBAL_WEIGHTS_MANUAL) return manual_weights(ctx, k, names, opts, out);
    if (!counts)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_class_weights: counts is NULL (scheme '%s' needs them)",
                          imbal_weight_scheme_name(opts->scheme));
    int64_t n = 0;
    st = validate_counts(ctx, counts, k, names, opts, &n);
    if (st != IMBAL_OK) return st;
    for (int c = 0; c < k; ++c)
        out[c] = counts[c] > 0 ? base_weight(opts, counts[c], n, k) : 0.0;
    if (scheme_is_normalised(opts->scheme)) {
        normalise(out, counts, k, opts->power);
        return IMBAL_OK;
    }
    return apply_power(ctx, out, k, names, opts, counts);
}
