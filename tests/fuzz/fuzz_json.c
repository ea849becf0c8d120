/* imbal fuzz target: the JSON reader (src/json_parse.c; metrics.jsonl on --resume, run
 * directories in `imbal compare`, safetensors headers). A parsed tree is walked completely. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "json_parse.h"

static size_t walk(const json_value *v, int depth) {
    if (depth > JSON_MAX_DEPTH + 1) abort(); /* the parser's own limit */
    size_t sum = (size_t)v->type;
    if (v->type == JSON_STRING) {
        if (v->string[v->string_len] != '\0') abort();
        sum += v->string_len;
    }
    for (size_t i = 0; (v->type == JSON_ARRAY || v->type == JSON_OBJECT) && i < v->count; ++i) {
        if (v->type == JSON_OBJECT) {
            sum += v->key_lens[i] + (size_t)v->keys[i][0];
            /* Keys are unique, so the first key finds its own item (unless it holds a NUL). */
            if (strlen(v->keys[i]) == v->key_lens[i] &&
                json_object_find(v, v->keys[i]) != &v->items[i])
                abort();
        }
        sum += walk(&v->items[i], depth + 1);
    }
    return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_value v;
    char err[128];
    /* Not NUL-terminated on purpose: the parser must keep to len. A malloc'd copy of exactly
     * `size` bytes lets ASan catch a read one past the end. */
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    json_result r = json_parse(text, size, &v, err, sizeof err);
    if (r == JSON_OK) {
        volatile size_t sink = walk(&v, 0);
        (void)sink;
        (void)json_type_name(v.type);
        json_value_free(&v);
    } else if (r == JSON_SYNTAX && strncmp(err, "byte ", 5) != 0) {
        abort(); /* the documented message form */
    }
    free(text);
    return 0;
}
