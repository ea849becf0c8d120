/* imbal: the loader's cache of decoded, resized images, one contiguous N * H * W * 3 buffer
 * indexed by dataset index. The first worker to claim an index (0 -> 1 by compare-and-swap)
 * writes it and then publishes it (store 2, release); readers copy only after seeing 2 (acquire).
 * Two workers decoding the same index at once both decode: the loser simply does not store. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "loader_internal.h"

imbal_status imbal_loader_cache_init(imbal_ctx *ctx, imbal_loader *L) {
    L->cache_on = 0;
    int want = L->cfg.cache;
    size_t total = 0;
    int fits = L->n_images > 0 && (uint64_t)L->n_images <= SIZE_MAX / L->image_bytes;
    if (fits) total = (size_t)L->n_images * L->image_bytes;
    if (want == -1) want = fits && total <= L->cfg.cache_max_bytes;
    if (!want || L->n_images == 0) return IMBAL_OK;
    if (!fits)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "loader cache: %lld images of %zu bytes overflow the address space",
                          (long long)L->n_images, L->image_bytes);
    L->cache = imbal_xmalloc(ctx, (size_t)L->n_images, L->image_bytes, "loader cache");
    if (!L->cache) return IMBAL_ERR_OUT_OF_MEMORY;
    L->cache_state =
        imbal_xcalloc(ctx, (size_t)L->n_images, sizeof *L->cache_state, "loader cache flags");
    if (!L->cache_state) return IMBAL_ERR_OUT_OF_MEMORY;
    L->cache_on = 1;
    return IMBAL_OK;
}

void imbal_loader_cache_free(imbal_loader *L) {
    free(L->cache);
    free((void *)L->cache_state);
    L->cache = NULL;
    L->cache_state = NULL;
    L->cache_on = 0;
}

int imbal_loader_cache_get(imbal_loader *L, int64_t i, uint8_t *dst) {
    if (!L->cache_on) return 0;
    if (atomic_load_explicit(&L->cache_state[i], memory_order_acquire) != 2) return 0;
    memcpy(dst, L->cache + (size_t)i * L->image_bytes, L->image_bytes);
    return 1;
}

void imbal_loader_cache_put(imbal_loader *L, int64_t i, const uint8_t *src) {
    if (!L->cache_on) return;
    unsigned char expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&L->cache_state[i], &expected, 1,
                                                 memory_order_acquire, memory_order_relaxed))
        return;
    memcpy(L->cache + (size_t)i * L->image_bytes, src, L->image_bytes);
    atomic_store_explicit(&L->cache_state[i], 2, memory_order_release);
}
