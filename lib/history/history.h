/*
 * lib/history - the per-run engine: history events -> activations, and
 * completions -> commands, with the determinism check in between.
 * Private to the library. Not thread-safe: the worker serialises access to
 * each tw_run with its own lock.
 *
 * Model. A run's history is a sequence of workflow tasks (WFT). Each WFT
 * that the workflow code must see ends at a WorkflowTaskStarted event that
 * is followed by WorkflowTaskCompleted (replay) or by nothing yet (the live
 * task). WFTs followed by WorkflowTaskFailed / WorkflowTaskTimedOut are not
 * boundaries: their events roll into the next one. One activation is made
 * per boundary (none for a task with no job while local activities are
 * unresolved: see tw_run_next_activation), holding the jobs of the events
 * since the previous boundary, sorted as sdk-core does (initialize, random
 * seed, signals, then the other resolutions in event order). Its timestamp
 * is the boundary's
 * WorkflowTaskStarted event time; it is replaying unless it is the live WFT.
 *
 * Commands. Every command of a completion is queued as "pending". Command
 * events in history (ActivityTaskScheduled, TimerStarted, TimerCanceled,
 * ActivityTaskCancelRequested, StartChildWorkflowExecutionInitiated,
 * SignalExternalWorkflowExecutionInitiated,
 * RequestCancelExternalWorkflowExecutionInitiated, MarkerRecorded,
 * WorkflowExecutionCompleted / Failed / Canceled / ContinuedAsNew, ...: the
 * ones carrying workflow_task_completed_event_id) are matched in order
 * against the pending queue as they are reached, by kind and id (timer id;
 * activity id and type; child workflow id and type; target workflow id and
 * signal name; target workflow id of a cancellation request; patch id); the
 * match records event id -> seq so later resolutions (TimerFired,
 * ActivityTaskCompleted, ChildWorkflowExecutionStarted,
 * ExternalWorkflowExecutionSignaled, ...: found by their scheduled /
 * initiated event id) find their seq. A command event with no pending
 * command, or a pending command of another kind or id, is non-determinism:
 * the error names the event id, what history has and what the workflow
 * produced. When a replayed WFT's command events are all matched but
 * commands of that completion remain pending, that is non-determinism too.
 * Commands of the live WFT stay pending until the next workflow task brings
 * their events.
 *
 * Timers use timer_id = decimal seq. Activities use activity_id = decimal
 * seq unless the workflow set one. Children, signals and cancellation
 * requests of other workflows have seq spaces of their own.
 *
 * Child workflows. StartChildWorkflowExecution is resolved first by a
 * TW_JOB_RESOLVE_CHILD_START (ChildWorkflowExecutionStarted: COMPLETED;
 * StartChildWorkflowExecutionFailed: FAILED), then by a TW_JOB_RESOLVE_CHILD
 * when the child closes (completed, failed, timed out, terminated:
 * child-workflow failures caused as sdk-core words them; canceled:
 * CANCELLED). Cancelling a child: unsent, its start is dropped and resolves
 * CANCELLED at once; initiated or started, a cancellation request limited
 * to the child (RequestCancelExternalWorkflowExecution, matched like any
 * command) is sent unless the type is ABANDON; ABANDON and TRY resolve it
 * CANCELLED at once (the start if it had not started, the child
 * otherwise), WAIT_REQUESTED when ExternalWorkflowExecutionCancelRequested
 * records the request, WAIT_COMPLETED when the child closes. Events about a
 * child already resolved are ignored.
 *
 * Other workflows. A signal resolves COMPLETED on
 * ExternalWorkflowExecutionSignaled, FAILED on
 * SignalExternalWorkflowExecutionFailed, and CANCELLED at once when the
 * workflow cancels it (unsent: the command is dropped; sent: later events
 * are ignored). A cancellation request resolves COMPLETED on
 * ExternalWorkflowExecutionCancelRequested, FAILED on
 * RequestCancelExternalWorkflowExecutionFailed.
 *
 * Patches. A core_patch RecordMarker (one per patch id and run) is matched
 * against its MarkerRecorded by patch id, with sdk-core's skip rules: a
 * pending patch marker that history does not have at that point is dropped
 * (old histories replay under new code); a deprecated marker in history is
 * passed over when the head pending command is not that patch's marker (the
 * code no longer records it), and so is the TemporalChangeVersion upsert
 * sdk-core may record after a marker. A non-deprecated marker with no
 * matching command is non-determinism. A replayed activation carries a
 * TW_JOB_NOTIFY_HAS_PATCH for every patch marker among the command events
 * its own task produced (the events after its WorkflowTaskCompleted), so the
 * workflow takes the same branches as the code that wrote the history.
 *
 * Resolutions with no history event. Cancelling an activity whose
 * cancellation type is TRY_CANCEL or ABANDON (or one whose schedule
 * command was not sent yet: both commands are then dropped), a child as
 * above, or a signal, resolves it as cancelled at once: the engine delivers
 * that in one more activation of the same workflow task (same timestamp,
 * same is_replaying, no new history), made before the task's commands are
 * sent or matched. So one workflow task may take several
 * activation/completion rounds; see tw_run_complete.
 */
#ifndef TW_LIB_HISTORY_H
#define TW_LIB_HISTORY_H

#include "common/common.h"
#include "tw/activation.h"

typedef Temporal__Api__History__V1__HistoryEvent tw_pb_event;
typedef Temporal__Api__Command__V1__Command tw_pb_command;

typedef struct tw_run tw_run;

/* ---- runs ---- */

int tw_run_new(const char *run_id, tw_run **out);
void tw_run_free(tw_run *run);
const char *tw_run_id(const tw_run *run);
/* Id of the last event appended (0 before any). */
int64_t tw_run_last_event_id(const tw_run *run);
/* Task queue and workflow type from the started event ("" before it). */
const char *tw_run_task_queue(const tw_run *run);
const char *tw_run_workflow_type(const tw_run *run);

/*
 * Appends a history page; takes ownership of page in all cases. Events
 * already appended (id <= last) are skipped; a gap (first new id !=
 * last + 1) is TW_EPROTO ("history gap: have events up to N, page starts
 * at M"), and so is a first page not starting with event 1.
 */
int tw_run_append(tw_run *run, Temporal__Api__History__V1__History *page);

/*
 * True when appended history holds a boundary with no activation made yet,
 * or when resolutions that need no history event wait to be delivered
 * (see "Resolutions with no history event"), the latter only while a
 * task is current: once the live task was answered (its commands handed
 * out, or a heartbeat), only a new boundary makes the next activation.
 * False while an activation awaits its completion, and once an error (or
 * a task failure) made the run unusable.
 */
bool tw_run_has_next_activation(const tw_run *run);

/*
 * Makes the activation for the next boundary (precondition:
 * tw_run_has_next_activation). Sets *live when it is the live WFT.
 * Returns 0, TW_ENOMEM, or TW_EPROTO with *err (non-determinism found
 * while matching command events on the way, an event this engine does not
 * support yet, a resolution for an unknown seq); the caller owns *err.
 *
 * A boundary whose events hold no job for the workflow while local
 * activities are unresolved (the task the server makes after a heartbeat,
 * see "local activities") is not handed to the language, as sdk-core does
 * not: *out is then NULL with 0, no activation awaits a completion, and
 * the run went past that task on its own. Replaying, the task counts as
 * completed with no commands (its command events are matched at once).
 * Live, it is the current task, waiting on its local activities
 * (tw_run_local_activities_outstanding). The caller then checks
 * tw_run_has_next_activation again. (sdk-core skips every task without
 * jobs; this engine still makes an empty activation for one with no
 * local activity pending, as it always did: the language just runs and
 * answers it.)
 */
int tw_run_next_activation(tw_run *run, tw_activation **out, bool *live, tw_error **err);

/* What a completion asks the worker to do. Owned by the caller; free with tw_run_output_clear. */
typedef struct tw_run_output {
    tw_pb_command **commands;  /* to send with RespondWorkflowTaskCompleted (live WFT only; see tw_run_complete) */
    size_t command_count;
    bool terminal;             /* a complete / fail / cancel / continue-as-new command is among them */
    char *task_failure;        /* the language failed the task: message (then no commands) */
    char *task_failure_stack;
    /* answers to queries, in the order of the query jobs */
    char **query_ids;
    tw_payloads **query_results;     /* NULL where the query failed */
    char **query_failures;           /* NULL where it succeeded */
    size_t query_count;
} tw_run_output;

void tw_run_output_clear(tw_run_output *out);

/*
 * Applies the completion of the activation last made by
 * tw_run_next_activation (consumes c). For a replayed WFT, matches its
 * commands against history now; for the live one, fills out->commands.
 * Returns 0, TW_EINVAL (completion for another run: message says so) or
 * TW_EPROTO with *err for non-determinism.
 *
 * After each tw_run_complete the worker checks tw_run_has_next_activation:
 * while it is true and no new history was appended, the next activation
 * belongs to the same workflow task (immediate resolutions) and must be
 * made and completed before anything is sent. Only when it is false does
 * the worker send RespondWorkflowTaskCompleted, with the commands
 * accumulated across those completions. (The engine returns a task's
 * commands all at once, from its last tw_run_complete, and none from the
 * earlier ones, so accumulating and taking the last list are the same.)
 * out->terminal is set on that last output.
 *
 * Other errors: TW_EINVAL (the message says why) for a completion that
 * reuses the seq of a timer, activity, child, signal or cancellation
 * request still pending, cancels a seq never started, or comes with no
 * activation awaiting it; TW_ENOMEM.
 * *err is set only with TW_EPROTO. After any error, and after a
 * completion that failed the task (out->task_failure), the run is
 * unusable: the worker evicts it and replays from the full history.
 */
int tw_run_complete(tw_run *run, tw_completion *c, tw_run_output *out, tw_error **err);

/* ---- local activities ---- */

/*
 * A ScheduleLocalActivity is not sent to the server. In the live task the
 * run keeps it as a request the worker takes (and runs); the worker reports
 * the outcome with tw_run_resolve_local_activity, which queues a
 * core_local_activity RecordMarker command and a TW_JOB_RESOLVE_LOCAL_ACTIVITY
 * for one more activation of the same task. tw_run_complete returns the
 * task's commands only once no local activity is outstanding.
 *
 * Heartbeats. A local activity may outlast the workflow task timeout. As
 * sdk-core does, the worker then answers the task before it times out
 * (at 80% of the timeout, counted from when the task was received) with
 * tw_run_heartbeat: the commands so far, including the markers of local
 * activities already resolved, go out with force_create_new_workflow_task
 * while the others keep running. The server records them and at once
 * makes a new task; its history brings the heartbeat's
 * WorkflowTaskCompleted and command events (matched like any others) and a
 * new WorkflowTaskStarted. That task usually has nothing for the workflow:
 * tw_run_next_activation makes no activation for it and it becomes the
 * task waiting on the local activities (heartbeating again when due).
 * Outcomes reported while no task is current (after a heartbeat, before
 * the next task's history) are delivered in that next task's activation.
 *
 * The marker's "data" is sdk-core's LocalActivityMarkerData as its serde
 * JSON: {"seq", "attempt", "activity_id", "activity_type", "complete_time":
 * {"seconds", "nanos"}, "backoff": null, "original_schedule_time":
 * {"seconds", "nanos"}}; the result (if any) is detail "result", a failure
 * the marker's failure. Reading, complete_time may also be the RFC 3339
 * string earlier builds of this library wrote.
 *
 * Replay. Because of heartbeats a marker may be recorded by a later
 * workflow task than the one that scheduled its local activity. A local
 * activity scheduled while replaying resolves, as in sdk-core, from the
 * first marker with its seq found among the command events of the task
 * being replayed (one more activation of that task), or else of a later
 * task (in that task's activation, which is made even when it has no other
 * job); until then it just waits. So a missing marker is not by itself
 * non-determinism. It shows only the way sdk-core finds it: the workflow,
 * still waiting on the local activity, produces no further command where
 * history has one (a timer, the completion of the workflow, ...), and that
 * command event fails the ordinary matching. Reaching the live task with a
 * marker still missing (the worker that heartbeated died), the local
 * activity is run again (it becomes a request). A marker whose seq names
 * no local activity scheduled so far, or one already resolved by its
 * marker, is non-determinism at that event. Cancelling a local activity
 * that waits for its marker changes nothing: the marker tells how it
 * ended.
 *
 * Backoffs on a timer (sdk-core's local retry threshold). The worker
 * retries a failed attempt itself while the backoff before the next one is
 * at most the schedule's threshold (tw_cmd.la_retry_threshold_ms). A
 * longer one ends the local activity with TW_RESOLUTION_BACKOFF: its marker
 * records the failed attempt with "backoff" set, and the job asks the
 * workflow to wait on a timer, then schedule it again (a new seq, the next
 * attempt, the same original_schedule_time). Replaying, a marker with
 * "backoff" brings the same job back, so the timer and the new schedule
 * come at the same points.
 */
/* What the activity side needs to run a local activity beyond the fields of its schedule command. */
typedef struct tw_la_params {
    int32_t attempt;               /* >= 1 */
    int64_t original_schedule_ms;  /* wall clock, ms since the epoch (0: unknown) */
    int64_t retry_threshold_ms;    /* a longer backoff ends in TW_RESOLUTION_BACKOFF; -1: never */
} tw_la_params;

typedef struct tw_run_la_request {
    uint32_t seq;
    tw_pb_command *schedule;   /* owned: a ScheduleActivityTask command carrying the options (NULL for a cancel) */
    bool cancel;               /* the running local activity seq must be cancelled (it is resolved already) */
    tw_la_params params;       /* for a schedule */
} tw_run_la_request;

/*
 * Takes the new requests (and cancels) of the run; *out is owned by the
 * caller (free each schedule, then *out). now_ns (wall clock) is recorded
 * as the requests' original_schedule_time in their markers (unless the
 * schedule brought its own: the retry after a backoff).
 */
int tw_run_take_local_activity_requests(tw_run *run, int64_t now_ns, tw_run_la_request **out, size_t *count);
/* Local activities of the live task requested or running, not resolved yet (none while replaying). */
size_t tw_run_local_activities_outstanding(const tw_run *run);
/*
 * The outcome of local activity seq: result for COMPLETED; failure (the
 * activity's own failure, NULL for CANCELLED) otherwise. BACKOFF: attempt
 * failed (failure) and the retry is due later than the threshold the
 * request carried; the run computes that backoff with
 * tw_la_retry_backoff_ms from the schedule's retry policy. Late outcomes
 * (the activity was cancelled meanwhile) are ignored. Afterwards
 * tw_run_has_next_activation is true, unless no task is current (after a
 * heartbeat): then the next task's activation carries the resolution.
 */
int tw_run_resolve_local_activity(tw_run *run, uint32_t seq, int resolution, const tw_payloads *result,
                                  const Temporal__Api__Failure__V1__Failure *failure, int retry_state,
                                  int32_t attempt, int64_t complete_time_ns);
/*
 * Heartbeat of the live task waiting on local activities only (no
 * activation awaiting or to make, tw_run_local_activities_outstanding >
 * 0; else TW_EINVAL): hands out in out->commands what the task has
 * produced so far, to send with force_create_new_workflow_task, and ends
 * the task for the run: the next activation comes from the next task's
 * history. The commands stay pending until that history brings their
 * events.
 */
int tw_run_heartbeat(tw_run *run, tw_run_output *out);
/* The run's workflow task timeout (started event), 10 s when it sets none. */
int64_t tw_run_task_timeout_ms(const tw_run *run);


/*
 * The backoff before the attempt after attempt (which failed with f) under
 * retry policy p (NULL: the defaults 1 s, x2, 100 x initial, unlimited
 * attempts); an application failure's next_retry_delay wins. -1 when p
 * allows no further attempt. Non-retryable errors are the caller's to check.
 */
int64_t tw_la_retry_backoff_ms(const Temporal__Api__Common__V1__RetryPolicy *p, int32_t attempt,
                               const Temporal__Api__Failure__V1__Failure *f);

/* ---- activations built outside a run's history (the worker needs these) ---- */

/* A query activation: one TW_JOB_QUERY for each query (ids and WorkflowQuery messages borrowed). */
tw_activation *tw_activation_new_queries(const char *run_id, size_t n, const char *const *query_ids,
                                         const Temporal__Api__Query__V1__WorkflowQuery *const *queries);
/* An eviction activation: one TW_JOB_REMOVE_FROM_CACHE. */
tw_activation *tw_activation_new_eviction(const char *run_id, int reason, const char *message);
/* Whether an activation is an eviction (its completion needs no run). */
bool tw_activation_is_eviction(const tw_activation *a);

/* For completions of query-only and eviction activations (no run state involved). */
int tw_completion_take_output(tw_completion *c, tw_run_output *out);
const char *tw_completion_run_id(const tw_completion *c);

#endif
