/* Class weights: every scheme by hand on counts {500, 50, 5}, power, ENS limits, empty classes,
 * manual specs and their errors, per-batch sample weights, and reference vectors from
 * scikit-learn and Cui et al.'s code (tests/data/weights/make_weights_reference.py). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imbal/imbal.h"
#include "imbal/weights.h"
#include "test_util.h"

static const int64_t counts3[3] = {500, 50, 5};
static const char *const names3[3] = {"cat", "dog", "eel"};

static void assert_rel(double got, double want, double tol, const char *what, int c) {
    if (want == 0.0)
        cr_assert_eq(got, 0.0, "%s[%d]: got %.17g, want 0", what, c, got);
    else
        cr_assert(fabs(got - want) <= tol * fabs(want), "%s[%d]: got %.17g, want %.17g", what, c,
                  got, want);
}

static void assert_vec(const double *got, const double *want, int k, double tol, const char *what) {
    for (int c = 0; c < k; ++c)
        assert_rel(got[c], want[c], tol, what, c);
}

static double vec_sum(const double *w, int k) {
    double s = 0;
    for (int c = 0; c < k; ++c)
        s += w[c];
    return s;
}

static imbal_weight_options opts_for(imbal_weight_scheme s) {
    imbal_weight_options o;
    imbal_weight_options_default(&o);
    o.scheme = s;
    return o;
}

/* Weights for counts {500, 50, 5} under scheme s (asserts success). */
static void weights3(imbal_weight_options o, double out[3]) {
    imbal_ctx *ctx = tu_ctx();
    cr_assert_eq(imbal_class_weights(ctx, counts3, 3, names3, &o, out), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
}

static void expect_error(imbal_status got, imbal_status want, imbal_ctx *ctx, const char *needle) {
    cr_assert_eq(got, want, "status %s, want %s (%s)", imbal_status_string(got),
                 imbal_status_string(want), imbal_ctx_error(ctx));
    cr_assert(strstr(imbal_ctx_error(ctx), needle) != NULL, "message '%s' lacks '%s'",
              imbal_ctx_error(ctx), needle);
}

/* ---- names and defaults ---------------------------------------------------------------------- */

Test(weights, scheme_names_round_trip) {
    imbal_ctx *ctx = tu_ctx();
    const char *want[] = {"none", "inverse", "balanced", "one-minus-freq",
                          "ins",  "isns",    "ens",      "manual"};
    for (int s = 0; s < 8; ++s) {
        cr_assert_str_eq(imbal_weight_scheme_name((imbal_weight_scheme)s), want[s]);
        imbal_weight_scheme parsed = IMBAL_WEIGHTS_NONE;
        cr_assert_eq(imbal_weight_scheme_parse(ctx, want[s], &parsed), IMBAL_OK);
        cr_assert_eq((int)parsed, s);
    }
    cr_assert_str_eq(imbal_weight_scheme_name((imbal_weight_scheme)42), "unknown");
    imbal_weight_scheme parsed;
    expect_error(imbal_weight_scheme_parse(ctx, "focal", &parsed), IMBAL_ERR_INVALID_ARGUMENT, ctx,
                 "'focal'");
    imbal_ctx_destroy(ctx);
}

Test(weights, options_default) {
    imbal_weight_options o;
    memset(&o, 0x5a, sizeof o);
    imbal_weight_options_default(&o);
    cr_assert_eq(o.scheme, IMBAL_WEIGHTS_NONE);
    cr_assert_eq(o.beta, 0.999);
    cr_assert_eq(o.power, 1.0);
    cr_assert_eq(o.zero_weight_for_empty, 0);
    cr_assert_null(o.manual);
}

/* ---- every scheme by hand on {500, 50, 5}: N = 555, K = 3 ---------------------------------- */

Test(weights, none_is_all_ones_whatever_the_power) {
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_NONE);
    o.power = 3.0;
    double w[3], want[3] = {1, 1, 1};
    weights3(o, w);
    assert_vec(w, want, 3, 0, "none");
}

Test(weights, inverse) {
    double w[3], want[3] = {1.11, 11.1, 111.0}; /* 555/500, 555/50, 555/5 */
    weights3(opts_for(IMBAL_WEIGHTS_INVERSE), w);
    assert_vec(w, want, 3, 1e-12, "inverse");
}

Test(weights, balanced_is_sklearn) {
    double w[3], want[3] = {0.37, 3.7, 37.0}; /* 555/(3*500), 555/150, 555/15 */
    weights3(opts_for(IMBAL_WEIGHTS_BALANCED), w);
    assert_vec(w, want, 3, 1e-12, "balanced");
}

Test(weights, one_minus_freq) {
    /* 1 - 500/555 = 11/111, 1 - 50/555 = 101/111, 1 - 5/555 = 110/111 */
    double w[3], want[3] = {11.0 / 111.0, 101.0 / 111.0, 110.0 / 111.0};
    weights3(opts_for(IMBAL_WEIGHTS_ONE_MINUS_FREQ), w);
    assert_vec(w, want, 3, 1e-12, "one-minus-freq");
}

Test(weights, ins_normalised_to_k) {
    /* (0.002, 0.02, 0.2) * 3 / 0.222 = (1/37, 10/37, 100/37) */
    double w[3], want[3] = {0.027027027027027027, 0.27027027027027027, 2.7027027027027027};
    weights3(opts_for(IMBAL_WEIGHTS_INS), w);
    assert_vec(w, want, 3, 1e-12, "ins");
    assert_rel(vec_sum(w, 3), 3.0, 1e-15, "ins sum", 0);
}

Test(weights, isns_normalised_to_k) {
    /* 1/sqrt(n) is proportional to (1, sqrt 10, 10): weights 3 (1, sqrt 10, 10) / (11 + sqrt 10) */
    double w[3], want[3] = {0.21183033350896272076, 0.66986633140141007168, 2.1183033350896272076};
    weights3(opts_for(IMBAL_WEIGHTS_ISNS), w);
    assert_vec(w, want, 3, 1e-12, "isns");
}

Test(weights, power_half_on_ins_equals_isns) {
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_INS);
    o.power = 0.5;
    double w[3], want[3] = {0.21183033350896272076, 0.66986633140141007168, 2.1183033350896272076};
    weights3(o, w);
    assert_vec(w, want, 3, 1e-12, "ins^0.5");
}

Test(weights, power_on_unnormalised_schemes) {
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_INVERSE);
    o.power = 0.5;
    double w[3], want[3] = {1.0535653752852738848, 3.3316662497915363671, 10.535653752852738848};
    weights3(o, w);
    assert_vec(w, want, 3, 1e-12, "inverse^0.5");
    o.scheme = IMBAL_WEIGHTS_BALANCED;
    o.power = 2.0;
    double want_b[3] = {0.37 * 0.37, 3.7 * 3.7, 37.0 * 37.0};
    weights3(o, w);
    assert_vec(w, want_b, 3, 1e-12, "balanced^2");
    o.power = 0.0; /* power 0 makes every weight 1 */
    double ones[3] = {1, 1, 1};
    weights3(o, w);
    assert_vec(w, ones, 3, 0, "balanced^0");
    o.scheme = IMBAL_WEIGHTS_INS; /* and so for a normalised scheme too */
    weights3(o, w);
    assert_vec(w, ones, 3, 1e-15, "ins^0");
}

Test(weights, ens_by_hand) {
    /* (1 - b) / (1 - b^n), normalised to sum 3; values from 40-digit decimal arithmetic */
    static const double betas[3] = {0.9, 0.999, 0.9999};
    static const double want[3][3] = {
        {0.67459339633257749274, 0.67808811002238943666, 1.6473184936450330706},
        {0.034110773740219829748, 0.27516941514164202261, 2.6907198111181381476},
        {0.027689599633111332892, 0.27076302159070774857, 2.7015473787761809185}};
    for (int i = 0; i < 3; ++i) {
        imbal_weight_options o = opts_for(IMBAL_WEIGHTS_ENS);
        o.beta = betas[i];
        double w[3];
        weights3(o, w);
        assert_vec(w, want[i], 3, 1e-12, "ens");
    }
}

Test(weights, ens_beta_zero_is_all_ones) {
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_ENS);
    o.beta = 0.0;
    double w[3], ones[3] = {1, 1, 1};
    weights3(o, w);
    assert_vec(w, ones, 3, 0, "ens b=0");
}

Test(weights, ens_tends_to_ins_as_beta_tends_to_one) {
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_ENS);
    o.beta = 1.0 - 1e-12;
    double w[3], ins[3];
    weights3(o, w);
    /* exact (40 digits) at this beta; the cancelling 1 - b^n would lose ~4 digits here */
    double want[3] = {0.027027027033601168737, 0.27027027027520087655, 2.7027027026911979547};
    assert_vec(w, want, 3, 1e-12, "ens b=1-1e-12");
    weights3(opts_for(IMBAL_WEIGHTS_INS), ins);
    assert_vec(w, ins, 3, 1e-9, "ens vs ins");
}

Test(weights, ens_large_counts_stay_finite) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[3] = {INT64_C(1) << 40, 1, 1000000};
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_ENS);
    o.beta = 0.9999999;
    double w[3];
    cr_assert_eq(imbal_class_weights(ctx, counts, 3, NULL, &o, w), IMBAL_OK);
    for (int c = 0; c < 3; ++c)
        cr_assert(isfinite(w[c]) && w[c] > 0);
    assert_rel(vec_sum(w, 3), 3.0, 1e-14, "sum", 0);
    imbal_ctx_destroy(ctx);
}

Test(weights, strong_power_does_not_underflow_normalised_schemes) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[3] = {1000000, 1000000, 10};
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_INS);
    o.power = 200.0; /* (1e-6)^200 underflows; the rarest class must still get everything */
    double w[3], want[3] = {0, 0, 3};
    cr_assert_eq(imbal_class_weights(ctx, counts, 3, NULL, &o, w), IMBAL_OK);
    assert_vec(w, want, 3, 1e-15, "ins^200");
    imbal_ctx_destroy(ctx);
}

/* ---- empty classes ----------------------------------------------------------------------------
 */

Test(weights, empty_class_is_an_error_naming_it) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[3] = {500, 0, 5};
    double w[3];
    for (int s = IMBAL_WEIGHTS_INVERSE; s <= IMBAL_WEIGHTS_ENS; ++s) {
        imbal_weight_options o = opts_for((imbal_weight_scheme)s);
        expect_error(imbal_class_weights(ctx, counts, 3, names3, &o, w), IMBAL_ERR_DATA, ctx,
                     "class 'dog' (id 1) is empty");
        expect_error(imbal_class_weights(ctx, counts, 3, NULL, &o, w), IMBAL_ERR_DATA, ctx,
                     "class 1 is empty");
    }
    imbal_ctx_destroy(ctx);
}

Test(weights, empty_class_gets_zero_when_asked) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t counts[3] = {500, 0, 5}; /* N = 505 */
    double w[3];
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_INS);
    o.zero_weight_for_empty = 1;
    cr_assert_eq(imbal_class_weights(ctx, counts, 3, names3, &o, w), IMBAL_OK);
    /* (0.002, 0.2) * 2 / 0.202: the two non-empty classes sum to 2 */
    double want_ins[3] = {2.0 / 101.0, 0.0, 200.0 / 101.0};
    assert_vec(w, want_ins, 3, 1e-12, "ins empty");
    o.scheme = IMBAL_WEIGHTS_BALANCED; /* K stays 3: 505/1500, 0, 505/15 */
    cr_assert_eq(imbal_class_weights(ctx, counts, 3, names3, &o, w), IMBAL_OK);
    double want_bal[3] = {505.0 / 1500.0, 0.0, 505.0 / 15.0};
    assert_vec(w, want_bal, 3, 1e-12, "balanced empty");
    o.scheme = IMBAL_WEIGHTS_ONE_MINUS_FREQ; /* would be 1, but the flag says 0 */
    o.power = 0.0;                           /* and the power leaves empty classes at 0 */
    cr_assert_eq(imbal_class_weights(ctx, counts, 3, names3, &o, w), IMBAL_OK);
    double want_omf[3] = {1.0, 0.0, 1.0};
    assert_vec(w, want_omf, 3, 0, "one-minus-freq^0 empty");
    o.scheme = IMBAL_WEIGHTS_ENS;
    o.power = 1.0;
    o.beta = 0.0;
    cr_assert_eq(imbal_class_weights(ctx, counts, 3, names3, &o, w), IMBAL_OK);
    double want_ens[3] = {1.0, 0.0, 1.0};
    assert_vec(w, want_ens, 3, 0, "ens b=0 empty");
    const int64_t none_present[2] = {0, 0};
    o.scheme = IMBAL_WEIGHTS_ISNS;
    cr_assert_eq(imbal_class_weights(ctx, none_present, 2, NULL, &o, w), IMBAL_OK);
    cr_assert(w[0] == 0.0 && w[1] == 0.0);
    imbal_ctx_destroy(ctx);
}

/* ---- argument validation ----------------------------------------------------------------------
 */

Test(weights, bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    double w[3];
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_ENS);
    o.beta = 1.0;
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "beta must be in [0, 1), got 1");
    o.beta = -0.25;
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "got -0.25");
    o.beta = NAN;
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "nan");
    o = opts_for(IMBAL_WEIGHTS_INS);
    o.power = -1.0;
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "power must be finite and >= 0, got -1");
    o.power = INFINITY;
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "got inf");
    o = opts_for(IMBAL_WEIGHTS_INVERSE);
    o.power = 200.0; /* 111^200 overflows */
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "class 'eel' (id 2)");
    o = opts_for(IMBAL_WEIGHTS_BALANCED);
    expect_error(imbal_class_weights(ctx, counts3, 0, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "got 0");
    const int64_t negative[3] = {500, -4, 5};
    expect_error(imbal_class_weights(ctx, negative, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "class 'dog' (id 1) has negative count -4");
    const int64_t huge[2] = {INT64_MAX, 1};
    expect_error(imbal_class_weights(ctx, huge, 2, NULL, &o, w), IMBAL_ERR_INVALID_ARGUMENT, ctx,
                 "overflows at class 1");
    expect_error(imbal_class_weights(ctx, NULL, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT, ctx,
                 "counts is NULL");
    o.scheme = (imbal_weight_scheme)99;
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "99");
    o = opts_for(IMBAL_WEIGHTS_MANUAL);
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "manual");
    imbal_ctx_destroy(ctx);
}

/* ---- manual weights through imbal_class_weights -----------------------------------------------
 */

Test(weights, manual_values_then_power_without_normalisation) {
    imbal_ctx *ctx = tu_ctx();
    const double manual[3] = {4.0, 1.0, 0.25};
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_MANUAL);
    o.manual = manual;
    double w[3];
    cr_assert_eq(imbal_class_weights(ctx, NULL, 3, names3, &o, w), IMBAL_OK); /* counts unused */
    assert_vec(w, manual, 3, 0, "manual");
    o.power = 0.5;
    const double sq[3] = {2.0, 1.0, 0.5};
    cr_assert_eq(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_OK);
    assert_vec(w, sq, 3, 1e-15, "manual^0.5");
    const double bad[3] = {1.0, NAN, 1.0};
    o.manual = bad;
    expect_error(imbal_class_weights(ctx, counts3, 3, names3, &o, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "class 'dog' (id 1)");
    const double neg[3] = {1.0, 1.0, -2.0};
    o.manual = neg;
    expect_error(imbal_class_weights(ctx, counts3, 3, NULL, &o, w), IMBAL_ERR_INVALID_ARGUMENT, ctx,
                 "class 2 has weight -2");
    imbal_ctx_destroy(ctx);
}

/* ---- manual spec parsing ----------------------------------------------------------------------
 */

static const double untouched = -123.0;

static void reset(double w[3]) {
    w[0] = w[1] = w[2] = untouched;
}

static void parse_ok(const char *spec, const char *const *names, const double want[3]) {
    imbal_ctx *ctx = tu_ctx();
    double w[3];
    reset(w);
    cr_assert_eq(imbal_weights_parse_manual(ctx, spec, names, 3, w), IMBAL_OK, "'%s': %s", spec,
                 imbal_ctx_error(ctx));
    assert_vec(w, want, 3, 0, spec);
    imbal_ctx_destroy(ctx);
}

static void parse_err(const char *spec, imbal_status want, const char *needle) {
    imbal_ctx *ctx = tu_ctx();
    double w[3];
    reset(w);
    expect_error(imbal_weights_parse_manual(ctx, spec, names3, 3, w), want, ctx, needle);
    cr_assert(w[0] == untouched && w[1] == untouched && w[2] == untouched, "'%s' wrote out", spec);
    imbal_ctx_destroy(ctx);
}

Test(weights_manual, plain_list_in_id_order) {
    const double want[3] = {2.0, 1.0, 0.5};
    parse_ok("2,1,0.5", names3, want);
    parse_ok(" 2 , 1e0,\t5e-1 ", NULL, want);
    const double zeros[3] = {0.0, 0.0, 3.0};
    parse_ok("0,-0,3", names3, zeros);
}

Test(weights_manual, pairs_by_name_and_id) {
    const double want[3] = {2.0, 1.0, 0.5};
    parse_ok("cat=2,eel=0.5", names3, want); /* dog not named: 1 */
    parse_ok("2=0.5, 0 = 2", names3, want);
    parse_ok("cat=2,2=0.5", names3, want);
    parse_ok("0=2,2=0.5", NULL, want); /* ids work without names */
}

Test(weights_manual, names_take_precedence_over_ids) {
    /* a class literally named "0" that is not id 0 */
    const char *const odd[3] = {"a", "0", "b"};
    const double want[3] = {1.0, 7.0, 1.0};
    parse_ok("0=7", odd, want);
}

Test(weights_manual, file_form) {
    char *dir = tu_mkdtemp();
    char *path = tu_join(dir, "w.csv");
    tu_write_file(path, "# class weights\n\ncat,2\r\n  2 , 0.5\n# dog stays 1\n");
    char spec[4200];
    snprintf(spec, sizeof spec, "@%s", path);
    const double want[3] = {2.0, 1.0, 0.5};
    parse_ok(spec, names3, want);
    /* names with commas work in files: the last comma separates the weight */
    const char *const comma_names[3] = {"a,b", "c", "d"};
    tu_write_file(path, "a,b,4\n");
    const double want_c[3] = {4.0, 1.0, 1.0};
    parse_ok(spec, comma_names, want_c);
    tu_rmtree(dir);
    free(path);
    free(dir);
}

Test(weights_manual, inline_errors) {
    parse_err("2,1", IMBAL_ERR_INVALID_ARGUMENT, "expected 3 weights");
    parse_err("2,1", IMBAL_ERR_INVALID_ARGUMENT, "got 2");
    parse_err("1,2,3,4", IMBAL_ERR_INVALID_ARGUMENT, "got 4");
    parse_err("1,,3", IMBAL_ERR_INVALID_ARGUMENT, "empty weight for class 'dog' (id 1)");
    parse_err("1,2,abc", IMBAL_ERR_INVALID_ARGUMENT, "cannot parse weight 'abc'");
    parse_err("1,2.5x,3", IMBAL_ERR_INVALID_ARGUMENT, "'2.5x'");
    parse_err("1,-2,3", IMBAL_ERR_INVALID_ARGUMENT,
              "weight '-2' for class 'dog' (id 1) is negative");
    parse_err("1,nan,3", IMBAL_ERR_INVALID_ARGUMENT, "'nan' for class 'dog' (id 1) is not finite");
    parse_err("inf,1,3", IMBAL_ERR_INVALID_ARGUMENT, "'inf' for class 'cat'");
    parse_err("1e999,1,3", IMBAL_ERR_INVALID_ARGUMENT, "'1e999'");
    parse_err("cow=2", IMBAL_ERR_INVALID_ARGUMENT, "unknown class 'cow'");
    parse_err("3=2", IMBAL_ERR_INVALID_ARGUMENT, "unknown class '3'");
    parse_err("-1=2", IMBAL_ERR_INVALID_ARGUMENT, "unknown class '-1'");
    parse_err("cat=2,cat=3", IMBAL_ERR_INVALID_ARGUMENT,
              "class 'cat' (id 0) is given more than once");
    parse_err("cat=2,0=3", IMBAL_ERR_INVALID_ARGUMENT, "again as '0'");
    parse_err("cat=2,3", IMBAL_ERR_INVALID_ARGUMENT, "entry 2 '3' is not name=weight");
    parse_err("dog=-1", IMBAL_ERR_INVALID_ARGUMENT, "'-1' for class 'dog' (id 1) is negative");
    parse_err("dog=", IMBAL_ERR_INVALID_ARGUMENT, "empty weight for class 'dog'");
    parse_err("dog=x1", IMBAL_ERR_INVALID_ARGUMENT, "cannot parse weight 'x1'");
    parse_err("", IMBAL_ERR_INVALID_ARGUMENT, "empty");
    parse_err("  ", IMBAL_ERR_INVALID_ARGUMENT, "empty");
    parse_err("@", IMBAL_ERR_INVALID_ARGUMENT, "file name");
}

Test(weights_manual, file_errors_name_file_and_line) {
    char *dir = tu_mkdtemp();
    char *path = tu_join(dir, "w.txt");
    char spec[4200];
    snprintf(spec, sizeof spec, "@%s", path);
    char needle[4300];

    snprintf(needle, sizeof needle, "cannot open file '%s'", path);
    parse_err(spec, IMBAL_ERR_IO, needle); /* does not exist yet */

    tu_write_file(path, "# header\ncat,2\ndog 3\n");
    snprintf(needle, sizeof needle, "file '%s' line 3: expected 'name_or_id,weight'", path);
    parse_err(spec, IMBAL_ERR_FORMAT, needle);

    tu_write_file(path, "cat,2\n\ncow,1\n");
    parse_err(spec, IMBAL_ERR_FORMAT, "line 3: unknown class 'cow'");
    tu_write_file(path, "cat,2\n0,1\n");
    parse_err(spec, IMBAL_ERR_FORMAT, "line 2: class 'cat' (id 0) is given more than once");
    tu_write_file(path, "eel,-0.5\n");
    parse_err(spec, IMBAL_ERR_FORMAT, "line 1: weight '-0.5' for class 'eel' (id 2) is negative");
    tu_write_file(path, "eel,inf\n");
    parse_err(spec, IMBAL_ERR_FORMAT, "line 1: weight 'inf'");
    tu_write_file(path, "eel,1.0.0\n");
    parse_err(spec, IMBAL_ERR_FORMAT, "line 1: cannot parse weight '1.0.0'");
    tu_write_file(path, "# only a comment\n\n");
    parse_err(spec, IMBAL_ERR_FORMAT, "has no weights");
    tu_rmtree(dir);
    free(path);
    free(dir);
}

Test(weights_manual, bad_arguments) {
    imbal_ctx *ctx = tu_ctx();
    double w[3];
    expect_error(imbal_weights_parse_manual(ctx, NULL, names3, 3, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "NULL");
    expect_error(imbal_weights_parse_manual(ctx, "1", names3, 0, w), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "got 0");
    imbal_ctx_destroy(ctx);
}

/* ---- per-batch sample weights -----------------------------------------------------------------
 */

Test(weights_batch, ins_by_hand_with_an_absent_class) {
    imbal_ctx *ctx = tu_ctx();
    /* K = 4, class 3 absent; batch counts 3, 1, 2: 1/n = (1/3, 1, 1/2), sum 11/6, scaled to 3 */
    const int32_t labels[6] = {0, 2, 0, 1, 2, 0};
    float out[6];
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_INS);
    cr_assert_eq(imbal_batch_sample_weights(ctx, labels, 6, 4, &o, out), IMBAL_OK, "%s",
                 imbal_ctx_error(ctx));
    const double per_class[3] = {6.0 / 11.0, 18.0 / 11.0, 9.0 / 11.0};
    for (int i = 0; i < 6; ++i)
        cr_assert_eq(out[i], (float)per_class[labels[i]], "sample %d", i);
    double s = 0;
    for (int i = 0; i < 6; ++i)
        s += out[i];
    /* each present class contributes (count * weight): not the normalisation target, but known */
    assert_rel(s, 3 * 6.0 / 11 + 18.0 / 11 + 2 * 9.0 / 11, 1e-6, "sum", 0);

    o.scheme = IMBAL_WEIGHTS_ISNS; /* 1/sqrt(3), 1, 1/sqrt(2) scaled to sum 3 */
    cr_assert_eq(imbal_batch_sample_weights(ctx, labels, 6, 4, &o, out), IMBAL_OK);
    double a = 1 / sqrt(3.0), b = 1.0, c = 1 / sqrt(2.0), t = 3.0 / (a + b + c);
    cr_assert_eq(out[0], (float)(a * t));
    cr_assert_eq(out[3], (float)(b * t));
    cr_assert_eq(out[1], (float)(c * t));

    o.scheme = IMBAL_WEIGHTS_ENS;
    o.beta = 0.5; /* (1-b)/(1-b^n): n=3 -> 4/7, n=1 -> 1, n=2 -> 2/3; sum 47/21 */
    cr_assert_eq(imbal_batch_sample_weights(ctx, labels, 6, 4, &o, out), IMBAL_OK);
    cr_assert(fabs(out[0] - (4.0 / 7) * 63 / 47) < 1e-6);
    cr_assert(fabs(out[3] - 1.0 * 63 / 47) < 1e-6);
    cr_assert(fabs(out[1] - (2.0 / 3) * 63 / 47) < 1e-6);

    o.scheme = IMBAL_WEIGHTS_NONE;
    cr_assert_eq(imbal_batch_sample_weights(ctx, labels, 6, 4, &o, out), IMBAL_OK);
    for (int i = 0; i < 6; ++i)
        cr_assert_eq(out[i], 1.0f);
    imbal_ctx_destroy(ctx);
}

Test(weights_batch, large_batch_matches_class_weights) {
    imbal_ctx *ctx = tu_ctx();
    const int64_t n = 200000;
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    float *out = malloc((size_t)n * sizeof *out);
    int64_t counts[7] = {0};
    for (int64_t i = 0; i < n; ++i) {
        labels[i] = (int32_t)((i * i) % 7); /* squares mod 7: classes 0,1,2,4 only */
        ++counts[labels[i]];
    }
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_ENS);
    o.beta = 0.9999;
    cr_assert_eq(imbal_batch_sample_weights(ctx, labels, n, 7, &o, out), IMBAL_OK);
    o.zero_weight_for_empty = 1;
    double w[7];
    cr_assert_eq(imbal_class_weights(ctx, counts, 7, NULL, &o, w), IMBAL_OK);
    assert_rel(vec_sum(w, 7), 4.0, 1e-14, "present sum", 0);
    for (int64_t i = 0; i < n; ++i)
        cr_assert_eq(out[i], (float)w[labels[i]]);
    free(labels);
    free(out);
    imbal_ctx_destroy(ctx);
}

Test(weights_batch, errors) {
    imbal_ctx *ctx = tu_ctx();
    const int32_t labels[4] = {0, 1, -1, 2};
    float out[4] = {9, 9, 9, 9};
    imbal_weight_options o = opts_for(IMBAL_WEIGHTS_INS);
    expect_error(imbal_batch_sample_weights(ctx, labels, 4, 3, &o, out), IMBAL_ERR_DATA, ctx,
                 "label -1 at position 2");
    expect_error(imbal_batch_sample_weights(ctx, labels + 3, 1, 2, &o, out), IMBAL_ERR_DATA, ctx,
                 "label 2 at position 0 is outside [0, 2)");
    o.scheme = IMBAL_WEIGHTS_BALANCED;
    expect_error(imbal_batch_sample_weights(ctx, labels, 2, 3, &o, out), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "'balanced'");
    o.scheme = IMBAL_WEIGHTS_MANUAL;
    expect_error(imbal_batch_sample_weights(ctx, labels, 2, 3, &o, out), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "'manual'");
    o.scheme = IMBAL_WEIGHTS_ENS;
    o.beta = 1.5;
    expect_error(imbal_batch_sample_weights(ctx, labels, 2, 3, &o, out), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "1.5");
    o = opts_for(IMBAL_WEIGHTS_INS);
    expect_error(imbal_batch_sample_weights(ctx, labels, 2, 0, &o, out), IMBAL_ERR_INVALID_ARGUMENT,
                 ctx, "got 0");
    expect_error(imbal_batch_sample_weights(ctx, labels, -1, 3, &o, out),
                 IMBAL_ERR_INVALID_ARGUMENT, ctx, "got -1");
    /* n = 0: OK and nothing written (labels and out may even be NULL) */
    cr_assert_eq(imbal_batch_sample_weights(ctx, NULL, 0, 3, &o, NULL), IMBAL_OK);
    cr_assert_eq(imbal_batch_sample_weights(ctx, labels, 0, 3, &o, out), IMBAL_OK);
    for (int i = 0; i < 4; ++i)
        cr_assert_eq(out[i], 9.0f);
    imbal_ctx_destroy(ctx);
}

/* ---- reference vectors: scikit-learn "balanced" and Cui et al.'s ENS code ---------------------
 */

Test(weights_reference, sklearn_and_cui_et_al) {
    const char *path = IMBAL_TEST_DATA_DIR "/weights/reference.txt";
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot open %s", path);
    imbal_ctx *ctx = tu_ctx();
    char line[8192];
    int cases = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        ++lineno;
        if (line[0] == '#' || line[0] == '\n') continue;
        char kind[32];
        double beta;
        int k, used;
        char *p = line;
        cr_assert_eq(sscanf(p, "%31s %lf %d%n", kind, &beta, &k, &used), 3, "line %d", lineno);
        p += used;
        cr_assert(k >= 1 && k <= 64, "line %d", lineno);
        int64_t counts[64];
        double want[64], got[64];
        for (int c = 0; c < k; ++c) {
            long long v;
            cr_assert_eq(sscanf(p, "%lld%n", &v, &used), 1, "line %d", lineno);
            counts[c] = v;
            p += used;
        }
        for (int c = 0; c < k; ++c) {
            cr_assert_eq(sscanf(p, "%lf%n", &want[c], &used), 1, "line %d", lineno);
            p += used;
        }
        imbal_weight_options o =
            opts_for(strcmp(kind, "ens") == 0 ? IMBAL_WEIGHTS_ENS : IMBAL_WEIGHTS_BALANCED);
        cr_assert(strcmp(kind, "ens") == 0 || strcmp(kind, "balanced") == 0, "line %d", lineno);
        o.beta = beta;
        cr_assert_eq(imbal_class_weights(ctx, counts, k, NULL, &o, got), IMBAL_OK, "line %d: %s",
                     lineno, imbal_ctx_error(ctx));
        assert_vec(got, want, k, 1e-12, kind);
        ++cases;
    }
    fclose(f);
    cr_assert_eq(cases, 12);
    imbal_ctx_destroy(ctx);
}
