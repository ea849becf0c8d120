/* imbal fuzz target: the pipeline SPEC string of `imbal augment` (src/augment_pipeline_parse.c).
 * A spec that parses is checked against a few input sizes, parameters are drawn where the check
 * passes, and a small pipeline is run once on the CPU. */
#include <stdlib.h>

#include "fuzz_util.h"

static void run_small(imbal_ctx *ctx, const imbal_aug_pipeline *p) {
    /* The input is of the output size when there is no geometry step. */
    int ih = p->geometry == IMBAL_AUG_GEOM_NONE ? p->out_height : 12;
    int iw = p->geometry == IMBAL_AUG_GEOM_NONE ? p->out_width : 10;
    if ((int64_t)p->out_height * p->out_width > 4096 || (int64_t)ih * iw > 4096) return;
    if (imbal_aug_pipeline_check(ctx, p, ih, iw) != IMBAL_OK) return;
    uint8_t *img = calloc((size_t)ih * (size_t)iw * 3, 1);
    float *out = calloc((size_t)p->out_height * (size_t)p->out_width * 3, sizeof *out);
    int64_t key = 3;
    if (img && out)
        (void)imbal_augment_batch(ctx, imbal_device_cpu(), p, img, 1, ih, iw, &key, NULL, 7, 1, out,
                                  NULL);
    free(img);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0; /* a spec is one command-line word */
    char *spec = fuzz_strndup(data, size);
    imbal_ctx *ctx = fuzz_ctx();
    if (!spec || !ctx) {
        free(spec);
        imbal_ctx_destroy(ctx);
        return 0;
    }
    imbal_aug_pipeline p;
    if (imbal_aug_pipeline_parse(ctx, spec, &p) == IMBAL_OK) {
        static const int sizes[][2] = {{32, 32}, {1, 1}, {7, 300}};
        for (int i = 0; i < 3; ++i)
            if (imbal_aug_pipeline_check(ctx, &p, sizes[i][0], sizes[i][1]) == IMBAL_OK) {
                imbal_aug_params a;
                imbal_aug_draw(&p, sizes[i][0], sizes[i][1], 1, 0, 0, 0, &a);
            }
        run_small(ctx, &p);
    }
    free(spec);
    imbal_ctx_destroy(ctx);
    return 0;
}
