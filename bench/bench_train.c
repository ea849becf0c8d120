/* Benchmark: training images per second of the ResNet presets (He et al. 2016, CIFAR variant) on
 * 32 x 32 images through the public model / loss / optimizer API, the step of src/train.c:
 * forward (train mode), fused softmax cross-entropy (mean) with dlogits, backward, SGD with
 * momentum 0.9 (weight decay 5e-4 on conv and linear weights, lr 0.1).
 *
 *   bench_train [--device auto|cpu|cuda] [--arch resnet20] [--batch 256] [--steps N]
 *               [--warmup W] [--threads T] [--dtype f32|bf16|all] [--classes K]
 *               [--conv-search 0|1|all] [--pipeline DIR] [--aug SPEC] [--json]
 *
 * --device auto (the default) is cuda:0 where a device answers, else the CPU. Data: one batch of
 * standard-normal images and uniform labels (Philox, fixed seed) in the device's memory, reused
 * every step, so nothing but the network is timed. Timing: the device is synchronised before and
 * after the N timed steps (after W warm-up steps; defaults 50 / 5 on CUDA, 5 / 1 on the CPU), and
 * the host never waits inside the loop (the loss stays on the device; it is checked finite once,
 * at the end). One JSON line per configuration:
 *   {"bench": "train", "impl": "imbal", "device", "device_name", "arch", "params", "batch",
 *    "dtype", "threads", "steps", "warmup", "seconds", "ms_per_step", "images_per_s"}
 * --conv-search: rows with the cuDNN engine search off (0: the heuristics' first engine, the
 * default of imbal train) and on (1: imbal_model_config.conv_search, what `imbal train
 * --conv-search` does; torch_train.py sets cudnn.benchmark, its equivalent); "all" (the default)
 * gives both on CUDA; the CPU ignores it. Each row says "conv_search". --tf32 likewise for the
 * f32 rows: 1 allows TF32 tensor-core convolutions (imbal_model_config.conv_tf32, `imbal train
 * --tf32`), which PyTorch's f32 convolutions use by default (torch.backends.cudnn.allow_tf32).
 * The bf16 row trains a bf16 backbone (imbal_model_config.dtype: bf16 activations and conv
 * weight copies, f32 master weights and head; the batch stays f32 and the model rounds it). On the
 * CPU, which takes f32 only, it is {"..., "dtype": "bf16", "skipped": "bf16 needs CUDA ..."}.
 *
 * --pipeline DIR (an ImageFolder, e.g. `imbal synth --out D` then D/train) adds two rows with a
 * "pipeline" field: "loader+augment" (decode threads + the augmentation SPEC, default
 * crop=32:pad=4,flip,normalize=cifar10, on the device, no model: how fast the input side can go)
 * and "loader+augment+train" (the same batches trained on). The loader's cache is off, so every
 * image is decoded every time (the worst case: imbal train caches small sets after epoch 1).
 * --threads is both the OpenMP and the decode-thread count. Training keeps up when the first row's
 * images_per_s is well above the in-memory training row's. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_setup.h"
#include "bench_timing.h"
#include "imbal/imbal.h"
#include "imbal/loader.h"
#include "imbal/loss.h"
#include "imbal/model.h"
#include "imbal/optim.h"
#include "imbal/philox.h"
#include "imbal/pipeline.h"
#include "imbal/random_fill.h"

#define SEED 20240601u
#define LR   0.1f

typedef struct options {
    const char *device, *arch, *dtype, *pipeline, *aug;
    int batch, steps, warmup, threads, classes;
    int search; /* --conv-search: 0, 1, or -1 (all: both on CUDA, 0 on the CPU) */
    int tf32;   /* --tf32: likewise, for the f32 rows */
} options;

/* What every row shares. */
typedef struct row_info {
    const options *o;
    const char *dev_kind;
    char dev_name[128];
    int threads;
    long long params;
    int search; /* this row's imbal_model_config.conv_search */
    int tf32;   /* and conv_tf32 */
} row_info;

static void print_head(const row_info *ri, const char *dtype) {
    printf(
        "{\"bench\": \"train\", \"impl\": \"imbal\", \"device\": \"%s\", \"device_name\": \"%s\", "
        "\"arch\": \"%s\", \"params\": %lld, \"batch\": %d, \"dtype\": \"%s\", \"threads\": %d, "
        "\"conv_search\": %d, \"tf32\": %d",
        ri->dev_kind, ri->dev_name, ri->o->arch, ri->params, ri->o->batch, dtype, ri->threads,
        ri->search, ri->tf32);
}

static void print_timing(const row_info *ri, int steps, double s) {
    printf(", \"steps\": %d, \"warmup\": %d, \"seconds\": %.4f, \"ms_per_step\": %.3f, "
           "\"images_per_s\": %.1f}\n",
           steps, ri->o->warmup, s, 1e3 * s / steps, (double)steps * ri->o->batch / s);
    fflush(stdout);
}

/* ---- the training step ------------------------------------------------------------------- */

typedef struct trainer {
    imbal_model *model;
    imbal_tensor **buf; /* momentum buffer per parameter (NULL for BN running statistics) */
    imbal_tensor dlogits, loss;
    imbal_optim_config oc;
    imbal_loss_params lp;
    int num_params;
} trainer;

static void trainer_free(trainer *t) {
    for (int i = 0; t->buf && i < t->num_params; i++) {
        if (!t->buf[i]) continue;
        imbal_tensor_free(t->buf[i]);
        free(t->buf[i]);
    }
    free(t->buf);
    imbal_tensor_free(&t->dlogits);
    imbal_tensor_free(&t->loss);
    imbal_model_destroy(t->model);
    memset(t, 0, sizeof *t);
}

/* A zero f32 tensor shaped like `like` on its device. */
static imbal_status zeros_like(imbal_ctx *ctx, imbal_tensor *t, const imbal_tensor *like) {
    imbal_status st = imbal_tensor_alloc(ctx, t, IMBAL_F32, like->ndim, like->shape, like->device);
    if (st != IMBAL_OK) return st;
    float *z = calloc((size_t)imbal_tensor_numel(t) + 1, sizeof *z);
    if (!z) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_tensor h = imbal_tensor_wrap(z, IMBAL_F32, t->ndim, t->shape, imbal_device_cpu());
    st = imbal_tensor_copy(ctx, t, &h);
    free(z);
    return st;
}

static imbal_status trainer_create(imbal_ctx *ctx, imbal_device dev, const options *o, int classes,
                                   int hw, imbal_dtype dtype, const row_info *ri, trainer *t) {
    memset(t, 0, sizeof *t);
    imbal_model_config mc;
    imbal_model_config_default(&mc, classes);
    mc.height = mc.width_px = hw;
    mc.dtype = dtype;
    mc.conv_search = ri->search;
    mc.conv_tf32 = ri->tf32;
    imbal_status st = imbal_model_config_preset(ctx, o->arch, &mc);
    if (st == IMBAL_OK) st = imbal_model_create(ctx, dev, &mc, o->batch, SEED, &t->model);
    if (st != IMBAL_OK) return st;
    imbal_optim_config_default(&t->oc, IMBAL_OPTIM_SGD); /* momentum 0.9, weight decay 5e-4 */
    imbal_loss_params_default(&t->lp, IMBAL_LOSS_CE);
    t->num_params = imbal_model_num_params(t->model);
    t->buf = calloc((size_t)t->num_params, sizeof *t->buf);
    if (!t->buf) return IMBAL_ERR_OUT_OF_MEMORY;
    for (int i = 0; st == IMBAL_OK && i < t->num_params; i++) {
        const imbal_param *p = imbal_model_param(t->model, i);
        if (p->role == IMBAL_PARAM_BUFFER) continue;
        t->buf[i] = calloc(1, sizeof *t->buf[i]);
        st = t->buf[i] ? zeros_like(ctx, t->buf[i], p->value) : IMBAL_ERR_OUT_OF_MEMORY;
    }
    int64_t ds[2] = {o->batch, classes};
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &t->dlogits, IMBAL_F32, 2, ds, dev);
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &t->loss, IMBAL_F32, 0, NULL, dev);
    return st;
}

/* x [n, 3, H, W] f32 and labels [n] i32 on the model's device. No host synchronisation. */
static imbal_status train_step(imbal_ctx *ctx, trainer *t, const imbal_tensor *x,
                               const imbal_tensor *labels) {
    imbal_device dev = imbal_model_device(t->model);
    int n = (int)x->shape[0];
    imbal_tensor logits;
    imbal_status st = imbal_model_forward(ctx, t->model, x, IMBAL_MODEL_TRAIN, &logits);
    if (st != IMBAL_OK) return st;
    imbal_tensor dl = t->dlogits;
    dl.shape[0] = n;
    dl.owns_data = 0;
    imbal_loss_inputs in = {0};
    in.logits = &logits;
    in.targets = labels;
    imbal_loss_outputs out = {&t->loss, NULL, &dl};
    st = imbal_loss(ctx, dev, &t->lp, &in, &out);
    if (st == IMBAL_OK) st = imbal_model_backward(ctx, t->model, &dl, 0);
    for (int i = 0; st == IMBAL_OK && i < t->num_params; i++) {
        const imbal_param *p = imbal_model_param(t->model, i);
        if (p->role == IMBAL_PARAM_BUFFER) continue;
        float wd = p->role == IMBAL_PARAM_WEIGHT ? t->oc.weight_decay : 0.0f;
        st = imbal_sgd_step(ctx, dev, &t->oc, LR, wd, p->value, p->grad, t->buf[i]);
    }
    return st;
}

static imbal_status check_loss(imbal_ctx *ctx, trainer *t) {
    float lv = 0;
    imbal_tensor h = imbal_tensor_wrap(&lv, IMBAL_F32, 0, NULL, imbal_device_cpu());
    imbal_status st = imbal_tensor_copy(ctx, &h, &t->loss);
    if (st == IMBAL_OK && !isfinite(lv)) {
        fprintf(stderr, "bench_train: the loss became %g\n", (double)lv);
        return IMBAL_ERR_DATA;
    }
    return st;
}

/* ---- in-memory data ------------------------------------------------------------------------ */

static imbal_status make_data(imbal_ctx *ctx, imbal_device dev, int batch, int classes, int hw,
                              imbal_tensor *x, imbal_tensor *labels) {
    int64_t xs[4] = {batch, 3, hw, hw}, ls[1] = {batch};
    imbal_status st = imbal_tensor_alloc(ctx, x, IMBAL_F32, 4, xs, dev);
    if (st == IMBAL_OK)
        st = imbal_random_normal_fill(ctx, dev, SEED, 0, IMBAL_OP_SYNTH, 0, imbal_tensor_numel(x),
                                      x->data);
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, labels, IMBAL_I32, 1, ls, dev);
    if (st != IMBAL_OK) return st;
    int32_t *h = malloc((size_t)batch * sizeof *h);
    if (!h) return IMBAL_ERR_OUT_OF_MEMORY;
    imbal_rng r;
    imbal_rng_init(&r, SEED, 1, 0, IMBAL_OP_SYNTH);
    for (int i = 0; i < batch; i++)
        h[i] = (int32_t)imbal_rng_below(&r, (uint32_t)classes);
    imbal_tensor hl = imbal_tensor_wrap(h, IMBAL_I32, 1, ls, imbal_device_cpu());
    st = imbal_tensor_copy(ctx, labels, &hl);
    free(h);
    return st;
}

static int bench_memory(imbal_ctx *ctx, imbal_device dev, imbal_dtype dtype, row_info *ri) {
    const options *o = ri->o;
    trainer t;
    imbal_tensor x = {0}, labels = {0};
    imbal_status st = trainer_create(ctx, dev, o, o->classes, 32, dtype, ri, &t);
    if (st == IMBAL_OK) {
        ri->params = (long long)imbal_model_num_scalars(t.model);
        st = make_data(ctx, dev, o->batch, o->classes, 32, &x, &labels);
    }
    for (int i = 0; st == IMBAL_OK && i < o->warmup; i++)
        st = train_step(ctx, &t, &x, &labels);
    bench_sync_device(dev);
    double t0 = bench_now();
    for (int i = 0; st == IMBAL_OK && i < o->steps; i++)
        st = train_step(ctx, &t, &x, &labels);
    bench_sync_device(dev);
    double s = bench_now() - t0;
    if (st == IMBAL_OK) st = check_loss(ctx, &t);
    if (st == IMBAL_OK) {
        print_head(ri, imbal_dtype_name(dtype));
        print_timing(ri, o->steps, s);
    } else {
        fprintf(stderr, "bench_train: %s\n", imbal_ctx_error(ctx));
    }
    imbal_tensor_free(&x);
    imbal_tensor_free(&labels);
    trainer_free(&t);
    return st == IMBAL_OK ? 0 : 1;
}

/* ---- the full input pipeline --------------------------------------------------------------- */

typedef struct feed {
    imbal_loader *loader;
    imbal_aug_pipeline aug;
    imbal_tensor x, labels, dev_u8, dev_keys; /* the last two on CUDA only */
    int64_t *order;
    int64_t count;
    uint32_t epoch;
    int S;
} feed;

static void feed_free(feed *f) {
    imbal_loader_destroy(f->loader);
    imbal_tensor *ts[] = {&f->x, &f->labels, &f->dev_u8, &f->dev_keys};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        imbal_tensor_free(ts[i]);
    free(f->order);
}

/* A Fisher-Yates permutation of [0, n) for the epoch (Philox, IMBAL_OP_SHUFFLE). */
static void shuffle(int64_t *order, int64_t n, uint32_t epoch) {
    imbal_rng r;
    imbal_rng_init(&r, SEED, epoch, 0, IMBAL_OP_SHUFFLE);
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)imbal_rng_below64(&r, (uint64_t)i + 1);
        int64_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
}

static imbal_status feed_create(imbal_ctx *ctx, imbal_device dev, const options *o,
                                const imbal_dataset *ds, int threads, feed *f) {
    memset(f, 0, sizeof *f);
    imbal_status st = imbal_aug_pipeline_parse(ctx, o->aug, &f->aug);
    if (st != IMBAL_OK) return st;
    if (f->aug.output != IMBAL_AUG_OUT_F32_NCHW || f->aug.out_height != f->aug.out_width) {
        fprintf(stderr, "bench_train: --aug '%s' must end in a square f32 normalize step\n",
                o->aug);
        return IMBAL_ERR_INVALID_ARGUMENT;
    }
    f->S = f->aug.out_height;
    st = imbal_aug_pipeline_check(ctx, &f->aug, f->S, f->S);
    if (st != IMBAL_OK) return st;
    imbal_loader_config lc;
    imbal_loader_config_default(&lc);
    lc.height = lc.width = f->S;
    lc.batch_size = o->batch;
    lc.drop_last = 1;
    lc.threads = threads;
    lc.cache = 0;
    lc.seed = SEED;
    f->count = imbal_dataset_size(ds);
    if (f->count < o->batch) {
        fprintf(stderr, "bench_train: --pipeline set has %lld images, fewer than a batch of %d\n",
                (long long)f->count, o->batch);
        return IMBAL_ERR_INVALID_ARGUMENT;
    }
    f->order = malloc((size_t)f->count * sizeof *f->order);
    if (!f->order) return IMBAL_ERR_OUT_OF_MEMORY;
    st = imbal_loader_create(ctx, ds, &lc, &f->loader);
    int64_t xs[4] = {o->batch, 3, f->S, f->S}, ls[1] = {o->batch};
    int64_t us[1] = {(int64_t)o->batch * f->S * f->S * 3};
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &f->x, IMBAL_F32, 4, xs, dev);
    if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &f->labels, IMBAL_I32, 1, ls, dev);
    if (st == IMBAL_OK && dev.kind == IMBAL_DEVICE_CUDA) {
        st = imbal_tensor_alloc(ctx, &f->dev_u8, IMBAL_U8, 1, us, dev);
        if (st == IMBAL_OK) st = imbal_tensor_alloc(ctx, &f->dev_keys, IMBAL_I64, 1, ls, dev);
    }
    if (st == IMBAL_OK) {
        shuffle(f->order, f->count, 0);
        st = imbal_loader_start_epoch(ctx, f->loader, f->order, f->count, 0);
    }
    return st;
}

/* The next full batch, augmented into f->x / f->labels on dev (a new epoch when one ends). */
static imbal_status feed_next(imbal_ctx *ctx, imbal_device dev, feed *f) {
    imbal_batch b;
    imbal_status st = imbal_loader_next(ctx, f->loader, &b);
    if (st == IMBAL_OK && b.n == 0) {
        f->epoch++;
        shuffle(f->order, f->count, f->epoch);
        st = imbal_loader_start_epoch(ctx, f->loader, f->order, f->count, f->epoch);
        if (st == IMBAL_OK) st = imbal_loader_next(ctx, f->loader, &b);
    }
    if (st != IMBAL_OK) return st;
    int n = b.n, S = f->S;
    int64_t ns[1] = {n}, us[1] = {(int64_t)n * S * S * 3};
    imbal_tensor hl = imbal_tensor_wrap((void *)b.labels, IMBAL_I32, 1, ns, imbal_device_cpu());
    st = imbal_tensor_copy(ctx, &f->labels, &hl);
    if (st == IMBAL_OK && dev.kind == IMBAL_DEVICE_CPU) {
        st = imbal_augment_batch(ctx, dev, &f->aug, b.images, n, S, S, b.positions, b.labels, SEED,
                                 b.epoch, f->x.data, NULL);
    } else if (st == IMBAL_OK) {
        imbal_tensor hu = imbal_tensor_wrap(b.images, IMBAL_U8, 1, us, imbal_device_cpu());
        imbal_tensor hk =
            imbal_tensor_wrap((void *)b.positions, IMBAL_I64, 1, ns, imbal_device_cpu());
        st = imbal_tensor_copy(ctx, &f->dev_u8, &hu);
        if (st == IMBAL_OK) st = imbal_tensor_copy(ctx, &f->dev_keys, &hk);
        if (st == IMBAL_OK)
            st = imbal_augment_batch(ctx, dev, &f->aug, f->dev_u8.data, n, S, S, f->dev_keys.data,
                                     f->labels.data, SEED, b.epoch, f->x.data, NULL);
    }
    imbal_loader_release(f->loader, &b);
    return st;
}

/* Times `steps` batches of the feed, each trained on when t is not NULL. */
static imbal_status time_feed(imbal_ctx *ctx, imbal_device dev, feed *f, trainer *t, int warmup,
                              int steps, double *seconds) {
    imbal_status st = IMBAL_OK;
    for (int i = 0; st == IMBAL_OK && i < warmup; i++) {
        st = feed_next(ctx, dev, f);
        if (st == IMBAL_OK && t) st = train_step(ctx, t, &f->x, &f->labels);
    }
    bench_sync_device(dev);
    double t0 = bench_now();
    for (int i = 0; st == IMBAL_OK && i < steps; i++) {
        st = feed_next(ctx, dev, f);
        if (st == IMBAL_OK && t) st = train_step(ctx, t, &f->x, &f->labels);
    }
    bench_sync_device(dev);
    *seconds = bench_now() - t0;
    if (st == IMBAL_OK && t) st = check_loss(ctx, t);
    return st;
}

static int bench_pipeline(imbal_ctx *ctx, imbal_device dev, row_info *ri) {
    const options *o = ri->o;
    imbal_dataset *ds = NULL;
    if (imbal_dataset_open_folder(ctx, o->pipeline, 0, &ds) != IMBAL_OK) {
        fprintf(stderr, "bench_train: --pipeline: %s\n", imbal_ctx_error(ctx));
        return 1;
    }
    const char *names[2] = {"loader+augment", "loader+augment+train"};
    int rc = 0;
    for (int with_model = 0; with_model < 2 && !rc; with_model++) {
        feed f;
        trainer t;
        memset(&t, 0, sizeof t);
        double s = 0;
        imbal_status st = feed_create(ctx, dev, o, ds, ri->threads, &f);
        if (st == IMBAL_OK && with_model) {
            st = trainer_create(ctx, dev, o, imbal_dataset_num_classes(ds), f.S, IMBAL_F32, ri, &t);
            if (st == IMBAL_OK) ri->params = (long long)imbal_model_num_scalars(t.model);
        }
        /* The input side alone is ~100x faster than training: at least 20 batches. */
        int steps = with_model || o->steps >= 20 ? o->steps : 20;
        if (st == IMBAL_OK)
            st = time_feed(ctx, dev, &f, with_model ? &t : NULL, o->warmup, steps, &s);
        if (st == IMBAL_OK) {
            print_head(ri, "f32");
            printf(", \"pipeline\": \"%s\", \"aug\": \"%s\", \"images\": %lld, \"cache\": 0",
                   names[with_model], o->aug, (long long)imbal_dataset_size(ds));
            print_timing(ri, steps, s);
        } else {
            fprintf(stderr, "bench_train: %s: %s\n", names[with_model],
                    imbal_ctx_error(ctx)[0] ? imbal_ctx_error(ctx) : imbal_status_string(st));
            rc = 1;
        }
        if (with_model) trainer_free(&t);
        feed_free(&f);
    }
    imbal_dataset_destroy(ds);
    return rc;
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void) {
    fprintf(stderr,
            "usage: bench_train [--device auto|cpu|cuda] [--arch resnet20] [--batch 256] "
            "[--steps N] [--warmup W] [--threads T] [--dtype f32|bf16|all] [--classes K] "
            "[--conv-search 0|1|all] [--tf32 0|1|all] [--pipeline DIR] [--aug SPEC] [--json]\n");
}

/* "0", "1" or "all" as 0, 1, -1; anything else -2. */
static int off_on_all(const char *v) {
    return strcmp(v, "all") == 0 ? -1 : strcmp(v, "1") == 0 ? 1 : strcmp(v, "0") == 0 ? 0 : -2;
}

static int parse_args(int argc, char **argv, options *o) {
    o->device = "auto", o->arch = "resnet20", o->dtype = "all", o->pipeline = NULL;
    o->aug = "crop=32:pad=4,flip,normalize=cifar10";
    o->batch = 256, o->steps = 0, o->warmup = -1, o->threads = 0, o->classes = 10;
    o->search = -1, o->tf32 = -1;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) continue; /* always JSON, like the other benches' --json */
        if (!v) return -1;
        if (strcmp(a, "--device") == 0)
            o->device = v;
        else if (strcmp(a, "--arch") == 0)
            o->arch = v;
        else if (strcmp(a, "--dtype") == 0)
            o->dtype = v;
        else if (strcmp(a, "--pipeline") == 0)
            o->pipeline = v;
        else if (strcmp(a, "--aug") == 0)
            o->aug = v;
        else if (strcmp(a, "--batch") == 0)
            o->batch = atoi(v);
        else if (strcmp(a, "--steps") == 0)
            o->steps = atoi(v);
        else if (strcmp(a, "--warmup") == 0)
            o->warmup = atoi(v);
        else if (strcmp(a, "--threads") == 0)
            o->threads = atoi(v);
        else if (strcmp(a, "--classes") == 0)
            o->classes = atoi(v);
        else if (strcmp(a, "--tf32") == 0)
            o->tf32 = off_on_all(v);
        else if (strcmp(a, "--conv-search") == 0)
            o->search = off_on_all(v);
        else
            return -1;
        ++i;
    }
    if (o->search < -1 || o->tf32 < -1) return -1;
    if (o->batch < 1 || o->steps < 0 || o->warmup < -1 || o->threads < 0 || o->classes < 2)
        return -1;
    if (strcmp(o->dtype, "f32") && strcmp(o->dtype, "bf16") && strcmp(o->dtype, "all")) return -1;
    return 0;
}

int main(int argc, char **argv) {
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    imbal_device dev;
    int rc = 0;
    imbal_ctx *ctx = bench_setup("bench_train", o.device, o.threads, &dev, &rc);
    if (!ctx) return rc;
    imbal_model_config probe;
    if (imbal_model_config_preset(ctx, o.arch, &probe) != IMBAL_OK) {
        fprintf(stderr, "bench_train: %s\n", imbal_ctx_error(ctx));
        imbal_ctx_destroy(ctx);
        return 2;
    }
    int cuda = dev.kind == IMBAL_DEVICE_CUDA;
    if (!o.steps) o.steps = cuda ? 50 : 5;
    if (o.warmup < 0) o.warmup = cuda ? 5 : 1;
    row_info ri;
    memset(&ri, 0, sizeof ri);
    ri.o = &o;
    ri.dev_kind = cuda ? "cuda" : "cpu";
    ri.threads = imbal_ctx_threads(ctx);
    if (ri.threads < 1) ri.threads = omp_get_max_threads(); /* the context's default */
    bench_device_name(ctx, dev, ri.dev_name, sizeof ri.dev_name);
    /* The engine search only means something on CUDA: the CPU gets one row per dtype. */
    const int s_first = o.search == 1 && cuda ? 1 : 0, s_last = o.search == 0 || !cuda ? 0 : 1;
    const int t_first = o.tf32 == 1 && cuda ? 1 : 0, t_last = o.tf32 == 0 || !cuda ? 0 : 1;
    for (ri.search = s_first; ri.search <= s_last; ri.search++) {
        for (ri.tf32 = t_first; ri.tf32 <= t_last && strcmp(o.dtype, "bf16") != 0; ri.tf32++)
            rc |= bench_memory(ctx, dev, IMBAL_F32, &ri);
        ri.tf32 = 0; /* bf16 rows: tensor cores anyway */
        if (strcmp(o.dtype, "f32") != 0) {
            if (cuda) {
                rc |= bench_memory(ctx, dev, IMBAL_BF16, &ri);
            } else { /* the CPU twins take f32 only */
                print_head(&ri, "bf16");
                printf(", \"skipped\": \"bf16 needs CUDA (the CPU twins take f32 only)\"}\n");
                fflush(stdout);
            }
        }
    }
    ri.search = s_last; /* the pipeline rows train with the search on where it ran, in f32 */
    ri.tf32 = 0;
    if (o.pipeline) rc |= bench_pipeline(ctx, dev, &ri);
    imbal_ctx_destroy(ctx);
    return rc;
}
