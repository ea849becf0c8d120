/* imbal fuzz target: command-line option parsing (src/cli/cli_common.c and each command's
 * parse_args, through src/cli/cli_parse_only.h). The input is argv split at NUL bytes; the first
 * word names the command (every command but `version`). Nothing is opened or written; the commands'
 * messages go to /dev/null for the call (stdio only: sanitizer reports write to file descriptor 2
 * and stay visible). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "cli_parse_only.h"
#include "fuzz_util.h"

#define FUZZ_CLI_MAX_WORDS 64

typedef int (*parse_fn)(int argc, char **argv);

static parse_fn find_command(const char *name) {
    static const struct {
        const char *name;
        parse_fn fn;
    } commands[] = {{"augment", cli_parse_only_augment}, {"chip", cli_parse_only_chip},
                    {"compare", cli_parse_only_compare}, {"eval", cli_parse_only_eval},
                    {"loss", cli_parse_only_loss},       {"sample", cli_parse_only_sample},
                    {"split", cli_parse_only_split},     {"stats", cli_parse_only_stats},
                    {"synth", cli_parse_only_synth},     {"train", cli_parse_only_train},
                    {"weights", cli_parse_only_weights}};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; ++i)
        if (strcmp(name, commands[i].name) == 0) return commands[i].fn;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *devnull;
    if (!devnull && !(devnull = fopen("/dev/null", "w"))) return 0;
    if (size > 4096) return 0;
    char *text = fuzz_strndup(data, size);
    if (!text) return 0;
    char *argv[FUZZ_CLI_MAX_WORDS + 1];
    int argc = 0;
    for (size_t at = 0; at <= size && argc < FUZZ_CLI_MAX_WORDS;) {
        argv[argc++] = text + at;
        at += strlen(text + at) + 1;
    }
    argv[argc] = NULL;
    parse_fn fn = find_command(argv[0]);
    if (fn) {
        FILE *out = stdout, *err = stderr;
        stdout = devnull;
        stderr = devnull;
        optind = 0; /* glibc: a full re-initialisation of getopt's state, as for a new process */
        opterr = 0;
        int rc = fn(argc, argv);
        stdout = out;
        stderr = err;
        if (rc != CLI_EXIT_OK && rc != CLI_EXIT_USAGE && rc != CLI_EXIT_FAIL) abort();
    }
    free(text);
    return 0;
}
