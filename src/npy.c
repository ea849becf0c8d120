/* imbal: NumPy .npy reading and writing (see imbal/npy.h and NumPy's NEP 1,
 * "A simple file format for NumPy arrays"). */
#include "imbal/npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "input_file.h"
#include "internal.h"
#include "tensor_internal.h"

/* The payload is read and written as raw bytes, so the host must be little-endian like the
 * '<' files we produce. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "imbal's .npy code assumes a little-endian host"
#endif

#define NPY_MAGIC     "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_ALIGN     64
/* numpy >= 1.24 pads the shape so it can grow in place (format.GROWTH_AXIS_MAX_DIGITS). */
#define NPY_GROWTH_DIGITS 21
/* A sane header is a few hundred bytes; refuse absurd lengths before allocating. */
#define NPY_MAX_HEADER 1048576u

typedef struct npy_header {
    imbal_dtype dtype;
    int have_descr, have_fortran, have_shape;
    int fortran_order;
    int ndim;
    int64_t shape[IMBAL_MAX_DIMS];
} npy_header;

typedef struct npy_parser {
    const char *start, *p, *end;
    const char *path;
    imbal_ctx *ctx;
} npy_parser;

static void skip_ws(npy_parser *ps) {
    while (ps->p < ps->end && isspace((unsigned char)*ps->p))
        ++ps->p;
}

static imbal_status bad_header(npy_parser *ps, const char *why) {
    return imbal_fail(ps->ctx, IMBAL_ERR_FORMAT, "'%s': bad .npy header: %s at offset %ld",
                      ps->path, why, (long)(ps->p - ps->start));
}

/* A Python string literal with ' or " quotes and no escapes (none occur in .npy headers). */
static imbal_status parse_string(npy_parser *ps, char *buf, size_t len) {
    skip_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return bad_header(ps, "expected a quoted string");
    char quote = *ps->p++;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != quote) {
        if (*ps->p == '\\') return bad_header(ps, "escape sequences are not supported");
        if (n + 1 >= len) return bad_header(ps, "string too long");
        buf[n++] = *ps->p++;
    }
    if (ps->p >= ps->end) return bad_header(ps, "unterminated string");
    ++ps->p;
    buf[n] = '\0';
    return IMBAL_OK;
}

static imbal_status parse_descr(npy_parser *ps, npy_header *h) {
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '[')
        return imbal_fail(ps->ctx, IMBAL_ERR_UNSUPPORTED,
                          "'%s': structured (record) dtypes are not supported", ps->path);
    char d[32];
    imbal_status st = parse_string(ps, d, sizeof d);
    if (st != IMBAL_OK) return st;
    static const struct {
        const char *code;
        imbal_dtype dtype;
    } types[] = {{"f4", IMBAL_F32},
                 {"f2", IMBAL_F16},
                 {"u1", IMBAL_U8},
                 {"i4", IMBAL_I32},
                 {"i8", IMBAL_I64}};
    char order = d[0];
    const char *code = d + 1;
    if (order != '<' && order != '>' && order != '=' && order != '|') {
        order = '=';
        code = d;
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; ++i) {
        if (strcmp(code, types[i].code) != 0) continue;
        /* One-byte types have no byte order: numpy writes '|u1' but '<u1' and '>u1' mean the same.
         */
        if (order == '>' && types[i].dtype != IMBAL_U8)
            return imbal_fail(ps->ctx, IMBAL_ERR_UNSUPPORTED,
                              "'%s': big-endian dtype '%s' is not supported (save with "
                              "arr.astype(arr.dtype.newbyteorder('<')))",
                              ps->path, d);
        if (order == '|' && types[i].dtype != IMBAL_U8)
            return imbal_fail(ps->ctx, IMBAL_ERR_FORMAT,
                              "'%s': dtype '%s' has no byte order but is wider than one byte",
                              ps->path, d);
        h->dtype = types[i].dtype;
        return IMBAL_OK;
    }
    if (strcmp(code, "O") == 0)
        return imbal_fail(ps->ctx, IMBAL_ERR_UNSUPPORTED,
                          "'%s': object arrays (dtype '%s', pickled) are not supported", ps->path,
                          d);
    return imbal_fail(ps->ctx, IMBAL_ERR_UNSUPPORTED,
                      "'%s': dtype '%s' is not supported (expected <f4, <f2, |u1, <i4 or <i8)",
                      ps->path, d);
}

static imbal_status parse_bool(npy_parser *ps, int *out) {
    skip_ws(ps);
    size_t left = (size_t)(ps->end - ps->p);
    if (left >= 4 && memcmp(ps->p, "True", 4) == 0) {
        *out = 1;
        ps->p += 4;
        return IMBAL_OK;
    }
    if (left >= 5 && memcmp(ps->p, "False", 5) == 0) {
        *out = 0;
        ps->p += 5;
        return IMBAL_OK;
    }
    return bad_header(ps, "fortran_order must be True or False");
}

/* "()", "(5,)", "(2, 3)", also "(2, 3,)"; Python 2 longs ("3L") are accepted. */
static imbal_status parse_shape(npy_parser *ps, npy_header *h) {
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '(') return bad_header(ps, "shape must be a tuple");
    ++ps->p;
    h->ndim = 0;
    for (;;) {
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ')') {
            ++ps->p;
            return IMBAL_OK;
        }
        if (ps->p >= ps->end || !isdigit((unsigned char)*ps->p))
            return bad_header(ps, "shape entries must be non-negative integers");
        if (h->ndim == IMBAL_MAX_DIMS)
            return imbal_fail(ps->ctx, IMBAL_ERR_UNSUPPORTED,
                              "'%s': arrays with more than %d dimensions are not supported",
                              ps->path, IMBAL_MAX_DIMS);
        int64_t v = 0;
        while (ps->p < ps->end && isdigit((unsigned char)*ps->p)) {
            int digit = *ps->p++ - '0';
            if (v > (INT64_MAX - digit) / 10) return bad_header(ps, "shape entry overflows");
            v = v * 10 + digit;
        }
        if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l')) ++ps->p;
        h->shape[h->ndim++] = v;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ++ps->p;
        } else if (ps->p >= ps->end || *ps->p != ')') {
            return bad_header(ps, "expected ',' or ')' in shape");
        } else if (h->ndim == 1) {
            /* "(5)" is the integer 5 in Python, not a tuple; numpy never writes it. */
            return bad_header(ps, "a 1-d shape needs a trailing comma, as in (5,)");
        }
    }
}

static imbal_status parse_header(npy_parser *ps, npy_header *h) {
    memset(h, 0, sizeof *h);
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '{') return bad_header(ps, "expected '{'");
    ++ps->p;
    for (;;) {
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '}') {
            ++ps->p;
            break;
        }
        char key[32];
        imbal_status st = parse_string(ps, key, sizeof key);
        if (st != IMBAL_OK) return st;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return bad_header(ps, "expected ':' after a key");
        ++ps->p;
        int *seen;
        if (strcmp(key, "descr") == 0) {
            seen = &h->have_descr;
            st = *seen ? IMBAL_OK : parse_descr(ps, h);
        } else if (strcmp(key, "fortran_order") == 0) {
            seen = &h->have_fortran;
            st = *seen ? IMBAL_OK : parse_bool(ps, &h->fortran_order);
        } else if (strcmp(key, "shape") == 0) {
            seen = &h->have_shape;
            st = *seen ? IMBAL_OK : parse_shape(ps, h);
        } else {
            return imbal_fail(ps->ctx, IMBAL_ERR_FORMAT, "'%s': bad .npy header: unknown key '%s'",
                              ps->path, key);
        }
        if (*seen)
            return imbal_fail(ps->ctx, IMBAL_ERR_FORMAT,
                              "'%s': bad .npy header: key '%s' appears twice", ps->path, key);
        if (st != IMBAL_OK) return st;
        *seen = 1;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ++ps->p;
        } else if (ps->p >= ps->end || *ps->p != '}') {
            return bad_header(ps, "expected ',' or '}' after a value");
        }
    }
    skip_ws(ps); /* the padding: spaces and a final newline */
    if (ps->p != ps->end) return bad_header(ps, "unexpected text after '}'");
    if (!h->have_descr || !h->have_fortran || !h->have_shape)
        return imbal_fail(ps->ctx, IMBAL_ERR_FORMAT, "'%s': bad .npy header: missing key '%s'",
                          ps->path,
                          !h->have_descr     ? "descr"
                          : !h->have_fortran ? "fortran_order"
                                             : "shape");
    return IMBAL_OK;
}

/* Reads exactly n bytes; a short read is a truncated file. */
static imbal_status read_exact(imbal_ctx *ctx, FILE *fp, const char *path, void *buf, size_t n,
                               const char *what) {
    size_t got = fread(buf, 1, n, fp);
    if (got == n) return IMBAL_OK;
    if (ferror(fp))
        return imbal_fail(ctx, IMBAL_ERR_IO, "'%s': cannot read the %s: %s", path, what,
                          strerror(errno));
    return imbal_fail(ctx, IMBAL_ERR_FORMAT, "'%s': file ends inside the %s (%zu of %zu bytes)",
                      path, what, got, n);
}

static imbal_status read_preamble(imbal_ctx *ctx, FILE *fp, const char *path, char **header,
                                  size_t *header_len, long *data_offset) {
    unsigned char pre[12];
    imbal_status st = read_exact(ctx, fp, path, pre, 10, ".npy preamble");
    if (st != IMBAL_OK) return st;
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "'%s' is not a .npy file (the magic string \\x93NUMPY is missing)", path);
    int major = pre[6], minor = pre[7];
    size_t len;
    long offset;
    if (major == 1) {
        len = (size_t)pre[8] | (size_t)pre[9] << 8;
        offset = 10;
    } else if (major == 2 || major == 3) {
        st = read_exact(ctx, fp, path, pre + 10, 2, ".npy preamble");
        if (st != IMBAL_OK) return st;
        len = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        offset = 12;
    } else {
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                          "'%s': .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)",
                          path, major, minor);
    }
    if (len > NPY_MAX_HEADER)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "'%s': .npy header length %zu exceeds the limit of %u bytes", path, len,
                          NPY_MAX_HEADER);
    char *buf = imbal_xmalloc(ctx, len + 1, 1, ".npy header");
    if (!buf) return IMBAL_ERR_OUT_OF_MEMORY;
    st = read_exact(ctx, fp, path, buf, len, ".npy header");
    if (st != IMBAL_OK) {
        free(buf);
        return st;
    }
    buf[len] = '\0';
    *header = buf;
    *header_len = len;
    *data_offset = offset + (long)len;
    return IMBAL_OK;
}

static imbal_status read_file(imbal_ctx *ctx, FILE *fp, const char *path, imbal_tensor *out) {
    char *text = NULL;
    size_t text_len = 0;
    long offset = 0;
    imbal_status st = read_preamble(ctx, fp, path, &text, &text_len, &offset);
    if (st != IMBAL_OK) return st;
    npy_parser ps = {text, text, text + text_len, path, ctx};
    npy_header h;
    st = parse_header(&ps, &h);
    free(text);
    if (st != IMBAL_OK) return st;
    if (h.fortran_order && h.ndim > 1)
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                          "'%s': Fortran-order arrays are not supported (save "
                          "np.ascontiguousarray(arr))",
                          path);
    size_t expected;
    st = imbal_shape_bytes(ctx, path, h.dtype, h.ndim, h.shape, &expected);
    if (st != IMBAL_OK) return st;

    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0)
        return imbal_fail(ctx, IMBAL_ERR_IO, "'%s': cannot stat: %s", path, strerror(errno));
    uint64_t actual = (uint64_t)sb.st_size > (uint64_t)offset ? (uint64_t)sb.st_size - offset : 0;
    if (actual != expected) {
        char shape[IMBAL_SHAPE_TEXT_MAX];
        imbal_shape_format(h.ndim, h.shape, shape, sizeof shape);
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "'%s': payload is %llu bytes but shape %s of %s needs %zu bytes (%s)",
                          path, (unsigned long long)actual, shape, imbal_dtype_name(h.dtype),
                          expected, actual < expected ? "truncated file" : "trailing data");
    }
    st = imbal_tensor_alloc(ctx, out, h.dtype, h.ndim, h.shape, imbal_device_cpu());
    if (st != IMBAL_OK) return st;
    st = read_exact(ctx, fp, path, out->data, expected, "array data");
    if (st != IMBAL_OK) imbal_tensor_free(out);
    return st;
}

imbal_status imbal_npy_read(imbal_ctx *ctx, const char *path, imbal_tensor *out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_npy_read: out is NULL");
    memset(out, 0, sizeof *out);
    if (!path) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_npy_read: path is NULL");
    FILE *fp = imbal_fopen_input(path);
    if (!fp) return imbal_fail(ctx, IMBAL_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    imbal_status st = read_file(ctx, fp, path, out);
    fclose(fp);
    return st;
}

static const char *npy_descr(imbal_dtype dtype) {
    switch (dtype) {
    case IMBAL_F32:
        return "<f4";
    case IMBAL_F16:
        return "<f2";
    case IMBAL_U8:
        return "|u1";
    case IMBAL_I32:
        return "<i4";
    case IMBAL_I64:
        return "<i8";
    case IMBAL_BF16:
        break;
    }
    return NULL;
}

/* The header exactly as numpy >= 1.24's np.save writes it: Python's repr of the sorted dict,
 * spare spaces for the first axis to grow, then spaces and '\n' up to a multiple of 64 bytes. */
static size_t format_header(const imbal_tensor *t, unsigned char *buf, size_t cap) {
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     npy_descr(t->dtype));
    for (int d = 0; d < t->ndim; ++d)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%lld", d ? ", " : "",
                      (long long)t->shape[d]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", t->ndim == 1 ? "," : "");
    if (t->ndim > 0) {
        int digits = snprintf(NULL, 0, "%lld", (long long)t->shape[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; ++i)
            dict[n++] = ' ';
    }
    size_t hlen = (size_t)n + 1; /* + '\n' */
    /* Version 2.0 (a 4-byte length) only when the padded header outgrows 1.0's 2-byte length. */
    int v2 = hlen + NPY_ALIGN - (10 + hlen) % NPY_ALIGN > 65535;
    size_t prefix = v2 ? 12 : 10;
    size_t pad = NPY_ALIGN - (prefix + hlen) % NPY_ALIGN;
    size_t total = prefix + hlen + pad;
    if (total > cap) return 0;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = v2 ? 2 : 1;
    buf[7] = 0;
    size_t len = hlen + pad;
    for (size_t i = 0; i < prefix - 8; ++i)
        buf[8 + i] = (unsigned char)(len >> (8 * i));
    memcpy(buf + prefix, dict, (size_t)n);
    memset(buf + prefix + n, ' ', pad);
    buf[total - 1] = '\n';
    return total;
}

imbal_status imbal_npy_write(imbal_ctx *ctx, const char *path, const imbal_tensor *t) {
    if (!path) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "imbal_npy_write: path is NULL");
    size_t bytes;
    imbal_status st = imbal_tensor_validate(ctx, path, t, &bytes);
    if (st != IMBAL_OK) return st;
    if (t->device.kind != IMBAL_DEVICE_CPU)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "'%s': imbal_npy_write needs a CPU tensor (copy cuda:%d data to the "
                          "host first)",
                          path, t->device.index);
    if (!npy_descr(t->dtype))
        return imbal_fail(ctx, IMBAL_ERR_UNSUPPORTED,
                          "'%s': %s has no .npy dtype (convert to f32 first)", path,
                          imbal_dtype_name(t->dtype));
    unsigned char header[1024];
    size_t hbytes = format_header(t, header, sizeof header);
    if (hbytes == 0)
        return imbal_fail(ctx, IMBAL_ERR_INTERNAL, "'%s': .npy header does not fit", path);
    imbal_atomic_file f;
    st = imbal_atomic_open(ctx, &f, path);
    if (st != IMBAL_OK) return st;
    /* A short write sets the stream's error flag; commit reports it with the file's name and
     * removes the temporary file. */
    if (fwrite(header, 1, hbytes, f.fp) == hbytes && bytes > 0)
        (void)fwrite(t->data, 1, bytes, f.fp);
    return imbal_atomic_commit(ctx, &f);
}
