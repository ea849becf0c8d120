/* imbal compare on two hand-written report.json files: the side-by-side summary (with the
 * many/medium/few-shot rows), the per-class percent changes computed by hand, the chart, and
 * clear errors for reports that do not match. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_util.h"

/* Two classes; A: head recall 1.0, tail 0.2; B: head 0.9, tail 0.6. */
static const char report_a[] =
    "{\"accuracy\": 0.6, \"balanced_accuracy\": 0.6, \"macro_f1\": 0.5, \"beta\": 0.5,"
    " \"many_shot\": 1.0, \"medium_shot\": null, \"few_shot\": 0.2,"
    " \"per_class\": [{\"name\": \"head\", \"precision\": 0.5, \"recall\": 1.0, \"fbeta\": 0.4},"
    "                 {\"name\": \"tail\", \"precision\": 1.0, \"recall\": 0.2, \"fbeta\": 0.0}]}";
static const char report_b[] =
    "{\"accuracy\": 0.75, \"balanced_accuracy\": 0.75, \"macro_f1\": 0.7, \"beta\": 0.5,"
    " \"many_shot\": 0.9, \"medium_shot\": null, \"few_shot\": 0.6,"
    " \"per_class\": [{\"name\": \"head\", \"precision\": 0.75, \"recall\": 0.9, \"fbeta\": 0.5},"
    "                 {\"name\": \"tail\", \"precision\": 0.8, \"recall\": 0.6, \"fbeta\": 0.3}]}";

static char *write_run(const char *root, const char *name, const char *text) {
    char *dir = tu_join(root, name);
    cr_assert_eq(mkdir(dir, 0777), 0);
    char *p = tu_join(dir, "report.json");
    tu_write_file(p, text);
    free(p);
    return dir;
}

Test(cli_compare, summary_and_per_class_changes) {
    char *root = tu_mkdtemp();
    char *a = write_run(root, "a", report_a), *b = write_run(root, "b", report_b);
    char args[8400], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s'", a, b);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    cr_assert_not_null(strstr(out, "balanced accuracy          0.6000     0.7500"), "%s", out);
    cr_assert_not_null(strstr(out, "few-shot accuracy          0.2000     0.6000"), "%s", out);
    cr_assert_null(strstr(out, "medium-shot"), "both null: no row\n%s", out);
    /* tail: precision (0.8 - 1) / 1 = -20%, recall (0.6 - 0.2) / 0.2 = +200%, F-beta from 0:
     * n/a; head: +50%, -10%, +25%. */
    cr_assert_not_null(strstr(out, "tail                       0.200     0.600      -20.0%"
                                   "     +200.0%         n/a"),
                       "%s", out);
    cr_assert_not_null(strstr(out, "head                       1.000     0.900      +50.0%"
                                   "      -10.0%      +25.0%"),
                       "%s", out);
    char *png = tu_join(b, "compare.png");
    struct stat sb;
    cr_assert_eq(stat(png, &sb), 0, "no chart %s", png);
    free(out), free(err);
    snprintf(args, sizeof args, "compare '%s' '%s' --json", a, b);
    cr_assert_eq(tu_run_cli(args, &out, &err), 0, "%s", err);
    cr_assert_not_null(strstr(out, "\"few_shot_a\": 0.2000000000000000"), "%s", out);
    cr_assert_not_null(strstr(out, "\"few_shot_b\": 0.59999999999999998"), "%s", out);
    cr_assert_not_null(strstr(out, "\"recall_change_pct\": 200"), "%s", out);
    free(out), free(err), free(png), free(a), free(b);
    tu_rmtree(root);
    free(root);
}

Test(cli_compare, errors_name_the_file) {
    char *root = tu_mkdtemp();
    char *a = write_run(root, "a", report_a);
    char *b =
        write_run(root, "b", "{\"per_class\": [{\"name\": \"other\"}, {\"name\": \"tail\"}]}");
    char *c = write_run(root, "c", "{not json");
    char args[8400], *out = NULL, *err = NULL;
    snprintf(args, sizeof args, "compare '%s' '%s'", a, b);
    cr_assert_neq(tu_run_cli(args, &out, &err), 0);
    cr_assert_not_null(strstr(err, "'head' in A and 'other' in B"), "%s", err);
    free(out), free(err);
    snprintf(args, sizeof args, "compare '%s' '%s'", a, c);
    cr_assert_neq(tu_run_cli(args, &out, &err), 0);
    cr_assert_not_null(strstr(err, "is not JSON"), "%s", err);
    free(out), free(err);
    snprintf(args, sizeof args, "compare '%s' '%s/missing'", a, root);
    cr_assert_neq(tu_run_cli(args, &out, &err), 0);
    cr_assert_not_null(strstr(err, "missing"), "%s", err);
    free(out), free(err), free(a), free(b), free(c);
    tu_rmtree(root);
    free(root);
}
