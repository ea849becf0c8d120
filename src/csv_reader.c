/* imbal: the streaming CSV reader (see csv_reader.h). */
#include "csv_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "input_file.h"
#include "internal.h"

#define CSV_BLOCK (1u << 20)

imbal_status imbal_csv_open(imbal_ctx *ctx, imbal_csv_reader *r, const char *path, const char *what,
                            const char *unit, int comment) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->what = what;
    r->unit = unit;
    r->comment = comment;
    r->line = 1;
    r->fp = imbal_fopen_input(path);
    if (!r->fp)
        return imbal_fail(ctx, IMBAL_ERR_IO, "%s '%s' cannot be opened: %s", what, path,
                          strerror(errno));
    r->buf = imbal_xmalloc(ctx, CSV_BLOCK, 1, "CSV read buffer");
    if (!r->buf) {
        imbal_csv_close(r);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    return IMBAL_OK;
}

void imbal_csv_close(imbal_csv_reader *r) {
    if (r->fp) fclose(r->fp);
    free(r->buf);
    free(r->text);
    free(r->field_start);
    memset(r, 0, sizeof *r);
}

/* Makes at least one unread byte available; returns 0 at the end of the file (or on error,
 * which *err reports). */
static int fill(imbal_csv_reader *r, int *err) {
    if (r->buf_pos < r->buf_len) return 1;
    if (r->eof) return 0;
    r->buf_len = fread(r->buf, 1, CSV_BLOCK, r->fp);
    r->buf_pos = 0;
    if (r->buf_len < CSV_BLOCK) {
        if (ferror(r->fp)) *err = errno ? errno : EIO;
        r->eof = 1;
    }
    return r->buf_len > 0;
}

static int getch(imbal_csv_reader *r, int *err) {
    if (!fill(r, err)) return EOF;
    return (unsigned char)r->buf[r->buf_pos++];
}

static int peekch(imbal_csv_reader *r, int *err) {
    if (!fill(r, err)) return EOF;
    return (unsigned char)r->buf[r->buf_pos];
}

static int append(imbal_ctx *ctx, imbal_csv_reader *r, char c) {
    if (r->text_len == r->text_cap) {
        size_t cap = r->text_cap ? r->text_cap * 2 : 256;
        char *t = imbal_xrealloc(ctx, r->text, cap, 1, "CSV record");
        if (!t) return 0;
        r->text = t;
        r->text_cap = cap;
    }
    r->text[r->text_len++] = c;
    return 1;
}

static int start_field(imbal_ctx *ctx, imbal_csv_reader *r) {
    if (r->num_fields == r->field_cap) {
        int cap = r->field_cap ? r->field_cap * 2 : 8;
        size_t *f = imbal_xrealloc(ctx, r->field_start, (size_t)cap, sizeof *f, "CSV fields");
        if (!f) return 0;
        r->field_start = f;
        r->field_cap = cap;
    }
    r->field_start[r->num_fields++] = r->text_len;
    return 1;
}

static imbal_status fail_at(imbal_ctx *ctx, const imbal_csv_reader *r, const char *why) {
    return imbal_fail(ctx, IMBAL_ERR_FORMAT, "%s '%s' %s %lld: %s", r->what, r->path, r->unit,
                      (long long)r->record_line, why);
}

/* A '\r' ends the line when a '\n' or the end of the file follows (the '\n' is consumed). */
static int cr_ends_line(imbal_csv_reader *r, int *err) {
    int p = peekch(r, err);
    if (p == '\n') {
        r->buf_pos++;
        return '\n';
    }
    return p == EOF ? EOF : 0;
}

/* Reads one record whose first character is c. */
static imbal_status read_record(imbal_ctx *ctx, imbal_csv_reader *r, int c, int *err) {
    for (;;) {
        if (!start_field(ctx, r)) return IMBAL_ERR_OUT_OF_MEMORY;
        if (c == '"') {
            for (;;) {
                c = getch(r, err);
                if (c == EOF) return fail_at(ctx, r, "a quoted field is not closed");
                if (c == '"') {
                    c = getch(r, err);
                    if (c != '"') break;
                } else if (c == '\n') {
                    r->line++;
                } else if (c == '\0') {
                    return fail_at(ctx, r, "the record holds a NUL byte");
                }
                if (!append(ctx, r, (char)c)) return IMBAL_ERR_OUT_OF_MEMORY;
            }
            if (c == '\r') {
                int end = cr_ends_line(r, err);
                if (end == 0) return fail_at(ctx, r, "unexpected character after a closing quote");
                c = end;
            }
            if (c != ',' && c != '\n' && c != EOF)
                return fail_at(ctx, r, "unexpected character after a closing quote");
        } else {
            while (c != ',' && c != '\n' && c != EOF) {
                if (c == '\r') {
                    int end = cr_ends_line(r, err);
                    if (end != 0) {
                        c = end;
                        break;
                    }
                } else if (c == '\0') {
                    return fail_at(ctx, r, "the record holds a NUL byte");
                }
                if (!append(ctx, r, (char)c)) return IMBAL_ERR_OUT_OF_MEMORY;
                c = getch(r, err);
            }
        }
        if (!append(ctx, r, '\0')) return IMBAL_ERR_OUT_OF_MEMORY;
        if (c == ',') {
            c = getch(r, err);
            continue;
        }
        if (c == '\n') r->line++;
        return IMBAL_OK;
    }
}

imbal_status imbal_csv_next(imbal_ctx *ctx, imbal_csv_reader *r, int *got) {
    *got = 0;
    int err = 0;
    for (;;) {
        r->text_len = 0;
        r->num_fields = 0;
        r->record_line = r->line;
        int c = getch(r, &err);
        if (c == EOF) break;
        if (c == '\n') {
            r->line++;
            continue;
        }
        if (c == '\r') {
            int end = cr_ends_line(r, &err);
            if (end == '\n') r->line++;
            if (end != 0) continue;
        }
        if (r->comment && c == r->comment) {
            while (c != '\n' && c != EOF)
                c = getch(r, &err);
            if (c == '\n') r->line++;
            continue;
        }
        imbal_status st = read_record(ctx, r, c, &err);
        if (st == IMBAL_OK && err == 0) *got = 1;
        if (st != IMBAL_OK) return st;
        break;
    }
    if (err)
        return imbal_fail(ctx, IMBAL_ERR_IO, "%s '%s': read error near %s %lld: %s", r->what,
                          r->path, r->unit, (long long)r->line, strerror(err));
    return IMBAL_OK;
}

const char *imbal_csv_field(const imbal_csv_reader *r, int i, size_t *len) {
    size_t start = r->field_start[i];
    size_t end = i + 1 < r->num_fields ? r->field_start[i + 1] - 1 : r->text_len - 1;
    if (len) *len = end - start;
    return r->text + start;
}
