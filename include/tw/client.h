/*
 * tw/client.h - a connection to a Temporal frontend and the WorkflowService
 * calls a client makes.
 *
 * Every call is asynchronous: it validates its arguments (TW_EINVAL with a
 * message naming the bad one, nothing sent), copies what it needs, and
 * returns 0; the outcome arrives later as one tw_event in the given tw_cq
 * with the given tag. Non-long-poll calls are retried with exponential
 * backoff and jitter on UNAVAILABLE, RESOURCE_EXHAUSTED and other transient
 * codes. A tw_client may be used from any thread. Per-call metadata and
 * deadlines: tw_client_with_call_options; cancelling a call in flight:
 * tw_client_cancel_call.
 *
 * Options structs start with `size`; call the matching *_options_init
 * first, then set fields. Strings are UTF-8 and copied during the call.
 * Durations are milliseconds, 0 meaning "unset / server default".
 * Timestamps are nanoseconds since the Unix epoch, 0 meaning "unset".
 */
#ifndef TW_CLIENT_H
#define TW_CLIENT_H

#include "common.h"
#include "cq.h"
#include "failure.h"
#include "payload.h"
#include "runtime.h"

TW_BEGIN_DECLS

typedef struct tw_client tw_client;
typedef struct tw_execution tw_execution;
typedef struct tw_history tw_history;

typedef struct tw_client_options {
    size_t size;
    const char *target;          /* "host:port", required */
    const char *namespace_name;  /* default "default" */
    const char *identity;        /* default "<pid>@<hostname>" */
    const char *api_key;         /* sent as "authorization: Bearer <key>"; NULL: none */
    int tls;                     /* non-zero: TLS (implied by any tls_* field below) */
    const char *tls_root_ca_pem; /* NULL: system roots */
    const char *tls_client_cert_pem;
    const char *tls_client_key_pem;
    const char *tls_server_name; /* override of the name checked against the certificate */
    const char *const *metadata; /* extra headers: NULL-terminated key, value, key, value, ... */
    int64_t rpc_timeout_ms;      /* deadline of each non-long-poll RPC try; default 10000 */
    int64_t connect_timeout_ms;  /* total time connect may retry an unreachable server; default 10000 */
} tw_client_options;

TW_API void tw_client_options_init(tw_client_options *options);

/*
 * Creates a client. No I/O happens here: call tw_client_connect to check
 * the server and namespace. TW_EINVAL for a missing target, a lone TLS
 * client cert without key (or the reverse), a tls_*_pem that is not PEM
 * (a file name, say), a bad metadata key, more than 28 metadata headers, or
 * a metadata value or api_key that is not printable ASCII (a metadata key
 * ending in "-bin" may have any value: gRPC sends it base64-encoded).
 */
TW_API int tw_client_new(tw_runtime *rt, const tw_client_options *options, tw_client **out);

/*
 * Frees the client. Calls in flight are cancelled (their events complete
 * with TW_ECANCELLED), those of clients derived from it included; freeing
 * a derived client (tw_client_with_call_options) leaves its calls running.
 * NULL is a no-op.
 */
TW_API void tw_client_free(tw_client *client);

/* Namespace and identity in use (borrowed, live as long as the client). */
TW_API const char *tw_client_namespace(const tw_client *client);
TW_API const char *tw_client_identity(const tw_client *client);

/* Replaces the API key sent on later calls (NULL removes it). */
TW_API int tw_client_set_api_key(tw_client *client, const char *api_key);

/*
 * Checks that the server answers (GetSystemInfo) and that the namespace
 * exists (DescribeNamespace). Completes with TW_EVENT_CONNECT: status 0,
 * TW_EUNAVAILABLE (unreachable, TLS failure; message says which), or
 * TW_ENOTFOUND (namespace missing).
 */
TW_API int tw_client_connect(tw_client *client, tw_cq *cq, uint64_t tag);

/*
 * ---- per-call options and cancelling a call ----
 *
 * Per-call metadata and deadlines are given through a derived client:
 * tw_client_with_call_options makes a cheap tw_client that shares its
 * parent's connection (channel, runtime, namespace, identity, API key) and
 * whose calls (every call of this header and of tw/activity.h) add the
 * given headers and use the given deadline. Make one per call (or per set
 * of options), start the call(s) on it and free it: freeing a derived
 * client leaves its calls in flight running to completion. Freeing the
 * parent closes the shared connection: calls of its derived clients are
 * cancelled (TW_ECANCELLED) and later ones fail with TW_ECLOSED; the
 * derived clients must still be freed, in any order. A derived client may
 * itself be derived from (the options add up, see below); a worker made
 * from one uses only the connection's headers.
 */
typedef struct tw_call_options {
    size_t size;
    /*
     * Extra headers of the calls: NULL-terminated key, value, key, value,
     * ..., validated like tw_client_options.metadata (TW_EINVAL naming the
     * bad key; at most 28 pairs, counting those inherited from a derived
     * parent). A key given here replaces the header of that name that the
     * client would send (tw_client_options.metadata, the API key's
     * "authorization", or the parent's call options).
     */
    const char *const *metadata;
    /*
     * Deadline of each try of each call, in ms; 0: the parent's
     * (tw_client_options.rpc_timeout_ms, 10 s by default). It also bounds
     * each long poll of tw_client_workflow_result and of a fetch with
     * wait_new_event (default 70 s): a long poll that runs out is simply
     * polled again, so the result still arrives. Queries do not retry a
     * deadline: one that runs out completes with TW_ETIMEDOUT (gRPC status
     * DEADLINE_EXCEEDED).
     */
    int64_t rpc_timeout_ms;
} tw_call_options;

TW_API void tw_call_options_init(tw_call_options *options);

/*
 * Makes *out, a client sharing client's connection whose calls use options
 * (see above). No I/O. TW_EINVAL for NULL arguments, a bad metadata key or
 * value, too many headers or a negative timeout (nothing is made then).
 * Free with tw_client_free.
 */
TW_API int tw_client_with_call_options(tw_client *client, const tw_call_options *options, tw_client **out);

/*
 * Cancels the call started on client (or on any client sharing its
 * connection: its parent or a derived one) with this cq and tag. The call
 * stops at once, wherever it is: in flight, waiting to retry, or between
 * the steps of a multi-RPC call (a result following runs, a result
 * waiting on its long poll, connect). Its event then completes with
 * TW_ECANCELLED, unless the answer had already arrived (the event then
 * carries it). A tag that names no call in flight (unknown, already
 * completed, or a worker's) is a no-op. Returns 0 (TW_EINVAL for a NULL
 * client or cq). Any thread. Tags must be unique among the calls in flight
 * on a cq for this to name one call.
 */
TW_API int tw_client_cancel_call(tw_client *client, tw_cq *cq, uint64_t tag);

/* temporal.api.enums.v1.WorkflowIdReusePolicy values. */
typedef enum tw_id_reuse_policy {
    TW_ID_REUSE_UNSPECIFIED = 0,
    TW_ID_REUSE_ALLOW_DUPLICATE = 1,
    TW_ID_REUSE_ALLOW_DUPLICATE_FAILED_ONLY = 2,
    TW_ID_REUSE_REJECT_DUPLICATE = 3,
    TW_ID_REUSE_TERMINATE_IF_RUNNING = 4
} tw_id_reuse_policy;

/* temporal.api.enums.v1.WorkflowIdConflictPolicy values. */
typedef enum tw_id_conflict_policy {
    TW_ID_CONFLICT_UNSPECIFIED = 0,
    TW_ID_CONFLICT_FAIL = 1,
    TW_ID_CONFLICT_USE_EXISTING = 2,
    TW_ID_CONFLICT_TERMINATE_EXISTING = 3
} tw_id_conflict_policy;

typedef struct tw_retry_policy {
    size_t size;
    int64_t initial_interval_ms;   /* 0: server default (1 s) */
    double backoff_coefficient;    /* 0: server default (2.0); else >= 1 */
    int64_t maximum_interval_ms;   /* 0: server default (100 x initial) */
    int32_t maximum_attempts;      /* 0: unlimited */
    const char *const *non_retryable_error_types; /* NULL-terminated, or NULL */
} tw_retry_policy;

TW_API void tw_retry_policy_init(tw_retry_policy *policy);

typedef struct tw_start_workflow_options {
    size_t size;
    const char *workflow_id;        /* required */
    const char *workflow_type;      /* required */
    const char *task_queue;         /* required */
    const tw_payloads *args;
    int64_t execution_timeout_ms;
    int64_t run_timeout_ms;
    int64_t task_timeout_ms;
    int id_reuse_policy;            /* tw_id_reuse_policy */
    int id_conflict_policy;         /* tw_id_conflict_policy */
    const tw_retry_policy *retry_policy; /* NULL: no retries */
    const char *cron_schedule;
    const tw_payloads *memo;               /* named entries */
    const tw_payloads *search_attributes;  /* named entries */
    const tw_payloads *headers;            /* named entries */
    int64_t start_delay_ms;
    const char *request_id;         /* idempotency key; default: a fresh UUID */
    const char *signal_name;        /* tw_client_signal_with_start only: required there */
    const tw_payloads *signal_args; /* tw_client_signal_with_start only */
    /*
     * Non-zero: eager start. When a worker made on this client (or on a
     * client derived from it, see tw_client_with_call_options) runs
     * workflows on the same namespace and task queue, is not shutting down,
     * and has a free workflow-task slot (its polls hold slots too), the slot is reserved and the server
     * is asked to answer the start with the workflow's first task, which
     * goes straight to that worker instead of through the task queue
     * (tw_event_eager_start tells whether it did). The server may decline;
     * the workflow then starts as usual. Ignored by
     * tw_client_signal_with_start, which the server never answers eagerly.
     */
    int request_eager_start;
    /*
     * Appended fields (a caller whose size ends before one leaves it unset).
     *
     * priority: of the workflow's tasks (see tw_priority); NULL: unset.
     * Children and activities of the workflow inherit what they do not set.
     */
    const tw_priority *priority;
    /*
     * A one-line summary and longer details of the workflow, for UIs and
     * the CLI: each NULL or a list of exactly one payload, the text encoded
     * as the language's payload converter encodes a string (json/plain in
     * the official SDKs). Sent as the start's user metadata; describe
     * returns them (tw_execution_static_summary).
     */
    const tw_payloads *static_summary;
    const tw_payloads *static_details;
} tw_start_workflow_options;

TW_API void tw_start_workflow_options_init(tw_start_workflow_options *options);

/*
 * Starts a workflow. TW_EVENT_START_WORKFLOW; on success tw_event_run_id()
 * is the new run. TW_EALREADY_STARTED when the id is taken (the running
 * run id in tw_error_run_id). TW_EINVAL at once, naming the field, for a
 * missing id, type or queue, a negative timeout, a bad policy value, a
 * priority tw_priority rejects, a static_summary or static_details that is
 * not exactly one payload, ...
 */
TW_API int tw_client_start_workflow(tw_client *client, const tw_start_workflow_options *options,
                                    tw_cq *cq, uint64_t tag);

/* Signals the workflow, starting it first if it is not running. TW_EVENT_SIGNAL_WITH_START. */
TW_API int tw_client_signal_with_start(tw_client *client, const tw_start_workflow_options *options,
                                       tw_cq *cq, uint64_t tag);

typedef struct tw_signal_options {
    size_t size;
    const char *workflow_id;   /* required */
    const char *run_id;        /* NULL: latest run */
    const char *signal_name;   /* required */
    const tw_payloads *args;
    const tw_payloads *headers;
    const char *request_id;    /* default: a fresh UUID */
} tw_signal_options;

TW_API void tw_signal_options_init(tw_signal_options *options);
TW_API int tw_client_signal_workflow(tw_client *client, const tw_signal_options *options,
                                     tw_cq *cq, uint64_t tag);

/* temporal.api.enums.v1.QueryRejectCondition values. */
typedef enum tw_query_reject_condition {
    TW_QUERY_REJECT_UNSPECIFIED = 0,
    TW_QUERY_REJECT_NONE = 1,
    TW_QUERY_REJECT_NOT_OPEN = 2,
    TW_QUERY_REJECT_NOT_COMPLETED_CLEANLY = 3
} tw_query_reject_condition;

typedef struct tw_query_options {
    size_t size;
    const char *workflow_id;   /* required */
    const char *run_id;
    const char *query_type;    /* required */
    const tw_payloads *args;
    const tw_payloads *headers;
    int reject_condition;      /* tw_query_reject_condition */
} tw_query_options;

TW_API void tw_query_options_init(tw_query_options *options);

/*
 * Queries the workflow. TW_EVENT_QUERY_WORKFLOW: tw_event_payloads() is the
 * answer; TW_EQUERY_REJECTED with tw_event_workflow_status() the status
 * that matched; TW_EQUERY_FAILED with the handler's message.
 */
TW_API int tw_client_query_workflow(tw_client *client, const tw_query_options *options,
                                    tw_cq *cq, uint64_t tag);

typedef struct tw_close_options {
    size_t size;
    const char *workflow_id;             /* required */
    const char *run_id;
    const char *first_execution_run_id;  /* only act if the chain started with this run */
    const char *reason;
    const tw_payloads *details;          /* terminate only */
    const char *request_id;              /* cancel only; default: a fresh UUID */
} tw_close_options;

TW_API void tw_close_options_init(tw_close_options *options);

/* Requests cancellation. TW_EVENT_CANCEL_WORKFLOW. */
TW_API int tw_client_cancel_workflow(tw_client *client, const tw_close_options *options,
                                     tw_cq *cq, uint64_t tag);

/* Terminates. TW_EVENT_TERMINATE_WORKFLOW. */
TW_API int tw_client_terminate_workflow(tw_client *client, const tw_close_options *options,
                                        tw_cq *cq, uint64_t tag);

/* Describes a run. TW_EVENT_DESCRIBE_WORKFLOW: tw_event_execution(ev, 0). */
TW_API int tw_client_describe_workflow(tw_client *client, const char *workflow_id, const char *run_id,
                                       tw_cq *cq, uint64_t tag);

typedef struct tw_result_options {
    size_t size;
    const char *workflow_id;   /* required */
    const char *run_id;        /* NULL: the latest run when the call is made */
    int follow_runs;           /* follow continue-as-new, retries and cron runs; default 1 */
} tw_result_options;

TW_API void tw_result_options_init(tw_result_options *options);

/* How a run closed. */
typedef enum tw_workflow_outcome {
    TW_OUTCOME_COMPLETED = 1,
    TW_OUTCOME_FAILED = 2,
    TW_OUTCOME_CANCELED = 3,
    TW_OUTCOME_TERMINATED = 4,
    TW_OUTCOME_TIMED_OUT = 5,
    TW_OUTCOME_CONTINUED_AS_NEW = 6
} tw_workflow_outcome;

/*
 * Waits (long-polling history) until the run closes. TW_EVENT_WORKFLOW_RESULT
 * with status 0 and tw_event_outcome(): COMPLETED (tw_event_payloads is the
 * result), FAILED / TIMED_OUT (tw_event_failure), CANCELED
 * (tw_event_payloads: details), TERMINATED (tw_event_failure: reason,
 * tw_event_payloads: details), CONTINUED_AS_NEW when not following runs
 * (tw_event_run_id: the new run). tw_event_run_id is otherwise the run that
 * closed.
 */
TW_API int tw_client_workflow_result(tw_client *client, const tw_result_options *options,
                                     tw_cq *cq, uint64_t tag);

typedef struct tw_history_options {
    size_t size;
    const char *workflow_id;        /* required */
    const char *run_id;
    const uint8_t *next_page_token; /* from tw_event_next_page_token; NULL for the first page */
    size_t next_page_token_len;
    int32_t maximum_page_size;      /* 0: server default */
    int wait_new_event;             /* long-poll until there is a new event */
    int close_event_only;           /* only the closing event */
    int skip_archival;
} tw_history_options;

TW_API void tw_history_options_init(tw_history_options *options);

/* Fetches one page of history. TW_EVENT_FETCH_HISTORY: tw_event_history, tw_event_next_page_token. */
TW_API int tw_client_fetch_history(tw_client *client, const tw_history_options *options,
                                   tw_cq *cq, uint64_t tag);

typedef struct tw_list_options {
    size_t size;
    const char *query;              /* visibility query; NULL or "": all */
    const uint8_t *next_page_token;
    size_t next_page_token_len;
    int32_t page_size;              /* 0: server default */
} tw_list_options;

TW_API void tw_list_options_init(tw_list_options *options);

/* Lists one page of executions. TW_EVENT_LIST_WORKFLOWS: tw_event_execution_count / _execution. */
TW_API int tw_client_list_workflows(tw_client *client, const tw_list_options *options,
                                    tw_cq *cq, uint64_t tag);

/* Counts executions matching query. TW_EVENT_COUNT_WORKFLOWS: tw_event_count. */
TW_API int tw_client_count_workflows(tw_client *client, const char *query, tw_cq *cq, uint64_t tag);

/* ---- results carried by events (borrowed; live as long as the event) ---- */

/* Run id (start, signal-with-start, result); "" when the event has none. */
TW_API const char *tw_event_run_id(const tw_event *ev);
/* 1 when a start's first workflow task went to a local worker (request_eager_start), else 0. */
TW_API int tw_event_eager_start(const tw_event *ev);
/* Payloads (query answer, workflow result or details) or NULL. */
TW_API const tw_payloads *tw_event_payloads(const tw_event *ev);
/* Failure of a failed or timed-out workflow, or the reason of a termination, or NULL. */
TW_API const tw_failure *tw_event_failure(const tw_event *ev);
/* tw_workflow_outcome of a TW_EVENT_WORKFLOW_RESULT, else 0. */
TW_API int tw_event_outcome(const tw_event *ev);
/* temporal.api.enums.v1.WorkflowExecutionStatus of a rejected query, else 0. */
TW_API int tw_event_workflow_status(const tw_event *ev);
/* Count of a TW_EVENT_COUNT_WORKFLOWS. */
TW_API int64_t tw_event_count(const tw_event *ev);
/* Executions of a describe (1) or list (n) event. */
TW_API size_t tw_event_execution_count(const tw_event *ev);
TW_API const tw_execution *tw_event_execution(const tw_event *ev, size_t index);
/* History page of a TW_EVENT_FETCH_HISTORY, or NULL. */
TW_API const tw_history *tw_event_history(const tw_event *ev);
/* Next page token of a list or history page; *len 0 when this was the last page. */
TW_API int tw_event_next_page_token(const tw_event *ev, const uint8_t **token, size_t *len);

/* ---- executions (describe, list) ---- */

/* temporal.api.enums.v1.WorkflowExecutionStatus values. */
typedef enum tw_workflow_status {
    TW_WORKFLOW_STATUS_UNSPECIFIED = 0,
    TW_WORKFLOW_STATUS_RUNNING = 1,
    TW_WORKFLOW_STATUS_COMPLETED = 2,
    TW_WORKFLOW_STATUS_FAILED = 3,
    TW_WORKFLOW_STATUS_CANCELED = 4,
    TW_WORKFLOW_STATUS_TERMINATED = 5,
    TW_WORKFLOW_STATUS_CONTINUED_AS_NEW = 6,
    TW_WORKFLOW_STATUS_TIMED_OUT = 7
} tw_workflow_status;

TW_API const char *tw_execution_workflow_id(const tw_execution *ex);
TW_API const char *tw_execution_run_id(const tw_execution *ex);
TW_API const char *tw_execution_workflow_type(const tw_execution *ex);
TW_API const char *tw_execution_task_queue(const tw_execution *ex);
TW_API int tw_execution_status(const tw_execution *ex);
TW_API int64_t tw_execution_start_time(const tw_execution *ex);
TW_API int64_t tw_execution_execution_time(const tw_execution *ex);
TW_API int64_t tw_execution_close_time(const tw_execution *ex);
TW_API int64_t tw_execution_history_length(const tw_execution *ex);
TW_API const char *tw_execution_parent_workflow_id(const tw_execution *ex);
TW_API const char *tw_execution_parent_run_id(const tw_execution *ex);
/* Memo and search attributes as named payloads (possibly empty, never NULL). */
TW_API const tw_payloads *tw_execution_memo(const tw_execution *ex);
TW_API const tw_payloads *tw_execution_search_attributes(const tw_execution *ex);
/*
 * The priority the server keeps for the execution: fills *out (call
 * tw_priority_init first; out->fairness_key is borrowed from ex), all
 * unset when it has none. TW_EINVAL for a NULL ex or out.
 */
TW_API int tw_execution_priority(const tw_execution *ex, tw_priority *out);
/*
 * The static summary and details given at start (tw_start_workflow_options,
 * tw_child_workflow_options): one payload each, or an empty list when there
 * is none. Describe only: a listed execution always has empty lists. Never
 * NULL for a non-NULL ex.
 */
TW_API const tw_payloads *tw_execution_static_summary(const tw_execution *ex);
TW_API const tw_payloads *tw_execution_static_details(const tw_execution *ex);
/* The whole WorkflowExecutionInfo as proto3 JSON; owned by the caller, free with tw_free. */
TW_API int tw_execution_to_json(const tw_execution *ex, char **json);

/* ---- history pages ---- */

TW_API size_t tw_history_event_count(const tw_history *h);
/* The page as a proto3-JSON History object ({"events": [...]}), the format
 * `temporal workflow show --output json` prints. Owned by the caller: tw_free. */
TW_API int tw_history_to_json(const tw_history *h, char **json);

TW_END_DECLS

#endif
