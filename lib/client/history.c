/* History pages and the workflow-result long poll (see tw/client.h). */
#include <stdlib.h>
#include <string.h>

#include "client/build.h"
#include "client/client.h"

typedef Temporal__Api__Workflowservice__V1__GetWorkflowExecutionHistoryRequest history_req;
typedef Temporal__Api__Workflowservice__V1__GetWorkflowExecutionHistoryResponse history_resp;
typedef Temporal__Api__History__V1__HistoryEvent history_event;
typedef Temporal__Api__Failure__V1__Failure pb_failure;

static const tw_error oom = {TW_ENOMEM, 0, "out of memory", NULL, NULL, NULL, 0};

static history_req *history_request(pb_build *b, const char *ns, const char *workflow_id, const char *run_id,
                                    const uint8_t *token, size_t token_len)
{
    history_req *r = pb_new(b, &temporal__api__workflowservice__v1__get_workflow_execution_history_request__descriptor);
    if (r) {
        r->namespace_ = pb_str(b, ns);
        r->execution = pb_execution(b, workflow_id, run_id);
        r->next_page_token = pb_bytes(b, token, token_len);
    }
    return r;
}

static int send_history(client_op *op, pb_build *b, history_req *r, bool first)
{
    const ProtobufCMessageDescriptor *resp =
        &temporal__api__workflowservice__v1__get_workflow_execution_history_response__descriptor;
    int retry = r && r->wait_new_event ? TW_RPC_LONG_POLL : TW_RPC_RETRY;
    int rc;
    if (!r || b->oom) {
        rc = tw_set_error(TW_ENOMEM, "GetWorkflowExecutionHistory: out of memory");
        if (first)
            client_op_abort(op);
    } else if (first) {
        rc = client_op_start(op, "GetWorkflowExecutionHistory", &r->base, resp, retry);
    } else {
        rc = client_op_call(op, "GetWorkflowExecutionHistory", &r->base, resp, retry);
    }
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

/* ---- one page ---- */

static bool take_token(tw_event *ev, ProtobufCBinaryData token)
{
    if (!token.len)
        return true;
    if (!(ev->token = malloc(token.len)))
        return false;
    memcpy(ev->token, token.data, token.len);
    ev->token_len = token.len;
    return true;
}

static void done_page(client_op *op, tw_rpc_reply *reply)
{
    if (reply->error) {
        client_op_finish(op, reply->error);
        return;
    }
    history_resp *resp = (void *)reply->response;
    Temporal__Api__History__V1__History *h = resp->history;
    resp->history = NULL; /* the event takes it */
    if (!h && (h = malloc(sizeof(*h))))
        temporal__api__history__v1__history__init(h);
    op->ev->history = h ? tw_history_take(h) : NULL;
    bool ok = op->ev->history && take_token(op->ev, resp->next_page_token);
    client_op_finish(op, ok ? NULL : &oom);
}

void tw_history_options_init(tw_history_options *o)
{
    if (o)
        *o = (tw_history_options){.size = sizeof(*o)};
}

int tw_client_fetch_history(tw_client *client, const tw_history_options *options, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_fetch_history";
    if (!client || !options || !cq)
        return tw_set_error(TW_EINVAL, "%s: client, options and cq must not be NULL", fn);
    if (options->size < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: options->size is %zu; call tw_history_options_init first", fn,
                            options->size);
    tw_history_options o;
    tw_history_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    int rc;
    if ((rc = check_required(fn, "workflow_id", o.workflow_id)) || (rc = check_utf8(fn, "run_id", o.run_id)))
        return rc;
    if (!o.next_page_token && o.next_page_token_len)
        return tw_set_error(TW_EINVAL, "%s: next_page_token is NULL but its length is %zu", fn,
                            o.next_page_token_len);
    if (o.maximum_page_size < 0)
        return tw_set_error(TW_EINVAL, "%s: maximum_page_size must not be negative", fn);
    client_op *op = client_op_new(client, TW_EVENT_FETCH_HISTORY, cq, tag, done_page);
    if (!op)
        return TW_ENOMEM;
    pb_build b = {false};
    history_req *r = history_request(&b, client->namespace_name, o.workflow_id, o.run_id, o.next_page_token,
                                     o.next_page_token_len);
    if (r) {
        r->maximum_page_size = o.maximum_page_size;
        r->wait_new_event = o.wait_new_event != 0;
        r->skip_archival = o.skip_archival != 0;
        r->history_event_filter_type =
            o.close_event_only ? TEMPORAL__API__ENUMS__V1__HISTORY_EVENT_FILTER_TYPE__HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT
                               : TEMPORAL__API__ENUMS__V1__HISTORY_EVENT_FILTER_TYPE__HISTORY_EVENT_FILTER_TYPE_ALL_EVENT;
    }
    return send_history(op, &b, r, true);
}

/* ---- workflow result: long-poll the close event, follow new runs ---- */

static void poll_close_event(client_op *op, bool first_call, int *rc_out);

static tw_failure *synthesized_failure(const char *message, int kind_case, const Temporal__Api__Common__V1__Payloads *details)
{
    pb_failure f = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    Temporal__Api__Failure__V1__TimeoutFailureInfo timeout = TEMPORAL__API__FAILURE__V1__TIMEOUT_FAILURE_INFO__INIT;
    Temporal__Api__Failure__V1__CanceledFailureInfo canceled = TEMPORAL__API__FAILURE__V1__CANCELED_FAILURE_INFO__INIT;
    Temporal__Api__Failure__V1__TerminatedFailureInfo terminated =
        TEMPORAL__API__FAILURE__V1__TERMINATED_FAILURE_INFO__INIT;
    f.message = (char *)message;
    f.failure_info_case = kind_case;
    switch (kind_case) {
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TIMEOUT_FAILURE_INFO:
        timeout.timeout_type = TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_START_TO_CLOSE;
        f.timeout_failure_info = &timeout;
        break;
    case TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO:
        canceled.details = (Temporal__Api__Common__V1__Payloads *)details;
        f.canceled_failure_info = &canceled;
        break;
    default:
        f.terminated_failure_info = &terminated;
        break;
    }
    return tw_failure_from_pb(&f);
}

static tw_payloads *payloads_of(const Temporal__Api__Common__V1__Payloads *ps)
{
    return tw_payloads_from_pb(ps ? ps->n_payloads : 0, ps ? ps->payloads : NULL);
}

/* Switches the op to the next run; returns true when it did (the poll goes on). */
static bool follow(client_op *op, const char *new_run_id)
{
    if (!op->follow_runs || tw_str_empty(new_run_id))
        return false;
    char *copy = tw_strdup(new_run_id);
    if (!copy)
        return false;
    free(op->run_id);
    op->run_id = copy;
    free(op->token);
    op->token = NULL;
    op->token_len = 0;
    return true;
}

/* Fills the event from the close event; returns false when the poll must go on with a new run. */
static bool read_close_event(client_op *op, const history_event *e, bool *ok)
{
    tw_event *ev = op->ev;
    *ok = true;
    switch (e->attributes_case) {
    case TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_COMPLETED_EVENT_ATTRIBUTES: {
        const Temporal__Api__History__V1__WorkflowExecutionCompletedEventAttributes *a =
            e->workflow_execution_completed_event_attributes;
        if (follow(op, a->new_execution_run_id))
            return false;
        ev->outcome = TW_OUTCOME_COMPLETED;
        *ok = (ev->payloads = payloads_of(a->result)) != NULL;
        return true;
    }
    case TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_FAILED_EVENT_ATTRIBUTES: {
        const Temporal__Api__History__V1__WorkflowExecutionFailedEventAttributes *a =
            e->workflow_execution_failed_event_attributes;
        if (follow(op, a->new_execution_run_id))
            return false;
        ev->outcome = TW_OUTCOME_FAILED;
        *ok = (ev->failure = tw_failure_from_pb(a->failure)) != NULL || !a->failure;
        return true;
    }
    case TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_TIMED_OUT_EVENT_ATTRIBUTES:
        if (follow(op, e->workflow_execution_timed_out_event_attributes->new_execution_run_id))
            return false;
        ev->outcome = TW_OUTCOME_TIMED_OUT;
        *ok = (ev->failure = synthesized_failure("Workflow execution timed out",
                                                 TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TIMEOUT_FAILURE_INFO,
                                                 NULL)) != NULL;
        return true;
    case TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_CANCELED_EVENT_ATTRIBUTES: {
        const Temporal__Api__Common__V1__Payloads *details = e->workflow_execution_canceled_event_attributes->details;
        ev->outcome = TW_OUTCOME_CANCELED;
        *ok = (ev->payloads = payloads_of(details)) != NULL &&
              (ev->failure = synthesized_failure("Workflow execution cancelled",
                                                 TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO,
                                                 details)) != NULL;
        return true;
    }
    case TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_TERMINATED_EVENT_ATTRIBUTES: {
        const Temporal__Api__History__V1__WorkflowExecutionTerminatedEventAttributes *a =
            e->workflow_execution_terminated_event_attributes;
        ev->outcome = TW_OUTCOME_TERMINATED;
        const char *reason = tw_str_empty(a->reason) ? "Workflow execution terminated" : a->reason;
        *ok = (ev->payloads = payloads_of(a->details)) != NULL &&
              (ev->failure = synthesized_failure(
                   reason, TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TERMINATED_FAILURE_INFO, NULL)) != NULL;
        return true;
    }
    case TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_CONTINUED_AS_NEW_EVENT_ATTRIBUTES: {
        const char *next = e->workflow_execution_continued_as_new_event_attributes->new_execution_run_id;
        if (follow(op, next))
            return false;
        ev->outcome = TW_OUTCOME_CONTINUED_AS_NEW;
        free(op->run_id);
        op->run_id = tw_strdup_or_empty(next);
        return true;
    }
    default:
        ev->outcome = 0;
        return true;
    }
}

static void done_close_event(client_op *op, tw_rpc_reply *reply)
{
    if (reply->error) {
        client_op_finish(op, reply->error);
        return;
    }
    history_resp *resp = (void *)reply->response;
    const Temporal__Api__History__V1__History *h = resp->history;
    if (h && h->n_events > 0) {
        bool ok;
        if (read_close_event(op, h->events[h->n_events - 1], &ok)) {
            op->ev->run_id = tw_strdup_or_empty(op->run_id);
            client_op_finish(op, ok && op->ev->run_id ? NULL : &oom);
            return;
        }
    } else {
        /* The long poll ran out before the run closed: keep the token and wait again. */
        free(op->token);
        op->token = NULL;
        op->token_len = 0;
        if (resp->next_page_token.len && (op->token = malloc(resp->next_page_token.len))) {
            memcpy(op->token, resp->next_page_token.data, resp->next_page_token.len);
            op->token_len = resp->next_page_token.len;
        }
    }
    int rc;
    poll_close_event(op, false, &rc);
    if (rc)
        client_op_finish(op, tw_error_last());
}

static void poll_close_event(client_op *op, bool first_call, int *rc_out)
{
    pb_build b = {false};
    history_req *r = history_request(&b, op->namespace_name, op->workflow_id, op->run_id, op->token, op->token_len);
    if (r) {
        r->wait_new_event = true;
        r->skip_archival = true;
        r->history_event_filter_type =
            TEMPORAL__API__ENUMS__V1__HISTORY_EVENT_FILTER_TYPE__HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT;
    }
    *rc_out = send_history(op, &b, r, first_call);
}

/*
 * No run id given: pin the latest run first (DescribeWorkflowExecution), so
 * the poll waits on one run and the event can name the run that closed.
 */
static void result_run_pinned(client_op *op, tw_rpc_reply *reply)
{
    if (reply->error) {
        client_op_finish(op, reply->error);
        return;
    }
    const Temporal__Api__Workflowservice__V1__DescribeWorkflowExecutionResponse *resp = (void *)reply->response;
    const Temporal__Api__Workflow__V1__WorkflowExecutionInfo *info = resp->workflow_execution_info;
    const char *run_id = info && info->execution ? info->execution->run_id : NULL;
    if (!tw_str_empty(run_id) && !(op->run_id = tw_strdup(run_id))) {
        client_op_finish(op, &oom);
        return;
    }
    op->step = done_close_event;
    int rc;
    poll_close_event(op, false, &rc);
    if (rc)
        client_op_finish(op, tw_error_last());
}

static int pin_latest_run(client_op *op, const char *ns)
{
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__DescribeWorkflowExecutionRequest *r =
        pb_new(&b, &temporal__api__workflowservice__v1__describe_workflow_execution_request__descriptor);
    if (r) {
        r->namespace_ = pb_str(&b, ns);
        r->execution = pb_execution(&b, op->workflow_id, NULL);
    }
    int rc;
    if (!r || b.oom) {
        client_op_abort(op);
        rc = tw_set_error(TW_ENOMEM, "tw_client_workflow_result: out of memory");
    } else {
        op->step = result_run_pinned;
        rc = client_op_start(op, "DescribeWorkflowExecution", &r->base,
                             &temporal__api__workflowservice__v1__describe_workflow_execution_response__descriptor,
                             TW_RPC_RETRY);
    }
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    return rc;
}

void tw_result_options_init(tw_result_options *o)
{
    if (o)
        *o = (tw_result_options){.size = sizeof(*o), .follow_runs = 1};
}

int tw_client_workflow_result(tw_client *client, const tw_result_options *options, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_workflow_result";
    if (!client || !options || !cq)
        return tw_set_error(TW_EINVAL, "%s: client, options and cq must not be NULL", fn);
    if (options->size < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: options->size is %zu; call tw_result_options_init first", fn,
                            options->size);
    tw_result_options o;
    tw_result_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    int rc;
    if ((rc = check_required(fn, "workflow_id", o.workflow_id)) || (rc = check_utf8(fn, "run_id", o.run_id)))
        return rc;
    client_op *op = client_op_new(client, TW_EVENT_WORKFLOW_RESULT, cq, tag, done_close_event);
    if (!op)
        return TW_ENOMEM;
    op->follow_runs = o.follow_runs != 0;
    op->workflow_id = tw_strdup(o.workflow_id);
    bool has_run_id = !tw_str_empty(o.run_id);
    op->run_id = has_run_id ? tw_strdup(o.run_id) : NULL;
    if (!op->workflow_id || (has_run_id && !op->run_id)) {
        client_op_abort(op);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    if (!has_run_id)
        return pin_latest_run(op, client->namespace_name);
    poll_close_event(op, true, &rc);
    return rc;
}
