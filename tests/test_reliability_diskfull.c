/* Faults: a full disk and unreadable inputs.
 *
 * A full disk is simulated without mounts: a forked child lowers RLIMIT_FSIZE and ignores SIGXFSZ,
 * so every write past the limit fails with EFBIG ("File too large"), as ENOSPC would. Each writer
 * must then fail with IMBAL_ERR_IO naming the file, leave the old file byte for byte as it was
 * and no temporary file behind.
 *
 * Unreadable inputs: the tests run as root, where chmod 000 does not stop a read, so "unreadable"
 * is a directory where a file is expected, a dangling symlink, and a FIFO without a writer (which
 * a plain fopen would wait on forever). Each reader must fail promptly with a message naming the
 * path. */
/* No Criterion .timeout here: with --jobs 2, Criterion 2.4's runner leaks 48 bytes for timed
 * tests and LeakSanitizer then fails the binary; ctest's TIMEOUT bounds them instead. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
#include "imbal/imbal.h"
#include "test_util.h"

/* ---- a full disk ----------------------------------------------------------------------------- */

typedef imbal_status (*writer_fn)(imbal_ctx *ctx, const char *path);

/* Runs fn(path) in a child whose files may not grow past `limit` bytes; returns its status and
 * copies its error message into msg. */
static imbal_status run_limited(writer_fn fn, const char *path, rlim_t limit, char *msg,
                                size_t cap) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {limit, limit};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(100);
        imbal_ctx *ctx = NULL;
        if (imbal_ctx_create(&ctx) != IMBAL_OK) _exit(101);
        imbal_status st = fn(ctx, path);
        char buf[4096];
        int n = snprintf(buf, sizeof buf, "%d %s", (int)st, imbal_ctx_error(ctx));
        if (write(fds[1], buf, (size_t)(n < (int)sizeof buf ? n : (int)sizeof buf - 1)) < 0)
            _exit(102);
        imbal_ctx_destroy(ctx);
        _exit(0);
    }
    close(fds[1]);
    char buf[4096];
    size_t got = 0;
    for (ssize_t r; (r = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0;)
        got += (size_t)r;
    buf[got] = '\0';
    close(fds[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer child died (status %d)",
              status);
    int st = -1, off = 0;
    cr_assert_eq(sscanf(buf, "%d %n", &st, &off), 1, "child said '%s'", buf);
    snprintf(msg, cap, "%s", buf + off);
    return (imbal_status)st;
}

static int count_tmp(const char *dir) {
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

#define BIG (256 * 1024)

static imbal_status write_raw(imbal_ctx *ctx, const char *path) {
    char *buf = malloc(BIG);
    memset(buf, 'n', BIG);
    imbal_status st = imbal_atomic_write_all(ctx, path, buf, BIG);
    free(buf);
    return st;
}

static imbal_status write_npy(imbal_ctx *ctx, const char *path) {
    static float v[BIG / 4];
    int64_t shape[1] = {BIG / 4};
    imbal_tensor t = imbal_tensor_wrap(v, IMBAL_F32, 1, shape, imbal_device_cpu());
    return imbal_npy_write(ctx, path, &t);
}

static imbal_status write_safetensors(imbal_ctx *ctx, const char *path) {
    static float v[BIG / 4];
    int64_t shape[2] = {256, BIG / 1024};
    imbal_tensor t = imbal_tensor_wrap(v, IMBAL_F32, 2, shape, imbal_device_cpu());
    const char *names[1] = {"w"};
    const imbal_tensor *ts[1] = {&t};
    return imbal_safetensors_write(ctx, path, 1, names, ts, 0, NULL, NULL);
}

static imbal_status write_png(imbal_ctx *ctx, const char *path) {
    static uint8_t px[512 * 512 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 2654435761u >> 13); /* incompressible enough */
    imbal_image img = {512, 512, 3, px};
    return imbal_image_write_png(ctx, &img, path);
}

static void check_writer(writer_fn fn, const char *file) {
    char *dir = tu_mkdtemp();
    char *path = tu_join(dir, file);
    tu_write_file(path, "the old file\n");
    char msg[4096];
    imbal_status st = run_limited(fn, path, 4096, msg, sizeof msg);
    cr_assert_eq(st, IMBAL_ERR_IO, "%s on a full disk: %s (%s)", file, imbal_status_string(st),
                 msg);
    cr_assert_not_null(strstr(msg, file), "the message does not name the file: %s", msg);
    cr_assert_not_null(strstr(msg, "File too large"), "the message lacks the cause: %s", msg);
    size_t len = 0;
    char *text = tu_read_file(path, &len);
    cr_assert_str_eq(text, "the old file\n", "%s was changed by the failed write", file);
    cr_assert_eq(count_tmp(dir), 0, "a temporary file was left beside %s", file);
    /* Without the limit the same writer succeeds (the failure was the disk, not the data). */
    st = run_limited(fn, path, RLIM_INFINITY, msg, sizeof msg);
    cr_assert_eq(st, IMBAL_OK, "%s", msg);
    free(text), free(path);
    tu_rmtree(dir);
    free(dir);
}

Test(reliability_diskfull, raw_file_keeps_the_old_one) {
    check_writer(write_raw, "out.bin");
}
Test(reliability_diskfull, npy_keeps_the_old_one) {
    check_writer(write_npy, "a.npy");
}
Test(reliability_diskfull, safetensors_keeps_the_old_one) {
    check_writer(write_safetensors, "w.safetensors");
}
Test(reliability_diskfull, png_keeps_the_old_one) {
    check_writer(write_png, "p.png");
}

/* imbal train on a full disk: the epoch's checkpoint cannot be written, the command says so and
 * exits 1, and the previous checkpoint is untouched (and --resume still works from it). */
Test(reliability_diskfull, train_checkpoint_on_a_full_disk) {
    char *dir = tu_mkdtemp();
    char *train = tu_join(dir, "train"), *run = tu_join(dir, "run");
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 6; i++) {
            uint8_t px[8 * 8 * 3];
            for (int k = 0; k < 8 * 8 * 3; k++)
                px[k] = (uint8_t)(c ? 200 + k % 7 : 20 + (k * i) % 30);
            imbal_image img = {8, 8, 3, px};
            char p[4200];
            snprintf(p, sizeof p, "%.4000s/c%d/%d.png", train, c, i);
            char d[4200];
            snprintf(d, sizeof d, "%.4000s/c%d", train, c);
            cr_assert_eq(imbal_mkdirs(NULL, d), IMBAL_OK);
            cr_assert_eq(imbal_image_write_png(NULL, &img, p), IMBAL_OK);
        }
    char args[8192];
    const char *common = "--arch resnet8 --width 4 --size 8 --batch 4 --seed 1 "
                         "--augment crop=8:pad=1,normalize=cifar10 --quiet";
    snprintf(args, sizeof args, "train --data '%s' --out '%s' --epochs 2 --stop-after 1 %s", train,
             run, common);
    char *out = NULL, *err = NULL;
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    free(out), free(err);
    char *ck = tu_join(run, "checkpoint.safetensors");
    size_t len = 0;
    char *before = tu_read_file(ck, &len);
    cr_assert_gt(len, 8192);
    /* ulimit -f (512-byte blocks) is RLIMIT_FSIZE; trap '' XFSZ makes the command ignore
     * SIGXFSZ (an ignored signal stays ignored across exec), so writes fail with EFBIG. */
    char cmd[16384];
    char *errp = tu_join(dir, "err.txt");
    snprintf(cmd, sizeof cmd,
             "sh -c 'trap \"\" XFSZ; ulimit -f 8; exec \"$0\" train --data \"$1\" --out \"$2\" "
             "--epochs 2 --resume %s' '%s' '%s' '%s' >/dev/null 2>'%s'",
             common, IMBAL_CLI_PATH, train, run, errp);
    int rc = system(cmd);
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 1, "the command exited %d", rc);
    char *msg = tu_read_file(errp, NULL);
    cr_assert_not_null(strstr(msg, "checkpoint.safetensors"), "%s", msg);
    cr_assert_not_null(strstr(msg, "File too large"), "%s", msg);
    size_t len2 = 0;
    char *after = tu_read_file(ck, &len2);
    cr_assert_eq(len2, len);
    cr_assert_eq(memcmp(before, after, len), 0, "the previous checkpoint was changed");
    cr_assert_eq(count_tmp(run), 0);
    /* And the run goes on from it once there is room. */
    snprintf(args, sizeof args, "train --data '%s' --out '%s' --epochs 2 --resume %s", train, run,
             common);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    free(out), free(err), free(msg), free(errp), free(before), free(after), free(ck);
    free(train), free(run);
    tu_rmtree(dir);
    free(dir);
}

/* ---- unreadable inputs ----------------------------------------------------------------------- */

typedef imbal_status (*reader_fn)(imbal_ctx *ctx, const char *path);

static imbal_status read_npy(imbal_ctx *ctx, const char *path) {
    imbal_tensor t;
    imbal_status st = imbal_npy_read(ctx, path, &t);
    if (st == IMBAL_OK) imbal_tensor_free(&t);
    return st;
}
static imbal_status read_image(imbal_ctx *ctx, const char *path) {
    imbal_image img;
    imbal_decode_options o;
    imbal_decode_options_default(&o);
    imbal_status st = imbal_image_load(ctx, path, &o, &img);
    if (st == IMBAL_OK) imbal_image_free(&img);
    return st;
}
static imbal_status read_safetensors(imbal_ctx *ctx, const char *path) {
    imbal_safetensors *sf = NULL;
    imbal_status st = imbal_safetensors_open(ctx, path, &sf);
    imbal_safetensors_close(sf);
    return st;
}
static imbal_status read_manifest(imbal_ctx *ctx, const char *path) {
    imbal_dataset *ds = NULL;
    imbal_status st = imbal_dataset_open_manifest(ctx, path, 0, &ds);
    imbal_dataset_destroy(ds);
    return st;
}
static imbal_status read_manual_weights(imbal_ctx *ctx, const char *path) {
    double w[2];
    char spec[4200];
    snprintf(spec, sizeof spec, "@%.4000s", path);
    return imbal_weights_parse_manual(ctx, spec, NULL, 2, w);
}

static void check_reader(reader_fn fn, const char *what) {
    char *dir = tu_mkdtemp();
    imbal_ctx *ctx = tu_ctx();
    /* a directory where the file should be */
    char *d = tu_join(dir, "is_a_dir");
    cr_assert_eq(mkdir(d, 0755), 0);
    imbal_status st = fn(ctx, d);
    cr_assert_eq(st, IMBAL_ERR_IO, "%s on a directory: %s", what, imbal_status_string(st));
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "is_a_dir"), "%s", imbal_ctx_error(ctx));
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "Is a directory"), "%s", imbal_ctx_error(ctx));
    /* a dangling symlink */
    char *l = tu_join(dir, "dangling");
    cr_assert_eq(symlink("/nonexistent/imbal/target", l), 0);
    st = fn(ctx, l);
    cr_assert_eq(st, IMBAL_ERR_IO, "%s on a dangling link: %s", what, imbal_status_string(st));
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "dangling"), "%s", imbal_ctx_error(ctx));
    /* a FIFO nobody writes to: read as empty, refused as malformed, never waited on */
    char *f = tu_join(dir, "fifo");
    cr_assert_eq(mkfifo(f, 0644), 0);
    st = fn(ctx, f);
    cr_assert_neq(st, IMBAL_OK, "%s accepted an empty FIFO", what);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "fifo"), "%s", imbal_ctx_error(ctx));
    free(d), free(l), free(f);
    imbal_ctx_destroy(ctx);
    tu_rmtree(dir);
    free(dir);
}

Test(reliability_unreadable, npy) {
    check_reader(read_npy, "npy");
}
Test(reliability_unreadable, image) {
    check_reader(read_image, "image");
}
Test(reliability_unreadable, safetensors) {
    check_reader(read_safetensors, "safetensors");
}
Test(reliability_unreadable, manifest) {
    check_reader(read_manifest, "manifest");
}
Test(reliability_unreadable, manual_weights) {
    check_reader(read_manual_weights, "manual weights");
}
