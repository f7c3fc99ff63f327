/*
 * tw/activity.h - activities: the activity side of a tw_worker, and async
 * completion of activities from a tw_client.
 *
 * Worker side. tw_worker_poll_activity_task asks for the next activity
 * task on the worker's task queue. The worker keeps up to
 * activity_pollers long polls open (tw_worker_options) while fewer than
 * max_concurrent_activities tasks are running; a task runs from the poll
 * that brought it until the language reports its outcome
 * (tw_worker_complete_activity_task, tw_worker_fail_activity_task[_encoded],
 * tw_worker_report_activity_task_cancelled) or hands it over to async
 * completion (tw_worker_release_activity_task). Polling starts with the
 * first tw_worker_poll_activity_task call.
 *
 * A task is a START (run the activity) or a CANCEL for a task already
 * delivered: the server asked for cancellation (it answers heartbeats with
 * cancel_requested), the activity no longer exists on the server, a local
 * timer saw its start-to-close or heartbeat timeout pass, or the worker is
 * shutting down. Only heartbeating activities learn about a cancellation
 * requested by the workflow. A CANCEL is a request: the activity still
 * reports an outcome (usually tw_worker_report_activity_task_cancelled).
 *
 * Heartbeats are throttled as in the official SDKs: the first one is sent
 * at once; later ones within 0.8 x heartbeat timeout (at most 60 s; 30 s
 * when the activity has no heartbeat timeout) are coalesced, the latest
 * details winning, and sent when that interval has passed. A heartbeat
 * still waiting is sent before the task's outcome is reported.
 *
 * Shutdown (tw_worker_shutdown) stops polling, waits up to
 * graceful_shutdown_timeout_ms for running activities, then delivers a
 * CANCEL with TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN for each one still
 * running (and for any that arrives later). TW_EVENT_WORKER_SHUTDOWN comes
 * once every task has reported its outcome, so keep a poll outstanding
 * during shutdown to receive those CANCELs. After that, polls complete with
 * TW_ECLOSED.
 *
 * Client side. An activity that was released for async completion (or any
 * activity, given its ids) is completed, failed, cancelled or heartbeated
 * with the tw_client_*_activity calls, addressed by task token or by
 * (workflow id, run id, activity id) in the client's namespace.
 *
 * Every function may be called from any thread. Task tokens are opaque
 * bytes; the library copies them.
 */
#ifndef TW_ACTIVITY_H
#define TW_ACTIVITY_H

#include "client.h"
#include "common.h"
#include "cq.h"
#include "payload.h"
#include "worker.h"

TW_BEGIN_DECLS

typedef struct tw_activity_task tw_activity_task;

/* What a tw_activity_task asks for. */
typedef enum tw_activity_task_kind {
    TW_ACTIVITY_TASK_START = 1,   /* run the activity: the info accessors below are set */
    TW_ACTIVITY_TASK_CANCEL = 2   /* cancel the running task with this token: tw_activity_task_cancel_reason */
} tw_activity_task_kind;

/* Why a CANCEL was delivered. */
typedef enum tw_activity_cancel_reason {
    TW_ACTIVITY_CANCEL_REASON_CANCELLED = 1,       /* the server requested it (the workflow cancelled the activity) */
    TW_ACTIVITY_CANCEL_REASON_TIMED_OUT = 2,       /* its start-to-close or heartbeat timeout passed (local timer) */
    TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN = 3, /* the worker is shutting down and the grace period ended */
    TW_ACTIVITY_CANCEL_REASON_NOT_FOUND = 4,       /* the server no longer knows the activity (workflow closed...) */
    TW_ACTIVITY_CANCEL_REASON_PAUSED = 5,          /* the activity was paused on the server */
    TW_ACTIVITY_CANCEL_REASON_RESET = 6            /* the activity was reset on the server */
} tw_activity_cancel_reason;

/*
 * How an activity failed: an application failure (the workflow sees it
 * wrapped in an activity failure). For a full cause chain, serialize a
 * temporal.api.failure.v1.Failure and use the *_encoded calls instead.
 */
typedef struct tw_activity_failure {
    size_t size;
    const char *message;          /* required (may be "") */
    const char *type;             /* error type the retry policy matches; NULL: none */
    int non_retryable;            /* non-zero: do not retry whatever the policy says */
    const tw_payloads *details;   /* NULL: none */
    int64_t next_retry_delay_ms;  /* overrides the retry policy's backoff when > 0 */
    const char *stack_trace;      /* NULL: none */
} tw_activity_failure;

/* Fills f with defaults (and size). */
TW_API void tw_activity_failure_init(tw_activity_failure *f);

/* ---- worker side ---- */

/*
 * Asks for the next activity task. Completes with TW_EVENT_ACTIVITY_TASK:
 * tw_event_take_activity_task() hands it over. TW_EINVAL synchronously when
 * the worker was made with no_activities. Once the worker has shut down
 * (every running task reported), polls complete with TW_ECLOSED.
 */
TW_API int tw_worker_poll_activity_task(tw_worker *w, tw_cq *cq, uint64_t tag);

/* The task of a TW_EVENT_ACTIVITY_TASK event; the caller owns it (tw_activity_task_free). NULL once taken. */
TW_API tw_activity_task *tw_event_take_activity_task(tw_event *ev);

/* Frees a task and everything borrowed from it. NULL is a no-op. */
TW_API void tw_activity_task_free(tw_activity_task *t);

/* A tw_activity_task_kind value. */
TW_API int tw_activity_task_kind_of(const tw_activity_task *t);

/* The task token (borrowed, lives as long as t): pass it to the calls that report the outcome. */
TW_API int tw_activity_task_token(const tw_activity_task *t, const uint8_t **token, size_t *len);

/* CANCEL tasks: a tw_activity_cancel_reason value (0 for a START). */
TW_API int tw_activity_task_cancel_reason(const tw_activity_task *t);

/* START tasks. Strings are borrowed from t and "" when unknown. */
TW_API const char *tw_activity_task_namespace(const tw_activity_task *t);
TW_API const char *tw_activity_task_workflow_namespace(const tw_activity_task *t);
TW_API const char *tw_activity_task_workflow_id(const tw_activity_task *t);
TW_API const char *tw_activity_task_run_id(const tw_activity_task *t);
TW_API const char *tw_activity_task_workflow_type(const tw_activity_task *t);
TW_API const char *tw_activity_task_activity_id(const tw_activity_task *t);
TW_API const char *tw_activity_task_activity_type(const tw_activity_task *t);
TW_API const char *tw_activity_task_task_queue(const tw_activity_task *t);
/* Attempt number, 1 for the first. */
TW_API int32_t tw_activity_task_attempt(const tw_activity_task *t);
/* Times in nanoseconds since the Unix epoch (0: unknown). */
TW_API int64_t tw_activity_task_scheduled_time(const tw_activity_task *t);
TW_API int64_t tw_activity_task_started_time(const tw_activity_task *t);
TW_API int64_t tw_activity_task_current_attempt_scheduled_time(const tw_activity_task *t);
/* Timeouts in milliseconds (0: none). */
TW_API int64_t tw_activity_task_schedule_to_close_timeout_ms(const tw_activity_task *t);
TW_API int64_t tw_activity_task_start_to_close_timeout_ms(const tw_activity_task *t);
TW_API int64_t tw_activity_task_heartbeat_timeout_ms(const tw_activity_task *t);
/*
 * The retry policy the server applies to the activity: fills *out (call
 * tw_retry_policy_init first; out->non_retryable_error_types is borrowed
 * from t). TW_ENOTFOUND when the server sent none.
 */
TW_API int tw_activity_task_retry_policy(const tw_activity_task *t, tw_retry_policy *out);
/*
 * The priority the server sent with the task (what the workflow scheduled
 * the activity with): fills *out (call tw_priority_init first;
 * out->fairness_key is borrowed from t), all unset when it sent none, and
 * for local activities. TW_EINVAL for a NULL t or out.
 */
TW_API int tw_activity_task_priority(const tw_activity_task *t, tw_priority *out);
/* Heartbeat details recorded by an earlier attempt, the input, the headers (named). Never NULL. */
TW_API const tw_payloads *tw_activity_task_heartbeat_details(const tw_activity_task *t);
TW_API const tw_payloads *tw_activity_task_args(const tw_activity_task *t);
TW_API const tw_payloads *tw_activity_task_headers(const tw_activity_task *t);
/*
 * Whether t is a local activity (scheduled by a workflow of this worker with
 * tw_completion_schedule_local_activity): its token is made by the worker and
 * its outcome goes to the workflow run, not to the server; heartbeats are
 * accepted and ignored.
 */
TW_API int tw_activity_task_is_local(const tw_activity_task *t);

/*
 * Reports that the running task with this token completed with result
 * (NULL: no result). A heartbeat still waiting is sent first. Completes
 * with TW_EVENT_ACTIVITY_DONE once the server answered (TW_ENOTFOUND when
 * it no longer knows the activity, e.g. it timed out). TW_EINVAL
 * synchronously for a token of no running task, or one already reported.
 */
TW_API int tw_worker_complete_activity_task(tw_worker *w, const uint8_t *token, size_t token_len,
                                            const tw_payloads *result, tw_cq *cq, uint64_t tag);

/* Reports that the task failed with an application failure (see tw_activity_failure). As complete. */
TW_API int tw_worker_fail_activity_task(tw_worker *w, const uint8_t *token, size_t token_len,
                                        const tw_activity_failure *failure, tw_cq *cq, uint64_t tag);

/*
 * Reports that the task failed with failure[0..len), a serialized
 * temporal.api.failure.v1.Failure (any kind, full cause chain). TW_EPROTO
 * synchronously when it does not parse. As complete otherwise.
 */
TW_API int tw_worker_fail_activity_task_encoded(tw_worker *w, const uint8_t *token, size_t token_len,
                                                const uint8_t *failure, size_t len, tw_cq *cq, uint64_t tag);

/*
 * Reports that the task accepted a cancellation, with details (NULL: none).
 * When the CANCEL was for worker shutdown, this is reported to the server
 * as a retryable failure of type "WorkerShutdown" so that another worker
 * retries the activity at once. As complete otherwise.
 */
TW_API int tw_worker_report_activity_task_cancelled(tw_worker *w, const uint8_t *token, size_t token_len,
                                                    const tw_payloads *details, tw_cq *cq, uint64_t tag);

/*
 * Records a heartbeat with details (NULL: none) for the running task,
 * throttled as described above. Returns at once; a cancellation the server
 * answers with arrives as a CANCEL task. TW_EINVAL for a token of no
 * running task, or one whose outcome was already reported.
 */
TW_API int tw_worker_heartbeat_activity_task(tw_worker *w, const uint8_t *token, size_t token_len,
                                             const tw_payloads *details);

/*
 * Forgets the running task without reporting anything: it will be
 * completed asynchronously through a client (tw_client_complete_activity
 * and friends). Frees its slot. TW_EINVAL for a token of no running task.
 */
TW_API int tw_worker_release_activity_task(tw_worker *w, const uint8_t *token, size_t token_len);

/* ---- client side: async completion ---- */

/* Which activity a tw_client_*_activity call addresses: a task token, or ids. */
typedef struct tw_activity_ref {
    size_t size;
    const uint8_t *task_token;  /* either the task token... */
    size_t task_token_len;
    const char *workflow_id;    /* ...or workflow id (required then), */
    const char *run_id;         /* run id (NULL: the latest run), */
    const char *activity_id;    /* and activity id (required then), in the client's namespace */
} tw_activity_ref;

/* Fills ref with defaults (and size). */
TW_API void tw_activity_ref_init(tw_activity_ref *ref);

/*
 * Completes the activity with result (NULL: none). TW_EVENT_ACTIVITY_DONE;
 * TW_ENOTFOUND when the server does not know it (any more). TW_EINVAL
 * synchronously when ref gives both or neither of token and ids.
 */
TW_API int tw_client_complete_activity(tw_client *client, const tw_activity_ref *ref, const tw_payloads *result,
                                       tw_cq *cq, uint64_t tag);

/* Fails the activity with an application failure. TW_EVENT_ACTIVITY_DONE. */
TW_API int tw_client_fail_activity(tw_client *client, const tw_activity_ref *ref,
                                   const tw_activity_failure *failure, tw_cq *cq, uint64_t tag);

/* Fails the activity with a serialized temporal.api.failure.v1.Failure. TW_EVENT_ACTIVITY_DONE. */
TW_API int tw_client_fail_activity_encoded(tw_client *client, const tw_activity_ref *ref, const uint8_t *failure,
                                           size_t len, tw_cq *cq, uint64_t tag);

/* Reports the activity cancelled with details (NULL: none). TW_EVENT_ACTIVITY_DONE. */
TW_API int tw_client_report_activity_cancelled(tw_client *client, const tw_activity_ref *ref,
                                               const tw_payloads *details, tw_cq *cq, uint64_t tag);

/*
 * Records a heartbeat with details (NULL: none), unthrottled.
 * TW_EVENT_ACTIVITY_HEARTBEAT: tw_event_activity_cancel_requested() and
 * friends say what the server answered.
 */
TW_API int tw_client_heartbeat_activity(tw_client *client, const tw_activity_ref *ref, const tw_payloads *details,
                                        tw_cq *cq, uint64_t tag);

/* TW_EVENT_ACTIVITY_HEARTBEAT: 1 when the server asked for the activity's cancellation, else 0. */
TW_API int tw_event_activity_cancel_requested(const tw_event *ev);
/* TW_EVENT_ACTIVITY_HEARTBEAT: 1 when the activity is paused on the server, else 0. */
TW_API int tw_event_activity_paused(const tw_event *ev);
/* TW_EVENT_ACTIVITY_HEARTBEAT: 1 when the activity was reset on the server, else 0. */
TW_API int tw_event_activity_reset(const tw_event *ev);

TW_END_DECLS

#endif
