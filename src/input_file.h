/* imbal: opening an input file for reading without hanging or misreading on what is not a file. */
#ifndef IMBAL_INPUT_FILE_H
#define IMBAL_INPUT_FILE_H

#include <stdio.h>

/* fopen(path, "rb") for the library's readers, with two differences: a directory is refused
 * (NULL, errno = EISDIR; fopen would open it and fail later on read), and a FIFO opens without
 * blocking (O_NONBLOCK for the open only): with no writer it reads as an empty file instead of
 * hanging the caller forever; with a writer (a shell's <(...)) it reads as usual. On failure
 * returns NULL with errno set, so callers report strerror(errno) as with fopen. */
FILE *imbal_fopen_input(const char *path);

#endif
