/* imbal: the threaded loader's internals (include/imbal/loader.h), shared by loader.c (create,
 * destroy, stats, device copy), loader_epoch.c (epochs, the ring of slots, next / release),
 * loader_worker.c (the decode threads) and loader_cache.c (the decoded-image cache).
 *
 * Locking: one mutex guards every field below that is not marked otherwise. Workers write pixels,
 * labels, indices and positions of their own item into a FILLING slot without the lock: a slot is
 * reassigned only once all its items are reported (pending == 0) and start_epoch waits until no
 * item is in flight before it resets the slots, so nobody else touches those bytes meanwhile. */
#ifndef IMBAL_LOADER_INTERNAL_H
#define IMBAL_LOADER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "imbal/loader.h"

#define LOADER_MAX_SLOTS     8
#define LOADER_REPLACE_TRIES 32
#define LOADER_MSG_LEN       1024
#define LOADER_SLOT_BITS     4 /* imbal_batch.slot = slot | generation << LOADER_SLOT_BITS */
#define LOADER_GEN_MASK      0x7FFFFFFu

typedef enum loader_slot_state {
    SLOT_FREE = 0,    /* may take the next batch */
    SLOT_FILLING = 1, /* items dispatched, pending > 0 */
    SLOT_READY = 2,   /* every item reported */
    SLOT_HELD = 3     /* handed to the caller, until imbal_loader_release */
} loader_slot_state;

typedef struct loader_slot {
    uint8_t *images; /* batch_size * H * W * 3, pinned when the loader is */
    int32_t *labels;
    int64_t *indices;
    int64_t *positions;
    loader_slot_state state;
    int64_t batch; /* batch number in the epoch */
    int n, pending, replaced;
    int err_item; /* smallest failing item of the batch, -1 if none */
    imbal_status err_status;
    char err_msg[LOADER_MSG_LEN];
    /* device copy: touched by the caller's thread only */
    void *event;
    int event_device;
    int copy_pending;
} loader_slot;

/* A file found unreadable: its decode message, kept so FAIL can report it again without
 * decoding, and whether SKIP's warning has been logged. */
typedef struct loader_bad {
    int64_t index;
    char *message;
    imbal_status status;
    int warned;
} loader_bad;

/* One image of one slot. */
typedef struct loader_item {
    loader_slot *slot;
    int i;
    int64_t position;
    int64_t index;
    uint64_t gen;
} loader_item;

/* What a worker reports for an item. */
typedef struct loader_result {
    imbal_status status; /* IMBAL_OK or the failure that ends the batch */
    char message[LOADER_MSG_LEN];
    int replaced;
    int64_t decoded, cache_hits;
} loader_result;

typedef struct loader_worker {
    struct imbal_loader *loader;
    imbal_ctx *ctx; /* the worker's own: decode errors land here, never in the caller's */
    imbal_image_decoder *decoder; /* the worker's own: TurboJPEG handle and buffers reused */
    char *path;
    size_t path_cap;
    pthread_t thread;
} loader_worker;

struct imbal_loader {
    const imbal_dataset *ds;
    imbal_loader_config cfg;
    imbal_decode_options decode;
    int64_t n_images;
    size_t image_bytes; /* H * W * 3 */
    int pinned;

    /* members of each class, for SKIP: members[class_start[c] .. class_start[c + 1]) */
    int num_classes;
    int64_t *class_start, *members;

    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* workers wait here for items */
    pthread_cond_t done_cv; /* next / start_epoch wait here for reports */
    int stop;
    uint64_t gen; /* bumped when an epoch is abandoned; stale reports are dropped */
    int inflight;

    /* the epoch */
    int started, ended;
    uint32_t epoch;
    int64_t *indices, count, nbatches, next_batch, dispatch_batch;
    int dispatch_item;
    loader_slot *dispatch_slot;
    int held;
    loader_slot slots[LOADER_MAX_SLOTS];

    /* cache: cache_state[i] 0 empty, 1 being written, 2 filled (atomics: read without mu) */
    int cache_on;
    uint8_t *cache;
    atomic_uchar *cache_state;

    /* bad files: bad_flag[i] read without mu; the list under mu */
    atomic_uchar *bad_flag;
    loader_bad *bads;
    int64_t nbad, bad_cap;

    int64_t decoded, cache_hits, replaced;

    loader_worker *workers;
    int nworkers, nstarted;
};

/* loader_worker.c */
imbal_status imbal_loader_start_workers(imbal_ctx *ctx, imbal_loader *L, int threads);
void imbal_loader_stop_workers(imbal_loader *L);

/* loader_epoch.c (called with mu held) */
int imbal_loader_take_item(imbal_loader *L, loader_item *it);
void imbal_loader_finish_item(imbal_loader *L, const loader_item *it, const loader_result *r);
/* Abandons the running epoch: no more dispatch, waits until no item is in flight, frees the
 * slots. mu held. */
void imbal_loader_abandon(imbal_loader *L);

/* loader.c: waits for every slot's pending device copy (caller's thread). */
void imbal_loader_wait_copies(imbal_loader *L);

/* loader_cache.c */
imbal_status imbal_loader_cache_init(imbal_ctx *ctx, imbal_loader *L);
void imbal_loader_cache_free(imbal_loader *L);
/* Copies index i's image to dst when cached; 1 if it was. */
int imbal_loader_cache_get(imbal_loader *L, int64_t i, uint8_t *dst);
/* Stores index i's image unless another thread has (or is writing) it. */
void imbal_loader_cache_put(imbal_loader *L, int64_t i, const uint8_t *src);

#endif
