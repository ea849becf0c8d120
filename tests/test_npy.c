/* .npy I/O: numpy-written fixtures (tests/data/npy/make_npy_fixtures.py), byte-exact agreement
 * with np.save, round trips, and every refusal naming the file. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"

#define NPY(name) IMBAL_TEST_DATA_DIR "/npy/" name

static imbal_tensor read_ok(imbal_ctx *ctx, const char *path, imbal_dtype dtype, int ndim,
                            const int64_t *shape) {
    imbal_tensor t;
    cr_assert_eq(imbal_npy_read(ctx, path, &t), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(t.dtype, dtype, "%s", path);
    cr_assert_eq(t.ndim, ndim, "%s", path);
    for (int d = 0; d < ndim; ++d)
        cr_assert_eq(t.shape[d], shape[d], "%s dim %d", path, d);
    cr_assert_eq(t.device.kind, IMBAL_DEVICE_CPU);
    cr_assert_eq(t.owns_data, 1);
    return t;
}

Test(npy, reads_numpy_f32_i32_i64_u8) {
    imbal_ctx *ctx = tu_ctx();
    int64_t s23[2] = {2, 3}, s22[2] = {2, 2}, s5 = 5, s4 = 4;
    imbal_tensor t = read_ok(ctx, NPY("f32_2x3.npy"), IMBAL_F32, 2, s23);
    const float want_f[6] = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, 65504.0f};
    cr_assert_eq(memcmp(t.data, want_f, sizeof want_f), 0);
    imbal_tensor_free(&t);

    t = read_ok(ctx, NPY("i32_2x2.npy"), IMBAL_I32, 2, s22);
    const int32_t want_i[4] = {INT32_MIN, -1, 0, INT32_MAX};
    cr_assert_eq(memcmp(t.data, want_i, sizeof want_i), 0);
    imbal_tensor_free(&t);

    t = read_ok(ctx, NPY("i64_5.npy"), IMBAL_I64, 1, &s5);
    const int64_t want_l[5] = {INT64_MIN, -1, 0, 1, INT64_MAX};
    cr_assert_eq(memcmp(t.data, want_l, sizeof want_l), 0);
    imbal_tensor_free(&t);

    t = read_ok(ctx, NPY("u8_4.npy"), IMBAL_U8, 1, &s4);
    const uint8_t want_u[4] = {0, 1, 127, 255};
    cr_assert_eq(memcmp(t.data, want_u, sizeof want_u), 0);
    imbal_tensor_free(&t);
    imbal_ctx_destroy(ctx);
}

Test(npy, reads_f16_special_values) {
    imbal_ctx *ctx = tu_ctx();
    int64_t n = 9;
    imbal_tensor t = read_ok(ctx, NPY("f16_special.npy"), IMBAL_F16, 1, &n);
    const uint16_t *h = t.data;
    cr_assert_eq(imbal_f16_to_f32(h[0]), 1.0f);
    cr_assert_eq(imbal_f16_to_f32(h[1]), -2.0f);
    cr_assert(isinf(imbal_f16_to_f32(h[2])) && imbal_f16_to_f32(h[2]) > 0);
    cr_assert(isinf(imbal_f16_to_f32(h[3])) && imbal_f16_to_f32(h[3]) < 0);
    cr_assert(isnan(imbal_f16_to_f32(h[4])));
    cr_assert_eq(h[5], 0x0001); /* 6e-8 rounds to the smallest subnormal, 2^-24 */
    cr_assert_eq(h[6], 0x8000); /* -0 */
    cr_assert_eq(h[7], 0x7BFF); /* 65504 */
    cr_assert_eq(imbal_f16_to_f32(h[8]), 0.5f);
    imbal_tensor_free(&t);
    imbal_ctx_destroy(ctx);
}

Test(npy, reads_scalar_empty_v2_v3) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t = read_ok(ctx, NPY("f32_scalar.npy"), IMBAL_F32, 0, NULL);
    cr_assert_eq(*(float *)t.data, 7.5f);
    imbal_tensor_free(&t);

    int64_t s03[2] = {0, 3};
    t = read_ok(ctx, NPY("f32_empty_0x3.npy"), IMBAL_F32, 2, s03);
    cr_assert_eq(imbal_tensor_nbytes(&t), 0);
    imbal_tensor_free(&t);

    int64_t s32[2] = {3, 2}, s4 = 4;
    t = read_ok(ctx, NPY("f32_v2.npy"), IMBAL_F32, 2, s32);
    for (int i = 0; i < 6; ++i)
        cr_assert_eq(((float *)t.data)[i], (float)i);
    imbal_tensor_free(&t);
    t = read_ok(ctx, NPY("f32_v3.npy"), IMBAL_F32, 1, &s4);
    for (int i = 0; i < 4; ++i)
        cr_assert_eq(((float *)t.data)[i], (float)i);
    imbal_tensor_free(&t);
    imbal_ctx_destroy(ctx);
}

static void expect_error(const char *path, imbal_status want, const char *needle) {
    imbal_ctx *ctx = tu_ctx();
    imbal_tensor t;
    cr_assert_eq(imbal_npy_read(ctx, path, &t), want, "%s: %s", path, imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), path) != NULL, "message does not name the file: %s",
              imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), needle) != NULL, "'%s' not in: %s", needle,
              imbal_ctx_error(ctx));
    cr_assert_null(t.data);
    imbal_ctx_destroy(ctx);
}

Test(npy, refuses_unsupported_numpy_files) {
    expect_error(NPY("f32_bigendian.npy"), IMBAL_ERR_UNSUPPORTED, "big-endian dtype '>f4'");
    expect_error(NPY("f32_fortran.npy"), IMBAL_ERR_UNSUPPORTED, "Fortran");
    expect_error(NPY("object.npy"), IMBAL_ERR_UNSUPPORTED, "object");
    expect_error(NPY("bool.npy"), IMBAL_ERR_UNSUPPORTED, "'|b1'");
    expect_error(NPY("f64.npy"), IMBAL_ERR_UNSUPPORTED, "'<f8'");
    expect_error(NPY("f32_truncated.npy"), IMBAL_ERR_FORMAT, "payload is 19 bytes");
    expect_error(NPY("f32_truncated.npy"), IMBAL_ERR_FORMAT, "needs 24 bytes");
    expect_error(NPY("does_not_exist.npy"), IMBAL_ERR_IO, "cannot open");
}

/* Hand-made headers: the parser must accept numpy's variations and refuse garbage. */
static char *write_npy(const char *dir, const char *name, int major, const char *header,
                       const void *payload, size_t payload_len) {
    char *path = tu_join(dir, name);
    size_t hlen = strlen(header);
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp);
    fwrite("\x93NUMPY", 1, 6, fp);
    unsigned char v[2] = {(unsigned char)major, 0};
    fwrite(v, 1, 2, fp);
    unsigned char len[4] = {(unsigned char)hlen, (unsigned char)(hlen >> 8),
                            (unsigned char)(hlen >> 16), (unsigned char)(hlen >> 24)};
    fwrite(len, 1, major == 1 ? 2 : 4, fp);
    fwrite(header, 1, hlen, fp);
    if (payload_len) fwrite(payload, 1, payload_len, fp);
    fclose(fp);
    return path;
}

Test(npy, header_dialects) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    const float v[3] = {1, 2, 3};
    static const char *const ok[] = {
        "{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}\n",
        "{ \"descr\" : \"=f4\" ,'fortran_order':False,'shape':( 3 , ), }   \n",
        "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }\n", /* 1-d: same layout */
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; ++i) {
        char *p = write_npy(dir, "ok.npy", i % 2 ? 2 : 1, ok[i], v, sizeof v);
        imbal_tensor t;
        cr_assert_eq(imbal_npy_read(ctx, p, &t), IMBAL_OK, "%s: %s", ok[i], imbal_ctx_error(ctx));
        cr_assert_eq(t.ndim, 1);
        cr_assert_eq(t.shape[0], 3);
        cr_assert_eq(memcmp(t.data, v, sizeof v), 0);
        imbal_tensor_free(&t);
        free(p);
    }
    const uint8_t bytes[3] = {1, 2, 3};
    char *p = write_npy(dir, "u1.npy", 1, "{'descr': '<u1', 'fortran_order': False, 'shape': (3,)}",
                        bytes, 3);
    imbal_tensor t;
    cr_assert_eq(imbal_npy_read(ctx, p, &t), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(t.dtype, IMBAL_U8);
    imbal_tensor_free(&t);
    free(p);

    static const struct {
        const char *header;
        imbal_status status;
        const char *needle;
    } bad[] = {
        {"{'descr': '<f4', 'shape': (3,)}", IMBAL_ERR_FORMAT, "missing key 'fortran_order'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}", IMBAL_ERR_FORMAT,
         "unknown key 'x'"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}",
         IMBAL_ERR_FORMAT, "appears twice"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3)}", IMBAL_ERR_FORMAT,
         "trailing comma"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (-3,)}", IMBAL_ERR_FORMAT,
         "non-negative"},
        {"{'descr': '<f4', 'fortran_order': false, 'shape': (3,)}", IMBAL_ERR_FORMAT,
         "True or False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} junk", IMBAL_ERR_FORMAT,
         "after '}'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,3)}",
         IMBAL_ERR_UNSUPPORTED, "more than 8"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,)}", IMBAL_ERR_UNSUPPORTED,
         "structured"},
        {"{'descr': '|f4', 'fortran_order': False, 'shape': (3,)}", IMBAL_ERR_FORMAT,
         "no byte order"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,"
         "99999999999,99999999999)}",
         IMBAL_ERR_INVALID_ARGUMENT, "overflows"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}", IMBAL_ERR_FORMAT, "truncated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", IMBAL_ERR_FORMAT,
         "trailing data"},
        {"not a dict", IMBAL_ERR_FORMAT, "expected '{'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        p = write_npy(dir, "bad.npy", 1, bad[i].header, v, sizeof v);
        cr_assert_eq(imbal_npy_read(ctx, p, &t), bad[i].status, "%s: %s", bad[i].header,
                     imbal_ctx_error(ctx));
        cr_assert(strstr(imbal_ctx_error(ctx), p) != NULL, "%s", imbal_ctx_error(ctx));
        cr_assert(strstr(imbal_ctx_error(ctx), bad[i].needle) != NULL, "'%s' not in: %s",
                  bad[i].needle, imbal_ctx_error(ctx));
        cr_assert_null(t.data);
        free(p);
    }

    /* Preamble damage: wrong magic, unknown version, absurd header length, cut-off header. */
    p = tu_join(dir, "magic.npy");
    FILE *fp = fopen(p, "wb");
    fwrite("\x93NUMPX\x01\x00\x02\x00{}", 1, 12, fp);
    fclose(fp);
    cr_assert_eq(imbal_npy_read(ctx, p, &t), IMBAL_ERR_FORMAT);
    cr_assert(strstr(imbal_ctx_error(ctx), "not a .npy file") != NULL, "%s", imbal_ctx_error(ctx));
    free(p);
    p = tu_join(dir, "short.npy");
    tu_write_file(p, "\x93NUMPY");
    cr_assert_eq(imbal_npy_read(ctx, p, &t), IMBAL_ERR_FORMAT);
    cr_assert(strstr(imbal_ctx_error(ctx), "file ends inside the .npy preamble") != NULL, "%s",
              imbal_ctx_error(ctx));
    free(p);
    p = write_npy(dir, "v4.npy", 4, "{}", NULL, 0);
    cr_assert_eq(imbal_npy_read(ctx, p, &t), IMBAL_ERR_UNSUPPORTED);
    cr_assert(strstr(imbal_ctx_error(ctx), "version 4.0") != NULL, "%s", imbal_ctx_error(ctx));
    free(p);
    p = tu_join(dir, "long.npy");
    fp = fopen(p, "wb");
    fwrite("\x93NUMPY\x02\x00\x00\x00\x00\x40", 1, 12, fp); /* 1 GiB header */
    fclose(fp);
    cr_assert_eq(imbal_npy_read(ctx, p, &t), IMBAL_ERR_FORMAT);
    cr_assert(strstr(imbal_ctx_error(ctx), "exceeds the limit") != NULL, "%s",
              imbal_ctx_error(ctx));
    free(p);
    p = tu_join(dir, "cut.npy");
    fp = fopen(p, "wb");
    fwrite("\x93NUMPY\x01\x00\x40\x00{'descr'", 1, 17, fp);
    fclose(fp);
    cr_assert_eq(imbal_npy_read(ctx, p, &t), IMBAL_ERR_FORMAT);
    cr_assert(strstr(imbal_ctx_error(ctx), "file ends inside the .npy header") != NULL, "%s",
              imbal_ctx_error(ctx));
    free(p);
    tu_rmtree(dir);
    free(dir);
    imbal_ctx_destroy(ctx);
}

static void expect_same_bytes(const char *expected_path, const char *got_path) {
    size_t elen, glen;
    char *e = tu_read_file(expected_path, &elen), *g = tu_read_file(got_path, &glen);
    cr_assert_not_null(e);
    cr_assert_not_null(g);
    cr_assert_eq(glen, elen, "%s: %zu bytes, np.save wrote %zu", got_path, glen, elen);
    cr_assert_eq(memcmp(e, g, elen), 0, "%s differs from np.save's bytes", got_path);
    free(e);
    free(g);
}

Test(npy, writer_matches_np_save_byte_for_byte) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    float f[6];
    for (int i = 0; i < 6; ++i)
        f[i] = 0.5f * (float)i;
    int64_t s23[2] = {2, 3}, s5 = 5;
    imbal_tensor tf = imbal_tensor_wrap(f, IMBAL_F32, 2, s23, imbal_device_cpu());
    char *p = tu_join(dir, "f.npy");
    cr_assert_eq(imbal_npy_write(ctx, p, &tf), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    expect_same_bytes(NPY("f32_2x3_expected.bin"), p);
    free(p);

    int64_t l[5] = {-2, -1, 0, 1, 2};
    imbal_tensor tl = imbal_tensor_wrap(l, IMBAL_I64, 1, &s5, imbal_device_cpu());
    p = tu_join(dir, "l.npy");
    cr_assert_eq(imbal_npy_write(ctx, p, &tl), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    expect_same_bytes(NPY("i64_5_expected.bin"), p);
    free(p);

    uint8_t u = 200;
    imbal_tensor tu = imbal_tensor_wrap(&u, IMBAL_U8, 0, NULL, imbal_device_cpu());
    p = tu_join(dir, "u.npy");
    cr_assert_eq(imbal_npy_write(ctx, p, &tu), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    expect_same_bytes(NPY("u8_scalar_expected.bin"), p);
    free(p);
    tu_rmtree(dir);
    free(dir);
    imbal_ctx_destroy(ctx);
}

Test(npy, round_trips_every_dtype_and_rank) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    char *p = tu_join(dir, "rt.npy");
    static const imbal_dtype dtypes[] = {IMBAL_F32, IMBAL_F16, IMBAL_U8, IMBAL_I32, IMBAL_I64};
    static const int64_t shape[IMBAL_MAX_DIMS] = {2, 1, 3, 1, 2, 1, 1, 2};
    unsigned char buf[24 * 8];
    for (size_t i = 0; i < sizeof buf; ++i)
        buf[i] = (unsigned char)(i * 37 + 11);
    for (int di = 0; di < 5; ++di) {
        for (int ndim = 0; ndim <= IMBAL_MAX_DIMS; ++ndim) {
            imbal_tensor t = imbal_tensor_wrap(buf, dtypes[di], ndim, shape, imbal_device_cpu());
            cr_assert_eq(imbal_npy_write(ctx, p, &t), IMBAL_OK, "%s", imbal_ctx_error(ctx));
            imbal_tensor r;
            cr_assert_eq(imbal_npy_read(ctx, p, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
            cr_assert_eq(r.dtype, dtypes[di]);
            cr_assert(imbal_tensor_same_shape(&r, &t));
            cr_assert_eq(memcmp(r.data, buf, imbal_tensor_nbytes(&t)), 0);
            imbal_tensor_free(&r);
        }
    }
    /* Empty arrays too. */
    int64_t s03[2] = {0, 3};
    imbal_tensor e = imbal_tensor_wrap(NULL, IMBAL_F32, 2, s03, imbal_device_cpu());
    cr_assert_eq(imbal_npy_write(ctx, p, &e), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    expect_same_bytes(NPY("f32_empty_0x3.npy"), p);
    free(p);
    tu_rmtree(dir);
    free(dir);
    imbal_ctx_destroy(ctx);
}

Test(npy, writer_refusals) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    char *p = tu_join(dir, "x.npy");
    uint16_t b[2] = {0};
    int64_t n = 2;
    imbal_tensor t = imbal_tensor_wrap(b, IMBAL_BF16, 1, &n, imbal_device_cpu());
    cr_assert_eq(imbal_npy_write(ctx, p, &t), IMBAL_ERR_UNSUPPORTED);
    cr_assert(strstr(imbal_ctx_error(ctx), "bf16") != NULL, "%s", imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), p) != NULL);
    size_t len;
    cr_assert_null(tu_read_file(p, &len)); /* nothing written */

    imbal_tensor none = imbal_tensor_wrap(NULL, IMBAL_F32, 1, &n, imbal_device_cpu());
    cr_assert_eq(imbal_npy_write(ctx, p, &none), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert(strstr(imbal_ctx_error(ctx), "NULL") != NULL, "%s", imbal_ctx_error(ctx));
    char *missing = tu_join(dir, "no/such/dir/x.npy");
    imbal_tensor ok = imbal_tensor_wrap(b, IMBAL_F16, 1, &n, imbal_device_cpu());
    cr_assert_eq(imbal_npy_write(ctx, missing, &ok), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(ctx), missing) != NULL, "%s", imbal_ctx_error(ctx));
    free(missing);
    free(p);
    tu_rmtree(dir);
    free(dir);
    imbal_ctx_destroy(ctx);
}
