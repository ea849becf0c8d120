/* imbal: symbol visibility and host/device qualifiers shared by every public header. */
#ifndef IMBAL_EXPORT_H
#define IMBAL_EXPORT_H

/* The shared library is built with -fvisibility=hidden; only IMBAL_API symbols are exported. */
#if defined(__GNUC__) || defined(__clang__)
#define IMBAL_API __attribute__((visibility("default")))
#else
#define IMBAL_API
#endif

/* IMBAL_HD marks small inline helpers (Philox, half floats) that compile for the host and, under
 * nvcc, for the device too, so CPU and GPU share one definition and one result. */
#if defined(__CUDACC__)
#define IMBAL_HD static inline __host__ __device__
#else
#define IMBAL_HD static inline
#endif

#ifdef __cplusplus
#define IMBAL_EXTERN_C_BEGIN extern "C" {
#define IMBAL_EXTERN_C_END }
#else
#define IMBAL_EXTERN_C_BEGIN
#define IMBAL_EXTERN_C_END
#endif

#endif
