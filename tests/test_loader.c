/* The threaded loader (include/imbal/loader.h) on a small synthetic ImageFolder written at test
 * time: order and completeness of an epoch (partial last batch, drop_last), images equal to
 * imbal_image_load with the same options, identical results for any thread count and prefetch,
 * the cache (identical bytes, hits on the second epoch), bad files under FAIL (the error names the
 * file) and SKIP (deterministic same-class replacement, counted, one warning per file), config
 * validation naming the field, the hold limit, abandoning and destroying mid-epoch, and
 * copy_to_device without a device. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

#define H 12
#define W 10

typedef struct fixture {
    char *dir, *train;
    imbal_ctx *ctx;
    imbal_dataset *ds;
} fixture;

/* 3 classes, 24 / 12 / 6 JPEGs of 16 x 16; bad files (garbage, zero bytes, truncated PNG) added
 * to class 1 when `bad` is set. */
static void fixture_open(fixture *f, int bad) {
    f->dir = tu_mkdtemp();
    f->ctx = tu_ctx();
    imbal_synth_options o;
    imbal_synth_options_default(&o);
    o.out_dir = f->dir;
    o.num_classes = 3;
    o.max_per_class = 24;
    o.ratio = 4;
    o.size = 16;
    o.test_per_class = 0;
    o.seed = 7;
    cr_assert_eq(imbal_synth_write(f->ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(f->ctx));
    f->train = tu_join(f->dir, "train");
    if (bad) {
        char c1[4096];
        snprintf(c1, sizeof c1, "%s/01-square", f->train);
        char *p = tu_join(c1, "bad_garbage.jpg");
        tu_write_file(p, "this is not an image at all");
        free(p);
        p = tu_join(c1, "bad_empty.png");
        tu_touch(p);
        free(p);
        /* a real PNG cut in half */
        imbal_image img;
        cr_assert_eq(imbal_image_alloc(f->ctx, 20, 20, 3, &img), IMBAL_OK);
        for (int i = 0; i < 20 * 20 * 3; ++i)
            img.data[i] = (uint8_t)(i * 37);
        char *full = tu_join(f->dir, "whole.png");
        cr_assert_eq(imbal_image_write_png(f->ctx, &img, full), IMBAL_OK);
        imbal_image_free(&img);
        size_t len;
        char *bytes = tu_read_file(full, &len);
        cr_assert(bytes && len > 40);
        p = tu_join(c1, "bad_truncated.png");
        FILE *fp = fopen(p, "wb");
        cr_assert(fp);
        fwrite(bytes, 1, len / 2, fp);
        fclose(fp);
        free(p);
        free(bytes);
        free(full);
    }
    cr_assert_eq(imbal_dataset_open_folder(f->ctx, f->train, 0, &f->ds), IMBAL_OK, "%s",
                 imbal_ctx_error(f->ctx));
}

static void fixture_close(fixture *f) {
    imbal_dataset_destroy(f->ds);
    imbal_ctx_destroy(f->ctx);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->train);
}

static imbal_loader_config small_config(int threads, int prefetch, int bs) {
    imbal_loader_config c;
    imbal_loader_config_default(&c);
    c.height = H;
    c.width = W;
    c.threads = threads;
    c.prefetch = prefetch;
    c.batch_size = bs;
    c.cache = 0;
    return c;
}

/* A sampler-like stream: n draws with repeats, from Philox. */
static int64_t *stream(int64_t n, int64_t range, uint32_t salt) {
    int64_t *v = malloc((size_t)n * sizeof *v);
    imbal_rng r;
    imbal_rng_init(&r, 99, salt, 0, IMBAL_OP_TEST);
    for (int64_t i = 0; i < n; ++i)
        v[i] = (int64_t)imbal_rng_below(&r, (uint32_t)range);
    return v;
}

/* Everything one epoch delivered, flattened. */
typedef struct epoch_out {
    int64_t n;
    uint8_t *images;
    int64_t *indices, *positions;
    int32_t *labels;
    int batches, replaced;
} epoch_out;

static void run_epoch(imbal_ctx *ctx, imbal_loader *L, const int64_t *idx, int64_t count,
                      uint32_t epoch, epoch_out *o) {
    memset(o, 0, sizeof *o);
    size_t ib = (size_t)H * W * 3;
    o->images = malloc((size_t)(count ? count : 1) * ib);
    o->indices = malloc((size_t)(count ? count : 1) * sizeof(int64_t));
    o->positions = malloc((size_t)(count ? count : 1) * sizeof(int64_t));
    o->labels = malloc((size_t)(count ? count : 1) * sizeof(int32_t));
    cr_assert_eq(imbal_loader_start_epoch(ctx, L, idx, count, epoch), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    for (;;) {
        imbal_batch b;
        cr_assert_eq(imbal_loader_next(ctx, L, &b), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        if (b.n == 0) break;
        cr_assert_eq(b.first, o->n);
        cr_assert_eq(b.height, H);
        cr_assert_eq(b.width, W);
        cr_assert_eq(b.epoch, epoch);
        memcpy(o->images + (size_t)o->n * ib, b.images, (size_t)b.n * ib);
        memcpy(o->indices + o->n, b.indices, (size_t)b.n * sizeof(int64_t));
        memcpy(o->positions + o->n, b.positions, (size_t)b.n * sizeof(int64_t));
        memcpy(o->labels + o->n, b.labels, (size_t)b.n * sizeof(int32_t));
        o->n += b.n;
        o->batches++;
        o->replaced += b.replaced;
        imbal_loader_release(L, &b);
    }
}

static void epoch_free(epoch_out *o) {
    free(o->images);
    free(o->indices);
    free(o->positions);
    free(o->labels);
}

static void assert_same(const epoch_out *a, const epoch_out *b) {
    cr_assert_eq(a->n, b->n);
    cr_assert_eq(a->batches, b->batches);
    cr_assert_eq(memcmp(a->indices, b->indices, (size_t)a->n * sizeof(int64_t)), 0);
    cr_assert_eq(memcmp(a->labels, b->labels, (size_t)a->n * sizeof(int32_t)), 0);
    cr_assert_eq(memcmp(a->images, b->images, (size_t)a->n * H * W * 3), 0);
}

Test(loader, order_and_pixels_match_image_load) {
    fixture f;
    fixture_open(&f, 0);
    int64_t N = imbal_dataset_size(f.ds);
    cr_assert_eq(N, 24 + 12 + 6);
    int64_t count = 50; /* 6 full batches of 8 and a partial one of 2 */
    int64_t *idx = stream(count, N, 1);
    imbal_loader_config c = small_config(2, 3, 8);
    imbal_loader *L;
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK, "%s", imbal_ctx_error(f.ctx));
    epoch_out o;
    run_epoch(f.ctx, L, idx, count, 3, &o);
    cr_assert_eq(o.n, count);
    cr_assert_eq(o.batches, 7);
    imbal_decode_options d;
    imbal_decode_options_default(&d);
    d.target_width = W;
    d.target_height = H;
    d.policy = IMBAL_RESIZE_SHORT_SIDE;
    d.filter = IMBAL_FILTER_AREA;
    const int32_t *labels = imbal_dataset_labels(f.ds);
    for (int64_t p = 0; p < count; ++p) {
        cr_assert_eq(o.positions[p], p);
        cr_assert_eq(o.indices[p], idx[p]);
        cr_assert_eq(o.labels[p], labels[idx[p]]);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", imbal_dataset_root(f.ds),
                 imbal_dataset_path(f.ds, idx[p]));
        imbal_image img;
        cr_assert_eq(imbal_image_load(f.ctx, path, &d, &img), IMBAL_OK);
        cr_assert_eq(memcmp(img.data, o.images + (size_t)p * H * W * 3, (size_t)H * W * 3), 0,
                     "position %lld differs from imbal_image_load", (long long)p);
        imbal_image_free(&img);
    }
    imbal_loader_stats s;
    imbal_loader_get_stats(L, &s);
    cr_assert_eq(s.decoded, count);
    cr_assert_eq(s.cache_hits, 0);
    cr_assert_eq(s.cache_enabled, 0);
    /* pinned (the default) takes effect only where CUDA is built in and a device answers */
    cr_assert_eq(s.pinned, imbal_built_with_cuda() && imbal_cuda_device_count() > 0);

    /* drop_last drops the partial batch of 2 */
    imbal_loader_destroy(L);
    c.drop_last = 1;
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
    epoch_out o2;
    run_epoch(f.ctx, L, idx, count, 3, &o2);
    cr_assert_eq(o2.n, 48);
    cr_assert_eq(o2.batches, 6);
    cr_assert_eq(memcmp(o2.images, o.images, 48 * (size_t)H * W * 3), 0);
    /* an empty epoch ends at once; next after the end keeps answering n == 0 */
    epoch_out o3;
    run_epoch(f.ctx, L, idx, 0, 4, &o3);
    cr_assert_eq(o3.n, 0);
    imbal_batch b;
    cr_assert_eq(imbal_loader_next(f.ctx, L, &b), IMBAL_OK);
    cr_assert_eq(b.n, 0);
    epoch_free(&o3);
    epoch_free(&o2);
    epoch_free(&o);
    imbal_loader_destroy(L);
    free(idx);
    fixture_close(&f);
}

Test(loader, same_result_for_any_threads_and_prefetch) {
    fixture f;
    fixture_open(&f, 0);
    int64_t N = imbal_dataset_size(f.ds);
    int64_t count = 61;
    int64_t *idx = stream(count, N, 2);
    epoch_out ref;
    int first = 1;
    static const int threads[3] = {1, 2, 4};
    for (int t = 0; t < 3; ++t)
        for (int pf = 2; pf <= 3; ++pf) {
            imbal_loader_config c = small_config(threads[t], pf, 5);
            imbal_loader *L;
            cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
            epoch_out o;
            run_epoch(f.ctx, L, idx, count, 1, &o);
            cr_assert_eq(o.n, count);
            if (first) {
                ref = o;
                first = 0;
            } else {
                assert_same(&ref, &o);
                epoch_free(&o);
            }
            imbal_loader_destroy(L);
        }
    epoch_free(&ref);
    free(idx);
    fixture_close(&f);
}

Test(loader, cache_is_identical_and_hits_on_second_epoch) {
    fixture f;
    fixture_open(&f, 0);
    int64_t N = imbal_dataset_size(f.ds);
    int64_t *perm = malloc((size_t)N * sizeof *perm);
    for (int64_t i = 0; i < N; ++i)
        perm[i] = (i * 17) % N; /* 17 is prime to 42: a permutation */
    int64_t *idx = stream(40, N, 3);
    imbal_loader_config c = small_config(3, 3, 7);
    imbal_loader *off, *on;
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &off), IMBAL_OK);
    c.cache = -1; /* auto: 42 * 12 * 10 * 3 bytes fit in 1 GiB */
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &on), IMBAL_OK);
    epoch_out a1, a2, b1, b2;
    run_epoch(f.ctx, off, perm, N, 0, &a1);
    run_epoch(f.ctx, off, idx, 40, 1, &a2);
    run_epoch(f.ctx, on, perm, N, 0, &b1);
    imbal_loader_stats s;
    imbal_loader_get_stats(on, &s);
    cr_assert_eq(s.cache_enabled, 1);
    cr_assert_eq(s.decoded, N);
    cr_assert_eq(s.cache_hits, 0);
    run_epoch(f.ctx, on, idx, 40, 1, &b2);
    imbal_loader_get_stats(on, &s);
    cr_assert_eq(s.decoded, N, "the second epoch decoded again");
    cr_assert_eq(s.cache_hits, 40);
    assert_same(&a1, &b1);
    assert_same(&a2, &b2);
    /* cache_max_bytes too small: auto is off */
    imbal_loader *small;
    c.cache_max_bytes = (size_t)N * H * W * 3 - 1;
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &small), IMBAL_OK);
    imbal_loader_get_stats(small, &s);
    cr_assert_eq(s.cache_enabled, 0);
    imbal_loader_destroy(small);
    epoch_free(&a1);
    epoch_free(&a2);
    epoch_free(&b1);
    epoch_free(&b2);
    imbal_loader_destroy(off);
    imbal_loader_destroy(on);
    free(perm);
    free(idx);
    fixture_close(&f);
}

static int64_t find_path(const imbal_dataset *ds, const char *name) {
    for (int64_t i = 0; i < imbal_dataset_size(ds); ++i)
        if (strstr(imbal_dataset_path(ds, i), name)) return i;
    cr_assert_fail("no sample named %s", name);
    return -1;
}

Test(loader, bad_file_fail_names_the_file) {
    fixture f;
    fixture_open(&f, 1);
    static const char *const names[3] = {"bad_garbage.jpg", "bad_empty.png", "bad_truncated.png"};
    for (int k = 0; k < 3; ++k) {
        int64_t bad = find_path(f.ds, names[k]);
        int64_t idx[12];
        for (int i = 0; i < 12; ++i)
            idx[i] = i == 9 ? bad : i;
        imbal_loader_config c = small_config(2, 2, 4);
        imbal_loader *L;
        cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
        cr_assert_eq(imbal_loader_start_epoch(f.ctx, L, idx, 12, 0), IMBAL_OK);
        imbal_batch b;
        for (int j = 0; j < 2; ++j) {
            cr_assert_eq(imbal_loader_next(f.ctx, L, &b), IMBAL_OK, "%s", imbal_ctx_error(f.ctx));
            cr_assert_eq(b.n, 4);
            imbal_loader_release(L, &b);
        }
        imbal_status st = imbal_loader_next(f.ctx, L, &b);
        cr_assert_neq(st, IMBAL_OK);
        cr_assert(strstr(imbal_ctx_error(f.ctx), names[k]), "message: %s", imbal_ctx_error(f.ctx));
        /* the epoch is over */
        cr_assert_eq(imbal_loader_next(f.ctx, L, &b), IMBAL_OK);
        cr_assert_eq(b.n, 0);
        /* a new epoch reports the known-bad file again, without decoding it */
        cr_assert_eq(imbal_loader_start_epoch(f.ctx, L, &bad, 1, 1), IMBAL_OK);
        imbal_ctx_clear_error(f.ctx);
        cr_assert_neq(imbal_loader_next(f.ctx, L, &b), IMBAL_OK);
        cr_assert(strstr(imbal_ctx_error(f.ctx), names[k]), "message: %s", imbal_ctx_error(f.ctx));
        imbal_loader_stats s;
        imbal_loader_get_stats(L, &s);
        cr_assert_eq(s.bad_files, 1);
        imbal_loader_destroy(L);
    }
    fixture_close(&f);
}

static void count_warn(void *user, imbal_log_level level, const char *msg) {
    (void)msg;
    if (level == IMBAL_LOG_WARN) ++*(int *)user;
}

Test(loader, bad_file_skip_replaces_within_class) {
    fixture f;
    fixture_open(&f, 1);
    int64_t N = imbal_dataset_size(f.ds);
    const int32_t *labels = imbal_dataset_labels(f.ds);
    int64_t bad[3] = {find_path(f.ds, "bad_garbage"), find_path(f.ds, "bad_empty"),
                      find_path(f.ds, "bad_truncated")};
    /* every index once, then each bad file twice more */
    int64_t count = N + 6, *idx = malloc((size_t)count * sizeof *idx);
    for (int64_t i = 0; i < N; ++i)
        idx[i] = i;
    for (int k = 0; k < 6; ++k)
        idx[N + k] = bad[k % 3];
    epoch_out ref;
    static const int threads[3] = {1, 2, 4};
    for (int t = 0; t < 3; ++t) {
        int warns = 0;
        imbal_ctx_set_log(f.ctx, count_warn, &warns, IMBAL_LOG_DEBUG);
        imbal_loader_config c = small_config(threads[t], 3, 6);
        c.on_bad_file = IMBAL_BAD_FILE_SKIP;
        c.seed = 1234;
        imbal_loader *L;
        cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
        epoch_out o;
        run_epoch(f.ctx, L, idx, count, 5, &o);
        cr_assert_eq(o.n, count);
        cr_assert_eq(o.replaced, 9);
        for (int64_t p = 0; p < count; ++p) {
            cr_assert_eq(o.labels[p], labels[idx[p]], "class changed at position %lld",
                         (long long)p);
            int is_bad = idx[p] == bad[0] || idx[p] == bad[1] || idx[p] == bad[2];
            if (!is_bad) cr_assert_eq(o.indices[p], idx[p]);
            cr_assert(o.indices[p] != bad[0] && o.indices[p] != bad[1] && o.indices[p] != bad[2]);
            cr_assert_eq(labels[o.indices[p]], labels[idx[p]]);
        }
        imbal_loader_stats s;
        imbal_loader_get_stats(L, &s);
        cr_assert_eq(s.replaced, 9);
        cr_assert_eq(s.bad_files, 3);
        cr_assert_eq(warns, 3, "one warning per bad file, got %d", warns);
        /* a second epoch: same files, no new warning */
        epoch_out o2;
        run_epoch(f.ctx, L, idx, count, 5, &o2);
        assert_same(&o, &o2);
        cr_assert_eq(warns, 3);
        epoch_free(&o2);
        imbal_ctx_set_log(f.ctx, NULL, NULL, IMBAL_LOG_ERROR);
        if (t == 0)
            ref = o;
        else {
            assert_same(&ref, &o);
            epoch_free(&o);
        }
        imbal_loader_destroy(L);
    }
    epoch_free(&ref);
    free(idx);
    fixture_close(&f);
}

Test(loader, skip_without_readable_replacement_fails) {
    /* a class whose only member is corrupt */
    char *dir = tu_mkdtemp();
    imbal_ctx *ctx = tu_ctx();
    char *a = tu_join(dir, "a/x.png"), *b = tu_join(dir, "b/y.png");
    imbal_image img;
    cr_assert_eq(imbal_image_alloc(ctx, 8, 8, 3, &img), IMBAL_OK);
    tu_touch(a); /* create the directory, then the real image */
    cr_assert_eq(imbal_image_write_png(ctx, &img, a), IMBAL_OK);
    tu_write_file(b, "garbage");
    imbal_image_free(&img);
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_folder(ctx, dir, 0, &ds), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_loader_config c = small_config(1, 2, 2);
    c.on_bad_file = IMBAL_BAD_FILE_SKIP;
    imbal_loader *L;
    cr_assert_eq(imbal_loader_create(ctx, ds, &c, &L), IMBAL_OK);
    int64_t idx[2] = {0, 1};
    cr_assert_eq(imbal_loader_start_epoch(ctx, L, idx, 2, 0), IMBAL_OK);
    imbal_batch bt;
    cr_assert_eq(imbal_loader_next(ctx, L, &bt), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(ctx), "y.png"), "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "class 'b'"), "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "no readable replacement"), "%s", imbal_ctx_error(ctx));
    imbal_loader_destroy(L);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    free(a);
    free(b);
    tu_rmtree(dir);
    free(dir);
}

Test(loader, config_errors_name_the_field) {
    fixture f;
    fixture_open(&f, 0);
    imbal_loader_config c;
    imbal_loader *L = (imbal_loader *)1;
#define EXPECT_BAD(stmt, field)                                                                    \
    do {                                                                                           \
        c = small_config(1, 3, 4);                                                                 \
        stmt;                                                                                      \
        cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_ERR_INVALID_ARGUMENT);        \
        cr_assert_null(L);                                                                         \
        cr_assert(strstr(imbal_ctx_error(f.ctx), field), "%s", imbal_ctx_error(f.ctx));            \
    } while (0)
    EXPECT_BAD(c.height = 0, "height");
    EXPECT_BAD(c.width = -3, "width");
    EXPECT_BAD(c.policy = IMBAL_RESIZE_NONE, "policy");
    EXPECT_BAD(c.filter = (imbal_resize_filter)7, "filter");
    EXPECT_BAD(c.max_pixels = 0, "max_pixels");
    EXPECT_BAD(c.batch_size = 0, "batch_size");
    EXPECT_BAD(c.drop_last = 2, "drop_last");
    EXPECT_BAD(c.threads = -1, "threads");
    EXPECT_BAD(c.prefetch = 1, "prefetch");
    EXPECT_BAD(c.prefetch = 9, "prefetch");
    EXPECT_BAD(c.cache = 2, "cache");
    EXPECT_BAD(c.on_bad_file = (imbal_bad_file_policy)3, "on_bad_file");
    EXPECT_BAD(c.pinned = 5, "pinned");
    /* epoch arguments */
    c = small_config(1, 3, 4);
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
    imbal_batch b;
    cr_assert_eq(imbal_loader_next(f.ctx, L, &b), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "no epoch"));
    int64_t idx[3] = {0, 42, 1};
    cr_assert_eq(imbal_loader_start_epoch(f.ctx, L, idx, 3, 0), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "position 1"), "%s", imbal_ctx_error(f.ctx));
    imbal_loader_destroy(L);
    fixture_close(&f);
}

Test(loader, hold_limit_and_copy_without_device) {
    fixture f;
    fixture_open(&f, 0);
    imbal_loader_config c = small_config(2, 3, 4);
    imbal_loader *L;
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
    int64_t idx[20];
    for (int i = 0; i < 20; ++i)
        idx[i] = i;
    cr_assert_eq(imbal_loader_start_epoch(f.ctx, L, idx, 20, 0), IMBAL_OK);
    imbal_batch b0, b1, b2;
    cr_assert_eq(imbal_loader_next(f.ctx, L, &b0), IMBAL_OK);
    cr_assert_eq(imbal_loader_next(f.ctx, L, &b1), IMBAL_OK);
    cr_assert_eq(imbal_loader_next(f.ctx, L, &b2), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "prefetch - 1"), "%s", imbal_ctx_error(f.ctx));
    if (imbal_cuda_device_count() == 0) {
        char dst[16];
        cr_assert_eq(imbal_loader_copy_to_device(f.ctx, L, &b0, 0, dst, NULL), IMBAL_ERR_NO_DEVICE);
    }
    /* holding the OLDEST batch while consuming newer ones does not deadlock */
    imbal_loader_release(L, &b1);
    for (int k = 2; k < 5; ++k) {
        cr_assert_eq(imbal_loader_next(f.ctx, L, &b2), IMBAL_OK, "%s", imbal_ctx_error(f.ctx));
        cr_assert_eq(b2.first, 4 * k);
        cr_assert_eq(b2.indices[0], 4 * k);
        imbal_loader_release(L, &b2);
    }
    cr_assert_eq(b0.indices[0], 0);
    imbal_loader_release(L, &b0);
    imbal_loader_release(L, &b0); /* twice is harmless */
    cr_assert_eq(imbal_loader_next(f.ctx, L, &b2), IMBAL_OK);
    cr_assert_eq(b2.n, 0);
    imbal_loader_destroy(L);
    fixture_close(&f);
}

Test(loader, abandon_and_destroy_mid_epoch) {
    fixture f;
    fixture_open(&f, 0);
    int64_t N = imbal_dataset_size(f.ds);
    int64_t *idx = stream(200, N, 4);
    imbal_loader_config c = small_config(4, 4, 3);
    imbal_loader *L;
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
    epoch_out ref;
    run_epoch(f.ctx, L, idx + 100, 30, 2, &ref);
    for (int round = 0; round < 5; ++round) {
        cr_assert_eq(imbal_loader_start_epoch(f.ctx, L, idx, 200, 1), IMBAL_OK);
        imbal_batch b, held;
        cr_assert_eq(imbal_loader_next(f.ctx, L, &held), IMBAL_OK);
        for (int k = 0; k < round; ++k) {
            cr_assert_eq(imbal_loader_next(f.ctx, L, &b), IMBAL_OK);
            imbal_loader_release(L, &b);
        }
        /* the new epoch abandons the running one, with a batch still held */
        epoch_out o;
        run_epoch(f.ctx, L, idx + 100, 30, 2, &o);
        assert_same(&ref, &o);
        epoch_free(&o);
        imbal_loader_release(L, &held); /* stale: ignored */
    }
    /* destroy while decoding */
    cr_assert_eq(imbal_loader_start_epoch(f.ctx, L, idx, 200, 3), IMBAL_OK);
    imbal_batch b;
    cr_assert_eq(imbal_loader_next(f.ctx, L, &b), IMBAL_OK);
    imbal_loader_destroy(L);
    /* and right after creation, before any epoch */
    cr_assert_eq(imbal_loader_create(f.ctx, f.ds, &c, &L), IMBAL_OK);
    imbal_loader_destroy(L);
    imbal_loader_destroy(NULL);
    epoch_free(&ref);
    free(idx);
    fixture_close(&f);
}
