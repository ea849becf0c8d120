/* imbal: the loader's decode threads. Each takes one (slot, image) item at a time, so several
 * threads fill one batch in parallel, decodes it with its own context and imbal_image_decoder
 * (one TurboJPEG handle and one set of buffers per thread, reused for every file), and reports back
 * under the loader's mutex. Under SKIP an unreadable sample is replaced by a member of the same
 * class drawn from the Philox stream (seed, epoch, position, IMBAL_OP_LOADER_REPLACE): draw a of
 * that stream is attempt a, up to LOADER_REPLACE_TRIES. A file's badness is a property of the file,
 * so the result never depends on thread timing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/philox.h"
#include "internal.h"
#include "loader_internal.h"

/* Root + "/" + relative path, or the absolute path as indexed. NULL on OOM. */
static const char *full_path(loader_worker *w, int64_t i) {
    const char *rel = imbal_dataset_path(w->loader->ds, i);
    if (!rel) rel = "";
    if (rel[0] == '/') return rel;
    const char *root = imbal_dataset_root(w->loader->ds);
    if (!root) root = ".";
    size_t need = strlen(root) + strlen(rel) + 2;
    if (need > w->path_cap) {
        char *p = realloc(w->path, need);
        if (!p) return NULL;
        w->path = p;
        w->path_cap = need;
    }
    snprintf(w->path, w->path_cap, "%s/%s", root, rel);
    return w->path;
}

/* Records index i as bad (once) with its message. */
static void remember_bad(imbal_loader *L, int64_t i, imbal_status st, const char *msg) {
    pthread_mutex_lock(&L->mu);
    if (!atomic_load(&L->bad_flag[i])) {
        if (L->nbad == L->bad_cap) {
            int64_t cap = L->bad_cap ? 2 * L->bad_cap : 16;
            loader_bad *b = realloc(L->bads, (size_t)cap * sizeof *b);
            if (b) L->bads = b, L->bad_cap = cap;
        }
        if (L->nbad < L->bad_cap) {
            loader_bad *b = &L->bads[L->nbad];
            b->index = i;
            b->message = imbal_xstrdup(NULL, msg);
            b->status = st;
            b->warned = 0;
            L->nbad++;
            atomic_store(&L->bad_flag[i], 1);
        }
    }
    pthread_mutex_unlock(&L->mu);
}

/* The stored message of a known-bad index into buf. */
static imbal_status bad_message(imbal_loader *L, int64_t i, char *buf, size_t len) {
    imbal_status st = IMBAL_ERR_FORMAT;
    snprintf(buf, len, "'%s' is unreadable", imbal_dataset_path(L->ds, i));
    pthread_mutex_lock(&L->mu);
    for (int64_t k = 0; k < L->nbad; ++k)
        if (L->bads[k].index == i) {
            if (L->bads[k].message) snprintf(buf, len, "%s", L->bads[k].message);
            st = L->bads[k].status;
            break;
        }
    pthread_mutex_unlock(&L->mu);
    return st;
}

/* Brings dataset index i into dst (H * W * 3 bytes): cache, else decode. On failure returns the
 * status and leaves the message in msg. */
static imbal_status fetch(loader_worker *w, int64_t i, uint8_t *dst, loader_result *r, char *msg,
                          size_t len) {
    imbal_loader *L = w->loader;
    if (imbal_loader_cache_get(L, i, dst)) {
        r->cache_hits++;
        return IMBAL_OK;
    }
    if (atomic_load(&L->bad_flag[i])) return bad_message(L, i, msg, len);
    const char *path = full_path(w, i);
    if (!path) {
        snprintf(msg, len, "loader: out of memory for the path of sample %lld", (long long)i);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    imbal_image img;
    /* img borrows the decoder's buffer: valid until this worker's next decode */
    imbal_status st = imbal_image_decoder_load(w->decoder, w->ctx, path, &L->decode, &img);
    if (st == IMBAL_OK &&
        (img.width != L->cfg.width || img.height != L->cfg.height || img.channels != 3))
        st = imbal_fail(w->ctx, IMBAL_ERR_INTERNAL, "'%s': decoded to %dx%dx%d, not %dx%dx3", path,
                        img.width, img.height, img.channels, L->cfg.width, L->cfg.height);
    if (st != IMBAL_OK) {
        snprintf(msg, len, "%s", imbal_ctx_error(w->ctx));
        if (st != IMBAL_ERR_OUT_OF_MEMORY) remember_bad(L, i, st, msg);
        return st;
    }
    r->decoded++;
    memcpy(dst, img.data, L->image_bytes);
    imbal_loader_cache_put(L, i, img.data);
    return IMBAL_OK;
}

static void process_item(loader_worker *w, const loader_item *it, loader_result *r) {
    imbal_loader *L = w->loader;
    loader_slot *s = it->slot;
    uint8_t *dst = s->images + (size_t)it->i * L->image_bytes;
    const int32_t *labels = imbal_dataset_labels(L->ds);
    memset(r, 0, sizeof *r);
    int64_t index = it->index;
    imbal_status st = fetch(w, index, dst, r, r->message, sizeof r->message);
    if (st != IMBAL_OK && L->cfg.on_bad_file == IMBAL_BAD_FILE_SKIP &&
        st != IMBAL_ERR_OUT_OF_MEMORY) {
        int c = labels[it->index];
        int64_t lo = L->class_start[c], size = L->class_start[c + 1] - lo;
        imbal_rng rng;
        imbal_rng_init(&rng, L->cfg.seed, L->epoch, (uint64_t)it->position,
                       IMBAL_OP_LOADER_REPLACE);
        char tmp[LOADER_MSG_LEN];
        for (int a = 0; a < LOADER_REPLACE_TRIES && st != IMBAL_OK; ++a) {
            index = L->members[lo + (int64_t)imbal_rng_below(&rng, (uint32_t)size)];
            st = fetch(w, index, dst, r, tmp, sizeof tmp);
        }
        if (st == IMBAL_OK) {
            r->replaced = 1;
        } else {
            snprintf(r->message, sizeof r->message,
                     "'%s' (class '%s') is unreadable and no readable replacement of its class "
                     "was found in %d attempts",
                     imbal_dataset_path(L->ds, it->index), imbal_dataset_class_name(L->ds, c),
                     LOADER_REPLACE_TRIES);
            st = IMBAL_ERR_DATA;
        }
    }
    r->status = st;
    s->labels[it->i] = labels[index];
    s->indices[it->i] = index;
    s->positions[it->i] = it->position;
}

static void *worker_main(void *arg) {
    loader_worker *w = arg;
    imbal_loader *L = w->loader;
    pthread_mutex_lock(&L->mu);
    while (!L->stop) {
        loader_item it;
        if (!imbal_loader_take_item(L, &it)) {
            pthread_cond_wait(&L->work_cv, &L->mu);
            continue;
        }
        L->inflight++;
        pthread_mutex_unlock(&L->mu);
        loader_result r;
        process_item(w, &it, &r);
        pthread_mutex_lock(&L->mu);
        L->inflight--;
        imbal_loader_finish_item(L, &it, &r);
    }
    pthread_mutex_unlock(&L->mu);
    return NULL;
}

imbal_status imbal_loader_start_workers(imbal_ctx *ctx, imbal_loader *L, int threads) {
    L->workers = imbal_xcalloc(ctx, (size_t)threads, sizeof *L->workers, "loader threads");
    if (!L->workers) return IMBAL_ERR_OUT_OF_MEMORY;
    L->nworkers = threads;
    for (int t = 0; t < threads; ++t) {
        loader_worker *w = &L->workers[t];
        w->loader = L;
        if (imbal_ctx_create(&w->ctx) != IMBAL_OK)
            return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                              "loader: cannot create the context of thread %d", t);
        if (imbal_image_decoder_create(ctx, &w->decoder) != IMBAL_OK)
            return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                              "loader: cannot create the image decoder of thread %d", t);
    }
    for (int t = 0; t < threads; ++t) {
        int e = pthread_create(&L->workers[t].thread, NULL, worker_main, &L->workers[t]);
        if (e != 0)
            return imbal_fail(ctx, IMBAL_ERR_INTERNAL,
                              "loader: pthread_create failed for thread %d of %d: %s", t, threads,
                              strerror(e));
        L->nstarted++;
    }
    return IMBAL_OK;
}

void imbal_loader_stop_workers(imbal_loader *L) {
    pthread_mutex_lock(&L->mu);
    L->stop = 1;
    pthread_cond_broadcast(&L->work_cv);
    pthread_cond_broadcast(&L->done_cv);
    pthread_mutex_unlock(&L->mu);
    for (int t = 0; t < L->nstarted; ++t)
        pthread_join(L->workers[t].thread, NULL);
    L->nstarted = 0;
    for (int t = 0; t < L->nworkers; ++t) {
        imbal_ctx_destroy(L->workers[t].ctx);
        imbal_image_decoder_destroy(L->workers[t].decoder);
        free(L->workers[t].path);
    }
    free(L->workers);
    L->workers = NULL;
    L->nworkers = 0;
}
