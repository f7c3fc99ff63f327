/*
 * Proto3 JSON <-> protobuf-c messages, driven only by the runtime descriptors
 * protoc-c emits (field names, numbers, labels, types, offsets, flags), so it
 * needs no generated code of its own.
 *
 * Memory layout facts we rely on, all from protobuf-c 1.4:
 *  - a repeated field is a count (size_t at quantifier_offset) and a malloc'd
 *    array at offset; elements are 4 bytes for 32-bit numbers, enums and bools;
 *  - a oneof member has PROTOBUF_C_FIELD_FLAG_ONEOF and its case (a uint32 field
 *    number) at quantifier_offset;
 *  - a proto2 optional number, enum or bytes field has a has_ flag
 *    (protobuf_c_boolean) at quantifier_offset; optional strings and messages
 *    are present when their pointer is neither NULL nor the default;
 *  - proto3 plain fields (LABEL_NONE) are present when not zero.
 * Decoded messages are built so that protobuf_c_message_free_unpacked can free
 * them at every step: each value is attached only once complete, and arrays are
 * zero-filled before they are attached.
 *
 * Deviations from the proto3 JSON mapping, each deliberate:
 *  - google.protobuf.Any is {"@type": type_url, "value": "<base64 of the
 *    packed bytes>"}: we keep no type registry to expand the packed message.
 *    An Any object with other members is a decode error, not silent data loss.
 *  - json_name options are not honoured (protobuf-c does not keep them); names
 *    are always the lowerCamelCase protoc derives.
 *  - Maps are recognised by shape, because protobuf-c drops the map_entry
 *    option: a repeated message field whose type is nested in the same message,
 *    is named "...Entry" and has exactly key = 1 and value = 2.
 *  - Struct, Value and ListValue get no special form: they encode as messages.
 *  - Lenient input: enum numbers may be quoted; unknown enum names decode as 0
 *    (so a future event type cannot break an import); RFC 3339 accepts
 *    lowercase 't'/'z'; base64 may mix the standard and URL-safe alphabets and
 *    omit padding; duplicate map keys are kept (the last wins when the message
 *    is used). A field given twice (e.g. as "eventId" and "event_id") or two
 *    members of one oneof are errors, as in Go's protojson.
 *  - Output never fails: invalid UTF-8 in strings becomes U+FFFD, and a
 *    Timestamp or Duration outside its JSON range (or with bad nanos) is
 *    written as a plain {"seconds", "nanos"} object.
 *  - A double that cJSON would print inexactly (it prints 15 digits and
 *    accepts them within an epsilon), and -0, become cJSON raw nodes holding
 *    the exact shortest text; the decoder accepts such raw nodes.
 *  - cJSON keeps numbers as doubles, so a 64-bit integer given as a JSON number
 *    beyond 2^53 loses precision. Writers of proto3 JSON quote them, and quoted
 *    integers are parsed exactly.
 *  - A JSON string "\u0000" ends a string early: cJSON and protobuf-c strings
 *    are NUL-terminated.
 */
#include "pbjson.h"

#include <float.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deepest message nesting decode follows; the same bound cJSON parses to. */
#define MAX_DEPTH CJSON_NESTING_LIMIT
/* Longest JSON path kept for error messages; longer ones are clipped. */
#define PATH_CAP 256
/* Bytes of a rejected input value quoted in an error message. */
#define QUOTE_MAX 48
/* Longest number text we parse: far beyond any honest double. */
#define NUMBER_TEXT_MAX 64

/* Half an ulp above FLT_MAX: doubles from here on round to float infinity. */
#define FLOAT_OVERFLOW_THRESHOLD 0x1.ffffffp127

#define NANOS_PER_SECOND 1000000000
#define SECONDS_PER_DAY 86400
/* google.protobuf.Timestamp spans 0001-01-01T00:00:00Z..9999-12-31T23:59:59Z. */
#define TIMESTAMP_MIN_SECONDS INT64_C(-62135596800)
#define TIMESTAMP_MAX_SECONDS INT64_C(253402300799)
/* google.protobuf.Duration spans about +-10000 years. */
#define DURATION_MAX_SECONDS INT64_C(315576000000)

enum status { ST_OK, ST_SYNTAX, ST_RANGE, ST_NOMEM };

/* ------------------------------------------------------------------ */
/* ASCII helpers (not <ctype.h>: the host process may change the locale) */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static char to_upper(char c) { return is_lower(c) ? (char)(c - 'a' + 'A') : c; }
static char to_lower(char c) { return is_upper(c) ? (char)(c - 'A' + 'a') : c; }

static char *copy_string(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy)
        memcpy(copy, s, n);
    return copy;
}

/* ------------------------------------------------------------------ */
/* Reaching fields inside a message by descriptor offsets               */

static const void *member_at(const ProtobufCMessage *msg, unsigned offset)
{
    return (const char *)msg + offset;
}

static void *member_mut(ProtobufCMessage *msg, unsigned offset)
{
    return (char *)msg + offset;
}

static size_t repeated_count(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    return *(const size_t *)member_at(msg, f->quantifier_offset);
}

static const void *repeated_items(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    return *(const void *const *)member_at(msg, f->offset);
}

/* Bytes one value of type takes in a protobuf-c repeated array. */
static size_t value_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof(int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(int64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int); /* protoc-c forces every enum to int size */
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static bool is_string_or_message(const ProtobufCFieldDescriptor *f)
{
    return f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE;
}

/* True when the singular value at slot is its type's zero (proto3 "unset"). */
static bool value_is_zero(ProtobufCType type, const void *slot)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)slot == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)slot == 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        float v = *(const float *)slot;
        return v == 0 && !signbit(v); /* -0.0 has a different encoding, so it is set */
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v = *(const double *)slot;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)slot == 0;
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int *)slot == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)slot;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)slot)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const void *const *)slot == NULL;
    }
    return true;
}

/* Whether f is present in msg, following protobuf-c's own packing rules. */
static bool field_is_set(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    const void *slot = member_at(msg, f->offset);
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return repeated_count(msg, f) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)member_at(msg, f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        if (is_string_or_message(f)) {
            const void *ptr = *(const void *const *)slot;
            return ptr != NULL && ptr != f->default_value;
        }
        return *(const protobuf_c_boolean *)member_at(msg, f->quantifier_offset) != 0;
    }
    return !value_is_zero(f->type, slot);
}

/* Records that f now holds a value: the oneof case or the proto2 has_ flag. */
static void mark_present(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        *(uint32_t *)member_mut(msg, f->quantifier_offset) = f->id;
    else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !is_string_or_message(f))
        *(protobuf_c_boolean *)member_mut(msg, f->quantifier_offset) = 1;
}

static ProtobufCMessage *new_message(const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = calloc(1, desc->sizeof_message);
    if (msg)
        protobuf_c_message_init(desc, msg);
    return msg;
}

/* ------------------------------------------------------------------ */
/* Well-known types and maps, recognised by name and shape              */

enum wkt { WKT_NONE, WKT_TIMESTAMP, WKT_DURATION, WKT_WRAPPER, WKT_ANY, WKT_FIELD_MASK };

static bool field_has_shape(const ProtobufCFieldDescriptor *f, uint32_t id, const char *name,
                            ProtobufCType type, bool repeated)
{
    return f->id == id && strcmp(f->name, name) == 0 && f->type == type &&
           (f->label == PROTOBUF_C_LABEL_REPEATED) == repeated;
}

static bool is_seconds_nanos(const ProtobufCMessageDescriptor *desc)
{
    return desc->n_fields == 2 &&
           field_has_shape(&desc->fields[0], 1, "seconds", PROTOBUF_C_TYPE_INT64, false) &&
           field_has_shape(&desc->fields[1], 2, "nanos", PROTOBUF_C_TYPE_INT32, false);
}

static bool is_wrapper_name(const char *short_name)
{
    static const char *const names[] = {
        "DoubleValue", "FloatValue", "Int64Value", "UInt64Value", "Int32Value",
        "UInt32Value", "BoolValue",  "StringValue", "BytesValue",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(short_name, names[i]) == 0)
            return true;
    return false;
}

/*
 * The special JSON form of desc, if it is a well-known type. The shape is
 * checked as well as the name so a look-alike message falls back to the
 * generic form instead of being misread.
 */
static enum wkt wkt_of(const ProtobufCMessageDescriptor *desc)
{
    static const char prefix[] = "google.protobuf.";
    if (strncmp(desc->name, prefix, sizeof(prefix) - 1) != 0)
        return WKT_NONE;
    const char *name = desc->name + sizeof(prefix) - 1;
    const ProtobufCFieldDescriptor *f = desc->fields;
    if (strcmp(name, "Timestamp") == 0 && is_seconds_nanos(desc))
        return WKT_TIMESTAMP;
    if (strcmp(name, "Duration") == 0 && is_seconds_nanos(desc))
        return WKT_DURATION;
    if (is_wrapper_name(name) && desc->n_fields == 1 && f[0].id == 1 &&
        strcmp(f[0].name, "value") == 0 && f[0].label != PROTOBUF_C_LABEL_REPEATED)
        return WKT_WRAPPER;
    if (strcmp(name, "Any") == 0 && desc->n_fields == 2 &&
        field_has_shape(&f[0], 1, "type_url", PROTOBUF_C_TYPE_STRING, false) &&
        field_has_shape(&f[1], 2, "value", PROTOBUF_C_TYPE_BYTES, false))
        return WKT_ANY;
    if (strcmp(name, "FieldMask") == 0 && desc->n_fields == 1 &&
        field_has_shape(&f[0], 1, "paths", PROTOBUF_C_TYPE_STRING, true))
        return WKT_FIELD_MASK;
    return WKT_NONE;
}

static bool is_map_key_type(ProtobufCType type)
{
    return type != PROTOBUF_C_TYPE_FLOAT && type != PROTOBUF_C_TYPE_DOUBLE &&
           type != PROTOBUF_C_TYPE_BYTES && type != PROTOBUF_C_TYPE_ENUM &&
           type != PROTOBUF_C_TYPE_MESSAGE;
}

/*
 * The entry type when f is a map field, else NULL. protobuf-c drops the
 * map_entry option, so we match the shape protoc gives map entries: a type
 * nested directly in the map's own message, named "...Entry", with exactly
 * key = 1 and value = 2.
 */
static const ProtobufCMessageDescriptor *map_entry_of(const ProtobufCMessageDescriptor *parent,
                                                      const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    const ProtobufCMessageDescriptor *entry = f->descriptor;
    size_t parent_len = strlen(parent->name), name_len = strlen(entry->name);
    if (name_len < parent_len + 1 + 5 || strncmp(entry->name, parent->name, parent_len) != 0 ||
        entry->name[parent_len] != '.' || strchr(entry->name + parent_len + 1, '.') != NULL ||
        strcmp(entry->name + name_len - 5, "Entry") != 0)
        return NULL;
    if (entry->n_fields != 2)
        return NULL;
    const ProtobufCFieldDescriptor *key = &entry->fields[0], *value = &entry->fields[1];
    if (key->id != 1 || value->id != 2 || strcmp(key->name, "key") != 0 ||
        strcmp(value->name, "value") != 0 || key->label == PROTOBUF_C_LABEL_REPEATED ||
        value->label == PROTOBUF_C_LABEL_REPEATED || !is_map_key_type(key->type))
        return NULL;
    return entry;
}

/* ------------------------------------------------------------------ */
/* Names                                                                */

/* Length of proto_name's JSON name (each '_' dropped), without the NUL. */
static size_t json_name_len(const char *proto_name)
{
    size_t n = 0;
    for (const char *p = proto_name; *p; p++)
        n += *p != '_';
    return n;
}

/* Writes the lowerCamelCase name protoc derives: drop '_', uppercase what follows. */
static void write_json_name(const char *proto_name, char *out)
{
    bool upper_next = false;
    for (const char *p = proto_name; *p; p++) {
        if (*p == '_') {
            upper_next = true;
            continue;
        }
        *out++ = upper_next ? to_upper(*p) : *p;
        upper_next = false;
    }
    *out = '\0';
}

/* True when key is the lowerCamelCase JSON name of proto_name. */
static bool is_json_name_of(const char *key, const char *proto_name)
{
    bool upper_next = false;
    for (const char *p = proto_name; *p; p++) {
        if (*p == '_') {
            upper_next = true;
            continue;
        }
        if (*key++ != (upper_next ? to_upper(*p) : *p))
            return false;
        upper_next = false;
    }
    return *key == '\0';
}

/* The field a JSON member names: its proto name, JSON name, or Any's "@type". */
static const ProtobufCFieldDescriptor *field_for_key(const ProtobufCMessageDescriptor *desc,
                                                     const char *key, bool is_any)
{
    if (is_any && strcmp(key, "@type") == 0)
        return &desc->fields[0];
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, key);
    if (f)
        return f;
    for (unsigned i = 0; i < desc->n_fields; i++)
        if (is_json_name_of(key, desc->fields[i].name))
            return &desc->fields[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* UTF-8                                                                */

/*
 * Length of the well-formed UTF-8 sequence at s (len bytes available), or 0
 * when there is none: overlong forms, surrogates and code points above
 * U+10FFFF are rejected, as JSON parsers on the other side would.
 */
static size_t utf8_sequence_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) {
        n = 2, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, cp = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    while (len > 0) {
        size_t n = utf8_sequence_len(p, len);
        if (n == 0)
            return false;
        p += n, len -= n;
    }
    return true;
}

/* A copy of s with each byte that is not valid UTF-8 replaced by U+FFFD. */
static char *utf8_sanitized(const char *s)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1); /* worst case: every byte replaced */
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (len > 0) {
        size_t n = utf8_sequence_len(p, len);
        if (n == 0) {
            memcpy(out + o, replacement, 3);
            o += 3, p++, len--;
        } else {
            memcpy(out + o, p, n);
            o += n, p += n, len -= n;
        }
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------------ */
/* Base64                                                               */

static const char base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding, NUL-terminated; NULL when out of memory. */
static char *base64_encode(const uint8_t *data, size_t len)
{
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = base64_alphabet[v >> 18];
        out[o++] = base64_alphabet[(v >> 12) & 63];
        out[o++] = base64_alphabet[(v >> 6) & 63];
        out[o++] = base64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        out[o++] = base64_alphabet[v >> 18];
        out[o++] = base64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? base64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

/* Value of one base64 digit in either the standard or the URL-safe alphabet. */
static int base64_digit(char c)
{
    if (is_upper(c))
        return c - 'A';
    if (is_lower(c))
        return c - 'a' + 26;
    if (is_digit(c))
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes standard or URL-safe base64, padded or not, into a malloc'd buffer. */
static enum status base64_decode(const char *s, ProtobufCBinaryData *out)
{
    size_t n = strlen(s), pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2)
        n--, pad++;
    if ((pad > 0 && (n + pad) % 4 != 0) || n % 4 == 1)
        return ST_SYNTAX;
    size_t out_len = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
    uint8_t *buf = NULL;
    if (out_len > 0 && (buf = malloc(out_len)) == NULL)
        return ST_NOMEM;
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int digit = base64_digit(s[i]);
        if (digit < 0) {
            free(buf);
            return ST_SYNTAX;
        }
        acc = (acc << 6) | (uint32_t)digit;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    out->data = buf;
    out->len = out_len;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* Numbers as text                                                      */

/* Parses an optional '-' and decimal digits, nothing else, as sign and magnitude. */
static enum status parse_decimal(const char *s, bool *negative, uint64_t *magnitude)
{
    bool overflow = false;
    uint64_t v = 0;
    *negative = *s == '-';
    if (*negative)
        s++;
    if (!is_digit(*s))
        return ST_SYNTAX;
    for (; *s; s++) {
        if (!is_digit(*s))
            return ST_SYNTAX;
        unsigned digit = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - digit) / 10)
            overflow = true;
        else
            v = v * 10 + digit;
    }
    *magnitude = v;
    return overflow ? ST_RANGE : ST_OK;
}

/* True when s is exactly a JSON number: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
static bool is_json_number_text(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (is_digit(*s))
        while (is_digit(*s))
            s++;
    else
        return false;
    if (*s == '.') {
        if (!is_digit(*++s))
            return false;
        while (is_digit(*s))
            s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
    }
    return *s == '\0';
}

/* The decimal point printf and strtod use, which the host process may have changed. */
static char locale_decimal_point(void)
{
    const struct lconv *lc = localeconv();
    return lc && lc->decimal_point && lc->decimal_point[0] ? lc->decimal_point[0] : '.';
}

/*
 * Parses JSON number text. strtod reads the locale's decimal point, which the
 * host process may have changed, so '.' is swapped for it first (as cJSON does).
 */
static enum status parse_number_text(const char *s, double *out)
{
    size_t len = strlen(s);
    if (!is_json_number_text(s) || len >= NUMBER_TEXT_MAX)
        return ST_SYNTAX;
    char buf[NUMBER_TEXT_MAX];
    memcpy(buf, s, len + 1);
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = locale_decimal_point();
    char *end;
    *out = strtod(buf, &end);
    if (end != buf + len)
        return ST_SYNTAX;
    return isfinite(*out) ? ST_OK : ST_RANGE;
}

/* An integral double within [lo, hi] as int64. */
static enum status int_from_double(double v, int64_t lo, int64_t hi, int64_t *out)
{
    if (!isfinite(v) || v != floor(v))
        return ST_SYNTAX;
    /* (double)hi + 1 is exact for 32-bit bounds and rounds to 2^63 for int64. */
    if (v < (double)lo || v >= (double)hi + 1.0)
        return ST_RANGE;
    *out = (int64_t)v;
    return ST_OK;
}

static enum status uint_from_double(double v, uint64_t hi, uint64_t *out)
{
    if (!isfinite(v) || v != floor(v))
        return ST_SYNTAX;
    if (v < 0 || v >= (double)hi + 1.0)
        return ST_RANGE;
    *out = (uint64_t)v;
    return ST_OK;
}

/* Integer text: exact decimal digits, or any JSON number that is integral. */
static enum status int_from_text(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    bool negative;
    uint64_t mag;
    enum status st = parse_decimal(s, &negative, &mag);
    if (st == ST_SYNTAX) {
        double v;
        st = parse_number_text(s, &v);
        return st == ST_OK ? int_from_double(v, lo, hi, out) : st;
    }
    if (st != ST_OK)
        return st;
    if (negative) {
        /* -(lo + 1) + 1 is |lo| without overflowing INT64_MIN. */
        if (mag > (uint64_t)(-(lo + 1)) + 1)
            return ST_RANGE;
        *out = mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
    } else {
        if (mag > (uint64_t)hi)
            return ST_RANGE;
        *out = (int64_t)mag;
    }
    return ST_OK;
}

static enum status uint_from_text(const char *s, uint64_t hi, uint64_t *out)
{
    bool negative;
    uint64_t mag;
    enum status st = parse_decimal(s, &negative, &mag);
    if (st == ST_SYNTAX) {
        double v;
        st = parse_number_text(s, &v);
        return st == ST_OK ? uint_from_double(v, hi, out) : st;
    }
    if (st != ST_OK)
        return st;
    if ((negative && mag != 0) || mag > hi)
        return ST_RANGE;
    *out = mag;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* Calendar arithmetic (proleptic Gregorian, Howard Hinnant's algorithms) */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* ".123", ".123456", ".123456789" or "" - the fewest of 0/3/6/9 digits that is exact. */
static void format_fraction(char *out, size_t cap, int32_t nanos)
{
    if (nanos == 0)
        out[0] = '\0';
    else if (nanos % 1000000 == 0)
        snprintf(out, cap, ".%03" PRId32, nanos / 1000000);
    else if (nanos % 1000 == 0)
        snprintf(out, cap, ".%06" PRId32, nanos / 1000);
    else
        snprintf(out, cap, ".%09" PRId32, nanos);
}

/* Reads exactly n digits at *p. */
static bool read_digits(const char **p, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(**p))
            return false;
        v = v * 10 + (unsigned)(*(*p)++ - '0');
    }
    *out = v;
    return true;
}

static bool read_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* Reads "." and 1-9 digits (if present) as nanoseconds. */
static bool read_fraction(const char **p, int32_t *nanos)
{
    int32_t v = 0;
    int digits = 0;
    *nanos = 0;
    if (!read_char(p, '.'))
        return true;
    while (is_digit(**p)) {
        if (digits == 9)
            return false;
        v = v * 10 + (*(*p)++ - '0');
        digits++;
    }
    if (digits == 0)
        return false;
    for (; digits < 9; digits++)
        v *= 10;
    *nanos = v;
    return true;
}

/* "Z", "z" or "+hh:mm"/"-hh:mm" as seconds east of UTC. */
static bool read_utc_offset(const char **p, int64_t *offset)
{
    unsigned hours, minutes;
    char sign = **p;
    *offset = 0;
    if (sign == 'Z' || sign == 'z') {
        (*p)++;
        return true;
    }
    if (sign != '+' && sign != '-')
        return false;
    (*p)++;
    if (!read_digits(p, 2, &hours) || !read_char(p, ':') || !read_digits(p, 2, &minutes) ||
        hours > 23 || minutes > 59)
        return false;
    *offset = (int64_t)(hours * 3600 + minutes * 60) * (sign == '-' ? -1 : 1);
    return true;
}

/* RFC 3339 "YYYY-MM-DDThh:mm:ss[.f{1,9}](Z|+hh:mm|-hh:mm)" to Unix seconds and nanos. */
static enum status parse_rfc3339(const char *s, int64_t *seconds, int32_t *nanos)
{
    unsigned year, month, day, hour, minute, second;
    int64_t offset;
    const char *p = s;
    if (!read_digits(&p, 4, &year) || !read_char(&p, '-') || !read_digits(&p, 2, &month) ||
        !read_char(&p, '-') || !read_digits(&p, 2, &day) ||
        !(read_char(&p, 'T') || read_char(&p, 't')) || !read_digits(&p, 2, &hour) ||
        !read_char(&p, ':') || !read_digits(&p, 2, &minute) || !read_char(&p, ':') ||
        !read_digits(&p, 2, &second) || !read_fraction(&p, nanos) ||
        !read_utc_offset(&p, &offset) || *p != '\0')
        return ST_SYNTAX;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
        minute > 59 || second > 59)
        return ST_SYNTAX;
    *seconds = days_from_civil(year, month, day) * SECONDS_PER_DAY +
               (int64_t)(hour * 3600 + minute * 60 + second) - offset;
    if (*seconds < TIMESTAMP_MIN_SECONDS || *seconds > TIMESTAMP_MAX_SECONDS)
        return ST_RANGE;
    return ST_OK;
}

/* "[-]seconds[.f{1,9}]s" to seconds and nanos of the same sign. */
static enum status parse_duration(const char *s, int64_t *seconds, int32_t *nanos)
{
    bool negative = *s == '-';
    uint64_t whole = 0;
    bool too_big = false;
    int32_t fraction;
    if (negative)
        s++;
    if (!is_digit(*s))
        return ST_SYNTAX;
    for (; is_digit(*s); s++) {
        if (whole > (uint64_t)DURATION_MAX_SECONDS)
            too_big = true; /* keep scanning so syntax errors still win */
        else
            whole = whole * 10 + (uint64_t)(*s - '0');
    }
    if (!read_fraction(&s, &fraction) || !read_char(&s, 's') || *s != '\0')
        return ST_SYNTAX;
    if (too_big || whole > (uint64_t)DURATION_MAX_SECONDS)
        return ST_RANGE;
    *seconds = negative ? -(int64_t)whole : (int64_t)whole;
    *nanos = negative ? -fraction : fraction;
    return ST_OK;
}

/* ------------------------------------------------------------------ */
/* Enums                                                                */

static bool looks_pascal_case(const char *s)
{
    bool has_lower = false;
    if (!is_upper(s[0]))
        return false;
    for (; *s; s++) {
        if (is_lower(*s))
            has_lower = true;
        else if (!is_upper(*s) && !is_digit(*s))
            return false;
    }
    return has_lower;
}

/*
 * Length of the prefix every value name of desc starts with, cut after its
 * last '_' ("EVENT_TYPE_" for EventType): the part the legacy PascalCase
 * spelling leaves out.
 */
static size_t enum_value_prefix_len(const ProtobufCEnumDescriptor *desc)
{
    const char *first = desc->values[0].name;
    size_t common = strlen(first), cut = 0;
    for (unsigned i = 1; i < desc->n_values; i++) {
        const char *other = desc->values[i].name;
        size_t n = 0;
        while (n < common && first[n] == other[n])
            n++;
        common = n;
    }
    for (size_t i = 0; i < common; i++)
        if (first[i] == '_')
            cut = i + 1;
    return cut;
}

/* "WorkflowExecutionStarted" -> "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED" in buf. */
static bool legacy_enum_name(const ProtobufCEnumDescriptor *desc, const char *pascal, char *buf,
                             size_t cap)
{
    size_t n = enum_value_prefix_len(desc);
    if (n >= cap)
        return false;
    memcpy(buf, desc->values[0].name, n);
    for (size_t i = 0; pascal[i]; i++) {
        if (n + 2 >= cap)
            return false;
        if (i > 0 && is_upper(pascal[i]))
            buf[n++] = '_';
        buf[n++] = to_upper(pascal[i]);
    }
    buf[n] = '\0';
    return true;
}

/* The value named name, or 0 when unknown: a newer server's value must not fail an import. */
static int enum_value_by_name(const ProtobufCEnumDescriptor *desc, const char *name, unsigned flags)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(desc, name);
    char legacy[256];
    if (!v && (flags & TW_PBJSON_LEGACY_ENUMS) && desc->n_values > 0 && looks_pascal_case(name) &&
        legacy_enum_name(desc, name, legacy, sizeof(legacy)))
        v = protobuf_c_enum_descriptor_get_value_by_name(desc, legacy);
    return v ? v->value : 0;
}

/* ------------------------------------------------------------------ */
/* Encoding                                                             */

static cJSON *encode_message(const ProtobufCMessageDescriptor *desc, const ProtobufCMessage *msg);

/* Adds item under key, deleting item when that fails (out of memory). */
static bool add_member(cJSON *obj, const char *key, cJSON *item)
{
    if (item && cJSON_AddItemToObject(obj, key, item))
        return true;
    cJSON_Delete(item);
    return false;
}

static bool add_element(cJSON *array, cJSON *item)
{
    if (item && cJSON_AddItemToArray(array, item))
        return true;
    cJSON_Delete(item);
    return false;
}

static cJSON *encode_int64(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return cJSON_CreateString(buf);
}

static cJSON *encode_uint64(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return cJSON_CreateString(buf);
}

static cJSON *encode_non_finite(double v)
{
    if (isnan(v))
        return cJSON_CreateString("NaN");
    return cJSON_CreateString(v > 0 ? "Infinity" : "-Infinity");
}

/* v with precision significant digits and '.' whatever the locale says. */
static void format_double(char *buf, size_t cap, int precision, double v)
{
    char point = locale_decimal_point();
    snprintf(buf, cap, "%.*g", precision, v);
    char *p = point != '.' ? strchr(buf, point) : NULL;
    if (p)
        *p = '.';
}

/*
 * cJSON prints numbers with 15 digits and keeps that when it reads back
 * within an epsilon, which drops the last bits of some doubles
 * (0.30000000000000004 would print as 0.3). When 15 digits are not exact we
 * hand cJSON the shortest exact text as a raw number instead.
 */
static bool reads_back_as(const char *text, double v)
{
    double back;
    return parse_number_text(text, &back) == ST_OK && back == v;
}

/* The shortest of 15, 16 or 17 significant digits that reads back exactly; true if 15 did. */
static bool format_shortest(char *buf, size_t cap, double v)
{
    format_double(buf, cap, 15, v);
    if (reads_back_as(buf, v))
        return true;
    format_double(buf, cap, 16, v);
    if (!reads_back_as(buf, v))
        format_double(buf, cap, 17, v);
    return false;
}

static cJSON *encode_double(double v)
{
    char buf[32];
    if (!isfinite(v))
        return encode_non_finite(v);
    if (v == 0 && signbit(v))
        return cJSON_CreateRaw("-0"); /* cJSON would print 0 */
    if (format_shortest(buf, sizeof(buf), v))
        return cJSON_CreateNumber(v); /* cJSON prints these same 15 digits */
    return cJSON_CreateRaw(buf);
}

/*
 * A float widened to double prints as 0.10000000149011612; take the shortest
 * decimal that reads back as the same float instead, so 0.1f prints as 0.1.
 */
static cJSON *encode_float(float v)
{
    char buf[32];
    if (!isfinite(v))
        return encode_non_finite(v);
    for (int precision = 1; precision <= 9; precision++) {
        snprintf(buf, sizeof(buf), "%.*g", precision, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    return encode_double(strtod(buf, NULL));
}

static cJSON *encode_enum(const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    return v ? cJSON_CreateString(v->name) : cJSON_CreateNumber(value);
}

static cJSON *encode_string(const char *s)
{
    if (s == NULL)
        return cJSON_CreateString("");
    if (utf8_valid(s))
        return cJSON_CreateString(s);
    char *clean = utf8_sanitized(s);
    cJSON *item = clean ? cJSON_CreateString(clean) : NULL;
    free(clean);
    return item;
}

static cJSON *encode_bytes(const ProtobufCBinaryData *b)
{
    char *text = base64_encode(b->data, b->len);
    cJSON *item = text ? cJSON_CreateString(text) : NULL;
    free(text);
    return item;
}

/* One value of f's type stored at slot (a singular field or an array element). */
static cJSON *encode_value(const ProtobufCFieldDescriptor *f, const void *slot)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return cJSON_CreateNumber(*(const int32_t *)slot);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return cJSON_CreateNumber(*(const uint32_t *)slot);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return encode_int64(*(const int64_t *)slot);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return encode_uint64(*(const uint64_t *)slot);
    case PROTOBUF_C_TYPE_FLOAT:
        return encode_float(*(const float *)slot);
    case PROTOBUF_C_TYPE_DOUBLE:
        return encode_double(*(const double *)slot);
    case PROTOBUF_C_TYPE_BOOL:
        return cJSON_CreateBool(*(const protobuf_c_boolean *)slot != 0);
    case PROTOBUF_C_TYPE_ENUM:
        return encode_enum(f->descriptor, *(const int *)slot);
    case PROTOBUF_C_TYPE_STRING:
        return encode_string(*(const char *const *)slot);
    case PROTOBUF_C_TYPE_BYTES:
        return encode_bytes(slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return encode_message(f->descriptor, *(const ProtobufCMessage *const *)slot);
    }
    return NULL;
}

static cJSON *encode_repeated(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    cJSON *array = cJSON_CreateArray();
    const char *items = repeated_items(msg, f);
    size_t n = repeated_count(msg, f), size = value_size(f->type);
    for (size_t i = 0; array && i < n; i++) {
        if (!add_element(array, encode_value(f, items + i * size))) {
            cJSON_Delete(array);
            return NULL;
        }
    }
    return array;
}

/* A map key as JSON object member name: strings as they are, numbers and bools as text. */
static char *map_key_text(const ProtobufCFieldDescriptor *key_f, const void *slot)
{
    char buf[24];
    switch (key_f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)slot;
        if (s == NULL)
            s = "";
        return utf8_valid(s) ? copy_string(s) : utf8_sanitized(s);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return copy_string(*(const protobuf_c_boolean *)slot ? "true" : "false");
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        snprintf(buf, sizeof(buf), "%" PRId32, *(const int32_t *)slot);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        snprintf(buf, sizeof(buf), "%" PRIu32, *(const uint32_t *)slot);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(buf, sizeof(buf), "%" PRId64, *(const int64_t *)slot);
        break;
    default:
        snprintf(buf, sizeof(buf), "%" PRIu64, *(const uint64_t *)slot);
        break;
    }
    return copy_string(buf);
}

static cJSON *encode_map(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                         const ProtobufCMessageDescriptor *entry_desc)
{
    const ProtobufCFieldDescriptor *key_f = &entry_desc->fields[0];
    const ProtobufCFieldDescriptor *value_f = &entry_desc->fields[1];
    const ProtobufCMessage *const *entries = repeated_items(msg, f);
    size_t n = repeated_count(msg, f);
    cJSON *obj = cJSON_CreateObject();
    for (size_t i = 0; obj && i < n; i++) {
        const ProtobufCMessage *entry = entries[i];
        if (entry == NULL)
            continue;
        char *key = map_key_text(key_f, member_at(entry, key_f->offset));
        /* A repeated key is legal on the wire and the last one wins there too. */
        if (key)
            cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
        bool ok = key && add_member(obj, key, encode_value(value_f, member_at(entry, value_f->offset)));
        free(key);
        if (!ok) {
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}

static cJSON *encode_field(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return encode_value(f, member_at(msg, f->offset));
    const ProtobufCMessageDescriptor *entry = map_entry_of(msg->descriptor, f);
    return entry ? encode_map(msg, f, entry) : encode_repeated(msg, f);
}

/* Adds value under f's JSON name ("@type" for Any's type_url). */
static bool add_field_member(cJSON *obj, const ProtobufCFieldDescriptor *f, bool is_any,
                             cJSON *value)
{
    if (is_any && f->id == 1)
        return add_member(obj, "@type", value);
    char local[128];
    size_t len = json_name_len(f->name);
    char *name = len < sizeof(local) ? local : malloc(len + 1);
    if (!name) {
        cJSON_Delete(value);
        return false;
    }
    write_json_name(f->name, name);
    bool ok = add_member(obj, name, value);
    if (name != local)
        free(name);
    return ok;
}

/* The ordinary form: an object of the fields that are set. */
static cJSON *encode_fields(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    bool is_any = wkt_of(desc) == WKT_ANY;
    cJSON *obj = cJSON_CreateObject();
    for (unsigned i = 0; obj && i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (field_is_set(msg, f) && !add_field_member(obj, f, is_any, encode_field(msg, f))) {
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}

static void read_seconds_nanos(const ProtobufCMessage *msg, int64_t *seconds, int32_t *nanos)
{
    const ProtobufCFieldDescriptor *f = msg->descriptor->fields;
    *seconds = *(const int64_t *)member_at(msg, f[0].offset);
    *nanos = *(const int32_t *)member_at(msg, f[1].offset);
}

static cJSON *encode_timestamp(const ProtobufCMessage *msg)
{
    int64_t seconds, year;
    int32_t nanos;
    unsigned month, day;
    char fraction[16], text[64];
    read_seconds_nanos(msg, &seconds, &nanos);
    if (seconds < TIMESTAMP_MIN_SECONDS || seconds > TIMESTAMP_MAX_SECONDS || nanos < 0 ||
        nanos >= NANOS_PER_SECOND)
        return encode_fields(msg);
    int64_t days = seconds / SECONDS_PER_DAY, rem = seconds % SECONDS_PER_DAY;
    if (rem < 0)
        rem += SECONDS_PER_DAY, days--;
    civil_from_days(days, &year, &month, &day);
    format_fraction(fraction, sizeof(fraction), nanos);
    snprintf(text, sizeof(text), "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u%sZ", year, month, day,
             (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), fraction);
    return cJSON_CreateString(text);
}

static cJSON *encode_duration(const ProtobufCMessage *msg)
{
    int64_t seconds;
    int32_t nanos;
    char fraction[16], text[64];
    read_seconds_nanos(msg, &seconds, &nanos);
    if (seconds < -DURATION_MAX_SECONDS || seconds > DURATION_MAX_SECONDS ||
        nanos <= -NANOS_PER_SECOND || nanos >= NANOS_PER_SECOND || (seconds > 0 && nanos < 0) ||
        (seconds < 0 && nanos > 0))
        return encode_fields(msg);
    bool negative = seconds < 0 || nanos < 0;
    format_fraction(fraction, sizeof(fraction), nanos < 0 ? -nanos : nanos);
    snprintf(text, sizeof(text), "%s%" PRId64 "%ss", negative ? "-" : "",
             seconds < 0 ? -seconds : seconds, fraction);
    return cJSON_CreateString(text);
}

static cJSON *encode_wrapper(const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
    return encode_value(f, member_at(msg, f->offset));
}

/* Paths joined with ',', each in lowerCamelCase. */
static cJSON *encode_field_mask(const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
    const char *const *paths = repeated_items(msg, f);
    size_t n = repeated_count(msg, f), total = 1;
    for (size_t i = 0; i < n; i++)
        total += (paths[i] ? json_name_len(paths[i]) : 0) + 1;
    char *text = malloc(total);
    if (!text)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            text[o++] = ',';
        write_json_name(paths[i] ? paths[i] : "", text + o);
        o += strlen(text + o);
    }
    text[o] = '\0';
    cJSON *item = encode_string(text);
    free(text);
    return item;
}

static cJSON *encode_present_message(const ProtobufCMessage *msg)
{
    switch (wkt_of(msg->descriptor)) {
    case WKT_TIMESTAMP:
        return encode_timestamp(msg);
    case WKT_DURATION:
        return encode_duration(msg);
    case WKT_WRAPPER:
        return encode_wrapper(msg);
    case WKT_FIELD_MASK:
        return encode_field_mask(msg);
    case WKT_ANY:
    case WKT_NONE:
        break;
    }
    return encode_fields(msg);
}

/* msg may be NULL (a oneof or map value never filled in): it encodes as its defaults. */
static cJSON *encode_message(const ProtobufCMessageDescriptor *desc, const ProtobufCMessage *msg)
{
    if (msg)
        return encode_present_message(msg);
    ProtobufCMessage *defaults = new_message(desc);
    if (!defaults)
        return NULL;
    cJSON *item = encode_present_message(defaults);
    protobuf_c_message_free_unpacked(defaults, NULL);
    return item;
}

cJSON *tw_pbjson_encode(const ProtobufCMessage *msg)
{
    if (msg == NULL || msg->descriptor == NULL)
        return NULL;
    return encode_present_message(msg);
}

/* ------------------------------------------------------------------ */
/* Decoding: state and error reporting                                  */

struct decoder {
    unsigned flags;
    unsigned depth;
    char *err;
    size_t errlen;
    size_t path_len;
    char path[PATH_CAP]; /* JSON path of the value being decoded, for messages */
};

static int fail(struct decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "<path>: <what>" to the caller's buffer and returns -1. */
static int fail(struct decoder *d, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    if (d->err == NULL || d->errlen == 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(d->err, d->errlen, "%s: %s", d->path_len > 0 ? d->path : "top level", what);
    return -1;
}

static int fail_nomem(struct decoder *d)
{
    return fail(d, "out of memory");
}

static size_t path_append(struct decoder *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a path segment (clipped to PATH_CAP) and returns the length to restore. */
static size_t path_append(struct decoder *d, const char *fmt, ...)
{
    size_t old = d->path_len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->path + old, PATH_CAP - old, fmt, ap);
    va_end(ap);
    if (n > 0)
        d->path_len = old + (size_t)n < PATH_CAP ? old + (size_t)n : PATH_CAP - 1;
    return old;
}

static size_t path_push_field(struct decoder *d, const char *name)
{
    return d->path_len > 0 ? path_append(d, ".%s", name) : path_append(d, "%s", name);
}

static size_t path_push_index(struct decoder *d, size_t index)
{
    return path_append(d, "[%zu]", index);
}

static size_t path_push_key(struct decoder *d, const char *key)
{
    return path_append(d, "[\"%s\"]", key);
}

static void path_pop(struct decoder *d, size_t old)
{
    d->path_len = old;
    d->path[old] = '\0';
}

static const char *json_type_name(const cJSON *json)
{
    if (cJSON_IsNull(json))
        return "null";
    if (cJSON_IsBool(json))
        return "boolean";
    if (cJSON_IsNumber(json))
        return "number";
    if (cJSON_IsString(json))
        return "string";
    if (cJSON_IsArray(json))
        return "array";
    if (cJSON_IsObject(json))
        return "object";
    if (cJSON_IsRaw(json))
        return "raw JSON";
    return "invalid value";
}

/*
 * s in double quotes for a message, at most QUOTE_MAX bytes of it, with
 * quotes, backslashes and control bytes escaped so the message stays one line.
 */
static const char *quoted(const char *s, char *buf, size_t cap)
{
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0; s[i] && o + 8 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i == QUOTE_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7F) {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* A scalar JSON value as message text: strings quoted, numbers printed. */
static const char *value_text(const cJSON *json, char *buf, size_t cap)
{
    if (cJSON_IsString(json))
        return quoted(json->valuestring, buf, cap);
    if (cJSON_IsNumber(json))
        format_shortest(buf, cap, json->valuedouble);
    else if (cJSON_IsRaw(json) && json->valuestring)
        quoted(json->valuestring, buf, cap);
    else
        snprintf(buf, cap, "%s", json_type_name(json));
    return buf;
}

/* ------------------------------------------------------------------ */
/* Decoding scalars                                                     */

#define TEXT_CAP (QUOTE_MAX * 4 + 16)

static int fail_number(struct decoder *d, enum status st, const cJSON *json, const char *type)
{
    char text[TEXT_CAP];
    if (st == ST_RANGE)
        return fail(d, "value out of range for %s: %s", type, value_text(json, text, sizeof(text)));
    return fail(d, "not %s %s: %s", type[0] == 'i' || type[0] == 'e' ? "an" : "a", type,
                value_text(json, text, sizeof(text)));
}

static int decode_signed(struct decoder *d, const cJSON *json, int64_t lo, int64_t hi,
                         const char *type, int64_t *out)
{
    enum status st;
    if (cJSON_IsNumber(json))
        st = int_from_double(json->valuedouble, lo, hi, out);
    else if (cJSON_IsString(json))
        st = int_from_text(json->valuestring, lo, hi, out);
    else
        return fail(d, "expected %s as a number or string, got %s", type, json_type_name(json));
    return st == ST_OK ? 0 : fail_number(d, st, json, type);
}

static int decode_unsigned(struct decoder *d, const cJSON *json, uint64_t hi, const char *type,
                           uint64_t *out)
{
    enum status st;
    if (cJSON_IsNumber(json))
        st = uint_from_double(json->valuedouble, hi, out);
    else if (cJSON_IsString(json))
        st = uint_from_text(json->valuestring, hi, out);
    else
        return fail(d, "expected %s as a number or string, got %s", type, json_type_name(json));
    return st == ST_OK ? 0 : fail_number(d, st, json, type);
}

/* A number, or "NaN", "Infinity", "-Infinity" or number text in a string. */
static int decode_floating(struct decoder *d, const cJSON *json, bool is_float, double *out)
{
    const char *type = is_float ? "float" : "double";
    enum status st = ST_OK;
    if (cJSON_IsNumber(json)) {
        *out = json->valuedouble;
        st = isfinite(*out) ? ST_OK : ST_RANGE;
    } else if (cJSON_IsRaw(json) && json->valuestring && is_json_number_text(json->valuestring)) {
        st = parse_number_text(json->valuestring, out); /* our own exact doubles, see encode_double */
    } else if (cJSON_IsString(json)) {
        const char *s = json->valuestring;
        if (strcmp(s, "NaN") == 0)
            *out = NAN;
        else if (strcmp(s, "Infinity") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            *out = -INFINITY;
        else
            st = parse_number_text(s, out);
    } else {
        return fail(d, "expected %s as a number or string, got %s", type, json_type_name(json));
    }
    if (st == ST_OK && is_float && isfinite(*out) && fabs(*out) > FLT_MAX) {
        /* Shortest float text ("3.4028235e+38") reads as a double just above
         * FLT_MAX that still rounds to it; only what would round to infinity
         * is out of range. */
        if (fabs(*out) >= FLOAT_OVERFLOW_THRESHOLD)
            st = ST_RANGE;
        else
            *out = copysign(FLT_MAX, *out);
    }
    return st == ST_OK ? 0 : fail_number(d, st, json, type);
}

static int decode_enum(struct decoder *d, const ProtobufCEnumDescriptor *desc, const cJSON *json,
                       int *out)
{
    int64_t v;
    if (cJSON_IsString(json) && int_from_text(json->valuestring, INT32_MIN, INT32_MAX, &v) != ST_OK) {
        *out = enum_value_by_name(desc, json->valuestring, d->flags);
        return 0;
    }
    if (!cJSON_IsString(json) && !cJSON_IsNumber(json))
        return fail(d, "expected an enum name or number, got %s", json_type_name(json));
    if (decode_signed(d, json, INT32_MIN, INT32_MAX, "enum number", &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

static int decode_string(struct decoder *d, const cJSON *json, char **out)
{
    if (!cJSON_IsString(json))
        return fail(d, "expected a string, got %s", json_type_name(json));
    if (!utf8_valid(json->valuestring))
        return fail(d, "string is not valid UTF-8");
    if ((*out = copy_string(json->valuestring)) == NULL)
        return fail_nomem(d);
    return 0;
}

static int decode_bytes(struct decoder *d, const cJSON *json, ProtobufCBinaryData *out)
{
    char text[TEXT_CAP];
    if (!cJSON_IsString(json))
        return fail(d, "expected a base64 string, got %s", json_type_name(json));
    switch (base64_decode(json->valuestring, out)) {
    case ST_OK:
        return 0;
    case ST_NOMEM:
        return fail_nomem(d);
    default:
        return fail(d, "not valid base64: %s", quoted(json->valuestring, text, sizeof(text)));
    }
}

static int decode_bool(struct decoder *d, const cJSON *json, protobuf_c_boolean *out)
{
    if (!cJSON_IsBool(json))
        return fail(d, "expected true or false, got %s", json_type_name(json));
    *out = cJSON_IsTrue(json);
    return 0;
}

static int decode_message(struct decoder *d, const ProtobufCMessageDescriptor *desc,
                          const cJSON *json, ProtobufCMessage **out);

/*
 * Decodes one value of f's type from json into slot, which holds the type's
 * default. Strings, bytes and messages are stored only once complete, so the
 * enclosing message can always be freed.
 */
static int decode_value(struct decoder *d, const ProtobufCFieldDescriptor *f, const cJSON *json,
                        void *slot)
{
    int64_t s;
    uint64_t u;
    double v;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (decode_signed(d, json, INT32_MIN, INT32_MAX, "int32", &s) != 0)
            return -1;
        *(int32_t *)slot = (int32_t)s;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return decode_signed(d, json, INT64_MIN, INT64_MAX, "int64", (int64_t *)slot);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (decode_unsigned(d, json, UINT32_MAX, "uint32", &u) != 0)
            return -1;
        *(uint32_t *)slot = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return decode_unsigned(d, json, UINT64_MAX, "uint64", (uint64_t *)slot);
    case PROTOBUF_C_TYPE_FLOAT:
        if (decode_floating(d, json, true, &v) != 0)
            return -1;
        *(float *)slot = (float)v;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return decode_floating(d, json, false, (double *)slot);
    case PROTOBUF_C_TYPE_BOOL:
        return decode_bool(d, json, (protobuf_c_boolean *)slot);
    case PROTOBUF_C_TYPE_ENUM:
        return decode_enum(d, f->descriptor, json, (int *)slot);
    case PROTOBUF_C_TYPE_STRING:
        return decode_string(d, json, (char **)slot);
    case PROTOBUF_C_TYPE_BYTES:
        return decode_bytes(d, json, (ProtobufCBinaryData *)slot);
    case PROTOBUF_C_TYPE_MESSAGE:
        return decode_message(d, f->descriptor, json, (ProtobufCMessage **)slot);
    }
    return fail(d, "field has an unknown protobuf-c type %d", (int)f->type);
}

/* ------------------------------------------------------------------ */
/* Decoding repeated fields and maps                                    */

/*
 * Allocates a zero-filled array of n values and attaches it to f at once, so
 * a failure while filling it still leaves a message protobuf-c can free.
 */
static void *attach_array(struct decoder *d, ProtobufCMessage *msg,
                          const ProtobufCFieldDescriptor *f, size_t n, size_t size)
{
    void *items = calloc(n, size);
    if (!items) {
        fail_nomem(d);
        return NULL;
    }
    *(void **)member_mut(msg, f->offset) = items;
    *(size_t *)member_mut(msg, f->quantifier_offset) = n;
    return items;
}

static int decode_repeated(struct decoder *d, ProtobufCMessage *msg,
                           const ProtobufCFieldDescriptor *f, const cJSON *json)
{
    if (!cJSON_IsArray(json))
        return fail(d, "expected an array, got %s", json_type_name(json));
    size_t n = (size_t)cJSON_GetArraySize(json), size = value_size(f->type), i = 0;
    if (n == 0)
        return 0;
    char *items = attach_array(d, msg, f, n, size);
    if (!items)
        return -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, json) {
        size_t old = path_push_index(d, i);
        int rc = cJSON_IsNull(item) ? fail(d, "null is not allowed in a repeated field")
                                    : decode_value(d, f, item, items + i * size);
        path_pop(d, old);
        if (rc != 0)
            return -1;
        i++;
    }
    return 0;
}

/* Integer map key text within [lo, hi] as int64, or -1 with a message. */
static int map_key_signed(struct decoder *d, const char *text, int64_t lo, int64_t hi,
                          int64_t *out)
{
    char quote[TEXT_CAP];
    enum status st = int_from_text(text, lo, hi, out);
    if (st == ST_OK)
        return 0;
    return fail(d, "map key %s: %s", st == ST_RANGE ? "out of range" : "is not an integer",
                quoted(text, quote, sizeof(quote)));
}

static int map_key_unsigned(struct decoder *d, const char *text, uint64_t hi, uint64_t *out)
{
    char quote[TEXT_CAP];
    enum status st = uint_from_text(text, hi, out);
    if (st == ST_OK)
        return 0;
    return fail(d, "map key %s: %s", st == ST_RANGE ? "out of range" : "is not an integer",
                quoted(text, quote, sizeof(quote)));
}

/* A map key from its JSON member name: strings as they are, numbers and bools parsed. */
static int decode_map_key(struct decoder *d, const ProtobufCFieldDescriptor *key_f,
                          const char *text, void *slot)
{
    int64_t s;
    uint64_t u;
    switch (key_f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (!utf8_valid(text))
            return fail(d, "map key is not valid UTF-8");
        if ((*(char **)slot = copy_string(text)) == NULL)
            return fail_nomem(d);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0)
            return fail(d, "map key is not true or false");
        *(protobuf_c_boolean *)slot = strcmp(text, "true") == 0;
        return 0;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (map_key_signed(d, text, INT32_MIN, INT32_MAX, &s) != 0)
            return -1;
        *(int32_t *)slot = (int32_t)s;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (map_key_unsigned(d, text, UINT32_MAX, &u) != 0)
            return -1;
        *(uint32_t *)slot = (uint32_t)u;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return map_key_signed(d, text, INT64_MIN, INT64_MAX, (int64_t *)slot);
    default:
        return map_key_unsigned(d, text, UINT64_MAX, (uint64_t *)slot);
    }
}

/* One map entry from a JSON member; the new entry goes into *slot before it is filled. */
static int decode_map_entry(struct decoder *d, const ProtobufCMessageDescriptor *entry_desc,
                            const cJSON *member, ProtobufCMessage **slot)
{
    const ProtobufCFieldDescriptor *key_f = &entry_desc->fields[0];
    const ProtobufCFieldDescriptor *value_f = &entry_desc->fields[1];
    if (cJSON_IsNull(member))
        return fail(d, "null is not allowed as a map value");
    ProtobufCMessage *entry = new_message(entry_desc);
    if (!entry)
        return fail_nomem(d);
    *slot = entry;
    if (decode_map_key(d, key_f, member->string, member_mut(entry, key_f->offset)) != 0)
        return -1;
    mark_present(entry, key_f);
    if (decode_value(d, value_f, member, member_mut(entry, value_f->offset)) != 0)
        return -1;
    mark_present(entry, value_f);
    return 0;
}

static int decode_map(struct decoder *d, ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
                      const ProtobufCMessageDescriptor *entry_desc, const cJSON *json)
{
    if (!cJSON_IsObject(json))
        return fail(d, "expected an object (a map), got %s", json_type_name(json));
    size_t n = (size_t)cJSON_GetArraySize(json), i = 0;
    if (n == 0)
        return 0;
    ProtobufCMessage **entries = attach_array(d, msg, f, n, sizeof(*entries));
    if (!entries)
        return -1;
    const cJSON *member;
    cJSON_ArrayForEach(member, json) {
        size_t old = path_push_key(d, member->string ? member->string : "");
        int rc = member->string ? decode_map_entry(d, entry_desc, member, &entries[i])
                                : fail(d, "map member has no name");
        path_pop(d, old);
        if (rc != 0)
            return -1;
        i++;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Decoding messages                                                    */

static void write_seconds_nanos(ProtobufCMessage *msg, int64_t seconds, int32_t nanos)
{
    const ProtobufCFieldDescriptor *f = msg->descriptor->fields;
    *(int64_t *)member_mut(msg, f[0].offset) = seconds;
    *(int32_t *)member_mut(msg, f[1].offset) = nanos;
    mark_present(msg, &f[0]);
    mark_present(msg, &f[1]);
}

static int decode_timestamp(struct decoder *d, ProtobufCMessage *msg, const cJSON *json)
{
    char text[TEXT_CAP];
    int64_t seconds;
    int32_t nanos;
    if (!cJSON_IsString(json))
        return fail(d, "expected an RFC 3339 timestamp string, got %s", json_type_name(json));
    switch (parse_rfc3339(json->valuestring, &seconds, &nanos)) {
    case ST_OK:
        write_seconds_nanos(msg, seconds, nanos);
        return 0;
    case ST_RANGE:
        return fail(d, "timestamp outside years 0001-9999: %s",
                    quoted(json->valuestring, text, sizeof(text)));
    default:
        return fail(d, "not an RFC 3339 timestamp: %s", quoted(json->valuestring, text, sizeof(text)));
    }
}

static int decode_duration(struct decoder *d, ProtobufCMessage *msg, const cJSON *json)
{
    char text[TEXT_CAP];
    int64_t seconds;
    int32_t nanos;
    if (!cJSON_IsString(json))
        return fail(d, "expected a duration string like \"1.5s\", got %s", json_type_name(json));
    switch (parse_duration(json->valuestring, &seconds, &nanos)) {
    case ST_OK:
        write_seconds_nanos(msg, seconds, nanos);
        return 0;
    case ST_RANGE:
        return fail(d, "duration outside +-315576000000s: %s",
                    quoted(json->valuestring, text, sizeof(text)));
    default:
        return fail(d, "not a duration like \"1.5s\": %s",
                    quoted(json->valuestring, text, sizeof(text)));
    }
}

static int decode_wrapper(struct decoder *d, ProtobufCMessage *msg, const cJSON *json)
{
    const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
    if (decode_value(d, f, json, member_mut(msg, f->offset)) != 0)
        return -1;
    mark_present(msg, f);
    return 0;
}

/* One lowerCamelCase field-mask path back to snake_case. */
static char *snake_path(const char *camel, size_t len)
{
    char *out = malloc(len * 2 + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (is_upper(camel[i]))
            out[o++] = '_';
        out[o++] = to_lower(camel[i]);
    }
    out[o] = '\0';
    return out;
}

static int decode_field_mask(struct decoder *d, ProtobufCMessage *msg, const cJSON *json)
{
    const ProtobufCFieldDescriptor *f = &msg->descriptor->fields[0];
    if (!cJSON_IsString(json))
        return fail(d, "expected a field mask string like \"a.b,c\", got %s", json_type_name(json));
    const char *s = json->valuestring;
    if (*s == '\0')
        return 0;
    size_t n = 1;
    for (const char *p = s; *p; p++)
        n += *p == ',';
    char **paths = attach_array(d, msg, f, n, sizeof(char *));
    if (!paths)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(s, ",");
        if (len == 0)
            return fail(d, "field mask has an empty path");
        if ((paths[i] = snake_path(s, len)) == NULL)
            return fail_nomem(d);
        s += len + (s[len] == ',');
    }
    return 0;
}

/* Bit set of fields already decoded, to reject a field given twice. */
struct seen_fields {
    unsigned char local[64];
    unsigned char *bits;
};

static bool seen_init(struct seen_fields *seen, unsigned n_fields)
{
    size_t bytes = n_fields / 8 + 1;
    memset(seen->local, 0, sizeof(seen->local));
    seen->bits = bytes <= sizeof(seen->local) ? seen->local : calloc(bytes, 1);
    return seen->bits != NULL;
}

static bool seen_test_and_set(struct seen_fields *seen, size_t i)
{
    unsigned char mask = (unsigned char)(1u << (i % 8));
    bool was = (seen->bits[i / 8] & mask) != 0;
    seen->bits[i / 8] |= mask;
    return was;
}

static void seen_free(struct seen_fields *seen)
{
    if (seen->bits != seen->local)
        free(seen->bits);
}

/* The other member of f's oneof already set in msg, or NULL. */
static const ProtobufCFieldDescriptor *oneof_rival(const ProtobufCMessage *msg,
                                                   const ProtobufCFieldDescriptor *f)
{
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return NULL;
    uint32_t set = *(const uint32_t *)member_at(msg, f->quantifier_offset);
    if (set == 0 || set == f->id)
        return NULL;
    return protobuf_c_message_descriptor_get_field(msg->descriptor, set);
}

static int decode_field(struct decoder *d, ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *f, const cJSON *json)
{
    const ProtobufCFieldDescriptor *rival = oneof_rival(msg, f);
    if (rival)
        return fail(d, "oneof already set by field \"%s\"", rival->name);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        const ProtobufCMessageDescriptor *entry = map_entry_of(msg->descriptor, f);
        return entry ? decode_map(d, msg, f, entry, json) : decode_repeated(d, msg, f, json);
    }
    if (decode_value(d, f, json, member_mut(msg, f->offset)) != 0)
        return -1;
    mark_present(msg, f);
    return 0;
}

/* One JSON member: found field decoded, null skipped (unset), unknown ignored. */
static int decode_member(struct decoder *d, ProtobufCMessage *msg, struct seen_fields *seen,
                         bool is_any, const cJSON *member)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const ProtobufCFieldDescriptor *f = field_for_key(desc, member->string, is_any);
    size_t old = path_push_field(d, member->string);
    int rc = 0;
    if (f == NULL && is_any)
        rc = fail(d, "google.protobuf.Any supports only \"@type\" and a base64 \"value\"");
    else if (f != NULL && !cJSON_IsNull(member)) {
        if (seen_test_and_set(seen, (size_t)(f - desc->fields)))
            rc = fail(d, "field \"%s\" given more than once", f->name);
        else
            rc = decode_field(d, msg, f, member);
    }
    path_pop(d, old);
    return rc;
}

static int decode_object(struct decoder *d, ProtobufCMessage *msg, bool is_any, const cJSON *json)
{
    struct seen_fields seen;
    if (!cJSON_IsObject(json))
        return fail(d, "expected an object, got %s", json_type_name(json));
    if (!seen_init(&seen, msg->descriptor->n_fields))
        return fail_nomem(d);
    int rc = 0;
    const cJSON *member;
    cJSON_ArrayForEach(member, json) {
        if (member->string && (rc = decode_member(d, msg, &seen, is_any, member)) != 0)
            break;
    }
    seen_free(&seen);
    return rc;
}

static int decode_message_body(struct decoder *d, ProtobufCMessage *msg, const cJSON *json)
{
    enum wkt kind = wkt_of(msg->descriptor);
    switch (kind) {
    case WKT_TIMESTAMP:
        return decode_timestamp(d, msg, json);
    case WKT_DURATION:
        return decode_duration(d, msg, json);
    case WKT_WRAPPER:
        return decode_wrapper(d, msg, json);
    case WKT_FIELD_MASK:
        return decode_field_mask(d, msg, json);
    case WKT_ANY:
    case WKT_NONE:
        break;
    }
    return decode_object(d, msg, kind == WKT_ANY, json);
}

/* A new message of type desc from json in *out, or -1 with nothing allocated. */
static int decode_message(struct decoder *d, const ProtobufCMessageDescriptor *desc,
                          const cJSON *json, ProtobufCMessage **out)
{
    if (d->depth >= MAX_DEPTH)
        return fail(d, "messages nested more than %d deep", MAX_DEPTH);
    ProtobufCMessage *msg = new_message(desc);
    if (!msg)
        return fail_nomem(d);
    d->depth++;
    int rc = decode_message_body(d, msg, json);
    d->depth--;
    if (rc != 0) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return -1;
    }
    *out = msg;
    return 0;
}

int tw_pbjson_decode(const ProtobufCMessageDescriptor *desc, const cJSON *json, unsigned flags,
                     ProtobufCMessage **out, char *err, size_t errlen)
{
    struct decoder d = {.flags = flags, .err = err, .errlen = errlen};
    if (err && errlen > 0)
        err[0] = '\0';
    if (out)
        *out = NULL;
    if (!desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC || !out)
        return fail(&d, "no message descriptor or output pointer given");
    if (!json)
        return fail(&d, "no JSON given");
    return decode_message(&d, desc, json, out);
}
