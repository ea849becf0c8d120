/* imbal: ImageFolder scanning with torchvision's order (rules in include/imbal/dataset.h and
 * docs/dataset.md).
 *
 * torchvision lists a class as `for root, _, fnames in sorted(os.walk(class_dir,
 * followlinks=True))` then `sorted(fnames)`. Sorting the walk's tuples sorts by the directory path
 * string, so the output order is: every directory of the class sorted by its full path (byte-wise,
 * so "a/b-c" comes before "a/b/x" because '-' < '/'), and within each directory its file names
 * sorted. The scan therefore walks the class once, keeping each directory's sorted image names,
 * then emits the directories in sorted path order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset_internal.h"
#include "internal.h"

/* A growing list of strings in one pool (offsets, not pointers, so it may move). */
typedef struct str_list {
    char *pool;
    size_t len, cap;
    size_t *off;
    int64_t n, n_cap;
} str_list;

static imbal_status list_push(imbal_ctx *ctx, str_list *l, const char *s, size_t n) {
    if (l->n == l->n_cap) {
        int64_t cap = l->n_cap ? l->n_cap * 2 : 64;
        size_t *off = imbal_xrealloc(ctx, l->off, (size_t)cap, sizeof *off, "name offsets");
        if (!off) return IMBAL_ERR_OUT_OF_MEMORY;
        l->off = off;
        l->n_cap = cap;
    }
    if (l->len + n + 1 > l->cap) {
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->len + n + 1)
            cap *= 2;
        char *pool = imbal_xrealloc(ctx, l->pool, cap, 1, "name pool");
        if (!pool) return IMBAL_ERR_OUT_OF_MEMORY;
        l->pool = pool;
        l->cap = cap;
    }
    memcpy(l->pool + l->len, s, n);
    l->pool[l->len + n] = '\0';
    l->off[l->n++] = l->len;
    l->len += n + 1;
    return IMBAL_OK;
}

static const char *list_at(const str_list *l, int64_t i) {
    return l->pool + l->off[i];
}

/* Drops entries from index n on. */
static void list_truncate(str_list *l, int64_t n) {
    if (n < l->n) {
        l->len = l->off[n];
        l->n = n;
    }
}

static void list_free(str_list *l) {
    free(l->pool);
    free(l->off);
    memset(l, 0, sizeof *l);
}

/* Sorts entries [from, l->n) byte-wise. */
static imbal_status list_sort_tail(imbal_ctx *ctx, str_list *l, int64_t from) {
    int64_t n = l->n - from;
    if (n < 2) return IMBAL_OK;
    const char **p = imbal_xmalloc(ctx, (size_t)n, sizeof *p, "sorted names");
    if (!p) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < n; ++i)
        p[i] = list_at(l, from + i);
    qsort(p, (size_t)n, sizeof *p, imbal_ds_cmp_strptr);
    for (int64_t i = 0; i < n; ++i)
        l->off[from + i] = (size_t)(p[i] - l->pool);
    free(p);
    return IMBAL_OK;
}

typedef struct dir_id {
    dev_t dev;
    ino_t ino;
} dir_id;

/* The state of one class's walk. */
typedef struct walker {
    imbal_ctx *ctx;
    const char *root;
    str_list dirs;    /* paths relative to root: "cat", "cat/a", ... */
    int64_t *first;   /* per dir: its first entry in files */
    int64_t dir_cap;  /* capacity of first */
    str_list files;   /* image names, grouped by directory, sorted within it */
    str_list pending; /* sub-directory names waiting to be walked (a stack) */
    dir_id *stack;    /* the directories on the current descent path */
    int depth, stack_cap;
} walker;

static int is_image_name(const char *name) {
    size_t n = strlen(name);
    static const char *const ext[] = {".jpg", ".jpeg", ".png"};
    for (int i = 0; i < 3; ++i) {
        size_t e = strlen(ext[i]);
        if (n > e && strcasecmp(name + n - e, ext[i]) == 0) return 1;
    }
    return 0;
}

static char *join3(imbal_ctx *ctx, const char *a, const char *b, const char *c) {
    size_t na = strlen(a), nb = strlen(b), nc = c ? strlen(c) : 0;
    char *p = imbal_xmalloc(ctx, na + nb + nc + 3, 1, "path");
    if (!p) return NULL;
    memcpy(p, a, na);
    p[na] = '/';
    memcpy(p + na + 1, b, nb + 1);
    if (c) {
        p[na + 1 + nb] = '/';
        memcpy(p + na + nb + 2, c, nc + 1);
    }
    return p;
}

/* What an entry is after following links: 'd' directory, 'f' regular file, 0 anything else or
 * a broken link (skipped), or an IO error. */
static imbal_status classify(walker *w, DIR *d, const char *full, const struct dirent *e,
                             char *kind) {
    *kind = 0;
#ifdef _DIRENT_HAVE_D_TYPE
    if (e->d_type == DT_DIR) {
        *kind = 'd';
        return IMBAL_OK;
    }
    if (e->d_type == DT_REG) {
        *kind = 'f';
        return IMBAL_OK;
    }
    if (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN) return IMBAL_OK;
#endif
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, 0) != 0) {
        int err = errno;
        struct stat lst;
        if ((err == ENOENT || err == ELOOP) &&
            fstatat(dirfd(d), e->d_name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode))
            return IMBAL_OK; /* broken or looping link */
        return imbal_fail(w->ctx, IMBAL_ERR_IO, "cannot stat '%s/%s': %s", full, e->d_name,
                          strerror(err));
    }
    if (S_ISDIR(st.st_mode))
        *kind = 'd';
    else if (S_ISREG(st.st_mode))
        *kind = 'f';
    return IMBAL_OK;
}

/* Lists directory `full` (the directory `rel` under the root): image names onto w->files, sorted;
 * sub-directory names onto w->pending. Sets *skip when it is already on the descent path. */
static imbal_status list_dir(walker *w, const char *full, int *skip) {
    *skip = 0;
    DIR *d = opendir(full);
    if (!d)
        return imbal_fail(w->ctx, IMBAL_ERR_IO, "cannot read directory '%s': %s", full,
                          strerror(errno));
    struct stat st;
    if (fstat(dirfd(d), &st) != 0) {
        closedir(d);
        return imbal_fail(w->ctx, IMBAL_ERR_IO, "cannot stat directory '%s': %s", full,
                          strerror(errno));
    }
    for (int i = 0; i < w->depth; ++i) {
        if (w->stack[i].dev == st.st_dev && w->stack[i].ino == st.st_ino) {
            *skip = 1; /* a link back to an ancestor: walking it would never end */
            closedir(d);
            return IMBAL_OK;
        }
    }
    if (w->depth == w->stack_cap) {
        int cap = w->stack_cap ? w->stack_cap * 2 : 32;
        dir_id *s = imbal_xrealloc(w->ctx, w->stack, (size_t)cap, sizeof *s, "directory stack");
        if (!s) {
            closedir(d);
            return IMBAL_ERR_OUT_OF_MEMORY;
        }
        w->stack = s;
        w->stack_cap = cap;
    }
    w->stack[w->depth++] = (dir_id){st.st_dev, st.st_ino};
    int64_t first_file = w->files.n;
    imbal_status status = IMBAL_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                status = imbal_fail(w->ctx, IMBAL_ERR_IO, "cannot read directory '%s': %s", full,
                                    strerror(errno));
            break;
        }
        if (e->d_name[0] == '.') continue; /* ".", ".." and hidden entries */
        char kind;
        status = classify(w, d, full, e, &kind);
        if (status != IMBAL_OK) break;
        size_t n = strlen(e->d_name);
        if (kind == 'd')
            status = list_push(w->ctx, &w->pending, e->d_name, n);
        else if (kind == 'f' && is_image_name(e->d_name))
            status = list_push(w->ctx, &w->files, e->d_name, n);
        if (status != IMBAL_OK) break;
    }
    closedir(d);
    if (status == IMBAL_OK) status = list_sort_tail(w->ctx, &w->files, first_file);
    return status;
}

static imbal_status walk(walker *w, const char *rel) {
    char *full = join3(w->ctx, w->root, rel, NULL);
    if (!full) return IMBAL_ERR_OUT_OF_MEMORY;
    int64_t first_pending = w->pending.n, first_file = w->files.n;
    int skip;
    imbal_status st = list_dir(w, full, &skip);
    free(full);
    if (st != IMBAL_OK || skip) return st;
    if (w->dirs.n == w->dir_cap) {
        int64_t cap = w->dir_cap ? w->dir_cap * 2 : 64;
        int64_t *f = imbal_xrealloc(w->ctx, w->first, (size_t)cap, sizeof *f, "directories");
        if (!f) return IMBAL_ERR_OUT_OF_MEMORY;
        w->first = f;
        w->dir_cap = cap;
    }
    w->first[w->dirs.n] = first_file;
    st = list_push(w->ctx, &w->dirs, rel, strlen(rel));
    for (int64_t i = first_pending; st == IMBAL_OK && i < w->pending.n; ++i) {
        char *sub = join3(w->ctx, rel, list_at(&w->pending, i), NULL);
        if (!sub) return IMBAL_ERR_OUT_OF_MEMORY;
        st = walk(w, sub);
        free(sub);
    }
    list_truncate(&w->pending, first_pending);
    w->depth--;
    return st;
}

typedef struct dir_order {
    const char *rel;
    int64_t index;
} dir_order;

static int cmp_dir_order(const void *a, const void *b) {
    return strcmp(((const dir_order *)a)->rel, ((const dir_order *)b)->rel);
}

/* Appends class `c` (directory `name` under the root) to the index in torchvision's order. */
static imbal_status scan_class(walker *w, imbal_dataset *ds, const char *name, int c,
                               unsigned flags) {
    w->dirs.n = w->dirs.len = 0;
    w->files.n = w->files.len = 0;
    w->pending.n = w->pending.len = 0;
    w->depth = 1; /* the root stays on the stack */
    int64_t before = ds->size;
    imbal_status st = walk(w, name);
    if (st != IMBAL_OK) return st;
    int64_t nd = w->dirs.n;
    dir_order *order =
        imbal_xmalloc(w->ctx, (size_t)(nd > 0 ? nd : 1), sizeof *order, "directory order");
    if (!order) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < nd; ++i)
        order[i] = (dir_order){list_at(&w->dirs, i), i};
    qsort(order, (size_t)nd, sizeof *order, cmp_dir_order);
    char *buf = NULL;
    size_t buf_cap = 0;
    for (int64_t k = 0; k < nd && st == IMBAL_OK; ++k) {
        int64_t d = order[k].index;
        int64_t end = d + 1 < nd ? w->first[d + 1] : w->files.n;
        size_t rl = strlen(order[k].rel);
        for (int64_t f = w->first[d]; f < end && st == IMBAL_OK; ++f) {
            const char *fname = list_at(&w->files, f);
            size_t fl = strlen(fname);
            if (rl + fl + 2 > buf_cap) {
                buf_cap = 2 * (rl + fl + 2);
                char *b = imbal_xrealloc(w->ctx, buf, buf_cap, 1, "path");
                if (!b) {
                    st = IMBAL_ERR_OUT_OF_MEMORY;
                    break;
                }
                buf = b;
            }
            memcpy(buf, order[k].rel, rl);
            buf[rl] = '/';
            memcpy(buf + rl + 1, fname, fl);
            st = imbal_ds_push(w->ctx, ds, buf, rl + 1 + fl, c, IMBAL_SPLIT_NONE);
        }
    }
    free(buf);
    free(order);
    if (st == IMBAL_OK && ds->size == before && !(flags & IMBAL_INDEX_ALLOW_EMPTY_CLASSES))
        st = imbal_fail(w->ctx, IMBAL_ERR_DATA,
                        "class '%s' has no images (.jpg, .jpeg, .png) under '%s/%s'; pass "
                        "IMBAL_INDEX_ALLOW_EMPTY_CLASSES to keep it",
                        name, w->root, name);
    return st;
}

/* The class directory names under root, sorted: non-hidden entries that are directories after
 * following links. */
static imbal_status find_classes(imbal_ctx *ctx, const char *root, str_list *classes) {
    DIR *d = opendir(root);
    if (!d)
        return imbal_fail(ctx, IMBAL_ERR_IO, "cannot read directory '%s': %s", root,
                          strerror(errno));
    walker probe = {.ctx = ctx};
    imbal_status st = IMBAL_OK;
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot read directory '%s': %s", root,
                                strerror(errno));
            break;
        }
        if (e->d_name[0] == '.') continue;
        char kind;
        st = classify(&probe, d, root, e, &kind);
        if (st == IMBAL_OK && kind == 'd')
            st = list_push(ctx, classes, e->d_name, strlen(e->d_name));
        if (st != IMBAL_OK) break;
    }
    closedir(d);
    if (st == IMBAL_OK) st = list_sort_tail(ctx, classes, 0);
    if (st == IMBAL_OK && classes->n == 0)
        st = imbal_fail(ctx, IMBAL_ERR_DATA, "ImageFolder '%s' has no class directories", root);
    if (st == IMBAL_OK && classes->n > IMBAL_DATASET_MAX_CLASSES)
        st = imbal_fail(ctx, IMBAL_ERR_DATA, "ImageFolder '%s' has %lld classes, more than %d",
                        root, (long long)classes->n, IMBAL_DATASET_MAX_CLASSES);
    return st;
}

static imbal_status scan(imbal_ctx *ctx, const char *root, unsigned flags, imbal_dataset *ds) {
    str_list classes = {0};
    imbal_status st = find_classes(ctx, root, &classes);
    walker w = {.ctx = ctx, .root = root};
    struct stat rs;
    if (st == IMBAL_OK && stat(root, &rs) != 0)
        st = imbal_fail(ctx, IMBAL_ERR_IO, "cannot stat '%s': %s", root, strerror(errno));
    if (st == IMBAL_OK) {
        w.stack = imbal_xmalloc(ctx, 32, sizeof *w.stack, "directory stack");
        if (!w.stack) st = IMBAL_ERR_OUT_OF_MEMORY;
        w.stack_cap = 32;
    }
    if (st == IMBAL_OK) w.stack[0] = (dir_id){rs.st_dev, rs.st_ino};
    for (int64_t c = 0; st == IMBAL_OK && c < classes.n; ++c) {
        st = imbal_ds_add_class(ctx, ds, list_at(&classes, c));
        if (st == IMBAL_OK) st = scan_class(&w, ds, list_at(&classes, c), (int)c, flags);
    }
    list_free(&w.dirs);
    list_free(&w.files);
    list_free(&w.pending);
    free(w.first);
    free(w.stack);
    list_free(&classes);
    return st;
}

imbal_status imbal_dataset_open_folder(imbal_ctx *ctx, const char *dir, unsigned flags,
                                       imbal_dataset **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "open_folder: out is NULL");
    *out = NULL;
    if (!dir || !*dir)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "open_folder: directory is empty");
    if (flags & ~IMBAL_INDEX_ALLOW_EMPTY_CLASSES)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "open_folder '%s': unknown flags 0x%x",
                          dir, flags);
    struct stat st0;
    if (stat(dir, &st0) != 0)
        return imbal_fail(ctx, IMBAL_ERR_IO, "ImageFolder root '%s' cannot be opened: %s", dir,
                          strerror(errno));
    if (!S_ISDIR(st0.st_mode))
        return imbal_fail(ctx, IMBAL_ERR_IO, "ImageFolder root '%s' is not a directory", dir);
    char *root;
    imbal_status st = imbal_ds_realdir(ctx, dir, &root);
    if (st != IMBAL_OK) return st;
    imbal_dataset *ds;
    st = imbal_ds_create(ctx, root, &ds);
    if (st == IMBAL_OK) st = scan(ctx, root, flags, ds);
    if (st == IMBAL_OK) imbal_ds_shrink(ds);
    free(root);
    if (st != IMBAL_OK) {
        imbal_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return IMBAL_OK;
}
