/*
 * Async activity completion from a tw_client (see tw/activity.h), and the
 * activity failure messages the worker's activity side shares.
 */
#include <stdlib.h>
#include <string.h>

#include "client/activity.h"
#include "client/client.h"

#define WS(name) temporal__api__workflowservice__v1__##name

/* ---- failures ---- */

void tw_activity_failure_init(tw_activity_failure *f)
{
    if (f)
        *f = (tw_activity_failure){.size = sizeof(*f)};
}

int check_activity_failure(const char *fn, const tw_activity_failure *f, tw_activity_failure *out)
{
    if (!f)
        return tw_set_error(TW_EINVAL, "%s: failure must not be NULL", fn);
    if (f->size < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: failure->size is %zu; call tw_activity_failure_init first", fn,
                            f->size);
    tw_activity_failure_init(out);
    tw_copy_options(out, sizeof(*out), f);
    int rc;
    if (!out->message)
        return tw_set_error(TW_EINVAL, "%s: failure->message must not be NULL (use \"\" for none)", fn);
    if ((rc = check_utf8(fn, "failure->message", out->message)) || (rc = check_utf8(fn, "failure->type", out->type)) ||
        (rc = check_utf8(fn, "failure->stack_trace", out->stack_trace)))
        return rc;
    if (out->next_retry_delay_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: failure->next_retry_delay_ms must not be negative, got %lld", fn,
                            (long long)out->next_retry_delay_ms);
    return 0;
}

tw_pb_failure *pb_activity_failure(pb_build *b, const tw_activity_failure *f)
{
    tw_pb_failure *pb = pb_new(b, &temporal__api__failure__v1__failure__descriptor);
    if (!pb)
        return NULL;
    pb->message = pb_str(b, f->message);
    pb->stack_trace = pb_str(b, f->stack_trace);
    pb->source = pb_str(b, "libtemporal-workflow");
    Temporal__Api__Failure__V1__ApplicationFailureInfo *info =
        pb_new(b, &temporal__api__failure__v1__application_failure_info__descriptor);
    if (info) {
        info->type = pb_str(b, f->type);
        info->non_retryable = f->non_retryable != 0;
        info->details = tw_payloads_count(f->details) ? pb_payloads(b, f->details) : NULL;
        info->next_retry_delay = pb_duration_ms(b, f->next_retry_delay_ms);
        pb->failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO;
        pb->application_failure_info = info;
    }
    return pb;
}

int decode_failure_arg(const char *fn, const uint8_t *failure, size_t len, tw_pb_failure **out)
{
    *out = NULL;
    if (!failure || !len)
        return tw_set_error(TW_EINVAL, "%s: failure is %s", fn, failure ? "empty (len is 0)" : "NULL");
    tw_pb_failure *f = temporal__api__failure__v1__failure__unpack(NULL, len, failure);
    if (!f)
        return tw_set_error(TW_EPROTO, "%s: failure (%zu bytes) is not a serialized temporal.api.failure.v1.Failure",
                            fn, len);
    *out = f;
    return 0;
}

tw_pb_failure *pb_worker_shutdown_failure(pb_build *b)
{
    tw_activity_failure f;
    tw_activity_failure_init(&f);
    f.message = "Worker is shutting down and this activity did not complete in time";
    f.type = "WorkerShutdown";
    return pb_activity_failure(b, &f);
}

/* ---- addressing ---- */

void tw_activity_ref_init(tw_activity_ref *ref)
{
    if (ref)
        *ref = (tw_activity_ref){.size = sizeof(*ref)};
}

/* Checks the common arguments; copies ref over defaults into *r. */
static int check_call(const char *fn, const tw_client *client, const tw_activity_ref *ref, const tw_cq *cq,
                      tw_activity_ref *r)
{
    if (!client || !ref || !cq)
        return tw_set_error(TW_EINVAL, "%s: client, ref and cq must not be NULL", fn);
    if (ref->size < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: ref->size is %zu; call tw_activity_ref_init first", fn, ref->size);
    tw_activity_ref_init(r);
    tw_copy_options(r, sizeof(*r), ref);
    bool by_token = r->task_token_len > 0;
    bool by_ids = r->workflow_id || r->activity_id || r->run_id;
    if (!r->task_token && r->task_token_len)
        return tw_set_error(TW_EINVAL, "%s: ref->task_token is NULL but its length is %zu", fn, r->task_token_len);
    if (by_token && by_ids)
        return tw_set_error(TW_EINVAL, "%s: ref gives both a task token and ids; give one or the other", fn);
    if (!by_token && !by_ids)
        return tw_set_error(TW_EINVAL, "%s: ref gives neither a task token nor workflow_id and activity_id", fn);
    if (by_token)
        return 0;
    int rc;
    if ((rc = check_required(fn, "ref->workflow_id", r->workflow_id)) ||
        (rc = check_utf8(fn, "ref->run_id", r->run_id)) ||
        (rc = check_required(fn, "ref->activity_id", r->activity_id)))
        return rc;
    return 0;
}

/* Starts op with a heap request, which is freed here whatever happens. */
static int send(client_op *op, pb_build *b, const char *method, ProtobufCMessage *req,
                const ProtobufCMessageDescriptor *resp)
{
    int rc;
    if (!op || !req || b->oom) {
        if (op)
            client_op_abort(op);
        rc = op ? tw_set_error(TW_ENOMEM, "%s: out of memory", method) : TW_ENOMEM;
    } else {
        rc = client_op_start(op, method, req, resp, TW_RPC_RETRY);
    }
    if (req)
        protobuf_c_message_free_unpacked(req, NULL);
    return rc;
}

static void done_plain(client_op *op, tw_rpc_reply *reply)
{
    client_op_finish(op, reply->error);
}

/*
 * The token and by-id variants of each request share field names but not
 * layout, so each is filled through these macros.
 */
#define FILL_TOKEN(r, b, c, ref)                                                     \
    do {                                                                             \
        (r)->namespace_ = pb_str(b, (c)->namespace_name);                            \
        (r)->identity = pb_str(b, (c)->identity);                                    \
        (r)->task_token = pb_bytes(b, (ref)->task_token, (ref)->task_token_len);     \
    } while (0)

#define FILL_IDS(r, b, c, ref)                                                       \
    do {                                                                             \
        (r)->namespace_ = pb_str(b, (c)->namespace_name);                            \
        (r)->identity = pb_str(b, (c)->identity);                                    \
        (r)->workflow_id = pb_str(b, (ref)->workflow_id);                            \
        (r)->run_id = pb_str(b, (ref)->run_id);                                      \
        (r)->activity_id = pb_str(b, (ref)->activity_id);                            \
    } while (0)

/* ---- complete / fail / cancel ---- */

int tw_client_complete_activity(tw_client *client, const tw_activity_ref *ref, const tw_payloads *result,
                                tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_complete_activity";
    tw_activity_ref r;
    int rc = check_call(fn, client, ref, cq, &r);
    if (rc)
        return rc;
    pb_build b = {false};
    client_op *op = client_op_new(client, TW_EVENT_ACTIVITY_DONE, cq, tag, done_plain);
    if (r.task_token_len) {
        Temporal__Api__Workflowservice__V1__RespondActivityTaskCompletedRequest *m =
            pb_new(&b, &WS(respond_activity_task_completed_request__descriptor));
        if (m) {
            FILL_TOKEN(m, &b, client, &r);
            m->result = pb_payloads(&b, result);
        }
        return send(op, &b, "RespondActivityTaskCompleted", m ? &m->base : NULL,
                    &WS(respond_activity_task_completed_response__descriptor));
    }
    Temporal__Api__Workflowservice__V1__RespondActivityTaskCompletedByIdRequest *m =
        pb_new(&b, &WS(respond_activity_task_completed_by_id_request__descriptor));
    if (m) {
        FILL_IDS(m, &b, client, &r);
        m->result = pb_payloads(&b, result);
    }
    return send(op, &b, "RespondActivityTaskCompletedById", m ? &m->base : NULL,
                &WS(respond_activity_task_completed_by_id_response__descriptor));
}

/* Sends a failure (owned: attached to the request or freed here). */
static int send_failure(tw_client *client, const tw_activity_ref *r, pb_build *b, tw_pb_failure *failure,
                        tw_cq *cq, uint64_t tag)
{
    client_op *op = client_op_new(client, TW_EVENT_ACTIVITY_DONE, cq, tag, done_plain);
    if (r->task_token_len) {
        Temporal__Api__Workflowservice__V1__RespondActivityTaskFailedRequest *m =
            pb_new(b, &WS(respond_activity_task_failed_request__descriptor));
        if (m) {
            FILL_TOKEN(m, b, client, r);
            m->failure = failure;
        } else if (failure) {
            protobuf_c_message_free_unpacked(&failure->base, NULL);
        }
        return send(op, b, "RespondActivityTaskFailed", m ? &m->base : NULL,
                    &WS(respond_activity_task_failed_response__descriptor));
    }
    Temporal__Api__Workflowservice__V1__RespondActivityTaskFailedByIdRequest *m =
        pb_new(b, &WS(respond_activity_task_failed_by_id_request__descriptor));
    if (m) {
        FILL_IDS(m, b, client, r);
        m->failure = failure;
    } else if (failure) {
        protobuf_c_message_free_unpacked(&failure->base, NULL);
    }
    return send(op, b, "RespondActivityTaskFailedById", m ? &m->base : NULL,
                &WS(respond_activity_task_failed_by_id_response__descriptor));
}

int tw_client_fail_activity(tw_client *client, const tw_activity_ref *ref, const tw_activity_failure *failure,
                            tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_fail_activity";
    tw_activity_ref r;
    tw_activity_failure f;
    int rc = check_call(fn, client, ref, cq, &r);
    if (rc || (rc = check_activity_failure(fn, failure, &f)))
        return rc;
    pb_build b = {false};
    return send_failure(client, &r, &b, pb_activity_failure(&b, &f), cq, tag);
}

int tw_client_fail_activity_encoded(tw_client *client, const tw_activity_ref *ref, const uint8_t *failure,
                                    size_t len, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_fail_activity_encoded";
    tw_activity_ref r;
    tw_pb_failure *f = NULL;
    int rc = check_call(fn, client, ref, cq, &r);
    if (rc || (rc = decode_failure_arg(fn, failure, len, &f)))
        return rc;
    pb_build b = {false};
    return send_failure(client, &r, &b, f, cq, tag);
}

int tw_client_report_activity_cancelled(tw_client *client, const tw_activity_ref *ref, const tw_payloads *details,
                                        tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_report_activity_cancelled";
    tw_activity_ref r;
    int rc = check_call(fn, client, ref, cq, &r);
    if (rc)
        return rc;
    pb_build b = {false};
    client_op *op = client_op_new(client, TW_EVENT_ACTIVITY_DONE, cq, tag, done_plain);
    if (r.task_token_len) {
        Temporal__Api__Workflowservice__V1__RespondActivityTaskCanceledRequest *m =
            pb_new(&b, &WS(respond_activity_task_canceled_request__descriptor));
        if (m) {
            FILL_TOKEN(m, &b, client, &r);
            m->details = pb_payloads(&b, details);
        }
        return send(op, &b, "RespondActivityTaskCanceled", m ? &m->base : NULL,
                    &WS(respond_activity_task_canceled_response__descriptor));
    }
    Temporal__Api__Workflowservice__V1__RespondActivityTaskCanceledByIdRequest *m =
        pb_new(&b, &WS(respond_activity_task_canceled_by_id_request__descriptor));
    if (m) {
        FILL_IDS(m, &b, client, &r);
        m->details = pb_payloads(&b, details);
    }
    return send(op, &b, "RespondActivityTaskCanceledById", m ? &m->base : NULL,
                &WS(respond_activity_task_canceled_by_id_response__descriptor));
}

/* ---- heartbeat ---- */

static void done_heartbeat(client_op *op, tw_rpc_reply *reply)
{
    if (!reply->error) {
        /* The token and by-id responses have the same three bools first. */
        const Temporal__Api__Workflowservice__V1__RecordActivityTaskHeartbeatResponse *resp = (void *)reply->response;
        const Temporal__Api__Workflowservice__V1__RecordActivityTaskHeartbeatByIdResponse *by_id =
            (void *)reply->response;
        bool token = reply->response->descriptor == &WS(record_activity_task_heartbeat_response__descriptor);
        bool cancel = token ? resp->cancel_requested : by_id->cancel_requested;
        bool paused = token ? resp->activity_paused : by_id->activity_paused;
        bool reset = token ? resp->activity_reset : by_id->activity_reset;
        op->ev->activity_flags = (cancel ? TW_HEARTBEAT_CANCEL_REQUESTED : 0) | (paused ? TW_HEARTBEAT_PAUSED : 0) |
                                 (reset ? TW_HEARTBEAT_RESET : 0);
    }
    client_op_finish(op, reply->error);
}

int tw_client_heartbeat_activity(tw_client *client, const tw_activity_ref *ref, const tw_payloads *details,
                                 tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_heartbeat_activity";
    tw_activity_ref r;
    int rc = check_call(fn, client, ref, cq, &r);
    if (rc)
        return rc;
    pb_build b = {false};
    client_op *op = client_op_new(client, TW_EVENT_ACTIVITY_HEARTBEAT, cq, tag, done_heartbeat);
    if (r.task_token_len) {
        Temporal__Api__Workflowservice__V1__RecordActivityTaskHeartbeatRequest *m =
            pb_new(&b, &WS(record_activity_task_heartbeat_request__descriptor));
        if (m) {
            FILL_TOKEN(m, &b, client, &r);
            m->details = pb_payloads(&b, details);
        }
        return send(op, &b, "RecordActivityTaskHeartbeat", m ? &m->base : NULL,
                    &WS(record_activity_task_heartbeat_response__descriptor));
    }
    Temporal__Api__Workflowservice__V1__RecordActivityTaskHeartbeatByIdRequest *m =
        pb_new(&b, &WS(record_activity_task_heartbeat_by_id_request__descriptor));
    if (m) {
        FILL_IDS(m, &b, client, &r);
        m->details = pb_payloads(&b, details);
    }
    return send(op, &b, "RecordActivityTaskHeartbeatById", m ? &m->base : NULL,
                &WS(record_activity_task_heartbeat_by_id_response__descriptor));
}

int tw_event_activity_cancel_requested(const tw_event *ev)
{
    return ev && (ev->activity_flags & TW_HEARTBEAT_CANCEL_REQUESTED) ? 1 : 0;
}

int tw_event_activity_paused(const tw_event *ev)
{
    return ev && (ev->activity_flags & TW_HEARTBEAT_PAUSED) ? 1 : 0;
}

int tw_event_activity_reset(const tw_event *ev)
{
    return ev && (ev->activity_flags & TW_HEARTBEAT_RESET) ? 1 : 0;
}
