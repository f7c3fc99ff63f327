/* Payload lists and their conversion to and from protobuf-c messages. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/common.h"

typedef struct meta_entry {
    char *key;
    uint8_t *value;
    size_t len;
} meta_entry;

typedef struct payload {
    char *name;
    meta_entry *meta;
    size_t meta_count;
    uint8_t *data;
    size_t len;
} payload;

struct tw_payloads {
    payload *items;
    size_t count;
    size_t cap;
};

typedef Temporal__Api__Common__V1__Payload pb_payload;
typedef Temporal__Api__Common__V1__Payload__MetadataEntry pb_meta_entry;

static uint8_t *copy_bytes(const uint8_t *src, size_t len)
{
    uint8_t *dst = malloc(len ? len : 1);
    if (dst && len)
        memcpy(dst, src, len);
    return dst;
}

int tw_payloads_new(tw_payloads **out)
{
    if (!out)
        return tw_set_error(TW_EINVAL, "tw_payloads_new: out must not be NULL");
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : tw_set_error(TW_ENOMEM, "tw_payloads_new: out of memory");
}

static void payload_clear(payload *p)
{
    for (size_t m = 0; m < p->meta_count; m++) {
        free(p->meta[m].key);
        free(p->meta[m].value);
    }
    free(p->meta);
    free(p->name);
    free(p->data);
}

void tw_payloads_free(tw_payloads *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++)
        payload_clear(&list->items[i]);
    free(list->items);
    free(list);
}

size_t tw_payloads_count(const tw_payloads *list)
{
    return list ? list->count : 0;
}

static payload *append(tw_payloads *list)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 4;
        payload *items = realloc(list->items, cap * sizeof(*items));
        if (!items)
            return NULL;
        list->items = items;
        list->cap = cap;
    }
    payload *p = &list->items[list->count];
    memset(p, 0, sizeof(*p));
    return p;
}

int tw_payloads_add(tw_payloads *list, const uint8_t *data, size_t len, size_t *index)
{
    if (!list)
        return tw_set_error(TW_EINVAL, "tw_payloads_add: list must not be NULL");
    if (!data && len)
        return tw_set_error(TW_EINVAL, "tw_payloads_add: data is NULL but len is %zu", len);
    payload *p = append(list);
    if (!p || !(p->data = copy_bytes(data, len)))
        return tw_set_error(TW_ENOMEM, "tw_payloads_add: out of memory");
    p->len = len;
    if (index)
        *index = list->count;
    list->count++;
    return 0;
}

int tw_payloads_add_json(tw_payloads *list, const char *json, size_t *index)
{
    if (!list || !json)
        return tw_set_error(TW_EINVAL, "tw_payloads_add_json: list and json must not be NULL");
    size_t len = strlen(json);
    cJSON *parsed = cJSON_ParseWithLength(json, len);
    if (!parsed)
        return tw_set_error(TW_EPROTO, "tw_payloads_add_json: not valid JSON: %.60s", json);
    cJSON_Delete(parsed);
    size_t i;
    int rc = tw_payloads_add(list, (const uint8_t *)json, len, &i);
    if (rc == 0)
        rc = tw_payloads_set_metadata(list, i, "encoding", (const uint8_t *)"json/plain", 10);
    if (rc == 0 && index)
        *index = i;
    return rc;
}

static int check_index(const tw_payloads *list, size_t index, const char *fn)
{
    if (!list)
        return tw_set_error(TW_EINVAL, "%s: list must not be NULL", fn);
    if (index >= list->count)
        return tw_set_error(TW_EINVAL, "%s: index %zu out of range (count %zu)", fn, index, list->count);
    return 0;
}

int tw_payloads_set_metadata(tw_payloads *list, size_t index, const char *key, const uint8_t *value,
                             size_t len)
{
    int rc = check_index(list, index, "tw_payloads_set_metadata");
    if (rc)
        return rc;
    if (tw_str_empty(key))
        return tw_set_error(TW_EINVAL, "tw_payloads_set_metadata: key must be a non-empty string");
    if (!tw_utf8_valid(key, strlen(key)))
        return tw_set_error(TW_EINVAL, "tw_payloads_set_metadata: key is not valid UTF-8");
    if (!value && len)
        return tw_set_error(TW_EINVAL, "tw_payloads_set_metadata: value is NULL but len is %zu", len);
    payload *p = &list->items[index];
    uint8_t *copy = copy_bytes(value, len);
    if (!copy)
        return tw_set_error(TW_ENOMEM, "tw_payloads_set_metadata: out of memory");
    for (size_t m = 0; m < p->meta_count; m++) {
        if (strcmp(p->meta[m].key, key) == 0) {
            free(p->meta[m].value);
            p->meta[m].value = copy;
            p->meta[m].len = len;
            return 0;
        }
    }
    meta_entry *meta = realloc(p->meta, (p->meta_count + 1) * sizeof(*meta));
    char *key_copy = tw_strdup(key);
    if (!meta || !key_copy) {
        if (meta)
            p->meta = meta;
        free(copy);
        free(key_copy);
        return tw_set_error(TW_ENOMEM, "tw_payloads_set_metadata: out of memory");
    }
    p->meta = meta;
    p->meta[p->meta_count++] = (meta_entry){key_copy, copy, len};
    return 0;
}

int tw_payloads_set_name(tw_payloads *list, size_t index, const char *name)
{
    int rc = check_index(list, index, "tw_payloads_set_name");
    if (rc)
        return rc;
    char *copy = NULL;
    if (name) {
        if (!tw_utf8_valid(name, strlen(name)))
            return tw_set_error(TW_EINVAL, "tw_payloads_set_name: name is not valid UTF-8");
        if (!(copy = tw_strdup(name)))
            return tw_set_error(TW_ENOMEM, "tw_payloads_set_name: out of memory");
    }
    free(list->items[index].name);
    list->items[index].name = copy;
    return 0;
}

const char *tw_payloads_name(const tw_payloads *list, size_t index)
{
    return list && index < list->count ? list->items[index].name : NULL;
}

int tw_payloads_data(const tw_payloads *list, size_t index, const uint8_t **data, size_t *len)
{
    int rc = check_index(list, index, "tw_payloads_data");
    if (rc)
        return rc;
    if (!data || !len)
        return tw_set_error(TW_EINVAL, "tw_payloads_data: data and len must not be NULL");
    *data = list->items[index].data;
    *len = list->items[index].len;
    return 0;
}

int tw_payloads_data_string(const tw_payloads *list, size_t index, char **out)
{
    int rc = check_index(list, index, "tw_payloads_data_string");
    if (rc)
        return rc;
    if (!out)
        return tw_set_error(TW_EINVAL, "tw_payloads_data_string: out must not be NULL");
    const payload *p = &list->items[index];
    *out = malloc(p->len + 1);
    if (!*out)
        return tw_set_error(TW_ENOMEM, "tw_payloads_data_string: out of memory");
    if (p->len)
        memcpy(*out, p->data, p->len);
    (*out)[p->len] = '\0';
    return 0;
}

size_t tw_payloads_metadata_count(const tw_payloads *list, size_t index)
{
    return list && index < list->count ? list->items[index].meta_count : 0;
}

int tw_payloads_metadata_at(const tw_payloads *list, size_t index, size_t m, const char **key,
                            const uint8_t **value, size_t *len)
{
    int rc = check_index(list, index, "tw_payloads_metadata_at");
    if (rc)
        return rc;
    const payload *p = &list->items[index];
    if (m >= p->meta_count)
        return tw_set_error(TW_EINVAL, "tw_payloads_metadata_at: entry %zu out of range (count %zu)", m,
                            p->meta_count);
    if (!key || !value || !len)
        return tw_set_error(TW_EINVAL, "tw_payloads_metadata_at: key, value and len must not be NULL");
    *key = p->meta[m].key;
    *value = p->meta[m].value;
    *len = p->meta[m].len;
    return 0;
}

int tw_payloads_metadata_get(const tw_payloads *list, size_t index, const char *key,
                             const uint8_t **value, size_t *len)
{
    int rc = check_index(list, index, "tw_payloads_metadata_get");
    if (rc)
        return rc;
    if (!key || !value || !len)
        return tw_set_error(TW_EINVAL, "tw_payloads_metadata_get: key, value and len must not be NULL");
    const payload *p = &list->items[index];
    for (size_t m = 0; m < p->meta_count; m++) {
        if (strcmp(p->meta[m].key, key) == 0) {
            *value = p->meta[m].value;
            *len = p->meta[m].len;
            return 0;
        }
    }
    return tw_set_error(TW_ENOTFOUND, "tw_payloads_metadata_get: payload %zu has no metadata key \"%s\"", index,
                        key);
}

/* ---- protobuf conversion ---- */

static int payload_from_pb(payload *p, const pb_payload *src)
{
    p->data = copy_bytes(src->data.data, src->data.len);
    p->len = src->data.len;
    p->meta = calloc(src->n_metadata ? src->n_metadata : 1, sizeof(*p->meta));
    if (!p->data || !p->meta)
        return TW_ENOMEM;
    for (size_t m = 0; m < src->n_metadata; m++) {
        const pb_meta_entry *e = src->metadata[m];
        p->meta[m].key = tw_strdup_or_empty(e->key);
        p->meta[m].value = copy_bytes(e->value.data, e->value.len);
        p->meta[m].len = e->value.len;
        p->meta_count = m + 1;
        if (!p->meta[m].key || !p->meta[m].value)
            return TW_ENOMEM;
    }
    return 0;
}

static tw_payloads *from_pb_items(size_t n, const pb_payload *(*item)(void *const *, size_t, const char **),
                                  void *const *src)
{
    tw_payloads *list = calloc(1, sizeof(*list));
    if (!list)
        return NULL;
    list->items = calloc(n ? n : 1, sizeof(*list->items));
    if (!list->items) {
        free(list);
        return NULL;
    }
    list->cap = n ? n : 1;
    for (size_t i = 0; i < n; i++) {
        const char *name = NULL;
        const pb_payload *pb = item(src, i, &name);
        payload *p = &list->items[i];
        list->count = i + 1;
        if ((name && !(p->name = tw_strdup(name))) || (pb && payload_from_pb(p, pb)) ||
            (!pb && !(p->data = copy_bytes(NULL, 0)))) {
            tw_payloads_free(list);
            return NULL;
        }
    }
    return list;
}

static const pb_payload *list_item(void *const *src, size_t i, const char **name)
{
    *name = NULL;
    return ((pb_payload *const *)src)[i];
}

static const pb_payload *map_item(void *const *src, size_t i, const char **name)
{
    const tw_pb_payload_entry *e = src[i];
    *name = e->key ? e->key : "";
    return e->value;
}

tw_payloads *tw_payloads_from_pb(size_t n, pb_payload *const *items)
{
    return from_pb_items(n, list_item, (void *const *)items);
}

tw_payloads *tw_payloads_from_pb_map(size_t n, void *const *entries)
{
    return from_pb_items(n, map_item, entries);
}

static pb_payload *payload_to_pb(const payload *p)
{
    pb_payload *out = malloc(sizeof(*out));
    if (!out)
        return NULL;
    temporal__api__common__v1__payload__init(out);
    out->metadata = calloc(p->meta_count ? p->meta_count : 1, sizeof(*out->metadata));
    out->data.data = copy_bytes(p->data, p->len);
    out->data.len = p->len;
    if (!out->metadata || !out->data.data)
        goto fail;
    for (size_t m = 0; m < p->meta_count; m++) {
        pb_meta_entry *e = malloc(sizeof(*e));
        if (!e)
            goto fail;
        temporal__api__common__v1__payload__metadata_entry__init(e);
        out->metadata[m] = e;
        out->n_metadata = m + 1;
        e->key = tw_strdup(p->meta[m].key);
        e->value.data = copy_bytes(p->meta[m].value, p->meta[m].len);
        e->value.len = p->meta[m].len;
        if (!e->key || !e->value.data)
            goto fail;
    }
    return out;
fail:
    protobuf_c_message_free_unpacked(&out->base, NULL);
    return NULL;
}

int tw_payloads_validate(const tw_payloads *list, const char *what, bool need_names)
{
    if (!list)
        return 0;
    for (size_t i = 0; i < list->count; i++) {
        if (need_names && tw_str_empty(list->items[i].name))
            return tw_set_error(TW_EINVAL, "%s: entry %zu has no name (map entries need one)", what, i);
    }
    return 0;
}

int tw_payloads_to_pb(const tw_payloads *list, pb_payload ***items, size_t *n)
{
    *items = NULL;
    *n = 0;
    size_t count = tw_payloads_count(list);
    if (!count)
        return 0;
    pb_payload **out = calloc(count, sizeof(*out));
    if (!out)
        return tw_set_error(TW_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        if (!(out[i] = payload_to_pb(&list->items[i]))) {
            tw_pb_payloads_free(out, i);
            return tw_set_error(TW_ENOMEM, "out of memory");
        }
    }
    *items = out;
    *n = count;
    return 0;
}

int tw_payloads_to_pb_map(const tw_payloads *list, const ProtobufCMessageDescriptor *entry_desc,
                          void ***entries, size_t *n)
{
    *entries = NULL;
    *n = 0;
    size_t count = tw_payloads_count(list);
    if (!count)
        return 0;
    void **out = calloc(count, sizeof(*out));
    if (!out)
        return tw_set_error(TW_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        tw_pb_payload_entry *e = malloc(entry_desc->sizeof_message);
        if (e) {
            protobuf_c_message_init(entry_desc, e);
            e->key = tw_strdup_or_empty(list->items[i].name);
            e->value = payload_to_pb(&list->items[i]);
        }
        out[i] = e;
        if (!e || !e->key || !e->value) {
            tw_pb_payload_map_free(out, i + 1);
            return tw_set_error(TW_ENOMEM, "out of memory");
        }
    }
    *entries = out;
    *n = count;
    return 0;
}

void tw_pb_payloads_free(pb_payload **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i])
            protobuf_c_message_free_unpacked(&items[i]->base, NULL);
    free(items);
}

void tw_pb_payload_map_free(void **entries, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (entries[i])
            protobuf_c_message_free_unpacked(entries[i], NULL);
    free(entries);
}

tw_payloads *tw_payloads_copy(const tw_payloads *src)
{
    tw_payloads *out = calloc(1, sizeof(*out));
    if (!out)
        return NULL;
    for (size_t i = 0; i < tw_payloads_count(src); i++) {
        const payload *p = &src->items[i];
        size_t index;
        if (tw_payloads_add(out, p->data, p->len, &index) != 0 ||
            (p->name && tw_payloads_set_name(out, index, p->name) != 0))
            goto fail;
        for (size_t m = 0; m < p->meta_count; m++)
            if (tw_payloads_set_metadata(out, index, p->meta[m].key, p->meta[m].value, p->meta[m].len) != 0)
                goto fail;
    }
    return out;
fail:
    tw_payloads_free(out);
    return NULL;
}
