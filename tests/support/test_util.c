/* imbal tests: shared helpers. */
#include "test_util.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "imbal/safetensors.h"

char *tu_mkdtemp(void) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    char *path = malloc(strlen(base) + 32);
    cr_assert_not_null(path);
    sprintf(path, "%s/imbal-test-XXXXXX", base);
    cr_assert_not_null(mkdtemp(path), "mkdtemp failed: %s", strerror(errno));
    return path;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path) {
    if (path) nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_join(const char *dir, const char *name) {
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    cr_assert_not_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void mkparents(const char *path) {
    char *p = strdup(path);
    for (char *s = p + 1; *s; ++s) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0777);
            *s = '/';
        }
    }
    free(p);
}

void tu_write_file(const char *path, const char *text) {
    mkparents(path);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

void tu_touch(const char *path) {
    tu_write_file(path, "x");
}

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int tu_run_cli(const char *args, char **out, char **err) {
    char *dir = tu_mkdtemp();
    char *out_path = tu_join(dir, "stdout"), *err_path = tu_join(dir, "stderr");
    size_t len = strlen(args) + strlen(out_path) + strlen(err_path) + strlen(IMBAL_CLI_PATH) + 64;
    char *cmd = malloc(len);
    snprintf(cmd, len, "'%s' %s >'%s' 2>'%s' </dev/null", IMBAL_CLI_PATH, args, out_path, err_path);
    int st = system(cmd);
    int code = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
    char *o = tu_read_file(out_path, NULL), *e = tu_read_file(err_path, NULL);
    if (out)
        *out = o ? o : strdup("");
    else
        free(o);
    if (err)
        *err = e ? e : strdup("");
    else
        free(e);
    tu_rmtree(dir);
    free(dir), free(out_path), free(err_path), free(cmd);
    return code;
}

/* Regularised gamma functions by series (x < a + 1) and Lentz's continued fraction (otherwise),
 * the standard pairing that keeps both convergent (Numerical Recipes, section 6.2). */
static double gamma_p_series(double a, double x) {
    double sum = 1.0 / a, term = sum;
    for (int n = 1; n < 100000; ++n) {
        term *= x / (a + n);
        sum += term;
        if (fabs(term) < fabs(sum) * 1e-15) break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

static double gamma_q_fraction(double a, double x) {
    const double tiny = 1e-300;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 100000; ++i) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny) d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15) break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

double tu_chi2_pvalue(double x, double dof) {
    if (x <= 0) return 1.0;
    double a = dof / 2.0, y = x / 2.0;
    if (y < a + 1.0) return 1.0 - gamma_p_series(a, y);
    return gamma_q_fraction(a, y);
}

double tu_chi2_stat(const int64_t *observed, const double *probs, int64_t cells, int64_t total,
                    double *dof) {
    double stat = 0.0;
    int64_t used = 0;
    for (int64_t i = 0; i < cells; ++i) {
        double e = probs[i] * (double)total;
        if (e <= 0) {
            if (observed[i] != 0) return INFINITY;
            continue;
        }
        double d = (double)observed[i] - e;
        stat += d * d / e;
        ++used;
    }
    if (dof) *dof = (double)(used - 1);
    return stat;
}

imbal_ctx *tu_ctx(void) {
    imbal_ctx *ctx = NULL;
    cr_assert_eq(imbal_ctx_create(&ctx), IMBAL_OK, "%s", imbal_ctx_error(NULL));
    return ctx;
}

void tu_assert_same_tensors(imbal_ctx *ctx, const char *pa, const char *pb, const char *what) {
    imbal_safetensors *sa = NULL, *sb = NULL;
    cr_assert_eq(imbal_safetensors_open(ctx, pa, &sa), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_safetensors_open(ctx, pb, &sb), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(imbal_safetensors_count(sa), imbal_safetensors_count(sb), "%s", what);
    for (int i = 0; i < imbal_safetensors_count(sa); i++) {
        const char *name = imbal_safetensors_name(sa, i);
        imbal_tensor ta, tb;
        cr_assert_eq(imbal_safetensors_get(ctx, sa, name, &ta), IMBAL_OK, "%s", name);
        cr_assert_eq(imbal_safetensors_get(ctx, sb, name, &tb), IMBAL_OK, "%s", name);
        cr_assert_eq(imbal_tensor_nbytes(&ta), imbal_tensor_nbytes(&tb), "%s: %s", what, name);
        cr_assert_eq(memcmp(ta.data, tb.data, imbal_tensor_nbytes(&ta)), 0, "%s: %s differs", what,
                     name);
    }
    imbal_safetensors_close(sa);
    imbal_safetensors_close(sb);
}
