/* safetensors files: round trips of every dtype and shape class, metadata, names with unicode and
 * escapes, files written by the Python `safetensors` package (tests/data/safetensors/
 * make_st_ref.py) and a BF16 file laid out by hand per the format, a committed file that the
 * package reads (kept byte-identical to what we write), atomic writes, and every corrupt-file
 * case with the status and the file / tensor it names. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "imbal/half.h"
#include "imbal/imbal.h"
#include "imbal/safetensors.h"
#include "test_util.h"

#define FIX(name) IMBAL_TEST_DATA_DIR "/safetensors/" name

static void expect_err(imbal_ctx *ctx, imbal_status got, imbal_status want, const char *needle) {
    cr_assert_eq(got, want, "status %s, expected %s (%s)", imbal_status_string(got),
                 imbal_status_string(want), imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), needle), "message '%s' lacks '%s'", imbal_ctx_error(ctx),
              needle);
}

static imbal_safetensors *open_ok(imbal_ctx *ctx, const char *path) {
    imbal_safetensors *st = NULL;
    cr_assert_eq(imbal_safetensors_open(ctx, path, &st), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    return st;
}

static imbal_tensor get_ok(imbal_ctx *ctx, imbal_safetensors *st, const char *name,
                           imbal_dtype dtype, int ndim, const int64_t *shape) {
    imbal_tensor v;
    cr_assert_eq(imbal_safetensors_get(ctx, st, name, &v), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(v.dtype, dtype, "%s: dtype %s", name, imbal_dtype_name(v.dtype));
    cr_assert_eq(v.ndim, ndim, "%s: ndim %d", name, v.ndim);
    cr_assert_eq(v.device.kind, IMBAL_DEVICE_CPU);
    for (int d = 0; d < ndim; ++d)
        cr_assert_eq(v.shape[d], shape[d], "%s dim %d", name, d);
    cr_assert_eq((uintptr_t)v.data % imbal_dtype_size(dtype), 0, "%s: misaligned view", name);
    return v;
}

Test(safetensors, round_trip_every_dtype_and_shape) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "rt.safetensors");
    static const int64_t shapes[4][IMBAL_MAX_DIMS] = {{0}, {0}, {2, 3}, {1, 2, 1, 1, 1, 1, 1, 3}};
    static const int ndims[4] = {0, 1, 2, 8};
    enum { NT = 6 * 4 };
    imbal_tensor ts[NT];
    const imbal_tensor *tp[NT];
    char names[NT][32];
    const char *np[NT];
    unsigned char payload[NT][64];
    for (int d = 0; d < 6; ++d)
        for (int s = 0; s < 4; ++s) {
            int k = d * 4 + s;
            for (int b = 0; b < 64; ++b)
                payload[k][b] = (unsigned char)(k * 31 + b * 7);
            ts[k] = imbal_tensor_wrap(payload[k], (imbal_dtype)d, ndims[s], shapes[s],
                                      imbal_device_cpu());
            tp[k] = &ts[k];
            snprintf(names[k], sizeof names[k], "%s.shape%d", imbal_dtype_name((imbal_dtype)d), s);
            np[k] = names[k];
        }
    const char *keys[2] = {"epoch", "empty"}, *vals[2] = {"12", ""};
    cr_assert_eq(imbal_safetensors_write(ctx, path, NT, np, tp, 2, keys, vals), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    imbal_safetensors *st = open_ok(ctx, path);
    cr_assert_eq(imbal_safetensors_count(st), NT);
    for (int k = 0; k < NT; ++k) {
        cr_assert_str_eq(imbal_safetensors_name(st, k), names[k]);
        imbal_tensor v = get_ok(ctx, st, names[k], ts[k].dtype, ts[k].ndim, ts[k].shape);
        size_t bytes = imbal_tensor_nbytes(&ts[k]);
        cr_assert_eq(imbal_tensor_nbytes(&v), bytes);
        cr_assert_eq(memcmp(v.data, payload[k], bytes), 0, "%s bytes differ", names[k]);
    }
    cr_assert_null(imbal_safetensors_name(st, NT));
    cr_assert_null(imbal_safetensors_name(st, -1));
    cr_assert_str_eq(imbal_safetensors_metadata(st, "epoch"), "12");
    cr_assert_str_eq(imbal_safetensors_metadata(st, "empty"), "");
    cr_assert_null(imbal_safetensors_metadata(st, "missing"));
    imbal_tensor v;
    expect_err(ctx, imbal_safetensors_get(ctx, st, "nope", &v), IMBAL_ERR_DATA, "'nope'");
    cr_assert(strstr(imbal_ctx_error(ctx), "rt.safetensors"));
    imbal_safetensors_close(st);
    /* the data starts 8-byte aligned, as the reference writer does */
    size_t len;
    char *raw = tu_read_file(path, &len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; --i)
        hlen = (hlen << 8) | (unsigned char)raw[i];
    cr_assert_eq(hlen % 8, 0);
    cr_assert_eq(raw[8], '{');
    free(raw);
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

Test(safetensors, empty_file_without_tensors) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "none.safetensors");
    cr_assert_eq(imbal_safetensors_write(ctx, path, 0, NULL, NULL, 0, NULL, NULL), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    imbal_safetensors *st = open_ok(ctx, path);
    cr_assert_eq(imbal_safetensors_count(st), 0);
    cr_assert_null(imbal_safetensors_metadata(st, "x"));
    imbal_safetensors_close(st);
    imbal_safetensors_close(NULL);
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

Test(safetensors, unicode_and_escaped_names) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "u.safetensors");
    const char *names[] = {"poids_\xc3\xa9",         "q\"uote",      "back\\slash",  "tab\tnl\n",
                           "emoji \xf0\x9f\x98\x80", "ctrl\x01\x1f", "slash/and.dot"};
    enum { N = sizeof names / sizeof names[0] };
    float vals[N];
    imbal_tensor ts[N];
    const imbal_tensor *tp[N];
    int64_t one[1] = {1};
    for (int i = 0; i < N; ++i) {
        vals[i] = (float)i + 0.5f;
        ts[i] = imbal_tensor_wrap(&vals[i], IMBAL_F32, 1, one, imbal_device_cpu());
        tp[i] = &ts[i];
    }
    const char *keys[] = {"cl\xc3\xa9", "esc"}, *mv[] = {"\xe2\x82\xac", "a\"b\\c\nd\x02"};
    cr_assert_eq(imbal_safetensors_write(ctx, path, N, names, tp, 2, keys, mv), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    imbal_safetensors *st = open_ok(ctx, path);
    cr_assert_eq(imbal_safetensors_count(st), N);
    for (int i = 0; i < N; ++i) {
        cr_assert_str_eq(imbal_safetensors_name(st, i), names[i]);
        imbal_tensor v = get_ok(ctx, st, names[i], IMBAL_F32, 1, one);
        cr_assert_float_eq(*(float *)v.data, vals[i], 0);
    }
    cr_assert_str_eq(imbal_safetensors_metadata(st, "cl\xc3\xa9"), "\xe2\x82\xac");
    cr_assert_str_eq(imbal_safetensors_metadata(st, "esc"), "a\"b\\c\nd\x02");
    imbal_safetensors_close(st);
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

Test(safetensors, reads_python_package_files) {
    imbal_ctx *ctx = tu_ctx();
    imbal_safetensors *st = open_ok(ctx, FIX("py_mixed.safetensors"));
    cr_assert_eq(imbal_safetensors_count(st), 5);
    cr_assert_str_eq(imbal_safetensors_metadata(st, "epoch"), "3");
    cr_assert_str_eq(imbal_safetensors_metadata(st, "arch"), "resnet8");
    int64_t s23[2] = {2, 3}, s4[1] = {4}, s5[1] = {5}, s0[1] = {0};
    imbal_tensor w = get_ok(ctx, st, "weight", IMBAL_F32, 2, s23);
    for (int i = 0; i < 6; ++i)
        cr_assert_float_eq(((float *)w.data)[i], i * 0.5f - 1.0f, 0);
    imbal_tensor s = get_ok(ctx, st, "step", IMBAL_I64, 0, NULL);
    cr_assert_eq(*(int64_t *)s.data, INT64_C(1234567890123));
    imbal_tensor h = get_ok(ctx, st, "half", IMBAL_F16, 1, s4);
    const float hv[4] = {1.0f, -2.0f, 0.5f, 65504.0f};
    for (int i = 0; i < 4; ++i)
        cr_assert_float_eq(imbal_f16_to_f32(((uint16_t *)h.data)[i]), hv[i], 0);
    imbal_tensor b = get_ok(ctx, st, "bytes", IMBAL_U8, 1, s5);
    const unsigned char bv[5] = {0, 1, 127, 128, 255};
    cr_assert_eq(memcmp(b.data, bv, 5), 0);
    get_ok(ctx, st, "empty", IMBAL_I32, 1, s0);
    imbal_safetensors_close(st);

    st = open_ok(ctx, FIX("py_f32_only.safetensors"));
    int64_t s312[3] = {3, 1, 2};
    imbal_tensor x = get_ok(ctx, st, "x", IMBAL_F32, 3, s312);
    const float xv[6] = {1.5f, -2.25f, 3.0f, 0.0f, 1e-3f, 7.0f};
    cr_assert_eq(memcmp(x.data, xv, sizeof xv), 0);
    cr_assert_null(imbal_safetensors_metadata(st, "epoch"));
    imbal_safetensors_close(st);

    st = open_ok(ctx, FIX("bf16_by_hand.safetensors"));
    int64_t s2[1] = {2}, s3[1] = {3};
    cr_assert_str_eq(imbal_safetensors_name(st, 0), "w");
    cr_assert_str_eq(imbal_safetensors_name(st, 1), "b");
    imbal_tensor bf = get_ok(ctx, st, "b", IMBAL_BF16, 1, s3);
    const float bfv[3] = {1.0f, -2.5f, 0.15625f};
    for (int i = 0; i < 3; ++i)
        cr_assert_float_eq(imbal_bf16_to_f32(((uint16_t *)bf.data)[i]), bfv[i], 0);
    imbal_tensor f = get_ok(ctx, st, "w", IMBAL_F32, 1, s2);
    cr_assert_float_eq(((float *)f.data)[0], 3.5f, 0);
    cr_assert_float_eq(((float *)f.data)[1], -0.25f, 0);
    cr_assert_str_eq(imbal_safetensors_metadata(st, "format"), "by-hand");
    imbal_safetensors_close(st);
    imbal_ctx_destroy(ctx);
}

/* The tensors of from_imbal.safetensors (make_st_ref.py checks them with the Python package).
 * "half" (6 bytes) before "count" puts later tensors off their natural alignment in the file. */
static float w_[6] = {0.5f, -1.0f, 2.0f, 3.25f, 0.0f, -7.5f}, one_[1] = {1.0f}, two_[1] = {2.0f};
static uint16_t half_[3];
static int64_t count_ = -42;
static int32_t labels_[3] = {3, -1, 2147483647};
static unsigned char bytes_[4] = {0, 200, 255, 7};

static int canonical_tensors(imbal_tensor *ts, const char **names) {
    static const int64_t s23[2] = {2, 3}, s3[1] = {3}, s4[1] = {4}, s04[2] = {0, 4}, s1[1] = {1};
    half_[0] = imbal_f32_to_f16(1.0f);
    half_[1] = imbal_f32_to_f16(-0.5f);
    half_[2] = imbal_f32_to_f16(2.0f);
    imbal_device c = imbal_device_cpu();
    int n = 0;
    names[n] = "weight", ts[n++] = imbal_tensor_wrap(w_, IMBAL_F32, 2, s23, c);
    names[n] = "half", ts[n++] = imbal_tensor_wrap(half_, IMBAL_F16, 1, s3, c);
    names[n] = "count", ts[n++] = imbal_tensor_wrap(&count_, IMBAL_I64, 0, NULL, c);
    names[n] = "labels", ts[n++] = imbal_tensor_wrap(labels_, IMBAL_I32, 1, s3, c);
    names[n] = "bytes", ts[n++] = imbal_tensor_wrap(bytes_, IMBAL_U8, 1, s4, c);
    names[n] = "empty", ts[n++] = imbal_tensor_wrap(NULL, IMBAL_F32, 2, s04, c);
    names[n] = "poids_\xc3\xa9", ts[n++] = imbal_tensor_wrap(one_, IMBAL_F32, 1, s1, c);
    names[n] = "q\"uo\\te\n", ts[n++] = imbal_tensor_wrap(two_, IMBAL_F32, 1, s1, c);
    return n;
}

static const char *canon_keys[2] = {"epoch", "note"};
static const char *canon_vals[2] = {"7", "a \"quoted\" \\ value\nline 2 \xc3\xa9\xe2\x82\xac"};

/* Set IMBAL_REGEN_FIXTURES=1 to rewrite the committed file after a deliberate format change
 * (then rerun make_st_ref.py to check it with the Python package). */
Test(safetensors, committed_file_is_what_we_write) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor ts[8];
    const char *names[8];
    const imbal_tensor *tp[8];
    int n = canonical_tensors(ts, names);
    for (int i = 0; i < n; ++i)
        tp[i] = &ts[i];
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "c.safetensors");
    cr_assert_eq(imbal_safetensors_write(ctx, path, n, names, tp, 2, canon_keys, canon_vals),
                 IMBAL_OK, "%s", imbal_ctx_error(ctx));
    if (getenv("IMBAL_REGEN_FIXTURES"))
        cr_assert_eq(imbal_safetensors_write(ctx, FIX("from_imbal.safetensors"), n, names, tp, 2,
                                             canon_keys, canon_vals),
                     IMBAL_OK);
    size_t la, lb;
    char *a = tu_read_file(path, &la), *b = tu_read_file(FIX("from_imbal.safetensors"), &lb);
    cr_assert(a && b);
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(a, b, la), 0, "from_imbal.safetensors differs from what we write");
    free(a);
    free(b);
    /* and it reads back, every view aligned for its type */
    imbal_safetensors *st = open_ok(ctx, FIX("from_imbal.safetensors"));
    cr_assert_eq(imbal_safetensors_count(st), n);
    for (int i = 0; i < n; ++i) {
        cr_assert_str_eq(imbal_safetensors_name(st, i), names[i]);
        imbal_tensor v = get_ok(ctx, st, names[i], ts[i].dtype, ts[i].ndim, ts[i].shape);
        if (imbal_tensor_nbytes(&v))
            cr_assert_eq(memcmp(v.data, ts[i].data, imbal_tensor_nbytes(&v)), 0, "%s", names[i]);
    }
    cr_assert_str_eq(imbal_safetensors_metadata(st, "note"), canon_vals[1]);
    imbal_safetensors_close(st);
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

Test(safetensors, write_errors_name_the_argument) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "e.safetensors");
    float x[2] = {0};
    int64_t s2[1] = {2}, neg[1] = {-1};
    imbal_tensor t = imbal_tensor_wrap(x, IMBAL_F32, 1, s2, imbal_device_cpu());
    imbal_tensor tc = imbal_tensor_wrap(x, IMBAL_F32, 1, s2, imbal_device_cuda(0));
    imbal_tensor tn = imbal_tensor_wrap(NULL, IMBAL_F32, 1, s2, imbal_device_cpu());
    imbal_tensor tneg = imbal_tensor_wrap(x, IMBAL_F32, 1, neg, imbal_device_cpu());
    imbal_tensor tbad = t;
    tbad.dtype = (imbal_dtype)17;
    const imbal_tensor *two[2] = {&t, &t}, *one[1] = {&t}, *nul[1] = {NULL};
    const char *dup[2] = {"a", "a"}, *meta[1] = {"__metadata__"}, *empty[1] = {""};
    const char *badutf[1] = {"bad\xff"}, *ok[1] = {"a"};
    imbal_status IA = IMBAL_ERR_INVALID_ARGUMENT;
    expect_err(ctx, imbal_safetensors_write(ctx, path, 2, dup, two, 0, NULL, NULL), IA,
               "'a' is given twice");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, meta, one, 0, NULL, NULL), IA,
               "'__metadata__' is reserved");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, empty, one, 0, NULL, NULL), IA,
               "names[0] is empty");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, badutf, one, 0, NULL, NULL), IA,
               "names[0] is not valid UTF-8");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, nul, 0, NULL, NULL), IA,
               "tensor 'a' is NULL");
    const imbal_tensor *pc[1] = {&tc}, *pn[1] = {&tn}, *pneg[1] = {&tneg}, *pbad[1] = {&tbad};
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, pc, 0, NULL, NULL), IA,
               "tensor 'a' is on cuda:0");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, pn, 0, NULL, NULL), IA,
               "tensor 'a' has no data");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, pneg, 0, NULL, NULL), IA,
               "tensor 'a' has a negative extent");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, pbad, 0, NULL, NULL), IA,
               "tensor 'a' has an unknown dtype");
    expect_err(ctx, imbal_safetensors_write(ctx, path, -1, ok, one, 0, NULL, NULL), IA,
               "count = -1");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, NULL, one, 0, NULL, NULL), IA,
               "needs names");
    const char *mk[2] = {"k", "k"}, *mvv[2] = {"1", "2"}, *mbad[1] = {"\xc3"};
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, one, 2, mk, mvv), IA,
               "metadata key 'k' is given twice");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, one, 1, mk, mbad), IA,
               "metadata 'k' is not valid UTF-8");
    expect_err(ctx, imbal_safetensors_write(ctx, path, 1, ok, one, 1, NULL, mvv), IA, "n_meta");
    expect_err(ctx, imbal_safetensors_write(ctx, NULL, 1, ok, one, 0, NULL, NULL), IA, "path");
    char *missing = tu_join(dir, "no/such/dir/x.safetensors");
    cr_assert_neq(imbal_safetensors_write(ctx, missing, 1, ok, one, 0, NULL, NULL), IMBAL_OK);
    cr_assert(strstr(imbal_ctx_error(ctx), "no/such/dir"), "%s", imbal_ctx_error(ctx));
    free(missing);
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

Test(safetensors, failed_write_leaves_old_file) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "keep.safetensors");
    float small[2] = {1.0f, 2.0f};
    int64_t s2[1] = {2}, big_n[1] = {1 << 20};
    imbal_tensor t = imbal_tensor_wrap(small, IMBAL_F32, 1, s2, imbal_device_cpu());
    const imbal_tensor *tp[1] = {&t};
    const char *names[1] = {"w"};
    cr_assert_eq(imbal_safetensors_write(ctx, path, 1, names, tp, 0, NULL, NULL), IMBAL_OK);
    size_t len0;
    char *before = tu_read_file(path, &len0);
    /* A file-size limit makes the 4 MiB write fail part-way (EFBIG), as a full disk would. */
    float *big = calloc((size_t)big_n[0], sizeof(float));
    imbal_tensor tb = imbal_tensor_wrap(big, IMBAL_F32, 1, big_n, imbal_device_cpu());
    const imbal_tensor *bp[1] = {&tb};
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {65536, 65536};
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
    imbal_status st = imbal_safetensors_write(ctx, path, 1, names, bp, 0, NULL, NULL);
    cr_assert_eq(st, IMBAL_ERR_IO, "%s: %s", imbal_status_string(st), imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "keep.safetensors"), "%s", imbal_ctx_error(ctx));
    size_t len1;
    char *after = tu_read_file(path, &len1);
    cr_assert_eq(len1, len0);
    cr_assert_eq(memcmp(before, after, len0), 0);
    /* no temporary file is left behind */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "test $(ls -A '%s' | wc -l) -eq 1", dir);
    cr_assert_eq(system(cmd), 0, "a temporary file was left in %s", dir);
    free(before);
    free(after);
    free(big);
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

/* ---- corrupt files ---- */

/* Writes an 8-byte length, the header text (len_override >= 0 replaces its length) and data. */
static void write_raw(const char *path, const char *header, int64_t len_override, const void *data,
                      size_t data_len) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    uint64_t n = len_override >= 0 ? (uint64_t)len_override : strlen(header);
    unsigned char l8[8];
    for (int i = 0; i < 8; ++i)
        l8[i] = (unsigned char)(n >> (8 * i));
    fwrite(l8, 1, 8, f);
    fwrite(header, 1, strlen(header), f);
    if (data_len) fwrite(data, 1, data_len, f);
    fclose(f);
}

typedef struct bad_case {
    const char *header;
    size_t data_len;
    imbal_status status;
    const char *needle;
} bad_case;

Test(safetensors, corrupt_files) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "bad.safetensors");
    static const unsigned char zeros[64];
    imbal_safetensors *st = (imbal_safetensors *)&st;
    imbal_status F = IMBAL_ERR_FORMAT, U = IMBAL_ERR_UNSUPPORTED;
    const bad_case cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],}}", 8, F, "header JSON"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, F, "header JSON"},
        {"[1, 2]", 0, F, "does not start with '{'"},
        {"{\"a\":1}", 0, F, "tensor 'a': is a integer"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
         12, F, "tensor 'b': data_offsets [4, 12] overlap tensor 'a'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, F,
         "tensor 'a': data_offsets [0, 16] end beyond the data (8 bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, F,
         "tensor 'a': data_offsets [8, 0] are reversed"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}",
         12, F, "tensor 'b': data bytes [4, 8) before it belong to no tensor"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12, F,
         "4 trailing bytes"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, F,
         "tensor 'a': shape and dtype F32 need 12 bytes but data_offsets [0, 8] span 8"},
        {"{\"a\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, F,
         "tensor 'a': unknown dtype 'F33'"},
        {"{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, U,
         "tensor 'a': dtype F64 is not supported"},
        {"{\"m\":{\"dtype\":\"BOOL\",\"shape\":[8],\"data_offsets\":[0,8]}}", 8, U,
         "tensor 'm': dtype BOOL"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, F,
         "tensor 'a': \"shape\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,2],\"data_offsets\":[0,8]}}", 8, U,
         "tensor 'a': 9 dimensions"},
        {"{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, F, "tensor 'a': \"dtype\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, F,
         "tensor 'a': \"data_offsets\""},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}", 8, F,
         "tensor 'a': \"shape\""},
        {"{\"__metadata__\":{\"k\":3}}", 0, F, "metadata 'k' is a integer"},
        {"{\"__metadata__\":[]}", 0, F, "__metadata__ is not an object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}",
         0, F, "duplicate key"},
        {"{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", 0, F,
         "\\u0000"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}} x", 0, F, "trailing"},
        {"{\"\xff\":{}}", 0, F, "UTF-8"},
        {"", 0, F, "does not start with '{'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        write_raw(path, cases[i].header, -1, zeros, cases[i].data_len);
        st = (imbal_safetensors *)&st;
        imbal_status s = imbal_safetensors_open(ctx, path, &st);
        cr_assert_eq(s, cases[i].status, "case %zu: %s (%s)", i, imbal_status_string(s),
                     imbal_ctx_error(ctx));
        cr_assert_null(st, "case %zu", i);
        cr_assert(strstr(imbal_ctx_error(ctx), cases[i].needle), "case %zu: '%s' lacks '%s'", i,
                  imbal_ctx_error(ctx), cases[i].needle);
        cr_assert(strstr(imbal_ctx_error(ctx), "bad.safetensors"), "case %zu: %s", i,
                  imbal_ctx_error(ctx));
    }
    /* header length beyond the file */
    write_raw(path, "{}", 1000, NULL, 0);
    expect_err(ctx, imbal_safetensors_open(ctx, path, &st), F,
               "header length 1000 goes beyond the file (10 bytes)");
    write_raw(path, "{}", INT64_C(200000000), NULL, 0);
    expect_err(ctx, imbal_safetensors_open(ctx, path, &st), F,
               "header length 200000000 exceeds the format's limit");
    /* zero-byte and 5-byte files */
    tu_write_file(path, "");
    expect_err(ctx, imbal_safetensors_open(ctx, path, &st), F, "0 bytes, shorter than");
    cr_assert(strstr(imbal_ctx_error(ctx), "bad.safetensors"));
    tu_write_file(path, "abcde");
    expect_err(ctx, imbal_safetensors_open(ctx, path, &st), F, "5 bytes");
    /* a missing file is an I/O error naming it */
    char *missing = tu_join(dir, "missing.safetensors");
    expect_err(ctx, imbal_safetensors_open(ctx, missing, &st), IMBAL_ERR_IO, "missing.safetensors");
    free(missing);
    expect_err(ctx, imbal_safetensors_open(ctx, path, NULL), IMBAL_ERR_INVALID_ARGUMENT, "out");
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

Test(safetensors, truncated_data_names_the_tensor) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "trunc.safetensors");
    imbal_tensor ts[8];
    const char *names[8];
    const imbal_tensor *tp[8];
    int n = canonical_tensors(ts, names);
    for (int i = 0; i < n; ++i)
        tp[i] = &ts[i];
    cr_assert_eq(imbal_safetensors_write(ctx, path, n, names, tp, 0, NULL, NULL), IMBAL_OK);
    size_t len;
    char *raw = tu_read_file(path, &len);
    FILE *f = fopen(path, "wb");
    fwrite(raw, 1, len - 3, f); /* the last tensor, "q\"uo\\te\n" (4 bytes), loses 3 */
    fclose(f);
    free(raw);
    imbal_safetensors *st;
    expect_err(ctx, imbal_safetensors_open(ctx, path, &st), IMBAL_ERR_FORMAT, "file truncated?");
    cr_assert(strstr(imbal_ctx_error(ctx), "tensor 'q\"uo\\te\n'"), "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), "trunc.safetensors"));
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}

Test(safetensors, json_order_need_not_be_data_order) {
    /* The reference reader (huggingface/safetensors) sorts the entries by offset; so do we: names
     * come back in data order whatever the header's key order. */
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp(), *path = tu_join(dir, "order.safetensors");
    const float data[3] = {1.0f, 2.0f, 3.0f};
    write_raw(path,
              "{\"second\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
              "\"first\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]},"
              "\"__metadata__\":null}",
              -1, data, sizeof data);
    imbal_safetensors *st = open_ok(ctx, path);
    cr_assert_str_eq(imbal_safetensors_name(st, 0), "first");
    cr_assert_str_eq(imbal_safetensors_name(st, 1), "second");
    int64_t s2[1] = {2};
    imbal_tensor v = get_ok(ctx, st, "second", IMBAL_F32, 1, s2);
    cr_assert_float_eq(((float *)v.data)[1], 3.0f, 0);
    imbal_safetensors_close(st);
    tu_rmtree(dir);
    free(dir);
    free(path);
    imbal_ctx_destroy(ctx);
}
