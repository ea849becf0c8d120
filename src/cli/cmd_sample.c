/* imbal sample: run a sampler for some epochs and report what it drew per class. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "cli_common.h"
#include "cli_parse_only.h"
#include "json_writer.h"

static const char usage[] =
    "Usage: imbal sample (DIR_OR_MANIFEST | --counts N1,N2,...) --sampler NAME [--epochs E]\n"
    "                    [--seed S] [--batch B] [--num-samples N] [--q Q] [--ratio R]\n"
    "                    [--repeat LIST | --repeat-threshold T] [--weights SCHEME [--beta B]\n"
    "                    [--power P]] [--then NAME --switch-epoch E] [--split S] [--merge MAP]\n"
    "                    [--indices-out DIR] [--json]\n"
    "\n"
    "Samplers (docs/sampling.md):\n"
    "  sequential, shuffle       every sample once, in order / in a new random order each epoch\n"
    "  weighted                  draws with replacement, P(sample) ~ its class weight (--weights)\n"
    "  class-power               class c with p ~ n_c^q (--q), then a uniform sample of it;\n"
    "  class-balanced, sqrt      ... with q = 0 and q = 0.5 (Kang et al. 2020)\n"
    "  oversample, undersample   every class up to the largest / down to the smallest count\n"
    "                            (--ratio: to ratio * largest / smallest / ratio), redrawn each "
    "epoch\n"
    "  rotating-undersample      classes cut into chunks of the smallest count, a new chunk each\n"
    "                            epoch, so every sample is seen within n_max/n_min epochs\n"
    "  repeat                    class c's samples appear r_c times (--repeat or "
    "--repeat-threshold)\n"
    "  balanced-batch            every batch of --batch holds each class equally often\n"
    "\n"
    "  --epochs E          epochs to run (default 1)\n"
    "  --seed S            seed (default 0)\n"
    "  --batch B           batch size for balanced-batch (default 128)\n"
    "  --num-samples N     draws per epoch for weighted, class-power, balanced-batch (default: N)\n"
    "  --q Q               class-power exponent (default 0)\n"
    "  --ratio R           over/undersampling target ratio in (0,1] (default: full balance)\n"
    "  --repeat LIST       repeat factors per class in id order, e.g. 1,2,10\n"
    "  --repeat-threshold T  repeat factors r_c = max(1, sqrt(T / f_c)), f_c = n_c / N (LVIS)\n"
    "  --weights SCHEME    class weights for weighted (default inverse); --beta, --power as in\n"
    "                      'imbal weights'\n"
    "  --then NAME         switch to sampler NAME at --switch-epoch E (deferred re-sampling)\n"
    "  --split S           train|val|test|all (default: train if the manifest has splits)\n"
    "  --merge MAP         merge classes first (old_name,new_name lines)\n"
    "  --indices-out DIR   also write each epoch's indices as DIR/epoch-NNNN.npy (int64)\n"
    "  --json              print {\"epochs\": [{\"epoch\", \"draws\", \"histogram\", \"seen\"}, "
    "...]}\n";

typedef struct sample_args {
    const char *sampler, *then, *weights, *repeat, *indices_out;
    cli_common_opts common;
    int64_t epochs, batch, num_samples, switch_epoch;
    uint64_t seed;
    double q, ratio, beta, power, repeat_threshold;
    int have_q;
} sample_args;

static int parse_args(int argc, char **argv, sample_args *a, const char **path) {
    static const struct option longopts[] = {CLI_SOURCE_OPTIONS,
                                             {"sampler", required_argument, 0, 'S'},
                                             {"epochs", required_argument, 0, 'E'},
                                             {"seed", required_argument, 0, 's'},
                                             {"batch", required_argument, 0, 'B'},
                                             {"num-samples", required_argument, 0, 'N'},
                                             {"q", required_argument, 0, 'q'},
                                             {"ratio", required_argument, 0, 'r'},
                                             {"repeat", required_argument, 0, 'R'},
                                             {"repeat-threshold", required_argument, 0, 'T'},
                                             {"weights", required_argument, 0, 'w'},
                                             {"beta", required_argument, 0, 'b'},
                                             {"power", required_argument, 0, 'p'},
                                             {"then", required_argument, 0, 't'},
                                             {"switch-epoch", required_argument, 0, 'X'},
                                             {"indices-out", required_argument, 0, 'o'},
                                             CLI_COMMON_OPTIONS,
                                             {0, 0, 0, 0}};
    const char *cmd = "sample";
    memset(a, 0, sizeof *a);
    a->epochs = 1, a->batch = 128, a->switch_epoch = -1, a->beta = 0.999, a->power = 1.0;
    a->repeat_threshold = -1;
    int c;
    while ((c = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        cli_option_result r = cli_common_option(c, usage, &a->common);
        if (r == CLI_OPTION_HELP) return -1;
        if (r == CLI_OPTION_TAKEN) continue;
        int bad = 0;
        switch (c) {
        case 'S':
            a->sampler = optarg;
            break;
        case 'E':
            bad = cli_parse_i64(cmd, "--epochs", optarg, 1, 1000000, &a->epochs);
            break;
        case 's':
            bad = cli_parse_u64(cmd, "--seed", optarg, &a->seed);
            break;
        case 'B':
            bad = cli_parse_i64(cmd, "--batch", optarg, 1, INT32_MAX, &a->batch);
            break;
        case 'N':
            bad = cli_parse_i64(cmd, "--num-samples", optarg, 1, INT64_MAX / 2, &a->num_samples);
            break;
        case 'q':
            bad = cli_parse_double(cmd, "--q", optarg, -100, 100, &a->q);
            a->have_q = 1;
            break;
        case 'r':
            bad = cli_parse_double(cmd, "--ratio", optarg, 0.0, 1.0, &a->ratio);
            break;
        case 'R':
            a->repeat = optarg;
            break;
        case 'T':
            bad =
                cli_parse_double(cmd, "--repeat-threshold", optarg, 0.0, 1.0, &a->repeat_threshold);
            break;
        case 'w':
            a->weights = optarg;
            break;
        case 'b':
            bad = cli_parse_double(cmd, "--beta", optarg, 0.0, 0.999999999999, &a->beta);
            break;
        case 'p':
            bad = cli_parse_double(cmd, "--power", optarg, 0.0, 1e6, &a->power);
            break;
        case 't':
            a->then = optarg;
            break;
        case 'X':
            bad = cli_parse_i64(cmd, "--switch-epoch", optarg, 0, UINT32_MAX, &a->switch_epoch);
            break;
        case 'o':
            a->indices_out = optarg;
            break;
        default:
            return CLI_EXIT_USAGE;
        }
        if (bad) return CLI_EXIT_USAGE;
    }
    if (argc - optind > 1)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    *path = optind < argc ? argv[optind] : NULL;
    if (!a->sampler) return cli_usage_error(cmd, "--sampler NAME is required");
    if ((a->then != NULL) != (a->switch_epoch >= 0))
        return cli_usage_error(cmd, "--then and --switch-epoch go together");
    if (a->repeat && a->repeat_threshold >= 0)
        return cli_usage_error(cmd, "give --repeat or --repeat-threshold, not both");
    return CLI_EXIT_OK;
}

/* Everything a sampler config points at, so it outlives the config. */
typedef struct sample_plan {
    imbal_sampler_config main, then, sched;
    double *class_weights, *repeat;
} sample_plan;

/* Fills cfg for sampler `name` from the arguments; returns an exit code. */
static int configure(const char *cmd, imbal_ctx *ctx, const char *name, const sample_args *a,
                     const imbal_dataset *ds, const int64_t *counts, sample_plan *plan,
                     imbal_sampler_config *cfg) {
    int k = imbal_dataset_num_classes(ds);
    if (imbal_sampler_config_parse_kind(ctx, name, cfg) != IMBAL_OK)
        return cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
    if (cfg->kind == IMBAL_SAMPLER_SCHEDULE)
        return cli_usage_error(cmd, "use --then NAME --switch-epoch E for a schedule");
    cfg->seed = a->seed;
    cfg->num_samples = a->num_samples;
    cfg->batch_size = a->batch;
    cfg->ratio = a->ratio;
    if (a->have_q && cfg->kind == IMBAL_SAMPLER_CLASS_POWER) cfg->q = a->q;
    if (cfg->kind == IMBAL_SAMPLER_WEIGHTED) {
        if (!plan->class_weights) {
            imbal_weight_options wo;
            imbal_weight_options_default(&wo);
            wo.beta = a->beta, wo.power = a->power, wo.zero_weight_for_empty = 1;
            if (imbal_weight_scheme_parse(ctx, a->weights ? a->weights : "inverse", &wo.scheme) !=
                IMBAL_OK)
                return cli_usage_error(cmd, "%s", imbal_ctx_error(ctx));
            const char **names = cli_class_names(ds);
            plan->class_weights = calloc((size_t)k, sizeof(double));
            if (!names || !plan->class_weights) return free(names), CLI_EXIT_FAIL;
            imbal_status st = imbal_class_weights(ctx, counts, k, names, &wo, plan->class_weights);
            free(names);
            if (st != IMBAL_OK) return cli_fail(cmd, ctx);
        }
        cfg->class_weights = plan->class_weights;
    }
    if (cfg->kind == IMBAL_SAMPLER_REPEAT) {
        if (!plan->repeat) {
            int n = k;
            if (a->repeat) {
                if (cli_parse_double_list(cmd, "--repeat", a->repeat, 0.0, &plan->repeat, &n))
                    return CLI_EXIT_USAGE;
                if (n != k)
                    return cli_usage_error(cmd, "--repeat has %d factors but there are %d classes",
                                           n, k);
            } else if (a->repeat_threshold >= 0) {
                /* LVIS repeat factor sampling (Gupta et al. 2019): r_c = max(1, sqrt(t / f_c)). */
                int64_t total = 0;
                for (int c = 0; c < k; ++c)
                    total += counts[c];
                plan->repeat = calloc((size_t)k, sizeof(double));
                if (!plan->repeat) return CLI_EXIT_FAIL;
                for (int c = 0; c < k; ++c) {
                    double f = total ? (double)counts[c] / (double)total : 0.0;
                    plan->repeat[c] = f > 0 ? fmax(1.0, sqrt(a->repeat_threshold / f)) : 0.0;
                }
            } else {
                return cli_usage_error(cmd, "repeat needs --repeat LIST or --repeat-threshold T");
            }
        }
        cfg->repeat_factors = plan->repeat;
    }
    return CLI_EXIT_OK;
}

static int write_indices(imbal_ctx *ctx, const char *dir, uint32_t epoch, int64_t *idx,
                         int64_t len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/epoch-%04u.npy", dir, epoch);
    int64_t shape[1] = {len};
    imbal_tensor t = imbal_tensor_wrap(idx, IMBAL_I64, 1, shape, imbal_device_cpu());
    return imbal_npy_write(ctx, path, &t) == IMBAL_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static void print_epoch_text(int64_t epoch, int64_t len, int64_t seen, int64_t n,
                             const int64_t *hist, int k) {
    printf("epoch %lld: %lld draws, seen %lld/%lld (%.1f%%); per class:", (long long)epoch,
           (long long)len, (long long)seen, (long long)n,
           n ? 100.0 * (double)seen / (double)n : 0.0);
    for (int c = 0; c < k && c < 32; ++c)
        printf(" %lld", (long long)hist[c]);
    if (k > 32) printf(" ... (%d more)", k - 32);
    putchar('\n');
}

/* Runs the epochs and prints the report; returns an exit code. */
static int run_epochs(const char *cmd, imbal_ctx *ctx, const imbal_sampler *s, const sample_args *a,
                      const imbal_dataset *ds, json_writer *w) {
    int k = imbal_dataset_num_classes(ds);
    int64_t n = imbal_dataset_size(ds);
    const int32_t *labels = imbal_dataset_labels(ds);
    unsigned char *seen_map = calloc((size_t)(n / 8 + 1), 1);
    int64_t *hist = calloc((size_t)k, sizeof *hist);
    int64_t seen = 0;
    int rc = CLI_EXIT_FAIL;
    if (!seen_map || !hist) goto done;
    if (a->indices_out && imbal_mkdirs(ctx, a->indices_out) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
        goto done;
    }
    for (int64_t e = 0; e < a->epochs; ++e) {
        int64_t len = imbal_sampler_epoch_length(s, (uint32_t)e);
        int64_t *idx = malloc(sizeof *idx * (size_t)(len > 0 ? len : 1));
        if (!idx) goto done;
        if (imbal_sampler_epoch(ctx, s, (uint32_t)e, idx) != IMBAL_OK ||
            (a->indices_out && write_indices(ctx, a->indices_out, (uint32_t)e, idx, len))) {
            free(idx);
            rc = cli_fail(cmd, ctx);
            goto done;
        }
        memset(hist, 0, sizeof *hist * (size_t)k);
        for (int64_t i = 0; i < len; ++i) {
            int64_t j = idx[i];
            hist[labels[j]]++;
            if (!(seen_map[j >> 3] & (1u << (j & 7)))) {
                seen_map[j >> 3] |= (unsigned char)(1u << (j & 7));
                ++seen;
            }
        }
        free(idx);
        if (w) {
            json_object_begin(w);
            json_kv_int(w, "epoch", e);
            json_kv_int(w, "draws", len);
            json_kv_int_array(w, "histogram", hist, k);
            json_kv_int(w, "seen", seen);
            json_object_end(w);
        } else {
            print_epoch_text(e, len, seen, n, hist, k);
        }
    }
    rc = CLI_EXIT_OK;
done:
    free(seen_map);
    free(hist);
    return rc;
}

int cmd_sample(int argc, char **argv) {
    const char *cmd = "sample", *path = NULL;
    sample_args a;
    int rc = parse_args(argc, argv, &a, &path);
    if (rc != CLI_EXIT_OK) return rc < 0 ? CLI_EXIT_OK : rc;
    cli_session ss;
    rc = cli_session_open(cmd, path, &a.common, NULL, &ss);
    if (rc != CLI_EXIT_OK) return rc;
    imbal_ctx *ctx = ss.ctx;
    const cli_source src = ss.src;
    const int64_t *counts = ss.counts;
    int k = ss.num_classes;
    sample_plan plan;
    memset(&plan, 0, sizeof plan);
    imbal_sampler *s = NULL;
    const imbal_sampler_config *cfg = &plan.main;
    rc = configure(cmd, ctx, a.sampler, &a, src.ds, counts, &plan, &plan.main);
    if (rc == CLI_EXIT_OK && a.then)
        rc = configure(cmd, ctx, a.then, &a, src.ds, counts, &plan, &plan.then);
    if (rc != CLI_EXIT_OK) goto done;
    if (a.then) {
        imbal_sampler_config_default(&plan.sched, IMBAL_SAMPLER_SCHEDULE);
        plan.sched.seed = a.seed;
        plan.sched.switch_epoch = (uint32_t)a.switch_epoch;
        plan.sched.before = &plan.main;
        plan.sched.after = &plan.then;
        cfg = &plan.sched;
    }
    if (imbal_sampler_create(ctx, cfg, imbal_dataset_labels(src.ds), imbal_dataset_size(src.ds), k,
                             &s) != IMBAL_OK) {
        rc = cli_fail(cmd, ctx);
        goto done;
    }
    json_writer w;
    if (a.common.json) {
        json_begin(&w, stdout);
        json_object_begin(&w);
        json_kv_string(&w, "sampler", a.sampler);
        if (a.then) {
            json_kv_string(&w, "then", a.then);
            json_kv_int(&w, "switch_epoch", a.switch_epoch);
        }
        json_kv_int(&w, "seed", (int64_t)a.seed);
        json_kv_string(&w, "split", src.split);
        json_key(&w, "classes");
        json_array_begin(&w);
        for (int c = 0; c < k; ++c)
            json_string(&w, imbal_dataset_class_name(src.ds, c));
        json_array_end(&w);
        json_kv_int_array(&w, "counts", counts, k);
        json_kv_int(&w, "samples", imbal_dataset_size(src.ds));
        json_key(&w, "epochs");
        json_array_begin(&w);
    } else {
        printf("sampler: %s%s%s, seed %llu, %lld samples in %d classes (split: %s)\n", a.sampler,
               a.then ? " then " : "", a.then ? a.then : "", (unsigned long long)a.seed,
               (long long)imbal_dataset_size(src.ds), k, src.split);
    }
    rc = run_epochs(cmd, ctx, s, &a, src.ds, a.common.json ? &w : NULL);
    if (a.common.json && rc == CLI_EXIT_OK) {
        json_array_end(&w);
        json_object_end(&w);
        json_end(&w);
    }
done:
    imbal_sampler_destroy(s);
    free(plan.class_weights);
    free(plan.repeat);
    cli_session_close(&ss);
    return rc;
}

int cli_parse_only_sample(int argc, char **argv) {
    const char *path = NULL;
    sample_args a;
    int rc = parse_args(argc, argv, &a, &path);
    return rc < 0 ? CLI_EXIT_OK : rc;
}
