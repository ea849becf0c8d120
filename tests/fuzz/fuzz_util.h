/* imbal fuzz targets: what they share. Parsers that only take a path (manifests, merge maps, .npy,
 * safetensors) read the fuzz input from one memfd per process, rewritten for every input and
 * named by its /proc/self/fd path: nothing is written to disk and no file is left behind. */
#ifndef IMBAL_FUZZ_UTIL_H
#define IMBAL_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "imbal/imbal.h"

/* Every target defines this (libFuzzer's entry point; replay_main.c calls it too). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A path whose file now holds exactly data[0..size): the process's memfd, rewritten. NULL if the
 * memfd cannot be made or written (the input is then skipped). `name` labels the memfd. */
const char *fuzz_file_path(const char *name, const uint8_t *data, size_t size);

/* A fresh single-threaded context (OpenMP teams would only slow the tiny inputs down), or NULL. */
imbal_ctx *fuzz_ctx(void);

/* A NUL-terminated malloc'd copy of data[0..size) (NULL on OOM). */
char *fuzz_strndup(const uint8_t *data, size_t size);

#endif
