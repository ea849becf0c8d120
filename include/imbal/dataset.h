/* imbal: the dataset index. An ImageFolder tree or a CSV manifest becomes one flat index: a path
 * per sample (in one string pool, no per-sample heap objects), an int32 label and a split tag.
 * 13 bytes per sample plus the path and its NUL (docs/dataset.md, "Scale").
 *
 * ImageFolder (torchvision.datasets.ImageFolder semantics):
 *   - classes are the sub-directories of the root, ids in sorted (byte-wise) name order;
 *   - a class's files are found recursively, following symbolic links (a link to a directory on
 *     the current descent path, the root included, is skipped, so loops are safe); files are
 *     listed in the order of Python's sorted(os.walk(class_dir)) with each directory's names
 *     sorted: directories by full path byte-wise ("a/b-c" before "a/b/x"), then their files;
 *   - extensions .jpg .jpeg .png, case-insensitive (torchvision also takes .bmp .gif .ppm .pgm
 *     .tif .tiff .webp); names starting with '.' (files and directories, class directories
 *     included) are skipped, which torchvision does not do; broken links are skipped (torchvision
 *     lists them and fails when loading); an unreadable directory is IMBAL_ERR_IO naming it
 *     (os.walk silently drops it);
 *   - a class with no image is an error naming it, unless IMBAL_INDEX_ALLOW_EMPTY_CLASSES;
 *   - the root is stored canonical (realpath) and paths relative to it ("cat/img1.jpg").
 *
 * CSV manifest: one row per sample, `path,label[,split]`, an optional header row whose first field
 * is `path`. With a header, columns are found by name: `path` and `label` are required, `split` is
 * optional, other named columns are ignored (e.g. a chip manifest's source,x,y,width,height), any
 * count; a header without `label` or naming a column twice is IMBAL_ERR_FORMAT naming the file and
 * the header. Without a header the first row has 2 or 3 fields (path,label[,split]). Either way
 * the first row fixes the field count for all rows. Paths are relative to the
 * manifest's directory (the root, stored canonical) unless absolute; they are not checked at open
 * (see imbal_dataset_check_files). Labels are class names; class ids are their sorted order,
 * except that when every label is a non-negative integer ([0-9]+) the integers are the ids
 * (classes 0..max, named "0", "1", ...; a missing id in between is IMBAL_ERR_DATA naming it unless
 * IMBAL_INDEX_ALLOW_EMPTY_CLASSES). If any label is not an integer ("cat", "3.5"), all labels are
 * names, "-1" included; if all are integers but one is negative, that is IMBAL_ERR_DATA naming its
 * row. split is train|val|test or empty. Fields may be double-quoted with "" as an escaped quote
 * (quoted fields may hold commas and newlines); CRLF is accepted; blank lines are skipped. Errors
 * name the file and the 1-based line on which the offending record starts ("row N").
 */
#ifndef IMBAL_DATASET_H
#define IMBAL_DATASET_H

#include <stdint.h>

#include "status.h"

IMBAL_EXTERN_C_BEGIN

typedef enum imbal_split {
    IMBAL_SPLIT_NONE = -1, /* not assigned */
    IMBAL_SPLIT_TRAIN = 0,
    IMBAL_SPLIT_VAL = 1,
    IMBAL_SPLIT_TEST = 2
} imbal_split;

/* "train", "val", "test", "" for NONE. */
IMBAL_API const char *imbal_split_name(imbal_split split);

#define IMBAL_INDEX_ALLOW_EMPTY_CLASSES 0x1u /* keep classes with no samples instead of failing */

/* The most classes an index may have (integer manifest labels must be below it). */
#define IMBAL_DATASET_MAX_CLASSES (1 << 20)

typedef struct imbal_dataset imbal_dataset;

/* A directory is read as an ImageFolder, a file as a CSV manifest. */
IMBAL_API imbal_status imbal_dataset_open(imbal_ctx *ctx, const char *path, unsigned flags,
                                          imbal_dataset **out);
IMBAL_API imbal_status imbal_dataset_open_folder(imbal_ctx *ctx, const char *dir, unsigned flags,
                                                 imbal_dataset **out);
IMBAL_API imbal_status imbal_dataset_open_manifest(imbal_ctx *ctx, const char *csv_path,
                                                   unsigned flags, imbal_dataset **out);

/* An index with no files: `counts[c]` samples of class c, in class order (paths are empty). Used
 * for `--counts 500,50,5` and tests. names may be NULL ("0", "1", ...). Zero counts are allowed. */
IMBAL_API imbal_status imbal_dataset_from_counts(imbal_ctx *ctx, const int64_t *counts,
                                                 int num_classes, const char *const *names,
                                                 imbal_dataset **out);

IMBAL_API void imbal_dataset_destroy(imbal_dataset *ds);

IMBAL_API int64_t imbal_dataset_size(const imbal_dataset *ds);
IMBAL_API int imbal_dataset_num_classes(const imbal_dataset *ds);
IMBAL_API const char *imbal_dataset_class_name(const imbal_dataset *ds, int class_id);
/* The directory paths are relative to ("" for from_counts). */
IMBAL_API const char *imbal_dataset_root(const imbal_dataset *ds);
/* Sample i's path as indexed: relative to the root unless it was absolute in a manifest. */
IMBAL_API const char *imbal_dataset_path(const imbal_dataset *ds, int64_t i);
IMBAL_API const int32_t *imbal_dataset_labels(const imbal_dataset *ds);
/* One int8 imbal_split per sample. */
IMBAL_API const int8_t *imbal_dataset_splits(const imbal_dataset *ds);

/* counts[c] for c < num_classes over the samples of `split`, or over all with IMBAL_SPLIT_NONE. */
IMBAL_API imbal_status imbal_dataset_class_counts(imbal_ctx *ctx, const imbal_dataset *ds,
                                                  imbal_split split, int64_t *counts);

/* A new index holding only the samples of `split`, with the same classes (possibly empty). */
IMBAL_API imbal_status imbal_dataset_subset(imbal_ctx *ctx, const imbal_dataset *ds,
                                            imbal_split split, imbal_dataset **out);

/* Merges classes by a map file of `old_name,new_name` lines (# comments and blank lines allowed;
 * CSV quoting as in manifests; no whitespace trimming). Classes not named keep their name; the
 * renames apply simultaneously (not transitively); the resulting distinct names are renumbered in
 * sorted order. Unknown old names (IMBAL_ERR_DATA), malformed lines and a class mapped twice
 * (IMBAL_ERR_FORMAT) are errors naming the map file and line; on error the index is unchanged. */
IMBAL_API imbal_status imbal_dataset_merge_classes(imbal_ctx *ctx, imbal_dataset *ds,
                                                   const char *map_path);

/* Stratified split: within each class, a seeded permutation is cut by the fractions (which must be
 * >= 0 and sum to 1 within 1e-6). Every split with a non-zero fraction gets at least one sample of
 * a class that has at least as many samples as such splits. Deterministic from the seed.
 * Per-class counts are the largest-remainder apportionment of n * fraction (ties to the earlier
 * split), then each empty non-zero split takes one sample from the largest; e.g. with
 * (0.8, 0.1, 0.1): n = 10 -> 8/1/1, 5 -> 3/1/1, 3 -> 1/1/1, 2 -> 2/0/0. The permutation is a
 * Fisher-Yates shuffle of the class's samples in index order on the Philox stream
 * (seed, 0, class id, IMBAL_OP_SPLIT): independent of the thread count. Replaces earlier tags. */
IMBAL_API imbal_status imbal_dataset_split(imbal_ctx *ctx, imbal_dataset *ds, double train,
                                           double val, double test, uint64_t seed);

/* Writes `path,label,split` rows (with a header) under a temporary name and renames it. Paths are
 * written absolute if the manifest's directory differs from the root, so it reads back anywhere.
 * Labels are written as class names; fields holding a comma, quote or line break are quoted.
 * Reading the file back gives the same paths, labels, splits and class names, except that classes
 * with no sample disappear and names that are all integers are read back as ids. An index made by
 * from_counts has no files: IMBAL_ERR_INVALID_ARGUMENT. */
IMBAL_API imbal_status imbal_dataset_write_manifest(imbal_ctx *ctx, const imbal_dataset *ds,
                                                    const char *path);

/* Checks that every sample's file exists and is a regular file (stat, following links, in
 * parallel; opening a manifest does not, since stat-ing 10 million files takes minutes on network
 * storage). On the first missing one (lowest index) it returns IMBAL_ERR_IO naming the file and,
 * for a manifest, its row, and sets *missing_index (may be NULL) to its index; otherwise IMBAL_OK
 * and *missing_index = -1. An index from from_counts has no files: IMBAL_ERR_INVALID_ARGUMENT. */
IMBAL_API imbal_status imbal_dataset_check_files(imbal_ctx *ctx, const imbal_dataset *ds,
                                                 int64_t *missing_index);

IMBAL_EXTERN_C_END

#endif
