/* Payload lists: building, reading, argument checks, protobuf round trips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/common.h"

static tw_payloads *list;

static void setup(void)
{
    cr_assert_eq(tw_payloads_new(&list), 0);
}

static void teardown(void)
{
    tw_payloads_free(list);
    list = NULL;
}

TestSuite(payload, .init = setup, .fini = teardown);

static void assert_data(const tw_payloads *l, size_t i, const char *expected, size_t expected_len)
{
    const uint8_t *data = NULL;
    size_t len = 99;
    cr_assert_eq(tw_payloads_data(l, i, &data, &len), 0);
    cr_assert_eq(len, expected_len);
    if (expected_len)
        cr_assert_eq(memcmp(data, expected, expected_len), 0);
}

static void assert_meta(const tw_payloads *l, size_t i, const char *key, const char *expected)
{
    const uint8_t *value = NULL;
    size_t len = 0;
    cr_assert_eq(tw_payloads_metadata_get(l, i, key, &value, &len), 0, "metadata %s missing", key);
    cr_assert_eq(len, strlen(expected));
    cr_assert_eq(memcmp(value, expected, len), 0);
}

Test(payload, new_list_is_empty)
{
    cr_assert_eq(tw_payloads_count(list), 0);
    cr_assert_eq(tw_payloads_count(NULL), 0);
    tw_payloads_free(NULL);
}

Test(payload, add_copies_data_and_reports_index)
{
    uint8_t buf[] = {1, 2, 3, 0, 5};
    size_t idx = 42;
    cr_assert_eq(tw_payloads_add(list, buf, sizeof(buf), &idx), 0);
    cr_assert_eq(idx, 0);
    cr_assert_eq(tw_payloads_add(list, (const uint8_t *)"xy", 2, &idx), 0);
    cr_assert_eq(idx, 1);
    cr_assert_eq(tw_payloads_add(list, NULL, 0, NULL), 0);
    cr_assert_eq(tw_payloads_count(list), 3);
    buf[0] = 9; /* the list holds a copy */
    assert_data(list, 0, "\x01\x02\x03\x00\x05", 5);
    assert_data(list, 1, "xy", 2);
    assert_data(list, 2, "", 0);
    cr_assert_eq(tw_payloads_metadata_count(list, 0), 0);
    cr_assert_null(tw_payloads_name(list, 0));
}

Test(payload, many_adds_grow_the_list)
{
    for (int i = 0; i < 100; i++) {
        char s[16];
        snprintf(s, sizeof(s), "%d", i);
        cr_assert_eq(tw_payloads_add_json(list, s, NULL), 0);
    }
    cr_assert_eq(tw_payloads_count(list), 100);
    assert_data(list, 57, "57", 2);
}

Test(payload, add_json_sets_encoding)
{
    size_t idx = 7;
    cr_assert_eq(tw_payloads_add_json(list, "{\"a\": [1, 2]}", &idx), 0);
    cr_assert_eq(idx, 0);
    assert_data(list, 0, "{\"a\": [1, 2]}", 13);
    cr_assert_eq(tw_payloads_metadata_count(list, 0), 1);
    assert_meta(list, 0, "encoding", "json/plain");
}

Test(payload, add_json_rejects_bad_json)
{
    cr_assert_eq(tw_payloads_add_json(list, "{\"a\": ", NULL), TW_EPROTO);
    cr_assert_eq(tw_error_code(tw_error_last()), TW_EPROTO);
    cr_assert(strstr(tw_error_message(tw_error_last()), "not valid JSON"));
    cr_assert_eq(tw_payloads_add_json(list, "", NULL), TW_EPROTO);
    cr_assert_eq(tw_payloads_add_json(list, "nope", NULL), TW_EPROTO);
    cr_assert_eq(tw_payloads_count(list), 0, "nothing is added on failure");
}

Test(payload, metadata_set_replace_and_read)
{
    cr_assert_eq(tw_payloads_add(list, (const uint8_t *)"d", 1, NULL), 0);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "encoding", (const uint8_t *)"binary/plain", 12), 0);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "type", (const uint8_t *)"Keyword", 7), 0);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "empty", NULL, 0), 0);
    cr_assert_eq(tw_payloads_metadata_count(list, 0), 3);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "encoding", (const uint8_t *)"json/plain", 10), 0);
    cr_assert_eq(tw_payloads_metadata_count(list, 0), 3, "replacing keeps the count");
    assert_meta(list, 0, "encoding", "json/plain");
    assert_meta(list, 0, "type", "Keyword");
    assert_meta(list, 0, "empty", "");

    const char *key = NULL;
    const uint8_t *value = NULL;
    size_t len = 0;
    cr_assert_eq(tw_payloads_metadata_at(list, 1, 0, &key, &value, &len), TW_EINVAL);
    cr_assert_eq(tw_payloads_metadata_at(list, 0, 1, &key, &value, &len), 0);
    cr_assert_str_eq(key, "type");
    cr_assert_eq(len, 7);
    cr_assert_eq(tw_payloads_metadata_at(list, 0, 3, &key, &value, &len), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "out of range"));
    cr_assert_eq(tw_payloads_metadata_at(list, 0, 0, NULL, &value, &len), TW_EINVAL);
}

Test(payload, metadata_get_missing_key_is_not_found)
{
    cr_assert_eq(tw_payloads_add(list, NULL, 0, NULL), 0);
    const uint8_t *value = NULL;
    size_t len = 0;
    cr_assert_eq(tw_payloads_metadata_get(list, 0, "absent", &value, &len), TW_ENOTFOUND);
    cr_assert_eq(tw_error_code(tw_error_last()), TW_ENOTFOUND, "the last error matches the code returned");
    cr_assert(strstr(tw_error_message(tw_error_last()), "absent"));
}

Test(payload, metadata_key_checks)
{
    cr_assert_eq(tw_payloads_add(list, NULL, 0, NULL), 0);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "\xff\xfe", (const uint8_t *)"v", 1), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "UTF-8"));
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "caf\xc3", (const uint8_t *)"v", 1), TW_EINVAL,
                 "truncated sequence");
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "\xc0\xaf", (const uint8_t *)"v", 1), TW_EINVAL, "overlong");
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "\xed\xa0\x80", (const uint8_t *)"v", 1), TW_EINVAL,
                 "surrogate");
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "", (const uint8_t *)"v", 1), TW_EINVAL);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, NULL, (const uint8_t *)"v", 1), TW_EINVAL);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "k", NULL, 3), TW_EINVAL);
    cr_assert_eq(tw_payloads_metadata_count(list, 0), 0);
    cr_assert_eq(tw_payloads_set_metadata(list, 0, "caf\xc3\xa9", (const uint8_t *)"v", 1), 0, "valid UTF-8");
}

Test(payload, names)
{
    cr_assert_eq(tw_payloads_add_json(list, "1", NULL), 0);
    cr_assert_null(tw_payloads_name(list, 0));
    cr_assert_eq(tw_payloads_set_name(list, 0, "first"), 0);
    cr_assert_str_eq(tw_payloads_name(list, 0), "first");
    cr_assert_eq(tw_payloads_set_name(list, 0, "renamed"), 0);
    cr_assert_str_eq(tw_payloads_name(list, 0), "renamed");
    cr_assert_eq(tw_payloads_set_name(list, 0, "\x80"), TW_EINVAL);
    cr_assert_str_eq(tw_payloads_name(list, 0), "renamed", "a rejected name leaves the old one");
    cr_assert_eq(tw_payloads_set_name(list, 0, NULL), 0);
    cr_assert_null(tw_payloads_name(list, 0));
    cr_assert_null(tw_payloads_name(list, 5));
    cr_assert_null(tw_payloads_name(NULL, 0));
}

Test(payload, bad_index)
{
    const uint8_t *data;
    size_t len;
    char *s = NULL;
    cr_assert_eq(tw_payloads_data(list, 0, &data, &len), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "index 0 out of range"));
    cr_assert_eq(tw_payloads_add(list, NULL, 0, NULL), 0);
    cr_assert_eq(tw_payloads_data(list, 1, &data, &len), TW_EINVAL);
    cr_assert_eq(tw_payloads_set_metadata(list, 1, "k", NULL, 0), TW_EINVAL);
    cr_assert_eq(tw_payloads_set_name(list, 1, "n"), TW_EINVAL);
    cr_assert_eq(tw_payloads_data_string(list, 1, &s), TW_EINVAL);
    cr_assert_null(s);
    cr_assert_eq(tw_payloads_metadata_count(list, 1), 0);
    cr_assert_eq(tw_payloads_metadata_get(list, 1, "k", &data, &len), TW_EINVAL);
    cr_assert_eq(tw_payloads_metadata_get(list, (size_t)-1, "k", &data, &len), TW_EINVAL);
}

Test(payload, null_arguments)
{
    const uint8_t *data;
    size_t len;
    char *s;
    cr_assert_eq(tw_payloads_new(NULL), TW_EINVAL);
    cr_assert_eq(tw_payloads_add(NULL, (const uint8_t *)"x", 1, NULL), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "list"));
    cr_assert_eq(tw_payloads_add(list, NULL, 4, NULL), TW_EINVAL);
    cr_assert_eq(tw_payloads_add_json(NULL, "1", NULL), TW_EINVAL);
    cr_assert_eq(tw_payloads_add_json(list, NULL, NULL), TW_EINVAL);
    cr_assert_eq(tw_payloads_set_metadata(NULL, 0, "k", NULL, 0), TW_EINVAL);
    cr_assert_eq(tw_payloads_set_name(NULL, 0, "n"), TW_EINVAL);
    cr_assert_eq(tw_payloads_data(NULL, 0, &data, &len), TW_EINVAL);
    cr_assert_eq(tw_payloads_add(list, NULL, 0, NULL), 0);
    cr_assert_eq(tw_payloads_data(list, 0, NULL, &len), TW_EINVAL);
    cr_assert_eq(tw_payloads_data(list, 0, &data, NULL), TW_EINVAL);
    cr_assert_eq(tw_payloads_data_string(list, 0, NULL), TW_EINVAL);
    cr_assert_eq(tw_payloads_data_string(NULL, 0, &s), TW_EINVAL);
    cr_assert_eq(tw_payloads_metadata_get(list, 0, NULL, &data, &len), TW_EINVAL);
    cr_assert_eq(tw_payloads_metadata_count(NULL, 0), 0);
}

Test(payload, data_string_is_nul_terminated_copy)
{
    cr_assert_eq(tw_payloads_add_json(list, "\"hello\"", NULL), 0);
    cr_assert_eq(tw_payloads_add(list, NULL, 0, NULL), 0);
    char *s = NULL;
    cr_assert_eq(tw_payloads_data_string(list, 0, &s), 0);
    cr_assert_str_eq(s, "\"hello\"");
    tw_free(s);
    cr_assert_eq(tw_payloads_data_string(list, 1, &s), 0);
    cr_assert_str_eq(s, "");
    tw_free(s);
}

/* ---- protobuf ---- */

static void fill_sample(tw_payloads *l)
{
    cr_assert_eq(tw_payloads_add_json(l, "{\"x\": 1}", NULL), 0);
    cr_assert_eq(tw_payloads_set_name(l, 0, "alpha"), 0);
    cr_assert_eq(tw_payloads_set_metadata(l, 0, "type", (const uint8_t *)"Keyword", 7), 0);
    cr_assert_eq(tw_payloads_add(l, (const uint8_t *)"\x00\x01\x02", 3, NULL), 0);
    cr_assert_eq(tw_payloads_set_name(l, 1, "beta"), 0);
    cr_assert_eq(tw_payloads_set_metadata(l, 1, "encoding", (const uint8_t *)"binary/plain", 12), 0);
    cr_assert_eq(tw_payloads_add(l, NULL, 0, NULL), 0);
    cr_assert_eq(tw_payloads_set_name(l, 2, "gamma"), 0);
}

static void assert_same_payloads(const tw_payloads *a, const tw_payloads *b, bool names)
{
    cr_assert_eq(tw_payloads_count(a), tw_payloads_count(b));
    for (size_t i = 0; i < tw_payloads_count(a); i++) {
        const uint8_t *da, *db;
        size_t la, lb;
        cr_assert_eq(tw_payloads_data(a, i, &da, &la), 0);
        cr_assert_eq(tw_payloads_data(b, i, &db, &lb), 0);
        cr_assert_eq(la, lb, "payload %zu length", i);
        if (la)
            cr_assert_eq(memcmp(da, db, la), 0, "payload %zu data", i);
        size_t mc = tw_payloads_metadata_count(a, i);
        cr_assert_eq(mc, tw_payloads_metadata_count(b, i), "payload %zu metadata count", i);
        for (size_t m = 0; m < mc; m++) {
            const char *key;
            const uint8_t *va, *vb;
            size_t lva, lvb;
            cr_assert_eq(tw_payloads_metadata_at(a, i, m, &key, &va, &lva), 0);
            cr_assert_eq(tw_payloads_metadata_get(b, i, key, &vb, &lvb), 0, "payload %zu key %s", i, key);
            cr_assert_eq(lva, lvb);
            if (lva)
                cr_assert_eq(memcmp(va, vb, lva), 0);
        }
        if (names)
            cr_assert_str_eq(tw_payloads_name(a, i), tw_payloads_name(b, i));
        else
            cr_assert_null(tw_payloads_name(b, i));
    }
}

Test(payload, list_round_trip_through_protobuf)
{
    fill_sample(list);
    Temporal__Api__Common__V1__Payload **items = NULL;
    size_t n = 0;
    cr_assert_eq(tw_payloads_to_pb(list, &items, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(items[0]->n_metadata, 2);
    cr_assert_eq(items[1]->data.len, 3);

    /* Through the wire format too, as the transport does. */
    Temporal__Api__Common__V1__Payloads ps = TEMPORAL__API__COMMON__V1__PAYLOADS__INIT;
    ps.n_payloads = n;
    ps.payloads = items;
    size_t len = temporal__api__common__v1__payloads__get_packed_size(&ps);
    uint8_t *buf = malloc(len);
    temporal__api__common__v1__payloads__pack(&ps, buf);
    tw_pb_payloads_free(items, n);
    Temporal__Api__Common__V1__Payloads *back = temporal__api__common__v1__payloads__unpack(NULL, len, buf);
    free(buf);
    cr_assert_not_null(back);

    tw_payloads *copy = tw_payloads_from_pb(back->n_payloads, back->payloads);
    temporal__api__common__v1__payloads__free_unpacked(back, NULL);
    cr_assert_not_null(copy);
    assert_same_payloads(list, copy, false);
    tw_payloads_free(copy);
}

Test(payload, empty_list_to_protobuf)
{
    Temporal__Api__Common__V1__Payload **items = (void *)1;
    size_t n = 9;
    cr_assert_eq(tw_payloads_to_pb(list, &items, &n), 0);
    cr_assert_null(items);
    cr_assert_eq(n, 0);
    cr_assert_eq(tw_payloads_to_pb(NULL, &items, &n), 0);
    cr_assert_eq(n, 0);
    tw_payloads *from_null = tw_payloads_from_pb(0, NULL);
    cr_assert_not_null(from_null);
    cr_assert_eq(tw_payloads_count(from_null), 0);
    tw_payloads_free(from_null);
}

Test(payload, map_round_trip_through_protobuf)
{
    fill_sample(list);
    Temporal__Api__Common__V1__Memo memo = TEMPORAL__API__COMMON__V1__MEMO__INIT;
    cr_assert_eq(tw_payloads_to_pb_map(list, &temporal__api__common__v1__memo__fields_entry__descriptor,
                                       (void ***)&memo.fields, &memo.n_fields),
                 0);
    cr_assert_eq(memo.n_fields, 3);
    cr_assert_str_eq(memo.fields[1]->key, "beta");
    cr_assert_eq(memo.fields[1]->value->data.len, 3);

    size_t len = temporal__api__common__v1__memo__get_packed_size(&memo);
    uint8_t *buf = malloc(len);
    temporal__api__common__v1__memo__pack(&memo, buf);
    tw_pb_payload_map_free((void **)memo.fields, memo.n_fields);
    Temporal__Api__Common__V1__Memo *back = temporal__api__common__v1__memo__unpack(NULL, len, buf);
    free(buf);
    cr_assert_not_null(back);
    tw_payloads *copy = tw_payloads_from_pb_map(back->n_fields, (void *const *)back->fields);
    temporal__api__common__v1__memo__free_unpacked(back, NULL);
    cr_assert_not_null(copy);
    assert_same_payloads(list, copy, true);
    tw_payloads_free(copy);
}

Test(payload, map_variants_of_other_map_types)
{
    fill_sample(list);
    Temporal__Api__Common__V1__SearchAttributes sa = TEMPORAL__API__COMMON__V1__SEARCH_ATTRIBUTES__INIT;
    cr_assert_eq(tw_payloads_to_pb_map(list, &temporal__api__common__v1__search_attributes__indexed_fields_entry__descriptor,
                                       (void ***)&sa.indexed_fields, &sa.n_indexed_fields),
                 0);
    tw_payloads *copy = tw_payloads_from_pb_map(sa.n_indexed_fields, (void *const *)sa.indexed_fields);
    assert_same_payloads(list, copy, true);
    tw_payloads_free(copy);
    tw_pb_payload_map_free((void **)sa.indexed_fields, sa.n_indexed_fields);

    Temporal__Api__Common__V1__Header h = TEMPORAL__API__COMMON__V1__HEADER__INIT;
    cr_assert_eq(tw_payloads_to_pb_map(list, &temporal__api__common__v1__header__fields_entry__descriptor,
                                       (void ***)&h.fields, &h.n_fields),
                 0);
    cr_assert_eq(h.n_fields, 3);
    cr_assert_str_eq(h.fields[2]->key, "gamma");
    tw_pb_payload_map_free((void **)h.fields, h.n_fields);
}

Test(payload, map_entry_without_value_becomes_empty_payload)
{
    Temporal__Api__Common__V1__Memo__FieldsEntry e = TEMPORAL__API__COMMON__V1__MEMO__FIELDS_ENTRY__INIT;
    e.key = "k";
    void *entries[] = {&e};
    tw_payloads *copy = tw_payloads_from_pb_map(1, entries);
    cr_assert_not_null(copy);
    cr_assert_eq(tw_payloads_count(copy), 1);
    cr_assert_str_eq(tw_payloads_name(copy, 0), "k");
    assert_data(copy, 0, "", 0);
    tw_payloads_free(copy);
}

Test(payload, validate_requires_names_for_maps)
{
    cr_assert_eq(tw_payloads_validate(NULL, "memo", true), 0);
    cr_assert_eq(tw_payloads_add_json(list, "1", NULL), 0);
    cr_assert_eq(tw_payloads_validate(list, "memo", false), 0);
    cr_assert_eq(tw_payloads_validate(list, "start: memo", true), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "start: memo: entry 0 has no name"));
    cr_assert_eq(tw_payloads_set_name(list, 0, ""), 0);
    cr_assert_eq(tw_payloads_validate(list, "memo", true), TW_EINVAL, "an empty name is no name");
    cr_assert_eq(tw_payloads_set_name(list, 0, "n"), 0);
    cr_assert_eq(tw_payloads_validate(list, "memo", true), 0);
}
