/* imbal fuzz targets without libFuzzer: replays every file of the directories given (the
 * committed corpus and the crash regressions of one target) through LLVMFuzzerTestOneInput, so
 * the ordinary test builds (and the ASan one) rerun every input that ever crashed a parser.
 *   replay_fuzz_<name> DIR...    (a missing directory is skipped; no file at all is a failure) */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

static int replay_file(const char *path) {
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0) break;
    }
    int bad = ferror(fp) || !buf;
    fclose(fp);
    if (bad) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return 1;
    }
    /* An exact-size copy so ASan catches a read one byte past the input. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return 1;
    }
    if (len) memcpy(exact, buf, len);
    free(buf);
    fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

int main(int argc, char **argv) {
    int files = 0, failures = 0;
    for (int a = 1; a < argc; ++a) {
        DIR *dir = opendir(argv[a]);
        if (!dir) continue;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.') continue;
            size_t n = strlen(argv[a]) + strlen(e->d_name) + 2;
            char *path = malloc(n);
            if (!path) {
                closedir(dir);
                return 1;
            }
            snprintf(path, n, "%s/%s", argv[a], e->d_name);
            failures += replay_file(path);
            ++files;
            free(path);
        }
        closedir(dir);
    }
    printf("replayed %d files, %d unreadable\n", files, failures);
    return files == 0 || failures ? 1 : 0;
}
