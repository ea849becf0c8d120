/* imbal: crash-safe output files (see atomic_file.h). */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

imbal_status imbal_atomic_open(imbal_ctx *ctx, imbal_atomic_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    if (!path || !*path) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "output path is empty");
    size_t n = strlen(path);
    f->final_path = imbal_xstrdup(ctx, path);
    f->tmp_path = imbal_xmalloc(ctx, n + 16, 1, "temporary path");
    if (!f->final_path || !f->tmp_path) {
        imbal_atomic_abort(f);
        return IMBAL_ERR_OUT_OF_MEMORY;
    }
    snprintf(f->tmp_path, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(f->tmp_path);
    if (fd < 0) {
        imbal_status st =
            imbal_fail(ctx, IMBAL_ERR_IO, "cannot create a temporary file for '%s': %s", path,
                       strerror(errno));
        free(f->tmp_path);
        f->tmp_path = NULL;
        imbal_atomic_abort(f);
        return st;
    }
    /* mkstemp makes 0600; outputs are ordinary files, so follow the umask like fopen would. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        close(fd);
        imbal_status st =
            imbal_fail(ctx, IMBAL_ERR_IO, "cannot open '%s': %s", f->tmp_path, strerror(errno));
        imbal_atomic_abort(f);
        return st;
    }
    return IMBAL_OK;
}

static void fsync_parent_dir(const char *path) {
    char *dir = strdup(path);
    if (!dir) return;
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash) {
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
        d = dir;
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd); /* best effort: some file systems refuse fsync on directories */
        close(fd);
    }
    free(dir);
}

imbal_status imbal_atomic_commit(imbal_ctx *ctx, imbal_atomic_file *f) {
    if (!f->fp) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "atomic file is not open");
    int failed = ferror(f->fp) || fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0;
    int err = errno;
    if (fclose(f->fp) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    f->fp = NULL;
    if (failed) {
        imbal_status st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot write '%s': %s", f->final_path,
                                     strerror(err ? err : EIO));
        imbal_atomic_abort(f);
        return st;
    }
    if (rename(f->tmp_path, f->final_path) != 0) {
        imbal_status st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot rename '%s' to '%s': %s",
                                     f->tmp_path, f->final_path, strerror(errno));
        imbal_atomic_abort(f);
        return st;
    }
    fsync_parent_dir(f->final_path);
    free(f->tmp_path);
    free(f->final_path);
    memset(f, 0, sizeof *f);
    return IMBAL_OK;
}

void imbal_atomic_abort(imbal_atomic_file *f) {
    if (!f) return;
    if (f->fp) fclose(f->fp);
    if (f->tmp_path) unlink(f->tmp_path);
    free(f->tmp_path);
    free(f->final_path);
    memset(f, 0, sizeof *f);
}

imbal_status imbal_atomic_write_all(imbal_ctx *ctx, const char *path, const void *data,
                                    size_t len) {
    imbal_atomic_file f;
    imbal_status st = imbal_atomic_open(ctx, &f, path);
    if (st != IMBAL_OK) return st;
    if (len && fwrite(data, 1, len, f.fp) != len) {
        st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        imbal_atomic_abort(&f);
        return st;
    }
    return imbal_atomic_commit(ctx, &f);
}

imbal_status imbal_mkdirs(imbal_ctx *ctx, const char *path) {
    if (!path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "directory path is empty");
    char *p = imbal_xstrdup(ctx, path);
    if (!p) return IMBAL_ERR_OUT_OF_MEMORY;
    for (char *s = p + 1;; ++s) {
        int end = (*s == '\0');
        if (*s == '/' || end) {
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                imbal_status st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot create directory '%s': %s",
                                             p, strerror(errno));
                free(p);
                return st;
            }
            if (end) break;
            *s = '/';
        }
    }
    struct stat sb;
    imbal_status st = IMBAL_OK;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        st = imbal_fail(ctx, IMBAL_ERR_IO, "'%s' exists and is not a directory", path);
    free(p);
    return st;
}
