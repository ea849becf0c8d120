/* imbal: the command-line tool, a thin layer over libimbal. Each subcommand lives in cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli_common.h"

static const char usage[] =
    "Usage: imbal COMMAND [OPTIONS]\n"
    "\n"
    "Train image classifiers on class-imbalanced data: index, weigh, resample, train\nand "
    "evaluate.\n"
    "\n"
    "Commands:\n"
    "  synth     draw a long-tailed synthetic image set (ImageFolder of JPEGs)\n"
    "  stats     class counts and imbalance of a dataset\n"
    "  weights   class weights by a named scheme (inverse, balanced, ens, ...)\n"
    "  split     stratified train/val/test split, written as a CSV manifest\n"
    "  sample    run a sampler for some epochs and report what it drew per class\n"
    "  loss      a fused loss and its gradient on your own .npy arrays (ce, focal, ...)\n"
    "  augment   one augmentation op with explicit parameters on one image (PNG out)\n"
    "  chip      cut large images into size x size tiles (ImageFolder + manifest out)\n"
    "  train     train a residual CNN with any rebalancing strategy (CPU or CUDA)\n"
    "  eval      evaluate a trained run: per-class metrics, confusion matrix, pictures\n"
    "  compare   per-class change of precision/recall/F-beta between two runs\n"
    "  version   print the version and whether CUDA is built in\n"
    "\n"
    "A dataset is an ImageFolder directory (one sub-directory per class) or a CSV manifest\n"
    "(path,label[,split]). Run 'imbal COMMAND --help' for a command's options.\n";

static int cmd_version(int argc, char **argv) {
    (void)argc, (void)argv;
    printf("imbal %s (CUDA %s, %d device%s)\n", imbal_version_string(),
           imbal_built_with_cuda() ? "built in" : "not built in", imbal_cuda_device_count(),
           imbal_cuda_device_count() == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

int main(int argc, char **argv) {
    static const struct {
        const char *name;
        cli_command_fn fn;
    } commands[] = {{"synth", cmd_synth},      {"stats", cmd_stats},     {"weights", cmd_weights},
                    {"split", cmd_split},      {"sample", cmd_sample},   {"loss", cmd_loss},
                    {"augment", cmd_augment},  {"chip", cmd_chip},       {"train", cmd_train},
                    {"eval", cmd_eval},        {"compare", cmd_compare}, {"version", cmd_version},
                    {"--version", cmd_version}};
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2 && strcmp(argv[1], "help") == 0) {
            char *sub_argv[] = {argv[2], "--help", NULL};
            for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    cli_getopt_reset();
                    return commands[i].fn(2, sub_argv);
                }
        }
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            cli_getopt_reset();
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "imbal: unknown command '%s'\n\n%s", argv[1], usage);
    return CLI_EXIT_USAGE;
}
