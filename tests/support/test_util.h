/* imbal tests: shared helpers (temporary directories, files, running the CLI, chi-square). */
#ifndef IMBAL_TEST_UTIL_H
#define IMBAL_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/imbal.h"

/* A fresh directory under $TMPDIR (or /tmp); the caller removes it with tu_rmtree. Returns a
 * malloc'd path. Aborts the test (cr_assert) on failure. */
char *tu_mkdtemp(void);
/* rm -rf path (no symlink following). */
void tu_rmtree(const char *path);
/* Joins dir and name into a malloc'd path. */
char *tu_join(const char *dir, const char *name);
/* Writes text to path, creating parent directories. */
void tu_write_file(const char *path, const char *text);
/* Creates an empty (or tiny) file and its parent directories. */
void tu_touch(const char *path);
/* Reads a whole file (malloc'd, NUL-terminated); NULL if unreadable. */
char *tu_read_file(const char *path, size_t *len);

/* Runs the imbal command with `args` (a shell-quoted string) via /bin/sh; captures stdout and
 * stderr (malloc'd) and returns the exit status (or -1). */
int tu_run_cli(const char *args, char **out, char **err);

/* Upper-tail p-value of the chi-square distribution with `dof` degrees of freedom at `x`:
 * Q(dof/2, x/2), the regularised upper incomplete gamma function. */
double tu_chi2_pvalue(double x, double dof);
/* Pearson's statistic of observed counts against expected probabilities (cells with expected
 * 0 must have 0 observations, else +inf). Writes the degrees of freedom (non-empty cells - 1). */
double tu_chi2_stat(const int64_t *observed, const double *probs, int64_t cells, int64_t total,
                    double *dof);

/* Asserts that the safetensors files pa and pb hold the same tensors (names, sizes), byte for byte;
 * a failure message starts with `what` (e.g. which run). */
void tu_assert_same_tensors(imbal_ctx *ctx, const char *pa, const char *pb, const char *what);

/* A context that the test owns; aborts on failure. */
imbal_ctx *tu_ctx(void);

#endif
