/* imbal: the CUDA twin of the convolution (imbal/nn.h) through the cuDNN 9 graph (backend) API.
 *
 * For each (direction, batch n, pointer alignments) met, a plan is built once and cached in
 * plan->cuda (docs/nn-cuda.md):
 *   tensor descriptors (NCHW strides, unique ids, the pointers' real alignment) -> convolution
 *   descriptor (float compute, cross-correlation, 2 spatial dims) -> one operation node (forward,
 *   backward-data or backward-filter; alpha 1, beta 0) -> operation graph -> engine heuristics
 *   (mode A, then FALLBACK) -> the first engine config, in heuristic order, that passes our
 *   numerics filter and finalizes into an execution plan -> its workspace size. With the plan's
 *   search on (imbal_conv_plan_set_search, like PyTorch's cudnn.benchmark), the first 8 such
 *   configs are timed on the first call's operands and the fastest is kept.
 * A call then builds a variant pack (the device pointers + the shared workspace) and runs
 * cudnnBackendExecute on the context's cuDNN handle (default stream).
 *
 * Numerics: for f32 we first take only engines with none of the numerical notes TENSOR_CORE,
 * DOWN_CONVERT_INPUTS, REDUCED_PRECISION_REDUCTION (TF32 on Ampere/Hopper), FFT or WINOGRAD*, so
 * results match the CPU twin to ~1e-5; for every dtype we refuse NONDETERMINISTIC engines (atomics
 * in wgrad) so reruns give the same bits. Only when no engine passes do we relax (first the
 * precision notes, then determinism), and say so on the context at IMBAL_LOG_WARN; the engine
 * chosen is logged at IMBAL_LOG_DEBUG. bf16 allows tensor cores (that is its point), and so does an
 * f32 plan with TF32 allowed (imbal_conv_plan_set_tf32, PyTorch's default for convolutions).
 *
 * bf16: x, w, y, dx, dy are bf16; cuDNN's weight-grad output has w's data type, so the bf16 dw is
 * computed into a bf16 scratch (accumulated in f32 inside cuDNN, rounded once to bf16) and widened
 * into the caller's f32 dw by a small kernel. */
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"
#include "internal.h"
extern "C" {
#include "nn_internal.h" /* a C header without C++ guards */
}
#include "nn_cuda_check.h"

namespace {

/* CUDNN_ATTR_OPERATIONGRAPH_HANDLE and CUDNN_ATTR_EXECUTION_PLAN_HANDLE are marked deprecated in
 * the cuDNN 9.x headers (their replacement is a DEVICEPROP descriptor, for device-less plan
 * builds we do not need) but remain the supported way to bind a handle; we name them by value so
 * -Werror builds stay clean. Values from cudnn_graph_v9.h. */
constexpr cudnnBackendAttributeName_t kAttrOpGraphHandle = (cudnnBackendAttributeName_t)800;
constexpr cudnnBackendAttributeName_t kAttrPlanHandle = (cudnnBackendAttributeName_t)400;
static_assert(CUDNN_ATTR_OPERATIONGRAPH_OPS == 801, "cuDNN attribute numbering changed");
static_assert(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG == 401, "cuDNN attribute numbering changed");

enum Dir { kFwd = 0, kBwdData = 1, kBwdFilter = 2 };
const char *const kDirName[3] = {"forward", "backward-data", "backward-filter"};

/* Tensor unique ids in the graphs (any distinct non-zero values). */
constexpr int64_t kUidX = 1, kUidW = 2, kUidY = 3;

imbal_status dnn_fail(imbal_ctx *ctx, cudnnStatus_t s, const char *what, const char *file,
                      int line) {
    char detail[512];
    detail[0] = '\0';
    cudnnGetLastErrorString(detail, sizeof detail);
    return imbal_fail(ctx,
                      s == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED
                          ? IMBAL_ERR_OUT_OF_MEMORY
                          : (s == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED
                                 ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY
                                 : IMBAL_ERR_CUDA),
                      "%s failed: %s%s%s (%s:%d)", what, cudnnGetErrorString(s),
                      detail[0] ? ": " : "", detail, file, line);
}

/* Evaluates a cudnnStatus_t expression; on failure returns IMBAL_ERR_CUDA with cuDNN's text. */
#define DNN_TRY(ctx, expr)                                                                         \
    do {                                                                                           \
        cudnnStatus_t dnn_s_ = (expr);                                                             \
        if (dnn_s_ != CUDNN_STATUS_SUCCESS)                                                        \
            return dnn_fail((ctx), dnn_s_, #expr, __FILE__, __LINE__);                             \
    } while (0)

/* A backend descriptor destroyed at scope exit (every early return stays leak-free). */
struct Desc {
    cudnnBackendDescriptor_t d = nullptr;
    Desc() = default;
    Desc(const Desc &) = delete;
    Desc &operator=(const Desc &) = delete;
    ~Desc() { reset(); }
    void reset() {
        if (d) (void)cudnnBackendDestroyDescriptor(d);
        d = nullptr;
    }
    cudnnBackendDescriptor_t release() {
        cudnnBackendDescriptor_t r = d;
        d = nullptr;
        return r;
    }
};

struct CachedPlan {
    int dir, n;
    int64_t align[3]; /* x, w, y (dx, w, dy / x, dw, dy): the alignments the plan was built for */
    cudnnBackendDescriptor_t plan;
    int64_t workspace;
    /* Backward-data with some input pixels under no kernel tap (stride > kernel extent, as the
     * 1x1 stride-2 shortcut): cuDNN's bf16 engine computes dx into its workspace in NHWC, writes
     * only the pixels that get a contribution and converts all of them (compute-sanitizer's
     * initcheck on an H100, cuDNN 9 of PyTorch 2.11): zeroed first, those pixels read 0, as they
     * must, instead of whatever the layer's other directions left in the shared workspace. */
    int clear_ws;
    /* The descriptors the plan was built from (tensors, convolution, operation, graph, engine
     * config), kept alive as long as the plan: cuDNN does not document that a finalized plan
     * survives them, and cudnn-frontend also keeps them referenced. */
    cudnnBackendDescriptor_t keep[7];
};

void cached_plan_free(CachedPlan *c) {
    if (c->plan) (void)cudnnBackendDestroyDescriptor(c->plan);
    c->plan = NULL;
    for (int i = 0; i < 7; i++) {
        if (c->keep[i]) (void)cudnnBackendDestroyDescriptor(c->keep[i]);
        c->keep[i] = NULL;
    }
}

struct ConvCuda {
    int device;
    CachedPlan *plans;
    int count, cap;
    void *ws; /* shared workspace, grown to the largest plan's need */
    size_t ws_bytes;
    void *dw_tmp; /* bf16 weight-grad scratch (bf16 plans only) */
};

int64_t ptr_alignment(const void *p, int64_t elem) {
    uintptr_t a = (uintptr_t)p;
    int64_t al = 16;
    while (al > elem && (a % (uintptr_t)al) != 0)
        al >>= 1;
    return al;
}

imbal_status make_tensor(imbal_ctx *ctx, Desc &t, int64_t uid, cudnnDataType_t dt,
                         const int64_t dims[4], int64_t alignment) {
    const int64_t strides[4] = {dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1};
    DNN_TRY(ctx, cudnnBackendCreateDescriptor(CUDNN_BACKEND_TENSOR_DESCRIPTOR, &t.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(t.d, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1,
                                          &dt));
    DNN_TRY(ctx,
            cudnnBackendSetAttribute(t.d, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims));
    DNN_TRY(ctx,
            cudnnBackendSetAttribute(t.d, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides));
    DNN_TRY(ctx,
            cudnnBackendSetAttribute(t.d, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid));
    DNN_TRY(ctx, cudnnBackendSetAttribute(t.d, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64,
                                          1, &alignment));
    DNN_TRY(ctx, cudnnBackendFinalize(t.d));
    return IMBAL_OK;
}

imbal_status make_conv_desc(imbal_ctx *ctx, Desc &c, const imbal_conv2d_shape *s) {
    const cudnnDataType_t comp = CUDNN_DATA_FLOAT;
    const cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    const int64_t dims = 2, one[2] = {1, 1}, stride[2] = {s->stride, s->stride},
                  pad[2] = {s->pad, s->pad};
    DNN_TRY(ctx, cudnnBackendCreateDescriptor(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, &c.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(c.d, CUDNN_ATTR_CONVOLUTION_COMP_TYPE,
                                          CUDNN_TYPE_DATA_TYPE, 1, &comp));
    DNN_TRY(ctx, cudnnBackendSetAttribute(c.d, CUDNN_ATTR_CONVOLUTION_CONV_MODE,
                                          CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode));
    DNN_TRY(ctx, cudnnBackendSetAttribute(c.d, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS,
                                          CUDNN_TYPE_INT64, 1, &dims));
    DNN_TRY(ctx, cudnnBackendSetAttribute(c.d, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64,
                                          2, one));
    DNN_TRY(ctx, cudnnBackendSetAttribute(c.d, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES,
                                          CUDNN_TYPE_INT64, 2, stride));
    DNN_TRY(ctx, cudnnBackendSetAttribute(c.d, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS,
                                          CUDNN_TYPE_INT64, 2, pad));
    DNN_TRY(ctx, cudnnBackendSetAttribute(c.d, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS,
                                          CUDNN_TYPE_INT64, 2, pad));
    DNN_TRY(ctx, cudnnBackendFinalize(c.d));
    return IMBAL_OK;
}

/* The one operation node of a direction's graph. x/w/y are the tensors in forward roles: for
 * backward-data x is dx and y is dy; for backward-filter w is dw and y is dy. */
imbal_status make_op(imbal_ctx *ctx, Desc &op, int dir, Desc &conv, Desc &x, Desc &w, Desc &y) {
    const float alpha = 1.0f, beta = 0.0f;
    static const cudnnBackendDescriptorType_t kind[3] = {
        CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR,
        CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR,
        CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR};
    /* attribute names per direction: alpha, beta, conv, x-role, w-role, y-role */
    static const cudnnBackendAttributeName_t attr[3][6] = {
        {CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W,
         CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y},
        {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_ALPHA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_BETA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_CONV_DESC,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DX, CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_W,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_DATA_DY},
        {CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_ALPHA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_BETA,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_CONV_DESC,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_X,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DW,
         CUDNN_ATTR_OPERATION_CONVOLUTION_BWD_FILTER_DY}};
    DNN_TRY(ctx, cudnnBackendCreateDescriptor(kind[dir], &op.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(op.d, attr[dir][0], CUDNN_TYPE_FLOAT, 1, &alpha));
    DNN_TRY(ctx, cudnnBackendSetAttribute(op.d, attr[dir][1], CUDNN_TYPE_FLOAT, 1, &beta));
    DNN_TRY(ctx, cudnnBackendSetAttribute(op.d, attr[dir][2], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                          &conv.d));
    DNN_TRY(ctx,
            cudnnBackendSetAttribute(op.d, attr[dir][3], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x.d));
    DNN_TRY(ctx,
            cudnnBackendSetAttribute(op.d, attr[dir][4], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w.d));
    DNN_TRY(ctx,
            cudnnBackendSetAttribute(op.d, attr[dir][5], CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y.d));
    DNN_TRY(ctx, cudnnBackendFinalize(op.d));
    return IMBAL_OK;
}

/* The engine configs the heuristics propose for `graph` in `mode`, in their order. The caller
 * destroys each element of *out and frees the array. */
imbal_status heuristic_configs(imbal_ctx *ctx, Desc &graph, cudnnBackendHeurMode_t mode,
                               cudnnBackendDescriptor_t **out, int64_t *count) {
    *out = NULL;
    *count = 0;
    Desc heur;
    DNN_TRY(ctx, cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heur.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(heur.d, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH,
                                          CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(heur.d, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE,
                                          1, &mode));
    DNN_TRY(ctx, cudnnBackendFinalize(heur.d));
    int64_t avail = 0;
    DNN_TRY(ctx, cudnnBackendGetAttribute(heur.d, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                          CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &avail, NULL));
    if (avail <= 0) return IMBAL_OK;
    cudnnBackendDescriptor_t *cfgs = (cudnnBackendDescriptor_t *)imbal_xcalloc(
        ctx, (size_t)avail, sizeof *cfgs, "cuDNN engine configs");
    if (!cfgs) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < avail; i++) {
        cudnnStatus_t s =
            cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &cfgs[i]);
        if (s != CUDNN_STATUS_SUCCESS) {
            for (int64_t j = 0; j < i; j++)
                (void)cudnnBackendDestroyDescriptor(cfgs[j]);
            free(cfgs);
            return dnn_fail(ctx, s, "cudnnBackendCreateDescriptor(ENGINECFG)", __FILE__, __LINE__);
        }
    }
    int64_t got = 0;
    cudnnStatus_t s = cudnnBackendGetAttribute(heur.d, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                                               CUDNN_TYPE_BACKEND_DESCRIPTOR, avail, &got, cfgs);
    if (s != CUDNN_STATUS_SUCCESS) {
        for (int64_t j = 0; j < avail; j++)
            (void)cudnnBackendDestroyDescriptor(cfgs[j]);
        free(cfgs);
        return dnn_fail(ctx, s, "cudnnBackendGetAttribute(ENGINEHEUR_RESULTS)", __FILE__, __LINE__);
    }
    if (got > avail) got = avail;
    for (int64_t j = got; j < avail; j++)
        (void)cudnnBackendDestroyDescriptor(cfgs[j]);
    *out = cfgs;
    *count = got;
    return IMBAL_OK;
}

/* Which numerics filter a config passes: 0 strict (for f32: no tensor-core / TF32 down-conversion,
 * no reduced-precision reduction, no FFT or Winograd transforms; for any dtype: deterministic),
 * 1 deterministic only, 2 anything. A config whose engine cannot be queried counts as 2 (tried
 * last). *engine_index gets the engine's global index (-1 if unknown), for the log. */
int config_class(cudnnBackendDescriptor_t cfg, int f32, int64_t *engine_index) {
    *engine_index = -1;
    Desc engine;
    if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &engine.d) !=
        CUDNN_STATUS_SUCCESS)
        return 2;
    int64_t n = 0;
    if (cudnnBackendGetAttribute(cfg, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                 &n, &engine.d) != CUDNN_STATUS_SUCCESS ||
        n != 1)
        return 2;
    int64_t idx = -1;
    if (cudnnBackendGetAttribute(engine.d, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n,
                                 &idx) == CUDNN_STATUS_SUCCESS &&
        n == 1)
        *engine_index = idx;
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    int64_t nn = 0;
    if (cudnnBackendGetAttribute(engine.d, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE,
                                 CUDNN_TYPE_NUMERICAL_NOTE, CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &nn,
                                 notes) != CUDNN_STATUS_SUCCESS)
        return 2;
    int nondet = 0, lowprec = 0;
    for (int64_t i = 0; i < nn && i < CUDNN_NUMERICAL_NOTE_TYPE_COUNT; i++) {
        switch (notes[i]) {
        case CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC:
            nondet = 1;
            break;
        case CUDNN_NUMERICAL_NOTE_TENSOR_CORE:
        case CUDNN_NUMERICAL_NOTE_DOWN_CONVERT_INPUTS:
        case CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION:
        case CUDNN_NUMERICAL_NOTE_FFT:
        case CUDNN_NUMERICAL_NOTE_WINOGRAD:
        case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_4x4:
        case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_6x6:
        case CUDNN_NUMERICAL_NOTE_WINOGRAD_TILE_13x13:
            lowprec = 1;
            break;
        default:
            break;
        }
    }
    if (nondet) return 2;
    if (f32 && lowprec) return 1;
    return 0;
}

/* Tries to finalize an execution plan from cfg; 1 on success (*plan set), 0 if cuDNN refuses. */
int try_plan(cudnnHandle_t h, cudnnBackendDescriptor_t cfg, cudnnBackendDescriptor_t *plan,
             int64_t *workspace) {
    Desc p;
    if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &p.d) !=
        CUDNN_STATUS_SUCCESS)
        return 0;
    if (cudnnBackendSetAttribute(p.d, kAttrPlanHandle, CUDNN_TYPE_HANDLE, 1, &h) !=
        CUDNN_STATUS_SUCCESS)
        return 0;
    if (cudnnBackendSetAttribute(p.d, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
                                 CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &cfg) != CUDNN_STATUS_SUCCESS)
        return 0;
    if (cudnnBackendFinalize(p.d) != CUDNN_STATUS_SUCCESS) return 0;
    int64_t n = 0, ws = 0;
    if (cudnnBackendGetAttribute(p.d, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1,
                                 &n, &ws) != CUDNN_STATUS_SUCCESS ||
        n != 1 || ws < 0)
        return 0;
    *workspace = ws;
    *plan = p.release();
    return 1;
}

void free_configs(cudnnBackendDescriptor_t *cfgs, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (cfgs[i]) (void)cudnnBackendDestroyDescriptor(cfgs[i]);
    free(cfgs);
}

/* One finalized engine config of a search. */
struct Candidate {
    cudnnBackendDescriptor_t plan, cfg;
    int64_t workspace, engine;
    float ms; /* its time, -1 until timed */
};
constexpr int kSearchMax = 8;

/* Runs an execution plan on the three operands (x, w, y in the plan's direction's roles). */
imbal_status execute_plan(imbal_ctx *ctx, cudnnHandle_t h, cudnnBackendDescriptor_t plan, void *ws,
                          void *const ptrs[3]) {
    const int64_t uids[3] = {kUidX, kUidW, kUidY};
    Desc vp;
    DNN_TRY(ctx, cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &vp.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(vp.d, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS,
                                          CUDNN_TYPE_INT64, 3, uids));
    DNN_TRY(ctx, cudnnBackendSetAttribute(vp.d, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS,
                                          CUDNN_TYPE_VOID_PTR, 3, (void *)ptrs));
    DNN_TRY(ctx, cudnnBackendSetAttribute(vp.d, CUDNN_ATTR_VARIANT_PACK_WORKSPACE,
                                          CUDNN_TYPE_VOID_PTR, 1, &ws));
    DNN_TRY(ctx, cudnnBackendFinalize(vp.d));
    DNN_TRY(ctx, cudnnBackendExecute(h, plan, vp.d));
    return IMBAL_OK;
}

/* The plan search (imbal_conv_plan_set_search; PyTorch's cudnn.benchmark): each candidate runs
 * once to warm up, then kSearchRuns times between two events on the caller's real operands (the
 * output is overwritten, and written again by the real call after); the fastest wins. A candidate
 * that fails to run is skipped; if no workspace can be had, the heuristics' first is kept. */
int fastest_candidate(imbal_ctx *ctx, cudnnHandle_t h, Candidate *cand, int ncand,
                      void *const ptrs[3]) {
    constexpr int kSearchRuns = 3;
    /* A candidate that fails is skipped and the search still succeeds, so its cuDNN message goes
     * to the debug log and the context gets back what it said before. */
    const imbal_status status0 = imbal_ctx_last_status(ctx);
    char *message0 = strdup(imbal_ctx_error(ctx)); /* NULL: the message is put back empty */
    auto skip = [&](int c) {
        imbal_log(ctx, IMBAL_LOG_DEBUG, "conv2d engine search: engine %lld skipped: %s",
                  (long long)cand[c].engine, imbal_ctx_error(ctx));
        imbal_ctx_restore_error(ctx, status0, message0);
    };
    int64_t ws_max = 0;
    for (int c = 0; c < ncand; c++)
        ws_max = cand[c].workspace > ws_max ? cand[c].workspace : ws_max;
    void *ws = NULL;
    cudaEvent_t e0 = NULL, e1 = NULL;
    int best = -1;
    if ((ws_max > 0 && cudaMalloc(&ws, (size_t)ws_max) != cudaSuccess) ||
        cudaEventCreate(&e0) != cudaSuccess || cudaEventCreate(&e1) != cudaSuccess) {
        (void)cudaGetLastError();
    } else {
        for (int c = 0; c < ncand; c++) {
            if (execute_plan(ctx, h, cand[c].plan, ws, ptrs) != IMBAL_OK) {
                skip(c);
                continue;
            }
            imbal_status st = IMBAL_OK;
            (void)cudaEventRecord(e0, 0);
            for (int r = 0; r < kSearchRuns && st == IMBAL_OK; r++)
                st = execute_plan(ctx, h, cand[c].plan, ws, ptrs);
            (void)cudaEventRecord(e1, 0);
            float ms = -1.0f;
            if (st != IMBAL_OK || cudaEventSynchronize(e1) != cudaSuccess ||
                cudaEventElapsedTime(&ms, e0, e1) != cudaSuccess) {
                (void)cudaGetLastError();
                if (st != IMBAL_OK) skip(c);
                continue;
            }
            cand[c].ms = ms / kSearchRuns;
            if (best < 0 || cand[c].ms < cand[best].ms) best = c;
        }
    }
    if (e0) (void)cudaEventDestroy(e0);
    if (e1) (void)cudaEventDestroy(e1);
    if (ws) (void)cudaFree(ws);
    (void)cudaGetLastError();
    free(message0);
    return best < 0 ? 0 : best;
}

/* Builds the execution plan for one direction at batch n and the given alignments. */
imbal_status build_plan(imbal_ctx *ctx, const imbal_conv_plan *cp, cudnnHandle_t h, int dir, int n,
                        const int64_t align[3], void *const ptrs[3], CachedPlan *out) {
    const imbal_conv2d_shape *s = &cp->shape;
    int p, q;
    imbal_conv2d_out_hw(s, &p, &q);
    const int bf16 = cp->dtype == IMBAL_BF16;
    const cudnnDataType_t dt = bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    const int64_t xd[4] = {n, s->c, s->h, s->w}, wd[4] = {s->k, s->c, s->r, s->s},
                  yd[4] = {n, s->k, p, q};
    Desc x, w, y, conv, op, graph;
    imbal_status st;
    if ((st = make_tensor(ctx, x, kUidX, dt, xd, align[0])) != IMBAL_OK) return st;
    if ((st = make_tensor(ctx, w, kUidW, dt, wd, align[1])) != IMBAL_OK) return st;
    if ((st = make_tensor(ctx, y, kUidY, dt, yd, align[2])) != IMBAL_OK) return st;
    if ((st = make_conv_desc(ctx, conv, s)) != IMBAL_OK) return st;
    if ((st = make_op(ctx, op, dir, conv, x, w, y)) != IMBAL_OK) return st;
    DNN_TRY(ctx, cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &graph.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(graph.d, CUDNN_ATTR_OPERATIONGRAPH_OPS,
                                          CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &op.d));
    DNN_TRY(ctx, cudnnBackendSetAttribute(graph.d, kAttrOpGraphHandle, CUDNN_TYPE_HANDLE, 1, &h));
    DNN_TRY(ctx, cudnnBackendFinalize(graph.d));

    /* Candidates: mode A's list, then FALLBACK's. A heuristics mode that fails (FALLBACK may not
     * cover every graph) just contributes nothing; only an empty union is an error. */
    cudnnBackendDescriptor_t *lists[2] = {NULL, NULL};
    int64_t counts[2] = {0, 0};
    const cudnnBackendHeurMode_t modes[2] = {CUDNN_HEUR_MODE_A, CUDNN_HEUR_MODE_FALLBACK};
    for (int m = 0; m < 2; m++) {
        st = heuristic_configs(ctx, graph, modes[m], &lists[m], &counts[m]);
        if (st == IMBAL_ERR_OUT_OF_MEMORY) {
            free_configs(lists[0], counts[0]);
            return st;
        }
    }
    /* The first configs of the best numerics class that finalize: one, or with the plan's
     * search on up to kSearchMax, timed below. */
    Candidate cand[kSearchMax];
    int ncand = 0, chosen_class = -1;
    const int want = cp->search ? kSearchMax : 1;
    for (int cls = 0; cls <= 2 && ncand == 0; cls++) {
        for (int m = 0; m < 2 && ncand < want; m++) {
            for (int64_t i = 0; i < counts[m] && ncand < want; i++) {
                int64_t engine = -1;
                if (config_class(lists[m][i], !bf16 && !cp->tf32, &engine) != cls) continue;
                Candidate *c = &cand[ncand];
                if (try_plan(h, lists[m][i], &c->plan, &c->workspace)) {
                    c->cfg = lists[m][i]; /* kept with the plan, not freed below */
                    c->engine = engine;
                    c->ms = -1.0f;
                    lists[m][i] = NULL;
                    ncand++;
                    chosen_class = cls;
                }
            }
        }
    }
    free_configs(lists[0], counts[0]);
    free_configs(lists[1], counts[1]);
    const int found = ncand > 0;
    const int best = ncand > 1 ? fastest_candidate(ctx, h, cand, ncand, ptrs) : 0;
    for (int c = 0; c < ncand; c++) {
        if (c == best) continue;
        (void)cudnnBackendDestroyDescriptor(cand[c].plan);
        (void)cudnnBackendDestroyDescriptor(cand[c].cfg);
    }
    if (!found)
        return imbal_fail(
            ctx, IMBAL_ERR_UNSUPPORTED,
            "conv2d %s (n %d, c %d, %dx%d, k %d, kernel %dx%d, stride %d, pad %d, %s): "
            "no cuDNN engine config finalizes into an execution plan "
            "(%lld from heuristics mode A, %lld from FALLBACK)",
            kDirName[dir], n, s->c, s->h, s->w, s->k, s->r, s->s, s->stride, s->pad,
            bf16 ? "bf16" : "f32", (long long)counts[0], (long long)counts[1]);
    out->plan = cand[best].plan;
    out->workspace = cand[best].workspace;
    out->keep[6] = cand[best].cfg;
    const int64_t chosen_engine = cand[best].engine;
    if (chosen_class > 0)
        imbal_log(ctx, IMBAL_LOG_WARN,
                  "conv2d %s (n %d, c %d, %dx%d, k %d): no %s cuDNN engine; using one with %s",
                  kDirName[dir], n, s->c, s->h, s->w, s->k,
                  chosen_class == 1 ? "full-f32" : "deterministic",
                  chosen_class == 1 ? "tensor-core (TF32), FFT or Winograd numerics"
                                    : "nondeterministic numerics");
    imbal_log(ctx, IMBAL_LOG_DEBUG,
              "conv2d %s (n %d, c %d, %dx%d, k %d, %s): cuDNN engine %lld, workspace %lld bytes, "
              "%.4f ms (timed among %d; -1: not timed)",
              kDirName[dir], n, s->c, s->h, s->w, s->k, bf16 ? "bf16" : "f32",
              (long long)chosen_engine, (long long)out->workspace, (double)cand[best].ms, ncand);
    out->keep[0] = x.release();
    out->keep[1] = w.release();
    out->keep[2] = y.release();
    out->keep[3] = conv.release();
    out->keep[4] = op.release();
    out->keep[5] = graph.release();
    out->dir = dir;
    out->n = n;
    out->clear_ws = dir == kBwdData && (s->stride > s->r || s->stride > s->s);
    memcpy(out->align, align, sizeof out->align);
    return IMBAL_OK;
}

/* The cached plan for (dir, n, align), built on first use; grows the shared workspace. */
imbal_status get_plan(imbal_ctx *ctx, imbal_conv_plan *cp, cudnnHandle_t h, int dir, int n,
                      const int64_t align[3], void *const ptrs[3], CachedPlan **out) {
    ConvCuda *cc = (ConvCuda *)cp->cuda;
    for (int i = 0; i < cc->count; i++) {
        CachedPlan *c = &cc->plans[i];
        if (c->dir == dir && c->n == n && c->align[0] == align[0] && c->align[1] == align[1] &&
            c->align[2] == align[2]) {
            *out = c;
            return IMBAL_OK;
        }
    }
    if (cc->count == cc->cap) {
        int cap = cc->cap ? 2 * cc->cap : 8;
        CachedPlan *np = (CachedPlan *)imbal_xrealloc(ctx, cc->plans, (size_t)cap, sizeof *np,
                                                      "cuDNN plan cache");
        if (!np) return IMBAL_ERR_OUT_OF_MEMORY;
        cc->plans = np;
        cc->cap = cap;
    }
    CachedPlan fresh;
    memset(&fresh, 0, sizeof fresh);
    imbal_status st = build_plan(ctx, cp, h, dir, n, align, ptrs, &fresh);
    if (st != IMBAL_OK) return st;
    if ((size_t)fresh.workspace > cc->ws_bytes) {
        /* The old buffer may still be read by work queued on the default stream; cudaFree
         * synchronises the device before releasing it, so that is safe. */
        if (cc->ws) {
            cudaError_t fe = cudaFree(cc->ws);
            if (fe != cudaSuccess) {
                (void)cudaGetLastError();
                cached_plan_free(&fresh);
                return imbal_fail(ctx, IMBAL_ERR_CUDA, "conv2d %s: cudaFree of the workspace: %s",
                                  kDirName[dir], cudaGetErrorString(fe));
            }
        }
        cc->ws = NULL;
        cc->ws_bytes = 0;
        cudaError_t e = cudaMalloc(&cc->ws, (size_t)fresh.workspace);
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            cc->ws = NULL;
            cached_plan_free(&fresh);
            return imbal_fail(ctx,
                              e == cudaErrorMemoryAllocation ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY
                                                             : IMBAL_ERR_CUDA,
                              "conv2d %s workspace of %lld bytes: cudaMalloc failed: %s",
                              kDirName[dir], (long long)fresh.workspace, cudaGetErrorString(e));
        }
        cc->ws_bytes = (size_t)fresh.workspace;
    }
    cc->plans[cc->count] = fresh;
    *out = &cc->plans[cc->count++];
    return IMBAL_OK;
}

imbal_status execute(imbal_ctx *ctx, cudnnHandle_t h, CachedPlan *cpl, void *ws,
                     void *const ptrs[3]) {
    if (cpl->clear_ws && cpl->workspace > 0)
        IMBAL_CUDA_TRY(ctx, cudaMemsetAsync(ws, 0, (size_t)cpl->workspace, 0));
    return execute_plan(ctx, h, cpl->plan, ws, ptrs);
}

__global__ void widen_bf16(const __nv_bfloat16 *__restrict__ src, float *__restrict__ dst,
                           int64_t n) {
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        dst[i] = __bfloat162float(src[i]);
}

/* One call: the batch comes from the activation tensor's first extent. */
imbal_status run_dir(imbal_ctx *ctx, imbal_conv_plan *cp, int dir, int n, void *px, void *pw,
                     void *py) {
    ConvCuda *cc = (ConvCuda *)cp->cuda;
    if (!cc)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "conv2d %s: the plan has no CUDA state",
                          kDirName[dir]);
    if (n < 1 || n > cp->shape.n)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "conv2d %s: batch %d outside the plan's 1..%d", kDirName[dir], n,
                          cp->shape.n);
    void *hv = NULL;
    imbal_status st = imbal_cuda_cudnn(ctx, cc->device, &hv); /* also cudaSetDevice */
    if (st != IMBAL_OK) return st;
    cudnnHandle_t h = (cudnnHandle_t)hv;
    const int64_t elem = cp->dtype == IMBAL_BF16 ? 2 : 4;
    void *pw_eff = pw;
    const int widen = dir == kBwdFilter && cp->dtype == IMBAL_BF16;
    const int64_t wn = (int64_t)cp->shape.k * cp->shape.c * cp->shape.r * cp->shape.s;
    if (widen) {
        if (!cc->dw_tmp) {
            cudaError_t e = cudaMalloc(&cc->dw_tmp, (size_t)wn * 2);
            if (e != cudaSuccess) {
                (void)cudaGetLastError();
                cc->dw_tmp = NULL;
                return imbal_fail(ctx,
                                  e == cudaErrorMemoryAllocation ? IMBAL_ERR_DEVICE_OUT_OF_MEMORY
                                                                 : IMBAL_ERR_CUDA,
                                  "conv2d backward-filter: bf16 dw scratch of %lld bytes: %s",
                                  (long long)(wn * 2), cudaGetErrorString(e));
            }
        }
        pw_eff = cc->dw_tmp;
    }
    const int64_t align[3] = {ptr_alignment(px, elem), ptr_alignment(pw_eff, elem),
                              ptr_alignment(py, elem)};
    CachedPlan *cpl = NULL;
    void *const ptrs[3] = {px, pw_eff, py};
    if ((st = get_plan(ctx, cp, h, dir, n, align, ptrs, &cpl)) != IMBAL_OK) return st;
    if ((st = execute(ctx, h, cpl, cc->ws, ptrs)) != IMBAL_OK) return st;
    if (widen) {
        int blocks = (int)((wn + 255) / 256);
        if (blocks > 1024) blocks = 1024;
        widen_bf16<<<blocks, 256>>>((const __nv_bfloat16 *)cc->dw_tmp, (float *)pw, wn);
        IMBAL_CUDA_TRY(ctx, cudaGetLastError());
    }
    return IMBAL_OK;
}

} // namespace

extern "C" imbal_status imbal_nn_cuda_conv_check_descriptors(imbal_ctx *ctx,
                                                             const imbal_conv2d_shape *shape,
                                                             imbal_dtype dtype) {
    if (dtype != IMBAL_F32 && dtype != IMBAL_BF16)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "conv descriptors: dtype %s (f32 or bf16)",
                          imbal_dtype_name(dtype));
    int p, q;
    imbal_conv2d_out_hw(shape, &p, &q);
    const cudnnDataType_t dt = dtype == IMBAL_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    const int64_t elem = dtype == IMBAL_BF16 ? 2 : 4;
    const int64_t xd[4] = {shape->n, shape->c, shape->h, shape->w},
                  wd[4] = {shape->k, shape->c, shape->r, shape->s},
                  yd[4] = {shape->n, shape->k, p, q};
    for (int dir = 0; dir < 3; dir++) {
        Desc x, w, y, conv, op, graph;
        imbal_status st;
        if ((st = make_tensor(ctx, x, kUidX, dt, xd, 16)) != IMBAL_OK) return st;
        if ((st = make_tensor(ctx, w, kUidW, dt, wd, elem)) != IMBAL_OK) return st;
        if ((st = make_tensor(ctx, y, kUidY, dt, yd, 16)) != IMBAL_OK) return st;
        if ((st = make_conv_desc(ctx, conv, shape)) != IMBAL_OK) return st;
        if ((st = make_op(ctx, op, dir, conv, x, w, y)) != IMBAL_OK) return st;
        DNN_TRY(ctx,
                cudnnBackendCreateDescriptor(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &graph.d));
        DNN_TRY(ctx, cudnnBackendSetAttribute(graph.d, CUDNN_ATTR_OPERATIONGRAPH_OPS,
                                              CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &op.d));
        DNN_TRY(ctx, cudnnBackendFinalize(graph.d));
    }
    return IMBAL_OK;
}

extern "C" imbal_status imbal_nn_cuda_conv_plan_create(imbal_ctx *ctx, imbal_conv_plan *plan) {
    if (plan->dtype != IMBAL_F32 && plan->dtype != IMBAL_BF16)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED, "conv plan: dtype %s on CUDA (f32 or bf16)",
                          imbal_dtype_name(plan->dtype));
    ConvCuda *cc = (ConvCuda *)imbal_xcalloc(ctx, 1, sizeof *cc, "CUDA conv plan");
    if (!cc) return IMBAL_ERR_OUT_OF_MEMORY;
    cc->device = plan->device.index;
    plan->cuda = cc;
    /* Binding the cuDNN handle now surfaces a missing device or library at create time; the
     * execution plans themselves are built on first use, per batch. */
    void *h = NULL;
    imbal_status st = imbal_cuda_cudnn(ctx, cc->device, &h);
    if (st != IMBAL_OK) {
        imbal_nn_cuda_conv_plan_destroy(plan);
        return st;
    }
    return IMBAL_OK;
}

extern "C" void imbal_nn_cuda_conv_plan_destroy(imbal_conv_plan *plan) {
    if (!plan || !plan->cuda) return;
    ConvCuda *cc = (ConvCuda *)plan->cuda;
    (void)cudaSetDevice(cc->device);
    for (int i = 0; i < cc->count; i++)
        cached_plan_free(&cc->plans[i]);
    free(cc->plans);
    if (cc->ws) (void)cudaFree(cc->ws);
    if (cc->dw_tmp) (void)cudaFree(cc->dw_tmp);
    free(cc);
    plan->cuda = NULL;
}

extern "C" imbal_status imbal_nn_cuda_conv_forward(imbal_ctx *ctx, imbal_conv_plan *plan,
                                                   const imbal_tensor *x, const imbal_tensor *w,
                                                   imbal_tensor *y) {
    return run_dir(ctx, plan, kFwd, (int)x->shape[0], x->data, w->data, y->data);
}

extern "C" imbal_status imbal_nn_cuda_conv_backward_data(imbal_ctx *ctx, imbal_conv_plan *plan,
                                                         const imbal_tensor *dy,
                                                         const imbal_tensor *w, imbal_tensor *dx) {
    return run_dir(ctx, plan, kBwdData, (int)dx->shape[0], dx->data, w->data, dy->data);
}

extern "C" imbal_status imbal_nn_cuda_conv_backward_filter(imbal_ctx *ctx, imbal_conv_plan *plan,
                                                           const imbal_tensor *x,
                                                           const imbal_tensor *dy,
                                                           imbal_tensor *dw) {
    return run_dir(ctx, plan, kBwdFilter, (int)x->shape[0], x->data, dw->data, dy->data);
}
