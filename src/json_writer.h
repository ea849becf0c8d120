/* imbal (library-internal; the command uses it too): a small streaming JSON writer (objects,
 * arrays, strings, numbers). Non-finite numbers are written as null, since JSON has no infinity. */
#ifndef IMBAL_JSON_WRITER_H
#define IMBAL_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

typedef struct json_writer {
    FILE *fp;
    int depth;
    int need_comma[32]; /* per nesting level: an element was already written */
    int after_key;      /* the next value follows a key */
} json_writer;

void json_begin(json_writer *w, FILE *fp);
void json_object_begin(json_writer *w);
void json_object_end(json_writer *w);
void json_array_begin(json_writer *w);
void json_array_end(json_writer *w);
void json_key(json_writer *w, const char *key);
void json_string(json_writer *w, const char *s);
void json_int(json_writer *w, int64_t v);
void json_double(json_writer *w, double v);
void json_bool(json_writer *w, int v);
void json_null(json_writer *w);
/* Ends the document with a newline. */
void json_end(json_writer *w);

/* Convenience: "key": value pairs and arrays. */
void json_kv_string(json_writer *w, const char *key, const char *s);
void json_kv_int(json_writer *w, const char *key, int64_t v);
void json_kv_double(json_writer *w, const char *key, double v);
void json_kv_int_array(json_writer *w, const char *key, const int64_t *v, int64_t n);
void json_kv_double_array(json_writer *w, const char *key, const double *v, int64_t n);

#endif
