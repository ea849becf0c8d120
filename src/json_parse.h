/* imbal (library-internal): a small strict JSON parser (RFC 8259) into a tree: objects (keys kept
 * in document order, duplicates rejected), arrays, strings (escapes and \u surrogate pairs decoded
 * to UTF-8; raw bytes must be valid UTF-8; control characters rejected), integers (int64),
 * other numbers (double), true/false/null. Nesting is limited to JSON_MAX_DEPTH. Errors give the
 * byte offset, so callers can name their file. */
#ifndef IMBAL_JSON_PARSE_H
#define IMBAL_JSON_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 64

typedef enum json_type {
    JSON_NULL = 0,
    JSON_BOOL,
    JSON_INT,    /* an integer literal that fits int64 */
    JSON_NUMBER, /* any other number (fraction, exponent, or beyond int64) */
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_type;

typedef struct json_value {
    json_type type;
    int boolean;
    int64_t integer;
    double number; /* also set for JSON_INT */
    char *string;  /* JSON_STRING: NUL-terminated UTF-8 (may hold "\u0000": see string_len) */
    size_t string_len;
    size_t count;             /* JSON_ARRAY / JSON_OBJECT: number of items */
    struct json_value *items; /* the elements, or the object's values */
    char **keys;              /* JSON_OBJECT: keys[i] names items[i] */
    size_t *key_lens;         /* byte lengths of the keys (a key may contain "\u0000") */
} json_value;

typedef enum json_result { JSON_OK = 0, JSON_SYNTAX = 1, JSON_NOMEM = 2 } json_result;

/* Parses text[0..len) as one JSON value with optional surrounding whitespace. On JSON_SYNTAX,
 * err gets "byte N: what was wrong"; *out is left zeroed on any failure. */
json_result json_parse(const char *text, size_t len, json_value *out, char *err, size_t err_len);

/* Frees everything below v (not v itself) and zeroes it. */
void json_value_free(json_value *v);

/* The value of `key` in an object, or NULL (also when obj is not an object). */
const json_value *json_object_find(const json_value *obj, const char *key);

/* A short name of a type ("object", "string", ...), for messages. */
const char *json_type_name(json_type type);

#endif
