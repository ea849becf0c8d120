/* imbal: checkpoints of a run as safetensors: the model's state_dict, the optimizer state and the
 * run's description as metadata strings (docs/training.md lists the keys). */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/safetensors.h"
#include "internal.h"
#include "tensor_internal.h"
#include "train_internal.h"

#define CHECKPOINT_FORMAT "imbal-checkpoint-1"

void run_info_free(run_info *ri) {
    for (int c = 0; ri->class_names && c < ri->num_classes; c++)
        free(ri->class_names[c]);
    free(ri->class_names);
    free(ri->train_counts);
    memset(ri, 0, sizeof *ri);
}

/* ---- metadata strings ---------------------------------------------------------------------- */

typedef struct meta {
    int n;
    const char *keys[32];
    char *values[32];
} meta;

static imbal_status meta_add(imbal_ctx *ctx, meta *md, const char *key, const char *value) {
    if (md->n >= 32)
        return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "checkpoint: too many metadata keys");
    md->keys[md->n] = key;
    md->values[md->n] = imbal_xstrdup(ctx, value);
    if (!md->values[md->n]) return IMBAL_ERR_OUT_OF_MEMORY;
    md->n++;
    return IMBAL_OK;
}

static imbal_status meta_addf(imbal_ctx *ctx, meta *md, const char *key, const char *fmt, ...)
    IMBAL_PRINTF(4, 5);
static imbal_status meta_addf(imbal_ctx *ctx, meta *md, const char *key, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return meta_add(ctx, md, key, buf);
}

/* Joins n strings (or formatted numbers) with sep into a fresh string. */
static char *join_names(imbal_ctx *ctx, char *const *names, int n) {
    size_t len = 1;
    for (int i = 0; i < n; i++)
        len += strlen(names[i]) + 1;
    char *s = imbal_xmalloc(ctx, len, 1, "checkpoint class names");
    if (!s) return NULL;
    s[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i) strcat(s, "\n");
        strcat(s, names[i]);
    }
    return s;
}

static char *join_counts(imbal_ctx *ctx, const int64_t *v, int n) {
    char *s = imbal_xmalloc(ctx, (size_t)n * 21 + 1, 1, "checkpoint counts");
    if (!s) return NULL;
    size_t at = 0;
    s[0] = '\0';
    for (int i = 0; i < n; i++)
        at += (size_t)sprintf(s + at, "%s%" PRId64, i ? "," : "", v[i]);
    return s;
}

static imbal_status build_meta(imbal_ctx *ctx, const run_info *ri, const optim_state *os,
                               meta *md) {
    const imbal_model_config *c = &ri->model;
    imbal_status st = meta_add(ctx, md, "format", CHECKPOINT_FORMAT);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "num_classes", "%d", c->num_classes);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "in_channels", "%d", c->in_channels);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "depth", "%d", c->depth);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "width", "%d", c->width);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "stem_stride", "%d", c->stem_stride);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "input", "%dx%d", c->height, c->width_px);
    if (st == IMBAL_OK)
        st = meta_addf(ctx, md, "bn", "%.9g,%.9g", (double)c->bn_momentum, (double)c->bn_eps);
    if (st == IMBAL_OK)
        st = meta_addf(ctx, md, "mean", "%.9g,%.9g,%.9g", (double)ri->mean[0], (double)ri->mean[1],
                       (double)ri->mean[2]);
    if (st == IMBAL_OK)
        st = meta_addf(ctx, md, "std", "%.9g,%.9g,%.9g", (double)ri->std[0], (double)ri->std[1],
                       (double)ri->std[2]);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "epoch", "%d", ri->epoch);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "crt_epoch", "%d", ri->crt_epoch);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "finished", "%d", ri->finished);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "logit_adjust", "%.9g", (double)ri->logit_adjust);
    if (st == IMBAL_OK) st = meta_addf(ctx, md, "seed", "%" PRIu64, ri->seed);
    if (st == IMBAL_OK)
        st = meta_addf(ctx, md, "optim_step", "%" PRId64, os ? os->step : (int64_t)0);
    if (st == IMBAL_OK && ri->positive_class >= 0) {
        /* The margin is what is applied; the probability is for people reading the metadata. */
        st = meta_addf(ctx, md, "positive_class", "%d", ri->positive_class);
        if (st == IMBAL_OK)
            st = meta_addf(ctx, md, "decision_margin", "%.9g", (double)ri->decision_margin);
        if (st == IMBAL_OK)
            st = meta_addf(ctx, md, "decision_threshold", "%.9g",
                           threshold_probability(ri->decision_margin));
    }
    if (st != IMBAL_OK) return st;
    char *names = join_names(ctx, ri->class_names, ri->num_classes);
    char *counts = join_counts(ctx, ri->train_counts, ri->num_classes);
    if (names && counts) {
        st = meta_add(ctx, md, "class_names", names);
        if (st == IMBAL_OK) st = meta_add(ctx, md, "train_counts", counts);
    } else {
        st = IMBAL_ERR_OUT_OF_MEMORY;
    }
    free(names);
    free(counts);
    return st;
}

/* ---- save ---------------------------------------------------------------------------------- */

imbal_status checkpoint_save(imbal_ctx *ctx, const char *path, const imbal_model *m,
                             const optim_state *os, const run_info *ri) {
    int np = imbal_model_num_params(m);
    int cap = np * 3;
    const char **names = imbal_xcalloc(ctx, (size_t)cap, sizeof *names, "checkpoint names");
    char **owned = imbal_xcalloc(ctx, (size_t)cap, sizeof *owned, "checkpoint names");
    imbal_tensor *host = imbal_xcalloc(ctx, (size_t)cap, sizeof *host, "checkpoint tensors");
    const imbal_tensor **tp = imbal_xcalloc(ctx, (size_t)cap, sizeof *tp, "checkpoint tensors");
    meta md = {0};
    imbal_status st = (names && owned && host && tp) ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
    int count = 0;
    for (int i = 0; st == IMBAL_OK && i < np; i++) {
        const imbal_param *p = imbal_model_param(m, i);
        for (int k = -1; st == IMBAL_OK && k < 2; k++) {
            const imbal_tensor *src = k < 0 ? p->value : (os && os->buf[k] ? os->buf[k][i] : NULL);
            if (!src) continue;
            char buf[256];
            if (k < 0)
                snprintf(buf, sizeof buf, "%s", p->name);
            else
                snprintf(buf, sizeof buf, "optim.%s.%d", p->name, k);
            owned[count] = imbal_xstrdup(ctx, buf);
            if (!owned[count]) {
                st = IMBAL_ERR_OUT_OF_MEMORY;
                break;
            }
            names[count] = owned[count];
            st = imbal_tensor_alloc(ctx, &host[count], IMBAL_F32, src->ndim, src->shape,
                                    imbal_device_cpu());
            if (st == IMBAL_OK) st = imbal_tensor_copy(ctx, &host[count], src);
            tp[count] = &host[count];
            count++;
        }
    }
    if (st == IMBAL_OK) st = build_meta(ctx, ri, os, &md);
    if (st == IMBAL_OK)
        st = imbal_safetensors_write(ctx, path, count, names, tp, md.n, md.keys,
                                     (const char *const *)md.values);
    for (int i = 0; i < md.n; i++)
        free(md.values[i]);
    for (int i = 0; i < cap && owned && host; i++) {
        free(owned[i]);
        imbal_tensor_free(&host[i]);
    }
    free(names);
    free(owned);
    free(host);
    free(tp);
    return st;
}

/* ---- load ---------------------------------------------------------------------------------- */

static imbal_status meta_int(imbal_ctx *ctx, const imbal_safetensors *sf, const char *path,
                             const char *key, long long lo, long long hi, long long *out) {
    const char *v = imbal_safetensors_metadata(sf, key);
    char *end = NULL;
    errno = 0;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || end == v || *end || errno || x < lo || x > hi)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "checkpoint '%s': metadata '%s' is %s%s%s (expected an integer in "
                          "%lld..%lld)",
                          path, key, v ? "'" : "missing", v ? v : "", v ? "'" : "", lo, hi);
    *out = x;
    return IMBAL_OK;
}

static imbal_status meta_floats(imbal_ctx *ctx, const imbal_safetensors *sf, const char *path,
                                const char *key, int n, float *out) {
    const char *v = imbal_safetensors_metadata(sf, key);
    const char *s = v;
    for (int i = 0; s && i < n; i++) {
        char *end = NULL;
        out[i] = strtof(s, &end);
        if (end == s || (i + 1 < n && *end != ',') || (i + 1 == n && *end))
            s = NULL;
        else
            s = end + 1;
    }
    if (!s)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "checkpoint '%s': metadata '%s' is %s (expected %d comma-separated "
                          "numbers)",
                          path, key, v ? v : "missing", n);
    return IMBAL_OK;
}

static imbal_status read_names_counts(imbal_ctx *ctx, const imbal_safetensors *sf, const char *path,
                                      run_info *ri) {
    int K = ri->num_classes;
    ri->class_names = imbal_xcalloc(ctx, (size_t)K, sizeof *ri->class_names, "class names");
    ri->train_counts = imbal_xcalloc(ctx, (size_t)K, sizeof *ri->train_counts, "train counts");
    if (!ri->class_names || !ri->train_counts) return IMBAL_ERR_OUT_OF_MEMORY;
    const char *names = imbal_safetensors_metadata(sf, "class_names");
    const char *counts = imbal_safetensors_metadata(sf, "train_counts");
    if (!names || !counts)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "checkpoint '%s': metadata 'class_names' or 'train_counts' missing",
                          path);
    const char *s = names;
    for (int c = 0; c < K; c++) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if ((c + 1 < K) != (nl != NULL))
            return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                              "checkpoint '%s': metadata 'class_names' does not hold %d names",
                              path, K);
        ri->class_names[c] = imbal_xmalloc(ctx, len + 1, 1, "class name");
        if (!ri->class_names[c]) return IMBAL_ERR_OUT_OF_MEMORY;
        memcpy(ri->class_names[c], s, len);
        ri->class_names[c][len] = '\0';
        s = nl ? nl + 1 : s + len;
    }
    s = counts;
    for (int c = 0; c < K; c++) {
        char *end = NULL;
        long long x = strtoll(s, &end, 10);
        if (end == s || x < 0 || (c + 1 < K && *end != ',') || (c + 1 == K && *end))
            return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                              "checkpoint '%s': metadata 'train_counts' does not hold %d counts",
                              path, K);
        ri->train_counts[c] = x;
        s = end + 1;
    }
    return IMBAL_OK;
}

static imbal_status info_from_file(imbal_ctx *ctx, const imbal_safetensors *sf, const char *path,
                                   run_info *ri) {
    memset(ri, 0, sizeof *ri);
    const char *fmt = imbal_safetensors_metadata(sf, "format");
    if (!fmt || strcmp(fmt, CHECKPOINT_FORMAT) != 0)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "checkpoint '%s': not an imbal checkpoint (metadata 'format' is %s, "
                          "expected '" CHECKPOINT_FORMAT "')",
                          path, fmt ? fmt : "missing");
    long long v[8];
    const char *keys[] = {"num_classes", "in_channels", "depth",    "width",
                          "stem_stride", "epoch",       "crt_epoch"};
    const long long hi[] = {1000000, 64, 1202, 1024, 2, 1000000, 1000000};
    for (int i = 0; i < 7; i++) {
        imbal_status st = meta_int(ctx, sf, path, keys[i], i == 5 || i == 6 ? 0 : 1, hi[i], &v[i]);
        if (st != IMBAL_OK) return st;
    }
    imbal_model_config *c = &ri->model;
    imbal_model_config_default(c, (int)v[0]);
    c->in_channels = (int)v[1];
    c->depth = (int)v[2];
    c->width = (int)v[3];
    c->stem_stride = (int)v[4];
    ri->epoch = (int)v[5];
    ri->crt_epoch = (int)v[6];
    const char *fin = imbal_safetensors_metadata(sf, "finished");
    ri->finished = fin && strcmp(fin, "1") == 0;
    ri->num_classes = c->num_classes;
    const char *input = imbal_safetensors_metadata(sf, "input");
    if (!input || sscanf(input, "%dx%d", &c->height, &c->width_px) != 2)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "checkpoint '%s': metadata 'input' is %s", path,
                          input ? input : "missing");
    float bn[2], la[1];
    imbal_status st = meta_floats(ctx, sf, path, "bn", 2, bn);
    if (st == IMBAL_OK) st = meta_floats(ctx, sf, path, "mean", 3, ri->mean);
    if (st == IMBAL_OK) st = meta_floats(ctx, sf, path, "std", 3, ri->std);
    if (st == IMBAL_OK) st = meta_floats(ctx, sf, path, "logit_adjust", 1, la);
    if (st != IMBAL_OK) return st;
    c->bn_momentum = bn[0];
    c->bn_eps = bn[1];
    ri->logit_adjust = la[0];
    const char *seed = imbal_safetensors_metadata(sf, "seed");
    ri->seed = seed ? strtoull(seed, NULL, 10) : 0;
    ri->positive_class = -1;
    if (imbal_safetensors_metadata(sf, "positive_class")) {
        long long pc = -1;
        float dm[1];
        st = meta_int(ctx, sf, path, "positive_class", 0, 1, &pc);
        if (st == IMBAL_OK) st = meta_floats(ctx, sf, path, "decision_margin", 1, dm);
        if (st != IMBAL_OK) return st;
        if (c->num_classes != 2 || !isfinite(dm[0]))
            return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                              "checkpoint '%s': a decision threshold needs two classes and a "
                              "finite 'decision_margin'",
                              path);
        ri->positive_class = (int)pc;
        ri->decision_margin = dm[0];
    }
    return read_names_counts(ctx, sf, path, ri);
}

imbal_status checkpoint_read_info(imbal_ctx *ctx, const char *path, run_info *ri) {
    imbal_safetensors *sf = NULL;
    memset(ri, 0, sizeof *ri);
    imbal_status st = imbal_safetensors_open(ctx, path, &sf);
    if (st == IMBAL_OK) st = info_from_file(ctx, sf, path, ri);
    if (st != IMBAL_OK) run_info_free(ri);
    imbal_safetensors_close(sf);
    return st;
}

static imbal_status load_one(imbal_ctx *ctx, const imbal_safetensors *sf, const char *path,
                             const char *name, imbal_tensor *dst) {
    imbal_tensor view;
    if (imbal_safetensors_get(ctx, sf, name, &view) != IMBAL_OK)
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "checkpoint '%s' has no tensor '%s': a checkpoint from another "
                          "architecture?",
                          path, name);
    if (view.dtype != IMBAL_F32 || !imbal_tensor_same_shape(&view, dst)) {
        char want[IMBAL_SHAPE_TEXT_MAX], got[IMBAL_SHAPE_TEXT_MAX];
        imbal_shape_format(dst->ndim, dst->shape, want, sizeof want);
        imbal_shape_format(view.ndim, view.shape, got, sizeof got);
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "checkpoint '%s': tensor '%s' is %s %s, the model needs f32 %s (a "
                          "checkpoint from another architecture)",
                          path, name, imbal_dtype_name(view.dtype), got, want);
    }
    return imbal_tensor_copy(ctx, dst, &view);
}

imbal_status checkpoint_load(imbal_ctx *ctx, const char *path, imbal_model *m, optim_state *os) {
    imbal_safetensors *sf = NULL;
    imbal_status st = imbal_safetensors_open(ctx, path, &sf);
    int np = imbal_model_num_params(m);
    for (int i = 0; st == IMBAL_OK && i < np; i++) {
        const imbal_param *p = imbal_model_param(m, i);
        st = load_one(ctx, sf, path, p->name, p->value);
        for (int k = 0; st == IMBAL_OK && os && k < 2; k++) {
            if (!os->buf[k] || !os->buf[k][i]) continue;
            char name[256];
            snprintf(name, sizeof name, "optim.%s.%d", p->name, k);
            st = load_one(ctx, sf, path, name, os->buf[k][i]);
        }
    }
    if (st == IMBAL_OK && os) {
        const char *step = imbal_safetensors_metadata(sf, "optim_step");
        os->step = step ? strtoll(step, NULL, 10) : 0;
    }
    imbal_safetensors_close(sf);
    return st;
}
