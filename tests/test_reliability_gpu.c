/* GPU faults: an allocation larger than the card and a kernel that faults must surface as status
 * codes carrying CUDA's message; after the first the handle stays usable, after the second (a
 * sticky error: CUDA cannot recover the process's context) every later call says so.
 *
 * These skip (saying why) without a device; scripts/gpu-check.sh runs them on one. The suite
 * fault_gpu is in gpu-check's compute-sanitizer pass except the *_unsanitized test, whose
 * deliberate invalid access memcheck would (rightly) report. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

static void require_gpu(void) {
    if (!imbal_built_with_cuda())
        cr_skip_test("no CUDA device: this libimbal was built without CUDA");
    if (imbal_cuda_device_count() == 0) cr_skip_test("no CUDA device answers on this machine");
}

/* Cross-entropy of [2, 3] logits on the device; returns the loss read back to the host. */
static imbal_status device_ce(imbal_ctx *ctx, const imbal_tensor *logits, float *loss) {
    int64_t ts = 2;
    int32_t th[2] = {0, 2};
    imbal_tensor tgt_h = imbal_tensor_wrap(th, IMBAL_I32, 1, &ts, imbal_device_cpu());
    imbal_tensor tgt = {0}, out = {0};
    imbal_status st = imbal_tensor_alloc(ctx, &tgt, IMBAL_I32, 1, &ts, imbal_device_cuda(0));
    if (st == IMBAL_OK) st = imbal_tensor_copy(ctx, &tgt, &tgt_h);
    if (st == IMBAL_OK)
        st = imbal_tensor_alloc(ctx, &out, IMBAL_F32, 0, NULL, imbal_device_cuda(0));
    if (st == IMBAL_OK) {
        imbal_loss_params p;
        imbal_loss_params_default(&p, IMBAL_LOSS_CE);
        imbal_loss_inputs in = {logits, &tgt, NULL, NULL, NULL, NULL};
        imbal_loss_outputs o = {&out, NULL, NULL};
        st = imbal_loss(ctx, imbal_device_cuda(0), &p, &in, &o);
    }
    if (st == IMBAL_OK) {
        imbal_tensor host = imbal_tensor_wrap(loss, IMBAL_F32, 0, NULL, imbal_device_cpu());
        st = imbal_tensor_copy(ctx, &host, &out); /* synchronises: a kernel fault shows here */
    }
    imbal_tensor_free(&tgt);
    imbal_tensor_free(&out);
    return st;
}

static imbal_status device_logits(imbal_ctx *ctx, imbal_tensor *dev) {
    static float zeros[6];
    int64_t shape[2] = {2, 3};
    imbal_tensor h = imbal_tensor_wrap(zeros, IMBAL_F32, 2, shape, imbal_device_cpu());
    imbal_status st = imbal_tensor_alloc(ctx, dev, IMBAL_F32, 2, shape, imbal_device_cuda(0));
    return st == IMBAL_OK ? imbal_tensor_copy(ctx, dev, &h) : st;
}

/* More than any card has (16 TiB): IMBAL_ERR_DEVICE_OUT_OF_MEMORY with the byte count and CUDA's
 * text; then allocations, copies and a loss kernel still work on the same context. */
Test(fault_gpu, allocation_beyond_the_card_then_usable) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    int64_t n = INT64_C(1) << 42; /* f32: 16 TiB */
    imbal_tensor t;
    imbal_status st = imbal_tensor_alloc(ctx, &t, IMBAL_F32, 1, &n, imbal_device_cuda(0));
    cr_assert_eq(st, IMBAL_ERR_DEVICE_OUT_OF_MEMORY, "%s: %s", imbal_status_string(st),
                 imbal_ctx_error(ctx));
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "17592186044416"), "%s", imbal_ctx_error(ctx));
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "out of memory"), "no CUDA text: %s",
                       imbal_ctx_error(ctx));
    cr_assert_null(t.data);
    imbal_tensor logits;
    cr_assert_eq(device_logits(ctx, &logits), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    float loss = -1;
    cr_assert_eq(device_ce(ctx, &logits, &loss), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(loss, logf(3.0f), 1e-6);
    imbal_tensor_free(&logits);
    imbal_ctx_destroy(ctx);
}

/* A device buffer that is not one (an address no allocation covers): the loss kernel faults,
 * the status is IMBAL_ERR_CUDA with CUDA's "illegal memory access" text, and since that error is
 * sticky every later CUDA call fails too, saying the context is lost, instead of returning
 * garbage. Its own process (Criterion forks per test), so the other tests are unaffected. */
Test(fault_gpu, kernel_fault_is_reported_and_sticky_unsanitized) {
    require_gpu();
    imbal_ctx *ctx = tu_ctx();
    int64_t shape[2] = {2, 3};
    imbal_tensor bogus =
        imbal_tensor_wrap((void *)(uintptr_t)0x10000, IMBAL_F32, 2, shape, imbal_device_cuda(0));
    float loss = -1;
    imbal_status st = device_ce(ctx, &bogus, &loss);
    cr_assert_eq(st, IMBAL_ERR_CUDA, "%s: %s", imbal_status_string(st), imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "illegal") || strstr(imbal_ctx_error(ctx), "address"),
              "no CUDA text: %s", imbal_ctx_error(ctx));
    /* The handle says it is no longer usable. */
    imbal_tensor t;
    int64_t small = 4;
    st = imbal_tensor_alloc(ctx, &t, IMBAL_F32, 1, &small, imbal_device_cuda(0));
    cr_assert_neq(st, IMBAL_OK, "an allocation after a sticky fault succeeded");
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "context is lost"), "%s", imbal_ctx_error(ctx));
    /* The CPU path of the same context is unaffected. */
    float lh[6] = {0}, out = -1;
    int32_t th[2] = {0, 2};
    int64_t ts = 2;
    imbal_tensor L = imbal_tensor_wrap(lh, IMBAL_F32, 2, shape, imbal_device_cpu());
    imbal_tensor T = imbal_tensor_wrap(th, IMBAL_I32, 1, &ts, imbal_device_cpu());
    imbal_tensor O = imbal_tensor_wrap(&out, IMBAL_F32, 0, NULL, imbal_device_cpu());
    imbal_loss_params p;
    imbal_loss_params_default(&p, IMBAL_LOSS_CE);
    imbal_loss_inputs in = {&L, &T, NULL, NULL, NULL, NULL};
    imbal_loss_outputs o = {&O, NULL, NULL};
    cr_assert_eq(imbal_loss(ctx, imbal_device_cpu(), &p, &in, &o), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    cr_assert_float_eq(out, logf(3.0f), 1e-6);
    imbal_ctx_destroy(ctx);
}
