/*
 * tw/workflow.h - the workflow runtime: one tw_wf_instance per workflow run,
 * for C workflow authors and language bindings.
 *
 * The engine speaks in activations and commands; this layer speaks in
 * operations and callbacks. A binding gives tw_wf_instance_activate each
 * activation of its run; the instance calls the binding's callbacks in job
 * order (start, signals, resolutions, queries...), then lets the binding
 * run its ready queue to quiescence (the drain callback), repeats while
 * operations resolve immediately, and returns the completion built from
 * what the workflow code did.
 *
 * Operations (timers, activities) are created inside a cancellation scope
 * and carry a binding tag (an integer, never a pointer into a garbage
 * collected heap); they are resolved exactly once through the `resolved`
 * callback. Scopes form a tree rooted at the workflow: cancelling a scope
 * cancels every pending operation in it and in its non-detached
 * descendants and tells the binding through `scope_cancelled`; a scope with
 * a timeout cancels itself through a durable timer; a cancellation request
 * for the workflow cancels the root scope.
 *
 * Threads: an instance is used by one thread at a time. Callbacks run only
 * inside tw_wf_instance_activate, on its caller's thread, and every tw_wf_*
 * call below that starts or cancels something must be made from inside a
 * callback (TW_EINVAL otherwise). Handles (ops, scopes) stay valid until
 * the instance is freed.
 */
#ifndef TW_WORKFLOW_H
#define TW_WORKFLOW_H

#include "activation.h"
#include "common.h"
#include "failure.h"
#include "payload.h"

TW_BEGIN_DECLS

typedef struct tw_wf_instance tw_wf_instance;
typedef struct tw_scope tw_scope;
typedef struct tw_op tw_op;

typedef enum tw_op_kind {
    TW_OP_TIMER = 1,
    TW_OP_ACTIVITY = 2,
    TW_OP_LOCAL_ACTIVITY = 3,
    TW_OP_CHILD_WORKFLOW = 4,   /* child_started when it starts, then resolved with its outcome */
    TW_OP_SIGNAL_EXTERNAL = 5,  /* a signal to another workflow (or a child) */
    TW_OP_CANCEL_EXTERNAL = 6   /* a cancellation request to another workflow */
} tw_op_kind;

typedef struct tw_wf_callbacks {
    size_t size;
    /* The run starts: args are the workflow input. */
    void (*start)(tw_wf_instance *wf, const char *workflow_type, const tw_payloads *args, void *user_data);
    /*
     * A signal. Return 1 when it was handled, 0 when there is no handler for
     * it yet: the instance keeps it and delivers it again, in order, after
     * tw_wf_signal_handler_added.
     */
    int (*signal)(tw_wf_instance *wf, const char *name, const tw_payloads *args, const tw_payloads *headers,
                  void *user_data);
    /*
     * A query. Fill *result (a list the instance created) or set *error to a
     * message the instance copies. Queries are read-only: starting or
     * cancelling anything here fails the query and is undone.
     */
    void (*query)(tw_wf_instance *wf, const char *name, const tw_payloads *args, const tw_payloads *headers,
                  tw_payloads *result, const char **error, void *user_data);
    /* Cancellation of the workflow was requested (the root scope is cancelled right after). */
    void (*cancel_requested)(tw_wf_instance *wf, const char *reason, void *user_data);
    /* op resolved: tw_resolution value; result for COMPLETED, failure otherwise. */
    void (*resolved)(tw_wf_instance *wf, tw_op *op, uint64_t tag, int resolution, const tw_payloads *result,
                     const tw_failure *failure, void *user_data);
    /* scope (created with tag) was cancelled. */
    void (*scope_cancelled)(tw_wf_instance *wf, tw_scope *scope, uint64_t tag, void *user_data);
    /* Run the workflow's ready work until nothing more can run. */
    void (*drain)(tw_wf_instance *wf, void *user_data);
    /* The run leaves the cache: drop its state. The instance may be freed after activate returns. */
    void (*evict)(tw_wf_instance *wf, int reason, const char *message, void *user_data);
    /*
     * Child workflow op (tag) started as run_id. Its outcome comes later
     * through resolved. A child that cannot start is resolved instead
     * (FAILED, see tw_op_start_failed_cause; or CANCELLED).
     */
    void (*child_started)(tw_wf_instance *wf, tw_op *op, uint64_t tag, const char *run_id, void *user_data);
} tw_wf_callbacks;

/* Creates an instance; callbacks are copied (missing ones are no-ops). */
TW_API int tw_wf_instance_new(const tw_wf_callbacks *callbacks, void *user_data, tw_wf_instance **out);
TW_API void tw_wf_instance_free(tw_wf_instance *wf);

/*
 * Runs one activation of this instance's run and returns the completion to
 * hand to tw_worker_complete_activation (caller owns it). TW_EINVAL for an
 * activation of another run.
 */
TW_API int tw_wf_instance_activate(tw_wf_instance *wf, const tw_activation *activation, tw_completion **out);

/* ---- scopes ---- */

/* The root scope (cancelled when the workflow's cancellation is requested). */
TW_API tw_scope *tw_wf_root_scope(tw_wf_instance *wf);
/*
 * A new scope under parent (NULL: root). detached: not cancelled with its
 * parent. timeout_ms > 0: cancels itself after that much workflow time.
 */
TW_API int tw_wf_scope_new(tw_wf_instance *wf, tw_scope *parent, int detached, int64_t timeout_ms, uint64_t tag,
                           tw_scope **out);
/* Cancels the scope (and its non-detached descendants). Idempotent. */
TW_API int tw_scope_cancel(tw_scope *scope);
TW_API int tw_scope_is_cancelled(const tw_scope *scope);
TW_API tw_scope *tw_scope_parent(const tw_scope *scope);

/* ---- operations ---- */

/* Starts a durable timer in scope (NULL: root). Resolves COMPLETED when it fires. */
TW_API int tw_wf_start_timer(tw_wf_instance *wf, tw_scope *scope, int64_t duration_ms, uint64_t tag, tw_op **out);
/*
 * tw_wf_start_timer with options (tw_completion_start_timer_with_options):
 * a summary, say. duration_ms 0 fires at once, as above.
 */
TW_API int tw_wf_start_timer_with_options(tw_wf_instance *wf, tw_scope *scope, const tw_timer_options *options,
                                          uint64_t tag, tw_op **out);
/* Schedules an activity in scope (NULL: root); options as for tw_completion_schedule_activity. */
TW_API int tw_wf_start_activity(tw_wf_instance *wf, tw_scope *scope, const tw_activity_options *options,
                                uint64_t tag, tw_op **out);
/*
 * Schedules a local activity in scope (NULL: root); options as for
 * tw_completion_schedule_local_activity (the instance copies them). A retry
 * due later than options->local_retry_threshold_ms (TW_RESOLUTION_BACKOFF)
 * is handled here: a durable timer of the backoff, then the next attempt
 * under a new seq. The op resolves once, with the final outcome. A caller
 * whose struct predates local_retry_threshold_ms gets its default (60 s).
 */
TW_API int tw_wf_start_local_activity(tw_wf_instance *wf, tw_scope *scope, const tw_local_activity_options *options,
                                      uint64_t tag, tw_op **out);
/*
 * Cancels an operation: an op whose command was not sent yet is dropped and
 * resolves CANCELLED at once; a timer is cancelled and resolves at once; an
 * activity follows its cancellation type; a local activity waiting on its
 * backoff timer has the timer cancelled and resolves CANCELLED at once. No-op
 * once resolved.
 */
TW_API int tw_op_cancel(tw_op *op);
/*
 * Starts a child workflow in scope (NULL: root); options as for
 * tw_completion_start_child_workflow (namespace_ must be NULL: children run
 * in the parent's namespace). Cancelling the op (or its scope) cancels the
 * child as its cancellation type says.
 */
TW_API int tw_wf_start_child_workflow(tw_wf_instance *wf, tw_scope *scope, const tw_child_workflow_options *options,
                                      uint64_t tag, tw_op **out);
/* The started child's run id ("" before child_started or for other ops). */
TW_API const char *tw_op_child_run_id(const tw_op *op);
/* A child that could not start: its tw_start_failed_cause (0 otherwise). */
TW_API int tw_op_start_failed_cause(const tw_op *op);
/*
 * Signals another workflow (child_workflow_only: a child of this one) in
 * scope (NULL: root). Resolves COMPLETED once delivered, FAILED when the
 * server could not deliver it, CANCELLED when cancelled first.
 */
TW_API int tw_wf_signal_external(tw_wf_instance *wf, tw_scope *scope, const tw_signal_external_options *options,
                                 uint64_t tag, tw_op **out);
/*
 * Asks the server to cancel another workflow (run_id NULL or "": its current
 * run). Resolves COMPLETED once the request is recorded, FAILED when the
 * workflow was not found. Cancelling this op has no effect.
 */
TW_API int tw_wf_cancel_external(tw_wf_instance *wf, tw_scope *scope, const char *workflow_id, const char *run_id,
                                 uint64_t tag, tw_op **out);
TW_API int tw_op_kind_of(const tw_op *op);
TW_API uint64_t tw_op_tag(const tw_op *op);
TW_API int tw_op_is_resolved(const tw_op *op);

/* ---- patches ---- */

/*
 * Whether the workflow should take the new branch of patch_id: true when not
 * replaying, and when replaying a history whose code took it. The first yes
 * records a marker (tw_completion_set_patch_marker); the answer for an id is
 * remembered for the rest of the run. -1 with the error set on bad input or
 * outside a callback (a query may ask, and gets the remembered answer or
 * false).
 */
TW_API int tw_wf_patched(tw_wf_instance *wf, const char *patch_id);
/* The old branch of patch_id is gone: records a deprecated marker (returns 0 or an error code). */
TW_API int tw_wf_deprecate_patch(tw_wf_instance *wf, const char *patch_id);

/* ---- signals ---- */

/* A handler for name (NULL: a dynamic handler for every name) now exists: buffered signals are delivered again. */
TW_API int tw_wf_signal_handler_added(tw_wf_instance *wf, const char *name);

/* ---- ending the run ---- */

TW_API int tw_wf_complete(tw_wf_instance *wf, const tw_payloads *result);
TW_API int tw_wf_fail(tw_wf_instance *wf, const char *message, const char *type, int non_retryable,
                      const tw_payloads *details);
/* Fails with a serialized temporal.api.failure.v1.Failure (full cause chain). */
TW_API int tw_wf_fail_encoded(tw_wf_instance *wf, const uint8_t *failure, size_t len);
TW_API int tw_wf_cancel(tw_wf_instance *wf, const tw_payloads *details);
TW_API int tw_wf_continue_as_new(tw_wf_instance *wf, const tw_continue_as_new_options *options);
/* Fails the workflow task instead (a bug in workflow code): the server retries it. */
TW_API int tw_wf_fail_task(tw_wf_instance *wf, const char *message, const char *stack_trace);
/* Whether a terminal command (complete, fail, cancel, continue-as-new) was issued. */
TW_API int tw_wf_is_done(const tw_wf_instance *wf);

/* ---- information (valid after the start callback began) ---- */

TW_API const char *tw_wf_workflow_id(const tw_wf_instance *wf);
TW_API const char *tw_wf_run_id(const tw_wf_instance *wf);
TW_API const char *tw_wf_workflow_type(const tw_wf_instance *wf);
TW_API const char *tw_wf_task_queue(const tw_wf_instance *wf);
TW_API int32_t tw_wf_attempt(const tw_wf_instance *wf);
TW_API int64_t tw_wf_start_time(const tw_wf_instance *wf);
TW_API int64_t tw_wf_execution_timeout_ms(const tw_wf_instance *wf);
TW_API int64_t tw_wf_run_timeout_ms(const tw_wf_instance *wf);
TW_API int64_t tw_wf_task_timeout_ms(const tw_wf_instance *wf);
TW_API const char *tw_wf_parent_workflow_id(const tw_wf_instance *wf);
TW_API const char *tw_wf_parent_run_id(const tw_wf_instance *wf);
TW_API const char *tw_wf_parent_namespace(const tw_wf_instance *wf);
TW_API const char *tw_wf_continued_run_id(const tw_wf_instance *wf);
TW_API const char *tw_wf_cron_schedule(const tw_wf_instance *wf);
TW_API const tw_payloads *tw_wf_memo(const tw_wf_instance *wf);
TW_API const tw_payloads *tw_wf_search_attributes(const tw_wf_instance *wf);
TW_API const tw_payloads *tw_wf_last_completion_result(const tw_wf_instance *wf);
/* The run's priority (tw_job_priority of its initialize job); out->fairness_key lives as long as wf. */
TW_API int tw_wf_priority(const tw_wf_instance *wf, tw_priority *out);
/* Workflow time of the current activation, ns since the epoch. */
TW_API int64_t tw_wf_now(const tw_wf_instance *wf);
TW_API int tw_wf_is_replaying(const tw_wf_instance *wf);
/* Deterministic random 64-bit value (seeded by the run). */
TW_API uint64_t tw_wf_random(tw_wf_instance *wf);

/* ---- workflow properties ---- */

/*
 * Upserts search attributes (named entries, as for
 * tw_completion_upsert_search_attributes): a command, refused in queries.
 * tw_wf_search_attributes reflects the upserted entries from then on.
 */
TW_API int tw_wf_upsert_search_attributes(tw_wf_instance *wf, const tw_payloads *attrs);
/*
 * Upserts memo entries (named entries, as for tw_completion_modify_memo): a
 * command, refused in queries. tw_wf_memo reflects the upserted entries.
 */
TW_API int tw_wf_modify_memo(tw_wf_instance *wf, const tw_payloads *memo);

TW_END_DECLS

#endif
