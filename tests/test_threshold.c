/* The two-class decision threshold chooser (src/train_threshold.c) on hand-computed cases. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "test_util.h"
#include "train_internal.h"

/* Margins 3, 2, 1, 0, -1, -2 with positives at 3, 2 and 0 (P = 3, N = 3). Switching them on in
 * order gives balanced accuracy 1/2, 2/3, 5/6, 2/3, 5/6, 2/3, 1/2: the best, 5/6, at the cuts 1.5
 * and -0.5; the one nearer argmax's 0 wins. F1 in the same order: 0, 1/2, 4/5, 2/3, 6/7, 3/4,
 * 2/3: best at -0.5. */
static const float margins6[6] = {3, 2, 1, 0, -1, -2};
static const int32_t labels6[6] = {1, 1, 0, 1, 0, 0};

Test(threshold, balanced_accuracy_hand_computed) {
    float cut = 99;
    cr_assert_eq(
        threshold_choose(NULL, margins6, labels6, 6, 1, IMBAL_THRESHOLD_BALANCED_ACCURACY, 1, &cut),
        IMBAL_OK);
    cr_assert_float_eq(cut, -0.5f, 1e-7);
}

Test(threshold, f_beta_hand_computed) {
    float cut = 99;
    cr_assert_eq(threshold_choose(NULL, margins6, labels6, 6, 1, IMBAL_THRESHOLD_F_BETA, 1, &cut),
                 IMBAL_OK);
    cr_assert_float_eq(cut, -0.5f, 1e-7);
    /* F0.5 favours precision: after the first two (tp 2, fn 1, fp 0) it is
     * 1.25*2 / (1.25*2 + 0.25) = 0.909 against 1.25*3 / (3.75 + 1) = 0.789 at -0.5. */
    cr_assert_eq(threshold_choose(NULL, margins6, labels6, 6, 1, IMBAL_THRESHOLD_F_BETA, 0.5, &cut),
                 IMBAL_OK);
    cr_assert_float_eq(cut, 1.5f, 1e-7);
}

Test(threshold, positive_class_zero_and_unsorted_input) {
    /* The same samples, shuffled, with class 0 as the positive one. */
    float m[6] = {0, -1, 3, 1, -2, 2};
    int32_t l[6] = {0, 1, 0, 1, 1, 0};
    float cut = 99;
    cr_assert_eq(threshold_choose(NULL, m, l, 6, 0, IMBAL_THRESHOLD_BALANCED_ACCURACY, 1, &cut),
                 IMBAL_OK);
    cr_assert_float_eq(cut, -0.5f, 1e-7);
}

Test(threshold, ties_take_the_cut_nearest_argmax) {
    /* Every split scores 1/2; candidates are 2 (nothing on), 0 and -2 (everything on). */
    float m[4] = {1, 1, -1, -1};
    int32_t l[4] = {1, 0, 1, 0};
    float cut = 99;
    cr_assert_eq(threshold_choose(NULL, m, l, 4, 1, IMBAL_THRESHOLD_BALANCED_ACCURACY, 1, &cut),
                 IMBAL_OK);
    cr_assert_float_eq(cut, 0.0f, 1e-7);
}

Test(threshold, errors_name_the_problem) {
    imbal_ctx *ctx = tu_ctx();
    float m[3] = {1, 2, 3}, cut;
    int32_t l[3] = {1, 1, 1};
    cr_assert_eq(threshold_choose(ctx, m, l, 3, 1, IMBAL_THRESHOLD_F_BETA, 1, &cut),
                 IMBAL_ERR_DATA);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "both classes"), "%s", imbal_ctx_error(ctx));
    m[1] = NAN;
    l[0] = 0;
    cr_assert_eq(threshold_choose(ctx, m, l, 3, 1, IMBAL_THRESHOLD_F_BETA, 1, &cut),
                 IMBAL_ERR_DATA);
    cr_assert_not_null(strstr(imbal_ctx_error(ctx), "sample 1"), "%s", imbal_ctx_error(ctx));
    cr_assert_eq(threshold_choose(ctx, m, l, 3, 1, IMBAL_THRESHOLD_F_BETA, 0, &cut),
                 IMBAL_ERR_INVALID_ARGUMENT);
    imbal_ctx_destroy(ctx);
}

Test(threshold, fold_into_the_adjustment) {
    float *a = NULL;
    cr_assert_eq(threshold_fold(NULL, 1, 0.75f, &a), IMBAL_OK);
    cr_assert_float_eq(a[0], 0.0f, 0);
    cr_assert_float_eq(a[1], 0.75f, 0);
    cr_assert_eq(threshold_fold(NULL, 0, -0.25f, &a), IMBAL_OK); /* adds to what is there */
    cr_assert_float_eq(a[0], -0.25f, 0);
    free(a);
    int64_t counts[2] = {10, 90}, tie[2] = {5, 5};
    cr_assert_eq(threshold_positive_class(counts), 0);
    cr_assert_eq(threshold_positive_class(tie), 1);
}
