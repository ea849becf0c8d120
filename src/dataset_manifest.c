/* imbal: CSV manifests: reading (imbal_dataset_open_manifest) and writing
 * (imbal_dataset_write_manifest). Format and label rules: include/imbal/dataset.h, docs/dataset.md.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "csv_reader.h"
#include "dataset_internal.h"
#include "internal.h"

/* The distinct label strings seen so far: a small open-addressing hash set (classes, not
 * samples), mapping a label to its first-seen id. */
typedef struct label_table {
    char **names;
    int64_t *first_row; /* manifest row where the label first appears */
    int count, cap;
    int32_t *slots; /* -1 = empty, else an index into names */
    uint32_t slot_mask;
} label_table;

static uint32_t hash_bytes(const char *s, size_t n) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; ++i)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void table_free(label_table *t) {
    for (int i = 0; i < t->count; ++i)
        free(t->names[i]);
    free(t->names);
    free(t->first_row);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

static imbal_status table_rehash(imbal_ctx *ctx, label_table *t, uint32_t nslots) {
    int32_t *slots = imbal_xmalloc(ctx, nslots, sizeof *slots, "label table");
    if (!slots) return IMBAL_ERR_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < nslots; ++i)
        slots[i] = -1;
    for (int k = 0; k < t->count; ++k) {
        uint32_t h = hash_bytes(t->names[k], strlen(t->names[k])) & (nslots - 1);
        while (slots[h] >= 0)
            h = (h + 1) & (nslots - 1);
        slots[h] = k;
    }
    free(t->slots);
    t->slots = slots;
    t->slot_mask = nslots - 1;
    return IMBAL_OK;
}

/* The id of label s (added if new). */
static imbal_status table_intern(imbal_ctx *ctx, label_table *t, const char *s, size_t n,
                                 int64_t row, int32_t *id) {
    if (!t->slots || (uint32_t)(t->count + 1) * 2 > t->slot_mask + 1) {
        imbal_status st = table_rehash(ctx, t, t->slots ? (t->slot_mask + 1) * 2 : 64);
        if (st != IMBAL_OK) return st;
    }
    uint32_t h = hash_bytes(s, n) & t->slot_mask;
    while (t->slots[h] >= 0) {
        const char *name = t->names[t->slots[h]];
        if (strncmp(name, s, n) == 0 && name[n] == '\0') {
            *id = t->slots[h];
            return IMBAL_OK;
        }
        h = (h + 1) & t->slot_mask;
    }
    if (t->count == t->cap) {
        int cap = t->cap ? t->cap * 2 : 32;
        char **names = imbal_xrealloc(ctx, t->names, (size_t)cap, sizeof *names, "label names");
        if (!names) return IMBAL_ERR_OUT_OF_MEMORY;
        t->names = names;
        int64_t *rows = imbal_xrealloc(ctx, t->first_row, (size_t)cap, sizeof *rows, "label rows");
        if (!rows) return IMBAL_ERR_OUT_OF_MEMORY;
        t->first_row = rows;
        t->cap = cap;
    }
    char *copy = imbal_xmalloc(ctx, n + 1, 1, "label name");
    if (!copy) return IMBAL_ERR_OUT_OF_MEMORY;
    memcpy(copy, s, n);
    copy[n] = '\0';
    t->names[t->count] = copy;
    t->first_row[t->count] = row;
    t->slots[h] = t->count;
    *id = t->count++;
    return IMBAL_OK;
}

static char *dir_of(imbal_ctx *ctx, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return imbal_xstrdup(ctx, ".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = imbal_xmalloc(ctx, n + 1, 1, "directory name");
    if (!d) return NULL;
    memcpy(d, path, n);
    d[n] = '\0';
    return d;
}

static int parse_split(const char *s, int8_t *out) {
    if (!*s)
        *out = IMBAL_SPLIT_NONE;
    else if (strcmp(s, "train") == 0)
        *out = IMBAL_SPLIT_TRAIN;
    else if (strcmp(s, "val") == 0)
        *out = IMBAL_SPLIT_VAL;
    else if (strcmp(s, "test") == 0)
        *out = IMBAL_SPLIT_TEST;
    else
        return 0;
    return 1;
}

/* 1 if s is [0-9]+, -1 if it is -[0-9]+, else 0. */
static int integer_kind(const char *s) {
    int neg = *s == '-';
    const char *d = s + neg;
    if (!*d) return 0;
    for (; *d; ++d)
        if (*d < '0' || *d > '9') return 0;
    return neg ? -1 : 1;
}

/* Integer labels are the class ids. Returns the id of each table entry in map. */
static imbal_status integer_classes(imbal_ctx *ctx, const char *csv, const label_table *t,
                                    unsigned flags, imbal_dataset *ds, int32_t *map) {
    int max = -1;
    for (int k = 0; k < t->count; ++k) {
        long long v = 0;
        for (const char *d = t->names[k]; *d; ++d) {
            v = v * 10 + (*d - '0');
            if (v >= IMBAL_DATASET_MAX_CLASSES)
                return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                                  "manifest '%s' row %lld: integer label '%s' is not below the "
                                  "class limit %d",
                                  csv, (long long)t->first_row[k], t->names[k],
                                  IMBAL_DATASET_MAX_CLASSES);
        }
        map[k] = (int32_t)v;
        if (v > max) max = (int)v;
    }
    unsigned char *seen = imbal_xcalloc(ctx, (size_t)max + 1, 1, "class presence");
    if (!seen) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int k = 0; k < t->count; ++k)
        seen[map[k]] = 1;
    imbal_status st = IMBAL_OK;
    for (int c = 0; c <= max && st == IMBAL_OK; ++c) {
        if (!seen[c] && !(flags & IMBAL_INDEX_ALLOW_EMPTY_CLASSES)) {
            st = imbal_fail(ctx, IMBAL_ERR_DATA,
                            "manifest '%s': class %d has no samples (integer labels name classes "
                            "0..%d; pass IMBAL_INDEX_ALLOW_EMPTY_CLASSES to keep it)",
                            csv, c, max);
            break;
        }
        char buf[16];
        snprintf(buf, sizeof buf, "%d", c);
        st = imbal_ds_add_class(ctx, ds, buf);
    }
    free(seen);
    return st;
}

typedef struct named_id {
    const char *name;
    int32_t id;
} named_id;

static int cmp_named(const void *a, const void *b) {
    return strcmp(((const named_id *)a)->name, ((const named_id *)b)->name);
}

/* Labels are names: ids are their sorted order. */
static imbal_status named_classes(imbal_ctx *ctx, const label_table *t, imbal_dataset *ds,
                                  int32_t *map) {
    named_id *order = imbal_xmalloc(ctx, (size_t)t->count, sizeof *order, "class order");
    if (!order) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int k = 0; k < t->count; ++k)
        order[k] = (named_id){t->names[k], k};
    qsort(order, (size_t)t->count, sizeof *order, cmp_named);
    imbal_status st = IMBAL_OK;
    for (int c = 0; c < t->count && st == IMBAL_OK; ++c) {
        map[order[c].id] = c;
        st = imbal_ds_add_class(ctx, ds, order[c].name);
    }
    free(order);
    return st;
}

static imbal_status assign_classes(imbal_ctx *ctx, const char *csv, const label_table *t,
                                   unsigned flags, imbal_dataset *ds) {
    int all_nonneg = 1, all_int = 1;
    int64_t neg_row = INT64_MAX;
    const char *neg_name = NULL;
    for (int k = 0; k < t->count; ++k) {
        int kind = integer_kind(t->names[k]);
        if (kind != 1) all_nonneg = 0;
        if (kind == 0) all_int = 0;
        if (kind == -1 && t->first_row[k] < neg_row) {
            neg_row = t->first_row[k];
            neg_name = t->names[k];
        }
    }
    if (all_int && !all_nonneg)
        return imbal_fail(ctx, IMBAL_ERR_DATA,
                          "manifest '%s' row %lld: label '%s' is a negative integer (integer "
                          "labels are class ids 0, 1, ...)",
                          csv, (long long)neg_row, neg_name);
    int32_t *map = imbal_xmalloc(ctx, (size_t)t->count, sizeof *map, "label map");
    if (!map) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st =
        all_nonneg ? integer_classes(ctx, csv, t, flags, ds, map) : named_classes(ctx, t, ds, map);
    if (st == IMBAL_OK) {
        int32_t *labels = ds->labels;
        int64_t n = ds->size;
#pragma omp parallel for num_threads(imbal_ctx_omp_threads(ctx)) schedule(static)
        for (int64_t i = 0; i < n; ++i)
            labels[i] = map[labels[i]];
    }
    free(map);
    return st;
}

/* Where the fields of a record are: path and label always, split when col_split >= 0. */
typedef struct manifest_columns {
    int nfields; /* every record has this many */
    int col_path, col_label, col_split;
} manifest_columns;

/* One data record onto the index. */
static imbal_status add_row(imbal_ctx *ctx, const imbal_csv_reader *r, const manifest_columns *mc,
                            label_table *t, imbal_dataset *ds) {
    size_t plen, llen;
    const char *path = imbal_csv_field(r, mc->col_path, &plen);
    const char *label = imbal_csv_field(r, mc->col_label, &llen);
    long long row = (long long)r->record_line;
    if (plen == 0)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "manifest '%s' row %lld: the path is empty",
                          r->path, row);
    if (llen == 0)
        return imbal_fail(ctx, IMBAL_ERR_FORMAT, "manifest '%s' row %lld: the label is empty",
                          r->path, row);
    int8_t split = IMBAL_SPLIT_NONE;
    if (mc->col_split >= 0) {
        const char *s = imbal_csv_field(r, mc->col_split, NULL);
        if (!parse_split(s, &split))
            return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                              "manifest '%s' row %lld: split '%s' is not train, val, test or empty",
                              r->path, row, s);
    }
    int32_t id;
    imbal_status st = table_intern(ctx, t, label, llen, r->record_line, &id);
    if (st != IMBAL_OK) return st;
    if (t->count > IMBAL_DATASET_MAX_CLASSES)
        return imbal_fail(ctx, IMBAL_ERR_DATA, "manifest '%s' row %lld: more than %d classes",
                          r->path, row, IMBAL_DATASET_MAX_CLASSES);
    st = imbal_ds_mark_row(ctx, ds, ds->size, r->record_line - ds->size);
    if (st != IMBAL_OK) return st;
    return imbal_ds_push(ctx, ds, path, plen, id, split);
}

/* The header record as it reads, for messages ("path,x,y"); at most cap - 1 bytes. */
static void header_text(const imbal_csv_reader *r, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < r->num_fields && n + 1 < cap; ++i) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? "," : "", imbal_csv_field(r, i, NULL));
        if (w < 0) break;
        n += (size_t)w;
    }
    if (n >= cap) n = cap - 1;
    buf[n] = '\0';
}

/* A header row names the columns: path and label are required, split is optional, any other
 * column (a chip manifest's source,x,y,width,height) is ignored. A name given twice is an error. */
static imbal_status header_columns(imbal_ctx *ctx, const imbal_csv_reader *r,
                                   manifest_columns *mc) {
    char text[512];
    mc->nfields = r->num_fields;
    mc->col_path = mc->col_label = mc->col_split = -1;
    for (int i = 0; i < r->num_fields; ++i) {
        const char *name = imbal_csv_field(r, i, NULL);
        int *col = strcmp(name, "path") == 0    ? &mc->col_path
                   : strcmp(name, "label") == 0 ? &mc->col_label
                   : strcmp(name, "split") == 0 ? &mc->col_split
                                                : NULL;
        if (!col) continue;
        if (*col >= 0) {
            header_text(r, text, sizeof text);
            return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                              "manifest '%s' row %lld: the header '%s' names column '%s' twice",
                              r->path, (long long)r->record_line, text, name);
        }
        *col = i;
    }
    if (mc->col_label < 0) {
        header_text(r, text, sizeof text);
        return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                          "manifest '%s' row %lld: the header '%s' has no label column", r->path,
                          (long long)r->record_line, text);
    }
    return IMBAL_OK;
}

static imbal_status read_rows(imbal_ctx *ctx, imbal_csv_reader *r, label_table *t,
                              imbal_dataset *ds) {
    manifest_columns mc = {0, 0, 1, -1};
    int got;
    for (;;) {
        imbal_status st = imbal_csv_next(ctx, r, &got);
        if (st != IMBAL_OK) return st;
        if (!got) return IMBAL_OK;
        if (mc.nfields == 0) {
            if (strcmp(imbal_csv_field(r, 0, NULL), "path") == 0) {
                st = header_columns(ctx, r, &mc);
                if (st != IMBAL_OK) return st;
                continue;
            }
            mc.nfields = r->num_fields;
            if (mc.nfields != 2 && mc.nfields != 3)
                return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                                  "manifest '%s' row %lld: %d fields; expected path,label or "
                                  "path,label,split (or a header row naming the columns)",
                                  r->path, (long long)r->record_line, mc.nfields);
            mc.col_split = mc.nfields == 3 ? 2 : -1;
        } else if (r->num_fields != mc.nfields) {
            return imbal_fail(ctx, IMBAL_ERR_FORMAT,
                              "manifest '%s' row %lld: %d fields where the first row has %d",
                              r->path, (long long)r->record_line, r->num_fields, mc.nfields);
        }
        st = add_row(ctx, r, &mc, t, ds);
        if (st != IMBAL_OK) return st;
    }
}

imbal_status imbal_dataset_open_manifest(imbal_ctx *ctx, const char *csv_path, unsigned flags,
                                         imbal_dataset **out) {
    if (!out) return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "open_manifest: out is NULL");
    *out = NULL;
    if (!csv_path || !*csv_path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "open_manifest: path is empty");
    if (flags & ~IMBAL_INDEX_ALLOW_EMPTY_CLASSES)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "open_manifest: unknown flags 0x%x",
                          flags);
    imbal_csv_reader r;
    imbal_status st = imbal_csv_open(ctx, &r, csv_path, "manifest", "row", 0);
    if (st != IMBAL_OK) return st;
    char *dir = dir_of(ctx, csv_path), *root = NULL;
    imbal_dataset *ds = NULL;
    label_table t = {0};
    st = dir ? imbal_ds_realdir(ctx, dir, &root) : IMBAL_ERR_OUT_OF_MEMORY;
    if (st == IMBAL_OK) st = imbal_ds_create(ctx, root, &ds);
    if (st == IMBAL_OK) {
        ds->source = imbal_xstrdup(ctx, csv_path);
        if (!ds->source) st = IMBAL_ERR_OUT_OF_MEMORY;
    }
    if (st == IMBAL_OK) st = read_rows(ctx, &r, &t, ds);
    if (st == IMBAL_OK && ds->size == 0)
        st = imbal_fail(ctx, IMBAL_ERR_DATA, "manifest '%s' has no samples", csv_path);
    if (st == IMBAL_OK) st = assign_classes(ctx, csv_path, &t, flags, ds);
    if (st == IMBAL_OK) imbal_ds_shrink(ds);
    imbal_csv_close(&r);
    table_free(&t);
    free(dir);
    free(root);
    if (st != IMBAL_OK) {
        imbal_dataset_destroy(ds);
        return st;
    }
    *out = ds;
    return IMBAL_OK;
}

/* ---- writing ----------------------------------------------------------------------------------
 */

static void put_field(FILE *fp, const char *s) {
    if (strpbrk(s, ",\"\n\r") == NULL) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; ++s) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

imbal_status imbal_dataset_write_manifest(imbal_ctx *ctx, const imbal_dataset *ds,
                                          const char *path) {
    if (!ds || !path || !*path)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT, "write_manifest: %s",
                          ds ? "the output path is empty" : "dataset is NULL");
    if (!*ds->root)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "write_manifest '%s': the index has no files (made from counts)", path);
    char *dir = dir_of(ctx, path), *outdir = NULL;
    if (!dir) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_status st = imbal_ds_realdir(ctx, dir, &outdir);
    free(dir);
    if (st != IMBAL_OK) return st;
    /* Relative paths stay relative only when the manifest lands in the root itself. */
    int same_dir = strcmp(outdir, ds->root) == 0;
    free(outdir);
    imbal_atomic_file f;
    st = imbal_atomic_open(ctx, &f, path);
    if (st != IMBAL_OK) return st;
    char *iobuf = malloc(1u << 20);
    if (iobuf) setvbuf(f.fp, iobuf, _IOFBF, 1u << 20);
    fputs("path,label,split\n", f.fp);
    size_t rootlen = strcmp(ds->root, "/") == 0 ? 0 : strlen(ds->root), joined_cap = 0;
    char *joined = NULL;
    for (int64_t i = 0; i < ds->size && st == IMBAL_OK; ++i) {
        const char *p = ds->pool + ds->offsets[i];
        if (!same_dir && p[0] != '/') {
            size_t need = rootlen + strlen(p) + 2;
            if (need > joined_cap) {
                char *j = imbal_xrealloc(ctx, joined, need * 2, 1, "joined path");
                if (!j) {
                    st = IMBAL_ERR_OUT_OF_MEMORY;
                    break;
                }
                joined = j;
                joined_cap = need * 2;
            }
            memcpy(joined, ds->root, rootlen);
            joined[rootlen] = '/';
            strcpy(joined + rootlen + 1, p);
            p = joined;
        }
        put_field(f.fp, p);
        fputc(',', f.fp);
        put_field(f.fp, ds->class_names[ds->labels[i]]);
        fputc(',', f.fp);
        fputs(imbal_split_name((imbal_split)ds->splits[i]), f.fp);
        fputc('\n', f.fp);
    }
    free(joined);
    if (st == IMBAL_OK) st = imbal_atomic_commit(ctx, &f);
    imbal_atomic_abort(&f);
    free(iobuf);
    return st;
}
