/* Builders for heap request messages (see build.h). */
#include <stdlib.h>
#include <string.h>

#include "client/build.h"

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

Temporal__Api__Common__V1__WorkflowExecution *pb_execution(pb_build *b, const char *workflow_id,
                                                           const char *run_id)
{
    Temporal__Api__Common__V1__WorkflowExecution *e =
        pb_new(b, &temporal__api__common__v1__workflow_execution__descriptor);
    if (e) {
        e->workflow_id = pb_str(b, workflow_id);
        e->run_id = pb_str(b, run_id);
    }
    return e;
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

void tw_retry_policy_init(tw_retry_policy *p)
{
    if (p)
        *p = (tw_retry_policy){.size = sizeof(*p)};
}

int check_retry_policy(const char *fn, const tw_retry_policy *p)
{
    if (!p)
        return 0;
    if (p->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: retry_policy->size is %zu; call tw_retry_policy_init first", fn,
                            p->size);
    tw_retry_policy r;
    tw_retry_policy_init(&r);
    tw_copy_options(&r, sizeof(r), p);
    if (r.initial_interval_ms < 0 || r.maximum_interval_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: retry_policy intervals must not be negative", fn);
    if (r.backoff_coefficient != 0 && r.backoff_coefficient < 1)
        return tw_set_error(TW_EINVAL, "%s: retry_policy.backoff_coefficient must be >= 1, got %g", fn,
                            r.backoff_coefficient);
    if (r.maximum_attempts < 0)
        return tw_set_error(TW_EINVAL, "%s: retry_policy.maximum_attempts must not be negative", fn);
    if (r.maximum_interval_ms && r.initial_interval_ms && r.maximum_interval_ms < r.initial_interval_ms)
        return tw_set_error(TW_EINVAL, "%s: retry_policy.maximum_interval_ms is below initial_interval_ms", fn);
    return 0;
}

Temporal__Api__Common__V1__RetryPolicy *pb_retry_policy(pb_build *b, const tw_retry_policy *p)
{
    if (!p)
        return NULL;
    tw_retry_policy r;
    tw_retry_policy_init(&r);
    tw_copy_options(&r, sizeof(r), p);
    Temporal__Api__Common__V1__RetryPolicy *out = pb_new(b, &temporal__api__common__v1__retry_policy__descriptor);
    if (!out)
        return NULL;
    out->initial_interval = pb_duration_ms(b, r.initial_interval_ms);
    out->backoff_coefficient = r.backoff_coefficient;
    out->maximum_interval = pb_duration_ms(b, r.maximum_interval_ms);
    out->maximum_attempts = r.maximum_attempts;
    size_t n = 0;
    while (r.non_retryable_error_types && r.non_retryable_error_types[n])
        n++;
    if (n) {
        out->non_retryable_error_types = calloc(n, sizeof(char *));
        if (!out->non_retryable_error_types) {
            b->oom = true;
            return out;
        }
        for (size_t i = 0; i < n; i++) {
            out->non_retryable_error_types[i] = pb_str(b, r.non_retryable_error_types[i]);
            out->n_non_retryable_error_types = i + 1;
        }
    }
    return out;
}
