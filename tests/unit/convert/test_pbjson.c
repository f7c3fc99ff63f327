/*
 * Tests for lib/convert/pbjson: proto3 JSON <-> protobuf-c messages.
 *
 * Every scalar type, maps with each kind of key, oneofs and proto2 has_ flags
 * are exercised through small test messages whose protobuf-c descriptors are
 * written out by hand below (laid out exactly as protoc-c would generate them),
 * so the tests need no .proto of their own. Well-known types and the Temporal
 * history come from the project's generated protos (tw_proto.h).
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/pbjson.h"
#include "tw_proto.h"

/* ================================================================== */
/* Hand-written test messages (package pjtest)                          */

enum { COLOR_UNSPECIFIED = 0, COLOR_RED = 1, COLOR_DARK_BLUE = 2, COLOR_LIGHT_GREEN = 3 };

static const ProtobufCEnumValue color_values[] = {
    {"COLOR_UNSPECIFIED", "COLOR_UNSPECIFIED", 0},
    {"COLOR_RED", "COLOR_RED", 1},
    {"COLOR_DARK_BLUE", "COLOR_DARK_BLUE", 2},
    {"COLOR_LIGHT_GREEN", "COLOR_LIGHT_GREEN", 3},
};
static const ProtobufCEnumValueIndex color_by_name[] = {
    {"COLOR_DARK_BLUE", 2}, {"COLOR_LIGHT_GREEN", 3}, {"COLOR_RED", 1}, {"COLOR_UNSPECIFIED", 0},
};
static const ProtobufCIntRange color_ranges[] = {{0, 0}, {0, 4}};
static const ProtobufCEnumDescriptor color_desc = {
    PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC, "pjtest.Color", "Color", "Color", "pjtest",
    4, color_values, 4, color_by_name, 1, color_ranges, NULL, NULL, NULL, NULL,
};

typedef struct Inner Inner;
struct Inner {
    ProtobufCMessage base;
    char *name;
    int32_t count;
    int color;
    Inner *child;
};

typedef struct {
    ProtobufCMessage base;
    int32_t f_int32;
    int64_t f_int64;
    uint32_t f_uint32;
    uint64_t f_uint64;
    int32_t f_sint32;
    int64_t f_sint64;
    uint32_t f_fixed32;
    uint64_t f_fixed64;
    int32_t f_sfixed32;
    int64_t f_sfixed64;
    float f_float;
    double f_double;
    protobuf_c_boolean f_bool;
    char *f_string;
    ProtobufCBinaryData f_bytes;
    int f_enum;
    Inner *f_message;
} Scalars;

typedef struct {
    ProtobufCMessage base;
    size_t n_r_int32;
    int32_t *r_int32;
    size_t n_r_int64;
    int64_t *r_int64;
    size_t n_r_uint32;
    uint32_t *r_uint32;
    size_t n_r_uint64;
    uint64_t *r_uint64;
    size_t n_r_sint32;
    int32_t *r_sint32;
    size_t n_r_sint64;
    int64_t *r_sint64;
    size_t n_r_fixed32;
    uint32_t *r_fixed32;
    size_t n_r_fixed64;
    uint64_t *r_fixed64;
    size_t n_r_sfixed32;
    int32_t *r_sfixed32;
    size_t n_r_sfixed64;
    int64_t *r_sfixed64;
    size_t n_r_float;
    float *r_float;
    size_t n_r_double;
    double *r_double;
    size_t n_r_bool;
    protobuf_c_boolean *r_bool;
    size_t n_r_string;
    char **r_string;
    size_t n_r_bytes;
    ProtobufCBinaryData *r_bytes;
    size_t n_r_enum;
    int *r_enum;
    size_t n_r_message;
    Inner **r_message;
    size_t n_r_time;
    Google__Protobuf__Timestamp **r_time;
} Repeated;

typedef struct {
    ProtobufCMessage base;
    char *key;
    char *value;
} StrStrEntry;
typedef struct {
    ProtobufCMessage base;
    char *key;
    ProtobufCBinaryData value;
} StrBytesEntry;
typedef struct {
    ProtobufCMessage base;
    int32_t key;
    Inner *value;
} IntMsgEntry;
typedef struct {
    ProtobufCMessage base;
    int64_t key;
    int value;
} LongEnumEntry;
typedef struct {
    ProtobufCMessage base;
    protobuf_c_boolean key;
    int32_t value;
} BoolIntEntry;
typedef struct {
    ProtobufCMessage base;
    uint32_t key;
    Google__Protobuf__Timestamp *value;
} UintTimeEntry;

typedef struct {
    ProtobufCMessage base;
    size_t n_str_str;
    StrStrEntry **str_str;
    size_t n_str_bytes;
    StrBytesEntry **str_bytes;
    size_t n_int_msg;
    IntMsgEntry **int_msg;
    size_t n_long_enum;
    LongEnumEntry **long_enum;
    size_t n_bool_int;
    BoolIntEntry **bool_int;
    size_t n_uint_time;
    UintTimeEntry **uint_time;
} Maps;

/* A message named like a map entry but not nested in its user: not a map. */
typedef struct {
    ProtobufCMessage base;
    char *key;
    char *value;
} LogEntry;
typedef struct {
    ProtobufCMessage base;
    size_t n_entries;
    LogEntry **entries;
} Log;

typedef struct {
    ProtobufCMessage base;
    char *before;
    int32_t after;
    uint32_t choice_case;
    union {
        int32_t c_int;
        char *c_string;
        Inner *c_message;
        ProtobufCBinaryData c_bytes;
        int c_enum;
        Google__Protobuf__Timestamp *c_time;
    };
    uint32_t other_case;
    union {
        protobuf_c_boolean o_bool;
        int64_t o_int64;
    };
} Oneofs;

/* proto2 style: has_ flags, a required field and declared defaults. */
typedef struct Optionals Optionals;
struct Optionals {
    ProtobufCMessage base;
    protobuf_c_boolean has_o_int32;
    int32_t o_int32;
    char *o_string;
    protobuf_c_boolean has_o_bool;
    protobuf_c_boolean o_bool;
    protobuf_c_boolean has_o_enum;
    int o_enum;
    protobuf_c_boolean has_o_bytes;
    ProtobufCBinaryData o_bytes;
    protobuf_c_boolean has_o_double;
    double o_double;
    protobuf_c_boolean has_o_int64;
    int64_t o_int64;
    Optionals *o_msg;
    int32_t r_int32;
    protobuf_c_boolean has_d_int32;
    int32_t d_int32;
    char *d_string;
};

typedef struct {
    ProtobufCMessage base;
    size_t n_paths;
    char **paths;
} FieldMask;

typedef struct {
    ProtobufCMessage base;
    Google__Protobuf__Timestamp *time;
    Google__Protobuf__Duration *duration;
    Google__Protobuf__Any *any;
    Google__Protobuf__Empty *empty;
    FieldMask *mask;
    Google__Protobuf__DoubleValue *w_double;
    Google__Protobuf__FloatValue *w_float;
    Google__Protobuf__Int64Value *w_int64;
    Google__Protobuf__UInt64Value *w_uint64;
    Google__Protobuf__Int32Value *w_int32;
    Google__Protobuf__UInt32Value *w_uint32;
    Google__Protobuf__BoolValue *w_bool;
    Google__Protobuf__StringValue *w_string;
    Google__Protobuf__BytesValue *w_bytes;
    size_t n_durations;
    Google__Protobuf__Duration **durations;
    size_t n_w_strings;
    Google__Protobuf__StringValue **w_strings;
} WellKnown;

/* ---- field descriptor shorthands ---- */

#define FIELD(S, NAME, ID, LABEL, TYPE, QOFF, DESC, DEFAULT, FLAGS)                               \
    {                                                                                             \
        #NAME, ID, PROTOBUF_C_LABEL_##LABEL, PROTOBUF_C_TYPE_##TYPE, QOFF, offsetof(S, NAME), DESC, \
            DEFAULT, FLAGS, 0, NULL, NULL                                                         \
    }
#define PLAIN(S, NAME, ID, TYPE) FIELD(S, NAME, ID, NONE, TYPE, 0, NULL, NULL, 0)
#define PLAIN_STRING(S, NAME, ID) FIELD(S, NAME, ID, NONE, STRING, 0, NULL, &protobuf_c_empty_string, 0)
#define PLAIN_ENUM(S, NAME, ID) FIELD(S, NAME, ID, NONE, ENUM, 0, &color_desc, NULL, 0)
#define PLAIN_MESSAGE(S, NAME, ID, DESC) FIELD(S, NAME, ID, NONE, MESSAGE, 0, &DESC, NULL, 0)
#define REPEATED(S, NAME, ID, TYPE, DESC) FIELD(S, NAME, ID, REPEATED, TYPE, offsetof(S, n_##NAME), DESC, NULL, 0)
#define ONEOF(S, NAME, ID, TYPE, CASE, DESC, DEFAULT) \
    FIELD(S, NAME, ID, NONE, TYPE, offsetof(S, CASE), DESC, DEFAULT, PROTOBUF_C_FIELD_FLAG_ONEOF)
#define OPTIONAL(S, NAME, ID, TYPE, DESC, DEFAULT) \
    FIELD(S, NAME, ID, OPTIONAL, TYPE, offsetof(S, has_##NAME), DESC, DEFAULT, 0)
#define OPTIONAL_PTR(S, NAME, ID, TYPE, DESC, DEFAULT) FIELD(S, NAME, ID, OPTIONAL, TYPE, 0, DESC, DEFAULT, 0)

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A message descriptor whose fields are numbered 1..n (one field range).
 * fields_sorted_by_name is filled by sort_descriptors() before the tests run.
 */
#define MESSAGE(VAR, FULL, SHORT, S, FIELDS)                                                      \
    static unsigned VAR##_by_name[COUNT(FIELDS) ? COUNT(FIELDS) : 1];                             \
    static const ProtobufCIntRange VAR##_ranges[] = {{1, 0}, {0, COUNT(FIELDS)}};                 \
    static void VAR##_init(ProtobufCMessage *m);                                                  \
    static const ProtobufCMessageDescriptor VAR = {                                               \
        PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC, FULL, SHORT, #S, "pjtest", sizeof(S), COUNT(FIELDS), \
        FIELDS, VAR##_by_name, 1, VAR##_ranges, VAR##_init, NULL, NULL, NULL,                     \
    }

/* protoc-c's init: zero, the descriptor, "" for proto3 strings, declared defaults. */
static void init_message(ProtobufCMessage *m, const ProtobufCMessageDescriptor *desc)
{
    memset(m, 0, desc->sizeof_message);
    m->descriptor = desc;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        char *slot = (char *)m + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED || (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
            f->default_value == NULL)
            continue;
        if (f->type == PROTOBUF_C_TYPE_STRING)
            *(const char **)slot = f->default_value;
        else if (f->type == PROTOBUF_C_TYPE_INT32)
            *(int32_t *)slot = *(const int32_t *)f->default_value;
    }
}
#define INIT_FN(VAR) \
    static void VAR##_init(ProtobufCMessage *m) { init_message(m, &VAR); }

static const ProtobufCMessageDescriptor inner_desc;
static const ProtobufCFieldDescriptor inner_fields[] = {
    PLAIN_STRING(Inner, name, 1),
    PLAIN(Inner, count, 2, INT32),
    PLAIN_ENUM(Inner, color, 3),
    PLAIN_MESSAGE(Inner, child, 4, inner_desc),
};
MESSAGE(inner_desc, "pjtest.Inner", "Inner", Inner, inner_fields);
INIT_FN(inner_desc)

static const ProtobufCFieldDescriptor scalars_fields[] = {
    PLAIN(Scalars, f_int32, 1, INT32),       PLAIN(Scalars, f_int64, 2, INT64),
    PLAIN(Scalars, f_uint32, 3, UINT32),     PLAIN(Scalars, f_uint64, 4, UINT64),
    PLAIN(Scalars, f_sint32, 5, SINT32),     PLAIN(Scalars, f_sint64, 6, SINT64),
    PLAIN(Scalars, f_fixed32, 7, FIXED32),   PLAIN(Scalars, f_fixed64, 8, FIXED64),
    PLAIN(Scalars, f_sfixed32, 9, SFIXED32), PLAIN(Scalars, f_sfixed64, 10, SFIXED64),
    PLAIN(Scalars, f_float, 11, FLOAT),      PLAIN(Scalars, f_double, 12, DOUBLE),
    PLAIN(Scalars, f_bool, 13, BOOL),        PLAIN_STRING(Scalars, f_string, 14),
    PLAIN(Scalars, f_bytes, 15, BYTES),      PLAIN_ENUM(Scalars, f_enum, 16),
    PLAIN_MESSAGE(Scalars, f_message, 17, inner_desc),
};
MESSAGE(scalars_desc, "pjtest.Scalars", "Scalars", Scalars, scalars_fields);
INIT_FN(scalars_desc)

static const ProtobufCFieldDescriptor repeated_fields[] = {
    REPEATED(Repeated, r_int32, 1, INT32, NULL),
    REPEATED(Repeated, r_int64, 2, INT64, NULL),
    REPEATED(Repeated, r_uint32, 3, UINT32, NULL),
    REPEATED(Repeated, r_uint64, 4, UINT64, NULL),
    REPEATED(Repeated, r_sint32, 5, SINT32, NULL),
    REPEATED(Repeated, r_sint64, 6, SINT64, NULL),
    REPEATED(Repeated, r_fixed32, 7, FIXED32, NULL),
    REPEATED(Repeated, r_fixed64, 8, FIXED64, NULL),
    REPEATED(Repeated, r_sfixed32, 9, SFIXED32, NULL),
    REPEATED(Repeated, r_sfixed64, 10, SFIXED64, NULL),
    REPEATED(Repeated, r_float, 11, FLOAT, NULL),
    REPEATED(Repeated, r_double, 12, DOUBLE, NULL),
    REPEATED(Repeated, r_bool, 13, BOOL, NULL),
    REPEATED(Repeated, r_string, 14, STRING, NULL),
    REPEATED(Repeated, r_bytes, 15, BYTES, NULL),
    REPEATED(Repeated, r_enum, 16, ENUM, &color_desc),
    REPEATED(Repeated, r_message, 17, MESSAGE, &inner_desc),
    REPEATED(Repeated, r_time, 18, MESSAGE, &google__protobuf__timestamp__descriptor),
};
MESSAGE(repeated_desc, "pjtest.Repeated", "Repeated", Repeated, repeated_fields);
INIT_FN(repeated_desc)

#define ENTRY(VAR, FULL, SHORT, S, KEY_FIELD, VALUE_FIELD)                  \
    static const ProtobufCFieldDescriptor VAR##_fields[] = {KEY_FIELD, VALUE_FIELD}; \
    MESSAGE(VAR, FULL, SHORT, S, VAR##_fields);                            \
    INIT_FN(VAR)

ENTRY(str_str_desc, "pjtest.Maps.StrStrEntry", "StrStrEntry", StrStrEntry,
      PLAIN_STRING(StrStrEntry, key, 1), PLAIN_STRING(StrStrEntry, value, 2))
ENTRY(str_bytes_desc, "pjtest.Maps.StrBytesEntry", "StrBytesEntry", StrBytesEntry,
      PLAIN_STRING(StrBytesEntry, key, 1), PLAIN(StrBytesEntry, value, 2, BYTES))
ENTRY(int_msg_desc, "pjtest.Maps.IntMsgEntry", "IntMsgEntry", IntMsgEntry,
      PLAIN(IntMsgEntry, key, 1, INT32), PLAIN_MESSAGE(IntMsgEntry, value, 2, inner_desc))
ENTRY(long_enum_desc, "pjtest.Maps.LongEnumEntry", "LongEnumEntry", LongEnumEntry,
      PLAIN(LongEnumEntry, key, 1, INT64), PLAIN_ENUM(LongEnumEntry, value, 2))
ENTRY(bool_int_desc, "pjtest.Maps.BoolIntEntry", "BoolIntEntry", BoolIntEntry,
      PLAIN(BoolIntEntry, key, 1, BOOL), PLAIN(BoolIntEntry, value, 2, INT32))
ENTRY(uint_time_desc, "pjtest.Maps.UintTimeEntry", "UintTimeEntry", UintTimeEntry,
      PLAIN(UintTimeEntry, key, 1, UINT32),
      PLAIN_MESSAGE(UintTimeEntry, value, 2, google__protobuf__timestamp__descriptor))

static const ProtobufCFieldDescriptor maps_fields[] = {
    REPEATED(Maps, str_str, 1, MESSAGE, &str_str_desc),
    REPEATED(Maps, str_bytes, 2, MESSAGE, &str_bytes_desc),
    REPEATED(Maps, int_msg, 3, MESSAGE, &int_msg_desc),
    REPEATED(Maps, long_enum, 4, MESSAGE, &long_enum_desc),
    REPEATED(Maps, bool_int, 5, MESSAGE, &bool_int_desc),
    REPEATED(Maps, uint_time, 6, MESSAGE, &uint_time_desc),
};
MESSAGE(maps_desc, "pjtest.Maps", "Maps", Maps, maps_fields);
INIT_FN(maps_desc)

static const ProtobufCFieldDescriptor log_entry_fields[] = {
    PLAIN_STRING(LogEntry, key, 1),
    PLAIN_STRING(LogEntry, value, 2),
};
MESSAGE(log_entry_desc, "pjtest.LogEntry", "LogEntry", LogEntry, log_entry_fields);
INIT_FN(log_entry_desc)
static const ProtobufCFieldDescriptor log_fields[] = {
    REPEATED(Log, entries, 1, MESSAGE, &log_entry_desc),
};
MESSAGE(log_desc, "pjtest.Log", "Log", Log, log_fields);
INIT_FN(log_desc)

static const ProtobufCFieldDescriptor oneofs_fields[] = {
    PLAIN_STRING(Oneofs, before, 1),
    ONEOF(Oneofs, c_int, 2, INT32, choice_case, NULL, NULL),
    ONEOF(Oneofs, c_string, 3, STRING, choice_case, NULL, &protobuf_c_empty_string),
    ONEOF(Oneofs, c_message, 4, MESSAGE, choice_case, &inner_desc, NULL),
    ONEOF(Oneofs, c_bytes, 5, BYTES, choice_case, NULL, NULL),
    ONEOF(Oneofs, c_enum, 6, ENUM, choice_case, &color_desc, NULL),
    ONEOF(Oneofs, c_time, 7, MESSAGE, choice_case, &google__protobuf__timestamp__descriptor, NULL),
    ONEOF(Oneofs, o_bool, 8, BOOL, other_case, NULL, NULL),
    ONEOF(Oneofs, o_int64, 9, INT64, other_case, NULL, NULL),
    PLAIN(Oneofs, after, 10, INT32),
};
MESSAGE(oneofs_desc, "pjtest.Oneofs", "Oneofs", Oneofs, oneofs_fields);
INIT_FN(oneofs_desc)

static const int32_t d_int32_default = 42;
static const char d_string_default[] = "hello";
static const ProtobufCMessageDescriptor optionals_desc;
static const ProtobufCFieldDescriptor optionals_fields[] = {
    OPTIONAL(Optionals, o_int32, 1, INT32, NULL, NULL),
    OPTIONAL_PTR(Optionals, o_string, 2, STRING, NULL, NULL),
    OPTIONAL(Optionals, o_bool, 3, BOOL, NULL, NULL),
    OPTIONAL(Optionals, o_enum, 4, ENUM, &color_desc, NULL),
    OPTIONAL(Optionals, o_bytes, 5, BYTES, NULL, NULL),
    OPTIONAL(Optionals, o_double, 6, DOUBLE, NULL, NULL),
    OPTIONAL(Optionals, o_int64, 7, INT64, NULL, NULL),
    OPTIONAL_PTR(Optionals, o_msg, 8, MESSAGE, &optionals_desc, NULL),
    FIELD(Optionals, r_int32, 9, REQUIRED, INT32, 0, NULL, NULL, 0),
    OPTIONAL(Optionals, d_int32, 10, INT32, NULL, &d_int32_default),
    OPTIONAL_PTR(Optionals, d_string, 11, STRING, NULL, d_string_default),
};
MESSAGE(optionals_desc, "pjtest2.Optionals", "Optionals", Optionals, optionals_fields);
INIT_FN(optionals_desc)

static const ProtobufCFieldDescriptor field_mask_fields[] = {
    REPEATED(FieldMask, paths, 1, STRING, NULL),
};
MESSAGE(field_mask_desc, "google.protobuf.FieldMask", "FieldMask", FieldMask, field_mask_fields);
INIT_FN(field_mask_desc)

static const ProtobufCFieldDescriptor well_known_fields[] = {
    PLAIN_MESSAGE(WellKnown, time, 1, google__protobuf__timestamp__descriptor),
    PLAIN_MESSAGE(WellKnown, duration, 2, google__protobuf__duration__descriptor),
    PLAIN_MESSAGE(WellKnown, any, 3, google__protobuf__any__descriptor),
    PLAIN_MESSAGE(WellKnown, empty, 4, google__protobuf__empty__descriptor),
    PLAIN_MESSAGE(WellKnown, mask, 5, field_mask_desc),
    PLAIN_MESSAGE(WellKnown, w_double, 6, google__protobuf__double_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_float, 7, google__protobuf__float_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_int64, 8, google__protobuf__int64_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_uint64, 9, google__protobuf__uint64_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_int32, 10, google__protobuf__int32_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_uint32, 11, google__protobuf__uint32_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_bool, 12, google__protobuf__bool_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_string, 13, google__protobuf__string_value__descriptor),
    PLAIN_MESSAGE(WellKnown, w_bytes, 14, google__protobuf__bytes_value__descriptor),
    REPEATED(WellKnown, durations, 15, MESSAGE, &google__protobuf__duration__descriptor),
    REPEATED(WellKnown, w_strings, 16, MESSAGE, &google__protobuf__string_value__descriptor),
};
MESSAGE(well_known_desc, "pjtest.WellKnown", "WellKnown", WellKnown, well_known_fields);
INIT_FN(well_known_desc)

/* Fills fields_sorted_by_name, which protobuf_c_message_descriptor_get_field_by_name searches. */
static const ProtobufCMessageDescriptor *sorting;
static int by_field_name(const void *a, const void *b)
{
    return strcmp(sorting->fields[*(const unsigned *)a].name, sorting->fields[*(const unsigned *)b].name);
}

static void sort_descriptor(const ProtobufCMessageDescriptor *desc, unsigned *by_name)
{
    for (unsigned i = 0; i < desc->n_fields; i++)
        by_name[i] = i;
    sorting = desc;
    qsort(by_name, desc->n_fields, sizeof(unsigned), by_field_name);
}

static void sort_descriptors(void)
{
    sort_descriptor(&inner_desc, inner_desc_by_name);
    sort_descriptor(&scalars_desc, scalars_desc_by_name);
    sort_descriptor(&repeated_desc, repeated_desc_by_name);
    sort_descriptor(&str_str_desc, str_str_desc_by_name);
    sort_descriptor(&str_bytes_desc, str_bytes_desc_by_name);
    sort_descriptor(&int_msg_desc, int_msg_desc_by_name);
    sort_descriptor(&long_enum_desc, long_enum_desc_by_name);
    sort_descriptor(&bool_int_desc, bool_int_desc_by_name);
    sort_descriptor(&uint_time_desc, uint_time_desc_by_name);
    sort_descriptor(&maps_desc, maps_desc_by_name);
    sort_descriptor(&log_entry_desc, log_entry_desc_by_name);
    sort_descriptor(&log_desc, log_desc_by_name);
    sort_descriptor(&oneofs_desc, oneofs_desc_by_name);
    sort_descriptor(&optionals_desc, optionals_desc_by_name);
    sort_descriptor(&field_mask_desc, field_mask_desc_by_name);
    sort_descriptor(&well_known_desc, well_known_desc_by_name);
}

/* ================================================================== */
/* Helpers                                                              */

static char last_err[512];

/* Decodes text (which must parse) as desc; NULL on a decode error (see last_err). */
static ProtobufCMessage *decode_with(const ProtobufCMessageDescriptor *desc, const char *text,
                                     unsigned flags)
{
    cJSON *json = cJSON_Parse(text);
    cr_assert_not_null(json, "test JSON does not parse: %s", text);
    ProtobufCMessage *msg = (ProtobufCMessage *)0x1;
    int rc = tw_pbjson_decode(desc, json, flags, &msg, last_err, sizeof(last_err));
    cJSON_Delete(json);
    if (rc != 0) {
        cr_assert_null(msg, "a failed decode must leave *out NULL");
        cr_assert_neq(last_err[0], '\0', "a failed decode must explain itself");
        return NULL;
    }
    cr_assert_not_null(msg);
    return msg;
}

static ProtobufCMessage *decode_ok(const ProtobufCMessageDescriptor *desc, const char *text)
{
    ProtobufCMessage *msg = decode_with(desc, text, 0);
    cr_assert_not_null(msg, "decode of %s failed: %s", text, last_err);
    return msg;
}

/* Decodes text expecting failure and returns the message. */
static const char *decode_err(const ProtobufCMessageDescriptor *desc, const char *text)
{
    ProtobufCMessage *msg = decode_with(desc, text, 0);
    if (msg) {
        protobuf_c_message_free_unpacked(msg, NULL);
        cr_assert_fail("decode of %s unexpectedly succeeded", text);
    }
    return last_err;
}

static void expect_err(const ProtobufCMessageDescriptor *desc, const char *text, const char *want)
{
    const char *got = decode_err(desc, text);
    cr_expect_str_eq(got, want, "for input %s\n  got:  %s\n  want: %s", text, got, want);
}

/* Compact JSON text of msg; the caller frees it. */
static char *encode_text(const ProtobufCMessage *msg)
{
    cJSON *json = tw_pbjson_encode(msg);
    cr_assert_not_null(json);
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    cr_assert_not_null(text);
    return text;
}

static void expect_encodes_as(const ProtobufCMessage *msg, const char *want)
{
    char *text = encode_text(msg);
    cr_expect_str_eq(text, want);
    free(text);
}

/* Decodes input, checks its encoding is want, and that want decodes to itself again. */
static void expect_round_trip(const ProtobufCMessageDescriptor *desc, const char *input, const char *want)
{
    ProtobufCMessage *msg = decode_ok(desc, input);
    expect_encodes_as(msg, want);
    protobuf_c_message_free_unpacked(msg, NULL);
    msg = decode_ok(desc, want);
    expect_encodes_as(msg, want);
    protobuf_c_message_free_unpacked(msg, NULL);
}

/* Packs msg to the protobuf wire format and unpacks it again with protobuf-c. */
static ProtobufCMessage *through_wire(const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    cr_assert_not_null(buf);
    cr_assert_eq(protobuf_c_message_pack(msg, buf), len);
    ProtobufCMessage *copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
    free(buf);
    cr_assert_not_null(copy, "protobuf-c could not unpack what it packed");
    return copy;
}

TestSuite(pbjson, .init = sort_descriptors);

/* ================================================================== */
/* Scalars                                                              */

Test(pbjson, defaults_are_omitted)
{
    Scalars msg;
    scalars_desc_init(&msg.base);
    expect_encodes_as(&msg.base, "{}");
}

static const char all_scalars_json[] =
    "{\"fInt32\":-42,\"fInt64\":\"-9223372036854775808\",\"fUint32\":4294967295,"
    "\"fUint64\":\"18446744073709551615\",\"fSint32\":-2147483648,\"fSint64\":\"9223372036854775807\","
    "\"fFixed32\":7,\"fFixed64\":\"12345678901234567890\",\"fSfixed32\":-8,\"fSfixed64\":\"-9\","
    "\"fFloat\":0.1,\"fDouble\":2.5,\"fBool\":true,\"fString\":\"h\xc3\xa9llo \\\"q\\\"\","
    "\"fBytes\":\"AAH/\",\"fEnum\":\"COLOR_DARK_BLUE\",\"fMessage\":{\"name\":\"in\",\"count\":3}}";

Test(pbjson, every_scalar_type_encodes)
{
    Inner inner;
    inner_desc_init(&inner.base);
    inner.name = "in";
    inner.count = 3;
    Scalars msg;
    scalars_desc_init(&msg.base);
    msg.f_int32 = -42;
    msg.f_int64 = INT64_MIN;
    msg.f_uint32 = UINT32_MAX;
    msg.f_uint64 = UINT64_MAX;
    msg.f_sint32 = INT32_MIN;
    msg.f_sint64 = INT64_MAX;
    msg.f_fixed32 = 7;
    msg.f_fixed64 = UINT64_C(12345678901234567890);
    msg.f_sfixed32 = -8;
    msg.f_sfixed64 = -9;
    msg.f_float = 0.1f;
    msg.f_double = 2.5;
    msg.f_bool = 1;
    msg.f_string = "h\xc3\xa9llo \"q\"";
    static uint8_t bytes[] = {0x00, 0x01, 0xff};
    msg.f_bytes = (ProtobufCBinaryData){sizeof(bytes), bytes};
    msg.f_enum = COLOR_DARK_BLUE;
    msg.f_message = &inner;
    expect_encodes_as(&msg.base, all_scalars_json);
}

Test(pbjson, every_scalar_type_decodes)
{
    Scalars *msg = (Scalars *)decode_ok(&scalars_desc, all_scalars_json);
    cr_expect_eq(msg->f_int32, -42);
    cr_expect_eq(msg->f_int64, INT64_MIN);
    cr_expect_eq(msg->f_uint32, UINT32_MAX);
    cr_expect_eq(msg->f_uint64, UINT64_MAX);
    cr_expect_eq(msg->f_sint32, INT32_MIN);
    cr_expect_eq(msg->f_sint64, INT64_MAX);
    cr_expect_eq(msg->f_fixed32, 7);
    cr_expect_eq(msg->f_fixed64, UINT64_C(12345678901234567890));
    cr_expect_eq(msg->f_sfixed32, -8);
    cr_expect_eq(msg->f_sfixed64, -9);
    cr_expect_eq(msg->f_float, 0.1f);
    cr_expect_eq(msg->f_double, 2.5);
    cr_expect_eq(msg->f_bool, 1);
    cr_expect_str_eq(msg->f_string, "h\xc3\xa9llo \"q\"");
    cr_expect_eq(msg->f_bytes.len, 3);
    cr_expect_eq(memcmp(msg->f_bytes.data, "\x00\x01\xff", 3), 0);
    cr_expect_eq(msg->f_enum, COLOR_DARK_BLUE);
    cr_assert_not_null(msg->f_message);
    cr_expect_str_eq(msg->f_message->name, "in");
    cr_expect_eq(msg->f_message->count, 3);
    expect_encodes_as(&msg->base, all_scalars_json);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, proto_names_are_accepted_too)
{
    Scalars *msg = (Scalars *)decode_ok(
        &scalars_desc, "{\"f_int32\":5,\"f_string\":\"x\",\"fEnum\":\"COLOR_RED\",\"f_message\":{}}");
    cr_expect_eq(msg->f_int32, 5);
    cr_expect_str_eq(msg->f_string, "x");
    cr_expect_eq(msg->f_enum, COLOR_RED);
    cr_expect_not_null(msg->f_message);
    expect_encodes_as(&msg->base, "{\"fInt32\":5,\"fString\":\"x\",\"fEnum\":\"COLOR_RED\",\"fMessage\":{}}");
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, integers_accept_numbers_and_strings)
{
    expect_round_trip(&scalars_desc, "{\"fInt64\":123,\"fUint64\":456}",
                      "{\"fInt64\":\"123\",\"fUint64\":\"456\"}");
    expect_round_trip(&scalars_desc, "{\"fInt32\":\"-5\",\"fUint32\":\"4294967295\",\"fSint32\":\"7\"}",
                      "{\"fInt32\":-5,\"fUint32\":4294967295,\"fSint32\":7}");
    /* Integral numbers in any JSON spelling, quoted or not. */
    expect_round_trip(&scalars_desc, "{\"fInt32\":1.0,\"fInt64\":\"1e3\",\"fFixed32\":2E1}",
                      "{\"fInt32\":1,\"fInt64\":\"1000\",\"fFixed32\":20}");
    /* Quoted 64-bit values are exact beyond 2^53. */
    expect_round_trip(&scalars_desc, "{\"fInt64\":\"9007199254740993\"}", "{\"fInt64\":\"9007199254740993\"}");
    expect_round_trip(&scalars_desc, "{\"fInt64\":\"-0\"}", "{}");
}

Test(pbjson, integer_errors)
{
    expect_err(&scalars_desc, "{\"fInt32\":1.5}", "fInt32: not an int32: 1.5");
    expect_err(&scalars_desc, "{\"fInt32\":2147483648}",
               "fInt32: value out of range for int32: 2147483648");
    expect_err(&scalars_desc, "{\"fInt32\":\"-2147483649\"}",
               "fInt32: value out of range for int32: \"-2147483649\"");
    expect_err(&scalars_desc, "{\"fUint32\":-1}", "fUint32: value out of range for uint32: -1");
    expect_err(&scalars_desc, "{\"fUint64\":\"-1\"}", "fUint64: value out of range for uint64: \"-1\"");
    expect_err(&scalars_desc, "{\"fInt64\":\"9223372036854775808\"}",
               "fInt64: value out of range for int64: \"9223372036854775808\"");
    expect_err(&scalars_desc, "{\"fUint64\":\"18446744073709551616\"}",
               "fUint64: value out of range for uint64: \"18446744073709551616\"");
    expect_err(&scalars_desc, "{\"fInt64\":\"12abc\"}", "fInt64: not an int64: \"12abc\"");
    expect_err(&scalars_desc, "{\"fInt64\":\" 1\"}", "fInt64: not an int64: \" 1\"");
    expect_err(&scalars_desc, "{\"fInt64\":\"\"}", "fInt64: not an int64: \"\"");
    expect_err(&scalars_desc, "{\"fInt32\":true}", "fInt32: expected int32 as a number or string, got boolean");
    expect_err(&scalars_desc, "{\"fSfixed64\":[1]}", "fSfixed64: expected int64 as a number or string, got array");
}

Test(pbjson, floats_and_doubles)
{
    expect_round_trip(&scalars_desc, "{\"fFloat\":\"NaN\",\"fDouble\":\"-Infinity\"}",
                      "{\"fFloat\":\"NaN\",\"fDouble\":\"-Infinity\"}");
    expect_round_trip(&scalars_desc, "{\"fFloat\":\"Infinity\",\"fDouble\":\"2.5e-3\"}",
                      "{\"fFloat\":\"Infinity\",\"fDouble\":0.0025}");
    /* FLT_MAX prints as its shortest text, which is just above FLT_MAX as a double */
    expect_round_trip(&scalars_desc, "{\"fFloat\":3.4028234663852886e38,\"fDouble\":1e300}",
                      "{\"fFloat\":3.4028235e+38,\"fDouble\":1e+300}");
    expect_round_trip(&scalars_desc, "{\"fFloat\":-3.40282356e38}", "{\"fFloat\":-3.4028235e+38}");
    expect_round_trip(&scalars_desc, "{\"fFloat\":1e-45}", "{\"fFloat\":1e-45}");
    expect_round_trip(&scalars_desc, "{\"fFloat\":0.1,\"fDouble\":0.1}", "{\"fFloat\":0.1,\"fDouble\":0.1}");
    /* cJSON alone would print this as 0.3; it must survive exactly */
    expect_round_trip(&scalars_desc, "{\"fDouble\":0.30000000000000004}", "{\"fDouble\":0.30000000000000004}");
    expect_round_trip(&scalars_desc, "{\"fDouble\":-0,\"fFloat\":-0.0}", "{\"fFloat\":-0,\"fDouble\":-0}");
    expect_round_trip(&scalars_desc, "{\"fDouble\":-1.7976931348623157e308}",
                      "{\"fDouble\":-1.7976931348623157e+308}");

    /* ... also when the encoded tree is decoded directly, without printing */
    Scalars in;
    scalars_desc_init(&in.base);
    in.f_double = 0.30000000000000004;
    cJSON *tree = tw_pbjson_encode(&in.base);
    cr_assert_not_null(tree);
    ProtobufCMessage *out = NULL;
    cr_assert_eq(tw_pbjson_decode(&scalars_desc, tree, 0, &out, last_err, sizeof(last_err)), 0, "%s", last_err);
    cJSON_Delete(tree);
    cr_expect_eq(((Scalars *)out)->f_double, 0.30000000000000004);
    protobuf_c_message_free_unpacked(out, NULL);

    Scalars *msg = (Scalars *)decode_ok(&scalars_desc, "{\"fFloat\":\"NaN\",\"fDouble\":\"Infinity\"}");
    cr_expect(isnan(msg->f_float));
    cr_expect(isinf(msg->f_double) && msg->f_double > 0);
    protobuf_c_message_free_unpacked(&msg->base, NULL);

    expect_err(&scalars_desc, "{\"fFloat\":1e39}", "fFloat: value out of range for float: 1e+39");
    expect_err(&scalars_desc, "{\"fFloat\":3.4028236e38}", "fFloat: value out of range for float: 3.4028236e+38");
    expect_err(&scalars_desc, "{\"fDouble\":\"1e999\"}", "fDouble: value out of range for double: \"1e999\"");
    expect_err(&scalars_desc, "{\"fDouble\":\"nan\"}", "fDouble: not a double: \"nan\"");
    expect_err(&scalars_desc, "{\"fDouble\":\"0x10\"}", "fDouble: not a double: \"0x10\"");
    expect_err(&scalars_desc, "{\"fDouble\":{}}", "fDouble: expected double as a number or string, got object");
}

Test(pbjson, bools)
{
    expect_round_trip(&scalars_desc, "{\"fBool\":false}", "{}");
    expect_round_trip(&scalars_desc, "{\"fBool\":true}", "{\"fBool\":true}");
    expect_err(&scalars_desc, "{\"fBool\":\"true\"}", "fBool: expected true or false, got string");
    expect_err(&scalars_desc, "{\"fBool\":1}", "fBool: expected true or false, got number");
}

Test(pbjson, strings_must_be_utf8)
{
    expect_round_trip(&scalars_desc, "{\"fString\":\"\\u00e9\\ud83d\\ude00\\n\"}",
                      "{\"fString\":\"\xc3\xa9\xf0\x9f\x98\x80\\n\"}");
    expect_round_trip(&scalars_desc, "{\"fString\":\"\"}", "{}");
    expect_err(&scalars_desc, "{\"fString\":\"a\xff\"}", "fString: string is not valid UTF-8");
    expect_err(&scalars_desc, "{\"fString\":\"\xc0\xaf\"}", "fString: string is not valid UTF-8");
    expect_err(&scalars_desc, "{\"fString\":12}", "fString: expected a string, got number");

    /* Output never fails: bad bytes become U+FFFD. */
    Scalars msg;
    scalars_desc_init(&msg.base);
    msg.f_string = "a\xff" "b\xed\xa0\x80";
    expect_encodes_as(&msg.base, "{\"fString\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}");
}

Test(pbjson, bytes_base64_variants)
{
    static const char *const inputs[] = {"+/8=", "-_8=", "+/8", "-_8"};
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "{\"fBytes\":\"%s\"}", inputs[i]);
        Scalars *msg = (Scalars *)decode_ok(&scalars_desc, text);
        cr_expect_eq(msg->f_bytes.len, 2, "for %s", inputs[i]);
        cr_expect_eq(memcmp(msg->f_bytes.data, "\xfb\xff", 2), 0, "for %s", inputs[i]);
        expect_encodes_as(&msg->base, "{\"fBytes\":\"+/8=\"}");
        protobuf_c_message_free_unpacked(&msg->base, NULL);
    }
    expect_round_trip(&scalars_desc, "{\"fBytes\":\"YQ\"}", "{\"fBytes\":\"YQ==\"}");
    expect_round_trip(&scalars_desc, "{\"fBytes\":\"YWJj\"}", "{\"fBytes\":\"YWJj\"}");
    expect_round_trip(&scalars_desc, "{\"fBytes\":\"\"}", "{}");
    expect_err(&scalars_desc, "{\"fBytes\":\"a*b=\"}", "fBytes: not valid base64: \"a*b=\"");
    expect_err(&scalars_desc, "{\"fBytes\":\"YWJjZ\"}", "fBytes: not valid base64: \"YWJjZ\"");
    expect_err(&scalars_desc, "{\"fBytes\":\"YQ=\"}", "fBytes: not valid base64: \"YQ=\"");
    expect_err(&scalars_desc, "{\"fBytes\":\"YQ===\"}", "fBytes: not valid base64: \"YQ===\"");
    expect_err(&scalars_desc, "{\"fBytes\":\"YW Jj\"}", "fBytes: not valid base64: \"YW Jj\"");
    expect_err(&scalars_desc, "{\"fBytes\":[]}", "fBytes: expected a base64 string, got array");
}

Test(pbjson, enums_by_name_number_and_unknown)
{
    expect_round_trip(&scalars_desc, "{\"fEnum\":\"COLOR_LIGHT_GREEN\"}", "{\"fEnum\":\"COLOR_LIGHT_GREEN\"}");
    expect_round_trip(&scalars_desc, "{\"fEnum\":1}", "{\"fEnum\":\"COLOR_RED\"}");
    expect_round_trip(&scalars_desc, "{\"fEnum\":\"2\"}", "{\"fEnum\":\"COLOR_DARK_BLUE\"}");
    /* An unknown number is kept (proto3 enums are open) and printed as a number. */
    expect_round_trip(&scalars_desc, "{\"fEnum\":99}", "{\"fEnum\":99}");
    /* An unknown name is 0 and never an error. */
    expect_round_trip(&scalars_desc, "{\"fEnum\":\"COLOR_ULTRAVIOLET\"}", "{}");
    expect_round_trip(&scalars_desc, "{\"fEnum\":\"COLOR_UNSPECIFIED\"}", "{}");
    expect_err(&scalars_desc, "{\"fEnum\":{}}", "fEnum: expected an enum name or number, got object");
    expect_err(&scalars_desc, "{\"fEnum\":1.5}", "fEnum: not an enum number: 1.5");
    expect_err(&scalars_desc, "{\"fEnum\":4294967296}",
               "fEnum: value out of range for enum number: 4294967296");
}

Test(pbjson, legacy_pascal_case_enums)
{
    static const struct {
        const char *name;
        int legacy, plain;
    } cases[] = {
        {"DarkBlue", COLOR_DARK_BLUE, 0},  {"LightGreen", COLOR_LIGHT_GREEN, 0},
        {"Red", COLOR_RED, 0},             {"Unspecified", 0, 0},
        {"COLOR_RED", COLOR_RED, COLOR_RED}, {"RED", 0, 0}, /* not PascalCase, not a name */
        {"Purple", 0, 0},                  {"dark_blue", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[64];
        snprintf(text, sizeof(text), "{\"fEnum\":\"%s\"}", cases[i].name);
        Scalars *msg = (Scalars *)decode_with(&scalars_desc, text, TW_PBJSON_LEGACY_ENUMS);
        cr_assert_not_null(msg);
        cr_expect_eq(msg->f_enum, cases[i].legacy, "legacy %s", cases[i].name);
        protobuf_c_message_free_unpacked(&msg->base, NULL);
        msg = (Scalars *)decode_with(&scalars_desc, text, 0);
        cr_assert_not_null(msg);
        cr_expect_eq(msg->f_enum, cases[i].plain, "plain %s", cases[i].name);
        protobuf_c_message_free_unpacked(&msg->base, NULL);
    }
}

Test(pbjson, nested_messages)
{
    static const char text[] =
        "{\"fMessage\":{\"name\":\"a\",\"child\":{\"name\":\"b\",\"child\":{\"count\":3,\"color\":\"COLOR_RED\"}}}}";
    Scalars *msg = (Scalars *)decode_ok(&scalars_desc, text);
    cr_assert_not_null(msg->f_message);
    cr_assert_not_null(msg->f_message->child);
    cr_assert_not_null(msg->f_message->child->child);
    cr_expect_str_eq(msg->f_message->child->name, "b");
    cr_expect_eq(msg->f_message->child->child->count, 3);
    cr_expect_eq(msg->f_message->child->child->color, COLOR_RED);
    cr_expect_null(msg->f_message->child->child->child);
    expect_encodes_as(&msg->base, text);
    protobuf_c_message_free_unpacked(&msg->base, NULL);

    /* null means unset, for messages and scalars alike */
    expect_round_trip(&scalars_desc, "{\"fMessage\":null,\"fInt32\":null,\"fString\":null}", "{}");
    expect_err(&scalars_desc, "{\"fMessage\":\"x\"}", "fMessage: expected an object, got string");
    expect_err(&scalars_desc, "{\"fMessage\":{\"child\":{\"child\":{\"count\":\"many\"}}}}",
               "fMessage.child.child.count: not an int32: \"many\"");
}

Test(pbjson, unknown_fields_are_ignored)
{
    expect_round_trip(&scalars_desc, "{\"nope\":[1,{\"x\":null}],\"fInt32\":1,\"FInt32\":9,\"@type\":\"x\"}",
                      "{\"fInt32\":1}");
}

/* ================================================================== */
/* Repeated fields                                                      */

static const char all_repeated_json[] =
    "{\"rInt32\":[1,-2],\"rInt64\":[\"3\",\"-4\"],\"rUint32\":[5],\"rUint64\":[\"6\"],"
    "\"rSint32\":[-7],\"rSint64\":[\"-8\"],\"rFixed32\":[9],\"rFixed64\":[\"10\"],"
    "\"rSfixed32\":[-11],\"rSfixed64\":[\"-12\"],\"rFloat\":[1.5,\"NaN\"],\"rDouble\":[0,-0.25],"
    "\"rBool\":[true,false,true],\"rString\":[\"a\",\"\",\"c\"],\"rBytes\":[\"AQ==\",\"\"],"
    "\"rEnum\":[\"COLOR_RED\",\"COLOR_UNSPECIFIED\",7],\"rMessage\":[{\"name\":\"x\"},{}],"
    "\"rTime\":[\"1970-01-01T00:00:00Z\",\"2000-01-01T00:00:00.500Z\"]}";

Test(pbjson, repeated_every_type)
{
    Repeated *msg = (Repeated *)decode_ok(&repeated_desc, all_repeated_json);
    cr_assert_eq(msg->n_r_int32, 2);
    cr_expect_eq(msg->r_int32[1], -2);
    cr_expect_eq(msg->r_int64[1], -4);
    cr_expect_eq(msg->r_uint64[0], 6);
    cr_expect_eq(msg->r_sfixed64[0], -12);
    cr_assert_eq(msg->n_r_float, 2);
    cr_expect_eq(msg->r_float[0], 1.5f);
    cr_expect(isnan(msg->r_float[1]));
    cr_assert_eq(msg->n_r_bool, 3);
    cr_expect_eq(msg->r_bool[0] + msg->r_bool[1] + msg->r_bool[2], 2);
    cr_assert_eq(msg->n_r_string, 3);
    cr_expect_str_eq(msg->r_string[1], "");
    cr_assert_eq(msg->n_r_bytes, 2);
    cr_expect_eq(msg->r_bytes[0].len, 1);
    cr_expect_eq(msg->r_bytes[1].len, 0);
    cr_assert_eq(msg->n_r_enum, 3);
    cr_expect_eq(msg->r_enum[2], 7);
    cr_assert_eq(msg->n_r_message, 2);
    cr_expect_str_eq(msg->r_message[0]->name, "x");
    cr_assert_eq(msg->n_r_time, 2);
    cr_expect_eq(msg->r_time[1]->seconds, 946684800);
    cr_expect_eq(msg->r_time[1]->nanos, 500000000);
    expect_encodes_as(&msg->base, all_repeated_json);

    /* protobuf-c reads back what our descriptors describe */
    ProtobufCMessage *copy = through_wire(&msg->base);
    expect_encodes_as(copy, all_repeated_json);
    protobuf_c_message_free_unpacked(copy, NULL);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, repeated_empty_and_errors)
{
    expect_round_trip(&repeated_desc, "{\"rInt32\":[],\"rMessage\":[],\"rString\":null}", "{}");
    expect_err(&repeated_desc, "{\"rInt32\":[1,null]}", "rInt32[1]: null is not allowed in a repeated field");
    expect_err(&repeated_desc, "{\"rInt32\":3}", "rInt32: expected an array, got number");
    expect_err(&repeated_desc, "{\"rMessage\":[{},{\"child\":{\"name\":7}}]}",
               "rMessage[1].child.name: expected a string, got number");
    expect_err(&repeated_desc, "{\"rTime\":[\"2000-01-01T00:00:00Z\",\"soon\"]}",
               "rTime[1]: not an RFC 3339 timestamp: \"soon\"");
}

/* ================================================================== */
/* Maps                                                                 */

static const char all_maps_json[] =
    "{\"strStr\":{\"a\":\"1\",\"b\":\"\"},\"strBytes\":{\"k\":\"AQI=\"},"
    "\"intMsg\":{\"-5\":{\"name\":\"x\"},\"7\":{}},\"longEnum\":{\"9007199254740993\":\"COLOR_RED\"},"
    "\"boolInt\":{\"true\":1,\"false\":0},\"uintTime\":{\"4294967295\":\"2020-01-01T00:00:00Z\"}}";

Test(pbjson, maps_every_key_kind)
{
    Maps *msg = (Maps *)decode_ok(&maps_desc, all_maps_json);
    cr_assert_eq(msg->n_str_str, 2);
    cr_expect_str_eq(msg->str_str[0]->key, "a");
    cr_expect_str_eq(msg->str_str[0]->value, "1");
    cr_assert_eq(msg->n_str_bytes, 1);
    cr_expect_eq(msg->str_bytes[0]->value.len, 2);
    cr_assert_eq(msg->n_int_msg, 2);
    cr_expect_eq(msg->int_msg[0]->key, -5);
    cr_expect_str_eq(msg->int_msg[0]->value->name, "x");
    cr_assert_eq(msg->n_long_enum, 1);
    cr_expect_eq(msg->long_enum[0]->key, INT64_C(9007199254740993));
    cr_expect_eq(msg->long_enum[0]->value, COLOR_RED);
    cr_assert_eq(msg->n_bool_int, 2);
    cr_expect_eq(msg->bool_int[0]->key, 1);
    cr_expect_eq(msg->bool_int[1]->key, 0);
    cr_assert_eq(msg->n_uint_time, 1);
    cr_expect_eq(msg->uint_time[0]->key, UINT32_MAX);
    cr_expect_eq(msg->uint_time[0]->value->seconds, 1577836800);
    expect_encodes_as(&msg->base, all_maps_json);

    ProtobufCMessage *copy = through_wire(&msg->base);
    expect_encodes_as(copy, all_maps_json);
    protobuf_c_message_free_unpacked(copy, NULL);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, map_entry_without_value_and_repeated_keys)
{
    IntMsgEntry first, second;
    int_msg_desc_init(&first.base);
    int_msg_desc_init(&second.base);
    first.key = 3;
    second.key = 3; /* same key: the last one wins, as on the wire */
    Inner inner;
    inner_desc_init(&inner.base);
    inner.count = 9;
    second.value = &inner;
    IntMsgEntry *entries[] = {&first, &second};
    Maps msg;
    maps_desc_init(&msg.base);
    msg.n_int_msg = 2;
    msg.int_msg = entries;
    expect_encodes_as(&msg.base, "{\"intMsg\":{\"3\":{\"count\":9}}}");
    msg.n_int_msg = 1; /* an entry whose message value is absent prints as {} */
    expect_encodes_as(&msg.base, "{\"intMsg\":{\"3\":{}}}");
}

Test(pbjson, map_errors)
{
    expect_err(&maps_desc, "{\"intMsg\":{\"x\":{}}}", "intMsg[\"x\"]: map key is not an integer: \"x\"");
    expect_err(&maps_desc, "{\"intMsg\":{\"2147483648\":{}}}",
               "intMsg[\"2147483648\"]: map key out of range: \"2147483648\"");
    expect_err(&maps_desc, "{\"uintTime\":{\"-1\":\"2020-01-01T00:00:00Z\"}}",
               "uintTime[\"-1\"]: map key out of range: \"-1\"");
    expect_err(&maps_desc, "{\"boolInt\":{\"yes\":1}}", "boolInt[\"yes\"]: map key is not true or false");
    expect_err(&maps_desc, "{\"strStr\":{\"a\":null}}", "strStr[\"a\"]: null is not allowed as a map value");
    expect_err(&maps_desc, "{\"strStr\":[]}", "strStr: expected an object (a map), got array");
    expect_err(&maps_desc, "{\"strBytes\":{\"k\":\"!!\"}}", "strBytes[\"k\"]: not valid base64: \"!!\"");
    expect_err(&maps_desc, "{\"intMsg\":{\"1\":{\"count\":true}}}",
               "intMsg[\"1\"].count: expected int32 as a number or string, got boolean");
}

Test(pbjson, entry_named_message_outside_its_user_is_not_a_map)
{
    expect_round_trip(&log_desc, "{\"entries\":[{\"key\":\"a\",\"value\":\"b\"},{\"key\":\"c\"}]}",
                      "{\"entries\":[{\"key\":\"a\",\"value\":\"b\"},{\"key\":\"c\"}]}");
}

/* ================================================================== */
/* Oneofs                                                               */

Test(pbjson, oneof_members_print_even_when_zero)
{
    Oneofs msg;
    oneofs_desc_init(&msg.base);
    expect_encodes_as(&msg.base, "{}");
    msg.choice_case = 2;
    msg.c_int = 0;
    expect_encodes_as(&msg.base, "{\"cInt\":0}");
    msg.choice_case = 3;
    msg.c_string = "";
    msg.other_case = 8;
    msg.o_bool = 0;
    expect_encodes_as(&msg.base, "{\"cString\":\"\",\"oBool\":false}");
    msg.choice_case = 4;
    msg.c_message = NULL;
    msg.other_case = 0;
    expect_encodes_as(&msg.base, "{\"cMessage\":{}}");
}

Test(pbjson, oneof_decode_sets_the_case)
{
    Oneofs *msg = (Oneofs *)decode_ok(&oneofs_desc, "{\"before\":\"b\",\"cString\":\"\",\"oInt64\":\"0\",\"after\":1}");
    cr_expect_eq(msg->choice_case, 3);
    cr_expect_str_eq(msg->c_string, "");
    cr_expect_eq(msg->other_case, 9);
    cr_expect_eq(msg->o_int64, 0);
    expect_encodes_as(&msg->base, "{\"before\":\"b\",\"cString\":\"\",\"oInt64\":\"0\",\"after\":1}");
    protobuf_c_message_free_unpacked(&msg->base, NULL);

    static const char *const each[] = {
        "{\"cInt\":0}", "{\"cString\":\"s\"}", "{\"cMessage\":{\"name\":\"m\"}}", "{\"cBytes\":\"\"}",
        "{\"cEnum\":\"COLOR_UNSPECIFIED\"}", "{\"cTime\":\"0001-01-01T00:00:00Z\"}",
    };
    for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++) {
        msg = (Oneofs *)decode_ok(&oneofs_desc, each[i]);
        cr_expect_eq(msg->choice_case, i + 2, "for %s", each[i]);
        expect_encodes_as(&msg->base, each[i]);
        ProtobufCMessage *copy = through_wire(&msg->base);
        expect_encodes_as(copy, each[i]);
        protobuf_c_message_free_unpacked(copy, NULL);
        protobuf_c_message_free_unpacked(&msg->base, NULL);
    }
}

Test(pbjson, oneof_conflicts)
{
    expect_err(&oneofs_desc, "{\"cInt\":1,\"cString\":\"x\"}", "cString: oneof already set by field \"c_int\"");
    expect_err(&oneofs_desc, "{\"cMessage\":{},\"c_time\":\"2000-01-01T00:00:00Z\"}",
               "c_time: oneof already set by field \"c_message\"");
    /* a null member does not count; members of different oneofs do not conflict */
    expect_round_trip(&oneofs_desc, "{\"cInt\":null,\"cString\":\"x\",\"oBool\":true}",
                      "{\"cString\":\"x\",\"oBool\":true}");
}

/* ================================================================== */
/* proto2 optional fields (has_ flags), required fields and defaults    */

Test(pbjson, has_flags_decide_presence)
{
    Optionals msg;
    optionals_desc_init(&msg.base);
    cr_expect_eq(msg.d_int32, 42);
    /* required always prints; defaults that were never set do not */
    expect_encodes_as(&msg.base, "{\"rInt32\":0}");
    msg.has_o_int32 = 1;
    msg.has_o_bool = 1;
    msg.has_o_enum = 1;
    msg.has_o_bytes = 1;
    msg.has_o_double = 1;
    msg.has_o_int64 = 1;
    msg.o_string = "";
    expect_encodes_as(&msg.base, "{\"oInt32\":0,\"oString\":\"\",\"oBool\":false,\"oEnum\":\"COLOR_UNSPECIFIED\","
                                 "\"oBytes\":\"\",\"oDouble\":0,\"oInt64\":\"0\",\"rInt32\":0}");
}

Test(pbjson, decode_sets_has_flags)
{
    static const char text[] = "{\"oInt32\":0,\"oBool\":false,\"oEnum\":0,\"oBytes\":\"\",\"oDouble\":0,"
                               "\"oInt64\":\"0\",\"oMsg\":{\"rInt32\":2},\"rInt32\":0,\"dInt32\":42,\"dString\":\"hello\"}";
    Optionals *msg = (Optionals *)decode_ok(&optionals_desc, text);
    cr_expect(msg->has_o_int32 && msg->has_o_bool && msg->has_o_enum && msg->has_o_bytes);
    cr_expect(msg->has_o_double && msg->has_o_int64 && msg->has_d_int32);
    cr_expect_null(msg->o_string);
    cr_assert_not_null(msg->o_msg);
    cr_expect_eq(msg->o_msg->r_int32, 2);
    cr_expect_str_eq(msg->d_string, "hello");
    cr_expect_neq(msg->d_string, d_string_default);
    expect_encodes_as(&msg->base, "{\"oInt32\":0,\"oBool\":false,\"oEnum\":\"COLOR_UNSPECIFIED\",\"oBytes\":\"\","
                                  "\"oDouble\":0,\"oInt64\":\"0\",\"oMsg\":{\"rInt32\":2},\"rInt32\":0,"
                                  "\"dInt32\":42,\"dString\":\"hello\"}");
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

/* ================================================================== */
/* Well-known types                                                     */

static void expect_timestamp_text(int64_t seconds, int32_t nanos, const char *want)
{
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    ts.seconds = seconds;
    ts.nanos = nanos;
    char *text = encode_text(&ts.base);
    cr_expect_str_eq(text, want, "for %lld.%09d", (long long)seconds, nanos);
    free(text);
}

Test(pbjson, timestamp_output_digits)
{
    expect_timestamp_text(0, 0, "\"1970-01-01T00:00:00Z\"");
    expect_timestamp_text(1714564800, 500000000, "\"2024-05-01T12:00:00.500Z\"");
    expect_timestamp_text(1714564800, 123456000, "\"2024-05-01T12:00:00.123456Z\"");
    expect_timestamp_text(1714564800, 1, "\"2024-05-01T12:00:00.000000001Z\"");
    expect_timestamp_text(1714564800, 10, "\"2024-05-01T12:00:00.000000010Z\"");
    expect_timestamp_text(-1, 999000000, "\"1969-12-31T23:59:59.999Z\"");
    expect_timestamp_text(951782400, 0, "\"2000-02-29T00:00:00Z\"");
    expect_timestamp_text(INT64_C(-62135596800), 0, "\"0001-01-01T00:00:00Z\"");
    expect_timestamp_text(INT64_C(253402300799), 999999999, "\"9999-12-31T23:59:59.999999999Z\"");
    /* Outside the JSON range: the plain message form rather than a failure. */
    expect_timestamp_text(INT64_C(253402300800), 0, "{\"seconds\":\"253402300800\"}");
    expect_timestamp_text(0, -1, "{\"nanos\":-1}");
}

static void expect_timestamp_parse(const char *text, int64_t seconds, int32_t nanos)
{
    char json[128];
    snprintf(json, sizeof(json), "{\"time\":\"%s\"}", text);
    WellKnown *msg = (WellKnown *)decode_ok(&well_known_desc, json);
    cr_assert_not_null(msg->time);
    cr_expect_eq(msg->time->seconds, seconds, "seconds of %s", text);
    cr_expect_eq(msg->time->nanos, nanos, "nanos of %s", text);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, timestamp_input)
{
    expect_timestamp_parse("1970-01-01T00:00:00Z", 0, 0);
    expect_timestamp_parse("2024-05-01T12:00:00.1Z", 1714564800, 100000000);
    expect_timestamp_parse("2024-05-01T12:00:00.12345Z", 1714564800, 123450000);
    expect_timestamp_parse("2024-05-01T12:00:00.123456789Z", 1714564800, 123456789);
    expect_timestamp_parse("2024-05-01T13:30:00+01:30", 1714564800, 0);
    expect_timestamp_parse("2024-05-01T04:00:00.5-08:00", 1714564800, 500000000);
    expect_timestamp_parse("2024-05-01t12:00:00z", 1714564800, 0);
    expect_timestamp_parse("0001-01-01T00:00:00Z", INT64_C(-62135596800), 0);
    expect_timestamp_parse("0001-01-01T01:00:00+01:00", INT64_C(-62135596800), 0);
    expect_timestamp_parse("9999-12-31T23:59:59.999999999Z", INT64_C(253402300799), 999999999);
    expect_timestamp_parse("2000-02-29T00:00:00Z", 951782400, 0);

    /* the zero time survives a round trip as itself, not as "unset" */
    expect_round_trip(&well_known_desc, "{\"time\":\"0001-01-01T00:00:00Z\"}", "{\"time\":\"0001-01-01T00:00:00Z\"}");
    expect_round_trip(&well_known_desc, "{\"time\":\"1970-01-01T00:00:00.000Z\"}", "{\"time\":\"1970-01-01T00:00:00Z\"}");
}

Test(pbjson, timestamp_errors)
{
    expect_err(&well_known_desc, "{\"time\":\"abc\"}", "time: not an RFC 3339 timestamp: \"abc\"");
    static const char *const bad[] = {
        "2024-05-01T12:00:00",              /* no offset */
        "2024-05-01 12:00:00Z",             /* space for T */
        "2024-05-01T12:00:00.Z",            /* empty fraction */
        "2024-05-01T12:00:00.1234567891Z",  /* ten digits */
        "2023-02-29T00:00:00Z",             /* not a leap year */
        "2024-13-01T00:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:00:60Z",
        "2024-05-01T12:00:00+1:00",
        "2024-05-01T12:00:00+01:00x",
        "24-05-01T12:00:00Z",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[128], want[160];
        snprintf(json, sizeof(json), "{\"time\":\"%s\"}", bad[i]);
        snprintf(want, sizeof(want), "time: not an RFC 3339 timestamp: \"%s\"", bad[i]);
        expect_err(&well_known_desc, json, want);
    }
    expect_err(&well_known_desc, "{\"time\":\"0000-12-31T23:59:59Z\"}",
               "time: timestamp outside years 0001-9999: \"0000-12-31T23:59:59Z\"");
    expect_err(&well_known_desc, "{\"time\":\"0001-01-01T00:30:00+01:00\"}",
               "time: timestamp outside years 0001-9999: \"0001-01-01T00:30:00+01:00\"");
    expect_err(&well_known_desc, "{\"time\":1714564800}",
               "time: expected an RFC 3339 timestamp string, got number");
    expect_err(&well_known_desc, "{\"time\":{\"seconds\":\"1\"}}",
               "time: expected an RFC 3339 timestamp string, got object");
}

static void expect_duration_text(int64_t seconds, int32_t nanos, const char *want)
{
    Google__Protobuf__Duration d = GOOGLE__PROTOBUF__DURATION__INIT;
    d.seconds = seconds;
    d.nanos = nanos;
    char *text = encode_text(&d.base);
    cr_expect_str_eq(text, want, "for %lld/%d", (long long)seconds, nanos);
    free(text);
}

Test(pbjson, duration_output)
{
    expect_duration_text(0, 0, "\"0s\"");
    expect_duration_text(10, 0, "\"10s\"");
    expect_duration_text(0, 100000000, "\"0.100s\"");
    expect_duration_text(-1, -500000000, "\"-1.500s\"");
    expect_duration_text(0, -500000000, "\"-0.500s\"");
    expect_duration_text(1, 1000, "\"1.000001s\"");
    expect_duration_text(1, 1, "\"1.000000001s\"");
    expect_duration_text(INT64_C(-315576000000), -999999999, "\"-315576000000.999999999s\"");
    /* mixed signs or out of range: the plain message form */
    expect_duration_text(1, -1, "{\"seconds\":\"1\",\"nanos\":-1}");
    expect_duration_text(INT64_C(315576000001), 0, "{\"seconds\":\"315576000001\"}");
}

static void expect_duration_parse(const char *text, int64_t seconds, int32_t nanos)
{
    char json[128];
    snprintf(json, sizeof(json), "{\"duration\":\"%s\"}", text);
    WellKnown *msg = (WellKnown *)decode_ok(&well_known_desc, json);
    cr_assert_not_null(msg->duration);
    cr_expect_eq(msg->duration->seconds, seconds, "seconds of %s", text);
    cr_expect_eq(msg->duration->nanos, nanos, "nanos of %s", text);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, duration_input)
{
    expect_duration_parse("10s", 10, 0);
    expect_duration_parse("0.1s", 0, 100000000);
    expect_duration_parse("-1.5s", -1, -500000000);
    expect_duration_parse("-0.000000001s", 0, -1);
    expect_duration_parse("1.123456789s", 1, 123456789);
    expect_duration_parse("315576000000s", INT64_C(315576000000), 0);
    expect_duration_parse("0s", 0, 0);
    expect_round_trip(&well_known_desc, "{\"duration\":\"-1.5s\"}", "{\"duration\":\"-1.500s\"}");

    static const char *const bad[] = {"10", "1.s", ".5s", "abc", "1.0000000001s", "+1s", "1 s", "1sx", "--1s", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char json[128], want[160];
        snprintf(json, sizeof(json), "{\"duration\":\"%s\"}", bad[i]);
        snprintf(want, sizeof(want), "duration: not a duration like \"1.5s\": \"%s\"", bad[i]);
        expect_err(&well_known_desc, json, want);
    }
    expect_err(&well_known_desc, "{\"duration\":\"315576000001s\"}",
               "duration: duration outside +-315576000000s: \"315576000001s\"");
    expect_err(&well_known_desc, "{\"duration\":\"99999999999999999999999s\"}",
               "duration: duration outside +-315576000000s: \"99999999999999999999999s\"");
    expect_err(&well_known_desc, "{\"duration\":10}", "duration: expected a duration string like \"1.5s\", got number");
}

Test(pbjson, wrappers_are_bare_values)
{
    static const char zeros[] = "{\"wDouble\":0,\"wFloat\":0,\"wInt64\":\"0\",\"wUint64\":\"0\",\"wInt32\":0,"
                                "\"wUint32\":0,\"wBool\":false,\"wString\":\"\",\"wBytes\":\"\"}";
    WellKnown *msg = (WellKnown *)decode_ok(&well_known_desc, zeros);
    cr_expect_not_null(msg->w_double);
    cr_expect_not_null(msg->w_bool);
    cr_expect_not_null(msg->w_string);
    expect_encodes_as(&msg->base, zeros); /* a present wrapper prints even when zero */
    protobuf_c_message_free_unpacked(&msg->base, NULL);

    static const char values[] = "{\"wDouble\":1.5,\"wFloat\":\"NaN\",\"wInt64\":\"-9223372036854775808\","
                                 "\"wUint64\":\"18446744073709551615\",\"wInt32\":-1,\"wUint32\":4294967295,"
                                 "\"wBool\":true,\"wString\":\"s\",\"wBytes\":\"AQ==\",\"wStrings\":[\"a\",\"\"]}";
    expect_round_trip(&well_known_desc, values, values);
    expect_round_trip(&well_known_desc, "{\"wInt64\":7,\"wBool\":null}", "{\"wInt64\":\"7\"}");
    expect_err(&well_known_desc, "{\"wBool\":{\"value\":true}}", "wBool: expected true or false, got object");
    expect_err(&well_known_desc, "{\"wStrings\":[\"a\",null]}", "wStrings[1]: null is not allowed in a repeated field");
}

Test(pbjson, any_is_type_url_and_base64)
{
    static const char text[] = "{\"any\":{\"@type\":\"type.googleapis.com/pjtest.Inner\",\"value\":\"CgF4\"}}";
    WellKnown *msg = (WellKnown *)decode_ok(&well_known_desc, text);
    cr_assert_not_null(msg->any);
    cr_expect_str_eq(msg->any->type_url, "type.googleapis.com/pjtest.Inner");
    cr_expect_eq(msg->any->value.len, 3);
    expect_encodes_as(&msg->base, text);
    protobuf_c_message_free_unpacked(&msg->base, NULL);

    expect_round_trip(&well_known_desc, "{\"any\":{\"typeUrl\":\"t\",\"value\":\"\"}}", "{\"any\":{\"@type\":\"t\"}}");
    expect_round_trip(&well_known_desc, "{\"any\":{}}", "{\"any\":{}}");
    expect_err(&well_known_desc, "{\"any\":{\"@type\":\"type.googleapis.com/pjtest.Inner\",\"name\":\"x\"}}",
               "any.name: google.protobuf.Any supports only \"@type\" and a base64 \"value\"");
    expect_err(&well_known_desc, "{\"any\":{\"@type\":1}}", "any.@type: expected a string, got number");
}

Test(pbjson, empty_and_field_mask)
{
    expect_round_trip(&well_known_desc, "{\"empty\":{\"ignored\":1}}", "{\"empty\":{}}");
    expect_round_trip(&well_known_desc, "{\"mask\":\"fooBar,a.bC,x\"}", "{\"mask\":\"fooBar,a.bC,x\"}");
    WellKnown *msg = (WellKnown *)decode_ok(&well_known_desc, "{\"mask\":\"fooBar,a.bC\"}");
    cr_assert_not_null(msg->mask);
    cr_assert_eq(msg->mask->n_paths, 2);
    cr_expect_str_eq(msg->mask->paths[0], "foo_bar");
    cr_expect_str_eq(msg->mask->paths[1], "a.b_c");
    protobuf_c_message_free_unpacked(&msg->base, NULL);
    expect_round_trip(&well_known_desc, "{\"mask\":\"\"}", "{\"mask\":\"\"}");
    expect_err(&well_known_desc, "{\"mask\":\"a,,b\"}", "mask: field mask has an empty path");
    expect_err(&well_known_desc, "{\"mask\":[\"a\"]}", "mask: expected a field mask string like \"a.b,c\", got array");
}

Test(pbjson, well_known_messages_through_the_wire)
{
    static const char text[] =
        "{\"time\":\"2024-05-01T12:00:00.000000001Z\",\"duration\":\"-3.250s\",\"any\":{\"@type\":\"t\",\"value\":\"AA==\"},"
        "\"empty\":{},\"mask\":\"a,bC\",\"wDouble\":0,\"wString\":\"x\",\"durations\":[\"1s\",\"0s\"]}";
    WellKnown *msg = (WellKnown *)decode_ok(&well_known_desc, text);
    ProtobufCMessage *copy = through_wire(&msg->base);
    expect_encodes_as(copy, text);
    protobuf_c_message_free_unpacked(copy, NULL);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, well_known_types_at_top_level)
{
    cJSON *json = cJSON_CreateString("2024-05-01T12:00:00Z");
    ProtobufCMessage *out = NULL;
    cr_assert_eq(tw_pbjson_decode(&google__protobuf__timestamp__descriptor, json, 0, &out, last_err,
                                  sizeof(last_err)), 0, "%s", last_err);
    cJSON_Delete(json);
    cr_expect_eq(((Google__Protobuf__Timestamp *)out)->seconds, 1714564800);
    expect_encodes_as(out, "\"2024-05-01T12:00:00Z\"");
    protobuf_c_message_free_unpacked(out, NULL);

    Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
    expect_encodes_as(&empty.base, "{}");
    expect_err(&google__protobuf__duration__descriptor, "{}",
               "top level: expected a duration string like \"1.5s\", got object");
}

/* ================================================================== */
/* Error reporting                                                      */

Test(pbjson, top_level_must_be_an_object)
{
    expect_err(&scalars_desc, "[]", "top level: expected an object, got array");
    expect_err(&scalars_desc, "\"x\"", "top level: expected an object, got string");
    expect_err(&scalars_desc, "null", "top level: expected an object, got null");
}

Test(pbjson, bad_arguments)
{
    char err[128];
    ProtobufCMessage *out = (ProtobufCMessage *)0x1;
    cr_expect_eq(tw_pbjson_decode(&scalars_desc, NULL, 0, &out, err, sizeof(err)), -1);
    cr_expect_null(out);
    cr_expect_str_eq(err, "top level: no JSON given");
    cJSON *json = cJSON_CreateObject();
    cr_expect_eq(tw_pbjson_decode(NULL, json, 0, &out, err, sizeof(err)), -1);
    cr_expect_str_eq(err, "top level: no message descriptor or output pointer given");
    cr_expect_eq(tw_pbjson_decode(&scalars_desc, json, 0, NULL, err, sizeof(err)), -1);
    cJSON_Delete(json);
    cr_expect_null(tw_pbjson_encode(NULL));
}

Test(pbjson, error_buffer_is_optional_and_truncated_safely)
{
    cJSON *json = cJSON_Parse("{\"fMessage\":{\"child\":{\"count\":\"many\"}}}");
    ProtobufCMessage *out = NULL;
    cr_expect_eq(tw_pbjson_decode(&scalars_desc, json, 0, &out, NULL, 0), -1);
    char small[8];
    memset(small, 'x', sizeof(small));
    cr_expect_eq(tw_pbjson_decode(&scalars_desc, json, 0, &out, small, sizeof(small)), -1);
    cr_expect_str_eq(small, "fMessag");
    cJSON_Delete(json);
}

Test(pbjson, duplicate_fields_are_rejected)
{
    expect_err(&scalars_desc, "{\"fInt32\":1,\"f_int32\":2}", "f_int32: field \"f_int32\" given more than once");
    expect_err(&repeated_desc, "{\"rInt32\":[1],\"rInt32\":[2]}", "rInt32: field \"r_int32\" given more than once");
}

/* {"fMessage":{"child":{"child":...{"count":<count>}...}}} with depth children. */
static void deep_json(char *text, size_t cap, int depth, const char *count)
{
    size_t o = (size_t)snprintf(text, cap, "{\"fMessage\":");
    for (int i = 0; i < depth; i++)
        o += (size_t)snprintf(text + o, cap - o, "{\"child\":");
    o += (size_t)snprintf(text + o, cap - o, "{\"count\":%s}", count);
    for (int i = 0; i < depth + 1 && o + 1 < cap; i++)
        text[o++] = '}';
    text[o] = '\0';
}

Test(pbjson, deep_paths_are_clipped_not_overflowed)
{
    /* 80 nested children: the path is longer than the 255 bytes kept. */
    char text[2048];
    deep_json(text, sizeof(text), 80, "\"x\"");
    const char *err = decode_err(&scalars_desc, text);
    cr_expect_eq(strncmp(err, "fMessage.child.child.", 21), 0, "%s", err);
    cr_expect(strstr(err, ": not an int32: \"x\"") != NULL, "%s", err);
    cr_expect_lt(strlen(err), 255 + 40, "%s", err);

    deep_json(text, sizeof(text), 80, "7");
    Scalars *msg = (Scalars *)decode_ok(&scalars_desc, text);
    Inner *in = msg->f_message;
    for (int i = 0; i < 80; i++)
        in = in->child;
    cr_expect_eq(in->count, 7);
    protobuf_c_message_free_unpacked(&msg->base, NULL);
}

Test(pbjson, long_bad_values_are_quoted_briefly)
{
    char text[256];
    snprintf(text, sizeof(text), "{\"fInt32\":\"%s\"}",
             "0123456789abcdefghij0123456789abcdefghij0123456789abcdefghij\\n");
    expect_err(&scalars_desc, text,
               "fInt32: not an int32: \"0123456789abcdefghij0123456789abcdefghij01234567...\"");
    expect_err(&scalars_desc, "{\"fInt32\":\"a\\\"b\\tc\"}", "fInt32: not an int32: \"a\\\"b\\x09c\"");
}

/* ================================================================== */
/* Temporal history                                                     */

static const char history_json[] =
    "{\n"
    "  \"events\": [\n"
    "    {\n"
    "      \"eventId\": \"1\",\n"
    "      \"eventTime\": \"2024-05-01T12:00:00.123456789Z\",\n"
    "      \"eventType\": \"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\",\n"
    "      \"taskId\": \"1048576\",\n"
    "      \"workflowExecutionStartedEventAttributes\": {\n"
    "        \"workflowType\": {\"name\": \"GreetingWorkflow\"},\n"
    "        \"taskQueue\": {\"name\": \"greetings\", \"kind\": \"TASK_QUEUE_KIND_NORMAL\"},\n"
    "        \"input\": {\"payloads\": [{\"metadata\": {\"encoding\": \"anNvbi9wbGFpbg==\"},\n"
    "                                  \"data\": \"IldvcmxkIg==\"}]},\n"
    "        \"workflowExecutionTimeout\": \"0s\",\n"
    "        \"workflowRunTimeout\": \"3600s\",\n"
    "        \"workflowTaskTimeout\": \"10s\",\n"
    "        \"originalExecutionRunId\": \"5a7c1d2e-0000-4000-8000-000000000001\",\n"
    "        \"identity\": \"1234@host\",\n"
    "        \"firstExecutionRunId\": \"5a7c1d2e-0000-4000-8000-000000000001\",\n"
    "        \"attempt\": 1,\n"
    "        \"firstWorkflowTaskBackoff\": \"0s\",\n"
    "        \"header\": {},\n"
    "        \"workflowId\": \"greeting-1\"\n"
    "      }\n"
    "    },\n"
    "    {\n"
    "      \"eventId\": \"2\",\n"
    "      \"eventTime\": \"2024-05-01T12:00:00.200Z\",\n"
    "      \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\",\n"
    "      \"taskId\": \"1048577\",\n"
    "      \"workflowTaskScheduledEventAttributes\": {\n"
    "        \"taskQueue\": {\"name\": \"greetings\", \"kind\": \"TASK_QUEUE_KIND_NORMAL\"},\n"
    "        \"startToCloseTimeout\": \"10s\",\n"
    "        \"attempt\": \"1\"\n"
    "      }\n"
    "    },\n"
    "    {\n"
    "      \"eventId\": 3,\n"
    "      \"eventTime\": \"2024-05-01T14:00:01+02:00\",\n"
    "      \"eventType\": 10,\n"
    "      \"task_id\": \"1048580\",\n"
    "      \"activityTaskScheduledEventAttributes\": {\n"
    "        \"activityId\": \"1\",\n"
    "        \"activityType\": {\"name\": \"ComposeGreeting\"},\n"
    "        \"taskQueue\": {\"name\": \"greetings\", \"kind\": \"TASK_QUEUE_KIND_NORMAL\"},\n"
    "        \"header\": {\"fields\": {\"tracing\": {\"metadata\": {\"encoding\": \"anNvbi9wbGFpbg\"},\n"
    "                                            \"data\": \"e30\"}}},\n"
    "        \"input\": {\"payloads\": [{\"metadata\": {\"encoding\": \"anNvbi9wbGFpbg==\"},\n"
    "                                  \"data\": \"IkhpIg==\"}]},\n"
    "        \"scheduleToCloseTimeout\": \"0s\",\n"
    "        \"startToCloseTimeout\": \"10.5s\",\n"
    "        \"heartbeatTimeout\": null,\n"
    "        \"workflowTaskCompletedEventId\": 2,\n"
    "        \"retryPolicy\": {\"initialInterval\": \"1s\", \"backoffCoefficient\": 2,\n"
    "                        \"maximumInterval\": \"100s\", \"maximumAttempts\": \"5\"},\n"
    "        \"attempt\": \"1\"\n"
    "      }\n"
    "    },\n"
    "    {\n"
    "      \"eventId\": \"4\",\n"
    "      \"eventTime\": \"2020-01-01T00:00:00Z\",\n"
    "      \"eventType\": \"WorkflowExecutionStarted\",\n"
    "      \"workflowExecutionStartedEventAttributes\": {\n"
    "        \"workflowType\": {\"name\": \"LegacyWorkflow\"},\n"
    "        \"taskQueue\": {\"name\": \"legacy-tq\", \"kind\": \"Normal\"}\n"
    "      }\n"
    "    },\n"
    "    {\n"
    "      \"eventId\": \"5\",\n"
    "      \"eventTime\": \"2024-05-01T12:00:02Z\",\n"
    "      \"eventType\": \"EVENT_TYPE_FROM_THE_FUTURE\",\n"
    "      \"taskId\": \"1048590\",\n"
    "      \"workerMayIgnore\": true,\n"
    "      \"fromTheFutureEventAttributes\": {\"answer\": 42}\n"
    "    }\n"
    "  ]\n"
    "}\n";

/* What the history above prints as: canonical names, quoted int64s, 0/3/6/9 digits. */
static const char history_encoded[] =
    "{\"events\":["
    "{\"eventId\":\"1\",\"eventTime\":\"2024-05-01T12:00:00.123456789Z\","
    "\"eventType\":\"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\",\"taskId\":\"1048576\","
    "\"workflowExecutionStartedEventAttributes\":{\"workflowType\":{\"name\":\"GreetingWorkflow\"},"
    "\"taskQueue\":{\"name\":\"greetings\",\"kind\":\"TASK_QUEUE_KIND_NORMAL\"},"
    "\"input\":{\"payloads\":[{\"metadata\":{\"encoding\":\"anNvbi9wbGFpbg==\"},\"data\":\"IldvcmxkIg==\"}]},"
    "\"workflowExecutionTimeout\":\"0s\",\"workflowRunTimeout\":\"3600s\",\"workflowTaskTimeout\":\"10s\","
    "\"originalExecutionRunId\":\"5a7c1d2e-0000-4000-8000-000000000001\",\"identity\":\"1234@host\","
    "\"firstExecutionRunId\":\"5a7c1d2e-0000-4000-8000-000000000001\",\"attempt\":1,"
    "\"firstWorkflowTaskBackoff\":\"0s\",\"header\":{},\"workflowId\":\"greeting-1\"}},"
    "{\"eventId\":\"2\",\"eventTime\":\"2024-05-01T12:00:00.200Z\","
    "\"eventType\":\"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\",\"taskId\":\"1048577\","
    "\"workflowTaskScheduledEventAttributes\":{\"taskQueue\":{\"name\":\"greetings\",\"kind\":\"TASK_QUEUE_KIND_NORMAL\"},"
    "\"startToCloseTimeout\":\"10s\",\"attempt\":1}},"
    "{\"eventId\":\"3\",\"eventTime\":\"2024-05-01T12:00:01Z\","
    "\"eventType\":\"EVENT_TYPE_ACTIVITY_TASK_SCHEDULED\",\"taskId\":\"1048580\","
    "\"activityTaskScheduledEventAttributes\":{\"activityId\":\"1\",\"activityType\":{\"name\":\"ComposeGreeting\"},"
    "\"taskQueue\":{\"name\":\"greetings\",\"kind\":\"TASK_QUEUE_KIND_NORMAL\"},"
    "\"header\":{\"fields\":{\"tracing\":{\"metadata\":{\"encoding\":\"anNvbi9wbGFpbg==\"},\"data\":\"e30=\"}}},"
    "\"input\":{\"payloads\":[{\"metadata\":{\"encoding\":\"anNvbi9wbGFpbg==\"},\"data\":\"IkhpIg==\"}]},"
    "\"scheduleToCloseTimeout\":\"0s\",\"startToCloseTimeout\":\"10.500s\",\"workflowTaskCompletedEventId\":\"2\","
    "\"retryPolicy\":{\"initialInterval\":\"1s\",\"backoffCoefficient\":2,\"maximumInterval\":\"100s\","
    "\"maximumAttempts\":5}}},"
    "{\"eventId\":\"4\",\"eventTime\":\"2020-01-01T00:00:00Z\","
    "\"eventType\":\"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\","
    "\"workflowExecutionStartedEventAttributes\":{\"workflowType\":{\"name\":\"LegacyWorkflow\"},"
    "\"taskQueue\":{\"name\":\"legacy-tq\",\"kind\":\"TASK_QUEUE_KIND_NORMAL\"}}},"
    "{\"eventId\":\"5\",\"eventTime\":\"2024-05-01T12:00:02Z\",\"taskId\":\"1048590\",\"workerMayIgnore\":true}"
    "]}";

static Temporal__Api__History__V1__History *decode_history(const char *text, unsigned flags)
{
    ProtobufCMessage *msg = decode_with(&temporal__api__history__v1__history__descriptor, text, flags);
    cr_assert_not_null(msg, "history decode failed: %s", last_err);
    return (Temporal__Api__History__V1__History *)msg;
}

static void expect_payload(const Temporal__Api__Common__V1__Payload *p, const char *data)
{
    cr_assert_eq(p->n_metadata, 1);
    cr_expect_str_eq(p->metadata[0]->key, "encoding");
    cr_expect_eq(p->metadata[0]->value.len, 10);
    cr_expect_eq(memcmp(p->metadata[0]->value.data, "json/plain", 10), 0);
    cr_expect_eq(p->data.len, strlen(data));
    cr_expect_eq(memcmp(p->data.data, data, p->data.len), 0);
}

Test(pbjson, history_decodes)
{
    Temporal__Api__History__V1__History *h = decode_history(history_json, TW_PBJSON_LEGACY_ENUMS);
    cr_assert_eq(h->n_events, 5);

    Temporal__Api__History__V1__HistoryEvent *e = h->events[0];
    cr_expect_eq(e->event_id, 1);
    cr_assert_not_null(e->event_time);
    cr_expect_eq(e->event_time->seconds, 1714564800);
    cr_expect_eq(e->event_time->nanos, 123456789);
    cr_expect_eq(e->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    cr_expect_eq(e->task_id, 1048576);
    cr_assert_eq(e->attributes_case,
                 TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_STARTED_EVENT_ATTRIBUTES);
    Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *started =
        e->workflow_execution_started_event_attributes;
    cr_expect_str_eq(started->workflow_type->name, "GreetingWorkflow");
    cr_expect_str_eq(started->task_queue->name, "greetings");
    cr_expect_eq(started->task_queue->kind, TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL);
    cr_assert_eq(started->input->n_payloads, 1);
    expect_payload(started->input->payloads[0], "\"World\"");
    cr_expect_eq(started->workflow_run_timeout->seconds, 3600);
    cr_assert_not_null(started->workflow_execution_timeout);
    cr_expect_eq(started->workflow_execution_timeout->seconds, 0);
    cr_expect_eq(started->attempt, 1);
    cr_expect_not_null(started->header);
    cr_expect_str_eq(started->workflow_id, "greeting-1");

    e = h->events[1];
    cr_expect_eq(e->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    cr_assert_eq(e->attributes_case,
                 TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_TASK_SCHEDULED_EVENT_ATTRIBUTES);
    cr_expect_eq(e->workflow_task_scheduled_event_attributes->attempt, 1);
    cr_expect_eq(e->workflow_task_scheduled_event_attributes->start_to_close_timeout->seconds, 10);
    cr_expect_eq(e->event_time->nanos, 200000000);

    e = h->events[2];
    cr_expect_eq(e->event_id, 3);
    cr_expect_eq(e->task_id, 1048580);
    cr_expect_eq(e->event_time->seconds, 1714564801);
    cr_expect_eq(e->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    Temporal__Api__History__V1__ActivityTaskScheduledEventAttributes *act =
        e->activity_task_scheduled_event_attributes;
    cr_assert_not_null(act);
    cr_expect_str_eq(act->activity_id, "1");
    cr_expect_str_eq(act->activity_type->name, "ComposeGreeting");
    cr_assert_eq(act->header->n_fields, 1);
    cr_expect_str_eq(act->header->fields[0]->key, "tracing");
    cr_expect_eq(act->header->fields[0]->value->data.len, 2);
    expect_payload(act->input->payloads[0], "\"Hi\"");
    cr_expect_eq(act->start_to_close_timeout->seconds, 10);
    cr_expect_eq(act->start_to_close_timeout->nanos, 500000000);
    cr_expect_null(act->heartbeat_timeout);
    cr_expect_eq(act->workflow_task_completed_event_id, 2);
    cr_expect_eq(act->retry_policy->backoff_coefficient, 2.0);
    cr_expect_eq(act->retry_policy->maximum_attempts, 5);
    cr_expect_eq(act->retry_policy->maximum_interval->seconds, 100);

    e = h->events[3]; /* tctl-era spelling */
    cr_expect_eq(e->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    cr_expect_eq(e->workflow_execution_started_event_attributes->task_queue->kind,
                 TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL);

    e = h->events[4]; /* from a newer server */
    cr_expect_eq(e->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_UNSPECIFIED);
    cr_expect_eq(e->worker_may_ignore, 1);
    cr_expect_eq(e->attributes_case, TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES__NOT_SET);

    expect_encodes_as(&h->base, history_encoded);
    ProtobufCMessage *copy = through_wire(&h->base);
    expect_encodes_as(copy, history_encoded);
    protobuf_c_message_free_unpacked(copy, NULL);
    protobuf_c_message_free_unpacked(&h->base, NULL);

    /* what we print reads back as the same history */
    h = decode_history(history_encoded, 0);
    expect_encodes_as(&h->base, history_encoded);
    protobuf_c_message_free_unpacked(&h->base, NULL);
}

Test(pbjson, history_legacy_names_need_the_flag)
{
    Temporal__Api__History__V1__History *h = decode_history(history_json, 0);
    Temporal__Api__History__V1__HistoryEvent *e = h->events[3];
    cr_expect_eq(e->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_UNSPECIFIED);
    cr_expect_eq(e->workflow_execution_started_event_attributes->task_queue->kind,
                 TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_UNSPECIFIED);
    protobuf_c_message_free_unpacked(&h->base, NULL);

    h = decode_history("{\"events\":[{\"eventType\":\"ActivityTaskScheduled\"},{\"eventType\":\"Unspecified\"},"
                       "{\"eventType\":\"WorkflowExecutionContinuedAsNew\"},{\"eventType\":\"NoSuchEvent\"}]}",
                       TW_PBJSON_LEGACY_ENUMS);
    cr_expect_eq(h->events[0]->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    cr_expect_eq(h->events[1]->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_UNSPECIFIED);
    cr_expect_eq(h->events[2]->event_type,
                 TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
    cr_expect_eq(h->events[3]->event_type, TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_UNSPECIFIED);
    protobuf_c_message_free_unpacked(&h->base, NULL);
}

Test(pbjson, history_errors)
{
    const ProtobufCMessageDescriptor *desc = &temporal__api__history__v1__history__descriptor;
    expect_err(desc, "[{\"eventId\":\"1\"}]", "top level: expected an object, got array");
    expect_err(desc, "{\"events\":{\"eventId\":\"1\"}}", "events: expected an array, got object");
    expect_err(desc, "{\"events\":[{\"eventId\":\"1\"},{\"eventTime\":\"abc\"}]}",
               "events[1].eventTime: not an RFC 3339 timestamp: \"abc\"");
    expect_err(desc,
               "{\"events\":[{\"workflowExecutionStartedEventAttributes\":{\"input\":{\"payloads\":"
               "[{\"data\":\"e30=\"},{\"metadata\":{\"encoding\":\"%%%\"}}]}}}]}",
               "events[0].workflowExecutionStartedEventAttributes.input.payloads[1].metadata[\"encoding\"]: "
               "not valid base64: \"%%%\"");
    expect_err(desc, "{\"events\":[{},{},{\"eventId\":{\"value\":3}}]}",
               "events[2].eventId: expected int64 as a number or string, got object");
    expect_err(desc,
               "{\"events\":[{},{},{\"activityTaskScheduledEventAttributes\":{\"activityId\":1}}]}",
               "events[2].activityTaskScheduledEventAttributes.activityId: expected a string, got number");
    expect_err(desc,
               "{\"events\":[{\"workflowTaskScheduledEventAttributes\":{\"attempt\":\"first\"}}]}",
               "events[0].workflowTaskScheduledEventAttributes.attempt: not an int32: \"first\"");
    expect_err(desc,
               "{\"events\":[{\"workflowTaskScheduledEventAttributes\":{},"
               "\"activityTaskScheduledEventAttributes\":{}}]}",
               "events[0].activityTaskScheduledEventAttributes: oneof already set by field "
               "\"workflow_task_scheduled_event_attributes\"");
}
