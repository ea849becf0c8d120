/* imbal: the loader's epochs. Batches are handed to free slots of the ring in epoch order, one
 * item (slot, image) at a time; imbal_loader_next waits for the slot of the next batch in order.
 * Any free slot may take the next batch (not batch % prefetch), so a caller holding an old batch
 * while it consumes newer ones cannot deadlock the ring: with at most prefetch - 1 batches held,
 * either the next batch is already dispatched or a slot is free for it. */
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "internal.h"
#include "loader_internal.h"

int imbal_loader_take_item(imbal_loader *L, loader_item *it) {
    if (!L->started || L->ended || L->dispatch_batch >= L->nbatches) return 0;
    if (L->dispatch_item == 0) {
        loader_slot *s = NULL;
        for (int k = 0; k < L->cfg.prefetch && !s; ++k)
            if (L->slots[k].state == SLOT_FREE) s = &L->slots[k];
        if (!s) return 0;
        int64_t first = L->dispatch_batch * L->cfg.batch_size;
        int64_t left = L->count - first;
        s->state = SLOT_FILLING;
        s->batch = L->dispatch_batch;
        s->n = (int)(left < L->cfg.batch_size ? left : L->cfg.batch_size);
        s->pending = s->n;
        s->replaced = 0;
        s->err_item = -1;
        s->err_status = IMBAL_OK;
        s->err_msg[0] = '\0';
        L->dispatch_slot = s;
    }
    loader_slot *s = L->dispatch_slot;
    it->slot = s;
    it->i = L->dispatch_item;
    it->position = s->batch * L->cfg.batch_size + it->i;
    it->index = L->indices[it->position];
    it->gen = L->gen;
    if (++L->dispatch_item == s->n) {
        L->dispatch_item = 0;
        L->dispatch_batch++;
    }
    return 1;
}

void imbal_loader_finish_item(imbal_loader *L, const loader_item *it, const loader_result *r) {
    L->decoded += r->decoded;
    L->cache_hits += r->cache_hits;
    if (it->gen == L->gen) {
        loader_slot *s = it->slot;
        if (r->status != IMBAL_OK && (s->err_item < 0 || it->i < s->err_item)) {
            s->err_item = it->i;
            s->err_status = r->status;
            memcpy(s->err_msg, r->message, sizeof s->err_msg);
        }
        s->replaced += r->replaced;
        L->replaced += r->replaced;
        if (--s->pending == 0) s->state = SLOT_READY;
    }
    pthread_cond_broadcast(&L->done_cv);
}

void imbal_loader_abandon(imbal_loader *L) {
    L->gen++;
    L->ended = 1;
    while (L->inflight > 0 && !L->stop)
        pthread_cond_wait(&L->done_cv, &L->mu);
    for (int k = 0; k < L->cfg.prefetch; ++k)
        L->slots[k].state = SLOT_FREE;
    L->held = 0;
    L->dispatch_item = 0;
    L->dispatch_slot = NULL;
}

imbal_status imbal_loader_start_epoch(imbal_ctx *ctx, imbal_loader *loader, const int64_t *indices,
                                      int64_t count, uint32_t epoch) {
    if (!loader)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loader_start_epoch: loader is NULL");
    if (count < 0 || (count > 0 && !indices))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loader_start_epoch: indices is NULL or count %lld < 0",
                          (long long)count);
    for (int64_t p = 0; p < count; ++p)
        if (indices[p] < 0 || indices[p] >= loader->n_images)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "imbal_loader_start_epoch: index %lld at position %lld is outside "
                              "the dataset's [0, %lld)",
                              (long long)indices[p], (long long)p, (long long)loader->n_images);
    int64_t *copy = imbal_xmalloc(ctx, count ? (size_t)count : 1, sizeof *copy, "epoch indices");
    if (!copy) return IMBAL_ERR_OUT_OF_MEMORY;
    if (count) memcpy(copy, indices, (size_t)count * sizeof *copy);
    imbal_loader *L = loader;
    imbal_loader_wait_copies(L);
    pthread_mutex_lock(&L->mu);
    imbal_loader_abandon(L);
    free(L->indices);
    L->indices = copy;
    L->count = count;
    L->nbatches = L->cfg.drop_last ? count / L->cfg.batch_size
                                   : (count + L->cfg.batch_size - 1) / L->cfg.batch_size;
    L->epoch = epoch;
    L->next_batch = L->dispatch_batch = 0;
    L->started = 1;
    L->ended = 0;
    pthread_cond_broadcast(&L->work_cv);
    pthread_mutex_unlock(&L->mu);
    return IMBAL_OK;
}

/* Logs SKIP's one warning per newly found bad file through the caller's context, without
 * holding the mutex (the callback may call back into the loader). mu held on entry and exit. */
static void warn_new_bad_files(imbal_ctx *ctx, imbal_loader *L) {
    if (L->cfg.on_bad_file != IMBAL_BAD_FILE_SKIP) return;
    for (int64_t k = 0; k < L->nbad; ++k) {
        if (L->bads[k].warned) continue;
        L->bads[k].warned = 1;
        char *msg = imbal_xstrdup(NULL, L->bads[k].message ? L->bads[k].message : "");
        int64_t index = L->bads[k].index;
        pthread_mutex_unlock(&L->mu);
        imbal_log(
            ctx, IMBAL_LOG_WARN,
            "loader: skipping unreadable sample %lld ('%s'), replaced by a sample of the same "
            "class: %s",
            (long long)index, imbal_dataset_path(L->ds, index), msg ? msg : "");
        free(msg);
        pthread_mutex_lock(&L->mu);
    }
}

static loader_slot *slot_of_batch(imbal_loader *L, int64_t batch) {
    for (int k = 0; k < L->cfg.prefetch; ++k) {
        loader_slot *s = &L->slots[k];
        if ((s->state == SLOT_FILLING || s->state == SLOT_READY) && s->batch == batch) return s;
    }
    return NULL;
}

imbal_status imbal_loader_next(imbal_ctx *ctx, imbal_loader *loader, imbal_batch *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_loader_next: out is NULL");
    memset(out, 0, sizeof *out);
    out->slot = -1;
    if (!loader)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_loader_next: loader is NULL");
    imbal_loader *L = loader;
    pthread_mutex_lock(&L->mu);
    if (!L->started) {
        pthread_mutex_unlock(&L->mu);
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loader_next: no epoch started (call imbal_loader_start_epoch)");
    }
    if (L->held >= L->cfg.prefetch - 1) {
        int held = L->held;
        pthread_mutex_unlock(&L->mu);
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_loader_next: %d batches are held unreleased; at most prefetch - 1 "
                          "= %d may be (call imbal_loader_release)",
                          held, L->cfg.prefetch - 1);
    }
    out->height = L->cfg.height;
    out->width = L->cfg.width;
    out->epoch = L->epoch;
    loader_slot *s = NULL;
    while (!L->ended && L->next_batch < L->nbatches && !L->stop) {
        s = slot_of_batch(L, L->next_batch);
        if (s && s->state == SLOT_READY) break;
        s = NULL;
        pthread_cond_wait(&L->done_cv, &L->mu);
    }
    warn_new_bad_files(ctx, L);
    if (!s) {
        pthread_mutex_unlock(&L->mu);
        return IMBAL_OK; /* end of the epoch: n == 0 */
    }
    if (s->err_item >= 0) {
        imbal_status st = s->err_status;
        char msg[LOADER_MSG_LEN];
        memcpy(msg, s->err_msg, sizeof msg);
        L->ended = 1; /* the epoch is over; held batches stay valid until released */
        s->state = SLOT_FREE;
        pthread_mutex_unlock(&L->mu);
        return imbal_fail(ctx, st, "%s", msg);
    }
    s->state = SLOT_HELD;
    L->held++;
    L->next_batch++;
    out->images = s->images;
    out->labels = s->labels;
    out->indices = s->indices;
    out->positions = s->positions;
    out->n = s->n;
    out->first = s->batch * L->cfg.batch_size;
    out->replaced = s->replaced;
    out->slot =
        (int)((size_t)(s - L->slots) | ((size_t)(L->gen & LOADER_GEN_MASK) << LOADER_SLOT_BITS));
    pthread_mutex_unlock(&L->mu);
    return IMBAL_OK;
}

void imbal_loader_release(imbal_loader *loader, imbal_batch *batch) {
    if (!loader || !batch || batch->slot < 0 || batch->n <= 0) return;
    imbal_loader *L = loader;
    int k = batch->slot & ((1 << LOADER_SLOT_BITS) - 1);
    uint64_t gen = (uint64_t)batch->slot >> LOADER_SLOT_BITS;
    if (k >= L->cfg.prefetch) return;
    loader_slot *s = &L->slots[k];
    pthread_mutex_lock(&L->mu);
    int valid =
        (L->gen & LOADER_GEN_MASK) == gen && s->state == SLOT_HELD && s->images == batch->images;
    pthread_mutex_unlock(&L->mu);
    if (!valid) return; /* a batch of an abandoned epoch, or released twice */
#ifdef IMBAL_WITH_CUDA
    /* the slot's bytes may still be on their way to the device */
    if (s->copy_pending) {
        (void)imbal_cuda_event_synchronize(NULL, s->event);
        s->copy_pending = 0;
    }
#endif
    pthread_mutex_lock(&L->mu);
    if ((L->gen & LOADER_GEN_MASK) == gen && s->state == SLOT_HELD) {
        s->state = SLOT_FREE;
        L->held--;
        pthread_cond_broadcast(&L->work_cv);
    }
    pthread_mutex_unlock(&L->mu);
    memset(batch, 0, sizeof *batch);
    batch->slot = -1;
}
