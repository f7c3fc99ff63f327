/*
 * The "ActivityCaller" workflow, written in C on activations: it runs one
 * activity described by its input and ends with the activity's outcome.
 * Used by examples/c/activity_caller.c and by the C activity tests.
 *
 * Input: one json/plain payload, an object:
 *   "activity_type"          required
 *   "args"                   array: each element becomes one json/plain argument
 *   "activity_id"            default: "1"
 *   "task_queue"             default: the workflow's
 *   "start_to_close_ms"      default 30000 unless schedule_to_close_ms is given
 *   "schedule_to_close_ms", "heartbeat_timeout_ms"
 *   "retry": {"max_attempts", "initial_interval_ms", "backoff", "max_interval_ms",
 *             "non_retryable": [types]}   default: max_attempts 1
 *   "cancel_after_ms"        request the activity's cancellation after this long
 *   "cancellation_type"      "wait" (default), "try" or "abandon"
 *   "local"                  true: run it as a local activity (task_queue,
 *                            heartbeat_timeout_ms, cancellation_type do not apply)
 *   "local_retry_threshold_ms"  a local activity's retries due later than this
 *                            wait on a workflow timer (TW_RESOLUTION_BACKOFF);
 *                            default: the library's (60 s)
 *   "no_eager"               true: never run it eagerly (tw_activity_options.no_eager_execution)
 *
 * Outcome: completes with the activity's result payloads; fails with the
 * activity's failure (the server's ActivityFailure wrapping the cause, so a
 * client sees the cause's type); a workflow cancellation is passed on to
 * the activity and the workflow ends cancelled. Bad input fails the
 * workflow with a non-retryable application failure of type "BadInput".
 *
 * Not thread-safe: one thread runs every activation.
 */
#ifndef ACTIVITY_CALLER_WORKFLOW_H
#define ACTIVITY_CALLER_WORKFLOW_H

#include <tw/tw.h>

#define ACTIVITY_CALLER_TYPE "ActivityCaller"

/* Runs the workflow code for one activation; returns its completion (NULL only when out of memory). */
tw_completion *activity_caller_activate(const tw_activation *a);

#endif
