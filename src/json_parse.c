/* imbal: the strict JSON parser of src/json_parse.h (RFC 8259). Recursive descent with a depth
 * limit; every allocation is checked. */
#include "json_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    char *err;
    size_t err_len;
    json_result result;
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...) {
    if (p->result == JSON_OK) {
        p->result = JSON_SYNTAX;
        if (p->err && p->err_len) {
            int used = snprintf(p->err, p->err_len, "byte %zu: ", p->pos);
            if (used >= 0 && (size_t)used < p->err_len) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(p->err + used, p->err_len - (size_t)used, fmt, ap);
                va_end(ap);
            }
        }
    }
    return -1;
}

static int nomem(parser *p) {
    if (p->result == JSON_OK) {
        p->result = JSON_NOMEM;
        if (p->err && p->err_len) snprintf(p->err, p->err_len, "out of memory");
    }
    return -1;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        ++p->pos;
}

/* A growable byte buffer for decoded strings. */
typedef struct sbuf {
    char *data;
    size_t len, cap;
} sbuf;

static int sbuf_put(parser *p, sbuf *b, const void *bytes, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return nomem(p);
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static size_t utf8_encode(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, <= U+10FFFF),
 * or 0. */
static size_t utf8_valid_seq(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0)
        n = 2, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        n = 3, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        n = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n > avail) return 0;
    for (size_t i = 1; i < n; ++i) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

static int hex4(parser *p, uint32_t *out) {
    if (p->len - p->pos < 4) return fail(p, "truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
        unsigned c = p->s[p->pos + (size_t)i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return fail(p, "bad hex digit in \\u escape");
    }
    p->pos += 4;
    *out = v;
    return 0;
}

static int parse_escape(parser *p, sbuf *b) {
    unsigned char c = p->s[p->pos++];
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) return sbuf_put(p, b, &to[hit - from], 1);
    if (c != 'u') {
        --p->pos;
        return fail(p, "unknown escape '\\%c'", c >= 0x20 && c < 0x7F ? c : '?');
    }
    uint32_t cp;
    if (hex4(p, &cp)) return -1;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(p, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return fail(p, "high surrogate without its low half");
        p->pos += 2;
        if (hex4(p, &lo)) return -1;
        if (lo < 0xDC00 || lo > 0xDFFF) return fail(p, "high surrogate without its low half");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    unsigned char enc[4];
    return sbuf_put(p, b, enc, utf8_encode(cp, enc));
}

/* At the opening quote. */
static int parse_string(parser *p, char **out, size_t *out_len) {
    sbuf b = {0};
    ++p->pos;
    if (sbuf_put(p, &b, "", 0)) return -1;
    for (;;) {
        if (p->pos >= p->len) {
            free(b.data);
            return fail(p, "unterminated string");
        }
        unsigned char c = p->s[p->pos];
        int rc = 0;
        if (c == '"') {
            ++p->pos;
            break;
        }
        if (c < 0x20) {
            free(b.data);
            return fail(p, "control character 0x%02x in a string", c);
        }
        if (c == '\\') {
            ++p->pos;
            if (p->pos >= p->len) {
                free(b.data);
                return fail(p, "unterminated string");
            }
            rc = parse_escape(p, &b);
        } else {
            size_t n = utf8_valid_seq(p->s + p->pos, p->len - p->pos);
            if (!n) {
                free(b.data);
                return fail(p, "invalid UTF-8 in a string");
            }
            rc = sbuf_put(p, &b, p->s + p->pos, n);
            p->pos += n;
        }
        if (rc) {
            free(b.data);
            return -1;
        }
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

static int parse_number(parser *p, json_value *v) {
    size_t start = p->pos;
    int is_int = 1;
    if (p->s[p->pos] == '-') ++p->pos;
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return fail(p, "expected a digit");
    if (p->s[p->pos] == '0') {
        ++p->pos;
        if (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            return fail(p, "leading zero in a number");
    } else {
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            ++p->pos;
    }
    if (p->pos < p->len && p->s[p->pos] == '.') {
        is_int = 0;
        ++p->pos;
        if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return fail(p, "expected a digit after '.'");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            ++p->pos;
    }
    if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
        is_int = 0;
        ++p->pos;
        if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-')) ++p->pos;
        if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return fail(p, "expected a digit in the exponent");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            ++p->pos;
    }
    char text[64];
    size_t n = p->pos - start;
    if (n >= sizeof text) {
        is_int = 0;
        n = sizeof text - 1; /* a double is exact enough from 63 characters */
    }
    memcpy(text, p->s + start, n);
    text[n] = '\0';
    if (is_int) {
        errno = 0;
        long long x = strtoll(text, NULL, 10);
        if (errno == 0) {
            v->type = JSON_INT;
            v->integer = (int64_t)x;
            v->number = (double)x;
            return 0;
        }
    }
    v->type = JSON_NUMBER;
    v->number = strtod(text, NULL);
    return 0;
}

static int parse_value(parser *p, json_value *v, int depth);

static int grow(parser *p, json_value *v, size_t *cap, int object) {
    if (v->count < *cap) return 0;
    size_t cap2 = *cap ? *cap * 2 : 4;
    json_value *items = realloc(v->items, cap2 * sizeof *items);
    if (!items) return nomem(p);
    v->items = items;
    if (object) {
        char **keys = realloc(v->keys, cap2 * sizeof *keys);
        if (!keys) return nomem(p);
        v->keys = keys;
        size_t *lens = realloc(v->key_lens, cap2 * sizeof *lens);
        if (!lens) return nomem(p);
        v->key_lens = lens;
    }
    *cap = cap2;
    return 0;
}

static int parse_array(parser *p, json_value *v, int depth) {
    size_t cap = 0;
    v->type = JSON_ARRAY;
    ++p->pos;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ']') {
        ++p->pos;
        return 0;
    }
    for (;;) {
        if (grow(p, v, &cap, 0)) return -1;
        memset(&v->items[v->count], 0, sizeof v->items[0]);
        ++v->count;
        if (parse_value(p, &v->items[v->count - 1], depth + 1)) return -1;
        skip_ws(p);
        if (p->pos >= p->len) return fail(p, "unterminated array");
        if (p->s[p->pos] == ']') {
            ++p->pos;
            return 0;
        }
        if (p->s[p->pos] != ',') return fail(p, "expected ',' or ']' in an array");
        ++p->pos;
    }
}

static int parse_object(parser *p, json_value *v, int depth) {
    size_t cap = 0;
    v->type = JSON_OBJECT;
    ++p->pos;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == '}') {
        ++p->pos;
        return 0;
    }
    for (;;) {
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != '"') return fail(p, "expected a string key");
        size_t key_pos = p->pos;
        if (grow(p, v, &cap, 1)) return -1;
        char *key;
        size_t key_len;
        if (parse_string(p, &key, &key_len)) return -1;
        for (size_t i = 0; i < v->count; ++i)
            if (v->key_lens[i] == key_len && memcmp(v->keys[i], key, key_len) == 0) {
                free(key);
                p->pos = key_pos;
                return fail(p, "duplicate key");
            }
        v->keys[v->count] = key;
        v->key_lens[v->count] = key_len;
        memset(&v->items[v->count], 0, sizeof v->items[0]);
        ++v->count;
        skip_ws(p);
        if (p->pos >= p->len || p->s[p->pos] != ':') return fail(p, "expected ':' after a key");
        ++p->pos;
        if (parse_value(p, &v->items[v->count - 1], depth + 1)) return -1;
        skip_ws(p);
        if (p->pos >= p->len) return fail(p, "unterminated object");
        if (p->s[p->pos] == '}') {
            ++p->pos;
            return 0;
        }
        if (p->s[p->pos] != ',') return fail(p, "expected ',' or '}' in an object");
        ++p->pos;
    }
}

static int literal(parser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "unexpected character");
    p->pos += n;
    return 0;
}

static int parse_value(parser *p, json_value *v, int depth) {
    if (depth > JSON_MAX_DEPTH) return fail(p, "nesting deeper than %d", JSON_MAX_DEPTH);
    skip_ws(p);
    if (p->pos >= p->len) return fail(p, "unexpected end of input");
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{':
        return parse_object(p, v, depth);
    case '[':
        return parse_array(p, v, depth);
    case '"':
        v->type = JSON_STRING;
        return parse_string(p, &v->string, &v->string_len);
    case 't':
        v->type = JSON_BOOL;
        v->boolean = 1;
        return literal(p, "true");
    case 'f':
        v->type = JSON_BOOL;
        return literal(p, "false");
    case 'n':
        v->type = JSON_NULL;
        return literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
        return fail(p, "unexpected character");
    }
}

json_result json_parse(const char *text, size_t len, json_value *out, char *err, size_t err_len) {
    parser p = {(const unsigned char *)text, len, 0, err, err_len, JSON_OK};
    if (err && err_len) err[0] = '\0';
    memset(out, 0, sizeof *out);
    if (!text) {
        fail(&p, "no input");
        return p.result;
    }
    if (parse_value(&p, out, 0) == 0) {
        skip_ws(&p);
        if (p.pos != p.len) fail(&p, "trailing characters after the JSON value");
    }
    if (p.result != JSON_OK) json_value_free(out);
    return p.result;
}

void json_value_free(json_value *v) {
    if (!v) return;
    for (size_t i = 0; i < v->count; ++i) {
        if (v->items) json_value_free(&v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lens);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const json_value *json_object_find(const json_value *obj, const char *key) {
    if (!obj || obj->type != JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->count; ++i)
        if (obj->key_lens[i] == n && memcmp(obj->keys[i], key, n) == 0) return &obj->items[i];
    return NULL;
}

const char *json_type_name(json_type type) {
    static const char *const names[] = {"null",   "boolean", "integer", "number",
                                        "string", "array",   "object"};
    return (unsigned)type < 7u ? names[type] : "?";
}
