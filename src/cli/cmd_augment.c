/* imbal augment: one deterministic augmentation op with explicit parameters on one image, so users
 * can check what an op does (and compare with torchvision.transforms.functional); or, with
 * --pipeline, K random draws of the augmentation pipeline tiled into one PNG grid. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"

static const char usage[] =
    "Usage: imbal augment --in IMG --out OUT.png --op OP [op parameters]\n"
    "       imbal augment --in IMG --pipeline SPEC --grid OUT.png [--seed S] [--count K]\n"
    "                     [--epoch E] [--cols C] [--device cpu|cuda|cuda:N|auto]\n"
    "\n"
    "Applies one augmentation op with explicit parameters to a JPEG or PNG and writes a lossless\n"
    "PNG (normalize writes float32 CHW as .npy). Parameters mean what they mean in\n"
    "torchvision.transforms.functional (docs/pipeline.md).\n"
    "\n"
    "  --op crop        --top T --left L --height H --width W [--pad P] [--pad-mode M] [--fill V]\n"
    "                   top/left count in the padded image, as RandomCrop does;\n"
    "                   M: constant (default), edge or reflect; V: 0-255 (default 0)\n"
    "  --op hflip\n"
    "  --op rotate      --angle DEG (counter-clockwise, bilinear) [--fill V]\n"
    "  --op brightness  --factor F (>= 0)\n"
    "  --op contrast    --factor F (>= 0)\n"
    "  --op saturation  --factor F (>= 0)\n"
    "  --op hue         --factor F (in [-0.5, 0.5])\n"
    "  --op normalize   [--mean R,G,B] [--std R,G,B] (default ImageNet's); --out must end in .npy\n"
    "\n"
    "  --in FILE        the input image (JPEG or PNG)\n"
    "  --out FILE       the output (written to a temporary name, then renamed)\n"
    "\n"
    "With --pipeline, runs the random augmentation pipeline SPEC (docs/pipeline.md) on K copies\n"
    "of the image with keys 0..K-1 and tiles the uint8 results (before any normalize step) into\n"
    "a grid PNG, C per row (default ceil(sqrt(K))), 2-pixel black gaps. SPEC is comma-separated:\n"
    "  crop=SIZE[:pad=P][:mode=constant|edge|reflect][:fill=V]  "
    "rrc=SIZE[:scale=LO-HI][:ratio=LO-HI]\n"
    "  size=HxW  flip[=P]  rotate=D[:fill=R/G/B]  jitter=B/C/S/H\n"
    "  normalize=cifar10|imagenet|M0/M1/M2/S0/S1/S2[:bf16]      (SIZE is N or HxW)\n"
    "  --seed S         Philox seed (default 0)     --epoch E   epoch (default 0)\n"
    "  --count K        number of draws, 1..1024 (default 16)\n"
    "  --device D       cpu (default), cuda, cuda:N or auto\n";

typedef struct aug_args {
    const char *in, *out, *op, *mean, *std, *pad_mode;
    const char *pipeline, *grid, *device;
    uint64_t seed;
    int64_t count, epoch, cols;
    int64_t top, left, height, width, pad, fill;
    double angle, factor;
    int have_factor, have_angle, have_box;
} aug_args;

enum {
    OPT_TOP = 300,
    OPT_LEFT,
    OPT_HEIGHT,
    OPT_WIDTH,
    OPT_PAD,
    OPT_PAD_MODE,
    OPT_FILL,
    OPT_ANGLE,
    OPT_FACTOR,
    OPT_MEAN,
    OPT_STD,
    OPT_PIPELINE,
    OPT_GRID,
    OPT_SEED,
    OPT_COUNT,
    OPT_EPOCH,
    OPT_COLS,
    OPT_DEVICE
};

static int parse_args(const char *cmd, int argc, char **argv, aug_args *a) {
    static const struct option longopts[] = {{"in", required_argument, 0, 'i'},
                                             {"out", required_argument, 0, 'o'},
                                             {"op", required_argument, 0, 'p'},
                                             {"top", required_argument, 0, OPT_TOP},
                                             {"left", required_argument, 0, OPT_LEFT},
                                             {"height", required_argument, 0, OPT_HEIGHT},
                                             {"width", required_argument, 0, OPT_WIDTH},
                                             {"pad", required_argument, 0, OPT_PAD},
                                             {"pad-mode", required_argument, 0, OPT_PAD_MODE},
                                             {"fill", required_argument, 0, OPT_FILL},
                                             {"angle", required_argument, 0, OPT_ANGLE},
                                             {"factor", required_argument, 0, OPT_FACTOR},
                                             {"mean", required_argument, 0, OPT_MEAN},
                                             {"std", required_argument, 0, OPT_STD},
                                             {"pipeline", required_argument, 0, OPT_PIPELINE},
                                             {"grid", required_argument, 0, OPT_GRID},
                                             {"seed", required_argument, 0, OPT_SEED},
                                             {"count", required_argument, 0, OPT_COUNT},
                                             {"epoch", required_argument, 0, OPT_EPOCH},
                                             {"cols", required_argument, 0, OPT_COLS},
                                             {"device", required_argument, 0, OPT_DEVICE},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    int c, bad = 0;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1 && !bad) {
        switch (c) {
        case 'h':
            fputs(usage, stdout);
            return -1;
        case 'i':
            a->in = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'p':
            a->op = optarg;
            break;
        case OPT_TOP:
            bad = cli_parse_i64(cmd, "--top", optarg, 0, 1 << 30, &a->top), a->have_box |= 1;
            break;
        case OPT_LEFT:
            bad = cli_parse_i64(cmd, "--left", optarg, 0, 1 << 30, &a->left), a->have_box |= 2;
            break;
        case OPT_HEIGHT:
            bad = cli_parse_i64(cmd, "--height", optarg, 1, 1 << 30, &a->height), a->have_box |= 4;
            break;
        case OPT_WIDTH:
            bad = cli_parse_i64(cmd, "--width", optarg, 1, 1 << 30, &a->width), a->have_box |= 8;
            break;
        case OPT_PAD:
            bad = cli_parse_i64(cmd, "--pad", optarg, 0, 1 << 20, &a->pad);
            break;
        case OPT_PAD_MODE:
            a->pad_mode = optarg;
            break;
        case OPT_FILL:
            bad = cli_parse_i64(cmd, "--fill", optarg, 0, 255, &a->fill);
            break;
        case OPT_ANGLE:
            bad = cli_parse_double(cmd, "--angle", optarg, -1e6, 1e6, &a->angle), a->have_angle = 1;
            break;
        case OPT_FACTOR:
            bad = cli_parse_double(cmd, "--factor", optarg, -1e6, 1e6, &a->factor),
            a->have_factor = 1;
            break;
        case OPT_MEAN:
            a->mean = optarg;
            break;
        case OPT_STD:
            a->std = optarg;
            break;
        case OPT_PIPELINE:
            a->pipeline = optarg;
            break;
        case OPT_GRID:
            a->grid = optarg;
            break;
        case OPT_SEED:
            bad = cli_parse_u64(cmd, "--seed", optarg, &a->seed);
            break;
        case OPT_COUNT:
            bad = cli_parse_i64(cmd, "--count", optarg, 1, 1024, &a->count);
            break;
        case OPT_EPOCH:
            bad = cli_parse_i64(cmd, "--epoch", optarg, 0, UINT32_MAX, &a->epoch);
            break;
        case OPT_COLS:
            bad = cli_parse_i64(cmd, "--cols", optarg, 1, 1024, &a->cols);
            break;
        case OPT_DEVICE:
            a->device = optarg;
            break;
        default:
            bad = 1;
        }
    }
    if (bad) return CLI_EXIT_USAGE;
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->in) return cli_usage_error(cmd, "--in IMG is required");
    if (a->pipeline) {
        if (a->op) return cli_usage_error(cmd, "--pipeline and --op exclude each other");
        if (!a->grid) return cli_usage_error(cmd, "--pipeline needs --grid OUT.png");
        return CLI_EXIT_OK;
    }
    if (a->grid || a->device) return cli_usage_error(cmd, "--grid and --device go with --pipeline");
    if (!a->out) return cli_usage_error(cmd, "--out FILE is required");
    if (!a->op)
        return cli_usage_error(cmd, "--op is required (crop, hflip, rotate, brightness, contrast, "
                                    "saturation, hue, normalize)");
    return CLI_EXIT_OK;
}

static int parse_triple(const char *cmd, const char *opt, const char *text, const float dflt[3],
                        float out[3]) {
    if (!text) {
        memcpy(out, dflt, 3 * sizeof *out);
        return CLI_EXIT_OK;
    }
    double *v = NULL;
    int n = 0;
    if (cli_parse_double_list(cmd, opt, text, -1e30, &v, &n)) return CLI_EXIT_USAGE;
    int rc = CLI_EXIT_OK;
    if (n != 3)
        rc = cli_usage_error(cmd, "%s '%s' needs three comma-separated values (R,G,B)", opt, text);
    else
        for (int i = 0; i < 3; ++i)
            out[i] = (float)v[i];
    free(v);
    return rc;
}

static int run_normalize(const char *cmd, imbal_ctx *ctx, const aug_args *a,
                         const imbal_image *img) {
    static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
    static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};
    float mean[3], std[3];
    size_t len = strlen(a->out);
    if (len < 4 || strcmp(a->out + len - 4, ".npy") != 0)
        return cli_usage_error(cmd, "--op normalize writes float32 CHW: --out must end in .npy");
    if (parse_triple(cmd, "--mean", a->mean, imagenet_mean, mean) ||
        parse_triple(cmd, "--std", a->std, imagenet_std, std))
        return CLI_EXIT_USAGE;
    float *chw = malloc(sizeof(float) * 3 * (size_t)img->width * (size_t)img->height);
    if (!chw)
        return cli_usage_error(cmd, "out of memory for a %dx%d image", img->width, img->height);
    int64_t shape[3] = {3, img->height, img->width};
    imbal_tensor t = imbal_tensor_wrap(chw, IMBAL_F32, 3, shape, imbal_device_cpu());
    int rc = CLI_EXIT_OK;
    if (imbal_aug_normalize(ctx, img, mean, std, chw) != IMBAL_OK ||
        imbal_npy_write(ctx, a->out, &t) != IMBAL_OK)
        rc = cli_fail(cmd, ctx);
    free(chw);
    return rc;
}

static int parse_pad_mode(const char *cmd, const char *text, imbal_pad_mode *out) {
    *out = IMBAL_PAD_CONSTANT; /* the default without --pad-mode */
    if (text && !imbal_pad_mode_from_name(text, out))
        return cli_usage_error(cmd, "--pad-mode '%s' is not constant, edge or reflect", text);
    return CLI_EXIT_OK;
}

/* Runs the image-to-image op; returns CLI_EXIT_USAGE for missing parameters, else the library's
 * status through *st. */
static int run_image_op(const char *cmd, imbal_ctx *ctx, const aug_args *a, const imbal_image *in,
                        imbal_image *out, imbal_status *st) {
    const char *op = a->op;
    float f = (float)a->factor;
    int needs_factor = strcmp(op, "brightness") == 0 || strcmp(op, "contrast") == 0 ||
                       strcmp(op, "saturation") == 0 || strcmp(op, "hue") == 0;
    if (needs_factor && !a->have_factor) return cli_usage_error(cmd, "--op %s needs --factor", op);
    if (strcmp(op, "crop") == 0) {
        imbal_pad_mode mode = IMBAL_PAD_CONSTANT;
        if (a->have_box != 15)
            return cli_usage_error(cmd, "--op crop needs --top, --left, --height and --width");
        if (parse_pad_mode(cmd, a->pad_mode, &mode)) return CLI_EXIT_USAGE;
        *st = imbal_aug_crop(ctx, in, (int)a->top, (int)a->left, (int)a->height, (int)a->width,
                             (int)a->pad, mode, (uint8_t)a->fill, out);
    } else if (strcmp(op, "hflip") == 0) {
        *st = imbal_aug_hflip(ctx, in, out);
    } else if (strcmp(op, "rotate") == 0) {
        if (!a->have_angle) return cli_usage_error(cmd, "--op rotate needs --angle DEG");
        uint8_t fill[3] = {(uint8_t)a->fill, (uint8_t)a->fill, (uint8_t)a->fill};
        *st = imbal_aug_rotate(ctx, in, (float)a->angle, fill, out);
    } else if (strcmp(op, "brightness") == 0) {
        *st = imbal_aug_brightness(ctx, in, f, out);
    } else if (strcmp(op, "contrast") == 0) {
        *st = imbal_aug_contrast(ctx, in, f, out);
    } else if (strcmp(op, "saturation") == 0) {
        *st = imbal_aug_saturation(ctx, in, f, out);
    } else if (strcmp(op, "hue") == 0) {
        *st = imbal_aug_hue(ctx, in, f, out);
    } else {
        return cli_usage_error(cmd,
                               "--op '%s' is not crop, hflip, rotate, brightness, contrast, "
                               "saturation, hue or normalize",
                               op);
    }
    return CLI_EXIT_OK;
}

/* Runs the pipeline on `count` copies of img (keys 0..count-1) into out (uint8 NHWC), on the CPU
 * or through device buffers on CUDA. */
static imbal_status pipeline_draws(imbal_ctx *ctx, imbal_device dev, const imbal_aug_pipeline *p,
                                   const imbal_image *img, int count, uint64_t seed, uint32_t epoch,
                                   uint8_t *out) {
    const size_t in_px = (size_t)img->width * img->height * 3;
    const int64_t n_in = (int64_t)in_px * count, n_keys = count;
    const int64_t n_out = (int64_t)p->out_height * p->out_width * 3 * count;
    imbal_tensor hin, hkeys, dev_in = {0}, dev_keys = {0}, dev_out = {0};
    imbal_status st = imbal_tensor_alloc(ctx, &hin, IMBAL_U8, 1, &n_in, imbal_device_cpu());
    if (st != IMBAL_OK) return st;
    st = imbal_tensor_alloc(ctx, &hkeys, IMBAL_I64, 1, &n_keys, imbal_device_cpu());
    if (st != IMBAL_OK) {
        imbal_tensor_free(&hin);
        return st;
    }
    for (int i = 0; i < count; ++i) {
        memcpy((uint8_t *)hin.data + in_px * i, img->data, in_px);
        ((int64_t *)hkeys.data)[i] = i;
    }
    if (dev.kind == IMBAL_DEVICE_CPU) {
        st = imbal_augment_batch(ctx, dev, p, hin.data, count, img->height, img->width, hkeys.data,
                                 NULL, seed, epoch, out, NULL);
    } else {
        imbal_tensor hout = imbal_tensor_wrap(out, IMBAL_U8, 1, &n_out, imbal_device_cpu());
        if ((st = imbal_tensor_alloc(ctx, &dev_in, IMBAL_U8, 1, &n_in, dev)) == IMBAL_OK &&
            (st = imbal_tensor_alloc(ctx, &dev_keys, IMBAL_I64, 1, &n_keys, dev)) == IMBAL_OK &&
            (st = imbal_tensor_alloc(ctx, &dev_out, IMBAL_U8, 1, &n_out, dev)) == IMBAL_OK &&
            (st = imbal_tensor_copy(ctx, &dev_in, &hin)) == IMBAL_OK &&
            (st = imbal_tensor_copy(ctx, &dev_keys, &hkeys)) == IMBAL_OK &&
            (st = imbal_augment_batch(ctx, dev, p, dev_in.data, count, img->height, img->width,
                                      dev_keys.data, NULL, seed, epoch, dev_out.data, NULL)) ==
                IMBAL_OK)
            st = imbal_tensor_copy(ctx, &hout, &dev_out);
        imbal_tensor_free(&dev_in);
        imbal_tensor_free(&dev_keys);
        imbal_tensor_free(&dev_out);
    }
    imbal_tensor_free(&hin);
    imbal_tensor_free(&hkeys);
    return st;
}

static int run_pipeline(const char *cmd, imbal_ctx *ctx, const aug_args *a,
                        const imbal_image *img) {
    imbal_aug_pipeline p;
    imbal_device dev = imbal_device_cpu();
    if (imbal_aug_pipeline_parse(ctx, a->pipeline, &p) != IMBAL_OK)
        return cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
    imbal_status st = a->device ? imbal_device_parse(ctx, a->device, &dev) : IMBAL_OK;
    if (st == IMBAL_ERR_NO_DEVICE) return cli_fail(cmd, ctx); /* a valid name, no such device */
    if (st != IMBAL_OK) return cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
    p.output = IMBAL_AUG_OUT_U8_NHWC; /* the picture shows the uint8 images before normalize */
    if (imbal_aug_pipeline_check(ctx, &p, img->height, img->width) != IMBAL_OK ||
        imbal_device_check(ctx, dev) != IMBAL_OK)
        return cli_fail(cmd, ctx);
    const int count = a->count ? (int)a->count : 16;
    const int cols =
        a->cols ? (int)(a->cols < count ? a->cols : count) : (int)ceil(sqrt((double)count) - 1e-9);
    const int rows = (count + cols - 1) / cols, gap = 2;
    const int oh = p.out_height, ow = p.out_width;
    const int64_t gw = (int64_t)cols * ow + (int64_t)(cols - 1) * gap;
    const int64_t gh = (int64_t)rows * oh + (int64_t)(rows - 1) * gap;
    if (gw > 32768 || gh > 32768)
        return cli_usage_error(cmd, "the grid would be %lld x %lld pixels (at most 32768 a side)",
                               (long long)gw, (long long)gh);
    uint8_t *tiles = malloc((size_t)count * oh * ow * 3);
    imbal_image grid = {0};
    int rc = CLI_EXIT_OK;
    if (!tiles) {
        rc = cli_usage_error(cmd, "out of memory for %d draws of %d x %d", count, oh, ow);
    } else if (pipeline_draws(ctx, dev, &p, img, count, a->seed, (uint32_t)a->epoch, tiles) !=
                   IMBAL_OK ||
               imbal_image_alloc(ctx, (int)gw, (int)gh, 3, &grid) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
    } else {
        memset(grid.data, 0, (size_t)gw * gh * 3);
        for (int k = 0; k < count; ++k) {
            const int64_t x0 = (int64_t)(k % cols) * (ow + gap),
                          y0 = (int64_t)(k / cols) * (oh + gap);
            for (int y = 0; y < oh; ++y)
                memcpy(grid.data + ((size_t)(y0 + y) * gw + x0) * 3,
                       tiles + ((size_t)k * oh + y) * ow * 3, (size_t)ow * 3);
        }
        if (imbal_image_write_png(ctx, &grid, a->grid) != IMBAL_OK) rc = cli_fail(cmd, ctx);
    }
    free(tiles);
    imbal_image_free(&grid);
    return rc;
}

int cmd_augment(int argc, char **argv) {
    const char *cmd = "augment";
    aug_args a = {0};
    int rc = parse_args(cmd, argc, argv, &a);
    if (rc == -1) return CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK) return rc;
    imbal_ctx *ctx = NULL;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) return cli_fail(cmd, NULL);
    imbal_image in = {0}, out = {0};
    if (imbal_image_load(ctx, a.in, NULL, &in) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
    } else if (a.pipeline) {
        rc = run_pipeline(cmd, ctx, &a, &in);
    } else if (strcmp(a.op, "normalize") == 0) {
        rc = run_normalize(cmd, ctx, &a, &in);
    } else {
        imbal_status st = IMBAL_OK;
        rc = run_image_op(cmd, ctx, &a, &in, &out, &st);
        if (rc == CLI_EXIT_OK &&
            (st != IMBAL_OK || imbal_image_write_png(ctx, &out, a.out) != IMBAL_OK))
            rc = cli_fail(cmd, ctx);
    }
    imbal_image_free(&in);
    imbal_image_free(&out);
    imbal_ctx_destroy(ctx);
    return rc;
}

int cli_parse_only_augment(int argc, char **argv) {
    aug_args a = {0};
    int rc = parse_args("augment", argc, argv, &a);
    return rc == -1 ? CLI_EXIT_OK : rc;
}
