/* The loader's device copy: each batch of an epoch copied with imbal_loader_copy_to_device into a
 * cudaMalloc'd tensor and copied back must equal the host batch byte for byte, with pinned slots
 * where a device answers. Skips where no CUDA device answers; without CUDA the copy is
 * IMBAL_ERR_NO_DEVICE (test_loader.c checks that). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

static void need_gpu(void) {
    if (!imbal_built_with_cuda())
        cr_skip_test("no CUDA device: this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0)
        cr_skip_test("no CUDA device: none answers on this machine");
}

Test(loader_gpu, copy_to_device_matches_host_batch) {
    need_gpu();
    char *dir = tu_mkdtemp();
    imbal_ctx *ctx = tu_ctx();
    imbal_synth_options o;
    imbal_synth_options_default(&o);
    o.out_dir = dir;
    o.num_classes = 3;
    o.max_per_class = 20;
    o.ratio = 2;
    o.size = 24;
    o.test_per_class = 0;
    cr_assert_eq(imbal_synth_write(ctx, &o), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    char *train = tu_join(dir, "train");
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_folder(ctx, train, 0, &ds), IMBAL_OK);
    imbal_loader_config c;
    imbal_loader_config_default(&c);
    c.height = 16;
    c.width = 20;
    c.batch_size = 7;
    c.threads = 2;
    imbal_loader *L;
    cr_assert_eq(imbal_loader_create(ctx, ds, &c, &L), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    imbal_loader_stats s;
    imbal_loader_get_stats(L, &s);
    cr_assert_eq(s.pinned, 1);
    int64_t n = imbal_dataset_size(ds);
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    for (int64_t i = 0; i < n; ++i)
        idx[i] = n - 1 - i;
    cr_assert_eq(imbal_loader_start_epoch(ctx, L, idx, n, 0), IMBAL_OK);
    int64_t shape[4] = {c.batch_size, c.height, c.width, 3};
    imbal_tensor dev, host;
    cr_assert_eq(imbal_tensor_alloc(ctx, &dev, IMBAL_U8, 4, shape, imbal_device_cuda(0)), IMBAL_OK);
    cr_assert_eq(imbal_tensor_alloc(ctx, &host, IMBAL_U8, 4, shape, imbal_device_cpu()), IMBAL_OK);
    int64_t seen = 0;
    for (;;) {
        imbal_batch b;
        cr_assert_eq(imbal_loader_next(ctx, L, &b), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        if (b.n == 0) break;
        memset(host.data, 0xAB, imbal_tensor_nbytes(&host));
        cr_assert_eq(imbal_loader_copy_to_device(ctx, L, &b, 0, dev.data, NULL), IMBAL_OK, "%s",
                     imbal_ctx_error(ctx));
        /* the synchronous copy back on the default stream runs after the async one */
        cr_assert_eq(imbal_tensor_copy(ctx, &host, &dev), IMBAL_OK, "%s", imbal_ctx_error(ctx));
        size_t bytes = (size_t)b.n * b.height * b.width * 3;
        cr_assert_eq(memcmp(host.data, b.images, bytes), 0, "batch at %lld differs",
                     (long long)b.first);
        seen += b.n;
        imbal_loader_release(L, &b);
    }
    cr_assert_eq(seen, n);
    imbal_tensor_free(&dev);
    imbal_tensor_free(&host);
    imbal_loader_destroy(L);
    imbal_dataset_destroy(ds);
    imbal_ctx_destroy(ctx);
    free(idx);
    tu_rmtree(dir);
    free(dir);
    free(train);
}
