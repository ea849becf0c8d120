/* Synthetic long-tailed image sets: profiles (CIFAR-LT counts), class names, rendering
 * (determinism, shape signal, colour carrying no class signal) and the JPEG set writer. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "imbal/imbal.h"
#include "test_util.h"

/* ---- profiles ---------------------------------------------------------------------------------
 */

/* CIFAR-10-LT with imbalance 100 (Cao et al. 2019; kaidic/LDAM-DRW get_img_num_per_cls). */
Test(profile, cifar10_lt_counts) {
    static const int64_t want[10] = {5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50};
    imbal_ctx *ctx = tu_ctx();
    int64_t got[10];
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 10, 5000, 100.0, got), IMBAL_OK);
    int64_t total = 0;
    for (int i = 0; i < 10; ++i) {
        cr_assert_eq(got[i], want[i], "class %d: %lld != %lld", i, (long long)got[i],
                     (long long)want[i]);
        total += got[i];
    }
    cr_assert_eq(total, 12406);
    imbal_ctx_destroy(ctx);
}

Test(profile, cifar100_lt_total) {
    imbal_ctx *ctx = tu_ctx();
    int64_t got[100], total = 0;
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 100, 500, 100.0, got), IMBAL_OK);
    for (int i = 0; i < 100; ++i) {
        total += got[i];
        if (i) cr_assert_leq(got[i], got[i - 1]);
    }
    cr_assert_eq(got[0], 500);
    cr_assert_eq(got[99], 5);
    cr_assert_eq(total, 10847);
    /* CIFAR-10-LT with ratio 10 (LDAM-DRW): 5000 ... 500. */
    int64_t ten[10];
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 10, 5000, 10.0, ten), IMBAL_OK);
    cr_assert_eq(ten[0], 5000);
    cr_assert_eq(ten[1], 3871); /* floor(5000 * 0.1^(1/9)) = floor(3871.5...) */
    cr_assert_eq(ten[9], 500);
    imbal_ctx_destroy(ctx);
}

Test(profile, step_and_edge_cases) {
    imbal_ctx *ctx = tu_ctx();
    int64_t c[10];
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_STEP, 10, 500, 10.0, c), IMBAL_OK);
    for (int i = 0; i < 10; ++i)
        cr_assert_eq(c[i], i < 5 ? 500 : 50);
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_STEP, 5, 500, 100.0, c), IMBAL_OK);
    cr_assert_eq(c[0], 500);
    cr_assert_eq(c[1], 500);
    cr_assert_eq(c[2], 5);
    cr_assert_eq(c[4], 5);
    /* K = 1: exp gives n_max; step gives the minority count (floor(1/2) = 0 majority classes). */
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 1, 77, 100.0, c), IMBAL_OK);
    cr_assert_eq(c[0], 77);
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_STEP, 1, 77, 7.0, c), IMBAL_OK);
    cr_assert_eq(c[0], 11);
    /* Ratio 1 is balanced; every class keeps at least one image however steep the tail. */
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 10, 33, 1.0, c), IMBAL_OK);
    for (int i = 0; i < 10; ++i)
        cr_assert_eq(c[i], 33);
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 10, 3, 1e6, c), IMBAL_OK);
    for (int i = 0; i < 10; ++i)
        cr_assert_geq(c[i], 1);
    cr_assert_eq(c[0], 3);
    cr_assert_eq(c[9], 1);
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_STEP, 4, 5, 1000.0, c), IMBAL_OK);
    cr_assert_eq(c[3], 1);
    imbal_ctx_destroy(ctx);
}

Test(profile, bad_arguments_name_the_option) {
    imbal_ctx *ctx = tu_ctx();
    int64_t c[4];
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 4, 10, 0.5, c),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--ratio must be >= 1, got 0.5"), "%s",
              imbal_ctx_error(ctx));
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 4, 10, NAN, c),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--ratio"));
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 4, 10, INFINITY, c),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--ratio"));
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 0, 10, 2.0, c),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--classes must be >= 1, got 0"));
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 4, 0, 2.0, c),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--max-per-class"));
    cr_assert(strstr(imbal_ctx_error(ctx), "got 0"));
    cr_assert_eq(imbal_profile_counts(ctx, (imbal_profile)9, 4, 10, 2.0, c),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--profile"));
    cr_assert_eq(imbal_profile_counts(ctx, IMBAL_PROFILE_EXP, 4, 10, 2.0, NULL),
                 IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "counts"));
    imbal_ctx_destroy(ctx);
}

Test(profile, parse_and_name) {
    imbal_ctx *ctx = tu_ctx();
    imbal_profile p = IMBAL_PROFILE_STEP;
    cr_assert_eq(imbal_profile_parse(ctx, "exp", &p), IMBAL_OK);
    cr_assert_eq(p, IMBAL_PROFILE_EXP);
    cr_assert_eq(imbal_profile_parse(ctx, "step", &p), IMBAL_OK);
    cr_assert_eq(p, IMBAL_PROFILE_STEP);
    cr_assert_str_eq(imbal_profile_name(IMBAL_PROFILE_EXP), "exp");
    cr_assert_str_eq(imbal_profile_name(IMBAL_PROFILE_STEP), "step");
    cr_assert_str_eq(imbal_profile_name((imbal_profile)5), "unknown");
    cr_assert_eq(imbal_profile_parse(ctx, "linear", &p), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--profile must be 'exp' or 'step', got 'linear'"));
    cr_assert_eq(p, IMBAL_PROFILE_STEP);
    cr_assert_eq(imbal_profile_parse(ctx, NULL, &p), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--profile"));
    cr_assert_eq(imbal_profile_parse(ctx, "exp", NULL), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_ctx_destroy(ctx);
}

/* ---- class names ------------------------------------------------------------------------------
 */

Test(class_name, default_ten_and_widths) {
    static const char *want[10] = {"00-disc",     "01-square", "02-triangle", "03-cross",
                                   "04-ring",     "05-bars",   "06-stripe",   "07-star",
                                   "08-crescent", "09-corner"};
    imbal_ctx *ctx = tu_ctx();
    char buf[96];
    for (int k = 0; k < 10; ++k) {
        cr_assert_eq(imbal_synth_class_name(ctx, k, 10, buf, sizeof buf), IMBAL_OK);
        cr_assert_str_eq(buf, want[k]);
    }
    cr_assert_eq(imbal_synth_class_name(ctx, 16, 100, buf, sizeof buf), IMBAL_OK);
    cr_assert_str_eq(buf, "16-disc-outline");
    cr_assert_eq(imbal_synth_class_name(ctx, 36, 100, buf, sizeof buf), IMBAL_OK);
    cr_assert_str_eq(buf, "36-ring-striped");
    cr_assert_eq(imbal_synth_class_name(ctx, 48, 101, buf, sizeof buf), IMBAL_OK);
    cr_assert_str_eq(buf, "048-disc-with-square");
    cr_assert_eq(imbal_synth_class_name(ctx, 3, 1000, buf, sizeof buf), IMBAL_OK);
    cr_assert_str_eq(buf, "003-cross");
    imbal_ctx_destroy(ctx);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(a, b);
}

/* For every K the names are distinct and their sorted order is the class id order. */
Test(class_name, distinct_and_sorted_for_every_k) {
    imbal_ctx *ctx = tu_ctx();
    static char names[1000][96], sorted[1000][96];
    static const int ks[] = {1, 10, 48, 49, 100, 101, 500, 1000};
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; ++t) {
        int K = ks[t];
        for (int k = 0; k < K; ++k)
            cr_assert_eq(imbal_synth_class_name(ctx, k, K, names[k], 96), IMBAL_OK);
        memcpy(sorted, names, sizeof names);
        qsort(sorted, (size_t)K, 96, cmp_str);
        for (int k = 0; k < K; ++k) {
            cr_assert_str_eq(sorted[k], names[k], "K=%d: sorted position %d", K, k);
            if (k) cr_assert_neq(strcmp(names[k - 1], names[k]), 0);
            /* The part after the id must be distinct too: a class differs by what it draws. */
            for (int j = 0; j < k && K <= 100; ++j)
                cr_assert_neq(strcmp(strchr(names[j], '-'), strchr(names[k], '-')), 0,
                              "K=%d: %s and %s draw the same", K, names[j], names[k]);
        }
    }
    /* Designs are distinct over all 1000 ids, not only those of small K. */
    for (int k = 0; k < 1000; ++k)
        for (int j = 0; j < k; ++j)
            cr_assert_neq(strcmp(strchr(names[j], '-'), strchr(names[k], '-')), 0, "%s vs %s",
                          names[j], names[k]);
    imbal_ctx_destroy(ctx);
}

Test(class_name, bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    char buf[8];
    cr_assert_eq(imbal_synth_class_name(ctx, 10, 10, buf, 8), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "class 10"));
    cr_assert_eq(imbal_synth_class_name(ctx, -1, 10, buf, 8), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "class -1"));
    cr_assert_eq(imbal_synth_class_name(ctx, 0, 1001, buf, 8), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--classes"));
    cr_assert_eq(imbal_synth_class_name(ctx, 2, 10, buf, 8), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "too small"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_synth_class_name(ctx, 2, 10, NULL, 8), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_ctx_destroy(ctx);
}

/* ---- rendering --------------------------------------------------------------------------------
 */

Test(render, deterministic_and_keyed) {
    imbal_ctx *ctx = tu_ctx();
    enum { S = 32, N = S * S * 3 };
    uint8_t a[N], b[N];
    for (int k = 0; k < 20; ++k) {
        cr_assert_eq(imbal_synth_render(ctx, k * 37, 5, 9, S, a), IMBAL_OK);
        cr_assert_eq(imbal_synth_render(ctx, k * 37, 5, 9, S, b), IMBAL_OK);
        cr_assert_eq(memcmp(a, b, N), 0, "class %d is not reproducible", k * 37);
    }
    cr_assert_eq(imbal_synth_render(ctx, 3, 5, 9, S, a), IMBAL_OK);
    cr_assert_eq(imbal_synth_render(ctx, 3, 6, 9, S, b), IMBAL_OK);
    cr_assert_neq(memcmp(a, b, N), 0, "another seed must draw another image");
    cr_assert_eq(imbal_synth_render(ctx, 3, 5, 10, S, b), IMBAL_OK);
    cr_assert_neq(memcmp(a, b, N), 0, "another sample must draw another image");
    cr_assert_eq(imbal_synth_render(ctx, 3, 5, 9 + (1ull << 40), S, b), IMBAL_OK);
    cr_assert_neq(memcmp(a, b, N), 0, "the test sample range must differ from train");
    cr_assert_eq(imbal_synth_render(ctx, 4, 5, 9, S, b), IMBAL_OK);
    cr_assert_neq(memcmp(a, b, N), 0, "another class must draw another image");
    imbal_ctx_destroy(ctx);
}

Test(render, sizes_and_bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    uint8_t *big = malloc(1024 * 1024 * 3);
    cr_assert_eq(imbal_synth_render(ctx, 0, 1, 2, 8, big), IMBAL_OK);
    cr_assert_eq(imbal_synth_render(ctx, 999, 1, 2, 97, big), IMBAL_OK);
    cr_assert_eq(imbal_synth_render(ctx, 7, 1, (1ull << 56) - 1, 1024, big), IMBAL_OK);
    cr_assert_eq(imbal_synth_render(ctx, 1000, 1, 2, 32, big), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "class 1000"));
    cr_assert_eq(imbal_synth_render(ctx, -1, 1, 2, 32, big), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "class -1"));
    cr_assert_eq(imbal_synth_render(ctx, 0, 1, 2, 7, big), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--size must be in 8..1024, got 7"));
    cr_assert_eq(imbal_synth_render(ctx, 0, 1, 2, 1025, big), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "1025"));
    cr_assert_eq(imbal_synth_render(ctx, 0, 1, 1ull << 56, 32, big), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "sample 72057594037927936"));
    cr_assert_eq(imbal_synth_render(ctx, 0, 1, 2, 32, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "rgb"));
    free(big);
    imbal_ctx_destroy(ctx);
}

static double lum(const uint8_t *p) {
    return 0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2];
}

/* Sobel gradient energy of the luminance in four orientation bins of the gradient direction
 * (mod 180 degrees): [0] near horizontal (vertical edges), [1] near 45, [2] near vertical
 * (horizontal edges), [3] near 135. Colour-blind by construction, so it sees only the shape. */
static void orientation_energy(int class_id, int n, double frac[4]) {
    enum { S = 64 };
    static uint8_t img[S * S * 3];
    double e[4] = {0, 0, 0, 0};
    for (int s = 0; s < n; ++s) {
        cr_assert_eq(imbal_synth_render(NULL, class_id, 11, (uint64_t)s, S, img), IMBAL_OK);
        for (int y = 1; y < S - 1; ++y)
            for (int x = 1; x < S - 1; ++x) {
#define L(dx, dy) lum(img + (((y) + (dy)) * S + (x) + (dx)) * 3)
                double gx =
                    (L(1, -1) + 2 * L(1, 0) + L(1, 1)) - (L(-1, -1) + 2 * L(-1, 0) + L(-1, 1));
                double gy =
                    (L(-1, 1) + 2 * L(0, 1) + L(1, 1)) - (L(-1, -1) + 2 * L(0, -1) + L(1, -1));
#undef L
                double m2 = gx * gx + gy * gy;
                if (m2 < 200.0 * 200.0) continue; /* edges only, not noise */
                double a = atan2(gy, gx) * 180.0 / M_PI;
                if (a < 0) a += 180.0;
                int bin = (int)floor((a + 22.5) / 45.0) % 4;
                e[bin] += sqrt(m2);
            }
    }
    double t = e[0] + e[1] + e[2] + e[3];
    cr_assert_gt(t, 0.0, "class %d shows no edges", class_id);
    for (int i = 0; i < 4; ++i)
        frac[i] = e[i] / t;
}

/* The classes are what they say: bars are horizontal, stripes and x diagonal, cross and square
 * axis-aligned, discs and rings isotropic. */
Test(render, shapes_have_their_edge_orientations) {
    double f[4];
    orientation_energy(0, 60, f); /* disc */
    for (int i = 0; i < 4; ++i)
        cr_assert(f[i] > 0.17 && f[i] < 0.33, "disc bin %d: %f", i, f[i]);
    orientation_energy(4, 60, f); /* ring */
    for (int i = 0; i < 4; ++i)
        cr_assert(f[i] > 0.17 && f[i] < 0.33, "ring bin %d: %f", i, f[i]);
    orientation_energy(5, 60, f); /* bars: horizontal edges, vertical gradients */
    cr_assert_gt(f[2], 0.7, "bars: %f %f %f %f", f[0], f[1], f[2], f[3]);
    orientation_energy(6, 60, f); /* stripe */
    cr_assert_gt(f[1] + f[3], 0.7, "stripe: %f %f %f %f", f[0], f[1], f[2], f[3]);
    orientation_energy(11, 60, f); /* x */
    cr_assert_gt(f[1] + f[3], 0.7, "x: %f %f %f %f", f[0], f[1], f[2], f[3]);
    cr_assert(fabs(f[1] - f[3]) < 0.15, "x arms: %f %f", f[1], f[3]);
    orientation_energy(3, 60, f); /* cross */
    cr_assert_gt(f[0] + f[2], 0.7, "cross: %f %f %f %f", f[0], f[1], f[2], f[3]);
    cr_assert(fabs(f[0] - f[2]) < 0.15, "cross arms: %f %f", f[0], f[2]);
    orientation_energy(1, 60, f); /* square */
    cr_assert_gt(f[0] + f[2], 0.7, "square: %f %f %f %f", f[0], f[1], f[2], f[3]);
}

/* The mean colour of a class's images is the same for every class (foreground and background
 * follow the same law), so colour alone cannot tell classes apart. Each image's mean is a draw
 * with sd ~ 50 levels; over 200 images the class mean has sd ~ 4, so +-20 is 5 sd. */
Test(render, colour_carries_no_class_signal) {
    enum { S = 32, N = 200 };
    uint8_t img[S * S * 3];
    double mean[10][3], grand[3] = {0, 0, 0};
    for (int k = 0; k < 10; ++k) {
        double sum[3] = {0, 0, 0};
        for (int s = 0; s < N; ++s) {
            cr_assert_eq(imbal_synth_render(NULL, k, 3, (uint64_t)s, S, img), IMBAL_OK);
            for (int p = 0; p < S * S; ++p)
                for (int c = 0; c < 3; ++c)
                    sum[c] += img[p * 3 + c];
        }
        for (int c = 0; c < 3; ++c) {
            mean[k][c] = sum[c] / ((double)N * S * S);
            grand[c] += mean[k][c] / 10.0;
        }
    }
    for (int k = 0; k < 10; ++k)
        for (int c = 0; c < 3; ++c) {
            cr_assert(fabs(mean[k][c] - 127.5) < 20.0, "class %d channel %d mean %f", k, c,
                      mean[k][c]);
            cr_assert(fabs(mean[k][c] - grand[c]) < 20.0, "class %d channel %d", k, c);
        }
}

/* ---- the writer -------------------------------------------------------------------------------
 */

static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n;
}

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static imbal_synth_options small_options(const char *out, uint64_t seed) {
    imbal_synth_options o;
    imbal_synth_options_default(&o);
    o.out_dir = out;
    o.num_classes = 3;
    o.max_per_class = 20;
    o.ratio = 10.0;
    o.size = 16;
    o.test_per_class = 4;
    o.seed = seed;
    return o;
}

static const char *const small_names[3] = {"00-disc", "01-square", "02-triangle"};
static const int small_counts[3] = {20, 6, 2}; /* floor(20 * 0.1^(i/2)) */

/* Decodes a JPEG into rgb (w*h*3), returning its size through w, h. */
static void decode(const char *path, int *w, int *h, uint8_t *rgb, int cap) {
    size_t len;
    char *buf = tu_read_file(path, &len);
    cr_assert_not_null(buf, "cannot read %s", path);
    tjhandle tj = tjInitDecompress();
    int sub, cs;
    cr_assert_eq(tjDecompressHeader3(tj, (unsigned char *)buf, (unsigned long)len, w, h, &sub, &cs),
                 0, "%s: %s", path, tjGetErrorStr2(tj));
    cr_assert_eq(sub, TJSAMP_420);
    cr_assert_leq(*w * *h * 3, cap);
    cr_assert_eq(
        tjDecompress2(tj, (unsigned char *)buf, (unsigned long)len, rgb, *w, 0, *h, TJPF_RGB, 0), 0,
        "%s: %s", path, tjGetErrorStr2(tj));
    tjDestroy(tj);
    free(buf);
}

static int files_equal(const char *a, const char *b) {
    size_t la, lb;
    char *x = tu_read_file(a, &la), *y = tu_read_file(b, &lb);
    int eq = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return eq;
}

/* Calls fn(relative path) for every image file of the small set. */
static int for_each_small_file(const char *root, const char *other,
                               int (*fn)(const char *, const char *)) {
    int all = 1;
    char rel[256];
    for (int split = 0; split < 2; ++split)
        for (int k = 0; k < 3; ++k) {
            int n = split ? 4 : small_counts[k];
            for (int i = 0; i < n; ++i) {
                snprintf(rel, sizeof rel, "%s/%s/%06d.jpg", split ? "test" : "train",
                         small_names[k], i);
                char *a = tu_join(root, rel), *b = tu_join(other, rel);
                all &= fn(a, b);
                free(a);
                free(b);
            }
        }
    return all;
}

Test(write, small_set_layout_decodes_and_json) {
    char *tmp = tu_mkdtemp();
    char *out = tu_join(tmp, "set/nested");
    imbal_ctx *ctx = tu_ctx();
    imbal_synth_options o = small_options(out, 7);
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    char rel[256];
    cr_assert_eq(count_files(out), 3); /* train, test, synth.json */
    for (int split = 0; split < 2; ++split) {
        char *sdir = tu_join(out, split ? "test" : "train");
        cr_assert_eq(count_files(sdir), 3);
        free(sdir);
        for (int k = 0; k < 3; ++k) {
            int n = split ? 4 : small_counts[k];
            snprintf(rel, sizeof rel, "%s/%s", split ? "test" : "train", small_names[k]);
            char *dir = tu_join(out, rel);
            cr_assert_eq(count_files(dir), n, "%s", dir);
            for (int i = 0; i < n; ++i) {
                char name[32];
                snprintf(name, sizeof name, "%06d.jpg", i);
                char *path = tu_join(dir, name);
                int w = 0, h = 0;
                uint8_t rgb[16 * 16 * 3], want[16 * 16 * 3];
                decode(path, &w, &h, rgb, (int)sizeof rgb);
                cr_assert_eq(w, 16);
                cr_assert_eq(h, 16);
                /* The file is the rendered image (sample = index, or 2^40 + index for test). */
                uint64_t sample = (uint64_t)i + (split ? (1ull << 40) : 0);
                cr_assert_eq(imbal_synth_render(ctx, k, 7, sample, 16, want), IMBAL_OK);
                /* 4:2:0 halves the chroma resolution, so compare luminance, which carries
                 * the shape (the foreground and background differ by >= 0.25 in it). */
                double err = 0;
                for (int p = 0; p < 16 * 16; ++p)
                    err += fabs(lum(rgb + p * 3) - lum(want + p * 3));
                err /= 16 * 16;
                cr_assert_lt(err, 6.0, "%s differs from its render by %f levels", path, err);
                free(path);
            }
            free(dir);
        }
    }
    char *json_path = tu_join(out, "synth.json");
    char *json = tu_read_file(json_path, NULL);
    cr_assert_not_null(json);
    cr_assert(strstr(json, "\"classes\": [\"00-disc\", \"01-square\", \"02-triangle\"]"), "%s",
              json);
    cr_assert(strstr(json, "\"train_counts\": [20, 6, 2]"), "%s", json);
    cr_assert(strstr(json, "\"test_per_class\": 4,"));
    cr_assert(strstr(json, "\"size\": 16,"));
    cr_assert(strstr(json, "\"seed\": 7,"));
    cr_assert(strstr(json, "\"profile\": \"exp\","));
    cr_assert(strstr(json, "\"ratio\": 10,"));
    cr_assert(strstr(json, "\"max_per_class\": 20,"));
    cr_assert(strstr(json, "\"quality\": 95"));
    free(json);
    free(json_path);
    imbal_ctx_destroy(ctx);
    tu_rmtree(tmp);
    free(out);
    free(tmp);
}

static int eq_fn(const char *a, const char *b) {
    return files_equal(a, b);
}
static int neq_fn(const char *a, const char *b) {
    return !files_equal(a, b);
}

/* Same seed: byte-identical files whatever the thread count; another seed: other files. */
Test(write, reproducible_across_threads_and_seeded) {
    char *tmp = tu_mkdtemp();
    char *a = tu_join(tmp, "a"), *b = tu_join(tmp, "b"), *c = tu_join(tmp, "c");
    imbal_ctx *ctx = tu_ctx();
    imbal_synth_options o = small_options(a, 42);
    cr_assert_eq(imbal_ctx_set_threads(ctx, 1), IMBAL_OK);
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    o.out_dir = b;
    cr_assert_eq(imbal_ctx_set_threads(ctx, 3), IMBAL_OK);
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert(for_each_small_file(a, b, eq_fn), "same seed must give identical files");
    char *ja = tu_join(a, "synth.json"), *jb = tu_join(b, "synth.json");
    cr_assert(files_equal(ja, jb));
    o.out_dir = c;
    o.seed = 43;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert(for_each_small_file(a, c, neq_fn), "another seed must change every file");
    /* Writing again over the same directory replaces files with the same bytes. */
    o.out_dir = a;
    o.seed = 42;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert(for_each_small_file(a, b, eq_fn));
    imbal_ctx_destroy(ctx);
    tu_rmtree(tmp);
    free(ja), free(jb), free(a), free(b), free(c), free(tmp);
}

/* A rerun with smaller options over an earlier set removes the images it no longer writes and
 * leaves the user's own files alone. */
Test(write, rerun_prunes_stale_images_only) {
    char *tmp = tu_mkdtemp();
    imbal_ctx *ctx = tu_ctx();
    imbal_synth_options o = small_options(tmp, 1);
    o.num_classes = 4;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    char *notes = tu_join(tmp, "train/00-disc/notes.txt");
    char *odd = tu_join(tmp, "train/03-cross/mine.jpg");
    char *tmpfile = tu_join(tmp, "train/00-disc/000001.jpg.tmp.ab12CD");
    tu_write_file(notes, "mine");
    tu_write_file(odd, "mine");
    tu_write_file(tmpfile, "stale temporary");
    o.num_classes = 3;
    o.max_per_class = 5;
    o.test_per_class = 0;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    char *d0 = tu_join(tmp, "train/00-disc"), *d3 = tu_join(tmp, "train/03-cross");
    char *test = tu_join(tmp, "test"), *t0 = tu_join(tmp, "train/00-disc/000004.jpg");
    char *t5 = tu_join(tmp, "train/00-disc/000005.jpg");
    cr_assert_eq(count_files(d0), 6, "5 images and notes.txt"); /* floor(5 * 0.1^0) = 5 */
    cr_assert(exists(notes));
    cr_assert(exists(t0));
    cr_assert_not(exists(t5));
    cr_assert_not(exists(tmpfile));
    cr_assert_eq(count_files(d3), 1, "class 03 is gone but the user's file stays");
    cr_assert(exists(odd));
    cr_assert_not(exists(test), "no test split now: its images and directories are removed");
    char *json = tu_join(tmp, "synth.json");
    char *text = tu_read_file(json, NULL);
    cr_assert(strstr(text, "\"train_counts\": [5, 1, 1]"), "%s", text);
    cr_assert(strstr(text, "\"test_per_class\": 0,"));
    free(text);
    imbal_ctx_destroy(ctx);
    tu_rmtree(tmp);
    free(json), free(notes), free(odd), free(tmpfile), free(d0), free(d3), free(test), free(t0),
        free(t5), free(tmp);
}

Test(write, refuses_a_foreign_non_empty_directory) {
    char *tmp = tu_mkdtemp();
    char *keep = tu_join(tmp, "photos/cat.jpg");
    tu_write_file(keep, "not ours");
    imbal_ctx *ctx = tu_ctx();
    imbal_synth_options o = small_options(tmp, 1);
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--out"), "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), tmp));
    cr_assert(strstr(imbal_ctx_error(ctx), "synth.json"));
    cr_assert(exists(keep));
    char *train = tu_join(tmp, "train");
    cr_assert_not(exists(train));
    /* An empty existing directory is fine. */
    char *empty = tu_join(tmp, "empty");
    cr_assert_eq(mkdir(empty, 0777), 0);
    o.out_dir = empty;
    o.test_per_class = 0;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    /* A regular file is not a directory. */
    o.out_dir = keep;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), "cat.jpg"), "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    tu_rmtree(tmp);
    free(keep), free(train), free(empty), free(tmp);
}

Test(write, option_errors_name_the_option) {
    imbal_ctx *ctx = tu_ctx();
    imbal_synth_options d;
    imbal_synth_options_default(&d);
    cr_assert_eq(d.num_classes, 10);
    cr_assert_eq(d.max_per_class, 500);
    cr_assert_eq(d.ratio, 100.0);
    cr_assert_eq(d.profile, IMBAL_PROFILE_EXP);
    cr_assert_eq(d.size, 32);
    cr_assert_eq(d.test_per_class, 100);
    cr_assert_eq(d.seed, 0);
    cr_assert_eq(d.quality, 95);
    cr_assert_null(d.out_dir);
    struct {
        const char *field;
        double value;
        const char *message;
    } cases[] = {
        {"out", 0, "--out"},
        {"classes", 0, "--classes must be in 1..1000, got 0"},
        {"classes", 1001, "--classes must be in 1..1000, got 1001"},
        {"max", 0, "--max-per-class must be in 1..10000000, got 0"},
        {"max", 10000001, "--max-per-class"},
        {"ratio", 0.5, "--ratio must be >= 1, got 0.5"},
        {"ratio", NAN, "--ratio"},
        {"size", 7, "--size must be in 8..1024, got 7"},
        {"size", 1025, "--size must be in 8..1024, got 1025"},
        {"test", -1, "--test-per-class must be in 0..10000000, got -1"},
        {"quality", 0, "--quality must be in 1..100, got 0"},
        {"quality", 101, "--quality must be in 1..100, got 101"},
        {"profile", 3, "--profile"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        imbal_synth_options o = d;
        o.out_dir = "/nonexistent/never-created";
        const char *f = cases[i].field;
        double v = cases[i].value;
        if (!strcmp(f, "out"))
            o.out_dir = "";
        else if (!strcmp(f, "classes"))
            o.num_classes = (int)v;
        else if (!strcmp(f, "max"))
            o.max_per_class = (int64_t)v;
        else if (!strcmp(f, "ratio"))
            o.ratio = v;
        else if (!strcmp(f, "size"))
            o.size = (int)v;
        else if (!strcmp(f, "test"))
            o.test_per_class = (int64_t)v;
        else if (!strcmp(f, "quality"))
            o.quality = (int)v;
        else if (!strcmp(f, "profile"))
            o.profile = (imbal_profile)(int)v;
        cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_ERR_INVALID_ARGUMENT, "case %zu", i);
        cr_assert(strstr(imbal_ctx_error(ctx), cases[i].message), "case %zu: '%s'", i,
                  imbal_ctx_error(ctx));
    }
    imbal_synth_options o = d;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "--out"));
    cr_assert_eq(imbal_synth_write(ctx, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(!exists("/nonexistent/never-created"));
    imbal_ctx_destroy(ctx);
}
