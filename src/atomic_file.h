/* imbal: crash-safe output files. Data goes to "<path>.tmp.XXXXXX" in the same directory, is
 * flushed and fsync'd, then renamed over <path> and the directory fsync'd: a reader sees either
 * the old file or the whole new one, never a partial file. */
#ifndef IMBAL_ATOMIC_FILE_H
#define IMBAL_ATOMIC_FILE_H

#include <stdio.h>

#include "imbal/status.h"

typedef struct imbal_atomic_file {
    FILE *fp;         /* write here */
    char *final_path; /* owned */
    char *tmp_path;   /* owned */
} imbal_atomic_file;

/* Opens a temporary file beside `path`. */
imbal_status imbal_atomic_open(imbal_ctx *ctx, imbal_atomic_file *f, const char *path);

/* Flushes, fsyncs, closes and renames onto the final path. Checks every step (a full disk shows
 * up here) and, on failure, removes the temporary file and leaves any old file untouched. */
imbal_status imbal_atomic_commit(imbal_ctx *ctx, imbal_atomic_file *f);

/* Closes and removes the temporary file. Safe on a zeroed struct and after commit. */
void imbal_atomic_abort(imbal_atomic_file *f);

/* Writes a whole buffer to `path` atomically. */
imbal_status imbal_atomic_write_all(imbal_ctx *ctx, const char *path, const void *data, size_t len);

/* mkdir -p: creates `path` and its missing parents (mode 0777 before umask). */
imbal_status imbal_mkdirs(imbal_ctx *ctx, const char *path);

#endif
