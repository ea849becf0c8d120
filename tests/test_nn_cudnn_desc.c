/* The cuDNN graph descriptors of the CUDA convolution (kernels/nn_conv_cudnn.cu) against the real
 * cuDNN library, without a GPU: tensors, convolution, the three operation nodes and their graphs
 * must finalize for every backbone shape in f32 and bf16, and cuDNN's refusal of an impossible
 * shape must come back with cuDNN's message. Engines and execution need a device
 * (tests/test_nn_gpu.c). Skips in a build without CUDA. */
#include <criterion/criterion.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/nn.h"
#include "nn_cuda_check.h"
#include "test_util.h"

#ifdef IMBAL_WITH_CUDA
static const imbal_conv2d_shape kShapes[] = {
    /* n  c   h   w   k  r  s  stride pad */
    {4, 3, 16, 16, 8, 3, 3, 1, 1},     {3, 8, 9, 7, 16, 3, 3, 2, 1},
    {2, 16, 8, 8, 32, 1, 1, 2, 0},     {5, 4, 6, 6, 4, 3, 3, 1, 0},
    {1, 5, 5, 5, 3, 5, 5, 1, 2},       {128, 16, 32, 32, 16, 3, 3, 1, 1},
    {128, 32, 16, 16, 64, 3, 3, 2, 1}, {128, 64, 8, 8, 64, 3, 3, 1, 1}};
#endif

Test(nn_cudnn_desc, backbone_shapes_finalize) {
#ifndef IMBAL_WITH_CUDA
    cr_skip_test("this libimbal was built without CUDA");
#else
    imbal_ctx *ctx = tu_ctx();
    for (size_t i = 0; i < sizeof kShapes / sizeof *kShapes; i++) {
        for (int bf = 0; bf < 2; bf++) {
            const imbal_conv2d_shape *s = &kShapes[i];
            imbal_status st =
                imbal_nn_cuda_conv_check_descriptors(ctx, s, bf ? IMBAL_BF16 : IMBAL_F32);
            cr_expect_eq(st, IMBAL_OK, "shape %zu (c %d, %dx%d, k %d, stride %d) %s: %s", i, s->c,
                         s->h, s->w, s->k, s->stride, bf ? "bf16" : "f32", imbal_ctx_error(ctx));
        }
    }
    imbal_ctx_destroy(ctx);
#endif
}

Test(nn_cudnn_desc, refusals_name_the_cause) {
#ifndef IMBAL_WITH_CUDA
    cr_skip_test("this libimbal was built without CUDA");
#else
    imbal_ctx *ctx = tu_ctx();
    /* a 5x5 kernel over a 2x2 input without padding: no output */
    const imbal_conv2d_shape bad = {1, 1, 2, 2, 1, 5, 5, 1, 0};
    imbal_status st = imbal_nn_cuda_conv_check_descriptors(ctx, &bad, IMBAL_F32);
    cr_expect_eq(st, IMBAL_ERR_CUDA, "got %d: %s", (int)st, imbal_ctx_error(ctx));
    cr_expect(strstr(imbal_ctx_error(ctx), "cudnnBackend") != NULL, "%s", imbal_ctx_error(ctx));
    cr_expect(strstr(imbal_ctx_error(ctx), "CUDNN_STATUS_") != NULL, "%s", imbal_ctx_error(ctx));
    const imbal_conv2d_shape ok = {1, 1, 4, 4, 1, 3, 3, 1, 1};
    st = imbal_nn_cuda_conv_check_descriptors(ctx, &ok, IMBAL_F16);
    cr_expect_eq(st, IMBAL_ERR_UNSUPPORTED);
    cr_expect(strstr(imbal_ctx_error(ctx), "f16") != NULL, "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
#endif
}
