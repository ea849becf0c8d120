/* imbal: parsing manual class weights ("2,1,0.5", "cat=2,dog=0.5" or "@FILE"); grammar in
 * docs/weights.md. Inline specs fail with IMBAL_ERR_INVALID_ARGUMENT, file content with
 * IMBAL_ERR_FORMAT, an unreadable file with IMBAL_ERR_IO. out is written only on success. */
#include "imbal/weights.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input_file.h"
#include "internal.h"

typedef struct manual_state {
    imbal_ctx *ctx;
    const char *const *names;
    int k;
    double *w;
    unsigned char *seen;
    imbal_status err;  /* status for content errors: INVALID_ARGUMENT inline, FORMAT in a file */
    const char *where; /* "manual weights" or "manual weights file 'x' line 3" */
} manual_state;

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t')
        ++s;
    size_t len = strlen(s);
    while (len > 0 &&
           (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' || s[len - 1] == '\n'))
        s[--len] = '\0';
    return s;
}

static const char *class_label(const manual_state *st, int c, char *buf, size_t size) {
    if (st->names && st->names[c])
        snprintf(buf, size, "class '%s' (id %d)", st->names[c], c);
    else
        snprintf(buf, size, "class %d", c);
    return buf;
}

/* A whole token as a finite weight >= 0 (strtod, nothing left over). */
static imbal_status parse_weight(const manual_state *st, const char *tok, int c, double *out) {
    char buf[320];
    if (*tok == '\0')
        return imbal_fail(st->ctx, st->err, "%s: empty weight for %s", st->where,
                          class_label(st, c, buf, sizeof buf));
    char *end = NULL;
    errno = 0;
    double v = strtod(tok, &end);
    if (end == tok || *end != '\0')
        return imbal_fail(st->ctx, st->err, "%s: cannot parse weight '%s' for %s", st->where, tok,
                          class_label(st, c, buf, sizeof buf));
    if (!isfinite(v))
        return imbal_fail(st->ctx, st->err, "%s: weight '%s' for %s is not finite", st->where, tok,
                          class_label(st, c, buf, sizeof buf));
    if (v < 0.0)
        return imbal_fail(st->ctx, st->err, "%s: weight '%s' for %s is negative", st->where, tok,
                          class_label(st, c, buf, sizeof buf));
    *out = v + 0.0; /* -0 becomes +0 */
    return IMBAL_OK;
}

/* A key names a class if it equals a class name; otherwise it must be a decimal id in [0, K). */
static int lookup_class(const manual_state *st, const char *key) {
    if (st->names)
        for (int c = 0; c < st->k; ++c)
            if (st->names[c] && strcmp(st->names[c], key) == 0) return c;
    if (*key == '\0') return -1;
    char *end = NULL;
    errno = 0;
    long id = strtol(key, &end, 10);
    if (*end != '\0' || errno != 0 || id < 0 || id >= st->k || !(key[0] >= '0' && key[0] <= '9'))
        return -1;
    return (int)id;
}

static imbal_status assign_pair(manual_state *st, char *key, char *value) {
    key = trim(key);
    value = trim(value);
    char buf[320];
    int c = lookup_class(st, key);
    if (c < 0)
        return imbal_fail(st->ctx, st->err,
                          "%s: unknown class '%s' (not a class name nor an id in 0..%d)", st->where,
                          key, st->k - 1);
    if (st->seen[c])
        return imbal_fail(st->ctx, st->err, "%s: %s is given more than once (again as '%s')",
                          st->where, class_label(st, c, buf, sizeof buf), key);
    st->seen[c] = 1;
    return parse_weight(st, value, c, &st->w[c]);
}

/* The number of comma-separated fields in s. */
static int count_fields(const char *s) {
    int n = 1;
    for (; *s; ++s)
        n += *s == ',';
    return n;
}

static imbal_status parse_plain_list(manual_state *st, char *s) {
    int m = count_fields(s);
    if (m != st->k)
        return imbal_fail(st->ctx, st->err,
                          "%s: expected %d weights (one per class, in class-id order), got %d",
                          st->where, st->k, m);
    char *p = s;
    for (int c = 0; c < st->k; ++c) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        imbal_status r = parse_weight(st, trim(p), c, &st->w[c]);
        if (r != IMBAL_OK) return r;
        p = comma ? comma + 1 : p + strlen(p);
    }
    return IMBAL_OK;
}

static imbal_status parse_pairs(manual_state *st, char *s) {
    char *p = s;
    for (int i = 1;; ++i) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        char *tok = trim(p);
        char *eq = strrchr(tok, '=');
        if (!eq)
            return imbal_fail(st->ctx, st->err,
                              "%s: entry %d '%s' is not name=weight (do not mix a plain list with "
                              "name=weight pairs)",
                              st->where, i, tok);
        *eq = '\0';
        imbal_status r = assign_pair(st, tok, eq + 1);
        if (r != IMBAL_OK) return r;
        if (!comma) break;
        p = comma + 1;
    }
    return IMBAL_OK;
}

static imbal_status parse_file(manual_state *st, const char *path) {
    FILE *f = imbal_fopen_input(path);
    if (!f)
        return imbal_fail(st->ctx, IMBAL_ERR_IO, "manual weights: cannot open file '%s': %s", path,
                          strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int entries = 0;
    char where[4352];
    imbal_status r = IMBAL_OK;
    st->where = where;
    st->err = IMBAL_ERR_FORMAT;
    while (getline(&line, &cap, f) >= 0) {
        ++lineno;
        snprintf(where, sizeof where, "manual weights file '%s' line %ld", path, lineno);
        char *s = trim(line);
        if (*s == '\0' || *s == '#') continue;
        char *comma = strrchr(s, ',');
        if (!comma) {
            r = imbal_fail(st->ctx, st->err, "%s: expected 'name_or_id,weight', got '%s'", where,
                           s);
            break;
        }
        *comma = '\0';
        r = assign_pair(st, s, comma + 1);
        if (r != IMBAL_OK) break;
        ++entries;
    }
    if (r == IMBAL_OK && ferror(f))
        r = imbal_fail(st->ctx, IMBAL_ERR_IO, "manual weights: error reading file '%s'", path);
    if (r == IMBAL_OK && entries == 0)
        r = imbal_fail(st->ctx, IMBAL_ERR_FORMAT, "manual weights file '%s' has no weights", path);
    free(line);
    fclose(f);
    st->where = "manual weights";
    return r;
}

imbal_status imbal_weights_parse_manual(imbal_ctx *ctx, const char *spec, const char *const *names,
                                        int num_classes, double *out) {
    if (!spec || !out)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_weights_parse_manual: spec or out is NULL");
    if (num_classes < 1)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "imbal_weights_parse_manual: num_classes must be >= 1, got %d",
                          num_classes);
    manual_state st = {
        ctx, names, num_classes, NULL, NULL, IMBAL_ERR_INVALID_ARGUMENT, "manual weights"};
    st.w = imbal_xmalloc(ctx, (size_t)num_classes, sizeof *st.w, "manual weights");
    st.seen = imbal_xcalloc(ctx, (size_t)num_classes, 1, "manual weights");
    char *copy = imbal_xstrdup(ctx, spec);
    imbal_status r = IMBAL_OK;
    if (!st.w || !st.seen || !copy) {
        r = IMBAL_ERR_OUT_OF_MEMORY;
        goto done;
    }
    for (int c = 0; c < num_classes; ++c)
        st.w[c] = 1.0; /* classes not named get 1 */
    char *s = trim(copy);
    if (*s == '\0') {
        r = imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "manual weights: the spec is empty");
    } else if (*s == '@') {
        char *path = trim(s + 1);
        if (*path == '\0')
            r = imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                           "manual weights: '@' must be followed by a file name");
        else
            r = parse_file(&st, path);
    } else if (strchr(s, '=')) {
        r = parse_pairs(&st, s);
    } else {
        r = parse_plain_list(&st, s);
    }
    if (r == IMBAL_OK) memcpy(out, st.w, (size_t)num_classes * sizeof *out);
done:
    free(copy);
    free(st.seen);
    free(st.w);
    return r;
}
