/* imbal: the metrics accumulator, shared by metrics.c (accumulate), metrics_report.c (compute)
 * and metrics_json.c (report.json). */
#ifndef IMBAL_METRICS_INTERNAL_H
#define IMBAL_METRICS_INTERNAL_H

#include <stdint.h>

#include "imbal/metrics.h"

struct imbal_metrics {
    int num_classes;
    int top_k;
    int64_t total;      /* pairs added, by either call */
    int64_t logit_rows; /* rows added through imbal_metrics_add_logits */
    int64_t top_k_hits; /* of those, rows whose label is among the k largest logits */
    int64_t *confusion; /* [C][C], row = true class, column = prediction */
};

#endif
