/* imbal: the threaded loader. Turns an epoch's index stream (from a sampler) into batches of
 * decoded, resized uint8 NHWC images, in sampler order, while the caller trains on the previous
 * batch.
 *
 * A pool of pthreads decodes (imbal_image_load: TurboJPEG / libpng, DCT scaling, resize) into a
 * ring of `prefetch` batch slots (a bounded queue: decoding runs at most that many batches
 * ahead). Slots are pinned host memory (cudaHostAlloc) when `pinned` is set and a CUDA device
 * answers, so imbal_loader_copy_to_device can copy a batch asynchronously on a stream. An optional
 * cache keeps every decoded, resized image of a small set in memory (the default for 32 x 32-class
 * data) so later epochs skip decoding.
 *
 * Unreadable samples (corrupt, truncated, zero-byte, over the pixel limit, unsupported) follow the
 * policy: FAIL makes imbal_loader_next return the decode error, which names the file; SKIP replaces
 * the sample by another of the SAME class drawn by Philox (seed, epoch, position, attempt through
 * IMBAL_OP_LOADER_REPLACE), so the replacement is deterministic and the class balance the sampler
 * built is kept, logs one warning per bad file through the context's log callback and counts it
 * (imbal_loader_stats). Files found bad are remembered and not decoded again.
 */
#ifndef IMBAL_LOADER_H
#define IMBAL_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "image.h"
#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_bad_file_policy {
    IMBAL_BAD_FILE_FAIL = 0, /* the batch fails with the file's error */
    IMBAL_BAD_FILE_SKIP = 1, /* replaced deterministically, warned once, counted */
} imbal_bad_file_policy;

typedef struct imbal_loader_config {
    int height, width;          /* every image is brought to this size (>= 1) */
    imbal_resize_policy policy; /* STRETCH or SHORT_SIDE (NONE is refused: batches need one
                                   size); default SHORT_SIDE */
    imbal_resize_filter filter; /* default AREA */
    int64_t max_pixels;         /* decompression-bomb limit; default as imbal_decode_options */
    int batch_size;             /* >= 1; default 256 */
    int drop_last;              /* 1: a last partial batch is dropped; default 0 */
    int threads;                /* decode threads, >= 1; 0 = the context's thread count */
    int prefetch;               /* batch slots in flight, 2..8; default 3 */
    int cache;                  /* -1 auto (on when N * H * W * 3 <= cache_max_bytes), 0, 1 */
    size_t cache_max_bytes;     /* for auto; default 1 GiB */
    imbal_bad_file_policy on_bad_file; /* default FAIL */
    uint64_t seed;                     /* keys SKIP's replacements */
    int pinned;                        /* 1: cudaHostAlloc slots when CUDA is built and answers
                                          (silently plain memory otherwise); default 1 */
} imbal_loader_config;

/* Sets the defaults above, height = width = 32. */
IMBAL_API void imbal_loader_config_default(imbal_loader_config *cfg);

/* One batch, owned by the loader until imbal_loader_release. */
typedef struct imbal_batch {
    uint8_t *images;          /* [n, height, width, 3] uint8, host (pinned when the loader is) */
    const int32_t *labels;    /* [n] class of each image actually delivered */
    const int64_t *indices;   /* [n] dataset index actually delivered (the replacement under
                                 SKIP) */
    const int64_t *positions; /* [n] position in the epoch's stream: the augmentation key */
    int n, height, width;
    int64_t first; /* position of the batch's first image in the epoch */
    int replaced;  /* how many of this batch's samples SKIP replaced */
    uint32_t epoch;
    int slot; /* internal: which ring slot */
} imbal_batch;

typedef struct imbal_loader_stats {
    int64_t decoded;    /* images decoded from files */
    int64_t cache_hits; /* images served from the cache */
    int64_t replaced;   /* samples replaced under SKIP (all epochs) */
    int64_t bad_files;  /* distinct files found bad */
    int cache_enabled;  /* 1 when the cache is on */
    int pinned;         /* 1 when the slots are pinned */
} imbal_loader_stats;

typedef struct imbal_loader imbal_loader;

/* Validates cfg (names the field at fault) and starts the threads. The dataset must outlive the
 * loader. */
IMBAL_API imbal_status imbal_loader_create(imbal_ctx *ctx, const imbal_dataset *ds,
                                           const imbal_loader_config *cfg, imbal_loader **out);
/* Stops the threads (also mid-epoch) and frees everything. NULL is fine. */
IMBAL_API void imbal_loader_destroy(imbal_loader *loader);

/* Starts an epoch over `indices` (count dataset indices in [0, N), copied), e.g. the output of
 * imbal_sampler_epoch. An epoch still running is abandoned first (its unreleased batches become
 * invalid). Out-of-range indices are refused naming the position. */
IMBAL_API imbal_status imbal_loader_start_epoch(imbal_ctx *ctx, imbal_loader *loader,
                                                const int64_t *indices, int64_t count,
                                                uint32_t epoch);

/* The epoch's next batch, in order (blocks until it is decoded). Returns IMBAL_OK and fills *out,
 * or IMBAL_OK with out->n == 0 at the end of the epoch, or the error of a bad file under FAIL
 * (the epoch is then over). At most prefetch - 1 batches may be held unreleased at once: asking
 * for more is IMBAL_ERR_INVALID_ARGUMENT. */
IMBAL_API imbal_status imbal_loader_next(imbal_ctx *ctx, imbal_loader *loader, imbal_batch *out);

/* Gives the batch's slot back for decoding. After imbal_loader_copy_to_device, the slot is reused
 * only once that copy has completed (the loader waits on the copy's event). */
IMBAL_API void imbal_loader_release(imbal_loader *loader, imbal_batch *batch);

/* Copies the batch's images to device memory dst (n * height * width * 3 bytes, on CUDA device
 * `device_index`) asynchronously on `stream` (a cudaStream_t; NULL = the default stream) and
 * returns at once; work queued later on that stream sees the data. IMBAL_ERR_NO_DEVICE without
 * CUDA. */
IMBAL_API imbal_status imbal_loader_copy_to_device(imbal_ctx *ctx, imbal_loader *loader,
                                                   const imbal_batch *batch, int device_index,
                                                   void *dst, void *stream);

IMBAL_API void imbal_loader_get_stats(const imbal_loader *loader, imbal_loader_stats *out);

IMBAL_EXTERN_C_END

#endif
