/* imbal: writing a synthetic long-tailed image set to disk (`imbal synth`).
 *
 * Overwrite policy. OUT may be missing or empty (it is created), or hold an earlier synth run
 * (OUT/synth.json exists): then, before writing, every file in OUT/train/<dir>/ and
 * OUT/test/<dir>/ that is named like our output ("<digits>.jpg", or a leftover temporary
 * "<digits>.jpg.tmp.XXXXXX") and that this run will not rewrite is deleted, and class directories
 * left empty that this run does not use are removed. Any other file is left alone. A non-empty OUT
 * without synth.json is refused: we never delete files we did not write. synth.json is rewritten
 * last, so it only describes a finished set. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <turbojpeg.h>

#include "atomic_file.h"
#include "internal.h"
#include "synth_internal.h"

#define NAME_LEN             96
#define MAX_IMAGES_PER_CLASS INT64_C(10000000)

void imbal_synth_options_default(imbal_synth_options *opts) {
    if (!opts) return;
    memset(opts, 0, sizeof *opts);
    opts->out_dir = NULL;
    opts->num_classes = 10;
    opts->max_per_class = 500;
    opts->ratio = 100.0;
    opts->profile = IMBAL_PROFILE_EXP;
    opts->size = 32;
    opts->test_per_class = 100;
    opts->seed = 0;
    opts->quality = 95;
}

static imbal_status validate(imbal_ctx *ctx, const imbal_synth_options *o) {
    if (!o)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_synth_write: options is NULL");
    if (!o->out_dir || !*o->out_dir)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--out must name a directory, got none");
    if (o->num_classes < 1 || o->num_classes > IMBAL_SYNTH_MAX_CLASSES)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--classes must be in 1..%d, got %d",
                          IMBAL_SYNTH_MAX_CLASSES, o->num_classes);
    if (o->max_per_class < 1 || o->max_per_class > MAX_IMAGES_PER_CLASS)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "--max-per-class must be in 1..%lld, got %lld",
                          (long long)MAX_IMAGES_PER_CLASS, (long long)o->max_per_class);
    if (!(o->ratio >= 1.0) || !isfinite(o->ratio))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--ratio must be >= 1, got %g",
                          o->ratio);
    if (o->profile != IMBAL_PROFILE_EXP && o->profile != IMBAL_PROFILE_STEP)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "--profile must be 'exp' or 'step', got value %d", (int)o->profile);
    if (o->size < 8 || o->size > 1024)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--size must be in 8..1024, got %d",
                          o->size);
    if (o->test_per_class < 0 || o->test_per_class > MAX_IMAGES_PER_CLASS)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "--test-per-class must be in 0..%lld, got %lld",
                          (long long)MAX_IMAGES_PER_CLASS, (long long)o->test_per_class);
    if (o->quality < 1 || o->quality > 100)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "--quality must be in 1..100, got %d",
                          o->quality);
    return IMBAL_OK;
}

static char *join3(imbal_ctx *ctx, const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 3;
    char *p = imbal_xmalloc(ctx, n, 1, "path");
    if (!p) return NULL;
    if (c)
        snprintf(p, n, "%s/%s/%s", a, b, c);
    else
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* "<digits>.jpg" (index parsed into *index) or "<digits>.jpg.tmp.<anything>" (*index = -1). */
static int is_our_file(const char *name, long long *index) {
    const char *s = name;
    long long v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (digits < 18) v = v * 10 + (*s - '0');
        ++digits, ++s;
    }
    if (digits == 0 || strncmp(s, ".jpg", 4) != 0) return 0;
    if (s[4] == '\0') {
        *index = digits < 18 ? v : -1;
        return 1;
    }
    if (strncmp(s + 4, ".tmp.", 5) == 0) {
        *index = -1;
        return 1;
    }
    return 0;
}

/* Deletes our files in one class directory that this run will not rewrite (index >= keep, or a
 * name other than the canonical "%06lld.jpg"). */
static imbal_status prune_class_dir(imbal_ctx *ctx, const char *dir, int64_t keep) {
    DIR *d = opendir(dir);
    if (!d)
        return imbal_fail(ctx, IMBAL_ERR_IO, "cannot open directory '%s': %s", dir,
                          strerror(errno));
    imbal_status st = IMBAL_OK;
    struct dirent *e;
    while (st == IMBAL_OK && (e = readdir(d)) != NULL) {
        long long index;
        if (!is_our_file(e->d_name, &index)) continue;
        char canonical[40];
        snprintf(canonical, sizeof canonical, "%06lld.jpg", index);
        if (index >= 0 && index < keep && strcmp(canonical, e->d_name) == 0) continue;
        char *path = join3(ctx, dir, e->d_name, NULL);
        if (!path) {
            st = IMBAL_ERR_OUT_OF_MEMORY;
            break;
        }
        if (unlink(path) != 0 && errno != ENOENT)
            st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot remove stale file '%s': %s", path,
                            strerror(errno));
        free(path);
    }
    closedir(d);
    return st;
}

/* Prunes OUT/<split>: class directories this run uses keep `keep[k]` images; others lose all
 * of our files and are removed if that empties them. */
static imbal_status prune_split(imbal_ctx *ctx, const char *out, const char *split, int K,
                                const char (*names)[NAME_LEN], const int64_t *keep) {
    char *root = join3(ctx, out, split, NULL);
    if (!root) return IMBAL_ERR_OUT_OF_MEMORY;
    DIR *d = opendir(root);
    if (!d) {
        imbal_status st = IMBAL_OK;
        if (errno != ENOENT)
            st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot open directory '%s': %s", root,
                            strerror(errno));
        free(root);
        return st;
    }
    imbal_status st = IMBAL_OK;
    struct dirent *e;
    while (st == IMBAL_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *path = join3(ctx, root, e->d_name, NULL);
        if (!path) {
            st = IMBAL_ERR_OUT_OF_MEMORY;
            break;
        }
        struct stat sb;
        if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            int64_t limit = 0;
            for (int k = 0; k < K; ++k)
                if (strcmp(names[k], e->d_name) == 0) limit = keep ? keep[k] : 0;
            st = prune_class_dir(ctx, path, limit);
            if (st == IMBAL_OK && limit == 0) (void)rmdir(path); /* fails if user files remain */
        }
        free(path);
    }
    closedir(d);
    if (st == IMBAL_OK && !keep) (void)rmdir(root);
    free(root);
    return st;
}

/* Refuses a non-empty OUT that holds no synth.json; prunes an earlier synth run. */
static imbal_status prepare_out_dir(imbal_ctx *ctx, const imbal_synth_options *o,
                                    const char (*names)[NAME_LEN], const int64_t *counts) {
    const char *out = o->out_dir;
    DIR *d = opendir(out);
    if (!d) {
        if (errno == ENOENT) return IMBAL_OK;
        return imbal_fail(ctx, IMBAL_ERR_IO, "--out '%s' cannot be opened as a directory: %s", out,
                          strerror(errno));
    }
    int empty = 1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    closedir(d);
    if (empty) return IMBAL_OK;
    char *json = join3(ctx, out, "synth.json", NULL);
    if (!json) return IMBAL_ERR_OUT_OF_MEMORY;
    struct stat sb;
    int ours = stat(json, &sb) == 0 && S_ISREG(sb.st_mode);
    free(json);
    if (!ours)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "--out '%s' is not empty and holds no synth.json from an earlier "
                          "`imbal synth`: refusing to write into it (choose a new or empty "
                          "directory)",
                          out);
    int K = o->num_classes;
    int64_t *test_keep = NULL;
    if (o->test_per_class > 0) {
        test_keep = imbal_xmalloc(ctx, (size_t)K, sizeof *test_keep, "test counts");
        if (!test_keep) return IMBAL_ERR_OUT_OF_MEMORY;
        for (int k = 0; k < K; ++k)
            test_keep[k] = o->test_per_class;
    }
    imbal_status st = prune_split(ctx, out, "train", K, names, counts);
    if (st == IMBAL_OK) st = prune_split(ctx, out, "test", K, names, test_keep);
    free(test_keep);
    return st;
}

static imbal_status make_dirs(imbal_ctx *ctx, const imbal_synth_options *o,
                              const char (*names)[NAME_LEN]) {
    imbal_status st = imbal_mkdirs(ctx, o->out_dir);
    for (int split = 0; split < 2 && st == IMBAL_OK; ++split) {
        if (split == 1 && o->test_per_class == 0) break;
        for (int k = 0; k < o->num_classes && st == IMBAL_OK; ++k) {
            char *sub = join3(ctx, o->out_dir, split ? "test" : "train", names[k]);
            if (!sub) return IMBAL_ERR_OUT_OF_MEMORY;
            st = imbal_mkdirs(ctx, sub);
            free(sub);
        }
    }
    return st;
}

/* The first failure by job number, so the reported error does not depend on thread timing. */
typedef struct write_error {
    int64_t job;
    imbal_status status;
    char message[512];
} write_error;

static void record_error(write_error *err, int64_t job, imbal_status st, const char *msg) {
#pragma omp critical(imbal_synth_write_error)
    {
        if (job < err->job) {
            err->job = job;
            err->status = st;
            snprintf(err->message, sizeof err->message, "%s", msg);
        }
    }
}

/* Job j < n_train is a training image (class found by binary search over the offsets); the rest
 * are test images, test_per_class per class. */
static void job_target(int64_t j, int K, const int64_t *offsets, int64_t test_per_class, int *klass,
                       int64_t *index, int *is_test) {
    int64_t n_train = offsets[K];
    if (j < n_train) {
        int lo = 0, hi = K - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) / 2;
            if (offsets[mid] <= j)
                lo = mid;
            else
                hi = mid - 1;
        }
        *klass = lo;
        *index = j - offsets[lo];
        *is_test = 0;
    } else {
        int64_t t = j - n_train;
        *klass = (int)(t / test_per_class);
        *index = t % test_per_class;
        *is_test = 1;
    }
}

static imbal_status write_images(imbal_ctx *ctx, const imbal_synth_options *o,
                                 const char (*names)[NAME_LEN], const int64_t *offsets) {
    const int K = o->num_classes, size = o->size;
    const int64_t total = offsets[K] + (int64_t)K * o->test_per_class;
    const size_t path_len = strlen(o->out_dir) + NAME_LEN + 48;
    write_error err = {INT64_MAX, IMBAL_OK, ""};
    int failed = 0;

#pragma omp parallel num_threads(imbal_ctx_omp_threads(ctx))
    {
        tjhandle tj = tjInitCompress();
        unsigned long cap = tjBufSize(size, size, TJSAMP_420);
        unsigned char *jpeg = tjAlloc((int)cap);
        uint8_t *rgb = malloc((size_t)size * (size_t)size * 3);
        char *path = malloc(path_len);
        if (!tj || !jpeg || !rgb || !path) {
            record_error(&err, -1, IMBAL_ERR_OUT_OF_MEMORY,
                         "imbal_synth_write: cannot set up a JPEG encoder and image buffers");
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (int64_t j = 0; j < total; ++j) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            int k, is_test;
            int64_t index;
            job_target(j, K, offsets, o->test_per_class, &k, &index, &is_test);
            uint64_t sample = (uint64_t)index + (is_test ? IMBAL_SYNTH_TEST_SAMPLE_BASE : 0);
            imbal_synth_render_unchecked(k, o->seed, sample, size, rgb);
            unsigned long len = cap;
            unsigned char *buf = jpeg;
            snprintf(path, path_len, "%s/%s/%s/%06lld.jpg", o->out_dir, is_test ? "test" : "train",
                     names[k], (long long)index);
            imbal_status st = IMBAL_OK;
            char msg[512];
            if (tjCompress2(tj, rgb, size, 0, size, TJPF_RGB, &buf, &len, TJSAMP_420, o->quality,
                            TJFLAG_NOREALLOC) != 0) {
                snprintf(msg, sizeof msg, "cannot encode '%s' as JPEG: %s", path,
                         tjGetErrorStr2(tj));
                st = IMBAL_ERR_INTERNAL;
            } else if ((st = imbal_atomic_write_all(NULL, path, buf, len)) != IMBAL_OK) {
                snprintf(msg, sizeof msg, "%s", imbal_ctx_error(NULL));
            }
            if (st != IMBAL_OK) {
                record_error(&err, j, st, msg);
#pragma omp atomic write
                failed = 1;
            }
        }
        free(path);
        free(rgb);
        if (jpeg) tjFree(jpeg);
        if (tj) tjDestroy(tj);
    }
    if (err.status != IMBAL_OK) return imbal_fail(ctx, err.status, "%s", err.message);
    return IMBAL_OK;
}

static imbal_status write_json(imbal_ctx *ctx, const imbal_synth_options *o,
                               const char (*names)[NAME_LEN], const int64_t *counts) {
    const int K = o->num_classes;
    size_t cap = (size_t)K * (NAME_LEN + 32) + 1024, n = 0;
    char *s = imbal_xmalloc(ctx, cap, 1, "synth.json text");
    if (!s) return IMBAL_ERR_OUT_OF_MEMORY;
#define PUT(...) n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__)
    PUT("{\n  \"generator\": \"imbal synth\",\n  \"classes\": [");
    for (int k = 0; k < K; ++k)
        PUT("%s\"%s\"", k ? ", " : "", names[k]);
    PUT("],\n  \"train_counts\": [");
    for (int k = 0; k < K; ++k)
        PUT("%s%lld", k ? ", " : "", (long long)counts[k]);
    PUT("],\n  \"test_per_class\": %lld,\n  \"size\": %d,\n  \"seed\": %llu,\n",
        (long long)o->test_per_class, o->size, (unsigned long long)o->seed);
    PUT("  \"profile\": \"%s\",\n  \"ratio\": %.17g,\n  \"max_per_class\": %lld,\n",
        imbal_profile_name(o->profile), o->ratio, (long long)o->max_per_class);
    PUT("  \"quality\": %d\n}\n", o->quality);
#undef PUT
    char *path = join3(ctx, o->out_dir, "synth.json", NULL);
    imbal_status st = path ? imbal_atomic_write_all(ctx, path, s, n) : IMBAL_ERR_OUT_OF_MEMORY;
    free(path);
    free(s);
    return st;
}

imbal_status imbal_synth_write(imbal_ctx *ctx, const imbal_synth_options *opts) {
    imbal_status st = validate(ctx, opts);
    if (st != IMBAL_OK) return st;
    const int K = opts->num_classes;
    int64_t *counts = imbal_xmalloc(ctx, (size_t)K, sizeof *counts, "class counts");
    int64_t *offsets = imbal_xmalloc(ctx, (size_t)K + 1, sizeof *offsets, "class offsets");
    char(*names)[NAME_LEN] = imbal_xmalloc(ctx, (size_t)K, NAME_LEN, "class names");
    if (!counts || !offsets || !names) {
        st = IMBAL_ERR_OUT_OF_MEMORY;
        goto done;
    }
    st = imbal_profile_counts(ctx, opts->profile, K, opts->max_per_class, opts->ratio, counts);
    offsets[0] = 0;
    for (int k = 0; k < K && st == IMBAL_OK; ++k) {
        offsets[k + 1] = offsets[k] + counts[k];
        st = imbal_synth_class_name(ctx, k, K, names[k], NAME_LEN);
    }
    if (st == IMBAL_OK) st = prepare_out_dir(ctx, opts, (const char(*)[NAME_LEN])names, counts);
    if (st == IMBAL_OK) st = make_dirs(ctx, opts, (const char(*)[NAME_LEN])names);
    if (st == IMBAL_OK) st = write_images(ctx, opts, (const char(*)[NAME_LEN])names, offsets);
    if (st == IMBAL_OK) st = write_json(ctx, opts, (const char(*)[NAME_LEN])names, counts);
done:
    free(names);
    free(offsets);
    free(counts);
    return st;
}
