/* imbal: the one place the CPU layers call BLAS.
 *
 * OpenBLAS's OpenMP build (the one CMakeLists.txt links) sizes its team by omp_get_max_threads()
 * of the calling thread, not by our num_threads clauses: without this, `--threads 1` still ran
 * every sgemm on all cores. The thread-count ICV belongs to the calling thread, so setting it
 * around the call and restoring it touches nobody else's state. OpenBLAS splits an sgemm over M
 * and N, never over K, so the result is the same for any count. */
#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "internal.h"
#include "nn_cpu.h"

void imbal_nn_sgemm(imbal_ctx *ctx, int trans_a, int trans_b, int m, int n, int k, float alpha,
                    const float *a, int lda, const float *b, int ldb, float beta, float *c,
                    int ldc) {
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(imbal_ctx_omp_threads(ctx));
#endif
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
}
