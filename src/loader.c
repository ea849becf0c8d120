/* imbal: the threaded loader's life cycle: configuration, creation (slots, class members, cache,
 * threads), destruction, statistics and the asynchronous copy of a batch to a CUDA device. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda_internal.h"
#include "internal.h"
#include "loader_internal.h"

void imbal_loader_config_default(imbal_loader_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    imbal_decode_options d;
    imbal_decode_options_default(&d);
    cfg->height = cfg->width = 32;
    cfg->policy = IMBAL_RESIZE_SHORT_SIDE;
    cfg->filter = IMBAL_FILTER_AREA;
    cfg->max_pixels = d.max_pixels;
    cfg->batch_size = 256;
    cfg->drop_last = 0;
    cfg->threads = 0;
    cfg->prefetch = 3;
    cfg->cache = -1;
    cfg->cache_max_bytes = (size_t)1 << 30;
    cfg->on_bad_file = IMBAL_BAD_FILE_FAIL;
    cfg->seed = 0;
    cfg->pinned = 1;
}

#define BAD(field, fmt, ...)                                                                       \
    imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "loader config: " field " " fmt, __VA_ARGS__)

static imbal_status check_config(imbal_ctx *ctx, const imbal_loader_config *c) {
    if (c->height < 1 || c->height > 65535)
        return BAD("height", "must be in 1..65535, got %d", c->height);
    if (c->width < 1 || c->width > 65535)
        return BAD("width", "must be in 1..65535, got %d", c->width);
    if (c->policy != IMBAL_RESIZE_STRETCH && c->policy != IMBAL_RESIZE_SHORT_SIDE)
        return BAD("policy",
                   "must be STRETCH (1) or SHORT_SIDE (2) (batches need one size), got %d",
                   (int)c->policy);
    if (c->filter != IMBAL_FILTER_AREA && c->filter != IMBAL_FILTER_BILINEAR)
        return BAD("filter", "must be AREA (0) or BILINEAR (1), got %d", (int)c->filter);
    if (c->max_pixels < 1)
        return BAD("max_pixels", "must be >= 1, got %lld", (long long)c->max_pixels);
    if (c->batch_size < 1) return BAD("batch_size", "must be >= 1, got %d", c->batch_size);
    if (c->drop_last != 0 && c->drop_last != 1)
        return BAD("drop_last", "must be 0 or 1, got %d", c->drop_last);
    if (c->threads < 0 || c->threads > 1024)
        return BAD("threads", "must be in 0..1024 (0 = the context's), got %d", c->threads);
    if (c->prefetch < 2 || c->prefetch > LOADER_MAX_SLOTS)
        return BAD("prefetch", "must be in 2..%d, got %d", LOADER_MAX_SLOTS, c->prefetch);
    if (c->cache < -1 || c->cache > 1)
        return BAD("cache", "must be -1 (auto), 0 or 1, got %d", c->cache);
    if (c->on_bad_file != IMBAL_BAD_FILE_FAIL && c->on_bad_file != IMBAL_BAD_FILE_SKIP)
        return BAD("on_bad_file", "must be FAIL (0) or SKIP (1), got %d", (int)c->on_bad_file);
    if (c->pinned != 0 && c->pinned != 1) return BAD("pinned", "must be 0 or 1, got %d", c->pinned);
    return IMBAL_OK;
}

/* CSR lists of each class's members, for SKIP's same-class replacements. */
static imbal_status build_members(imbal_ctx *ctx, imbal_loader *L) {
    int k = imbal_dataset_num_classes(L->ds);
    const int32_t *labels = imbal_dataset_labels(L->ds);
    L->num_classes = k;
    L->class_start = imbal_xcalloc(ctx, (size_t)k + 1, sizeof *L->class_start, "loader classes");
    L->members = imbal_xmalloc(ctx, L->n_images ? (size_t)L->n_images : 1, sizeof *L->members,
                               "loader class members");
    if (!L->class_start || !L->members) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < L->n_images; ++i) {
        if (labels[i] < 0 || labels[i] >= k)
            return imbal_fail(ctx, IMBAL_ERR_DATA,
                              "loader: sample %lld ('%s') has label %d outside 0..%d", (long long)i,
                              imbal_dataset_path(L->ds, i), (int)labels[i], k - 1);
        L->class_start[labels[i] + 1]++;
    }
    for (int c = 0; c < k; ++c)
        L->class_start[c + 1] += L->class_start[c];
    int64_t *fill = imbal_xmalloc(ctx, (size_t)k + 1, sizeof *fill, "loader classes");
    if (!fill) return IMBAL_ERR_OUT_OF_MEMORY;
    memcpy(fill, L->class_start, ((size_t)k + 1) * sizeof *fill);
    for (int64_t i = 0; i < L->n_images; ++i)
        L->members[fill[labels[i]]++] = i;
    free(fill);
    return IMBAL_OK;
}

static imbal_status alloc_slots(imbal_ctx *ctx, imbal_loader *L) {
    size_t bs = (size_t)L->cfg.batch_size;
    if (L->image_bytes > SIZE_MAX / bs)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "loader: batch_size %d x %zu bytes per image overflows",
                          L->cfg.batch_size, L->image_bytes);
    size_t bytes = bs * L->image_bytes;
#ifdef IMBAL_WITH_CUDA
    L->pinned = L->cfg.pinned && imbal_cuda_count_devices() > 0;
#endif
    for (int k = 0; k < L->cfg.prefetch; ++k) {
        loader_slot *s = &L->slots[k];
        s->event_device = -1;
#ifdef IMBAL_WITH_CUDA
        if (L->pinned) {
            void *p;
            imbal_status st = imbal_cuda_host_alloc(ctx, &p, bytes);
            if (st != IMBAL_OK) return st;
            s->images = p;
        }
#endif
        if (!L->pinned) s->images = imbal_xmalloc(ctx, bytes, 1, "loader batch slot");
        s->labels = imbal_xmalloc(ctx, bs, sizeof *s->labels, "loader batch labels");
        s->indices = imbal_xmalloc(ctx, bs, sizeof *s->indices, "loader batch indices");
        s->positions = imbal_xmalloc(ctx, bs, sizeof *s->positions, "loader batch positions");
        if (!s->images || !s->labels || !s->indices || !s->positions)
            return IMBAL_ERR_OUT_OF_MEMORY;
    }
    return IMBAL_OK;
}

static int default_threads(imbal_ctx *ctx) {
    int t = imbal_ctx_threads(ctx);
    if (t > 0) return t;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

imbal_status imbal_loader_create(imbal_ctx *ctx, const imbal_dataset *ds,
                                 const imbal_loader_config *cfg, imbal_loader **out) {
    if (!out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_loader_create: out is NULL");
    *out = NULL;
    if (!ds) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_loader_create: ds is NULL");
    if (!cfg)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_loader_create: cfg is NULL");
    imbal_status st = check_config(ctx, cfg);
    if (st != IMBAL_OK) return st;
    imbal_loader *L = imbal_xcalloc(ctx, 1, sizeof *L, "loader");
    if (!L) return IMBAL_ERR_OUT_OF_MEMORY;
    L->ds = ds;
    L->cfg = *cfg;
    L->n_images = imbal_dataset_size(ds);
    L->image_bytes = (size_t)cfg->height * (size_t)cfg->width * 3;
    imbal_decode_options_default(&L->decode);
    L->decode.max_pixels = cfg->max_pixels;
    L->decode.target_width = cfg->width;
    L->decode.target_height = cfg->height;
    L->decode.policy = cfg->policy;
    L->decode.filter = cfg->filter;
    pthread_mutex_init(&L->mu, NULL);
    pthread_cond_init(&L->work_cv, NULL);
    pthread_cond_init(&L->done_cv, NULL);
    L->bad_flag = imbal_xcalloc(ctx, L->n_images ? (size_t)L->n_images : 1, sizeof *L->bad_flag,
                                "loader bad-file flags");
    st = L->bad_flag ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
    if (st == IMBAL_OK) st = build_members(ctx, L);
    if (st == IMBAL_OK) st = alloc_slots(ctx, L);
    if (st == IMBAL_OK) st = imbal_loader_cache_init(ctx, L);
    if (st == IMBAL_OK)
        st = imbal_loader_start_workers(ctx, L, cfg->threads ? cfg->threads : default_threads(ctx));
    if (st != IMBAL_OK) {
        imbal_loader_destroy(L);
        return st;
    }
    *out = L;
    return IMBAL_OK;
}

void imbal_loader_wait_copies(imbal_loader *L) {
#ifdef IMBAL_WITH_CUDA
    for (int k = 0; k < L->cfg.prefetch; ++k)
        if (L->slots[k].copy_pending) {
            (void)imbal_cuda_event_synchronize(NULL, L->slots[k].event);
            L->slots[k].copy_pending = 0;
        }
#else
    (void)L;
#endif
}

void imbal_loader_destroy(imbal_loader *loader) {
    if (!loader) return;
    imbal_loader *L = loader;
    imbal_loader_wait_copies(L);
    imbal_loader_stop_workers(L);
    for (int k = 0; k < L->cfg.prefetch; ++k) {
        loader_slot *s = &L->slots[k];
#ifdef IMBAL_WITH_CUDA
        if (L->pinned)
            imbal_cuda_host_free(s->images);
        else
            free(s->images);
        imbal_cuda_event_destroy(s->event);
#else
        free(s->images);
#endif
        free(s->labels);
        free(s->indices);
        free(s->positions);
    }
    imbal_loader_cache_free(L);
    for (int64_t k = 0; k < L->nbad; ++k)
        free(L->bads[k].message);
    free(L->bads);
    free((void *)L->bad_flag);
    free(L->class_start);
    free(L->members);
    free(L->indices);
    pthread_cond_destroy(&L->work_cv);
    pthread_cond_destroy(&L->done_cv);
    pthread_mutex_destroy(&L->mu);
    free(L);
}

void imbal_loader_get_stats(const imbal_loader *loader, imbal_loader_stats *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!loader) return;
    imbal_loader *L = (imbal_loader *)loader; /* the mutex, not the state, changes */
    pthread_mutex_lock(&L->mu);
    out->decoded = L->decoded;
    out->cache_hits = L->cache_hits;
    out->replaced = L->replaced;
    out->bad_files = L->nbad;
    out->cache_enabled = L->cache_on;
    out->pinned = L->pinned;
    pthread_mutex_unlock(&L->mu);
}

imbal_status imbal_loader_copy_to_device(imbal_ctx *ctx, imbal_loader *loader,
                                         const imbal_batch *batch, int device_index, void *dst,
                                         void *stream) {
    if (!loader || !batch)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loader_copy_to_device: loader or batch is NULL");
#ifdef IMBAL_WITH_CUDA
    int count = imbal_cuda_count_devices();
    if (count == 0)
        return imbal_fail(ctx, IMBAL_ERR_NO_DEVICE,
                          "imbal_loader_copy_to_device: no CUDA device answers (no GPU or no "
                          "driver)");
    if (device_index < 0 || device_index >= count)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loader_copy_to_device: device_index %d outside 0..%d",
                          device_index, count - 1);
    int k = batch->slot & ((1 << LOADER_SLOT_BITS) - 1);
    if (batch->slot < 0 || k >= loader->cfg.prefetch || batch->n <= 0 ||
        batch->images != loader->slots[k].images)
        return imbal_fail(
            ctx, IMBAL_ERR_INVALID_ARGUMENT,
            "imbal_loader_copy_to_device: the batch is not one held from this loader");
    if (!dst)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loader_copy_to_device: dst is NULL");
    loader_slot *s = &loader->slots[k];
    imbal_status st;
    if (s->event && s->event_device != device_index) {
        if (s->copy_pending) (void)imbal_cuda_event_synchronize(NULL, s->event);
        imbal_cuda_event_destroy(s->event);
        s->event = NULL;
        s->copy_pending = 0;
    }
    if (!s->event) {
        st = imbal_cuda_event_create(ctx, device_index, &s->event);
        if (st != IMBAL_OK) return st;
        s->event_device = device_index;
    }
    size_t bytes = (size_t)batch->n * loader->image_bytes;
    st = imbal_cuda_memcpy_async_h2d(ctx, device_index, dst, batch->images, bytes, stream);
    if (st != IMBAL_OK) return st;
    st = imbal_cuda_event_record(ctx, s->event, stream);
    if (st != IMBAL_OK) return st;
    s->copy_pending = 1;
    return IMBAL_OK;
#else
    (void)device_index, (void)dst, (void)stream;
    return imbal_fail(ctx, IMBAL_ERR_NO_DEVICE,
                      "imbal_loader_copy_to_device: this libimbal was built without CUDA "
                      "(configure with -DIMBAL_CUDA=ON where nvcc is installed)");
#endif
}
