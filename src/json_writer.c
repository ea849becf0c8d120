/* imbal command: streaming JSON writer. */
#include "json_writer.h"

#include <math.h>

void json_begin(json_writer *w, FILE *fp) {
    w->fp = fp;
    w->depth = 0;
    w->need_comma[0] = 0;
    w->after_key = 0;
}

/* Writes the separator a new value needs at the current level. */
static void json_sep(json_writer *w) {
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->need_comma[w->depth]) fputs(", ", w->fp);
    w->need_comma[w->depth] = 1;
}

static void json_open(json_writer *w, char c) {
    json_sep(w);
    fputc(c, w->fp);
    if (w->depth < 31) ++w->depth;
    w->need_comma[w->depth] = 0;
}

static void json_close(json_writer *w, char c) {
    if (w->depth > 0) --w->depth;
    fputc(c, w->fp);
}

void json_object_begin(json_writer *w) {
    json_open(w, '{');
}
void json_object_end(json_writer *w) {
    json_close(w, '}');
}
void json_array_begin(json_writer *w) {
    json_open(w, '[');
}
void json_array_end(json_writer *w) {
    json_close(w, ']');
}

static void json_escaped(FILE *fp, const char *s) {
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
        switch (*p) {
        case '"':
            fputs("\\\"", fp);
            break;
        case '\\':
            fputs("\\\\", fp);
            break;
        case '\n':
            fputs("\\n", fp);
            break;
        case '\r':
            fputs("\\r", fp);
            break;
        case '\t':
            fputs("\\t", fp);
            break;
        default:
            if (*p < 0x20)
                fprintf(fp, "\\u%04x", *p);
            else
                fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

void json_key(json_writer *w, const char *key) {
    json_sep(w);
    json_escaped(w->fp, key);
    fputs(": ", w->fp);
    w->after_key = 1;
}

void json_string(json_writer *w, const char *s) {
    json_sep(w);
    json_escaped(w->fp, s ? s : "");
}

void json_int(json_writer *w, int64_t v) {
    json_sep(w);
    fprintf(w->fp, "%lld", (long long)v);
}

void json_double(json_writer *w, double v) {
    json_sep(w);
    if (!isfinite(v))
        fputs("null", w->fp);
    else
        fprintf(w->fp, "%.17g", v);
}

void json_bool(json_writer *w, int v) {
    json_sep(w);
    fputs(v ? "true" : "false", w->fp);
}

void json_null(json_writer *w) {
    json_sep(w);
    fputs("null", w->fp);
}

void json_end(json_writer *w) {
    fputc('\n', w->fp);
    fflush(w->fp);
}

void json_kv_string(json_writer *w, const char *key, const char *s) {
    json_key(w, key);
    json_string(w, s);
}

void json_kv_int(json_writer *w, const char *key, int64_t v) {
    json_key(w, key);
    json_int(w, v);
}

void json_kv_double(json_writer *w, const char *key, double v) {
    json_key(w, key);
    json_double(w, v);
}

void json_kv_int_array(json_writer *w, const char *key, const int64_t *v, int64_t n) {
    json_key(w, key);
    json_array_begin(w);
    for (int64_t i = 0; i < n; ++i)
        json_int(w, v[i]);
    json_array_end(w);
}

void json_kv_double_array(json_writer *w, const char *key, const double *v, int64_t n) {
    json_key(w, key);
    json_array_begin(w);
    for (int64_t i = 0; i < n; ++i)
        json_double(w, v[i]);
    json_array_end(w);
}
