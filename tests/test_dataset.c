/* Dataset index: ImageFolder order against torchvision, links and loops, empty classes,
 * from_counts, counts and subsets, the stratified split, class statistics, effective numbers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_internal.h"
#include "imbal/imbal.h"
#include "test_util.h"

static void mkdirs(const char *path) {
    char *p = strdup(path);
    for (char *s = p + 1; *s; ++s) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
    }
    mkdir(p, 0777);
    free(p);
}

static void make_link(const char *target, const char *path) {
    char *parent = strdup(path);
    *strrchr(parent, '/') = '\0';
    mkdirs(parent);
    free(parent);
    cr_assert_eq(symlink(target, path), 0, "symlink %s: %s", path, strerror(errno));
}

/* Builds tests/data/dataset/imagefolder_tree.txt under base (all kinds, extras included). */
static void build_reference_tree(const char *base) {
    FILE *f = fopen(IMBAL_TEST_DATA_DIR "/dataset/imagefolder_tree.txt", "r");
    cr_assert_not_null(f);
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *kind = strtok(line, "\t"), *rel = strtok(NULL, "\t"), *target = strtok(NULL, "\t");
        char *path = tu_join(base, rel);
        if (*kind == 'f' || *kind == 'F')
            tu_touch(path);
        else if (*kind == 'd')
            mkdirs(path);
        else
            make_link(target, path);
        free(path);
    }
    fclose(f);
}

Test(folder, torchvision_reference_order) {
    char *base = tu_mkdtemp();
    build_reference_tree(base);
    char *root = tu_join(base, "root");
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_folder(ctx, root, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    FILE *f = fopen(IMBAL_TEST_DATA_DIR "/dataset/imagefolder_reference.txt", "r");
    cr_assert_not_null(f);
    char line[1024];
    int64_t i = 0;
    int classes = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#') continue;
        char *kind = strtok(line, "\t"), *idx = strtok(NULL, "\t"), *text = strtok(NULL, "\t");
        if (*kind == 'C') {
            cr_assert_str_eq(imbal_dataset_class_name(ds, atoi(idx)), text);
            ++classes;
        } else {
            cr_assert_lt(i, imbal_dataset_size(ds));
            cr_assert_str_eq(imbal_dataset_path(ds, i), text, "sample %ld", (long)i);
            cr_assert_eq(imbal_dataset_labels(ds)[i], atoi(idx), "sample %ld", (long)i);
            cr_assert_eq(imbal_dataset_splits(ds)[i], IMBAL_SPLIT_NONE);
            ++i;
        }
    }
    fclose(f);
    cr_assert_eq(i, 27);
    cr_assert_eq(imbal_dataset_size(ds), i);
    cr_assert_eq(imbal_dataset_num_classes(ds), classes);
    char *real = realpath(root, NULL);
    cr_assert_str_eq(imbal_dataset_root(ds), real);
    free(real);
    imbal_dataset_destroy(ds);
    /* imbal_dataset_open dispatches a directory to the ImageFolder reader. */
    cr_assert_eq(imbal_dataset_open(ctx, root, 0, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_size(ds), 27);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    tu_rmtree(base);
    free(root);
    free(base);
}

Test(folder, symlink_loops_are_skipped) {
    char *base = tu_mkdtemp();
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/c/a.jpg", base);
    tu_touch(buf);
    snprintf(buf, sizeof buf, "%s/c/sub/b.png", base);
    tu_touch(buf);
    const char *links[][2] = {{"c/self", "."},        {"c/up", ".."},      {"c/sub/back", ".."},
                              {"c/sub/top", "../.."}, {"c/sub/abs", NULL}, {"c/x.jpg", "x.jpg"}};
    for (size_t k = 0; k < sizeof links / sizeof *links; ++k) {
        snprintf(buf, sizeof buf, "%s/%s", base, links[k][0]);
        make_link(links[k][1] ? links[k][1] : base, buf); /* x.jpg -> itself: ELOOP, skipped */
    }
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_folder(ctx, base, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_num_classes(ds), 1);
    cr_assert_eq(imbal_dataset_size(ds), 2);
    cr_assert_str_eq(imbal_dataset_path(ds, 0), "c/a.jpg");
    cr_assert_str_eq(imbal_dataset_path(ds, 1), "c/sub/b.png");
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    tu_rmtree(base);
    free(base);
}

Test(folder, a_link_to_a_sibling_is_followed_each_time) {
    char *base = tu_mkdtemp();
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/shared/s.jpg", base);
    tu_touch(buf);
    snprintf(buf, sizeof buf, "%s/c/l1", base);
    make_link("../shared", buf);
    snprintf(buf, sizeof buf, "%s/c/l2", base);
    make_link("../shared", buf);
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_folder(ctx, base, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_num_classes(ds), 2); /* c, shared */
    cr_assert_eq(imbal_dataset_size(ds), 3);
    cr_assert_str_eq(imbal_dataset_path(ds, 0), "c/l1/s.jpg");
    cr_assert_str_eq(imbal_dataset_path(ds, 1), "c/l2/s.jpg");
    cr_assert_str_eq(imbal_dataset_path(ds, 2), "shared/s.jpg");
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    tu_rmtree(base);
    free(base);
}

Test(folder, empty_class_is_named_unless_allowed) {
    char *base = tu_mkdtemp();
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/alpha/x.jpg", base);
    tu_touch(buf);
    snprintf(buf, sizeof buf, "%s/beta/notes.txt", base);
    tu_touch(buf);
    snprintf(buf, sizeof buf, "%s/beta/.h.jpg", base);
    tu_touch(buf);
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds = (imbal_dataset *)0x1;
    cr_assert_eq(imbal_dataset_open_folder(ctx, base, 0, &ds), IMBAL_ERR_DATA);
    cr_assert_null(ds);
    cr_assert(strstr(imbal_ctx_error(ctx), "class 'beta'") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_open_folder(ctx, base, IMBAL_INDEX_ALLOW_EMPTY_CLASSES, &ds),
                 IMBAL_OK);
    cr_assert_eq(imbal_dataset_num_classes(ds), 2);
    int64_t counts[2];
    cr_assert_eq(imbal_dataset_class_counts(ctx, ds, IMBAL_SPLIT_NONE, counts), IMBAL_OK);
    cr_assert_eq(counts[0], 1);
    cr_assert_eq(counts[1], 0);
    imbal_dataset_destroy(ds);
    cr_assert_eq(imbal_dataset_open_folder(ctx, base, 0x8, &ds), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "0x8") != NULL);
    imbal_ctx_destroy(ctx);
    tu_rmtree(base);
    free(base);
}

Test(folder, missing_or_classless_root) {
    char *base = tu_mkdtemp();
    char *missing = tu_join(base, "nope");
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_folder(ctx, missing, 0, &ds), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), missing) != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_open(ctx, missing, 0, &ds), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), missing) != NULL);
    /* only files and a hidden directory: no class */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/top.jpg", base);
    tu_touch(buf);
    snprintf(buf, sizeof buf, "%s/.git/a.jpg", base);
    tu_touch(buf);
    cr_assert_eq(imbal_dataset_open_folder(ctx, base, 0, &ds), IMBAL_ERR_DATA);
    char *real = realpath(base, NULL);
    cr_assert(strstr(imbal_ctx_error(ctx), real) != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "no class directories") != NULL);
    snprintf(buf, sizeof buf, "%s/top.jpg", base);
    cr_assert_eq(imbal_dataset_open_folder(ctx, buf, 0, &ds), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), "not a directory") != NULL);
    cr_assert_eq(imbal_dataset_open_folder(ctx, "", 0, &ds), IMBAL_ERR_INVALID_ARGUMENT);
    free(real);
    imbal_ctx_destroy(ctx);
    tu_rmtree(base);
    free(missing);
    free(base);
}

Test(folder, unreadable_directory_is_named) {
    if (geteuid() == 0) cr_skip_test("root reads every directory");
    char *base = tu_mkdtemp();
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/c/locked/a.jpg", base);
    tu_touch(buf);
    snprintf(buf, sizeof buf, "%s/c/locked", base);
    chmod(buf, 0);
    imbal_ctx *ctx = tu_ctx();
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_folder(ctx, base, 0, &ds), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), "c/locked") != NULL, "%s", imbal_ctx_error(ctx));
    chmod(buf, 0755);
    imbal_ctx_destroy(ctx);
    tu_rmtree(base);
    free(base);
}

Test(from_counts, layout_names_and_errors) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[3] = {3, 0, 2};
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 3, NULL, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_size(ds), 5);
    cr_assert_eq(imbal_dataset_num_classes(ds), 3);
    cr_assert_str_eq(imbal_dataset_class_name(ds, 2), "2");
    cr_assert_null(imbal_dataset_class_name(ds, 3));
    cr_assert_null(imbal_dataset_path(ds, 5));
    cr_assert_str_eq(imbal_dataset_root(ds), "");
    const int32_t want[5] = {0, 0, 0, 2, 2};
    for (int i = 0; i < 5; ++i) {
        cr_assert_eq(imbal_dataset_labels(ds)[i], want[i]);
        cr_assert_str_eq(imbal_dataset_path(ds, i), "");
        cr_assert_eq(imbal_dataset_splits(ds)[i], IMBAL_SPLIT_NONE);
    }
    int64_t missing;
    cr_assert_eq(imbal_dataset_check_files(ctx, ds, &missing), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_eq(imbal_dataset_write_manifest(ctx, ds, "/tmp/x.csv"), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_dataset_destroy(ds);
    const char *names[3] = {"cat", "dog", "eel"};
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 3, names, &ds), IMBAL_OK);
    cr_assert_str_eq(imbal_dataset_class_name(ds, 1), "dog");
    imbal_dataset_destroy(ds);
    const char *dup[3] = {"cat", "dog", "cat"};
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 3, dup, &ds), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "'cat'") != NULL);
    const int64_t bad[2] = {4, -7};
    cr_assert_eq(imbal_dataset_from_counts(ctx, bad, 2, NULL, &ds), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "-7") != NULL);
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 0, NULL, &ds), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_null(ds);
    cr_assert_eq(imbal_split_name(IMBAL_SPLIT_VAL), (const char *)imbal_split_name(1));
    cr_assert_str_eq(imbal_split_name(IMBAL_SPLIT_TRAIN), "train");
    cr_assert_str_eq(imbal_split_name(IMBAL_SPLIT_TEST), "test");
    cr_assert_str_eq(imbal_split_name(IMBAL_SPLIT_NONE), "");
    imbal_ctx_destroy(ctx);
}

Test(from_counts, one_million_samples) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[4] = {900000, 90000, 9000, 1000};
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 4, NULL, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_size(ds), 1000000);
    cr_assert_eq(imbal_dataset_split(ctx, ds, 0.8, 0.1, 0.1, 7), IMBAL_OK);
    int64_t c[4];
    cr_assert_eq(imbal_dataset_class_counts(ctx, ds, IMBAL_SPLIT_VAL, c), IMBAL_OK);
    cr_assert_eq(c[0], 90000);
    cr_assert_eq(c[3], 100);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}

Test(split, counts_by_largest_remainder) {
    const double f[3] = {0.8, 0.1, 0.1};
    const int64_t cases[][4] = {{10, 8, 1, 1},      {5, 3, 1, 1},  {3, 1, 1, 1}, {2, 2, 0, 0},
                                {1, 1, 0, 0},       {0, 0, 0, 0},  {7, 5, 1, 1}, {100, 80, 10, 10},
                                {555, 444, 56, 55}, {50, 40, 5, 5}};
    for (size_t k = 0; k < sizeof cases / sizeof *cases; ++k) {
        int64_t out[3];
        imbal_split_counts(cases[k][0], f, out);
        for (int s = 0; s < 3; ++s)
            cr_assert_eq(out[s], cases[k][1 + s], "n=%ld split %d: %ld", (long)cases[k][0], s,
                         (long)out[s]);
    }
    const double half[3] = {0.5, 0.5, 0.0}, third[3] = {1 / 3.0, 1 / 3.0, 1 / 3.0};
    int64_t out[3];
    imbal_split_counts(7, half, out);
    cr_assert(out[0] == 4 && out[1] == 3 && out[2] == 0);
    imbal_split_counts(1, half, out);
    cr_assert(out[0] == 1 && out[1] == 0 && out[2] == 0);
    imbal_split_counts(4, third, out);
    cr_assert(out[0] == 2 && out[1] == 1 && out[2] == 1);
    const double only_test[3] = {0, 0, 1};
    imbal_split_counts(5, only_test, out);
    cr_assert(out[0] == 0 && out[1] == 0 && out[2] == 5);
}

static int8_t *split_tags(imbal_ctx *ctx, const int64_t *counts, int nc, uint64_t seed) {
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, nc, NULL, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_split(ctx, ds, 0.8, 0.1, 0.1, seed), IMBAL_OK);
    int64_t n = imbal_dataset_size(ds);
    int8_t *tags = malloc((size_t)n);
    memcpy(tags, imbal_dataset_splits(ds), (size_t)n);
    imbal_dataset_destroy(ds);
    return tags;
}

Test(split, stratified_deterministic_and_seeded) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[7] = {500, 50, 5, 3, 2, 1, 0};
    const int64_t want[7][3] = {{400, 50, 50}, {40, 5, 5}, {3, 1, 1}, {1, 1, 1},
                                {2, 0, 0},     {1, 0, 0},  {0, 0, 0}};
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 7, NULL, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_split(ctx, ds, 0.8, 0.1, 0.1, 42), IMBAL_OK);
    for (int s = 0; s < 3; ++s) {
        int64_t got[7];
        cr_assert_eq(imbal_dataset_class_counts(ctx, ds, (imbal_split)s, got), IMBAL_OK);
        for (int c = 0; c < 7; ++c)
            cr_assert_eq(got[c], want[c][s], "class %d split %d: %ld", c, s, (long)got[c]);
    }
    for (int64_t i = 0; i < imbal_dataset_size(ds); ++i)
        cr_assert_neq(imbal_dataset_splits(ds)[i], IMBAL_SPLIT_NONE);
    /* subset keeps the classes and only that split's samples */
    imbal_dataset *val;
    cr_assert_eq(imbal_dataset_subset(ctx, ds, IMBAL_SPLIT_VAL, &val), IMBAL_OK);
    cr_assert_eq(imbal_dataset_size(val), 50 + 5 + 1 + 1);
    cr_assert_eq(imbal_dataset_num_classes(val), 7);
    for (int64_t i = 0; i < imbal_dataset_size(val); ++i)
        cr_assert_eq(imbal_dataset_splits(val)[i], IMBAL_SPLIT_VAL);
    cr_assert_eq(imbal_dataset_labels(val)[0], 0);
    cr_assert_eq(imbal_dataset_labels(val)[56], 3);
    imbal_dataset_destroy(val);
    cr_assert_eq(imbal_dataset_subset(ctx, ds, (imbal_split)5, &val), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "5") != NULL);
    imbal_dataset_destroy(ds);

    int8_t *a = split_tags(ctx, counts, 7, 42), *b = split_tags(ctx, counts, 7, 42);
    int8_t *c = split_tags(ctx, counts, 7, 43);
    cr_assert_eq(memcmp(a, b, 561), 0);
    cr_assert_neq(memcmp(a, c, 561), 0);
    imbal_ctx_set_threads(ctx, 1);
    int8_t *d = split_tags(ctx, counts, 7, 42);
    cr_assert_eq(memcmp(a, d, 561), 0, "the split depends on the thread count");
    free(a), free(b), free(c), free(d);
    imbal_ctx_destroy(ctx);
}

/* Over 2000 seeds each of 10 samples should land in val equally often (chi-square). */
Test(split, permutation_is_uniform) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[1] = {10};
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 1, NULL, &ds), IMBAL_OK);
    int64_t hits[10] = {0};
    const int seeds = 2000;
    for (int s = 0; s < seeds; ++s) {
        cr_assert_eq(imbal_dataset_split(ctx, ds, 0.8, 0.1, 0.1, (uint64_t)s), IMBAL_OK);
        for (int i = 0; i < 10; ++i)
            hits[i] += imbal_dataset_splits(ds)[i] == IMBAL_SPLIT_VAL;
    }
    double probs[10], dof;
    for (int i = 0; i < 10; ++i)
        probs[i] = 0.1;
    double x = tu_chi2_stat(hits, probs, 10, seeds, &dof);
    cr_assert_gt(tu_chi2_pvalue(x, dof), 1e-4, "chi2 %g", x);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}

Test(split, fraction_errors_name_the_values) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[2] = {5, 5};
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_from_counts(ctx, counts, 2, NULL, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_split(ctx, ds, 0.8, 0.1, 0.2, 1), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "0.2") && strstr(imbal_ctx_error(ctx), "1.1"), "%s",
              imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_split(ctx, ds, 1.1, -0.1, 0, 1), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "train fraction 1.1") != NULL, "%s",
              imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_split(ctx, ds, 0.5, NAN, 0.5, 1), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "val fraction nan") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_dataset_split(ctx, NULL, 1, 0, 0, 1), IMBAL_ERR_INVALID_ARGUMENT);
    /* within 1e-6 of 1 is accepted */
    cr_assert_eq(imbal_dataset_split(ctx, ds, 0.7, 0.2, 0.1000005, 1), IMBAL_OK);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
}

Test(class_stats, hand_computed) {
    imbal_ctx *ctx = tu_ctx();
    imbal_class_stats s;
    const int64_t a[3] = {500, 50, 5};
    cr_assert_eq(imbal_class_stats_compute(ctx, a, 3, &s), IMBAL_OK);
    cr_assert_eq(s.num_classes, 3);
    cr_assert_eq(s.total, 555);
    cr_assert_eq(s.min_count, 5);
    cr_assert_eq(s.min_class, 2);
    cr_assert_eq(s.max_count, 500);
    cr_assert_eq(s.max_class, 0);
    cr_assert_float_eq(s.imbalance_ratio, 100.0, 1e-12);
    const int64_t ties[4] = {3, 7, 3, 7};
    cr_assert_eq(imbal_class_stats_compute(ctx, ties, 4, &s), IMBAL_OK);
    cr_assert_eq(s.min_class, 0);
    cr_assert_eq(s.max_class, 1);
    cr_assert_float_eq(s.imbalance_ratio, 7.0 / 3.0, 1e-12);
    const int64_t empty[3] = {4, 0, 2};
    cr_assert_eq(imbal_class_stats_compute(ctx, empty, 3, &s), IMBAL_OK);
    cr_assert(isinf(s.imbalance_ratio) && s.imbalance_ratio > 0);
    cr_assert_eq(s.min_class, 1);
    const int64_t neg[2] = {4, -2};
    cr_assert_eq(imbal_class_stats_compute(ctx, neg, 2, &s), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "class 1") && strstr(imbal_ctx_error(ctx), "-2"));
    cr_assert_eq(imbal_class_stats_compute(ctx, a, 0, &s), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_eq(imbal_class_stats_compute(ctx, NULL, 3, &s), IMBAL_ERR_INVALID_ARGUMENT);
    imbal_ctx_destroy(ctx);
}

Test(class_stats, effective_number) {
    cr_assert_float_eq(imbal_effective_number(2, 0.9), 1.9, 1e-14);
    cr_assert_float_eq(imbal_effective_number(1, 0.9), 1.0, 1e-15);
    /* exact rational values of the doubles, evaluated to 40 digits */
    cr_assert_float_eq(imbal_effective_number(1000, 0.999), 632.3045752290357206799628, 1e-10);
    cr_assert_float_eq(imbal_effective_number(50, 0.9999), 49.87769576991173064116, 1e-11);
    cr_assert_float_eq(imbal_effective_number(1000, 1.0 - 1e-12), 999.99999950051104996536, 1e-9);
    cr_assert_eq(imbal_effective_number(7, 0.0), 1.0);
    cr_assert_eq(imbal_effective_number(0, 0.9), 0.0);
    cr_assert_eq(imbal_effective_number(0, 0.0), 0.0);
    /* large n saturates at 1 / (1 - beta) */
    cr_assert_float_eq(imbal_effective_number(100000000, 0.99), 100.0, 1e-9);
    cr_assert(isnan(imbal_effective_number(5, 1.0)));
    cr_assert(isnan(imbal_effective_number(5, -0.1)));
    cr_assert(isnan(imbal_effective_number(5, NAN)));
    cr_assert(isnan(imbal_effective_number(-1, 0.5)));
}
