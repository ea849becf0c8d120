/* imbal: a streaming CSV reader (RFC 4180 quoting) for manifests and class maps; not installed.
 *
 * Fields may be double-quoted, with "" for a quote; quoted fields may hold commas and newlines.
 * CRLF and LF line ends are both accepted; blank lines are skipped; optionally, lines whose first
 * character is `comment` are skipped. Errors name the file and the 1-based line where the record
 * began ("<what> '<path>' <unit> N: ..."). The file is read in 1 MiB blocks, never whole. */
#ifndef IMBAL_CSV_READER_H
#define IMBAL_CSV_READER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "imbal/status.h"

typedef struct imbal_csv_reader {
    FILE *fp;
    const char *path; /* borrowed, for messages */
    const char *what; /* "manifest", "class map" */
    const char *unit; /* "row", "line" */
    int comment;      /* 0 for none */
    char *buf;
    size_t buf_len, buf_pos;
    int eof;
    char *text; /* the record's fields, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *field_start;
    int num_fields, field_cap;
    int64_t line;        /* 1-based line of the read position */
    int64_t record_line; /* line where the current record began */
} imbal_csv_reader;

imbal_status imbal_csv_open(imbal_ctx *ctx, imbal_csv_reader *r, const char *path, const char *what,
                            const char *unit, int comment);
/* Reads the next non-blank record: *got = 1, or 0 at the end of the file. */
imbal_status imbal_csv_next(imbal_ctx *ctx, imbal_csv_reader *r, int *got);
/* Field i of the current record and its length (fields never hold a NUL byte). */
const char *imbal_csv_field(const imbal_csv_reader *r, int i, size_t *len);
void imbal_csv_close(imbal_csv_reader *r);

#endif
