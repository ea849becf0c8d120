/* imbal: status codes, the context handle and its error string.
 *
 * Every fallible library call returns an imbal_status and, on failure, leaves a message in the
 * context it was given (imbal_ctx_error). Codes are grouped by category like cuDNN's:
 * category = code / 1000. The library never prints and never calls exit(); it logs only through a
 * callback the caller installs. A context is not thread-safe: use one per thread. */
#ifndef IMBAL_STATUS_H
#define IMBAL_STATUS_H

#include "export.h"

IMBAL_EXTERN_C_BEGIN

#define IMBAL_VERSION_MAJOR 0
#define IMBAL_VERSION_MINOR 1
#define IMBAL_VERSION_PATCH 0
/* major * 10000 + minor * 100 + patch, as cuDNN's CUDNN_VERSION. */
#define IMBAL_VERSION_NUMBER                                                                       \
    (IMBAL_VERSION_MAJOR * 10000 + IMBAL_VERSION_MINOR * 100 + IMBAL_VERSION_PATCH)

typedef enum imbal_status {
    IMBAL_OK = 0,
    /* 1xxx: the call itself is wrong */
    IMBAL_ERR_INVALID_ARGUMENT = 1000, /* a parameter is out of range or inconsistent */
    IMBAL_ERR_VERSION = 1001,          /* header and library versions differ */
    /* 2xxx: the machine */
    IMBAL_ERR_OUT_OF_MEMORY = 2000, /* host allocation failed */
    IMBAL_ERR_IO = 2001,            /* a file or directory could not be opened, read or written */
    /* 3xxx: the user's data */
    IMBAL_ERR_FORMAT = 3000, /* an input file is malformed (bad CSV row, bad .npy header) */
    IMBAL_ERR_DATA = 3001,   /* well-formed but unusable: empty class, label out of range, NaN */
    /* 4xxx: valid but not supported */
    IMBAL_ERR_UNSUPPORTED = 4000, /* a dtype, format version or option this build cannot do */
    IMBAL_ERR_NO_DEVICE = 4001,   /* CUDA asked for, but not built in or no device answers */
    /* 5xxx: the GPU */
    IMBAL_ERR_CUDA = 5000,             /* a CUDA runtime call failed; the message has CUDA's text */
    IMBAL_ERR_DEVICE_OUT_OF_MEMORY = 5001,
    /* 9xxx */
    IMBAL_ERR_INTERNAL = 9000
} imbal_status;

#define IMBAL_STATUS_CATEGORY(s) ((int)(s) / 1000)

/* A short fixed name for a status, e.g. "IMBAL_ERR_FORMAT". Never NULL. */
IMBAL_API const char *imbal_status_string(imbal_status status);

/* "0.1.0" */
IMBAL_API const char *imbal_version_string(void);

typedef struct imbal_ctx imbal_ctx;

/* Log levels for the optional callback. */
typedef enum imbal_log_level {
    IMBAL_LOG_ERROR = 0,
    IMBAL_LOG_WARN = 1,
    IMBAL_LOG_INFO = 2,
    IMBAL_LOG_DEBUG = 3
} imbal_log_level;

typedef void (*imbal_log_fn)(void *user, imbal_log_level level, const char *message);

/* Creates a context. Use the imbal_ctx_create() macro: it passes the header's version so a
 * mismatched library refuses with IMBAL_ERR_VERSION instead of misbehaving (TurboJPEG's tj3Init).
 * On failure *out is NULL and imbal_ctx_error(NULL) says why. */
IMBAL_API imbal_status imbal_ctx_create_version(int header_version, imbal_ctx **out);
#define imbal_ctx_create(out) imbal_ctx_create_version(IMBAL_VERSION_NUMBER, (out))

/* Frees the context. NULL is a no-op. */
IMBAL_API void imbal_ctx_destroy(imbal_ctx *ctx);

/* The message of the last failure on this context ("" if none). With ctx == NULL: the calling
 * thread's last message for calls that were given no context. The pointer stays valid until the
 * next failing call on the same context. */
IMBAL_API const char *imbal_ctx_error(const imbal_ctx *ctx);

/* The status of the last failure on this context (IMBAL_OK if none). */
IMBAL_API imbal_status imbal_ctx_last_status(const imbal_ctx *ctx);

IMBAL_API void imbal_ctx_clear_error(imbal_ctx *ctx);

/* Installs a log callback (NULL removes it); max_level filters. Without one the library is
 * silent. */
IMBAL_API void imbal_ctx_set_log(imbal_ctx *ctx, imbal_log_fn fn, void *user,
                                 imbal_log_level max_level);

/* Worker threads for CPU ops (OpenMP); 0 means the OpenMP default. Results never depend on it. */
IMBAL_API imbal_status imbal_ctx_set_threads(imbal_ctx *ctx, int threads);
IMBAL_API int imbal_ctx_threads(const imbal_ctx *ctx);

IMBAL_EXTERN_C_END

#endif
