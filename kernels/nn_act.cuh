/* imbal: loading and storing an activation element that is f32 or bf16 (chosen at run time), for
 * the layer kernels that take either (kernels/nn_batchnorm.cu, kernels/nn_eltwise.cu). */
#ifndef IMBAL_NN_ACT_CUH
#define IMBAL_NN_ACT_CUH

#include <cuda_bf16.h>
#include <stdint.h>

__device__ __forceinline__ float nn_act_load(const void *p, int bf16, int64_t i) {
    return bf16 ? __bfloat162float(static_cast<const __nv_bfloat16 *>(p)[i])
                : static_cast<const float *>(p)[i];
}
__device__ __forceinline__ void nn_act_store(void *p, int bf16, int64_t i, float v) {
    if (bf16)
        static_cast<__nv_bfloat16 *>(p)[i] = __float2bfloat16(v);
    else
        static_cast<float *>(p)[i] = v;
}

#endif
