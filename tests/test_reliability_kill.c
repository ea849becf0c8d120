/* Faults: a writer killed (SIGKILL) at random points. The previous file must still load, a
 * leftover temporary file is never taken for the real one, and `imbal train --resume` after the
 * kill reaches the same weights, bit for bit, as a run that was never interrupted. The kill
 * delays come from Philox (IMBAL_OP_TEST), so every run of the test kills at the same points. */
/* No Criterion .timeout here: with --jobs 2, Criterion 2.4's runner leaks 48 bytes for timed
 * tests and LeakSanitizer then fails the binary; ctest's TIMEOUT bounds them instead. */
#include <criterion/criterion.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "imbal/imbal.h"
#include "imbal/philox.h"
#include "test_util.h"
#include "tiny_set.h"

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static long delay_us(uint64_t point, long max_us) {
    imbal_rng r;
    imbal_rng_init(&r, 2024, 0, point, IMBAL_OP_TEST);
    return (long)imbal_rng_below(&r, (uint32_t)max_us);
}

/* Kills pid (if still running) and reaps it; returns 1 when the kill landed. */
static int kill_and_reap(pid_t pid) {
    int status = 0;
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) return 0;
    kill(pid, SIGKILL);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

/* Counts the "<name>.tmp.*" leftovers of killed writers in dir. A kill that landed before the
 * writer created dir (an early kill of a fast run) left none. */
static int count_tmp(const char *dir, const char *name) {
    DIR *d = opendir(dir);
    if (!d && errno == ENOENT) return 0;
    cr_assert_not_null(d, "%s: %s", dir, strerror(errno));
    int n = 0;
    size_t len = strlen(name);
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, name, len) == 0 && strncmp(e->d_name + len, ".tmp.", 5) == 0;
    closedir(d);
    return n;
}

/* ---- the atomic writer itself, killed in the middle of large writes -------------------------- */

#define GEN_BYTES (1u << 20)

/* Generation g of the file: GEN_BYTES bytes, every 32-bit word = g. */
static void fill_gen(uint32_t *buf, uint32_t g) {
    for (size_t i = 0; i < GEN_BYTES / 4; i++)
        buf[i] = g;
}

Test(reliability_kill, atomic_writer_killed_leaves_a_whole_generation) {
    char *dir = tu_mkdtemp();
    char *path = tu_join(dir, "data.bin");
    uint32_t *buf = malloc(GEN_BYTES);
    cr_assert_not_null(buf);
    fill_gen(buf, 1);
    cr_assert_eq(imbal_atomic_write_all(NULL, path, buf, GEN_BYTES), IMBAL_OK);
    int landed = 0;
    for (uint64_t point = 0; point < 8; point++) {
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) { /* rewrite the file forever, each generation whole */
            for (uint32_t g = 2;; g++) {
                fill_gen(buf, g);
                if (imbal_atomic_write_all(NULL, path, buf, GEN_BYTES) != IMBAL_OK) _exit(3);
            }
        }
        sleep_us(2000 + delay_us(point, 40000));
        landed += kill_and_reap(pid);
        /* The file is one whole generation: full length, every word equal. */
        size_t len = 0;
        uint32_t *got = (uint32_t *)tu_read_file(path, &len);
        cr_assert_not_null(got);
        cr_assert_eq(len, GEN_BYTES, "kill %d: the file has %zu bytes", (int)point, len);
        for (size_t i = 1; i < GEN_BYTES / 4; i++)
            cr_assert_eq(got[i], got[0], "kill %d: word %zu is from another generation", (int)point,
                         i);
        free(got);
    }
    cr_expect_eq(landed, 8);
    free(buf);
    tu_rmtree(dir);
    free(path);
    free(dir);
}

/* ---- imbal train killed, then resumed -------------------------------------------------------- */

/* 3 classes told apart by where a bright square sits (tiny_set.h, as in test_train.c), 16 x 16
 * PNGs, 12/6/3 images. */
static void make_set(const char *train) {
    unsigned seed = 5;
    tiny_set_write_split(train, 3, 12, 1, &seed);
}

/* The run's arguments: 3 main epochs and 1 cRT epoch of a tiny resnet. */
static void train_argv(const char *argv[32], const char *train, const char *out, int resume) {
    int n = 0;
    const char *fixed[] = {IMBAL_CLI_PATH, "train",
                           "--arch",       "resnet8",
                           "--width",      "4",
                           "--size",       "16",
                           "--epochs",     "3",
                           "--crt-epochs", "1",
                           "--batch",      "16",
                           "--lr",         "0.05",
                           "--augment",    "crop=16:pad=1,normalize=cifar10",
                           "--seed",       "11",
                           "--threads",    "1",
                           "--quiet"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[n++] = fixed[i];
    argv[n++] = "--data";
    argv[n++] = train;
    argv[n++] = "--out";
    argv[n++] = out;
    if (resume) argv[n++] = "--resume";
    argv[n] = NULL;
}

static pid_t spawn_train(const char *train, const char *out, int resume) {
    const char *argv[32];
    train_argv(argv, train, out, resume);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
        }
        execv(IMBAL_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int run_train(const char *train, const char *out, int resume) {
    pid_t pid = spawn_train(train, out, resume);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

Test(reliability_kill, train_killed_then_resumed_equals_uninterrupted) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    char *train = tu_join(dir, "train"), *ref = tu_join(dir, "ref");
    make_set(train);
    /* The uninterrupted run, timed: the kill points spread over its length. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(run_train(train, ref, 0), 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long run_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    char *ref_ck = tu_join(ref, "checkpoint.safetensors");
    for (int point = 0; point < 3; point++) {
        char name[32];
        snprintf(name, sizeof name, "run%d", point);
        char *out = tu_join(dir, name), *ck = tu_join(out, "checkpoint.safetensors");
        pid_t pid = spawn_train(train, out, 0);
        /* Point 0 kills anywhere in the run (maybe before the first checkpoint: then the
         * re-run starts afresh); the others after the first checkpoint exists. */
        if (point > 0)
            for (int i = 0; i < 20000 && !exists(ck); i++)
                sleep_us(500);
        long d = delay_us((uint64_t)point + 100, (long)(run_us > 10 ? run_us / 3 : 10));
        sleep_us(d);
        (void)kill_and_reap(pid);
        if (exists(ck)) {
            /* The previous checkpoint loads: its description and every tensor read back. */
            imbal_safetensors *sf = NULL;
            cr_assert_eq(imbal_safetensors_open(ctx, ck, &sf), IMBAL_OK, "kill %d after %ld us: %s",
                         point, d, imbal_ctx_error(ctx));
            cr_assert_gt(imbal_safetensors_count(sf), 0);
            for (int i = 0; i < imbal_safetensors_count(sf); i++) {
                imbal_tensor t;
                cr_assert_eq(imbal_safetensors_get(ctx, sf, imbal_safetensors_name(sf, i), &t),
                             IMBAL_OK, "%s", imbal_ctx_error(ctx));
            }
            imbal_safetensors_close(sf);
        }
        /* A leftover temporary checkpoint is never the checkpoint: --resume reads only the
         * final name (and, with no checkpoint yet, says so). */
        int tmps = count_tmp(out, "checkpoint.safetensors");
        cr_assert_leq(tmps, 1);
        int rc = run_train(train, out, exists(ck));
        cr_assert_eq(rc, 0, "kill %d after %ld us: --resume exited %d", point, d, rc);
        char what[64];
        snprintf(what, sizeof what, "kill %d, after --resume", point);
        tu_assert_same_tensors(ctx, ref_ck, ck, what);
        /* metrics.jsonl: one line per epoch, as in the uninterrupted run. */
        char *mj = tu_join(out, "metrics.jsonl");
        size_t len = 0;
        char *text = tu_read_file(mj, &len);
        cr_assert_not_null(text);
        int lines = 0;
        for (size_t i = 0; i < len; i++)
            lines += text[i] == '\n';
        cr_assert_eq(lines, 4, "kill %d: metrics.jsonl has %d lines", point, lines);
        free(text), free(mj), free(out), free(ck);
    }
    tu_rmtree(dir);
    free(ref_ck), free(train), free(ref), free(dir);
    imbal_ctx_destroy(ctx);
}

/* A truncated checkpoint (what a writer without the temp-and-rename step would leave) is refused
 * with a message naming the file, at every length, and --resume refuses it too. */
Test(reliability_kill, truncated_checkpoint_is_refused) {
    imbal_ctx *ctx = tu_ctx();
    char *dir = tu_mkdtemp();
    char *train = tu_join(dir, "train"), *run = tu_join(dir, "run");
    make_set(train);
    char *ck = tu_join(run, "checkpoint.safetensors");
    char args[8192];
    snprintf(args, sizeof args,
             "train --data '%s' --out '%s' --arch resnet8 --width 8 --size 16 --epochs 1 "
             "--batch 16 --seed 3 --quiet",
             train, run);
    char *out = NULL, *err = NULL;
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    free(out), free(err);
    size_t len = 0;
    char *whole = tu_read_file(ck, &len);
    cr_assert_not_null(whole);
    char *bad = tu_join(dir, "bad.safetensors");
    for (int k = 0; k < 24; k++) {
        imbal_rng r;
        imbal_rng_init(&r, 7, 0, (uint64_t)k, IMBAL_OP_TEST);
        size_t cut = k < 4 ? (size_t)k * 3 : imbal_rng_below64(&r, len);
        cr_assert_eq(imbal_atomic_write_all(NULL, bad, whole, cut), IMBAL_OK);
        imbal_safetensors *sf = NULL;
        imbal_status st = imbal_safetensors_open(ctx, bad, &sf);
        cr_assert_neq(st, IMBAL_OK, "a checkpoint cut at %zu of %zu bytes was accepted", cut, len);
        cr_assert_not_null(strstr(imbal_ctx_error(ctx), "bad.safetensors"), "%s",
                           imbal_ctx_error(ctx));
    }
    /* --resume on a cut checkpoint: a clear error, exit status 1, the file left as it was. */
    cr_assert_eq(imbal_atomic_write_all(NULL, ck, whole, len / 2), IMBAL_OK);
    snprintf(args, sizeof args,
             "train --data '%s' --out '%s' --arch resnet8 --width 8 --size 16 --epochs 2 "
             "--batch 16 --seed 3 --quiet --resume",
             train, run);
    int rc = tu_run_cli(args, &out, &err);
    cr_assert_neq(rc, 0);
    cr_assert_not_null(strstr(err, "checkpoint.safetensors"), "%s", err);
    size_t len2 = 0;
    char *after = tu_read_file(ck, &len2);
    cr_assert_eq(len2, len / 2);
    free(after), free(out), free(err);
    free(whole), free(bad), free(ck), free(train), free(run);
    tu_rmtree(dir);
    free(dir);
    imbal_ctx_destroy(ctx);
}
