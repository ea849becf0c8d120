/* CSV manifests (reading, every error, writing and round trips), check_files, the class merge
 * map, and a million-row manifest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "imbal/imbal.h"
#include "test_util.h"

typedef struct fixture {
    char *dir;
    imbal_ctx *ctx;
} fixture;

static fixture setup(void) {
    fixture f = {tu_mkdtemp(), tu_ctx()};
    return f;
}

static void teardown(fixture *f) {
    imbal_ctx_destroy(f->ctx);
    tu_rmtree(f->dir);
    free(f->dir);
}

/* Writes text to dir/name and returns the path (malloc'd). */
static char *write_csv(const fixture *f, const char *name, const char *text) {
    char *p = tu_join(f->dir, name);
    tu_write_file(p, text);
    return p;
}

Test(manifest, names_quotes_crlf_header_and_splits) {
    fixture f = setup();
    char *csv = write_csv(&f, "m.csv",
                          "path,label,split\r\n"
                          "b/1.jpg,dog,train\r\n"
                          "\r\n"
                          "\"a,1.jpg\",cat,val\r\n"
                          "\"say \"\"hi\"\".png\",\"dog\",\n"
                          "\n"
                          "\"multi\nline.jpg\",eel,test\n"
                          "/abs/x.jpg,cat,\n"
                          "c.jpg,Cat,train"); /* no final newline */
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    cr_assert_eq(imbal_dataset_size(ds), 6);
    cr_assert_eq(imbal_dataset_num_classes(ds), 4);
    const char *names[4] = {"Cat", "cat", "dog", "eel"}; /* byte-wise: upper case first */
    for (int c = 0; c < 4; ++c)
        cr_assert_str_eq(imbal_dataset_class_name(ds, c), names[c]);
    const char *paths[6] = {"b/1.jpg",         "a,1.jpg",    "say \"hi\".png",
                            "multi\nline.jpg", "/abs/x.jpg", "c.jpg"};
    const int32_t labels[6] = {2, 1, 2, 3, 1, 0};
    const int8_t splits[6] = {0, 1, -1, 2, -1, 0};
    for (int i = 0; i < 6; ++i) {
        cr_assert_str_eq(imbal_dataset_path(ds, i), paths[i]);
        cr_assert_eq(imbal_dataset_labels(ds)[i], labels[i], "sample %d", i);
        cr_assert_eq(imbal_dataset_splits(ds)[i], splits[i], "sample %d", i);
    }
    char *real = realpath(f.dir, NULL);
    cr_assert_str_eq(imbal_dataset_root(ds), real);
    free(real);
    imbal_dataset_destroy(ds);
    /* imbal_dataset_open dispatches a file to the manifest reader */
    cr_assert_eq(imbal_dataset_open(f.ctx, csv, 0, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_size(ds), 6);
    imbal_dataset_destroy(ds);
    free(csv);
    teardown(&f);
}

Test(manifest, integer_labels_are_ids) {
    fixture f = setup();
    char *csv = write_csv(&f, "m.csv", "a.jpg,2\nb.jpg,0\nc.jpg,1\nd.jpg,2\ne.jpg,01\n");
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    cr_assert_eq(imbal_dataset_num_classes(ds), 3);
    cr_assert_str_eq(imbal_dataset_class_name(ds, 1), "1");
    const int32_t want[5] = {2, 0, 1, 2, 1};
    for (int i = 0; i < 5; ++i)
        cr_assert_eq(imbal_dataset_labels(ds)[i], want[i]);
    imbal_dataset_destroy(ds);
    free(csv);
    /* a gap: class 1 is empty */
    csv = write_csv(&f, "gap.csv", "path,label\na.jpg,0\nb.jpg,3\nc.jpg,2\n");
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_ERR_DATA);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "class 1 has no samples") != NULL, "%s",
              imbal_ctx_error(f.ctx));
    cr_assert(strstr(imbal_ctx_error(f.ctx), "gap.csv") != NULL);
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, IMBAL_INDEX_ALLOW_EMPTY_CLASSES, &ds),
                 IMBAL_OK);
    cr_assert_eq(imbal_dataset_num_classes(ds), 4);
    int64_t counts[4];
    cr_assert_eq(imbal_dataset_class_counts(f.ctx, ds, IMBAL_SPLIT_NONE, counts), IMBAL_OK);
    cr_assert(counts[0] == 1 && counts[1] == 0 && counts[2] == 1 && counts[3] == 1);
    imbal_dataset_destroy(ds);
    free(csv);
    teardown(&f);
}

Test(manifest, any_non_integer_label_makes_all_names) {
    fixture f = setup();
    char *csv = write_csv(&f, "m.csv", "a.jpg,10\nb.jpg,3.5\nc.jpg,-1\nd.jpg,9\n");
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    const char *names[4] = {"-1", "10", "3.5", "9"};
    cr_assert_eq(imbal_dataset_num_classes(ds), 4);
    for (int c = 0; c < 4; ++c)
        cr_assert_str_eq(imbal_dataset_class_name(ds, c), names[c]);
    cr_assert_eq(imbal_dataset_labels(ds)[0], 1);
    imbal_dataset_destroy(ds);
    free(csv);
    teardown(&f);
}

/* Each bad manifest: status, and the message names the file and the row. */
static void expect_error(const fixture *f, const char *text, imbal_status want, const char *row,
                         const char *detail) {
    char *csv = write_csv(f, "bad.csv", text);
    imbal_dataset *ds = (imbal_dataset *)0x1;
    imbal_status st = imbal_dataset_open_manifest(f->ctx, csv, 0, &ds);
    const char *msg = imbal_ctx_error(f->ctx);
    cr_assert_eq(st, want, "%s: got %s (%s)", text, imbal_status_string(st), msg);
    cr_assert_null(ds);
    cr_assert(strstr(msg, "bad.csv") != NULL, "%s", msg);
    if (row) cr_assert(strstr(msg, row) != NULL, "want '%s' in: %s", row, msg);
    if (detail) cr_assert(strstr(msg, detail) != NULL, "want '%s' in: %s", detail, msg);
    free(csv);
}

Test(manifest, every_error_names_file_and_row) {
    fixture f = setup();
    expect_error(&f, "path,label\na.jpg,cat\nb.jpg,dog,train\n", IMBAL_ERR_FORMAT, "row 3",
                 "3 fields");
    expect_error(&f, "a.jpg\n", IMBAL_ERR_FORMAT, "row 1", "1 fields");
    expect_error(&f, "a,b,c,d\n", IMBAL_ERR_FORMAT, "row 1", "4 fields");
    expect_error(&f, "path,label\n\na.jpg,cat\n,dog\n", IMBAL_ERR_FORMAT, "row 4", "path is empty");
    expect_error(&f, "a.jpg,cat\nb.jpg,\n", IMBAL_ERR_FORMAT, "row 2", "label is empty");
    expect_error(&f, "path,label,split\na.jpg,cat,train\nb.jpg,cat,Train\n", IMBAL_ERR_FORMAT,
                 "row 3", "'Train'");
    expect_error(&f, "a.jpg,cat\n\"b.jpg,cat\n", IMBAL_ERR_FORMAT, "row 2", "not closed");
    expect_error(&f, "a.jpg,cat\n\"b\"x.jpg,cat\n", IMBAL_ERR_FORMAT, "row 2", "closing quote");
    expect_error(&f, "a.jpg,0\nb.jpg,99999999999\n", IMBAL_ERR_FORMAT, "row 2", "'99999999999'");
    expect_error(&f, "a.jpg,0\nb.jpg,1\nc.jpg,-1\n", IMBAL_ERR_DATA, "row 3", "'-1'");
    expect_error(&f, "path,label\n", IMBAL_ERR_DATA, NULL, "no samples");
    expect_error(&f, "", IMBAL_ERR_DATA, NULL, "no samples");
    /* a multi-line quoted record moves the rows of what follows */
    expect_error(&f, "\"x\ny\",cat\nb.jpg,cat,val\n", IMBAL_ERR_FORMAT, "row 3", "3 fields");
    char *missing = tu_join(f.dir, "nope.csv");
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, missing, 0, &ds), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "nope.csv") != NULL);
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, missing, 0x10, &ds),
                 IMBAL_ERR_INVALID_ARGUMENT);
    free(missing);
    teardown(&f);
}

Test(manifest, check_files_names_first_missing_row) {
    fixture f = setup();
    char *p = tu_join(f.dir, "img/a.jpg");
    tu_touch(p);
    free(p);
    char *abs = tu_join(f.dir, "img/c.jpg");
    tu_touch(abs);
    char text[4096];
    snprintf(text, sizeof text, "path,label\nimg/a.jpg,x\n\n%s,y\nimg/b.jpg,x\nimg/d.jpg,y\n", abs);
    char *csv = write_csv(&f, "m.csv", text);
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK);
    int64_t missing = 0;
    cr_assert_eq(imbal_dataset_check_files(f.ctx, ds, &missing), IMBAL_ERR_IO);
    cr_assert_eq(missing, 2);
    const char *msg = imbal_ctx_error(f.ctx);
    cr_assert(strstr(msg, "row 5") && strstr(msg, "img/b.jpg") && strstr(msg, "m.csv"), "%s", msg);
    imbal_dataset_destroy(ds);
    free(csv);
    csv = write_csv(&f, "ok.csv", "img/a.jpg,x\nimg/c.jpg,x\n");
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_check_files(f.ctx, ds, &missing), IMBAL_OK);
    cr_assert_eq(missing, -1);
    imbal_dataset_destroy(ds);
    free(csv);
    csv = write_csv(&f, "dir.csv", "img/a.jpg,x\nimg,x\n");
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_check_files(f.ctx, ds, NULL), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "not a regular file") != NULL);
    imbal_dataset_destroy(ds);
    free(csv);
    free(abs);
    teardown(&f);
}

static void assert_same_index(const imbal_dataset *a, const imbal_dataset *b, const char *prefix) {
    cr_assert_eq(imbal_dataset_size(a), imbal_dataset_size(b));
    cr_assert_eq(imbal_dataset_num_classes(a), imbal_dataset_num_classes(b));
    for (int c = 0; c < imbal_dataset_num_classes(a); ++c)
        cr_assert_str_eq(imbal_dataset_class_name(a, c), imbal_dataset_class_name(b, c));
    for (int64_t i = 0; i < imbal_dataset_size(a); ++i) {
        const char *pa = imbal_dataset_path(a, i);
        char want[4096];
        snprintf(want, sizeof want, "%s%s", pa[0] == '/' ? "" : prefix, pa);
        cr_assert_str_eq(imbal_dataset_path(b, i), want);
        cr_assert_eq(imbal_dataset_labels(a)[i], imbal_dataset_labels(b)[i]);
        cr_assert_eq(imbal_dataset_splits(a)[i], imbal_dataset_splits(b)[i]);
    }
}

Test(manifest, write_round_trip_in_place_and_elsewhere) {
    fixture f = setup();
    char *csv = write_csv(&f, "m.csv",
                          "\"q\"\"uote.jpg\",\"a, b\"\n\"comma,1.jpg\",cat\n\"new\nline.png\",cat\n"
                          "plain.jpg,dog\n/abs/p.jpg,dog\n");
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_split(f.ctx, ds, 0.6, 0.2, 0.2, 3), IMBAL_OK);
    char *out = tu_join(f.dir, "out.csv");
    cr_assert_eq(imbal_dataset_write_manifest(f.ctx, ds, out), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    char *text = tu_read_file(out, NULL);
    cr_assert(strncmp(text, "path,label,split\n\"q\"\"uote.jpg\",\"a, b\",", 38) == 0, "%s", text);
    free(text);
    imbal_dataset *back;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, out, 0, &back), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    assert_same_index(ds, back, "");
    imbal_dataset_destroy(back);
    /* written elsewhere, relative paths become absolute */
    char *sub = tu_join(f.dir, "sub/x");
    tu_touch(sub);
    char *out2 = tu_join(f.dir, "sub/out.csv");
    cr_assert_eq(imbal_dataset_write_manifest(f.ctx, ds, out2), IMBAL_OK);
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, out2, 0, &back), IMBAL_OK);
    char prefix[4096];
    snprintf(prefix, sizeof prefix, "%s/", imbal_dataset_root(ds));
    assert_same_index(ds, back, prefix);
    imbal_dataset_destroy(back);
    char *nodir = tu_join(f.dir, "no/such/dir/out.csv");
    cr_assert_eq(imbal_dataset_write_manifest(f.ctx, ds, nodir), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "no/such/dir") != NULL, "%s", imbal_ctx_error(f.ctx));
    imbal_dataset_destroy(ds);
    free(nodir), free(sub), free(out2), free(out), free(csv);
    teardown(&f);
}

Test(manifest, folder_split_round_trip) {
    fixture f = setup();
    const char *files[] = {"a/1.jpg", "a/2.jpg", "a/3.jpg", "a/4.jpg",
                           "b/1.png", "b/2.png", "b/3.png", "c/x/1.jpeg"};
    for (size_t k = 0; k < sizeof files / sizeof *files; ++k) {
        char *p = tu_join(f.dir, files[k]);
        tu_touch(p);
        free(p);
    }
    imbal_dataset *ds, *back;
    cr_assert_eq(imbal_dataset_open_folder(f.ctx, f.dir, 0, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_split(f.ctx, ds, 0.8, 0.1, 0.1, 11), IMBAL_OK);
    int64_t counts[3];
    cr_assert_eq(imbal_dataset_class_counts(f.ctx, ds, IMBAL_SPLIT_TEST, counts), IMBAL_OK);
    cr_assert(counts[0] == 1 && counts[1] == 1 && counts[2] == 0); /* 4 -> 2,1,1; 3 -> 1,1,1 */
    char *out = tu_join(f.dir, "index.csv");
    cr_assert_eq(imbal_dataset_write_manifest(f.ctx, ds, out), IMBAL_OK);
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, out, 0, &back), IMBAL_OK);
    assert_same_index(ds, back, "");
    cr_assert_eq(imbal_dataset_check_files(f.ctx, back, NULL), IMBAL_OK);
    imbal_dataset_destroy(back);
    imbal_dataset_destroy(ds);
    free(out);
    teardown(&f);
}

Test(merge, renames_and_renumbers) {
    fixture f = setup();
    char *csv = write_csv(&f, "m.csv",
                          "1.jpg,kitten,train\n2.jpg,wolf,val\n3.jpg,cat,test\n4.jpg,dog,\n"
                          "5.jpg,kitten,\n");
    char *map = write_csv(&f, "map.csv",
                          "# merge the young into the adults\r\nkitten,cat\r\n\r\nwolf,canine\n"
                          "dog,canine\n");
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_merge_classes(f.ctx, ds, map), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    cr_assert_eq(imbal_dataset_num_classes(ds), 2);
    cr_assert_str_eq(imbal_dataset_class_name(ds, 0), "canine");
    cr_assert_str_eq(imbal_dataset_class_name(ds, 1), "cat");
    const int32_t want[5] = {1, 0, 1, 0, 1};
    for (int i = 0; i < 5; ++i)
        cr_assert_eq(imbal_dataset_labels(ds)[i], want[i]);
    cr_assert_eq(imbal_dataset_splits(ds)[1], IMBAL_SPLIT_VAL);
    imbal_dataset_destroy(ds);
    free(map);
    /* simultaneous, not transitive: a->b and b->c give b and c */
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK);
    map = write_csv(&f, "swap.csv", "cat,dog\ndog,cat\n");
    cr_assert_eq(imbal_dataset_merge_classes(f.ctx, ds, map), IMBAL_OK);
    cr_assert_eq(imbal_dataset_num_classes(ds), 4);
    cr_assert_eq(imbal_dataset_labels(ds)[2],
                 1); /* cat -> dog, id of dog among cat,dog,kitten,wolf */
    cr_assert_eq(imbal_dataset_labels(ds)[3], 0);
    imbal_dataset_destroy(ds);
    free(map);
    free(csv);
    teardown(&f);
}

static void expect_map_error(const fixture *f, const char *text, imbal_status want,
                             const char *line, const char *detail) {
    char *csv = write_csv(f, "m.csv", "1.jpg,cat\n2.jpg,dog\n3.jpg,eel\n");
    char *map = write_csv(f, "badmap.txt", text);
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f->ctx, csv, 0, &ds), IMBAL_OK);
    imbal_status st = imbal_dataset_merge_classes(f->ctx, ds, map);
    const char *msg = imbal_ctx_error(f->ctx);
    cr_assert_eq(st, want, "%s: %s", text, msg);
    cr_assert(strstr(msg, "badmap.txt") && strstr(msg, line), "want '%s' in: %s", line, msg);
    if (detail) cr_assert(strstr(msg, detail) != NULL, "want '%s' in: %s", detail, msg);
    /* a failed merge leaves the index as it was */
    cr_assert_eq(imbal_dataset_num_classes(ds), 3);
    cr_assert_str_eq(imbal_dataset_class_name(ds, 2), "eel");
    imbal_dataset_destroy(ds);
    free(map);
    free(csv);
}

Test(merge, errors_name_map_and_line) {
    fixture f = setup();
    expect_map_error(&f, "cat,feline\n# c\ncow,bovine\n", IMBAL_ERR_DATA, "line 3", "'cow'");
    expect_map_error(&f, "cat\n", IMBAL_ERR_FORMAT, "line 1", "old_name,new_name");
    expect_map_error(&f, "\ncat,a,b\n", IMBAL_ERR_FORMAT, "line 2", NULL);
    expect_map_error(&f, "cat,\n", IMBAL_ERR_FORMAT, "line 1", NULL);
    expect_map_error(&f, "cat,x\ndog,x\ncat,y\n", IMBAL_ERR_FORMAT, "line 3", "line 1");
    imbal_dataset *ds;
    const int64_t counts[1] = {1};
    cr_assert_eq(imbal_dataset_from_counts(f.ctx, counts, 1, NULL, &ds), IMBAL_OK);
    cr_assert_eq(imbal_dataset_merge_classes(f.ctx, ds, "/no/map.csv"), IMBAL_ERR_IO);
    cr_assert(strstr(imbal_ctx_error(f.ctx), "/no/map.csv") != NULL);
    imbal_dataset_destroy(ds);
    teardown(&f);
}

Test(manifest, one_million_rows) {
    fixture f = setup();
    char *csv = tu_join(f.dir, "big.csv");
    FILE *fp = fopen(csv, "w");
    cr_assert_not_null(fp);
    fputs("path,label,split\n", fp);
    for (int i = 0; i < 1000000; ++i)
        fprintf(fp, "images/class%03d/img_%07d.jpg,class%03d,%s\n", i % 100, i, i % 100,
                i % 10 == 0 ? "val" : "train");
    fclose(fp);
    imbal_dataset *ds;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_log_info("indexed 1,000,000 manifest rows in %.3f s",
                (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    cr_assert_eq(imbal_dataset_size(ds), 1000000);
    cr_assert_eq(imbal_dataset_num_classes(ds), 100);
    cr_assert_str_eq(imbal_dataset_path(ds, 999999), "images/class099/img_0999999.jpg");
    cr_assert_eq(imbal_dataset_labels(ds)[999999], 99);
    int64_t counts[100];
    cr_assert_eq(imbal_dataset_class_counts(f.ctx, ds, IMBAL_SPLIT_VAL, counts), IMBAL_OK);
    cr_assert_eq(counts[0], 10000);
    cr_assert_eq(counts[1], 0);
    imbal_dataset_destroy(ds);
    free(csv);
    teardown(&f);
}

Test(manifest, header_finds_columns_by_name) {
    fixture f = setup();
    /* extra columns (a chip manifest's) are ignored */
    char *csv = write_csv(&f, "chips.csv",
                          "path,label,source,x,y,width,height\n"
                          "cat/a_y0_x0.png,cat,\"big, 1.png\",0,0,32,32\n"
                          "dog/b_y0_x0.png,dog,b.png,0,0,32,32\n");
    imbal_dataset *ds;
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    cr_assert_eq(imbal_dataset_size(ds), 2);
    cr_assert_str_eq(imbal_dataset_path(ds, 0), "cat/a_y0_x0.png");
    cr_assert_str_eq(imbal_dataset_path(ds, 1), "dog/b_y0_x0.png");
    cr_assert_eq(imbal_dataset_labels(ds)[0], 0);
    cr_assert_eq(imbal_dataset_labels(ds)[1], 1);
    cr_assert_eq(imbal_dataset_splits(ds)[0], IMBAL_SPLIT_NONE);
    imbal_dataset_destroy(ds);
    free(csv);
    /* columns in another order, split included (a header starts with path) */
    csv = write_csv(&f, "order.csv",
                    "path,split,note,label\n"
                    "d.jpg,val,x,dog\n"
                    "c.jpg,train,,cat\n");
    cr_assert_eq(imbal_dataset_open_manifest(f.ctx, csv, 0, &ds), IMBAL_OK, "%s",
                 imbal_ctx_error(f.ctx));
    cr_assert_eq(imbal_dataset_size(ds), 2);
    cr_assert_str_eq(imbal_dataset_path(ds, 0), "d.jpg");
    cr_assert_str_eq(imbal_dataset_class_name(ds, imbal_dataset_labels(ds)[0]), "dog");
    cr_assert_eq(imbal_dataset_splits(ds)[0], IMBAL_SPLIT_VAL);
    cr_assert_str_eq(imbal_dataset_path(ds, 1), "c.jpg");
    cr_assert_str_eq(imbal_dataset_class_name(ds, imbal_dataset_labels(ds)[1]), "cat");
    cr_assert_eq(imbal_dataset_splits(ds)[1], IMBAL_SPLIT_TRAIN);
    imbal_dataset_destroy(ds);
    free(csv);
    /* no header: the 2-or-3-field rule stays */
    expect_error(&f, "a.jpg,cat,train,x\n", IMBAL_ERR_FORMAT, "row 1", "4 fields");
    teardown(&f);
}

Test(manifest, header_errors_name_file_and_header) {
    fixture f = setup();
    expect_error(&f, "path,source,x\na.jpg,b.jpg,0\n", IMBAL_ERR_FORMAT, "row 1",
                 "header 'path,source,x' has no label column");
    expect_error(&f, "path,label,label\na.jpg,cat,dog\n", IMBAL_ERR_FORMAT, "row 1",
                 "'label' twice");
    expect_error(&f, "path,label,source\na.jpg,cat\n", IMBAL_ERR_FORMAT, "row 2",
                 "2 fields where the first row has 3");
    expect_error(&f, "path,label,x,split\na.jpg,cat,1,Val\n", IMBAL_ERR_FORMAT, "row 2", "'Val'");
    expect_error(&f, "path,label,x\na.jpg,,1\n", IMBAL_ERR_FORMAT, "row 2", "label is empty");
    teardown(&f);
}
