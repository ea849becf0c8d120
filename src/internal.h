/* imbal: helpers shared by the library's translation units; not installed. */
#ifndef IMBAL_INTERNAL_H
#define IMBAL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define IMBAL_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define IMBAL_PRINTF(fmt_index, first_arg)
#endif

/* Records status and message on ctx (or on the thread's own slot when ctx is NULL) and returns
 * status, so call sites read `return imbal_fail(ctx, IMBAL_ERR_DATA, "class '%s' is empty", n);`.
 * Messages should name the file, row, argument or value at fault. */
imbal_status imbal_fail(imbal_ctx *ctx, imbal_status status, const char *fmt, ...)
    IMBAL_PRINTF(3, 4);

/* Puts back a status and message saved from imbal_ctx_last_status / imbal_ctx_error, without
 * logging: for work whose failures the caller handles and hides (a failed candidate of the conv
 * engine search is skipped, and the search succeeds), so the context keeps saying what it said
 * before. */
void imbal_ctx_restore_error(imbal_ctx *ctx, imbal_status status, const char *message);

/* Logs through the context's callback, if any and if level passes its filter. */
void imbal_log(imbal_ctx *ctx, imbal_log_level level, const char *fmt, ...) IMBAL_PRINTF(3, 4);

/* Allocation helpers that report IMBAL_ERR_OUT_OF_MEMORY on ctx with `what` and the byte count.
 * count * size overflow is caught. Return NULL on failure. */
void *imbal_xmalloc(imbal_ctx *ctx, size_t count, size_t size, const char *what);
void *imbal_xcalloc(imbal_ctx *ctx, size_t count, size_t size, const char *what);
void *imbal_xrealloc(imbal_ctx *ctx, void *ptr, size_t count, size_t size, const char *what);
char *imbal_xstrdup(imbal_ctx *ctx, const char *s);

/* The context's OpenMP thread count (0 = default), for `num_threads` clauses. */
int imbal_ctx_omp_threads(const imbal_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
