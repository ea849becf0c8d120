/* imbal train: train the backbone on an imbalanced set with any rebalancing strategy
 * (docs/training.md). A thin layer over imbal_train: options in, progress out. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal train --data DIR_OR_MANIFEST --out RUN_DIR [options]\n"
    "\n"
    "Trains a residual CNN and writes RUN_DIR/checkpoint.safetensors, metrics.jsonl (one line per\n"
    "epoch), report.md/report.json and pictures of the validation split.\n"
    "\n"
    "Data and model:\n"
    "  --val DIR|CSV        validation set (same class names); or\n"
    "  --val-split F        hold out a stratified fraction F of --data (default 0: none, or the\n"
    "                       manifest's val rows)\n"
    "  --device D           auto, cpu, cuda or cuda:N (default auto)\n"
    "  --arch NAME          resnet8, resnet20, resnet32, resnet20-s2 (default resnet20)\n"
    "  --width W            first-stage channels (default 16)\n"
    "  --size S             input side in pixels (default 32)\n"
    "  --prior-bias         initialise the output bias to the log class priors\n"
    "  --dtype f32|bf16     backbone compute dtype (default f32; bf16 needs CUDA: bf16\n"
    "                       activations and conv weight copies, f32 master weights and head)\n"
    "  --conv-search        CUDA: time several cuDNN engines per convolution on the first\n"
    "                       batch and keep the fastest (like PyTorch's cudnn.benchmark; the\n"
    "                       engine, and so the last bits, may then differ between runs)\n"
    "  --tf32               CUDA, f32: allow TF32 tensor-core convolutions (PyTorch's default;\n"
    "                       about 3 significant digits inside each product)\n"
    "Optimisation:\n"
    "  --epochs E --batch B --lr LR      (defaults 30, 128, 0.1)\n"
    "  --optim sgd|adamw  --momentum M  --nesterov  --weight-decay WD\n"
    "  --schedule constant|step|cosine   (default cosine; step drops x0.1 at 80%% and 90%%)\n"
    "  --warmup-epochs K    linear warm-up\n"
    "Rebalancing (they compose):\n"
    "  --sampler NAME       shuffle, class-balanced, sqrt, class-power (--q), oversample,\n"
    "                       undersample, rotating-undersample, balanced-batch (default shuffle)\n"
    "  --q Q                class-power exponent\n"
    "  --weights SCHEME     class weights in the loss: none, inverse, balanced, ins, isns, ens\n"
    "  --beta B             ens beta (default 0.999)\n"
    "  --loss KIND          ce, focal, balanced-softmax, ldam (default ce)\n"
    "  --gamma G  --tau T  --ldam-margin M  --label-smoothing E\n"
    "  --drw-epoch E        deferred re-weighting: class weights only from epoch E\n"
    "  --drs-epoch E        deferred re-sampling: shuffle before epoch E, --sampler from it\n"
    "  --crt-epochs K       then re-train the classifier K epochs, class-balanced, frozen "
    "backbone\n"
    "  --tau-norm T         tau-normalise the classifier at the end\n"
    "  --logit-adjust T     post-hoc logit adjustment at evaluation (logits - T log prior)\n"
    "  --threshold METRIC   two classes: choose the decision threshold on the validation\n"
    "                       split for balanced-accuracy or f1 / fBETA (e.g. f2)\n"
    "  --augment SPEC       training augmentation (default crop=S:pad=4:mode=reflect,flip,\n"
    "                       normalize=cifar10)\n"
    "  --aug-tail-power P   per-class augmentation strength (n_max/n_c)^P, capped at 4\n"
    "Other:\n"
    "  --seed S  --resume  --stop-after E  --threads T  --quiet  --json\n";

enum {
    OPT_DATA = 300,
    OPT_OUT,
    OPT_VAL,
    OPT_VAL_SPLIT,
    OPT_DEVICE,
    OPT_ARCH,
    OPT_WIDTH,
    OPT_SIZE,
    OPT_PRIOR,
    OPT_DTYPE,
    OPT_CONV_SEARCH,
    OPT_TF32,
    OPT_EPOCHS,
    OPT_BATCH,
    OPT_LR,
    OPT_OPTIM,
    OPT_MOMENTUM,
    OPT_NESTEROV,
    OPT_WD,
    OPT_SCHEDULE,
    OPT_WARMUP,
    OPT_SAMPLER,
    OPT_Q,
    OPT_WEIGHTS,
    OPT_BETA,
    OPT_LOSS,
    OPT_GAMMA,
    OPT_TAU,
    OPT_MARGIN,
    OPT_SMOOTH,
    OPT_DRW,
    OPT_DRS,
    OPT_CRT,
    OPT_TAU_NORM,
    OPT_LOGIT_ADJ,
    OPT_AUGMENT,
    OPT_AUG_POWER,
    OPT_SEED,
    OPT_RESUME,
    OPT_THREADS,
    OPT_QUIET,
    OPT_STOP,
    OPT_THRESHOLD
};

typedef struct train_cli {
    imbal_train_config cfg;
    const char *device, *optim, *loss;
    int json, quiet, have_wd, have_momentum;
    double momentum, wd, gamma, tau, margin, smooth;
    int have_gamma, have_tau, have_margin, have_smooth;
    imbal_ctx *ctx;
} train_cli;

static int parse_num(const char *cmd, const char *opt, double lo, double hi, double *out) {
    return cli_parse_double(cmd, opt, optarg, lo, hi, out);
}

static int parse_int(const char *cmd, const char *opt, int64_t lo, int64_t hi, int *out) {
    int64_t v = 0;
    int bad = cli_parse_i64(cmd, opt, optarg, lo, hi, &v);
    *out = (int)v;
    return bad;
}

/* balanced-accuracy, f1, or f<beta> such as f2 or f0.5. */
static int parse_threshold(const char *cmd, const char *v, imbal_train_config *cfg) {
    if (strcmp(v, "balanced-accuracy") == 0) {
        cfg->threshold = IMBAL_THRESHOLD_BALANCED_ACCURACY;
        return 0;
    }
    char *end = NULL;
    double beta = v[0] == 'f' ? strtod(v + 1, &end) : 0;
    if (v[0] != 'f' || end == v + 1 || *end || !(beta > 0 && beta <= 100))
        return cli_usage_error(cmd,
                               "--threshold '%s': use balanced-accuracy, f1 or fBETA (e.g. f2)", v);
    cfg->threshold = IMBAL_THRESHOLD_F_BETA;
    cfg->threshold_beta = beta;
    return 0;
}

static int parse_named(const char *cmd, train_cli *a, int c) {
    imbal_train_config *cfg = &a->cfg;
    imbal_ctx *ctx = a->ctx;
    imbal_status st = IMBAL_OK;
    if (c == OPT_SCHEDULE)
        st = imbal_lr_kind_parse(ctx, optarg, &cfg->lr_schedule);
    else if (c == OPT_WEIGHTS)
        st = imbal_weight_scheme_parse(ctx, optarg, &cfg->weights.scheme);
    else if (c == OPT_SAMPLER) {
        imbal_sampler_config sc;
        imbal_sampler_config_default(&sc, IMBAL_SAMPLER_SHUFFLE);
        st = imbal_sampler_config_parse_kind(ctx, optarg, &sc);
        if (st == IMBAL_OK) {
            cfg->sampler = sc.kind;
            if (sc.kind == IMBAL_SAMPLER_CLASS_POWER && strcmp(optarg, "class-power") != 0)
                cfg->sampler_q = sc.q;
        }
    } else if (c == OPT_THRESHOLD)
        return parse_threshold(cmd, optarg, cfg);
    if (st != IMBAL_OK) return cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
    return 0;
}

static int parse_one(const char *cmd, train_cli *a, int c) {
    imbal_train_config *cfg = &a->cfg;
    double d = 0;
    int bad = 0;
    switch (c) {
    case OPT_DATA:
        cfg->data = optarg;
        break;
    case OPT_OUT:
        cfg->out_dir = optarg;
        break;
    case OPT_VAL:
        cfg->val = optarg;
        break;
    case OPT_VAL_SPLIT:
        bad = parse_num(cmd, "--val-split", 0, 0.99, &cfg->val_split);
        break;
    case OPT_DEVICE:
        a->device = optarg;
        break;
    case OPT_ARCH:
        cfg->arch = optarg;
        break;
    case OPT_WIDTH:
        bad = parse_int(cmd, "--width", 1, 1024, &cfg->width);
        break;
    case OPT_SIZE:
        bad = parse_int(cmd, "--size", 8, 1024, &cfg->image_size);
        break;
    case OPT_PRIOR:
        cfg->prior_bias = 1;
        break;
    case OPT_DTYPE:
        if (strcmp(optarg, "f32") == 0)
            cfg->dtype = IMBAL_F32;
        else if (strcmp(optarg, "bf16") == 0)
            cfg->dtype = IMBAL_BF16;
        else
            bad = cli_usage_error(cmd, "--dtype: '%s' is not f32 or bf16", optarg);
        break;
    case OPT_CONV_SEARCH:
        cfg->conv_search = 1;
        break;
    case OPT_TF32:
        cfg->conv_tf32 = 1;
        break;
    case OPT_EPOCHS:
        bad = parse_int(cmd, "--epochs", 1, 100000, &cfg->epochs);
        break;
    case OPT_BATCH:
        bad = parse_int(cmd, "--batch", 2, 65536, &cfg->batch);
        break;
    case OPT_LR:
        bad = parse_num(cmd, "--lr", 1e-9, 100, &cfg->lr);
        break;
    case OPT_OPTIM:
        a->optim = optarg;
        break;
    case OPT_MOMENTUM:
        bad = parse_num(cmd, "--momentum", 0, 0.999999, &a->momentum);
        a->have_momentum = 1;
        break;
    case OPT_NESTEROV:
        cfg->optim.nesterov = 1;
        break;
    case OPT_WD:
        bad = parse_num(cmd, "--weight-decay", 0, 1, &a->wd);
        a->have_wd = 1;
        break;
    case OPT_WARMUP:
        bad = parse_int(cmd, "--warmup-epochs", 0, 100000, &cfg->warmup_epochs);
        break;
    case OPT_Q:
        bad = parse_num(cmd, "--q", -10, 10, &cfg->sampler_q);
        break;
    case OPT_BETA:
        bad = parse_num(cmd, "--beta", 0, 0.999999999, &cfg->weights.beta);
        break;
    case OPT_LOSS:
        a->loss = optarg;
        break;
    case OPT_GAMMA:
        bad = parse_num(cmd, "--gamma", 0, 100, &a->gamma);
        a->have_gamma = 1;
        break;
    case OPT_TAU:
        bad = parse_num(cmd, "--tau", 0, 100, &a->tau);
        a->have_tau = 1;
        break;
    case OPT_MARGIN:
        bad = parse_num(cmd, "--ldam-margin", 1e-6, 100, &a->margin);
        a->have_margin = 1;
        break;
    case OPT_SMOOTH:
        bad = parse_num(cmd, "--label-smoothing", 0, 1, &a->smooth);
        a->have_smooth = 1;
        break;
    case OPT_DRW:
        bad = parse_int(cmd, "--drw-epoch", 0, 100000, &cfg->drw_epoch);
        break;
    case OPT_DRS:
        bad = parse_int(cmd, "--drs-epoch", 0, 100000, &cfg->drs_epoch);
        break;
    case OPT_CRT:
        bad = parse_int(cmd, "--crt-epochs", 0, 100000, &cfg->crt_epochs);
        break;
    case OPT_TAU_NORM:
        bad = parse_num(cmd, "--tau-norm", 0, 10, &d);
        cfg->tau_norm = (float)d;
        break;
    case OPT_LOGIT_ADJ:
        bad = parse_num(cmd, "--logit-adjust", 0, 10, &d);
        cfg->logit_adjust = (float)d;
        break;
    case OPT_AUGMENT:
        cfg->augment = optarg;
        break;
    case OPT_AUG_POWER:
        bad = parse_num(cmd, "--aug-tail-power", 0, 4, &cfg->aug_tail_power);
        break;
    case OPT_SEED:
        bad = cli_parse_u64(cmd, "--seed", optarg, &cfg->seed);
        break;
    case OPT_RESUME:
        cfg->resume = 1;
        break;
    case OPT_THREADS:
        bad = parse_int(cmd, "--threads", 1, 1024, &cfg->threads);
        break;
    case OPT_STOP:
        bad = parse_int(cmd, "--stop-after", 0, 100000, &cfg->stop_after);
        break;
    case OPT_QUIET:
        a->quiet = 1;
        break;
    default:
        bad = parse_named(cmd, a, c);
        break;
    }
    return bad;
}

static int parse_args(const char *cmd, int argc, char **argv, train_cli *a) {
    static const struct option longopts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"out", required_argument, 0, OPT_OUT},
        {"val", required_argument, 0, OPT_VAL},
        {"val-split", required_argument, 0, OPT_VAL_SPLIT},
        {"device", required_argument, 0, OPT_DEVICE},
        {"arch", required_argument, 0, OPT_ARCH},
        {"width", required_argument, 0, OPT_WIDTH},
        {"size", required_argument, 0, OPT_SIZE},
        {"prior-bias", no_argument, 0, OPT_PRIOR},
        {"dtype", required_argument, 0, OPT_DTYPE},
        {"conv-search", no_argument, 0, OPT_CONV_SEARCH},
        {"tf32", no_argument, 0, OPT_TF32},
        {"epochs", required_argument, 0, OPT_EPOCHS},
        {"batch", required_argument, 0, OPT_BATCH},
        {"lr", required_argument, 0, OPT_LR},
        {"optim", required_argument, 0, OPT_OPTIM},
        {"momentum", required_argument, 0, OPT_MOMENTUM},
        {"nesterov", no_argument, 0, OPT_NESTEROV},
        {"weight-decay", required_argument, 0, OPT_WD},
        {"schedule", required_argument, 0, OPT_SCHEDULE},
        {"warmup-epochs", required_argument, 0, OPT_WARMUP},
        {"sampler", required_argument, 0, OPT_SAMPLER},
        {"q", required_argument, 0, OPT_Q},
        {"weights", required_argument, 0, OPT_WEIGHTS},
        {"beta", required_argument, 0, OPT_BETA},
        {"loss", required_argument, 0, OPT_LOSS},
        {"gamma", required_argument, 0, OPT_GAMMA},
        {"tau", required_argument, 0, OPT_TAU},
        {"ldam-margin", required_argument, 0, OPT_MARGIN},
        {"label-smoothing", required_argument, 0, OPT_SMOOTH},
        {"drw-epoch", required_argument, 0, OPT_DRW},
        {"drs-epoch", required_argument, 0, OPT_DRS},
        {"crt-epochs", required_argument, 0, OPT_CRT},
        {"tau-norm", required_argument, 0, OPT_TAU_NORM},
        {"logit-adjust", required_argument, 0, OPT_LOGIT_ADJ},
        {"augment", required_argument, 0, OPT_AUGMENT},
        {"aug-tail-power", required_argument, 0, OPT_AUG_POWER},
        {"seed", required_argument, 0, OPT_SEED},
        {"resume", no_argument, 0, OPT_RESUME},
        {"threads", required_argument, 0, OPT_THREADS},
        {"quiet", no_argument, 0, OPT_QUIET},
        {"stop-after", required_argument, 0, OPT_STOP},
        {"threshold", required_argument, 0, OPT_THRESHOLD},
        CLI_COMMON_OPTIONS,
        {0, 0, 0, 0}};
    int c, bad = 0;
    while (!bad && (c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        if (c == CLI_OPT_HELP) {
            fputs(usage, stdout);
            return -1;
        } else if (c == CLI_OPT_JSON) {
            a->json = 1;
        } else if (c == '?') {
            return CLI_EXIT_USAGE;
        } else {
            bad = parse_one(cmd, a, c);
        }
    }
    if (bad) return CLI_EXIT_USAGE;
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->cfg.data || !a->cfg.out_dir)
        return cli_usage_error(cmd, "--data and --out are required");
    return 0;
}

/* Applies the options that need the parsed kinds (optimizer and loss defaults first). */
static int finish_config(const char *cmd, train_cli *a) {
    imbal_train_config *cfg = &a->cfg;
    imbal_ctx *ctx = a->ctx;
    int nesterov = cfg->optim.nesterov;
    if (a->optim) {
        imbal_optim_kind k;
        if (imbal_optim_kind_parse(ctx, a->optim, &k) != IMBAL_OK)
            return cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
        imbal_optim_config_default(&cfg->optim, k);
        cfg->optim.nesterov = nesterov;
    }
    if (a->have_momentum) cfg->optim.momentum = (float)a->momentum;
    if (a->have_wd) cfg->optim.weight_decay = (float)a->wd;
    if (a->loss) {
        imbal_loss_kind k;
        if (imbal_loss_kind_parse(ctx, a->loss, &k) != IMBAL_OK)
            return cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
        if (k == IMBAL_LOSS_BCE || k == IMBAL_LOSS_SIGMOID_FOCAL)
            return cli_usage_error(cmd,
                                   "--loss %s needs multi-label targets; use ce, focal, "
                                   "balanced-softmax or ldam",
                                   a->loss);
        imbal_loss_params_default(&cfg->loss, k);
    }
    if (a->have_gamma) cfg->loss.gamma = (float)a->gamma;
    if (a->have_tau) cfg->loss.tau = (float)a->tau;
    if (a->have_margin) cfg->loss.ldam_max_margin = (float)a->margin;
    if (a->have_smooth) cfg->loss.label_smoothing = (float)a->smooth;
    if (imbal_device_parse(ctx, a->device ? a->device : "auto", &cfg->device) != IMBAL_OK)
        return cli_usage_error(cmd, "--device: %s", imbal_ctx_error(ctx));
    return 0;
}

typedef struct progress_state {
    int tty, quiet;
} progress_state;

static void on_progress(void *user, const imbal_train_progress *p) {
    progress_state *ps = user;
    if (ps->quiet) return;
    const char *stage = p->stage ? "cRT " : "";
    if (!p->epoch_done) {
        if (!ps->tty) return;
        int width = 24, filled = (int)(width * p->step / (p->steps ? p->steps : 1));
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r%sepoch %d/%d [%s] %lld/%lld loss %.4f %.0f img/s ETA %.0f s", stage,
                p->epoch + 1, p->epochs, bar, (long long)p->step, (long long)p->steps, p->loss,
                p->images_per_s, p->eta_seconds);
        fflush(stderr);
        return;
    }
    if (ps->tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "%sepoch %d/%d: loss %.4f", stage, p->epoch + 1, p->epochs, p->loss);
    if (!isnan(p->val_accuracy))
        fprintf(stderr, ", val loss %.4f acc %.4f bal-acc %.4f macro-F1 %.4f", p->val_loss,
                p->val_accuracy, p->val_balanced_accuracy, p->val_macro_f1);
    fprintf(stderr, ", %.0f img/s, %.1f s (lr %.4g)\n", p->images_per_s, p->seconds, p->lr);
}

static void print_result(const train_cli *a, const imbal_train_result *r) {
    const imbal_train_config *c = &a->cfg;
    if (a->json) {
        json_writer w;
        json_begin(&w, stdout);
        json_object_begin(&w);
        json_kv_string(&w, "run", c->out_dir);
        json_kv_string(&w, "device", r->device_name);
        json_kv_int(&w, "epochs_run", r->epochs_run);
        json_kv_double(&w, "final_train_loss", r->final_train_loss);
        json_kv_double(&w, "val_accuracy", r->val_accuracy);
        json_kv_double(&w, "val_balanced_accuracy", r->val_balanced_accuracy);
        json_kv_double(&w, "val_macro_f1", r->val_macro_f1);
        json_kv_double(&w, "images_per_s", r->images_per_s);
        if (r->positive_class >= 0) {
            json_kv_int(&w, "positive_class", r->positive_class);
            json_kv_double(&w, "decision_threshold", r->decision_threshold);
        }
        json_object_end(&w);
        json_end(&w);
        return;
    }
    printf("run: %s (device %s, %d epochs run, %.0f img/s)\n", c->out_dir, r->device_name,
           r->epochs_run, r->images_per_s);
    if (!isnan(r->val_accuracy))
        printf("validation: accuracy %.4f, balanced accuracy %.4f, macro-F1 %.4f\n",
               r->val_accuracy, r->val_balanced_accuracy, r->val_macro_f1);
    if (r->positive_class >= 0)
        printf("decision threshold: class %d when its probability >= %.4f (chosen on the "
               "validation split, which is therefore optimistic)\n",
               r->positive_class, r->decision_threshold);
    printf("report: %s/report.md\n", c->out_dir);
}

int cmd_train(int argc, char **argv) {
    const char *cmd = "train";
    train_cli a;
    memset(&a, 0, sizeof a);
    imbal_train_config_default(&a.cfg);
    if (imbal_ctx_create(&a.ctx) != IMBAL_OK) {
        fprintf(stderr, "imbal train: %s\n", imbal_ctx_error(NULL));
        return CLI_EXIT_FAIL;
    }
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc == 0) rc = finish_config(cmd, &a);
    if (rc != 0) {
        imbal_ctx_destroy(a.ctx);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    progress_state ps = {isatty(STDERR_FILENO), a.quiet};
    imbal_train_result res;
    if (imbal_train(a.ctx, &a.cfg, on_progress, &ps, &res) != IMBAL_OK) {
        rc = cli_fail(cmd, a.ctx);
    } else {
        print_result(&a, &res);
        rc = CLI_EXIT_OK;
    }
    imbal_ctx_destroy(a.ctx);
    return rc;
}

int cli_parse_only_train(int argc, char **argv) {
    train_cli a;
    memset(&a, 0, sizeof a);
    imbal_train_config_default(&a.cfg);
    if (imbal_ctx_create(&a.ctx) != IMBAL_OK) return CLI_EXIT_FAIL;
    int rc = parse_args("train", argc, argv, &a);
    if (rc == 0) rc = finish_config("train", &a);
    imbal_ctx_destroy(a.ctx);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
