/* imbal: opening an input file for reading (see input_file.h). */
#include "input_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *imbal_fopen_input(const char *path) {
    if (!path) {
        errno = EINVAL;
        return NULL;
    }
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat sb;
    int is_dir = 0;
    if (fstat(fd, &sb) != 0 || (is_dir = S_ISDIR(sb.st_mode))) {
        int err = is_dir ? EISDIR : errno;
        close(fd);
        errno = err;
        return NULL;
    }
    /* Blocking reads from here on: O_NONBLOCK was only for the open of a FIFO. */
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1) {
        int err = errno;
        close(fd);
        errno = err;
        return NULL;
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        int err = errno;
        close(fd);
        errno = err;
    }
    return fp;
}
