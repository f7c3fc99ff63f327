/*
 * Read-only failure views. A tw_failure keeps the protobuf message it was
 * made from (deep-copied by packing and unpacking, so the view owns it) and
 * payload lists converted once, so accessors are plain field reads.
 */
#include <stdlib.h>

#include "common/common.h"

typedef Temporal__Api__Failure__V1__Failure pb_failure;

struct tw_failure {
    pb_failure *pb;          /* owned only by the root of a chain */
    tw_payloads *details;
    tw_payloads *encoded;
    tw_failure *cause;
};

static const char empty[] = "";

static const char *str(const char *s)
{
    return s ? s : empty;
}

static tw_payloads *details_of(const pb_failure *pb)
{
    const Temporal__Api__Common__V1__Payloads *ps = NULL;
    switch (pb->failure_info_case) {
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO:
        ps = pb->application_failure_info->details;
        break;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO:
        ps = pb->canceled_failure_info->details;
        break;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TIMEOUT_FAILURE_INFO:
        ps = pb->timeout_failure_info->last_heartbeat_details;
        break;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_RESET_WORKFLOW_FAILURE_INFO:
        ps = pb->reset_workflow_failure_info->last_heartbeat_details;
        break;
    default:
        return NULL;
    }
    return ps ? tw_payloads_from_pb(ps->n_payloads, ps->payloads) : NULL;
}

static void view_destroy(tw_failure *f)
{
    while (f) {
        tw_failure *next = f->cause;
        tw_payloads_free(f->details);
        tw_payloads_free(f->encoded);
        free(f);
        f = next;
    }
}

static tw_failure *view_of(const pb_failure *pb)
{
    tw_failure *head = NULL, **link = &head;
    for (; pb; pb = pb->cause) {
        tw_failure *f = calloc(1, sizeof(*f));
        if (!f)
            goto fail;
        *link = f;
        link = &f->cause;
        f->pb = (pb_failure *)pb;
        f->details = details_of(pb);
        if (pb->encoded_attributes && !(f->encoded = tw_payloads_from_pb(1, &pb->encoded_attributes)))
            goto fail;
    }
    return head;
fail:
    view_destroy(head);
    return NULL;
}

tw_failure *tw_failure_from_pb(const pb_failure *src)
{
    if (!src)
        return NULL;
    pb_failure *copy = (pb_failure *)tw_pb_copy(&src->base);
    if (!copy)
        return NULL;
    tw_failure *f = view_of(copy);
    if (!f)
        temporal__api__failure__v1__failure__free_unpacked(copy, NULL);
    return f;
}

void tw_failure_destroy(tw_failure *f)
{
    if (!f)
        return;
    pb_failure *root = f->pb;
    view_destroy(f);
    temporal__api__failure__v1__failure__free_unpacked(root, NULL);
}

int tw_failure_encode(const tw_failure *f, uint8_t **out, size_t *len)
{
    if (!f || !out || !len)
        return tw_set_error(TW_EINVAL, "tw_failure_encode: f, out and len must not be NULL");
    size_t n = protobuf_c_message_get_packed_size(&f->pb->base);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        return tw_set_error(TW_ENOMEM, "tw_failure_encode: out of memory");
    protobuf_c_message_pack(&f->pb->base, buf);
    *out = buf;
    *len = n;
    return 0;
}

int tw_failure_kind_of(const tw_failure *f)
{
    if (!f)
        return TW_FAILURE_GENERIC;
    switch (f->pb->failure_info_case) {
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO: return TW_FAILURE_APPLICATION;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TIMEOUT_FAILURE_INFO: return TW_FAILURE_TIMEOUT;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO: return TW_FAILURE_CANCELED;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TERMINATED_FAILURE_INFO: return TW_FAILURE_TERMINATED;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_SERVER_FAILURE_INFO: return TW_FAILURE_SERVER;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_RESET_WORKFLOW_FAILURE_INFO: return TW_FAILURE_RESET_WORKFLOW;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_ACTIVITY_FAILURE_INFO: return TW_FAILURE_ACTIVITY;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CHILD_WORKFLOW_EXECUTION_FAILURE_INFO: return TW_FAILURE_CHILD_WORKFLOW;
    default: return TW_FAILURE_GENERIC;
    }
}

const char *tw_failure_message(const tw_failure *f) { return f ? str(f->pb->message) : empty; }
const char *tw_failure_source(const tw_failure *f) { return f ? str(f->pb->source) : empty; }
const char *tw_failure_stack_trace(const tw_failure *f) { return f ? str(f->pb->stack_trace) : empty; }
const tw_failure *tw_failure_cause(const tw_failure *f) { return f ? f->cause : NULL; }
const tw_payloads *tw_failure_encoded_attributes(const tw_failure *f) { return f ? f->encoded : NULL; }
const tw_payloads *tw_failure_details(const tw_failure *f) { return f ? f->details : NULL; }

#define INFO(f, kind, field) ((f) && tw_failure_kind_of(f) == (kind) ? (f)->pb->field : NULL)

const char *tw_failure_application_type(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ApplicationFailureInfo *i =
        INFO(f, TW_FAILURE_APPLICATION, application_failure_info);
    return i ? str(i->type) : empty;
}

int tw_failure_non_retryable(const tw_failure *f)
{
    int kind = tw_failure_kind_of(f);
    if (kind == TW_FAILURE_APPLICATION)
        return f->pb->application_failure_info->non_retryable;
    if (kind == TW_FAILURE_SERVER)
        return f->pb->server_failure_info->non_retryable;
    return 0;
}

int64_t tw_failure_next_retry_delay_ms(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ApplicationFailureInfo *i =
        INFO(f, TW_FAILURE_APPLICATION, application_failure_info);
    if (!i || !i->next_retry_delay)
        return -1;
    return i->next_retry_delay->seconds * 1000 + i->next_retry_delay->nanos / 1000000;
}

int tw_failure_timeout_type(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__TimeoutFailureInfo *i = INFO(f, TW_FAILURE_TIMEOUT, timeout_failure_info);
    return i ? (int)i->timeout_type : 0;
}

int tw_failure_retry_state(const tw_failure *f)
{
    int kind = tw_failure_kind_of(f);
    if (kind == TW_FAILURE_ACTIVITY)
        return (int)f->pb->activity_failure_info->retry_state;
    if (kind == TW_FAILURE_CHILD_WORKFLOW)
        return (int)f->pb->child_workflow_execution_failure_info->retry_state;
    return 0;
}

#define ACTIVITY(f) INFO(f, TW_FAILURE_ACTIVITY, activity_failure_info)
#define CHILD(f) INFO(f, TW_FAILURE_CHILD_WORKFLOW, child_workflow_execution_failure_info)

const char *tw_failure_activity_type(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ActivityFailureInfo *i = ACTIVITY(f);
    return i && i->activity_type ? str(i->activity_type->name) : empty;
}

const char *tw_failure_activity_id(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ActivityFailureInfo *i = ACTIVITY(f);
    return i ? str(i->activity_id) : empty;
}

const char *tw_failure_identity(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ActivityFailureInfo *i = ACTIVITY(f);
    return i ? str(i->identity) : empty;
}

int64_t tw_failure_scheduled_event_id(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ActivityFailureInfo *i = ACTIVITY(f);
    return i ? i->scheduled_event_id : 0;
}

int64_t tw_failure_started_event_id(const tw_failure *f)
{
    if (ACTIVITY(f))
        return ACTIVITY(f)->started_event_id;
    if (CHILD(f))
        return CHILD(f)->started_event_id;
    return 0;
}

const char *tw_failure_namespace(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo *i = CHILD(f);
    return i ? str(i->namespace_) : empty;
}

const char *tw_failure_workflow_id(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo *i = CHILD(f);
    return i && i->workflow_execution ? str(i->workflow_execution->workflow_id) : empty;
}

const char *tw_failure_run_id(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo *i = CHILD(f);
    return i && i->workflow_execution ? str(i->workflow_execution->run_id) : empty;
}

const char *tw_failure_workflow_type(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo *i = CHILD(f);
    return i && i->workflow_type ? str(i->workflow_type->name) : empty;
}

int64_t tw_failure_initiated_event_id(const tw_failure *f)
{
    const Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo *i = CHILD(f);
    return i ? i->initiated_event_id : 0;
}
