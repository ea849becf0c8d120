/* imbal: imbal_chip_dataset: cuts every image of a dataset into tiles (geometry in src/chip.c) and
 * writes them as an ImageFolder plus a manifest (include/imbal/chip.h, docs/pipeline.md,
 * "Chipping").
 *
 * Chip names: <class>/<stem>_y<Y>_x<X>.png, stem = the source's file name without its extension.
 * When two sources of one class share a stem (a/x.jpg and b/x.png), each of them is named
 * <stem>_<dataset index> instead, which depends only on the index. If such a name still equals
 * another source's plain stem (x_5 next to x.jpg at index 5), that is IMBAL_ERR_DATA naming both
 * files rather than a chip silently overwriting another. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "imbal/chip.h"
#include "imbal/image.h"
#include "internal.h"

/* What happened to each source. */
enum { SRC_SKIPPED = 0, SRC_CHIPPED = 1, SRC_TOO_SMALL = 2, SRC_BAD = 3 };

/* A source's stem as a slice of its path, for sorting by (class, stem). */
typedef struct stem_key {
    int32_t label;
    int32_t len;
    const char *stem;
    int64_t index;
} stem_key;

typedef struct chip_plan {
    const imbal_dataset *ds;
    const imbal_chip_config *cfg;
    const char *out_dir;
    int64_t n;
    int32_t *stem_start, *stem_len; /* the stem inside imbal_dataset_path(ds, i) */
    uint8_t *dup;                   /* 1: the name carries _<index> */
    int32_t *width, *height;        /* of each decoded source */
    int8_t *state;                  /* SRC_* */
    char **bad_msg;                 /* why a skipped source was unreadable (skip_bad) */
} chip_plan;

static void stem_of(const char *path, int32_t *start, int32_t *len) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot > base ? (size_t)(dot - base) : strlen(base);
    *start = (int32_t)(base - path);
    *len = (int32_t)n;
}

static int cmp_slice(const char *a, int32_t alen, const char *b, int32_t blen) {
    int c = memcmp(a, b, (size_t)(alen < blen ? alen : blen));
    if (c) return c;
    return (alen > blen) - (alen < blen);
}

static int cmp_stem_key(const void *pa, const void *pb) {
    const stem_key *a = pa, *b = pb;
    if (a->label != b->label) return a->label < b->label ? -1 : 1;
    int c = cmp_slice(a->stem, a->len, b->stem, b->len);
    if (c) return c;
    return (a->index > b->index) - (a->index < b->index);
}

/* Any key of class `label` whose stem is exactly s[0..len), or NULL. */
static const stem_key *find_stem(const stem_key *keys, int64_t n, int32_t label, const char *s,
                                 int32_t len) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const stem_key *k = &keys[mid];
        int c =
            k->label != label ? (k->label < label ? -1 : 1) : cmp_slice(k->stem, k->len, s, len);
        if (c == 0) return k;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* Stems, the duplicates that get _<index>, and the check that no two names collide. */
static imbal_status name_sources(imbal_ctx *ctx, chip_plan *p) {
    const imbal_dataset *ds = p->ds;
    const int32_t *labels = imbal_dataset_labels(ds);
    stem_key *keys = imbal_xmalloc(ctx, (size_t)p->n, sizeof *keys, "chip name keys");
    if (!keys) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < p->n; ++i) {
        const char *path = imbal_dataset_path(ds, i);
        stem_of(path, &p->stem_start[i], &p->stem_len[i]);
        keys[i] = (stem_key){labels[i], p->stem_len[i], path + p->stem_start[i], i};
    }
    qsort(keys, (size_t)p->n, sizeof *keys, cmp_stem_key);
    for (int64_t a = 0, b; a < p->n; a = b) {
        for (b = a + 1; b < p->n && keys[b].label == keys[a].label &&
                        cmp_slice(keys[a].stem, keys[a].len, keys[b].stem, keys[b].len) == 0;
             ++b)
            ;
        if (b - a > 1)
            for (int64_t k = a; k < b; ++k)
                p->dup[keys[k].index] = 1;
    }
    imbal_status st = IMBAL_OK;
    char buf[4096];
    for (int64_t i = 0; i < p->n && st == IMBAL_OK; ++i) {
        if (!p->dup[i]) continue;
        const char *path = imbal_dataset_path(ds, i);
        int w = snprintf(buf, sizeof buf, "%.*s_%lld", (int)p->stem_len[i], path + p->stem_start[i],
                         (long long)i);
        if (w < 0 || (size_t)w >= sizeof buf) continue; /* longer than any file name can be */
        const stem_key *k = find_stem(keys, p->n, labels[i], buf, (int32_t)w);
        if (k && !p->dup[k->index])
            st = imbal_fail(ctx, IMBAL_ERR_DATA,
                            "chip: '%s' (index %lld) is renamed '%s' because its class has "
                            "another file of that stem, which is the stem of '%s'; rename one",
                            path, (long long)i, buf, imbal_dataset_path(ds, k->index));
    }
    free(keys);
    return st;
}

/* A class name becomes a directory: it must be one path component. */
static imbal_status check_class_name(imbal_ctx *ctx, const char *name) {
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "chip: class name '%s' cannot be a directory name (empty, '.', '..' or "
                          "holding '/')",
                          name);
    return IMBAL_OK;
}

/* out_dir and one directory per class that has a source. */
static imbal_status make_dirs(imbal_ctx *ctx, const chip_plan *p) {
    const imbal_dataset *ds = p->ds;
    int k = imbal_dataset_num_classes(ds);
    imbal_status st = imbal_mkdirs(ctx, p->out_dir);
    if (st != IMBAL_OK) return st;
    uint8_t *used = imbal_xcalloc(ctx, (size_t)k + 1, 1, "class flags");
    if (!used) return IMBAL_ERR_OUT_OF_MEMORY;
    const int32_t *labels = imbal_dataset_labels(ds);
    for (int64_t i = 0; i < p->n; ++i)
        used[labels[i]] = 1;
    size_t cap = 0;
    char *dir = NULL;
    for (int c = 0; c < k && st == IMBAL_OK; ++c) {
        if (!used[c]) continue;
        const char *name = imbal_dataset_class_name(ds, c);
        st = check_class_name(ctx, name);
        if (st != IMBAL_OK) break;
        size_t need = strlen(p->out_dir) + strlen(name) + 2;
        if (need > cap) {
            char *d = imbal_xrealloc(ctx, dir, need, 1, "class directory");
            if (!d) {
                st = IMBAL_ERR_OUT_OF_MEMORY;
                break;
            }
            dir = d, cap = need;
        }
        snprintf(dir, cap, "%s/%s", p->out_dir, name);
        st = imbal_mkdirs(ctx, dir);
    }
    free(dir);
    free(used);
    return st;
}

/* "<class>/<stem>[_<index>]_y<Y>_x<X>.png" into a malloc'd string, prefixed by prefix + '/'
 * when prefix is not NULL. */
static char *chip_name(const chip_plan *p, int64_t i, const char *prefix, int y, int x) {
    const char *path = imbal_dataset_path(p->ds, i);
    const char *cls = imbal_dataset_class_name(p->ds, imbal_dataset_labels(p->ds)[i]);
    size_t need = (prefix ? strlen(prefix) + 1 : 0) + strlen(cls) + (size_t)p->stem_len[i] + 80;
    char *s = malloc(need);
    if (!s) return NULL;
    char idx[32] = "";
    if (p->dup[i]) snprintf(idx, sizeof idx, "_%lld", (long long)i);
    snprintf(s, need, "%s%s%s/%.*s%s_y%d_x%d.png", prefix ? prefix : "", prefix ? "/" : "", cls,
             (int)p->stem_len[i], path + p->stem_start[i], idx, y, x);
    return s;
}

/* The file to read: the dataset path, joined to the root unless absolute. */
static char *source_file(const imbal_dataset *ds, int64_t i) {
    const char *path = imbal_dataset_path(ds, i), *root = imbal_dataset_root(ds);
    size_t need = strlen(root) + strlen(path) + 2;
    char *s = malloc(need);
    if (!s) return NULL;
    if (path[0] == '/')
        snprintf(s, need, "%s", path);
    else
        snprintf(s, need, "%s/%s", root, path);
    return s;
}

/* Writes the tiles of one decoded source. tile is a size x size scratch image. */
static imbal_status write_tiles(imbal_ctx *ctx, const chip_plan *p, int64_t i,
                                const imbal_image *img, imbal_image *tile, int64_t *chips) {
    const imbal_chip_config *cfg = p->cfg;
    int S = cfg->size;
    int nx = imbal_chip_offsets(img->width, S, cfg->overlap, cfg->min_cover, NULL, 0);
    int ny = imbal_chip_offsets(img->height, S, cfg->overlap, cfg->min_cover, NULL, 0);
    int *xs = imbal_xmalloc(ctx, (size_t)nx + (size_t)ny, sizeof *xs, "chip offsets");
    if (!xs) return IMBAL_ERR_OUT_OF_MEMORY;
    int *ys = xs + nx;
    imbal_chip_offsets(img->width, S, cfg->overlap, cfg->min_cover, xs, nx);
    imbal_chip_offsets(img->height, S, cfg->overlap, cfg->min_cover, ys, ny);
    imbal_status st = IMBAL_OK;
    const size_t row = (size_t)S * 3, src_stride = (size_t)img->width * 3;
    for (int a = 0; a < ny && st == IMBAL_OK; ++a)
        for (int b = 0; b < nx && st == IMBAL_OK; ++b) {
            const uint8_t *src = img->data + (size_t)ys[a] * src_stride + (size_t)xs[b] * 3;
            for (int r = 0; r < S; ++r)
                memcpy(tile->data + (size_t)r * row, src + (size_t)r * src_stride, row);
            char *out = chip_name(p, i, p->out_dir, ys[a], xs[b]);
            if (!out) {
                st = imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "chip: no memory for a file name");
                break;
            }
            st = imbal_image_write_png(ctx, tile, out);
            free(out);
            if (st == IMBAL_OK) ++*chips;
        }
    free(xs);
    return st;
}

/* Loads and chips source i. A load failure under skip_bad marks it bad and keeps its message. */
static imbal_status chip_source(imbal_ctx *ctx, chip_plan *p, int64_t i, imbal_image *tile,
                                int64_t *chips) {
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    o.max_pixels = p->cfg->max_pixels;
    o.policy = IMBAL_RESIZE_NONE;
    char *file = source_file(p->ds, i);
    if (!file) return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "chip: no memory for a path");
    imbal_image img = {0};
    imbal_status st = imbal_image_load(ctx, file, &o, &img);
    free(file);
    if (st != IMBAL_OK) {
        if (!p->cfg->skip_bad || st == IMBAL_ERR_OUT_OF_MEMORY) return st;
        p->state[i] = SRC_BAD;
        p->bad_msg[i] = strdup(imbal_ctx_error(ctx));
        return IMBAL_OK;
    }
    p->width[i] = img.width, p->height[i] = img.height;
    if (img.width < p->cfg->size || img.height < p->cfg->size) {
        p->state[i] = SRC_TOO_SMALL;
    } else {
        st = write_tiles(ctx, p, i, &img, tile, chips);
        if (st == IMBAL_OK) p->state[i] = SRC_CHIPPED;
    }
    imbal_image_free(&img);
    return st;
}

/* The first failure in dataset order over all threads. */
typedef struct first_error {
    int64_t index; /* p->n when none */
    imbal_status status;
    char *message;
} first_error;

static void chip_all(imbal_ctx *ctx, chip_plan *p, first_error *fe, int64_t *chips_total) {
    int64_t n = p->n, chips = 0;
    fe->index = n;
#pragma omp parallel num_threads(imbal_ctx_omp_threads(ctx)) reduction(+ : chips)
    {
        imbal_ctx *tctx = NULL;
        imbal_image tile = {0};
        imbal_status tst = imbal_ctx_create(&tctx);
        if (tst == IMBAL_OK) tst = imbal_image_alloc(tctx, p->cfg->size, p->cfg->size, 3, &tile);
        int64_t my_index = n;
        char *my_msg = tst == IMBAL_OK ? NULL : strdup(tctx ? imbal_ctx_error(tctx) : "");
        if (tst != IMBAL_OK) my_index = -1; /* no worker state: fail before any source */
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < n; ++i) {
            int64_t known;
#pragma omp atomic read
            known = fe->index;
            if (i > known || my_index < n) continue; /* an earlier source already failed */
            imbal_status st = chip_source(tctx, p, i, &tile, &chips);
            if (st != IMBAL_OK) {
                my_index = i, tst = st;
                my_msg = strdup(imbal_ctx_error(tctx));
#pragma omp critical(imbal_chip_first_error)
                if (i < fe->index) fe->index = i;
            }
        }
        /* The loop may already have put my_index into fe->index, without its message. */
#pragma omp critical(imbal_chip_first_error)
        if (my_index < fe->index || (my_index == fe->index && my_index < n && !fe->message)) {
            fe->index = my_index, fe->status = tst, fe->message = my_msg;
            my_msg = NULL;
        }
        free(my_msg);
        imbal_image_free(&tile);
        imbal_ctx_destroy(tctx);
    }
    *chips_total = chips;
}

static void put_field(FILE *fp, const char *s, size_t n) {
    int quote = 0;
    for (size_t k = 0; k < n && !quote; ++k)
        quote = s[k] == ',' || s[k] == '"' || s[k] == '\n' || s[k] == '\r';
    if (!quote) {
        fwrite(s, 1, n, fp);
        return;
    }
    fputc('"', fp);
    for (size_t k = 0; k < n; ++k) {
        if (s[k] == '"') fputc('"', fp);
        fputc(s[k], fp);
    }
    fputc('"', fp);
}

/* out_dir/manifest.csv: chips in dataset order, then y, then x. */
static imbal_status write_manifest(imbal_ctx *ctx, const chip_plan *p) {
    const imbal_chip_config *cfg = p->cfg;
    size_t plen = strlen(p->out_dir) + sizeof "/manifest.csv";
    char *path = imbal_xmalloc(ctx, plen, 1, "manifest path");
    if (!path) return IMBAL_ERR_OUT_OF_MEMORY;
    snprintf(path, plen, "%s/manifest.csv", p->out_dir);
    imbal_atomic_file f;
    imbal_status st = imbal_atomic_open(ctx, &f, path);
    free(path);
    if (st != IMBAL_OK) return st;
    fputs("path,label,source,x,y,width,height\n", f.fp);
    const int32_t *labels = imbal_dataset_labels(p->ds);
    int S = cfg->size, *xs = NULL;
    for (int64_t i = 0; i < p->n && st == IMBAL_OK; ++i) {
        if (p->state[i] != SRC_CHIPPED) continue;
        int nx = imbal_chip_offsets(p->width[i], S, cfg->overlap, cfg->min_cover, NULL, 0);
        int ny = imbal_chip_offsets(p->height[i], S, cfg->overlap, cfg->min_cover, NULL, 0);
        xs = imbal_xmalloc(ctx, (size_t)nx + (size_t)ny, sizeof *xs, "chip offsets");
        if (!xs) {
            st = IMBAL_ERR_OUT_OF_MEMORY;
            break;
        }
        int *ys = xs + nx;
        imbal_chip_offsets(p->width[i], S, cfg->overlap, cfg->min_cover, xs, nx);
        imbal_chip_offsets(p->height[i], S, cfg->overlap, cfg->min_cover, ys, ny);
        const char *cls = imbal_dataset_class_name(p->ds, labels[i]);
        const char *src = imbal_dataset_path(p->ds, i);
        for (int a = 0; a < ny && st == IMBAL_OK; ++a)
            for (int b = 0; b < nx; ++b) {
                char *name = chip_name(p, i, NULL, ys[a], xs[b]);
                if (!name) {
                    st = imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "chip: no memory for a name");
                    break;
                }
                put_field(f.fp, name, strlen(name));
                fputc(',', f.fp);
                put_field(f.fp, cls, strlen(cls));
                fputc(',', f.fp);
                put_field(f.fp, src, strlen(src));
                fprintf(f.fp, ",%d,%d,%d,%d\n", xs[b], ys[a], S, S);
                free(name);
            }
        free(xs);
        xs = NULL;
    }
    if (st == IMBAL_OK) st = imbal_atomic_commit(ctx, &f);
    imbal_atomic_abort(&f);
    return st;
}

static imbal_status check_args(imbal_ctx *ctx, const imbal_dataset *ds,
                               const imbal_chip_config *cfg, const char *out_dir) {
    if (!ds || !cfg)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "chip: %s is NULL",
                          ds ? "the config" : "the dataset");
    if (!out_dir || !*out_dir)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "chip: the output directory is empty");
    if (!*imbal_dataset_root(ds))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "chip: the dataset has no files (made from counts)");
    if (cfg->size < 1 || cfg->size > (1 << 15))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "chip: size %d is outside [1, 32768]",
                          cfg->size);
    if (cfg->overlap < 0 || cfg->overlap >= cfg->size)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "chip: overlap %d is outside [0, size %d)", cfg->overlap, cfg->size);
    if (!(cfg->min_cover >= 0.0 && cfg->min_cover <= 1.0))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "chip: min_cover %g is outside [0, 1]",
                          cfg->min_cover);
    if (cfg->max_pixels < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "chip: max_pixels %lld is below 1",
                          (long long)cfg->max_pixels);
    if (cfg->skip_bad != 0 && cfg->skip_bad != 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "chip: skip_bad %d is not 0 or 1",
                          cfg->skip_bad);
    return IMBAL_OK;
}

static void plan_free(chip_plan *p) {
    if (p->bad_msg)
        for (int64_t i = 0; i < p->n; ++i)
            free(p->bad_msg[i]);
    free(p->bad_msg);
    free(p->stem_start);
    free(p->stem_len);
    free(p->dup);
    free(p->width);
    free(p->height);
    free(p->state);
}

static imbal_status plan_alloc(imbal_ctx *ctx, chip_plan *p) {
    size_t n = (size_t)p->n ? (size_t)p->n : 1;
    p->stem_start = imbal_xcalloc(ctx, n, sizeof *p->stem_start, "chip stems");
    p->stem_len = p->stem_start ? imbal_xcalloc(ctx, n, sizeof *p->stem_len, "chip stems") : NULL;
    p->dup = p->stem_len ? imbal_xcalloc(ctx, n, 1, "chip name flags") : NULL;
    p->width = p->dup ? imbal_xcalloc(ctx, n, sizeof *p->width, "chip widths") : NULL;
    p->height = p->width ? imbal_xcalloc(ctx, n, sizeof *p->height, "chip heights") : NULL;
    p->state = p->height ? imbal_xcalloc(ctx, n, 1, "chip states") : NULL;
    p->bad_msg = p->state ? imbal_xcalloc(ctx, n, sizeof *p->bad_msg, "chip messages") : NULL;
    return p->bad_msg ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
}

imbal_status imbal_chip_dataset(imbal_ctx *ctx, const imbal_dataset *ds,
                                const imbal_chip_config *cfg, const char *out_dir,
                                imbal_chip_stats *stats) {
    if (stats) memset(stats, 0, sizeof *stats);
    imbal_status st = check_args(ctx, ds, cfg, out_dir);
    if (st != IMBAL_OK) return st;
    chip_plan p = {0};
    p.ds = ds, p.cfg = cfg, p.out_dir = out_dir, p.n = imbal_dataset_size(ds);
    st = plan_alloc(ctx, &p);
    if (st == IMBAL_OK) st = name_sources(ctx, &p);
    if (st == IMBAL_OK) st = make_dirs(ctx, &p);
    int64_t chips = 0;
    if (st == IMBAL_OK) {
        first_error fe = {0, IMBAL_OK, NULL};
        chip_all(ctx, &p, &fe, &chips);
        if (fe.index < p.n) {
            st = imbal_fail(ctx, fe.status, "%s", fe.message ? fe.message : "chip: failed");
        }
        free(fe.message);
    }
    if (st == IMBAL_OK) {
        for (int64_t i = 0; i < p.n; ++i)
            if (p.state[i] == SRC_BAD)
                imbal_log(ctx, IMBAL_LOG_WARN, "chip: skipped unreadable '%s': %s",
                          imbal_dataset_path(ds, i), p.bad_msg[i] ? p.bad_msg[i] : "");
        st = write_manifest(ctx, &p);
    }
    if (st == IMBAL_OK && stats) {
        for (int64_t i = 0; i < p.n; ++i) {
            stats->sources += p.state[i] == SRC_CHIPPED || p.state[i] == SRC_TOO_SMALL;
            stats->too_small += p.state[i] == SRC_TOO_SMALL;
            stats->bad += p.state[i] == SRC_BAD;
        }
        stats->chips = chips;
    }
    plan_free(&p);
    return st;
}
