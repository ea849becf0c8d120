/* imbal: class-imbalanced image classification toolkit (C11 + CUDA). The umbrella header.
 *
 *   imbal_ctx *ctx;
 *   if (imbal_ctx_create(&ctx) != IMBAL_OK) { puts(imbal_ctx_error(NULL)); ... }
 *   imbal_dataset *ds;
 *   if (imbal_dataset_open(ctx, "data/train", 0, &ds) != IMBAL_OK)
 *       fprintf(stderr, "%s\n", imbal_ctx_error(ctx));
 *
 * Data flows one way: dataset index -> class statistics -> class weights -> sampler -> loader ->
 * augmentation -> backbone -> fused loss -> optimizer -> metrics -> reports. docs/design.md. */
#ifndef IMBAL_IMBAL_H
#define IMBAL_IMBAL_H

#include "status.h"
#include "device.h"
#include "philox.h"
#include "half.h"
#include "tensor.h"
#include "npy.h"
#include "random_fill.h"
#include "dataset.h"
#include "class_stats.h"
#include "weights.h"
#include "sampler.h"
#include "synth.h"
#include "loss.h"
#include "image.h"
#include "augment.h"
#include "pipeline.h"
#include "loader.h"
#include "chip.h"
#include "nn.h"
#include "optim.h"
#include "safetensors.h"
#include "metrics.h"
#include "plot.h"
#include "model.h"
#include "train.h"

#endif
