/* imbal: the pipeline spec parser (imbal_aug_pipeline_parse; grammar in imbal/pipeline.h and
 * docs/pipeline.md). Every error names the step and the value at fault. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/pipeline.h"
#include "internal.h"

#define FN "imbal_aug_pipeline_parse"

typedef struct step_ctx {
    imbal_ctx *ctx;
    const char *step; /* the whole step text, for messages */
} step_ctx;

static imbal_status step_fail(const step_ctx *s, const char *what, const char *value,
                              const char *why) {
    return imbal_fail(s->ctx, IMBAL_ERR_INVALID_ARGUMENT, FN ": step '%s': %s '%s' %s", s->step,
                      what, value, why);
}

static int parse_int(const char *t, int lo, int hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(t, &end, 10);
    if (errno || end == t || *end || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

static int parse_float(const char *t, float *out) {
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (errno || end == t || *end || !isfinite(v)) return 0;
    *out = (float)v;
    return 1;
}

/* "N" or "HxW". */
static imbal_status parse_size(const step_ctx *s, char *t, int *h, int *w) {
    char *x = strchr(t, 'x');
    int ok;
    if (x) {
        *x = '\0';
        ok = parse_int(t, 1, 1 << 16, h) && parse_int(x + 1, 1, 1 << 16, w);
        *x = 'x';
    } else {
        ok = parse_int(t, 1, 1 << 16, h);
        *w = *h;
    }
    return ok ? IMBAL_OK : step_fail(s, "size", t, "is not N or HxW with sides in [1, 65536]");
}

/* `n` floats separated by `sep`. */
static int parse_floats(char *t, char sep, int n, float *out) {
    for (int i = 0; i < n; ++i) {
        char *next = i + 1 < n ? strchr(t, sep) : NULL;
        if (i + 1 < n && !next) return 0;
        if (next) *next = '\0';
        int ok = parse_float(t, &out[i]);
        if (next) *next = sep;
        if (!ok) return 0;
        t = next ? next + 1 : t;
    }
    return 1;
}

/* Splits "name=value:k=v:..." in place: params[] get the ':' parts after the first. */
static int split_params(char *step, char **params, int max) {
    int n = 0;
    for (char *c = strchr(step, ':'); c; c = strchr(c + 1, ':')) {
        *c = '\0';
        if (n < max) params[n] = c + 1;
        ++n;
    }
    return n;
}

static imbal_status parse_crop(const step_ctx *s, char *value, char **params, int np,
                               imbal_aug_pipeline *p) {
    p->geometry = IMBAL_AUG_GEOM_CROP;
    imbal_status st = parse_size(s, value, &p->out_height, &p->out_width);
    for (int i = 0; i < np && st == IMBAL_OK; ++i) {
        char *k = params[i];
        int v;
        if (strncmp(k, "pad=", 4) == 0) {
            if (!parse_int(k + 4, 0, 1 << 20, &p->pad))
                st = step_fail(s, "pad", k + 4, "is not an integer in [0, 2^20]");
        } else if (strncmp(k, "mode=", 5) == 0) {
            if (!imbal_pad_mode_from_name(k + 5, &p->pad_mode))
                st = step_fail(s, "mode", k + 5, "is not constant, edge or reflect");
        } else if (strncmp(k, "fill=", 5) == 0) {
            if (!parse_int(k + 5, 0, 255, &v))
                st = step_fail(s, "fill", k + 5, "is not an integer in [0, 255]");
            else
                p->pad_fill = (uint8_t)v;
        } else {
            st = step_fail(s, "parameter", k, "is not pad=P, mode=M or fill=V");
        }
    }
    return st;
}

static imbal_status parse_rrc(const step_ctx *s, char *value, char **params, int np,
                              imbal_aug_pipeline *p) {
    p->geometry = IMBAL_AUG_GEOM_RESIZED_CROP;
    imbal_status st = parse_size(s, value, &p->out_height, &p->out_width);
    for (int i = 0; i < np && st == IMBAL_OK; ++i) {
        char *k = params[i];
        if (strncmp(k, "scale=", 6) == 0) {
            if (!parse_floats(k + 6, '-', 2, p->scale) ||
                !(p->scale[0] > 0.0f && p->scale[0] <= p->scale[1] && p->scale[1] <= 1.0f))
                st = step_fail(s, "scale", k + 6, "is not LO-HI with 0 < LO <= HI <= 1");
        } else if (strncmp(k, "ratio=", 6) == 0) {
            if (!parse_floats(k + 6, '-', 2, p->ratio) ||
                !(p->ratio[0] > 0.0f && p->ratio[0] <= p->ratio[1]))
                st = step_fail(s, "ratio", k + 6, "is not LO-HI with 0 < LO <= HI");
        } else {
            st = step_fail(s, "parameter", k, "is not scale=LO-HI or ratio=LO-HI");
        }
    }
    return st;
}

static imbal_status parse_normalize(const step_ctx *s, char *value, char **params, int np,
                                    imbal_aug_pipeline *p) {
    static const float cifar_mean[3] = {0.4914f, 0.4822f, 0.4465f};
    static const float cifar_std[3] = {0.2470f, 0.2435f, 0.2616f};
    static const float inet_mean[3] = {0.485f, 0.456f, 0.406f};
    static const float inet_std[3] = {0.229f, 0.224f, 0.225f};
    p->output = IMBAL_AUG_OUT_F32_NCHW;
    if (!value)
        return step_fail(s, "value", "", "is missing (cifar10, imagenet or M0/M1/M2/S0/S1/S2)");
    if (strcmp(value, "cifar10") == 0) {
        memcpy(p->mean, cifar_mean, sizeof p->mean);
        memcpy(p->std, cifar_std, sizeof p->std);
    } else if (strcmp(value, "imagenet") == 0) {
        memcpy(p->mean, inet_mean, sizeof p->mean);
        memcpy(p->std, inet_std, sizeof p->std);
    } else {
        float v[6];
        if (!parse_floats(value, '/', 6, v))
            return step_fail(s, "value", value, "is not cifar10, imagenet or M0/M1/M2/S0/S1/S2");
        for (int c = 0; c < 3; ++c) {
            p->mean[c] = v[c], p->std[c] = v[3 + c];
            if (v[3 + c] == 0.0f) return step_fail(s, "std", value, "has a zero std");
        }
    }
    for (int i = 0; i < np; ++i) {
        if (strcmp(params[i], "bf16") == 0)
            p->output = IMBAL_AUG_OUT_BF16_NCHW;
        else if (strcmp(params[i], "f32") == 0)
            p->output = IMBAL_AUG_OUT_F32_NCHW;
        else
            return step_fail(s, "parameter", params[i], "is not bf16 or f32");
    }
    return IMBAL_OK;
}

static imbal_status parse_step(imbal_ctx *ctx, char *text, const char *whole,
                               imbal_aug_pipeline *p) {
    step_ctx s = {ctx, whole};
    char *params[8];
    int np = split_params(text, params, 8);
    if (np > 8) return step_fail(&s, "parameters", text, "are too many (at most 8)");
    char *value = strchr(text, '=');
    if (value) *value++ = '\0';
    const char *name = text;
    if (strcmp(name, "crop") == 0 || strcmp(name, "rrc") == 0 || strcmp(name, "size") == 0) {
        if (!value) return step_fail(&s, "size", "", "is missing (N or HxW)");
        if (p->geometry != IMBAL_AUG_GEOM_NONE)
            return step_fail(&s, "step", name, "repeats a geometry step (crop, rrc)");
        if (strcmp(name, "crop") == 0) return parse_crop(&s, value, params, np, p);
        if (strcmp(name, "rrc") == 0) return parse_rrc(&s, value, params, np, p);
        if (np) return step_fail(&s, "parameter", params[0], "is not allowed after size");
        return parse_size(&s, value, &p->out_height, &p->out_width);
    }
    if (strcmp(name, "flip") == 0) {
        p->flip_p = 0.5f;
        if (np) return step_fail(&s, "parameter", params[0], "is not allowed after flip");
        if (value && (!parse_float(value, &p->flip_p) || p->flip_p < 0.0f || p->flip_p > 1.0f))
            return step_fail(&s, "probability", value, "is not a number in [0, 1]");
        return IMBAL_OK;
    }
    if (strcmp(name, "rotate") == 0) {
        if (!value || !parse_float(value, &p->rotate_deg) || p->rotate_deg < 0.0f ||
            p->rotate_deg > 1e6f)
            return step_fail(&s, "degrees", value ? value : "", "is not a number >= 0");
        for (int i = 0; i < np; ++i) {
            float f[3];
            if (strncmp(params[i], "fill=", 5) != 0)
                return step_fail(&s, "parameter", params[i], "is not fill=R/G/B");
            if (!parse_floats(params[i] + 5, '/', 3, f))
                return step_fail(&s, "fill", params[i] + 5, "is not R/G/B");
            for (int c = 0; c < 3; ++c) {
                if (f[c] < 0.0f || f[c] > 255.0f || f[c] != floorf(f[c]))
                    return step_fail(&s, "fill", params[i] + 5, "has a value outside 0..255");
                p->rotate_fill[c] = (uint8_t)f[c];
            }
        }
        return IMBAL_OK;
    }
    if (strcmp(name, "jitter") == 0) {
        float f[4];
        if (np) return step_fail(&s, "parameter", params[0], "is not allowed after jitter");
        if (!value || !parse_floats(value, '/', 4, f))
            return step_fail(&s, "value", value ? value : "", "is not B/C/S/H");
        if (f[0] < 0.0f || f[1] < 0.0f || f[2] < 0.0f)
            return step_fail(&s, "value", value, "has a negative magnitude");
        if (f[3] < 0.0f || f[3] > 0.5f) return step_fail(&s, "hue", value, "is outside [0, 0.5]");
        p->brightness = f[0], p->contrast = f[1], p->saturation = f[2], p->hue = f[3];
        return IMBAL_OK;
    }
    if (strcmp(name, "normalize") == 0) return parse_normalize(&s, value, params, np, p);
    return step_fail(&s, "step", name, "is not crop, rrc, size, flip, rotate, jitter or normalize");
}

imbal_status imbal_aug_pipeline_parse(imbal_ctx *ctx, const char *spec, imbal_aug_pipeline *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, FN ": out is NULL");
    imbal_aug_pipeline_default(out);
    if (!spec) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, FN ": spec is NULL");
    size_t len = strlen(spec);
    if (len == 0) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, FN ": spec is empty");
    char *buf = imbal_xmalloc(ctx, 2 * len + 2, 1, "the pipeline spec");
    if (!buf) return IMBAL_ERR_OUT_OF_MEMORY;
    char *whole = buf + len + 1; /* an untouched copy of the current step, for messages */
    memcpy(buf, spec, len + 1);
    imbal_aug_pipeline p;
    imbal_aug_pipeline_default(&p);
    imbal_status st = IMBAL_OK;
    char *t = buf;
    while (st == IMBAL_OK) {
        char *comma = strchr(t, ',');
        if (comma) *comma = '\0';
        strcpy(whole, t);
        if (*t == '\0')
            st = imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, FN ": spec '%s' has an empty step",
                            spec);
        else
            st = parse_step(ctx, t, whole, &p);
        if (!comma) break;
        t = comma + 1;
    }
    free(buf);
    if (st == IMBAL_OK) *out = p;
    return st;
}
