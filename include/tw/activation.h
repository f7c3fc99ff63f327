/*
 * tw/activation.h - workflow activations (what the engine asks a workflow to
 * do) and completions (what the workflow answers).
 *
 * The engine turns new history events of one workflow run into an
 * activation: a run id, the workflow's current time, whether it is
 * replaying, and an ordered list of jobs. The language runs the workflow
 * code for each job and answers with one completion holding commands (or a
 * failure of the workflow task). Each command that can be resolved later
 * carries a `seq` the language allocates, unique per command kind within a
 * run; the engine uses it to address the matching resolution job.
 *
 * Job order within an activation follows sdk-core: initialize first, then
 * patch notifications, random-seed updates, signals, other resolutions;
 * queries come in an activation of their own, and so does removal from the
 * cache (eviction), which expects an empty completion.
 *
 * An activation and everything borrowed from it live until
 * tw_activation_free. A completion is built by one thread and consumed by
 * tw_worker_complete_activation or tw_completion_free.
 */
#ifndef TW_ACTIVATION_H
#define TW_ACTIVATION_H

#include "common.h"
#include "failure.h"
#include "payload.h"

TW_BEGIN_DECLS

typedef struct tw_activation tw_activation;
typedef struct tw_job tw_job;
typedef struct tw_completion tw_completion;

typedef enum tw_job_kind {
    TW_JOB_INITIALIZE = 1,        /* start the workflow: tw_job_name is the type, tw_job_args the input */
    TW_JOB_FIRE_TIMER = 2,        /* tw_job_seq: the timer */
    TW_JOB_RESOLVE_ACTIVITY = 3,  /* tw_job_seq; tw_job_resolution + result / failure */
    TW_JOB_SIGNAL = 4,            /* tw_job_name, tw_job_args, tw_job_headers */
    TW_JOB_QUERY = 5,             /* tw_job_query_id, tw_job_name (query type), tw_job_args, tw_job_headers */
    TW_JOB_CANCEL_WORKFLOW = 6,   /* cancellation requested; tw_job_name: the reason */
    TW_JOB_UPDATE_RANDOM_SEED = 7,/* tw_job_random_seed */
    TW_JOB_REMOVE_FROM_CACHE = 8, /* eviction: tw_job_eviction_reason, tw_job_name: message */
    /*
     * tw_job_seq; tw_job_resolution + result / failure; tw_job_attempt. Or
     * TW_RESOLUTION_BACKOFF: see there.
     */
    TW_JOB_RESOLVE_LOCAL_ACTIVITY = 9,
    /*
     * Child workflow seq started (COMPLETED: tw_job_child_run_id), could not
     * start (FAILED: tw_job_start_failed_cause, tw_job_workflow_id,
     * tw_job_name the workflow type, tw_job_failure a description), or was
     * cancelled before it started (CANCELLED: tw_job_failure).
     */
    TW_JOB_RESOLVE_CHILD_START = 10,
    /*
     * Child workflow seq closed: COMPLETED (tw_job_result), FAILED
     * (tw_job_failure: a child-workflow failure whose cause says why: the
     * child's failure, a timeout, a termination) or CANCELLED (tw_job_failure:
     * a child-workflow failure caused by a cancellation).
     */
    TW_JOB_RESOLVE_CHILD = 11,
    /* Signal seq to another workflow: COMPLETED, FAILED (tw_job_failure) or CANCELLED. */
    TW_JOB_RESOLVE_SIGNAL_EXTERNAL = 12,
    /* Cancellation request seq to another workflow: COMPLETED or FAILED (tw_job_failure). */
    TW_JOB_RESOLVE_CANCEL_EXTERNAL = 13,
    /*
     * History of this task holds a marker for patch tw_job_name: the code
     * that made it took the patched branch (see tw_completion_set_patch_marker).
     * Comes before the other jobs of its activation.
     */
    TW_JOB_NOTIFY_HAS_PATCH = 14
} tw_job_kind;

/* Why a child workflow could not start (temporal.api.enums.v1.StartChildWorkflowExecutionFailedCause). */
typedef enum tw_start_failed_cause {
    TW_START_FAILED_WORKFLOW_ALREADY_EXISTS = 1,
    TW_START_FAILED_NAMESPACE_NOT_FOUND = 2
} tw_start_failed_cause;

typedef enum tw_resolution {
    TW_RESOLUTION_COMPLETED = 1,  /* tw_job_result */
    TW_RESOLUTION_FAILED = 2,     /* tw_job_failure */
    TW_RESOLUTION_CANCELLED = 3,  /* tw_job_failure (the cancellation, wrapped like the server does) */
    /*
     * Local activities only, and only for callers of
     * tw_completion_schedule_local_activity (tw_wf_instance handles it by
     * itself): the attempt failed and the next one is due after a backoff
     * longer than the activity's local_retry_threshold_ms, too long to wait
     * inside the worker. The local activity seq is over (its marker records
     * the failed attempt, tw_job_failure). To retry, start a timer of
     * tw_job_backoff_ms and, when it fires, schedule the local activity
     * again, under a new seq, with the same options plus attempt =
     * tw_job_attempt (the next attempt's number) and original_schedule_time
     * = tw_job_original_schedule_time, so that the retry policy's maximum
     * attempts and the schedule-to-close timeout keep counting from the
     * first attempt. Replaying, the marker brings the same job back.
     */
    TW_RESOLUTION_BACKOFF = 4
} tw_resolution;

typedef enum tw_eviction_reason {
    TW_EVICTION_CACHE_FULL = 1,
    TW_EVICTION_NONDETERMINISM = 2,
    TW_EVICTION_WORKFLOW_TASK_FAILED = 3,
    TW_EVICTION_TASK_NOT_FOUND = 4,   /* the server no longer knows the task: stale */
    TW_EVICTION_SHUTDOWN = 5,
    TW_EVICTION_WORKFLOW_CLOSED = 6,  /* the run completed, failed, continued as new... */
    TW_EVICTION_FATAL = 7,            /* history could not be processed (message says why) */
    TW_EVICTION_REPLAY_FINISHED = 8,  /* tw/replay.h: the replayer reached the end of the history */
    /*
     * The server refused the task's completion because new events (a signal,
     * say) arrived while it ran and the workflow closed: the run is replayed
     * with them on the next task.
     */
    TW_EVICTION_UNHANDLED_COMMAND = 9
} tw_eviction_reason;

/* ---- activations ---- */

TW_API void tw_activation_free(tw_activation *a);
TW_API const char *tw_activation_run_id(const tw_activation *a);
/* Workflow time: the timestamp of the latest workflow task started event (ns since epoch). */
TW_API int64_t tw_activation_timestamp(const tw_activation *a);
TW_API int tw_activation_is_replaying(const tw_activation *a);
TW_API int64_t tw_activation_history_length(const tw_activation *a);
TW_API size_t tw_activation_job_count(const tw_activation *a);
TW_API const tw_job *tw_activation_job(const tw_activation *a, size_t index);

/* ---- jobs (borrowed from their activation) ---- */

TW_API int tw_job_kind_of(const tw_job *j);
TW_API uint32_t tw_job_seq(const tw_job *j);
/* Workflow type, signal name, query type, cancel reason or eviction message ("" when none). */
TW_API const char *tw_job_name(const tw_job *j);
/* Start input, signal input, query arguments (never NULL, possibly empty). */
TW_API const tw_payloads *tw_job_args(const tw_job *j);
/* Headers as named payloads (never NULL). */
TW_API const tw_payloads *tw_job_headers(const tw_job *j);
TW_API const char *tw_job_query_id(const tw_job *j);
TW_API int tw_job_resolution(const tw_job *j);
TW_API const tw_payloads *tw_job_result(const tw_job *j);
TW_API const tw_failure *tw_job_failure(const tw_job *j);
TW_API uint64_t tw_job_random_seed(const tw_job *j);
TW_API int tw_job_eviction_reason(const tw_job *j);
/* TW_JOB_RESOLVE_CHILD_START: the started child's run id ("" otherwise). */
TW_API const char *tw_job_child_run_id(const tw_job *j);
/* TW_JOB_RESOLVE_CHILD_START, FAILED: a tw_start_failed_cause (0 otherwise). */
TW_API int tw_job_start_failed_cause(const tw_job *j);

/* TW_JOB_INITIALIZE details (tw_job_workflow_id also for a child that could not start). */
TW_API const char *tw_job_workflow_id(const tw_job *j);
TW_API const char *tw_job_task_queue(const tw_job *j);
TW_API int32_t tw_job_attempt(const tw_job *j);
/* TW_RESOLUTION_BACKOFF: how long to wait before the next attempt (0 for other jobs). */
TW_API int64_t tw_job_backoff_ms(const tw_job *j);
/* TW_RESOLUTION_BACKOFF: when the first attempt was scheduled (ns since the epoch; 0 for other jobs). */
TW_API int64_t tw_job_original_schedule_time(const tw_job *j);
TW_API const char *tw_job_first_execution_run_id(const tw_job *j);
TW_API const char *tw_job_continued_from_run_id(const tw_job *j);
TW_API const char *tw_job_parent_workflow_id(const tw_job *j);
TW_API const char *tw_job_parent_run_id(const tw_job *j);
TW_API const char *tw_job_parent_namespace(const tw_job *j);
TW_API const char *tw_job_cron_schedule(const tw_job *j);
TW_API int64_t tw_job_execution_timeout_ms(const tw_job *j);
TW_API int64_t tw_job_run_timeout_ms(const tw_job *j);
TW_API int64_t tw_job_task_timeout_ms(const tw_job *j);
TW_API int64_t tw_job_start_time(const tw_job *j);
TW_API const tw_payloads *tw_job_memo(const tw_job *j);
TW_API const tw_payloads *tw_job_search_attributes(const tw_job *j);
TW_API const tw_payloads *tw_job_last_completion_result(const tw_job *j);
TW_API const tw_failure *tw_job_continued_failure(const tw_job *j);
/* TW_JOB_INITIALIZE: the run's retry policy; 0 when it has none (the getters then return 0). */
TW_API int tw_job_has_retry_policy(const tw_job *j);
TW_API int64_t tw_job_retry_initial_interval_ms(const tw_job *j);
TW_API double tw_job_retry_backoff_coefficient(const tw_job *j);
TW_API int64_t tw_job_retry_maximum_interval_ms(const tw_job *j);
TW_API int32_t tw_job_retry_maximum_attempts(const tw_job *j);
TW_API size_t tw_job_retry_non_retryable_error_type_count(const tw_job *j);
/* Entry index of the non-retryable error types (NULL past the end). */
TW_API const char *tw_job_retry_non_retryable_error_type(const tw_job *j, size_t index);
/*
 * TW_JOB_INITIALIZE: the run's priority as the server recorded it at start
 * (what the starter set, merged with what a parent passes down). Fills
 * *out (call tw_priority_init first; out->fairness_key is borrowed from j),
 * all unset when it has none or for other jobs. TW_EINVAL for a NULL j or
 * out.
 */
TW_API int tw_job_priority(const tw_job *j, tw_priority *out);

/* ---- completions ---- */

/* A completion for the activation of run_id (copied). */
TW_API int tw_completion_new(const char *run_id, tw_completion **out);
TW_API void tw_completion_free(tw_completion *c);

typedef struct tw_activity_options {
    size_t size;
    const char *activity_id;            /* default: the seq as decimal */
    const char *activity_type;          /* required */
    const char *task_queue;             /* default: the workflow's task queue */
    const tw_payloads *args;
    const tw_payloads *headers;         /* named entries */
    int64_t schedule_to_close_timeout_ms;
    int64_t schedule_to_start_timeout_ms;
    int64_t start_to_close_timeout_ms;  /* this or schedule_to_close is required */
    int64_t heartbeat_timeout_ms;
    int64_t retry_initial_interval_ms;  /* retry policy; all 0: server default */
    double retry_backoff_coefficient;
    int64_t retry_maximum_interval_ms;
    int32_t retry_maximum_attempts;
    const char *const *retry_non_retryable_error_types; /* NULL-terminated */
    int cancellation_type;              /* tw_activity_cancellation_type; default TRY_CANCEL */
    int no_eager_execution;             /* non-zero: never run it eagerly (tw_worker_options.no_eager_activities) */
    /*
     * Appended fields (a caller whose size ends before one leaves it unset).
     *
     * priority: of the activity's tasks (see tw/common.h); NULL or unset
     * fields: the workflow's. summary: a one-line description for UIs and
     * the CLI, NULL or exactly one payload (the text as the language's
     * payload converter encodes it), sent as the command's user metadata
     * and recorded on the ActivityTaskScheduled event. Neither is compared
     * on replay (nor by sdk-core): changing them is not non-determinism.
     */
    const tw_priority *priority;
    const tw_payloads *summary;
} tw_activity_options;

/* What cancelling a scheduled activity does (tw_completion_request_cancel_activity). */
typedef enum tw_activity_cancellation_type {
    TW_ACTIVITY_CANCEL_TRY = 0,       /* ask the server, resolve as cancelled at once */
    TW_ACTIVITY_CANCEL_WAIT = 1,      /* ask the server, resolve when it confirms the cancellation */
    TW_ACTIVITY_CANCEL_ABANDON = 2    /* do not ask the server; resolve as cancelled at once */
} tw_activity_cancellation_type;

TW_API void tw_activity_options_init(tw_activity_options *options);

/* Commands, in the order the workflow issued them. */
TW_API int tw_completion_start_timer(tw_completion *c, uint32_t seq, int64_t duration_ms);

/* A timer with more than a duration (tw_completion_start_timer_with_options). */
typedef struct tw_timer_options {
    size_t size;
    int64_t duration_ms;         /* > 0 */
    /*
     * A one-line description for UIs and the CLI: NULL or exactly one
     * payload, recorded on the TimerStarted event (not compared on replay).
     */
    const tw_payloads *summary;
} tw_timer_options;

TW_API void tw_timer_options_init(tw_timer_options *options);
/* tw_completion_start_timer with options; TW_EINVAL naming the bad field. */
TW_API int tw_completion_start_timer_with_options(tw_completion *c, uint32_t seq, const tw_timer_options *options);
TW_API int tw_completion_cancel_timer(tw_completion *c, uint32_t seq);
TW_API int tw_completion_schedule_activity(tw_completion *c, uint32_t seq, const tw_activity_options *options);
TW_API int tw_completion_request_cancel_activity(tw_completion *c, uint32_t seq);
TW_API int tw_completion_complete_workflow(tw_completion *c, const tw_payloads *result);
/* Fails the workflow with an application failure (type may be NULL). */
TW_API int tw_completion_fail_workflow(tw_completion *c, const char *message, const char *type,
                                       int non_retryable, const tw_payloads *details);
/* Fails the workflow with a serialized temporal.api.failure.v1.Failure (full cause chain). */
TW_API int tw_completion_fail_workflow_encoded(tw_completion *c, const uint8_t *failure, size_t len);
TW_API int tw_completion_cancel_workflow(tw_completion *c, const tw_payloads *details);

typedef struct tw_continue_as_new_options {
    size_t size;
    const char *workflow_type;   /* default: the same type */
    const char *task_queue;      /* default: the same queue */
    const tw_payloads *args;
    int64_t run_timeout_ms;
    int64_t task_timeout_ms;
    const tw_payloads *memo;
    const tw_payloads *search_attributes;
    const tw_payloads *headers;
    int64_t retry_initial_interval_ms;  /* retry policy of the new run; all 0: none */
    double retry_backoff_coefficient;
    int64_t retry_maximum_interval_ms;
    int32_t retry_maximum_attempts;
    const char *const *retry_non_retryable_error_types; /* NULL-terminated */
    /*
     * Appended: how long the server waits before the new run's first
     * workflow task (its start is delayed by that much); 0: no delay.
     */
    int64_t backoff_start_interval_ms;
} tw_continue_as_new_options;

TW_API void tw_continue_as_new_options_init(tw_continue_as_new_options *options);
TW_API int tw_completion_continue_as_new(tw_completion *c, const tw_continue_as_new_options *options);

/* Answers query query_id with result, or with failure_message when it is not NULL. */
TW_API int tw_completion_respond_query(tw_completion *c, const char *query_id, const tw_payloads *result,
                                       const char *failure_message);

/*
 * Fails the workflow task instead (the code raised, or is not deterministic):
 * the server retries the task later. Commands already added are discarded.
 */
TW_API int tw_completion_fail_task(tw_completion *c, const char *message, const char *stack_trace);

/* ---- local activities ---- */

/*
 * A local activity runs in this worker's own activity side, not through the
 * server: the engine hands it to the worker, which delivers it as an activity
 * task with tw_activity_task_is_local set and retries it locally (retries
 * after a backoff longer than local_retry_threshold_ms wait on a durable
 * timer instead: TW_RESOLUTION_BACKOFF). Its outcome
 * is recorded in history as a "core_local_activity" marker (sdk-core's
 * format) and delivered as a TW_JOB_RESOLVE_LOCAL_ACTIVITY, in the same
 * workflow task unless it outlives 80% of the workflow task timeout: then
 * the worker completes the task with what the workflow did so far and asks
 * the server for a new one (a workflow task heartbeat), as often as needed,
 * and the outcome arrives in a later task. On replay the marker supplies the
 * outcome (in whichever task recorded it) and the activity is not run again.
 */
typedef struct tw_local_activity_options {
    size_t size;
    const char *activity_id;            /* default: the seq as decimal */
    const char *activity_type;          /* required */
    const tw_payloads *args;
    const tw_payloads *headers;         /* named entries */
    int64_t schedule_to_close_timeout_ms;
    int64_t schedule_to_start_timeout_ms;
    int64_t start_to_close_timeout_ms;  /* this or schedule_to_close is required */
    int64_t retry_initial_interval_ms;  /* retry policy; 0 / 0.0: defaults (1 s, x2, 100 s, unlimited) */
    double retry_backoff_coefficient;
    int64_t retry_maximum_interval_ms;
    int32_t retry_maximum_attempts;
    const char *const *retry_non_retryable_error_types; /* NULL-terminated */
    int cancellation_type;              /* tw_activity_cancellation_type; default TRY_CANCEL */
    /*
     * Appended fields (a caller whose size ends before one keeps the default
     * said here, except as noted).
     *
     * local_retry_threshold_ms: a failed attempt whose retry is due sooner
     * than this (or just as soon) is retried inside the worker; a longer
     * backoff is waited on a durable timer instead, so that no workflow task
     * has to stay open (heartbeating) for it: the local activity resolves
     * with TW_RESOLUTION_BACKOFF, which tw_wf_instance turns into that timer
     * and the retry by itself. 0: 60 s, as in the other SDKs. A caller whose
     * struct predates the field never gets TW_RESOLUTION_BACKOFF (it could
     * not know it): every retry stays in the worker, as before.
     */
    int64_t local_retry_threshold_ms;
    /*
     * The retry of a TW_RESOLUTION_BACKOFF: attempt is the job's
     * tw_job_attempt (0: 1, a first attempt) and original_schedule_time its
     * tw_job_original_schedule_time (ns since the epoch; 0: when the worker
     * takes it), so maximum attempts and schedule_to_close_timeout_ms count
     * from the first attempt.
     */
    int32_t attempt;
    int64_t original_schedule_time;
    /*
     * A one-line description for UIs and the CLI: NULL or exactly one
     * payload. It goes on the RecordMarker command of the outcome (sdk-core
     * does the same), so the MarkerRecorded event carries it.
     */
    const tw_payloads *summary;
} tw_local_activity_options;

TW_API void tw_local_activity_options_init(tw_local_activity_options *options);
/* Schedules local activity seq (resolved by TW_JOB_RESOLVE_LOCAL_ACTIVITY). */
TW_API int tw_completion_schedule_local_activity(tw_completion *c, uint32_t seq,
                                                 const tw_local_activity_options *options);
/* Cancels local activity seq: it resolves CANCELLED (TRY_CANCEL semantics) and its task gets a CANCEL. */
TW_API int tw_completion_request_cancel_local_activity(tw_completion *c, uint32_t seq);

/* ---- workflow properties ---- */

/*
 * Upserts search attributes: attrs holds named entries (name: the search
 * attribute, payload: its encoded value). Adds an UpsertWorkflowSearchAttributes
 * command, matched on replay against the UpsertWorkflowSearchAttributes event.
 */
TW_API int tw_completion_upsert_search_attributes(tw_completion *c, const tw_payloads *attrs);
/*
 * Upserts memo entries: memo holds named entries (name: the memo key,
 * payload: its value). Adds a ModifyWorkflowProperties command, matched on
 * replay against the WorkflowPropertiesModified event.
 */
TW_API int tw_completion_modify_memo(tw_completion *c, const tw_payloads *memo);

/* ---- child workflows ---- */

/* What cancelling a started child workflow does (tw_completion_cancel_child_workflow). */
typedef enum tw_child_cancellation_type {
    TW_CHILD_CANCEL_ABANDON = 0,              /* do not ask the server; resolve as cancelled at once */
    TW_CHILD_CANCEL_TRY = 1,                  /* ask the server, resolve as cancelled at once */
    TW_CHILD_CANCEL_WAIT_COMPLETED = 2,       /* ask the server, resolve when the child closes (default) */
    TW_CHILD_CANCEL_WAIT_REQUESTED = 3        /* ask the server, resolve when the request is recorded */
} tw_child_cancellation_type;

/* temporal.api.enums.v1.ParentClosePolicy values: what happens to a child when its parent closes. */
typedef enum tw_parent_close_policy {
    TW_PARENT_CLOSE_UNSPECIFIED = 0,          /* server default: terminate */
    TW_PARENT_CLOSE_TERMINATE = 1,
    TW_PARENT_CLOSE_ABANDON = 2,
    TW_PARENT_CLOSE_REQUEST_CANCEL = 3
} tw_parent_close_policy;

typedef struct tw_child_workflow_options {
    size_t size;
    const char *namespace_;             /* default: the parent's namespace */
    const char *workflow_id;            /* required */
    const char *workflow_type;          /* required */
    const char *task_queue;             /* default: the parent's task queue */
    const tw_payloads *args;
    const tw_payloads *headers;         /* named entries */
    const tw_payloads *memo;            /* named entries */
    const tw_payloads *search_attributes; /* named entries */
    int64_t execution_timeout_ms;
    int64_t run_timeout_ms;
    int64_t task_timeout_ms;
    int parent_close_policy;            /* tw_parent_close_policy */
    int id_reuse_policy;                /* tw_id_reuse_policy values (tw/client.h) */
    int64_t retry_initial_interval_ms;  /* retry policy; all 0: none (a child is not retried by default) */
    double retry_backoff_coefficient;
    int64_t retry_maximum_interval_ms;
    int32_t retry_maximum_attempts;
    const char *const *retry_non_retryable_error_types; /* NULL-terminated */
    const char *cron_schedule;
    int cancellation_type;              /* tw_child_cancellation_type; tw_child_workflow_options_init: WAIT_COMPLETED */
    /*
     * Appended fields (a caller whose size ends before one leaves it unset).
     *
     * priority: of the child's tasks (see tw/common.h); NULL or unset
     * fields: the parent's. static_summary / static_details: as for
     * tw_start_workflow_options, each NULL or exactly one payload, sent as
     * the command's user metadata. None of them is compared on replay.
     */
    const tw_priority *priority;
    const tw_payloads *static_summary;
    const tw_payloads *static_details;
} tw_child_workflow_options;

TW_API void tw_child_workflow_options_init(tw_child_workflow_options *options);
/*
 * Starts child workflow seq: resolved first by TW_JOB_RESOLVE_CHILD_START,
 * then (once started) by TW_JOB_RESOLVE_CHILD.
 */
TW_API int tw_completion_start_child_workflow(tw_completion *c, uint32_t seq,
                                              const tw_child_workflow_options *options);
/*
 * Cancels child workflow seq. Its start command not sent yet: nothing is
 * sent and the start resolves CANCELLED at once. Otherwise a cancellation
 * request limited to the child is sent (unless ABANDON) and the child
 * resolves as its cancellation type says: ABANDON and TRY at once (its
 * start if the child had not started yet, else the child), WAIT_REQUESTED
 * once the server recorded the request, WAIT_COMPLETED when the child
 * closes. No-op once the child resolved.
 */
TW_API int tw_completion_cancel_child_workflow(tw_completion *c, uint32_t seq);

/* ---- other workflows ---- */

typedef struct tw_signal_external_options {
    size_t size;
    const char *namespace_;             /* default: this workflow's namespace */
    const char *workflow_id;            /* required */
    const char *run_id;                 /* NULL or "": the current run */
    const char *signal_name;            /* required */
    const tw_payloads *args;
    const tw_payloads *headers;         /* named entries */
    int child_workflow_only;            /* non-zero: only if the target is a child of this workflow */
} tw_signal_external_options;

TW_API void tw_signal_external_options_init(tw_signal_external_options *options);
/* Signals another workflow; resolved by TW_JOB_RESOLVE_SIGNAL_EXTERNAL with seq. */
TW_API int tw_completion_signal_external_workflow(tw_completion *c, uint32_t seq,
                                                  const tw_signal_external_options *options);
/*
 * Cancels signal seq: it resolves CANCELLED at once (if its command was not
 * sent, nothing is sent; a signal already sent may still be delivered).
 */
TW_API int tw_completion_cancel_signal_external(tw_completion *c, uint32_t seq);
/*
 * Asks the server to cancel another workflow (run_id NULL or "": its current
 * run; namespace NULL: this one); resolved by TW_JOB_RESOLVE_CANCEL_EXTERNAL.
 */
TW_API int tw_completion_request_cancel_external_workflow(tw_completion *c, uint32_t seq, const char *namespace_,
                                                          const char *workflow_id, const char *run_id);

/* ---- patches ---- */

/*
 * Records that the workflow took the patched branch of patch_id (a
 * "core_patch" marker, sdk-core's layout). A workflow calls it the first
 * time it asks whether patch_id applies and the answer is yes: always when
 * not replaying; when replaying, only if the activation notified the patch
 * (TW_JOB_NOTIFY_HAS_PATCH). deprecated: the old branch is gone, so
 * histories without the marker replay too (the marker is then skipped).
 * On replay a deprecated marker in history that the code no longer records
 * is skipped as well.
 */
TW_API int tw_completion_set_patch_marker(tw_completion *c, const char *patch_id, int deprecated);

TW_END_DECLS

#endif
