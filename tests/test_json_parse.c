/* The library's strict JSON parser (src/json_parse.h): values of every type, escapes and
 * surrogate pairs, integers vs other numbers, document order of keys, and each syntax error with
 * the byte offset it reports. */
#include <criterion/criterion.h>
#include <string.h>

#include "json_parse.h"

static json_value parse_ok(const char *text) {
    json_value v;
    char err[128];
    cr_assert_eq(json_parse(text, strlen(text), &v, err, sizeof err), JSON_OK, "%s: %s", text, err);
    return v;
}

Test(json_parse, values) {
    json_value v = parse_ok(" {\"b\": [1, -2, 3.5, 1e3, true, false, null, \"s\"], \"a\": {}} ");
    cr_assert_eq(v.type, JSON_OBJECT);
    cr_assert_eq(v.count, 2);
    cr_assert_str_eq(v.keys[0], "b"); /* document order */
    cr_assert_str_eq(v.keys[1], "a");
    const json_value *b = json_object_find(&v, "b");
    cr_assert(b && b->type == JSON_ARRAY && b->count == 8);
    cr_assert_eq(b->items[0].type, JSON_INT);
    cr_assert_eq(b->items[0].integer, 1);
    cr_assert_eq(b->items[1].integer, -2);
    cr_assert_eq(b->items[2].type, JSON_NUMBER);
    cr_assert_float_eq(b->items[2].number, 3.5, 0);
    cr_assert_eq(b->items[3].type, JSON_NUMBER);
    cr_assert_float_eq(b->items[3].number, 1000.0, 0);
    cr_assert_eq(b->items[4].boolean, 1);
    cr_assert_eq(b->items[5].type, JSON_BOOL);
    cr_assert_eq(b->items[6].type, JSON_NULL);
    cr_assert_str_eq(b->items[7].string, "s");
    cr_assert_eq(json_object_find(&v, "a")->type, JSON_OBJECT);
    cr_assert_null(json_object_find(&v, "c"));
    cr_assert_null(json_object_find(b, "b"));
    json_value_free(&v);
    cr_assert_eq(v.count, 0);

    v = parse_ok("9223372036854775807");
    cr_assert_eq(v.type, JSON_INT);
    cr_assert_eq(v.integer, INT64_MAX);
    v = parse_ok("9223372036854775808"); /* beyond int64: a double */
    cr_assert_eq(v.type, JSON_NUMBER);
    v = parse_ok("-0");
    cr_assert_eq(v.type, JSON_INT);
    cr_assert_str_eq(json_type_name(JSON_OBJECT), "object");
}

Test(json_parse, strings) {
    json_value v =
        parse_ok("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00 \xc3\xa9\"");
    cr_assert_str_eq(v.string, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 \xc3\xa9");
    json_value_free(&v);
    v = parse_ok("\"x\\u0000y\"");
    cr_assert_eq(v.string_len, 3);
    cr_assert_eq(memcmp(v.string, "x\0y", 3), 0);
    json_value_free(&v);
}

Test(json_parse, errors_give_the_byte) {
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"", "byte 0: unexpected end"},
        {"{\"a\":1,}", "byte 7: expected a string key"},
        {"[1 2]", "byte 3: expected ',' or ']'"},
        {"{\"a\" 1}", "expected ':'"},
        {"{\"a\":1,\"a\":2}", "byte 7: duplicate key"},
        {"01", "leading zero"},
        {"1.", "digit after '.'"},
        {"1e", "exponent"},
        {"-", "expected a digit"},
        {"\"abc", "unterminated string"},
        {"\"a\nb\"", "control character 0x0a"},
        {"\"\\x\"", "unknown escape '\\x'"},
        {"\"\\u12g4\"", "bad hex digit"},
        {"\"\\ud83d\"", "high surrogate"},
        {"\"\\ude00\"", "lone low surrogate"},
        {"\"\xff\"", "invalid UTF-8"},
        {"\"\xc0\xaf\"", "invalid UTF-8"},     /* overlong '/' */
        {"\"\xed\xa0\x80\"", "invalid UTF-8"}, /* encoded surrogate */
        {"tru", "unexpected character"},
        {"{} {}", "byte 3: trailing characters"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]"
         "]]]"
         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
         "nesting deeper than 64"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        json_value v;
        char err[128];
        cr_assert_eq(json_parse(cases[i].text, strlen(cases[i].text), &v, err, sizeof err),
                     JSON_SYNTAX, "case %zu parsed", i);
        cr_assert(strstr(err, cases[i].needle), "case %zu: '%s' lacks '%s'", i, err,
                  cases[i].needle);
        cr_assert_eq(v.type, JSON_NULL);
        cr_assert_eq(v.count, 0);
    }
}
