/* Uses the installed headers and library: weights for counts 500/50/5 must be sklearn's. */
#include <imbal/imbal.h>
#include <math.h>
#include <stdio.h>

int main(void) {
    imbal_ctx *ctx;
    if (imbal_ctx_create(&ctx) != IMBAL_OK) {
        fprintf(stderr, "%s\n", imbal_ctx_error(NULL));
        return 1;
    }
    int64_t counts[3] = {500, 50, 5};
    double w[3];
    imbal_weight_options opts;
    imbal_weight_options_default(&opts);
    opts.scheme = IMBAL_WEIGHTS_BALANCED;
    if (imbal_class_weights(ctx, counts, 3, NULL, &opts, w) != IMBAL_OK) {
        fprintf(stderr, "%s\n", imbal_ctx_error(ctx));
        return 1;
    }
    imbal_ctx_destroy(ctx);
    if (fabs(w[2] - 37.0) > 1e-9) return 1;
    printf("imbal %s ok\n", imbal_version_string());
    return 0;
}
