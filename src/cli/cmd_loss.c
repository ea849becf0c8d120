/* imbal loss: compute a loss and its gradient on the user's own .npy arrays, so they can check
 * it against their framework. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "internal.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal loss --kind KIND --logits L.npy --targets T.npy [--weights W.npy]\n"
    "                  [--sample-weights S.npy] [--class-counts K.npy] [--cb-beta B]\n"
    "                  [--gamma G] [--alpha A] [--pos-weight P.npy] [--tau T]\n"
    "                  [--label-smoothing E] [--ignore-index I] [--reduction mean|sum|none]\n"
    "                  [--weight-norm pytorch|count] [--ldam-margin M] [--ldam-scale S]\n"
    "                  [--grad-scale D] [--dtype f32|f16|bf16] [--check-finite]\n"
    "                  [--device cpu|cuda|auto] [--grad-out G.npy] [--loss-out X.npy] [--json]\n"
    "\n"
    "Kinds (docs/losses.md): ce, focal, sigmoid-focal, bce, balanced-softmax, ldam.\n"
    "\n"
    "  --logits L.npy         [N, C] float logits (f32 or f16)\n"
    "  --targets T.npy        [N] int32/int64 class indices; for sigmoid-focal and bce [N, C]\n"
    "                         float targets, or [N] indices (taken as one-hot)\n"
    "  --weights W.npy        [C] class weights (PyTorch's weight; focal's alpha)\n"
    "  --sample-weights S.npy [N] per-sample weights\n"
    "  --class-counts K.npy   [C] training counts (balanced-softmax, ldam, --cb-beta)\n"
    "  --cb-beta B            class-balanced: ENS weights (1-B)/(1-B^n_c) from --class-counts\n"
    "  --gamma G              focal exponent (default 2)\n"
    "  --alpha A              sigmoid-focal positive weight, < 0 disables (default 0.25)\n"
    "  --pos-weight P.npy     bce: [C] weights of the positives\n"
    "  --tau T                balanced-softmax: logits + T log prior (default 1)\n"
    "  --label-smoothing E    in [0, 1] (ce, balanced-softmax, ldam)\n"
    "  --ignore-index I       rows with this target are skipped (default -100)\n"
    "  --reduction R          mean (default), sum or none\n"
    "  --weight-norm N        pytorch: a weighted mean divides by the sum of the targets'\n"
    "                         weights (default); count: by the number of rows (Cui et al.)\n"
    "  --ldam-margin M        largest LDAM margin (default 0.5); --ldam-scale S (default 30)\n"
    "  --grad-scale D         upstream gradient of the loss (default 1)\n"
    "  --dtype D              cast the logits to f32, f16 or bf16 before computing\n"
    "  --check-finite         fail on a NaN/+inf logit (naming row and class) instead of NaN\n"
    "  --device D             cpu (default), cuda, cuda:N or auto\n"
    "  --grad-out G.npy       write dlogits (f32 for bf16 logits, else the logits' dtype)\n"
    "  --loss-out X.npy       write the per-sample losses ([N], or [N, C] for sigmoid kinds)\n"
    "  --json                 print {\"loss\", \"kind\", \"reduction\", \"n\", \"c\", ...}\n";

typedef struct loss_args {
    const char *kind, *logits, *targets, *weights, *sample_weights, *counts, *pos_weight;
    const char *reduction, *weight_norm, *dtype, *device, *grad_out, *loss_out;
    double gamma, alpha, tau, smoothing, margin, scale, grad_scale, cb_beta;
    int64_t ignore_index;
    int have_ignore, check_finite, json;
} loss_args;

static int parse_number(int c, loss_args *a) {
    const char *cmd = "loss";
    switch (c) {
    case 'g':
        return cli_parse_double(cmd, "--gamma", optarg, 0, 1e6, &a->gamma);
    case 'a':
        return cli_parse_double(cmd, "--alpha", optarg, -1e6, 1, &a->alpha);
    case 't':
        return cli_parse_double(cmd, "--tau", optarg, -1e6, 1e6, &a->tau);
    case 'e':
        return cli_parse_double(cmd, "--label-smoothing", optarg, 0, 1, &a->smoothing);
    case 'M':
        return cli_parse_double(cmd, "--ldam-margin", optarg, 0, 1e6, &a->margin);
    case 'L':
        return cli_parse_double(cmd, "--ldam-scale", optarg, 0, 1e6, &a->scale);
    case 'D':
        return cli_parse_double(cmd, "--grad-scale", optarg, -1e30, 1e30, &a->grad_scale);
    case 'B':
        return cli_parse_double(cmd, "--cb-beta", optarg, 0, 0.999999999999, &a->cb_beta);
    case 'i':
        a->have_ignore = 1;
        return cli_parse_i64(cmd, "--ignore-index", optarg, INT64_MIN, INT64_MAX, &a->ignore_index);
    default:
        return -1;
    }
}

static int parse_args(int argc, char **argv, loss_args *a) {
    static const struct option longopts[] = {{"kind", required_argument, 0, 'k'},
                                             {"logits", required_argument, 0, 'l'},
                                             {"targets", required_argument, 0, 'y'},
                                             {"weights", required_argument, 0, 'w'},
                                             {"sample-weights", required_argument, 0, 's'},
                                             {"class-counts", required_argument, 0, 'n'},
                                             {"cb-beta", required_argument, 0, 'B'},
                                             {"gamma", required_argument, 0, 'g'},
                                             {"alpha", required_argument, 0, 'a'},
                                             {"pos-weight", required_argument, 0, 'p'},
                                             {"tau", required_argument, 0, 't'},
                                             {"label-smoothing", required_argument, 0, 'e'},
                                             {"ignore-index", required_argument, 0, 'i'},
                                             {"reduction", required_argument, 0, 'r'},
                                             {"weight-norm", required_argument, 0, 'N'},
                                             {"ldam-margin", required_argument, 0, 'M'},
                                             {"ldam-scale", required_argument, 0, 'L'},
                                             {"grad-scale", required_argument, 0, 'D'},
                                             {"dtype", required_argument, 0, 'T'},
                                             {"check-finite", no_argument, 0, 'F'},
                                             {"device", required_argument, 0, 'd'},
                                             {"grad-out", required_argument, 0, 'G'},
                                             {"loss-out", required_argument, 0, 'X'},
                                             CLI_COMMON_OPTIONS,
                                             {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    a->gamma = a->alpha = a->tau = a->smoothing = a->margin = a->scale = a->grad_scale = NAN;
    a->cb_beta = NAN;
    cli_common_opts o = {0};
    int c;
    while ((c = cli_getopt("loss", argc, argv, ":h", longopts)) != -1) {
        cli_option_result r = cli_common_option(c, usage, &o);
        if (r == CLI_OPTION_HELP) return -1;
        if (r == CLI_OPTION_TAKEN) continue;
        int bad = parse_number(c, a);
        if (bad > 0) return CLI_EXIT_USAGE;
        if (bad == 0) continue;
        switch (c) {
        case 'k':
            a->kind = optarg;
            break;
        case 'l':
            a->logits = optarg;
            break;
        case 'y':
            a->targets = optarg;
            break;
        case 'w':
            a->weights = optarg;
            break;
        case 's':
            a->sample_weights = optarg;
            break;
        case 'n':
            a->counts = optarg;
            break;
        case 'p':
            a->pos_weight = optarg;
            break;
        case 'r':
            a->reduction = optarg;
            break;
        case 'N':
            a->weight_norm = optarg;
            break;
        case 'T':
            a->dtype = optarg;
            break;
        case 'F':
            a->check_finite = 1;
            break;
        case 'd':
            a->device = optarg;
            break;
        case 'G':
            a->grad_out = optarg;
            break;
        case 'X':
            a->loss_out = optarg;
            break;
        default:
            return CLI_EXIT_USAGE;
        }
    }
    a->json = o.json;
    if (optind < argc) return cli_usage_error("loss", "unexpected argument '%s'", argv[optind]);
    if (!a->kind || !a->logits || !a->targets)
        return cli_usage_error("loss", "--kind, --logits and --targets are required");
    if (!isnan(a->cb_beta) && (a->weights || !a->counts))
        return cli_usage_error("loss", "--cb-beta needs --class-counts and replaces --weights");
    return CLI_EXIT_OK;
}

/* The tensors of one call: host copies (as loaded) and, on CUDA, device copies. */
enum { T_LOGITS, T_TARGETS, T_WEIGHTS, T_SAMPLE, T_COUNTS, T_POS, T_LOSS, T_PER, T_GRAD, T_COUNT };
typedef struct loss_tensors {
    imbal_tensor host[T_COUNT], dev[T_COUNT];
    int present[T_COUNT];
} loss_tensors;

static void free_tensors(loss_tensors *t) {
    for (int i = 0; i < T_COUNT; ++i) {
        imbal_tensor_free(&t->dev[i]); /* a view (owns nothing) on the CPU */
        imbal_tensor_free(&t->host[i]);
    }
}

/* Replaces *t by its conversion to dtype (a no-op when it already has it). */
static imbal_status cast_in_place(imbal_ctx *ctx, imbal_tensor *t, imbal_dtype dtype) {
    if (t->dtype == dtype) return IMBAL_OK;
    imbal_tensor out;
    imbal_status st = imbal_tensor_alloc(ctx, &out, dtype, t->ndim, t->shape, imbal_device_cpu());
    if (st == IMBAL_OK) st = imbal_tensor_cast(ctx, &out, t);
    if (st != IMBAL_OK) {
        imbal_tensor_free(&out);
        return st;
    }
    imbal_tensor_free(t);
    *t = out;
    return IMBAL_OK;
}

/* Loads an optional float vector input as f32. */
static imbal_status load_f32(imbal_ctx *ctx, const char *path, loss_tensors *t, int slot) {
    if (!path) return IMBAL_OK;
    imbal_status st = imbal_npy_read(ctx, path, &t->host[slot]);
    if (st == IMBAL_OK) st = cast_in_place(ctx, &t->host[slot], IMBAL_F32);
    t->present[slot] = (st == IMBAL_OK);
    return st;
}

/* [N] class indices -> [N, C] one-hot in dtype (sigmoid kinds accept index targets). */
static imbal_status one_hot(imbal_ctx *ctx, imbal_tensor *t, int64_t c, imbal_dtype dtype) {
    imbal_tensor idx;
    imbal_status st = imbal_tensor_alloc(ctx, &idx, IMBAL_I64, 1, t->shape, imbal_device_cpu());
    if (st == IMBAL_OK) st = imbal_tensor_cast(ctx, &idx, t);
    int64_t n = t->shape[0], shape[2] = {n, c};
    imbal_tensor f;
    memset(&f, 0, sizeof f);
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &f, IMBAL_F32, 2, shape, imbal_device_cpu());
    for (int64_t i = 0; st == IMBAL_OK && i < n; ++i) {
        int64_t y = ((int64_t *)idx.data)[i];
        if (y < 0 || y >= c) {
            st = imbal_fail(ctx, IMBAL_ERR_DATA,
                            "targets: row %lld has class %lld, outside [0, %lld)", (long long)i,
                            (long long)y, (long long)c);
            break;
        }
        for (int64_t j = 0; j < c; ++j)
            ((float *)f.data)[i * c + j] = (float)(j == y);
    }
    imbal_tensor_free(&idx);
    if (st == IMBAL_OK) st = cast_in_place(ctx, &f, dtype);
    if (st != IMBAL_OK) {
        imbal_tensor_free(&f);
        return st;
    }
    imbal_tensor_free(t);
    *t = f;
    return IMBAL_OK;
}

static imbal_status load_inputs(imbal_ctx *ctx, const loss_args *a, imbal_loss_kind kind,
                                loss_tensors *t) {
    imbal_status st = imbal_npy_read(ctx, a->logits, &t->host[T_LOGITS]);
    if (st != IMBAL_OK) return st;
    imbal_tensor *x = &t->host[T_LOGITS];
    if (x->ndim != 2)
        return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                          "--logits '%s' must be [N, C], has %d dims", a->logits, x->ndim);
    if (a->dtype) {
        imbal_dtype d;
        if ((st = imbal_dtype_parse(ctx, a->dtype, &d)) != IMBAL_OK) return st;
        if ((st = cast_in_place(ctx, x, d)) != IMBAL_OK) return st;
    } else if (x->dtype != IMBAL_F32 && x->dtype != IMBAL_F16) {
        if ((st = cast_in_place(ctx, x, IMBAL_F32)) != IMBAL_OK) return st;
    }
    t->present[T_LOGITS] = 1;
    if ((st = imbal_npy_read(ctx, a->targets, &t->host[T_TARGETS])) != IMBAL_OK) return st;
    t->present[T_TARGETS] = 1;
    imbal_tensor *y = &t->host[T_TARGETS];
    int integer = y->dtype == IMBAL_I32 || y->dtype == IMBAL_I64 || y->dtype == IMBAL_U8;
    if (kind == IMBAL_LOSS_SIGMOID_FOCAL || kind == IMBAL_LOSS_BCE) {
        st = (integer && y->ndim == 1) ? one_hot(ctx, y, x->shape[1], x->dtype)
                                       : cast_in_place(ctx, y, x->dtype);
    } else if (y->dtype == IMBAL_U8) {
        st = cast_in_place(ctx, y, IMBAL_I64);
    } else if (!integer) {
        st = imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                        "--targets '%s' must hold class indices (int32/int64) for %s, not %s",
                        a->targets, imbal_loss_kind_name(kind), imbal_dtype_name(y->dtype));
    }
    if (st == IMBAL_OK) st = load_f32(ctx, a->weights, t, T_WEIGHTS);
    if (st == IMBAL_OK) st = load_f32(ctx, a->sample_weights, t, T_SAMPLE);
    if (st == IMBAL_OK) st = load_f32(ctx, a->counts, t, T_COUNTS);
    if (st == IMBAL_OK) st = load_f32(ctx, a->pos_weight, t, T_POS);
    return st;
}

/* Class-balanced weights (Cui et al. 2019) from the counts, into the weights slot. */
static imbal_status cb_weights(imbal_ctx *ctx, double beta, loss_tensors *t) {
    imbal_tensor *k = &t->host[T_COUNTS];
    int64_t c = imbal_tensor_numel(k);
    int64_t *counts = malloc(sizeof *counts * (size_t)(c ? c : 1));
    double *w = malloc(sizeof *w * (size_t)(c ? c : 1));
    imbal_status st =
        (counts && w) ? IMBAL_OK : imbal_fail(ctx, IMBAL_ERR_OUT_OF_MEMORY, "--cb-beta");
    for (int64_t i = 0; st == IMBAL_OK && i < c; ++i) {
        float v = ((float *)k->data)[i];
        if (!(v >= 0) || v != floorf(v))
            st = imbal_fail(ctx, IMBAL_ERR_DATA, "--class-counts: entry %lld (%g) is not a count",
                            (long long)i, v);
        else
            counts[i] = (int64_t)v;
    }
    imbal_weight_options wo;
    imbal_weight_options_default(&wo);
    wo.scheme = IMBAL_WEIGHTS_ENS, wo.beta = beta, wo.zero_weight_for_empty = 1;
    if (st == IMBAL_OK) st = imbal_class_weights(ctx, counts, (int)c, NULL, &wo, w);
    int64_t shape[1] = {c};
    if (st == IMBAL_OK)
        st = imbal_tensor_alloc(ctx, &t->host[T_WEIGHTS], IMBAL_F32, 1, shape, imbal_device_cpu());
    for (int64_t i = 0; st == IMBAL_OK && i < c; ++i)
        ((float *)t->host[T_WEIGHTS].data)[i] = (float)w[i];
    t->present[T_WEIGHTS] = (st == IMBAL_OK);
    free(counts);
    free(w);
    return st;
}

static void apply_params(const loss_args *a, imbal_loss_params *p) {
    if (!isnan(a->gamma)) p->gamma = (float)a->gamma;
    if (!isnan(a->alpha)) p->alpha = (float)a->alpha;
    if (!isnan(a->tau)) p->tau = (float)a->tau;
    if (!isnan(a->smoothing)) p->label_smoothing = (float)a->smoothing;
    if (!isnan(a->margin)) p->ldam_max_margin = (float)a->margin;
    if (!isnan(a->scale)) p->ldam_scale = (float)a->scale;
    if (!isnan(a->grad_scale)) p->grad_scale = (float)a->grad_scale;
    if (a->have_ignore) p->ignore_index = a->ignore_index;
    p->check_finite = a->check_finite;
}

/* Allocates the outputs on the host (the device copies are made by place_on_device). */
static imbal_status alloc_outputs(imbal_ctx *ctx, const imbal_loss_params *p, int want_grad,
                                  loss_tensors *t) {
    const imbal_tensor *x = &t->host[T_LOGITS];
    int sigmoid = p->kind == IMBAL_LOSS_SIGMOID_FOCAL || p->kind == IMBAL_LOSS_BCE;
    imbal_status st = IMBAL_OK;
    if (p->reduction != IMBAL_REDUCTION_NONE) {
        st = imbal_tensor_alloc(ctx, &t->host[T_LOSS], IMBAL_F32, 0, NULL, imbal_device_cpu());
        t->present[T_LOSS] = 1;
    }
    if (st == IMBAL_OK) {
        st = imbal_tensor_alloc(ctx, &t->host[T_PER], IMBAL_F32, sigmoid ? 2 : 1, x->shape,
                                imbal_device_cpu());
        t->present[T_PER] = 1;
    }
    if (st == IMBAL_OK && want_grad) {
        st = imbal_tensor_alloc(ctx, &t->host[T_GRAD], x->dtype, 2, x->shape, imbal_device_cpu());
        t->present[T_GRAD] = 1;
    }
    return st;
}

/* Only these kinds take class counts; with --cb-beta the counts made the weights instead. */
static int counts_used(imbal_loss_kind kind) {
    return kind == IMBAL_LOSS_BALANCED_SOFTMAX || kind == IMBAL_LOSS_LDAM;
}

static imbal_status place_on_device(imbal_ctx *ctx, imbal_device dev, loss_tensors *t) {
    for (int i = 0; i < T_COUNT; ++i) {
        if (!t->present[i]) continue;
        if (dev.kind == IMBAL_DEVICE_CPU) {
            t->dev[i] = t->host[i];
            t->dev[i].owns_data = 0;
            continue;
        }
        imbal_tensor *h = &t->host[i];
        imbal_status st = imbal_tensor_alloc(ctx, &t->dev[i], h->dtype, h->ndim, h->shape, dev);
        if (st == IMBAL_OK && i < T_LOSS) st = imbal_tensor_copy(ctx, &t->dev[i], h);
        if (st != IMBAL_OK) return st;
    }
    return IMBAL_OK;
}

static imbal_status fetch_outputs(imbal_ctx *ctx, imbal_device dev, loss_tensors *t) {
    for (int i = T_LOSS; dev.kind != IMBAL_DEVICE_CPU && i < T_COUNT; ++i)
        if (t->present[i]) {
            imbal_status st = imbal_tensor_copy(ctx, &t->host[i], &t->dev[i]);
            if (st != IMBAL_OK) return st;
        }
    return IMBAL_OK;
}

static imbal_status write_outputs(imbal_ctx *ctx, const loss_args *a, loss_tensors *t) {
    imbal_status st = IMBAL_OK;
    if (a->loss_out) st = imbal_npy_write(ctx, a->loss_out, &t->host[T_PER]);
    if (st == IMBAL_OK && a->grad_out) {
        if (t->host[T_GRAD].dtype == IMBAL_BF16)
            st = cast_in_place(ctx, &t->host[T_GRAD], IMBAL_F32);
        if (st == IMBAL_OK) st = imbal_npy_write(ctx, a->grad_out, &t->host[T_GRAD]);
    }
    return st;
}

static void report(const loss_args *a, const imbal_loss_params *p, const char *device_name,
                   const loss_tensors *t) {
    const imbal_tensor *x = &t->host[T_LOGITS];
    double loss = p->reduction == IMBAL_REDUCTION_NONE ? NAN : *(const float *)t->host[T_LOSS].data;
    if (!a->json) {
        if (p->reduction == IMBAL_REDUCTION_NONE)
            printf("%s: per-sample losses computed for %lld rows on %s\n",
                   imbal_loss_kind_name(p->kind), (long long)x->shape[0], device_name);
        else
            printf("%s (%s over [%lld, %lld] %s on %s): %.9g\n", imbal_loss_kind_name(p->kind),
                   imbal_reduction_name(p->reduction), (long long)x->shape[0],
                   (long long)x->shape[1], imbal_dtype_name(x->dtype), device_name, loss);
        return;
    }
    json_writer w;
    json_begin(&w, stdout);
    json_object_begin(&w);
    json_kv_string(&w, "kind", imbal_loss_kind_name(p->kind));
    json_kv_string(&w, "reduction", imbal_reduction_name(p->reduction));
    json_kv_string(&w, "device", device_name);
    json_kv_string(&w, "dtype", imbal_dtype_name(x->dtype));
    json_kv_int(&w, "n", x->shape[0]);
    json_kv_int(&w, "c", x->shape[1]);
    json_key(&w, "loss");
    if (p->reduction == IMBAL_REDUCTION_NONE)
        json_null(&w);
    else
        json_double(&w, loss);
    if (p->reduction == IMBAL_REDUCTION_NONE) {
        const imbal_tensor *per = &t->host[T_PER];
        json_key(&w, "per_sample");
        json_array_begin(&w);
        for (int64_t i = 0; i < imbal_tensor_numel(per); ++i)
            json_double(&w, ((float *)per->data)[i]);
        json_array_end(&w);
    }
    json_object_end(&w);
    json_end(&w);
}

/* Parses the names given on the command line into the params. */
static imbal_status parse_names(imbal_ctx *ctx, const loss_args *a, imbal_loss_params *p) {
    imbal_loss_kind kind;
    imbal_status st = imbal_loss_kind_parse(ctx, a->kind, &kind);
    if (st != IMBAL_OK) return st;
    imbal_loss_params_default(p, kind);
    apply_params(a, p);
    if (a->reduction && (st = imbal_reduction_parse(ctx, a->reduction, &p->reduction)) != IMBAL_OK)
        return st;
    if (a->weight_norm) {
        if (strcmp(a->weight_norm, "pytorch") == 0)
            p->weight_norm = IMBAL_WEIGHT_NORM_PYTORCH;
        else if (strcmp(a->weight_norm, "count") == 0)
            p->weight_norm = IMBAL_WEIGHT_NORM_COUNT;
        else
            return imbal_fail(ctx, IMBAL_ERR_INVALID_ARGUMENT,
                              "--weight-norm expects pytorch or count, got '%s'", a->weight_norm);
    }
    return IMBAL_OK;
}

int cmd_loss(int argc, char **argv) {
    const char *cmd = "loss";
    loss_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail(cmd, NULL);
    imbal_loss_params p;
    imbal_device dev = imbal_device_cpu();
    char device_name[256] = "cpu";
    if (parse_names(ctx, &a, &p) != IMBAL_OK ||
        (a.device && imbal_device_parse(ctx, a.device, &dev) != IMBAL_OK)) {
        rc = cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
        imbal_ctx_destroy(ctx);
        return rc;
    }
    loss_tensors t;
    memset(&t, 0, sizeof t);
    imbal_status st = load_inputs(ctx, &a, p.kind, &t);
    if (st == IMBAL_OK && !isnan(a.cb_beta)) st = cb_weights(ctx, a.cb_beta, &t);
    if (st == IMBAL_OK) st = alloc_outputs(ctx, &p, a.grad_out != NULL, &t);
    if (st == IMBAL_OK) st = imbal_device_name(ctx, dev, device_name, sizeof device_name);
    if (st == IMBAL_OK) st = place_on_device(ctx, dev, &t);
    if (st == IMBAL_OK) {
        imbal_loss_inputs in = {&t.dev[T_LOGITS],
                                &t.dev[T_TARGETS],
                                t.present[T_WEIGHTS] ? &t.dev[T_WEIGHTS] : NULL,
                                t.present[T_SAMPLE] ? &t.dev[T_SAMPLE] : NULL,
                                counts_used(p.kind) && t.present[T_COUNTS] ? &t.dev[T_COUNTS]
                                                                           : NULL,
                                t.present[T_POS] ? &t.dev[T_POS] : NULL};
        imbal_loss_outputs out = {t.present[T_LOSS] ? &t.dev[T_LOSS] : NULL, &t.dev[T_PER],
                                  t.present[T_GRAD] ? &t.dev[T_GRAD] : NULL};
        st = imbal_loss(ctx, dev, &p, &in, &out);
    }
    if (st == IMBAL_OK) st = fetch_outputs(ctx, dev, &t);
    if (st == IMBAL_OK) st = write_outputs(ctx, &a, &t);
    if (st == IMBAL_OK) report(&a, &p, device_name, &t);
    rc = st == IMBAL_OK ? CLI_EXIT_OK : cli_fail(cmd, ctx);
    free_tensors(&t);
    imbal_ctx_destroy(ctx);
    return rc;
}

int cli_parse_only_loss(int argc, char **argv) {
    loss_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    /* The names (kind, reduction, ...) and the device are checked before any file is read. */
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail("loss", NULL);
    imbal_loss_params p;
    imbal_device dev = imbal_device_cpu();
    if (parse_names(ctx, &a, &p) != IMBAL_OK ||
        (a.device && imbal_device_parse(ctx, a.device, &dev) != IMBAL_OK))
        rc = cli_usage_error("loss", "%s", imbal_ctx_error(ctx));
    imbal_ctx_destroy(ctx);
    return rc;
}
