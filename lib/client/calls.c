/* The WorkflowService calls of tw_client (see tw/client.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/build.h"
#include "client/client.h"

#define WS(name) temporal__api__workflowservice__v1__##name
typedef Temporal__Api__Workflowservice__V1__StartWorkflowExecutionRequest start_req;
typedef Temporal__Api__Workflowservice__V1__SignalWithStartWorkflowExecutionRequest sws_req;

/* ---- shared plumbing ---- */

static int check_args(const char *fn, const void *client, const void *options, const void *cq)
{
    if (!client || !options || !cq)
        return tw_set_error(TW_EINVAL, "%s: client, options and cq must not be NULL", fn);
    if (*(const size_t *)options < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: options->size is %zu; call the matching *_options_init first", fn,
                            *(const size_t *)options);
    return 0;
}

/* Starts op with a heap request, which is freed here whatever happens. */
static int send_request(client_op *op, pb_build *b, const char *method, ProtobufCMessage *req,
                        const ProtobufCMessageDescriptor *resp, int retry)
{
    int rc;
    if (!op || !req || b->oom) {
        if (op)
            client_op_abort(op);
        rc = tw_set_error(TW_ENOMEM, "%s: out of memory", method);
    } else {
        rc = client_op_start(op, method, req, resp, retry);
    }
    if (req)
        protobuf_c_message_free_unpacked(req, NULL);
    return rc;
}

static void done_plain(client_op *op, tw_rpc_reply *reply)
{
    client_op_finish(op, reply->error);
}

static void done_run_id(client_op *op, tw_rpc_reply *reply)
{
    if (!reply->error) {
        /* Start and signal-with-start responses both carry run_id as field 1. */
        const char *run_id = op->ev->kind == TW_EVENT_START_WORKFLOW
            ? ((Temporal__Api__Workflowservice__V1__StartWorkflowExecutionResponse *)reply->response)->run_id
            : ((Temporal__Api__Workflowservice__V1__SignalWithStartWorkflowExecutionResponse *)reply->response)
                  ->run_id;
        op->ev->run_id = tw_strdup_or_empty(run_id);
    }
    if (!reply->error && op->eager) {
        Temporal__Api__Workflowservice__V1__StartWorkflowExecutionResponse *resp = (void *)reply->response;
        if (resp->eager_workflow_task) {
            eager_target *t = op->eager;
            op->eager = NULL;
            op->ev->eager = true;
            t->deliver(t, resp->eager_workflow_task);
            resp->eager_workflow_task = NULL; /* the worker owns it now */
        }
    }
    client_op_finish(op, reply->error);
}

static int check_map(const char *fn, const char *what, const tw_payloads *list)
{
    char where[96];
    snprintf(where, sizeof(where), "%s: %s", fn, what);
    return tw_payloads_validate(list, where, true);
}

/* ---- start / signal-with-start ---- */

static int check_start(const char *fn, const tw_start_workflow_options *o, bool with_signal, tw_priority *priority)
{
    int rc = check_required(fn, "workflow_id", o->workflow_id);
    if (!rc)
        rc = check_required(fn, "workflow_type", o->workflow_type);
    if (!rc)
        rc = check_required(fn, "task_queue", o->task_queue);
    if (!rc && with_signal)
        rc = check_required(fn, "signal_name", o->signal_name);
    if (!rc)
        rc = check_utf8(fn, "cron_schedule", o->cron_schedule);
    if (!rc)
        rc = check_utf8(fn, "request_id", o->request_id);
    if (!rc && (o->execution_timeout_ms < 0 || o->run_timeout_ms < 0 || o->task_timeout_ms < 0 ||
                o->start_delay_ms < 0))
        rc = tw_set_error(TW_EINVAL, "%s: timeouts and start_delay_ms must not be negative", fn);
    if (!rc && (o->id_reuse_policy < 0 || o->id_reuse_policy > TW_ID_REUSE_TERMINATE_IF_RUNNING))
        rc = tw_set_error(TW_EINVAL, "%s: id_reuse_policy %d is not a tw_id_reuse_policy", fn, o->id_reuse_policy);
    if (!rc && (o->id_conflict_policy < 0 || o->id_conflict_policy > TW_ID_CONFLICT_TERMINATE_EXISTING))
        rc = tw_set_error(TW_EINVAL, "%s: id_conflict_policy %d is not a tw_id_conflict_policy", fn,
                          o->id_conflict_policy);
    if (!rc)
        rc = check_retry_policy(fn, o->retry_policy);
    if (!rc)
        rc = check_map(fn, "memo", o->memo);
    if (!rc)
        rc = check_map(fn, "search_attributes", o->search_attributes);
    if (!rc)
        rc = check_map(fn, "headers", o->headers);
    if (!rc)
        rc = tw_priority_take(fn, "options->priority", o->priority, priority);
    if (!rc)
        rc = tw_metadata_payload_check(fn, "options->static_summary", o->static_summary);
    if (!rc)
        rc = tw_metadata_payload_check(fn, "options->static_details", o->static_details);
    return rc;
}

static Temporal__Api__Taskqueue__V1__TaskQueue *pb_task_queue(pb_build *b, const char *name)
{
    Temporal__Api__Taskqueue__V1__TaskQueue *tq = pb_new(b, &temporal__api__taskqueue__v1__task_queue__descriptor);
    if (tq) {
        tq->name = pb_str(b, name);
        tq->kind = TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL;
    }
    return tq;
}

static Temporal__Api__Common__V1__WorkflowType *pb_workflow_type(pb_build *b, const char *name)
{
    Temporal__Api__Common__V1__WorkflowType *t = pb_new(b, &temporal__api__common__v1__workflow_type__descriptor);
    if (t)
        t->name = pb_str(b, name);
    return t;
}

static char *request_id_or_new(pb_build *b, const char *given)
{
    char uuid[37];
    if (tw_str_empty(given))
        tw_uuid4(uuid);
    return pb_str(b, tw_str_empty(given) ? uuid : given);
}

/*
 * The start and signal-with-start requests share field names but not
 * layout, so each is filled through this macro over the common fields.
 */
#define FILL_START_FIELDS(r, b, c, o, prio)                                                 \
    do {                                                                                    \
        (r)->namespace_ = pb_str(b, (c)->namespace_name);                                   \
        (r)->workflow_id = pb_str(b, (o)->workflow_id);                                     \
        (r)->workflow_type = pb_workflow_type(b, (o)->workflow_type);                       \
        (r)->task_queue = pb_task_queue(b, (o)->task_queue);                                \
        (r)->input = pb_payloads(b, (o)->args);                                             \
        (r)->workflow_execution_timeout = pb_duration_ms(b, (o)->execution_timeout_ms);     \
        (r)->workflow_run_timeout = pb_duration_ms(b, (o)->run_timeout_ms);                 \
        (r)->workflow_task_timeout = pb_duration_ms(b, (o)->task_timeout_ms);               \
        (r)->identity = pb_str(b, (c)->identity);                                           \
        (r)->request_id = request_id_or_new(b, (o)->request_id);                            \
        (r)->workflow_id_reuse_policy = (o)->id_reuse_policy;                               \
        (r)->workflow_id_conflict_policy = (o)->id_conflict_policy;                         \
        (r)->retry_policy = pb_retry_policy(b, (o)->retry_policy);                          \
        (r)->cron_schedule = pb_str(b, (o)->cron_schedule);                                 \
        (r)->memo = pb_memo(b, (o)->memo);                                                  \
        (r)->search_attributes = pb_search_attributes(b, (o)->search_attributes);           \
        (r)->header = pb_header(b, (o)->headers);                                           \
        (r)->workflow_start_delay = pb_duration_ms(b, (o)->start_delay_ms);                 \
        (r)->priority = pb_priority(b, prio);                                               \
        (r)->user_metadata = pb_user_metadata(b, (o)->static_summary, (o)->static_details); \
    } while (0)

static int start_common(tw_client *client, const tw_start_workflow_options *options, tw_cq *cq, uint64_t tag,
                        bool with_signal)
{
    const char *fn = with_signal ? "tw_client_signal_with_start" : "tw_client_start_workflow";
    int rc = check_args(fn, client, options, cq);
    if (rc)
        return rc;
    tw_start_workflow_options o;
    tw_start_workflow_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    tw_priority priority;
    if ((rc = check_start(fn, &o, with_signal, &priority)))
        return rc;
    pb_build b = {false};
    int kind = with_signal ? TW_EVENT_SIGNAL_WITH_START : TW_EVENT_START_WORKFLOW;
    client_op *op = client_op_new(client, kind, cq, tag, done_run_id);
    if (!with_signal) {
        start_req *r = pb_new(&b, &WS(start_workflow_execution_request__descriptor));
        if (r)
            FILL_START_FIELDS(r, &b, client, &o, &priority);
        if (r && op && o.request_eager_start &&
            (op->eager = eager_registry_reserve(client->eager, client->namespace_name, o.task_queue)))
            r->request_eager_execution = true;
        return send_request(op, &b, "StartWorkflowExecution", r ? &r->base : NULL,
                            &WS(start_workflow_execution_response__descriptor), TW_RPC_RETRY);
    }
    sws_req *r = pb_new(&b, &WS(signal_with_start_workflow_execution_request__descriptor));
    if (r) {
        FILL_START_FIELDS(r, &b, client, &o, &priority);
        r->signal_name = pb_str(&b, o.signal_name);
        r->signal_input = pb_payloads(&b, o.signal_args);
    }
    return send_request(op, &b, "SignalWithStartWorkflowExecution", r ? &r->base : NULL,
                        &WS(signal_with_start_workflow_execution_response__descriptor), TW_RPC_RETRY);
}

void tw_start_workflow_options_init(tw_start_workflow_options *o)
{
    if (o)
        *o = (tw_start_workflow_options){.size = sizeof(*o)};
}

int tw_client_start_workflow(tw_client *client, const tw_start_workflow_options *options, tw_cq *cq,
                             uint64_t tag)
{
    return start_common(client, options, cq, tag, false);
}

int tw_client_signal_with_start(tw_client *client, const tw_start_workflow_options *options, tw_cq *cq,
                                uint64_t tag)
{
    return start_common(client, options, cq, tag, true);
}

/* ---- signal ---- */

void tw_signal_options_init(tw_signal_options *o)
{
    if (o)
        *o = (tw_signal_options){.size = sizeof(*o)};
}

int tw_client_signal_workflow(tw_client *client, const tw_signal_options *options, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_signal_workflow";
    int rc = check_args(fn, client, options, cq);
    if (rc)
        return rc;
    tw_signal_options o;
    tw_signal_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    if ((rc = check_required(fn, "workflow_id", o.workflow_id)) || (rc = check_utf8(fn, "run_id", o.run_id)) ||
        (rc = check_required(fn, "signal_name", o.signal_name)) || (rc = check_map(fn, "headers", o.headers)))
        return rc;
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__SignalWorkflowExecutionRequest *r =
        pb_new(&b, &WS(signal_workflow_execution_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, client->namespace_name);
        r->workflow_execution = pb_execution(&b, o.workflow_id, o.run_id);
        r->signal_name = pb_str(&b, o.signal_name);
        r->input = pb_payloads(&b, o.args);
        r->identity = pb_str(&b, client->identity);
        r->request_id = request_id_or_new(&b, o.request_id);
        r->header = pb_header(&b, o.headers);
    }
    return send_request(client_op_new(client, TW_EVENT_SIGNAL_WORKFLOW, cq, tag, done_plain), &b,
                        "SignalWorkflowExecution", r ? &r->base : NULL,
                        &WS(signal_workflow_execution_response__descriptor), TW_RPC_RETRY);
}

/* ---- query ---- */

static void done_query(client_op *op, tw_rpc_reply *reply)
{
    if (reply->error) {
        client_op_finish(op, reply->error);
        return;
    }
    Temporal__Api__Workflowservice__V1__QueryWorkflowResponse *resp = (void *)reply->response;
    if (resp->query_rejected) {
        op->ev->workflow_status = (int)resp->query_rejected->status;
        tw_error *err = tw_error_create(TW_EQUERY_REJECTED, 0, "query rejected: workflow status is %d",
                                        op->ev->workflow_status);
        client_op_finish(op, err);
        tw_error_destroy(err);
        return;
    }
    const Temporal__Api__Common__V1__Payloads *ps = resp->query_result;
    op->ev->payloads = tw_payloads_from_pb(ps ? ps->n_payloads : 0, ps ? ps->payloads : NULL);
    static const tw_error oom = {TW_ENOMEM, 0, "out of memory", NULL, NULL, NULL, 0};
    client_op_finish(op, op->ev->payloads ? NULL : &oom);
}

void tw_query_options_init(tw_query_options *o)
{
    if (o)
        *o = (tw_query_options){.size = sizeof(*o)};
}

int tw_client_query_workflow(tw_client *client, const tw_query_options *options, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_query_workflow";
    int rc = check_args(fn, client, options, cq);
    if (rc)
        return rc;
    tw_query_options o;
    tw_query_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    if ((rc = check_required(fn, "workflow_id", o.workflow_id)) || (rc = check_utf8(fn, "run_id", o.run_id)) ||
        (rc = check_required(fn, "query_type", o.query_type)) || (rc = check_map(fn, "headers", o.headers)))
        return rc;
    if (o.reject_condition < 0 || o.reject_condition > TW_QUERY_REJECT_NOT_COMPLETED_CLEANLY)
        return tw_set_error(TW_EINVAL, "%s: reject_condition %d is not a tw_query_reject_condition", fn,
                            o.reject_condition);
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__QueryWorkflowRequest *r = pb_new(&b, &WS(query_workflow_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, client->namespace_name);
        r->execution = pb_execution(&b, o.workflow_id, o.run_id);
        r->query = pb_new(&b, &temporal__api__query__v1__workflow_query__descriptor);
        if (r->query) {
            r->query->query_type = pb_str(&b, o.query_type);
            r->query->query_args = pb_payloads(&b, o.args);
            r->query->header = pb_header(&b, o.headers);
        }
        r->query_reject_condition = o.reject_condition;
    }
    client_op *op = client_op_new(client, TW_EVENT_QUERY_WORKFLOW, cq, tag, done_query);
    if (op)
        op->deadline_is_final = true;
    return send_request(op, &b, "QueryWorkflow", r ? &r->base : NULL, &WS(query_workflow_response__descriptor),
                        TW_RPC_RETRY);
}

/* ---- cancel / terminate ---- */

void tw_close_options_init(tw_close_options *o)
{
    if (o)
        *o = (tw_close_options){.size = sizeof(*o)};
}

static int check_close(const char *fn, const tw_client *client, const tw_close_options *options, const tw_cq *cq,
                       tw_close_options *o)
{
    int rc = check_args(fn, client, options, cq);
    if (rc)
        return rc;
    tw_close_options_init(o);
    tw_copy_options(o, sizeof(*o), options);
    if ((rc = check_required(fn, "workflow_id", o->workflow_id)) || (rc = check_utf8(fn, "run_id", o->run_id)) ||
        (rc = check_utf8(fn, "first_execution_run_id", o->first_execution_run_id)) ||
        (rc = check_utf8(fn, "reason", o->reason)))
        return rc;
    return 0;
}

int tw_client_cancel_workflow(tw_client *client, const tw_close_options *options, tw_cq *cq, uint64_t tag)
{
    tw_close_options o;
    int rc = check_close("tw_client_cancel_workflow", client, options, cq, &o);
    if (rc)
        return rc;
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__RequestCancelWorkflowExecutionRequest *r =
        pb_new(&b, &WS(request_cancel_workflow_execution_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, client->namespace_name);
        r->workflow_execution = pb_execution(&b, o.workflow_id, o.run_id);
        r->identity = pb_str(&b, client->identity);
        r->request_id = request_id_or_new(&b, o.request_id);
        r->first_execution_run_id = pb_str(&b, o.first_execution_run_id);
        r->reason = pb_str(&b, o.reason);
    }
    return send_request(client_op_new(client, TW_EVENT_CANCEL_WORKFLOW, cq, tag, done_plain), &b,
                        "RequestCancelWorkflowExecution", r ? &r->base : NULL,
                        &WS(request_cancel_workflow_execution_response__descriptor), TW_RPC_RETRY);
}

int tw_client_terminate_workflow(tw_client *client, const tw_close_options *options, tw_cq *cq, uint64_t tag)
{
    tw_close_options o;
    int rc = check_close("tw_client_terminate_workflow", client, options, cq, &o);
    if (rc)
        return rc;
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__TerminateWorkflowExecutionRequest *r =
        pb_new(&b, &WS(terminate_workflow_execution_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, client->namespace_name);
        r->workflow_execution = pb_execution(&b, o.workflow_id, o.run_id);
        r->reason = pb_str(&b, o.reason);
        r->details = pb_payloads(&b, o.details);
        r->identity = pb_str(&b, client->identity);
        r->first_execution_run_id = pb_str(&b, o.first_execution_run_id);
    }
    return send_request(client_op_new(client, TW_EVENT_TERMINATE_WORKFLOW, cq, tag, done_plain), &b,
                        "TerminateWorkflowExecution", r ? &r->base : NULL,
                        &WS(terminate_workflow_execution_response__descriptor), TW_RPC_RETRY);
}

/* ---- describe / list / count ---- */

static void done_executions(client_op *op, tw_rpc_reply *reply)
{
    if (reply->error) {
        client_op_finish(op, reply->error);
        return;
    }
    Temporal__Api__Workflow__V1__WorkflowExecutionInfo *single = NULL, **infos = &single;
    const Temporal__Api__Sdk__V1__UserMetadata *user_metadata = NULL;
    size_t n = 1;
    ProtobufCBinaryData token = {0, NULL};
    if (op->ev->kind == TW_EVENT_DESCRIBE_WORKFLOW) {
        const Temporal__Api__Workflowservice__V1__DescribeWorkflowExecutionResponse *resp = (void *)reply->response;
        single = resp->workflow_execution_info;
        user_metadata = resp->execution_config ? resp->execution_config->user_metadata : NULL;
        n = single ? 1 : 0;
    } else {
        Temporal__Api__Workflowservice__V1__ListWorkflowExecutionsResponse *resp = (void *)reply->response;
        infos = resp->executions;
        n = resp->n_executions;
        token = resp->next_page_token;
    }
    tw_event *ev = op->ev;
    ev->executions = calloc(n ? n : 1, sizeof(*ev->executions));
    bool ok = ev->executions != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = (ev->executions[i] = tw_execution_from_pb(infos[i], user_metadata)) != NULL;
        ev->execution_count = ok ? i + 1 : i;
    }
    if (ok && token.len) {
        ok = (ev->token = malloc(token.len)) != NULL;
        if (ok) {
            memcpy(ev->token, token.data, token.len);
            ev->token_len = token.len;
        }
    }
    static const tw_error oom = {TW_ENOMEM, 0, "out of memory", NULL, NULL, NULL, 0};
    client_op_finish(op, ok ? NULL : &oom);
}

int tw_client_describe_workflow(tw_client *client, const char *workflow_id, const char *run_id, tw_cq *cq,
                                uint64_t tag)
{
    static const char fn[] = "tw_client_describe_workflow";
    if (!client || !cq)
        return tw_set_error(TW_EINVAL, "%s: client and cq must not be NULL", fn);
    int rc;
    if ((rc = check_required(fn, "workflow_id", workflow_id)) || (rc = check_utf8(fn, "run_id", run_id)))
        return rc;
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__DescribeWorkflowExecutionRequest *r =
        pb_new(&b, &WS(describe_workflow_execution_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, client->namespace_name);
        r->execution = pb_execution(&b, workflow_id, run_id);
    }
    return send_request(client_op_new(client, TW_EVENT_DESCRIBE_WORKFLOW, cq, tag, done_executions), &b,
                        "DescribeWorkflowExecution", r ? &r->base : NULL,
                        &WS(describe_workflow_execution_response__descriptor), TW_RPC_RETRY);
}

void tw_list_options_init(tw_list_options *o)
{
    if (o)
        *o = (tw_list_options){.size = sizeof(*o)};
}

int tw_client_list_workflows(tw_client *client, const tw_list_options *options, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_list_workflows";
    int rc = check_args(fn, client, options, cq);
    if (rc)
        return rc;
    tw_list_options o;
    tw_list_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    if ((rc = check_utf8(fn, "query", o.query)))
        return rc;
    if (o.page_size < 0)
        return tw_set_error(TW_EINVAL, "%s: page_size must not be negative", fn);
    if (!o.next_page_token && o.next_page_token_len)
        return tw_set_error(TW_EINVAL, "%s: next_page_token is NULL but its length is %zu", fn,
                            o.next_page_token_len);
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__ListWorkflowExecutionsRequest *r =
        pb_new(&b, &WS(list_workflow_executions_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, client->namespace_name);
        r->page_size = o.page_size;
        r->next_page_token = pb_bytes(&b, o.next_page_token, o.next_page_token_len);
        r->query = pb_str(&b, o.query);
    }
    return send_request(client_op_new(client, TW_EVENT_LIST_WORKFLOWS, cq, tag, done_executions), &b,
                        "ListWorkflowExecutions", r ? &r->base : NULL,
                        &WS(list_workflow_executions_response__descriptor), TW_RPC_RETRY);
}

static void done_count(client_op *op, tw_rpc_reply *reply)
{
    if (!reply->error)
        op->ev->count = ((Temporal__Api__Workflowservice__V1__CountWorkflowExecutionsResponse *)reply->response)->count;
    client_op_finish(op, reply->error);
}

int tw_client_count_workflows(tw_client *client, const char *query, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_client_count_workflows";
    if (!client || !cq)
        return tw_set_error(TW_EINVAL, "%s: client and cq must not be NULL", fn);
    int rc = check_utf8(fn, "query", query);
    if (rc)
        return rc;
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__CountWorkflowExecutionsRequest *r =
        pb_new(&b, &WS(count_workflow_executions_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, client->namespace_name);
        r->query = pb_str(&b, query);
    }
    return send_request(client_op_new(client, TW_EVENT_COUNT_WORKFLOWS, cq, tag, done_count), &b,
                        "CountWorkflowExecutions", r ? &r->base : NULL,
                        &WS(count_workflow_executions_response__descriptor), TW_RPC_RETRY);
}
