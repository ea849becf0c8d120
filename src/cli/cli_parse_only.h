/* imbal command: each command's option parsing alone, for the fuzz target tests/fuzz/fuzz_cli.c.
 * A cli_parse_only_CMD(argc, argv) call does what `imbal CMD ...` does up to the point where the
 * work would start (no dataset, image or array is opened, nothing is written) and returns what the
 * command would return if parsing failed: CLI_EXIT_USAGE, CLI_EXIT_OK after --help, or
 * CLI_EXIT_OK when the options are valid. Messages go to stderr / stdout like the command's.
 * Call cli_getopt_reset() (or set optind = 0) first, as main() does. */
#ifndef IMBAL_CLI_PARSE_ONLY_H
#define IMBAL_CLI_PARSE_ONLY_H

int cli_parse_only_augment(int argc, char **argv);
int cli_parse_only_chip(int argc, char **argv);
int cli_parse_only_compare(int argc, char **argv);
int cli_parse_only_eval(int argc, char **argv);
int cli_parse_only_loss(int argc, char **argv);
int cli_parse_only_sample(int argc, char **argv);
int cli_parse_only_split(int argc, char **argv);
int cli_parse_only_stats(int argc, char **argv);
int cli_parse_only_synth(int argc, char **argv);
int cli_parse_only_train(int argc, char **argv);
int cli_parse_only_weights(int argc, char **argv);

#endif
