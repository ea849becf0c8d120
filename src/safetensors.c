/* imbal: writing safetensors files (imbal/safetensors.h, docs/checkpoints.md): the JSON header
 * is built in memory (metadata first, then the tensors in the caller's order with contiguous
 * data_offsets), padded with spaces to a multiple of 8 bytes, and written with the tensor bytes
 * through src/atomic_file.h (temporary name, fsync, rename). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "imbal/safetensors.h"
#include "internal.h"
#include "safetensors_internal.h"

/* Tensor bytes are written as they lie in memory; the format is little-endian. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "imbal's safetensors code assumes a little-endian host"
#endif

typedef struct hbuf {
    char *data;
    size_t len, cap;
    int oom;
} hbuf;

static void put(hbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(hbuf *b, const char *s) {
    put(b, s, strlen(s));
}

/* A JSON string: quotes, backslashes and control characters escaped; other UTF-8 bytes as is. */
static void put_json_string(hbuf *b, const char *s) {
    put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(b, esc, 2);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            put(b, esc, 6);
        } else {
            put(b, (const char *)p, 1);
        }
    }
    put(b, "\"", 1);
}

static void put_int(hbuf *b, int64_t v) {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    puts_(b, num);
}

/* 1 if s is valid UTF-8 (RFC 3629), which the header must be. */
static int utf8_ok(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (!n) return 0;
        uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
        for (size_t i = 1; i < n; ++i) {
            if ((p[i] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        p += n;
    }
    return 1;
}

static imbal_status check_args(imbal_ctx *ctx, const char *path, int count,
                               const char *const *names, const imbal_tensor *const *tensors,
                               int n_meta, const char *const *keys, const char *const *values) {
    static const char fn[] = "imbal_safetensors_write";
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s: path is empty", fn);
    if (count < 0 || (count > 0 && (!names || !tensors)))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s '%s': count = %d needs names and tensors", fn, path, count);
    if (n_meta < 0 || (n_meta > 0 && (!keys || !values)))
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "%s '%s': n_meta = %d needs meta_keys and meta_values", fn, path, n_meta);
    for (int i = 0; i < count; ++i) {
        const char *n = names[i];
        const imbal_tensor *t = tensors[i];
        if (!n || !*n)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s '%s': names[%d] is empty", fn,
                              path, i);
        if (strcmp(n, "__metadata__") == 0)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': names[%d] '__metadata__' is reserved", fn, path, i);
        if (!utf8_ok(n))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': names[%d] is not valid UTF-8", fn, path, i);
        for (int j = 0; j < i; ++j)
            if (strcmp(names[j], n) == 0)
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "%s '%s': tensor name '%s' is given twice (names[%d] and "
                                  "names[%d])",
                                  fn, path, n, j, i);
        if (!t)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s '%s': tensor '%s' is NULL", fn,
                              path, n);
        if (t->device.kind != IMBAL_DEVICE_CPU)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': tensor '%s' is on cuda:%d; copy it to the CPU first", fn,
                              path, n, t->device.index);
        if (!imbal_st_dtype_code(t->dtype))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': tensor '%s' has an unknown dtype %d", fn, path, n,
                              (int)t->dtype);
        if (t->ndim < 0 || t->ndim > IMBAL_MAX_DIMS)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s '%s': tensor '%s' has ndim %d",
                              fn, path, n, t->ndim);
        for (int d = 0; d < t->ndim; ++d)
            if (t->shape[d] < 0)
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "%s '%s': tensor '%s' has a negative extent %lld in dim %d", fn,
                                  path, n, (long long)t->shape[d], d);
        if (imbal_tensor_nbytes(t) > 0 && !t->data)
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "%s '%s': tensor '%s' has no data",
                              fn, path, n);
    }
    for (int i = 0; i < n_meta; ++i) {
        if (!keys[i] || !values[i])
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': meta_keys[%d] or meta_values[%d] is NULL", fn, path, i, i);
        if (!utf8_ok(keys[i]) || !utf8_ok(values[i]))
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "%s '%s': metadata '%s' is not valid UTF-8", fn, path, keys[i]);
        for (int j = 0; j < i; ++j)
            if (strcmp(keys[j], keys[i]) == 0)
                return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                                  "%s '%s': metadata key '%s' is given twice", fn, path, keys[i]);
    }
    return IMBAL_OK;
}

static void build_header(hbuf *b, int count, const char *const *names,
                         const imbal_tensor *const *tensors, int n_meta, const char *const *keys,
                         const char *const *values) {
    int first = 1;
    puts_(b, "{");
    if (n_meta > 0) {
        puts_(b, "\"__metadata__\":{");
        for (int i = 0; i < n_meta; ++i) {
            if (i) puts_(b, ",");
            put_json_string(b, keys[i]);
            puts_(b, ":");
            put_json_string(b, values[i]);
        }
        puts_(b, "}");
        first = 0;
    }
    int64_t offset = 0;
    for (int i = 0; i < count; ++i) {
        const imbal_tensor *t = tensors[i];
        int64_t bytes = (int64_t)imbal_tensor_nbytes(t);
        if (!first) puts_(b, ",");
        first = 0;
        put_json_string(b, names[i]);
        puts_(b, ":{\"dtype\":\"");
        puts_(b, imbal_st_dtype_code(t->dtype));
        puts_(b, "\",\"shape\":[");
        for (int d = 0; d < t->ndim; ++d) {
            if (d) puts_(b, ",");
            put_int(b, t->shape[d]);
        }
        puts_(b, "],\"data_offsets\":[");
        put_int(b, offset);
        puts_(b, ",");
        put_int(b, offset + bytes);
        puts_(b, "]}");
        offset += bytes;
    }
    puts_(b, "}");
    /* The tensor data then starts 8-byte aligned, as the reference writer does. */
    while (b->len % 8)
        puts_(b, " ");
}

imbal_status imbal_safetensors_write(imbal_ctx *ctx, const char *path, int count,
                                     const char *const *names, const imbal_tensor *const *tensors,
                                     int n_meta, const char *const *meta_keys,
                                     const char *const *meta_values) {
    imbal_status st = check_args(ctx, path, count, names, tensors, n_meta, meta_keys, meta_values);
    if (st != IMBAL_OK) return st;
    hbuf b = {0};
    build_header(&b, count, names, tensors, n_meta, meta_keys, meta_values);
    if (b.oom) {
        free(b.data);
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY,
                          "safetensors '%s': out of memory building the header", path);
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; ++i)
        len8[i] = (unsigned char)((uint64_t)b.len >> (8 * i));
    imbal_atomic_file f;
    st = imbal_atomic_open(ctx, &f, path);
    if (st != IMBAL_OK) {
        free(b.data);
        return st;
    }
    /* A short write sets the stream's error flag; commit reports it with the file's name and
     * removes the temporary file, leaving any old file untouched. */
    int ok = fwrite(len8, 1, 8, f.fp) == 8 && fwrite(b.data, 1, b.len, f.fp) == b.len;
    for (int i = 0; ok && i < count; ++i) {
        size_t bytes = imbal_tensor_nbytes(tensors[i]);
        if (bytes) ok = fwrite(tensors[i]->data, 1, bytes, f.fp) == bytes;
    }
    free(b.data);
    return imbal_atomic_commit(ctx, &f);
}
