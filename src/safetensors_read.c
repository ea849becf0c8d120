/* imbal: reading safetensors files (imbal/safetensors.h, docs/checkpoints.md). The header is
 * parsed with the strict JSON parser (src/json_parse.h) and validated as the reference
 * implementation (huggingface/safetensors, Metadata::validate) does: the spans, sorted by offset,
 * tile the data exactly (no overlap, gap or trailing byte), and each span's length equals its
 * shape's product times the dtype's size. The data section lives in its own allocation so it is
 * 16-byte aligned; a tensor whose offset is not a multiple of its element size (possible in files
 * that mix sizes) gets an aligned copy, so every view can be read as its C type. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imbal/safetensors.h"
#include "input_file.h"
#include "internal.h"
#include "json_parse.h"
#include "safetensors_internal.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "imbal's safetensors code assumes a little-endian host"
#endif

/* The reference implementation's limit (MAX_HEADER_SIZE): refuse absurd lengths before
 * allocating. */
#define ST_MAX_HEADER 100000000u

typedef struct st_entry {
    char *name;
    imbal_dtype dtype;
    int ndim;
    int64_t shape[IMBAL_MAX_DIMS];
    uint64_t begin, end;
    void *copy; /* an aligned copy when data + begin is misaligned, else NULL */
} st_entry;

struct imbal_safetensors {
    char *path;
    unsigned char *data; /* the data section */
    uint64_t data_size;
    int count;
    st_entry *entries; /* in data order */
    int n_meta;
    char **meta_keys, **meta_values;
};

void imbal_safetensors_close(imbal_safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->count; ++i) {
        free(st->entries[i].name);
        free(st->entries[i].copy);
    }
    for (int i = 0; i < st->n_meta; ++i) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->entries);
    free(st->meta_keys);
    free(st->meta_values);
    free(st->data);
    free(st->path);
    free(st);
}

static imbal_status bad(imbal_ctx *ctx, const imbal_safetensors *st, const char *name,
                        const char *what) {
    if (name)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "safetensors '%s': tensor '%s': %s", st->path,
                          name, what);
    return imbal_fail(ctx, IMBAL_ERR_FORMAT, "safetensors '%s': %s", st->path, what);
}

/* A non-negative integer array element. */
static int as_u64(const json_value *v, uint64_t *out) {
    if (v->type != JSON_INT || v->integer < 0) return 0;
    *out = (uint64_t)v->integer;
    return 1;
}

static imbal_status parse_metadata(imbal_ctx *ctx, imbal_safetensors *st, const json_value *m) {
    if (m->type == JSON_NULL) return IMBAL_OK;
    if (m->type != JSON_OBJECT)
        return bad(ctx, st, NULL, "__metadata__ is not an object of strings");
    st->meta_keys = imbal_xcalloc(ctx, m->count + 1, sizeof(char *), "safetensors metadata");
    st->meta_values = imbal_xcalloc(ctx, m->count + 1, sizeof(char *), "safetensors metadata");
    if (!st->meta_keys || !st->meta_values) return IMBAL_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < m->count; ++i) {
        if (m->items[i].type != JSON_STRING)
            return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                              "safetensors '%s': metadata '%s' is a %s, not a string", st->path,
                              m->keys[i], json_type_name(m->items[i].type));
        st->meta_keys[st->n_meta] = imbal_xstrdup(ctx, m->keys[i]);
        st->meta_values[st->n_meta] = imbal_xstrdup(ctx, m->items[i].string);
        ++st->n_meta;
        if (!st->meta_keys[st->n_meta - 1] || !st->meta_values[st->n_meta - 1])
            return IMBAL_ERR_OUT_OF_MEMORY;
    }
    return IMBAL_OK;
}

static imbal_status parse_entry(imbal_ctx *ctx, imbal_safetensors *st, const char *name,
                                const json_value *v, st_entry *e) {
    char why[160];
    if (v->type != JSON_OBJECT) {
        snprintf(why, sizeof why, "is a %s, not an object", json_type_name(v->type));
        return bad(ctx, st, name, why);
    }
    const json_value *dt = json_object_find(v, "dtype");
    const json_value *shape = json_object_find(v, "shape");
    const json_value *offs = json_object_find(v, "data_offsets");
    if (!dt || dt->type != JSON_STRING)
        return bad(ctx, st, name, "\"dtype\" is missing or not a string");
    if (!shape || shape->type != JSON_ARRAY)
        return bad(ctx, st, name, "\"shape\" is missing or not an array");
    if (!offs || offs->type != JSON_ARRAY || offs->count != 2 ||
        !as_u64(&offs->items[0], &e->begin) || !as_u64(&offs->items[1], &e->end))
        return bad(ctx, st, name, "\"data_offsets\" is not an array of two non-negative integers");
    if (!imbal_st_dtype_from_code(dt->string, &e->dtype)) {
        if (imbal_st_dtype_known_unsupported(dt->string))
            return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                              "safetensors '%s': tensor '%s': dtype %s is not supported (imbal "
                              "reads F32, F16, BF16, U8, I32, I64)",
                              st->path, name, dt->string);
        snprintf(why, sizeof why, "unknown dtype '%.64s'", dt->string);
        return bad(ctx, st, name, why);
    }
    if (shape->count > IMBAL_MAX_DIMS)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                          "safetensors '%s': tensor '%s': %zu dimensions (at most %d)", st->path,
                          name, shape->count, IMBAL_MAX_DIMS);
    e->ndim = (int)shape->count;
    uint64_t bytes = imbal_dtype_size(e->dtype);
    for (int d = 0; d < e->ndim; ++d) {
        uint64_t x;
        if (!as_u64(&shape->items[d], &x) || x > (uint64_t)INT64_MAX)
            return bad(ctx, st, name,
                       "\"shape\" holds something other than a non-negative integer");
        e->shape[d] = (int64_t)x;
        if (x && bytes > UINT64_MAX / x) return bad(ctx, st, name, "shape's byte count overflows");
        bytes *= x;
    }
    if (e->begin > e->end) {
        snprintf(why, sizeof why, "data_offsets [%llu, %llu] are reversed",
                 (unsigned long long)e->begin, (unsigned long long)e->end);
        return bad(ctx, st, name, why);
    }
    if (e->end > st->data_size) {
        snprintf(why, sizeof why,
                 "data_offsets [%llu, %llu] end beyond the data (%llu bytes; file truncated?)",
                 (unsigned long long)e->begin, (unsigned long long)e->end,
                 (unsigned long long)st->data_size);
        return bad(ctx, st, name, why);
    }
    if (e->end - e->begin != bytes) {
        snprintf(why, sizeof why,
                 "shape and dtype %s need %llu bytes but data_offsets [%llu, %llu] span %llu",
                 dt->string, (unsigned long long)bytes, (unsigned long long)e->begin,
                 (unsigned long long)e->end, (unsigned long long)(e->end - e->begin));
        return bad(ctx, st, name, why);
    }
    e->name = imbal_xstrdup(ctx, name);
    return e->name ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
}

static int by_offset(const void *a, const void *b) {
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The sorted spans must tile [0, data_size). */
static imbal_status check_tiling(imbal_ctx *ctx, imbal_safetensors *st) {
    char why[200];
    uint64_t at = 0;
    for (int i = 0; i < st->count; ++i) {
        const st_entry *e = &st->entries[i];
        if (e->begin < at) {
            snprintf(why, sizeof why, "data_offsets [%llu, %llu] overlap tensor '%.64s'",
                     (unsigned long long)e->begin, (unsigned long long)e->end,
                     st->entries[i - 1].name);
            return bad(ctx, st, e->name, why);
        }
        if (e->begin > at) {
            snprintf(why, sizeof why, "data bytes [%llu, %llu) before it belong to no tensor",
                     (unsigned long long)at, (unsigned long long)e->begin);
            return bad(ctx, st, e->name, why);
        }
        at = e->end;
    }
    if (at != st->data_size) {
        snprintf(why, sizeof why,
                 "%llu trailing bytes after the last tensor's data (data section [%llu, %llu))",
                 (unsigned long long)(st->data_size - at), (unsigned long long)at,
                 (unsigned long long)st->data_size);
        return bad(ctx, st, NULL, why);
    }
    return IMBAL_OK;
}

static imbal_status parse_header(imbal_ctx *ctx, imbal_safetensors *st, const char *text,
                                 uint64_t len) {
    if (len == 0 || text[0] != '{') return bad(ctx, st, NULL, "the header does not start with '{'");
    json_value root;
    char err[160];
    json_result jr = json_parse(text, (size_t)len, &root, err, sizeof err);
    if (jr == JSON_NOMEM)
        return imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "safetensors '%s': header: out of memory",
                          st->path);
    if (jr != JSON_OK)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "safetensors '%s': header JSON, %s", st->path,
                          err);
    imbal_status s = IMBAL_OK;
    st->entries = imbal_xcalloc(ctx, root.count + 1, sizeof(st_entry), "safetensors entries");
    if (!st->entries) s = IMBAL_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; s == IMBAL_OK && i < root.count; ++i) {
        const char *key = root.keys[i];
        if (strlen(key) != root.key_lens[i]) {
            s = bad(ctx, st, NULL, "a tensor name contains \\u0000");
        } else if (strcmp(key, "__metadata__") == 0) {
            s = parse_metadata(ctx, st, &root.items[i]);
        } else {
            s = parse_entry(ctx, st, key, &root.items[i], &st->entries[st->count]);
            if (st->entries[st->count].name) ++st->count;
        }
    }
    json_value_free(&root);
    if (s != IMBAL_OK) return s;
    qsort(st->entries, (size_t)st->count, sizeof(st_entry), by_offset);
    return check_tiling(ctx, st);
}

/* Aligned copies for tensors whose offset is not a multiple of their element size. */
static imbal_status align_entries(imbal_ctx *ctx, imbal_safetensors *st) {
    for (int i = 0; i < st->count; ++i) {
        st_entry *e = &st->entries[i];
        size_t bytes = (size_t)(e->end - e->begin);
        if (bytes == 0 || e->begin % imbal_dtype_size(e->dtype) == 0) continue;
        e->copy = imbal_xmalloc(ctx, bytes, 1, "safetensors aligned tensor copy");
        if (!e->copy) return IMBAL_ERR_OUT_OF_MEMORY;
        memcpy(e->copy, st->data + e->begin, bytes);
    }
    return IMBAL_OK;
}

static imbal_status read_file(imbal_ctx *ctx, imbal_safetensors *st, FILE *fp) {
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0)
        return imbal_fail(ctx, IMBAL_ERR_IO, "safetensors '%s': cannot stat: %s", st->path,
                          strerror(errno));
    uint64_t size = (uint64_t)sb.st_size;
    if (size < 8)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "safetensors '%s': %llu bytes, shorter than the 8-byte header length",
                          st->path, (unsigned long long)size);
    unsigned char len8[8];
    if (fread(len8, 1, 8, fp) != 8)
        return imbal_fail(ctx, IMBAL_ERR_IO, "safetensors '%s': cannot read the header length",
                          st->path);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; --i)
        hlen = (hlen << 8) | len8[i];
    if (hlen > ST_MAX_HEADER)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "safetensors '%s': header length %llu exceeds the format's limit of %u "
                          "bytes",
                          st->path, (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > size - 8)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "safetensors '%s': header length %llu goes beyond the file (%llu bytes)",
                          st->path, (unsigned long long)hlen, (unsigned long long)size);
    char *header = imbal_xmalloc(ctx, (size_t)hlen + 1, 1, "safetensors header");
    if (!header) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status s = IMBAL_OK;
    st->data_size = size - 8 - hlen;
    st->data = imbal_xmalloc(ctx, (size_t)st->data_size + 1, 1, "safetensors data");
    if (!st->data) s = IMBAL_ERR_OUT_OF_MEMORY;
    if (s == IMBAL_OK && (fread(header, 1, (size_t)hlen, fp) != hlen ||
                          fread(st->data, 1, (size_t)st->data_size, fp) != st->data_size))
        s = imbal_fail(ctx, IMBAL_ERR_IO, "safetensors '%s': read failed: %s", st->path,
                       ferror(fp) ? strerror(errno) : "the file shrank while reading");
    if (s == IMBAL_OK) {
        header[hlen] = '\0';
        s = parse_header(ctx, st, header, hlen);
    }
    free(header);
    return s == IMBAL_OK ? align_entries(ctx, st) : s;
}

imbal_status imbal_safetensors_open(imbal_ctx *ctx, const char *path, imbal_safetensors **out) {
    if (!out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_safetensors_open: out is NULL");
    *out = NULL;
    if (!path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_safetensors_open: path is NULL");
    FILE *fp = imbal_fopen_input(path);
    if (!fp)
        return imbal_fail(ctx, IMBAL_ERR_IO, "cannot open safetensors '%s': %s", path,
                          strerror(errno));
    imbal_safetensors *st = imbal_xcalloc(ctx, 1, sizeof *st, "safetensors");
    imbal_status s = st ? IMBAL_OK : IMBAL_ERR_OUT_OF_MEMORY;
    if (s == IMBAL_OK) {
        st->path = imbal_xstrdup(ctx, path);
        s = st->path ? read_file(ctx, st, fp) : IMBAL_ERR_OUT_OF_MEMORY;
    }
    fclose(fp);
    if (s != IMBAL_OK) {
        imbal_safetensors_close(st);
        return s;
    }
    *out = st;
    return IMBAL_OK;
}

int imbal_safetensors_count(const imbal_safetensors *st) {
    return st ? st->count : 0;
}

const char *imbal_safetensors_name(const imbal_safetensors *st, int i) {
    return st && i >= 0 && i < st->count ? st->entries[i].name : NULL;
}

imbal_status imbal_safetensors_get(imbal_ctx *ctx, const imbal_safetensors *st, const char *name,
                                   imbal_tensor *view) {
    if (!st || !name || !view)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_safetensors_get: st, name and view must not be NULL");
    for (int i = 0; i < st->count; ++i) {
        const st_entry *e = &st->entries[i];
        if (strcmp(e->name, name) != 0) continue;
        /* An empty tensor points at the (aligned) start of the data: nothing is read there. */
        void *data = e->copy ? e->copy : e->end == e->begin ? st->data : st->data + e->begin;
        *view = imbal_tensor_wrap(data, e->dtype, e->ndim, e->shape, imbal_device_cpu());
        return IMBAL_OK;
    }
    return imbal_fail(ctx, IMBAL_ERR_DATA, "safetensors '%s': no tensor named '%s'", st->path,
                      name);
}

const char *imbal_safetensors_metadata(const imbal_safetensors *st, const char *key) {
    if (!st || !key) return NULL;
    for (int i = 0; i < st->n_meta; ++i)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}
