/* imbal augment: one deterministic augmentation op with explicit parameters on one image, so users
 * can check what an op does (and compare with torchvision.transforms.functional). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"

static const char usage[] =
    "Usage: imbal augment --in IMG --out OUT.png --op OP [op parameters]\n"
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
    "  --out FILE       the output (written to a temporary name, then renamed)\n";

typedef struct aug_args {
    const char *in, *out, *op, *mean, *std, *pad_mode;
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
    OPT_STD
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
        default:
            bad = 1;
        }
    }
    if (bad) return CLI_EXIT_USAGE;
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!a->in) return cli_usage_error(cmd, "--in IMG is required");
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
    if (!text || strcmp(text, "constant") == 0)
        *out = IMBAL_PAD_CONSTANT;
    else if (strcmp(text, "edge") == 0)
        *out = IMBAL_PAD_EDGE;
    else if (strcmp(text, "reflect") == 0)
        *out = IMBAL_PAD_REFLECT;
    else
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
