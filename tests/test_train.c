/* The training loop on the CPU: a tiny synthetic set must be learned, a resumed run must equal an
 * uninterrupted one bit for bit, the run directory holds what the docs say, and every error the
 * issue names is clear. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "imbal/imbal.h"
#include "test_util.h"
#include "tiny_set.h"

/* A set a small CNN learns in a few epochs (tiny_set.h): `classes` classes told apart by where a
 * bright square sits, 16 x 16 PNGs; 24/12/6 training images (imbalanced) and 10 test images per
 * class. */
static char *make_set_of(int classes) {
    char *dir = tu_mkdtemp();
    char *out = tu_join(dir, "set");
    unsigned seed = 5;
    char *train = tu_join(out, "train"), *test = tu_join(out, "test");
    tiny_set_write_split(train, classes, 24, 1, &seed);
    tiny_set_write_split(test, classes, 10, 0, &seed);
    free(train), free(test);
    free(dir);
    return out;
}

static char *make_set(imbal_ctx *ctx) {
    (void)ctx;
    return make_set_of(3);
}

static void small_config(imbal_train_config *c, const char *train, const char *val,
                         const char *out) {
    imbal_train_config_default(c);
    c->data = train;
    c->val = val;
    c->out_dir = out;
    c->arch = "resnet8";
    c->width = 8;
    c->image_size = 16;
    c->epochs = 15;
    c->batch = 16;
    c->lr = 0.05;
    c->augment = "crop=16:pad=1,normalize=cifar10"; /* no flip: the classes are positions */
    c->seed = 11;
}

/* imbal eval of the run in `run` on the images in `data`, writing to `out`. */
static void eval_config(imbal_eval_config *e, const char *run, const char *data, const char *out) {
    imbal_eval_config_default(e);
    e->run_dir = run;
    e->data = data;
    e->out_dir = out;
}

static char *sub(const char *dir, const char *name) {
    return tu_join(dir, name);
}

Test(train, learns_a_tiny_set_and_writes_the_run, .timeout = 120) {
    imbal_ctx *ctx = tu_ctx();
    char *set = make_set(ctx);
    char *train = sub(set, "train"), *test = sub(set, "test"), *run = sub(set, "run");
    imbal_train_config c;
    small_config(&c, train, test, run);
    c.sampler = IMBAL_SAMPLER_CLASS_POWER; /* class-balanced */
    imbal_train_result r;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(r.epochs_run, 15);
    cr_expect_gt(r.val_accuracy, 0.6, "val accuracy %g (chance 0.33)", r.val_accuracy);
    cr_expect_gt(r.val_balanced_accuracy, 0.6);
    const char *files[] = {"checkpoint.safetensors",
                           "metrics.jsonl",
                           "report.json",
                           "report.md",
                           "confusion.png",
                           "confusion_normalized.png",
                           "recall_vs_count.png",
                           "curves_loss.png",
                           "curves_accuracy.png"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *p = sub(run, files[i]);
        struct stat sb;
        cr_expect_eq(stat(p, &sb), 0, "missing %s", files[i]);
        free(p);
    }
    char *mj = sub(run, "metrics.jsonl");
    size_t len = 0;
    char *text = tu_read_file(mj, &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    cr_assert_eq(lines, 15);
    cr_assert_not_null(strstr(text, "\"per_class_recall\""));
    cr_assert_not_null(strstr(text, "\"balanced_accuracy\""));
    free(text);
    free(mj);
    /* imbal eval on the test split reproduces the final validation numbers. */
    char *ev = sub(set, "eval");
    imbal_eval_config e;
    eval_config(&e, run, test, ev);
    imbal_metrics_report rep;
    cr_assert_eq(imbal_eval(ctx, &e, &rep), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(rep.accuracy, r.val_accuracy, 1e-9);
    cr_assert_eq(rep.total, 30);
    imbal_metrics_report_free(&rep);
    free(ev);
    tu_rmtree(set);
    free(train), free(test), free(run), free(set);
    imbal_ctx_destroy(ctx);
}

static void *read_all(const char *path, size_t *len) {
    return tu_read_file(path, len);
}

Test(train, resume_equals_uninterrupted, .timeout = 120) {
    imbal_ctx *ctx = tu_ctx();
    char *set = make_set(ctx);
    char *train = sub(set, "train"), *a = sub(set, "a"), *b = sub(set, "b");
    imbal_train_config c;
    imbal_train_result r;
    small_config(&c, train, NULL, a);
    c.epochs = 4;
    c.crt_epochs = 2;
    c.weights.scheme = IMBAL_WEIGHTS_ENS;
    c.drw_epoch = 2;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(r.epochs_run, 6);
    c.out_dir = b;
    c.stop_after = 3; /* interrupted inside the main stage */
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(r.epochs_run, 3);
    c.resume = 1;
    c.stop_after = 2; /* and again inside cRT */
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(r.epochs_run, 2);
    c.stop_after = 0;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(r.epochs_run, 1);
    /* The same weights, bit for bit. */
    char *pa = sub(a, "checkpoint.safetensors"), *pb = sub(b, "checkpoint.safetensors");
    tu_assert_same_tensors(ctx, pa, pb, "resumed vs uninterrupted");
    /* metrics.jsonl has one line per epoch of both stages in both runs. */
    char *ma = sub(a, "metrics.jsonl"), *mb = sub(b, "metrics.jsonl");
    size_t la, lb;
    char *ta = read_all(ma, &la), *tb = read_all(mb, &lb);
    int na = 0, nb = 0;
    for (size_t i = 0; i < la; i++)
        na += ta[i] == '\n';
    for (size_t i = 0; i < lb; i++)
        nb += tb[i] == '\n';
    cr_assert_eq(na, 6);
    cr_assert_eq(nb, 6);
    free(ta), free(tb), free(ma), free(mb), free(pa), free(pb);
    tu_rmtree(set);
    free(train), free(a), free(b), free(set);
    imbal_ctx_destroy(ctx);
}

Test(train, errors_are_clear, .timeout = 60) {
    imbal_ctx *ctx = tu_ctx();
    char *set = make_set(ctx);
    char *train = sub(set, "train"), *run = sub(set, "run");
    imbal_train_config c;
    imbal_train_result r;
    /* no images */
    char *empty = sub(set, "empty");
    char *cls = sub(empty, "a");
    cr_assert_eq(mkdir(empty, 0777), 0);
    cr_assert_eq(mkdir(cls, 0777), 0);
    small_config(&c, empty, NULL, run);
    cr_assert_neq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "empty"), "%s", imbal_ctx_error(ctx));
    /* a validation class the training set lacks */
    char *val = sub(set, "val");
    char *vcls = sub(val, "99-unknown");
    cr_assert_eq(mkdir(val, 0777), 0);
    cr_assert_eq(mkdir(vcls, 0777), 0);
    unsigned seed = 9;
    char *vcls2 = sub(val, "99-pos");
    cr_assert_eq(mkdir(vcls2, 0777), 0);
    tiny_set_write_img(val, 99, 0, &seed); /* writes val/99-pos/000.png */
    small_config(&c, train, val, run);
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_ERR_DATA);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "'99-pos' is in the validation set"), "%s",
                       imbal_ctx_error(ctx));
    /* resume from another architecture */
    small_config(&c, train, NULL, run);
    c.epochs = 1;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    c.width = 4;
    c.resume = 1;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_ERR_DATA);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "another architecture"), "%s",
                       imbal_ctx_error(ctx));
    /* eval data whose classes the run does not have */
    imbal_eval_config e;
    imbal_eval_config_default(&e);
    e.run_dir = run;
    e.data = val;
    cr_assert_eq(imbal_eval(ctx, &e, NULL), IMBAL_ERR_DATA);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "99-pos"), "%s", imbal_ctx_error(ctx));
    /* bad options name themselves */
    small_config(&c, train, NULL, run);
    c.drw_epoch = 99;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "--drw-epoch 99"));
    /* a bf16 backbone on the CPU */
    small_config(&c, train, NULL, run);
    c.dtype = IMBAL_BF16;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_ERR_UNSUPPORTED);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "dtype bf16 needs a CUDA device"), "%s",
                       imbal_ctx_error(ctx));
    tu_rmtree(set);
    free(train), free(run), free(set), free(empty), free(cls), free(val), free(vcls), free(vcls2);
    imbal_ctx_destroy(ctx);
}

/* Two classes (24 and 12 training images): the threshold chosen on the validation split is on the
 * minority class, is stored in the checkpoint, serves the final report and `imbal eval`, and
 * cannot do worse there than argmax (argmax's split is one of the candidates). */
Test(train, two_class_threshold_on_validation, .timeout = 120) {
    imbal_ctx *ctx = tu_ctx();
    char *set = make_set_of(2);
    char *train = sub(set, "train"), *test = sub(set, "test"), *run = sub(set, "run");
    imbal_train_config c;
    imbal_train_result r;
    small_config(&c, train, test, run);
    c.epochs = 3;
    c.threshold = IMBAL_THRESHOLD_BALANCED_ACCURACY;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_eq(r.positive_class, 1);
    cr_assert(r.decision_threshold > 0 && r.decision_threshold < 1, "%g", r.decision_threshold);
    char *ck = sub(run, "checkpoint.safetensors");
    imbal_safetensors *sf = NULL;
    cr_assert_eq(imbal_safetensors_open(ctx, ck, &sf), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    const char *pc = imbal_safetensors_metadata(sf, "positive_class");
    const char *dt = imbal_safetensors_metadata(sf, "decision_threshold");
    cr_assert(pc && strcmp(pc, "1") == 0);
    cr_assert(dt && fabs(strtod(dt, NULL) - r.decision_threshold) < 1e-6, "%s", dt ? dt : "-");
    imbal_safetensors_close(sf);
    char *ev = sub(set, "eval");
    imbal_eval_config e;
    eval_config(&e, run, test, ev);
    imbal_metrics_report with, argmax, fixed;
    cr_assert_eq(imbal_eval(ctx, &e, &with), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(with.balanced_accuracy, r.val_balanced_accuracy, 1e-9);
    e.threshold = 0;
    cr_assert_eq(imbal_eval(ctx, &e, &argmax), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_geq(with.balanced_accuracy, argmax.balanced_accuracy);
    /* --threshold P on the command line is the same rule as the stored one */
    e.threshold = r.decision_threshold;
    cr_assert_eq(imbal_eval(ctx, &e, &fixed), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(fixed.balanced_accuracy, with.balanced_accuracy, 1e-9);
    imbal_metrics_report_free(&with);
    imbal_metrics_report_free(&argmax);
    imbal_metrics_report_free(&fixed);
    /* a resumed finished run keeps the threshold */
    c.resume = 1;
    imbal_train_result r2;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r2), IMBAL_OK, "%s", imbal_ctx_error(ctx));
    cr_assert_float_eq(r2.decision_threshold, r.decision_threshold, 1e-7);
    cr_assert_float_eq(r2.val_balanced_accuracy, r.val_balanced_accuracy, 1e-9);
    /* errors: three classes; no validation split; a probability of 1 */
    char *set3 = make_set_of(3);
    char *train3 = sub(set3, "train"), *run3 = sub(set3, "run");
    small_config(&c, train3, NULL, run3);
    c.threshold = IMBAL_THRESHOLD_F_BETA;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r2), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "has 3 classes"), "%s", imbal_ctx_error(ctx));
    small_config(&c, train, NULL, run3);
    c.threshold = IMBAL_THRESHOLD_F_BETA;
    cr_assert_eq(imbal_train(ctx, &c, NULL, NULL, &r2), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "no validation split"), "%s",
                       imbal_ctx_error(ctx));
    e.threshold = 1;
    cr_assert_eq(imbal_eval(ctx, &e, NULL), IMBAL_ERR_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "--threshold 1"), "%s", imbal_ctx_error(ctx));
    free(ck), free(ev);
    tu_rmtree(set);
    tu_rmtree(set3);
    free(train), free(test), free(run), free(set), free(train3), free(run3), free(set3);
    imbal_ctx_destroy(ctx);
}
