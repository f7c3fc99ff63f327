/* Builders for heap protobuf messages (see pbbuild.h). */
#include <stdlib.h>
#include <string.h>

#include "common/pbbuild.h"

void *pb_new(pb_build *b, const ProtobufCMessageDescriptor *desc)
{
    void *m = malloc(desc->sizeof_message);
    if (!m) {
        b->oom = true;
        return NULL;
    }
    protobuf_c_message_init(desc, m);
    return m;
}

char *pb_str(pb_build *b, const char *s)
{
    if (!s)
        return NULL;
    char *d = tw_strdup(s);
    if (!d)
        b->oom = true;
    return d;
}

ProtobufCBinaryData pb_bytes(pb_build *b, const uint8_t *data, size_t len)
{
    ProtobufCBinaryData out = {0, NULL};
    if (!data || !len)
        return out;
    out.data = malloc(len);
    if (!out.data) {
        b->oom = true;
        return out;
    }
    memcpy(out.data, data, len);
    out.len = len;
    return out;
}

Google__Protobuf__Duration *pb_duration_ms(pb_build *b, int64_t ms)
{
    if (ms <= 0)
        return NULL;
    Google__Protobuf__Duration *d = pb_new(b, &google__protobuf__duration__descriptor);
    if (d) {
        d->seconds = ms / 1000;
        d->nanos = (int32_t)((ms % 1000) * 1000000);
    }
    return d;
}

Temporal__Api__Common__V1__Payloads *pb_payloads(pb_build *b, const tw_payloads *list)
{
    if (!list)
        return NULL;
    Temporal__Api__Common__V1__Payloads *p = pb_new(b, &temporal__api__common__v1__payloads__descriptor);
    if (p && tw_payloads_to_pb(list, &p->payloads, &p->n_payloads) != 0)
        b->oom = true;
    return p;
}

/* Fills a map<string, Payload> field (n_fields, fields) of any message. */
static void fill_map(pb_build *b, const tw_payloads *list, const ProtobufCMessageDescriptor *entry,
                     size_t *n, void ***entries)
{
    if (tw_payloads_to_pb_map(list, entry, entries, n) != 0)
        b->oom = true;
}

Temporal__Api__Common__V1__Header *pb_header(pb_build *b, const tw_payloads *list)
{
    if (!tw_payloads_count(list))
        return NULL;
    Temporal__Api__Common__V1__Header *h = pb_new(b, &temporal__api__common__v1__header__descriptor);
    if (h)
        fill_map(b, list, &temporal__api__common__v1__header__fields_entry__descriptor, &h->n_fields,
                 (void ***)&h->fields);
    return h;
}

Temporal__Api__Common__V1__Memo *pb_memo(pb_build *b, const tw_payloads *list)
{
    if (!tw_payloads_count(list))
        return NULL;
    Temporal__Api__Common__V1__Memo *m = pb_new(b, &temporal__api__common__v1__memo__descriptor);
    if (m)
        fill_map(b, list, &temporal__api__common__v1__memo__fields_entry__descriptor, &m->n_fields,
                 (void ***)&m->fields);
    return m;
}

Temporal__Api__Common__V1__SearchAttributes *pb_search_attributes(pb_build *b, const tw_payloads *list)
{
    if (!tw_payloads_count(list))
        return NULL;
    Temporal__Api__Common__V1__SearchAttributes *s =
        pb_new(b, &temporal__api__common__v1__search_attributes__descriptor);
    if (s)
        fill_map(b, list, &temporal__api__common__v1__search_attributes__indexed_fields_entry__descriptor,
                 &s->n_indexed_fields, (void ***)&s->indexed_fields);
    return s;
}

Temporal__Api__Common__V1__Priority *pb_priority(pb_build *b, const tw_priority *p)
{
    if (!p || (!p->priority_key && tw_str_empty(p->fairness_key) && p->fairness_weight == 0))
        return NULL;
    Temporal__Api__Common__V1__Priority *out = pb_new(b, &temporal__api__common__v1__priority__descriptor);
    if (out) {
        out->priority_key = p->priority_key;
        if (!tw_str_empty(p->fairness_key))
            out->fairness_key = pb_str(b, p->fairness_key);
        out->fairness_weight = p->fairness_weight;
    }
    return out;
}

/* The first payload of list as a heap Payload message; NULL for an empty list. */
static Temporal__Api__Common__V1__Payload *pb_single_payload(pb_build *b, const tw_payloads *list)
{
    Temporal__Api__Common__V1__Payload **items = NULL;
    size_t n = 0;
    if (tw_payloads_to_pb(list, &items, &n) != 0) {
        b->oom = true;
        return NULL;
    }
    Temporal__Api__Common__V1__Payload *first = n ? items[0] : NULL;
    for (size_t i = 1; i < n; i++)
        protobuf_c_message_free_unpacked(&items[i]->base, NULL);
    free(items);
    return first;
}

Temporal__Api__Sdk__V1__UserMetadata *pb_user_metadata(pb_build *b, const tw_payloads *summary,
                                                       const tw_payloads *details)
{
    if (!tw_payloads_count(summary) && !tw_payloads_count(details))
        return NULL;
    Temporal__Api__Sdk__V1__UserMetadata *m = pb_new(b, &temporal__api__sdk__v1__user_metadata__descriptor);
    if (m) {
        m->summary = pb_single_payload(b, summary);
        m->details = pb_single_payload(b, details);
    }
    return m;
}
