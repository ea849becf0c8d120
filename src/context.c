/* imbal: the context handle: error message, status, log callback, thread count. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "cuda_internal.h"
#include "internal.h"

#define IMBAL_ERROR_LEN 1024

struct imbal_ctx {
    imbal_status status;
    char error[IMBAL_ERROR_LEN];
    imbal_log_fn log_fn;
    void *log_user;
    imbal_log_level log_level;
    int threads;
    void *cuda_handles; /* cuBLAS/cuDNN handles, made on first use (kernels/cuda_handles.cu) */
};

/* Calls made with no context (imbal_ctx_create failing, helpers given NULL) report here, one slot
 * per thread, like TurboJPEG's tj3GetErrorStr(NULL). */
static _Thread_local imbal_status tls_status;
static _Thread_local char tls_error[IMBAL_ERROR_LEN];

const char *imbal_status_string(imbal_status status) {
    switch (status) {
    case IMBAL_OK:
        return "IMBAL_OK";
    case IMBAL_ERR_INVALID_ARGUMENT:
        return "IMBAL_ERR_INVALID_ARGUMENT";
    case IMBAL_ERR_VERSION:
        return "IMBAL_ERR_VERSION";
    case IMBAL_ERR_OUT_OF_MEMORY:
        return "IMBAL_ERR_OUT_OF_MEMORY";
    case IMBAL_ERR_IO:
        return "IMBAL_ERR_IO";
    case IMBAL_ERR_FORMAT:
        return "IMBAL_ERR_FORMAT";
    case IMBAL_ERR_DATA:
        return "IMBAL_ERR_DATA";
    case IMBAL_ERR_UNSUPPORTED:
        return "IMBAL_ERR_UNSUPPORTED";
    case IMBAL_ERR_NO_DEVICE:
        return "IMBAL_ERR_NO_DEVICE";
    case IMBAL_ERR_CUDA:
        return "IMBAL_ERR_CUDA";
    case IMBAL_ERR_DEVICE_OUT_OF_MEMORY:
        return "IMBAL_ERR_DEVICE_OUT_OF_MEMORY";
    case IMBAL_ERR_INTERNAL:
        return "IMBAL_ERR_INTERNAL";
    }
    return "IMBAL_ERR_UNKNOWN";
}

const char *imbal_version_string(void) {
    return "0.1.0";
}

imbal_status imbal_ctx_create_version(int header_version, imbal_ctx **out) {
    if (!out) return imbal_fail(NULL, IMBAL_ERR_INVALID_ARGUMENT, "imbal_ctx_create: out is NULL");
    *out = NULL;
    if (header_version / 100 != IMBAL_VERSION_NUMBER / 100)
        return imbal_fail(NULL, IMBAL_ERR_VERSION,
                          "imbal_ctx_create: header version %d does not match library version %d",
                          header_version, IMBAL_VERSION_NUMBER);
    imbal_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return imbal_fail(NULL, IMBAL_ERR_OUT_OF_MEMORY, "imbal_ctx_create: out of memory");
    ctx->log_level = IMBAL_LOG_WARN;
    *out = ctx;
    return IMBAL_OK;
}

void imbal_ctx_destroy(imbal_ctx *ctx) {
#ifdef IMBAL_WITH_CUDA
    if (ctx) imbal_cuda_handles_free(ctx->cuda_handles);
#endif
    free(ctx);
}

void **imbal_ctx_cuda_handles_slot(imbal_ctx *ctx) {
    return ctx ? &ctx->cuda_handles : NULL;
}

const char *imbal_ctx_error(const imbal_ctx *ctx) {
    return ctx ? ctx->error : tls_error;
}

imbal_status imbal_ctx_last_status(const imbal_ctx *ctx) {
    return ctx ? ctx->status : tls_status;
}

void imbal_ctx_clear_error(imbal_ctx *ctx) {
    if (ctx) {
        ctx->status = IMBAL_OK;
        ctx->error[0] = '\0';
    } else {
        tls_status = IMBAL_OK;
        tls_error[0] = '\0';
    }
}

void imbal_ctx_set_log(imbal_ctx *ctx, imbal_log_fn fn, void *user, imbal_log_level max_level) {
    if (!ctx) return;
    ctx->log_fn = fn;
    ctx->log_user = user;
    ctx->log_level = max_level;
}

imbal_status imbal_ctx_set_threads(imbal_ctx *ctx, int threads) {
    if (!ctx)
        return imbal_fail(NULL, IMBAL_ERR_INVALID_ARGUMENT, "imbal_ctx_set_threads: ctx is NULL");
    if (threads < 0 || threads > 4096)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_ctx_set_threads: threads must be in 0..4096, got %d", threads);
    ctx->threads = threads;
    return IMBAL_OK;
}

int imbal_ctx_threads(const imbal_ctx *ctx) {
    return ctx ? ctx->threads : 0;
}

int imbal_ctx_omp_threads(const imbal_ctx *ctx) {
    if (ctx && ctx->threads > 0) return ctx->threads;
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

imbal_status imbal_fail(imbal_ctx *ctx, imbal_status status, const char *fmt, ...) {
    char *buf = ctx ? ctx->error : tls_error;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, IMBAL_ERROR_LEN, fmt, ap);
    va_end(ap);
    if (ctx) {
        ctx->status = status;
        if (ctx->log_fn && ctx->log_level >= IMBAL_LOG_DEBUG)
            ctx->log_fn(ctx->log_user, IMBAL_LOG_DEBUG, buf);
    } else {
        tls_status = status;
    }
    return status;
}

void imbal_ctx_restore_error(imbal_ctx *ctx, imbal_status status, const char *message) {
    char *buf = ctx ? ctx->error : tls_error;
    if (message != buf) snprintf(buf, IMBAL_ERROR_LEN, "%s", message ? message : "");
    if (ctx)
        ctx->status = status;
    else
        tls_status = status;
}

void imbal_log(imbal_ctx *ctx, imbal_log_level level, const char *fmt, ...) {
    if (!ctx || !ctx->log_fn || level > ctx->log_level) return;
    char buf[IMBAL_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ctx->log_fn(ctx->log_user, level, buf);
}

/* count * size in bytes, or 0 after reporting an overflow on ctx (a zero-byte request is
 * rounded up to 1 so malloc never returns NULL for it). */
static size_t checked_bytes(imbal_ctx *ctx, size_t count, size_t size, const char *what) {
    if (count != 0 && size > SIZE_MAX / count) {
        imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "%s: %zu x %zu bytes overflows", what, count,
                   size);
        return 0;
    }
    size_t bytes = count * size;
    return bytes ? bytes : 1;
}

static void *out_of_memory(imbal_ctx *ctx, const char *what, size_t bytes) {
    imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", what, bytes);
    return NULL;
}

void *imbal_xmalloc(imbal_ctx *ctx, size_t count, size_t size, const char *what) {
    size_t bytes = checked_bytes(ctx, count, size, what);
    if (!bytes) return NULL;
    void *p = malloc(bytes);
    return p ? p : out_of_memory(ctx, what, bytes);
}

void *imbal_xcalloc(imbal_ctx *ctx, size_t count, size_t size, const char *what) {
    size_t bytes = checked_bytes(ctx, count, size, what);
    if (!bytes) return NULL;
    void *p = calloc(1, bytes);
    return p ? p : out_of_memory(ctx, what, bytes);
}

void *imbal_xrealloc(imbal_ctx *ctx, void *ptr, size_t count, size_t size, const char *what) {
    size_t bytes = checked_bytes(ctx, count, size, what);
    if (!bytes) return NULL;
    void *p = realloc(ptr, bytes);
    return p ? p : out_of_memory(ctx, what, bytes);
}

char *imbal_xstrdup(imbal_ctx *ctx, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = imbal_xmalloc(ctx, n, 1, "string copy");
    if (p) memcpy(p, s, n);
    return p;
}
