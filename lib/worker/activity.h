/*
 * lib/worker/activity.c - the activity side of a tw_worker: activity task
 * polling with slots, delivery of START and CANCEL tasks, throttled
 * heartbeats, local timeouts, outcome reports and graceful shutdown.
 * Private to the library.
 *
 * worker.c owns one tw_act per worker and calls in at creation, shutdown,
 * free and destruction. The activity side has its own lock; lock order is
 * worker, then activity, then transport. It never calls into the worker
 * except through the idle callback given to tw_act_shutdown, which it runs
 * with no lock of its own held and never from inside a tw_act_* call made
 * by worker.c (tw_act_eager_done reports instead of calling it), and
 * tw_worker_local_resolved.
 */
#ifndef TW_LIB_WORKER_ACTIVITY_H
#define TW_LIB_WORKER_ACTIVITY_H

#include "common/common.h"
#include "history/history.h" /* tw_la_params */

typedef struct tw_act tw_act;

/* Runs once when a shutting-down activity side has nothing left running. */
typedef void (*tw_act_idle_fn)(void *arg);

/*
 * Makes the activity side of a worker on client's namespace from the
 * worker's checked options (activity fields are checked here: TW_EINVAL
 * naming fn and the field). identity is copied. It holds a reference on
 * the client's channel until it is destroyed (after the worker), which
 * keeps the channel valid for the whole worker even when the client is
 * freed first.
 */
int tw_act_new(const char *fn, tw_client *client, const tw_worker_options *options, const char *identity,
               tw_act **out);

/*
 * Begins shutdown: stops polling, starts the grace period (or cancels
 * running tasks at once when it is 0). Returns true when tasks or polls are
 * still outstanding: idle(arg) will then run exactly once when they are
 * gone, unless tw_act_abandon drops it first. Returns false when already
 * idle (idle is not kept).
 */
bool tw_act_shutdown(tw_act *act, tw_act_idle_fn idle, void *arg);

/*
 * The worker is being freed: cancels every call, drops running tasks
 * without reporting them, fails waiting polls and outcome reports with
 * TW_ECANCELLED. Returns true when it dropped an idle callback registered
 * by tw_act_shutdown (which then never runs).
 */
bool tw_act_abandon(tw_act *act);

/*
 * tw_worker_free (worker lock held): the worker holds one reference on
 * itself for the activity side, which may call tw_worker_local_resolved
 * from the transport thread. After this the activity side calls it no more.
 * Returns true when no such call is in progress: the worker drops that
 * reference itself; false: the call in progress drops it when done, with
 * tw_worker_act_unref (no lock held).
 */
bool tw_act_release_worker(tw_act *act);
void tw_worker_act_unref(tw_worker *w);

/* Abandons (if not yet) and drops the worker's reference. NULL is a no-op. */
void tw_act_free(tw_act *act);

/*
 * Local activities (worker.c, worker lock held): starts a local task from pb
 * (taken; its token must start with "tw-local/"); its final outcome goes to
 * tw_worker_local_resolved, failures being retried here first. At most
 * max_concurrent_local_activities run at once; more wait in FIFO order, and
 * one still waiting schedule_to_start_ms (0: no limit) after this call
 * resolves as a SCHEDULE_TO_START timeout (from the tick, on the transport
 * thread). TW_EINVAL when the worker runs no activities.
 */
int tw_act_start_local(tw_act *act, tw_worker *w, const char *run_id, uint32_t seq,
                       Temporal__Api__Workflowservice__V1__PollActivityTaskQueueResponse *pb,
                       int64_t schedule_to_start_ms, const tw_la_params *params);
/* Cancels local activity seq of run_id (its outcome is then of no interest; a waiting one never runs). */
void tw_act_cancel_local(tw_act *act, const char *run_id, uint32_t seq);
/*
 * worker.c: the final outcome of a local activity (called with no lock held):
 * result for COMPLETED, failure (borrowed) for FAILED.
 */
void tw_worker_local_resolved(tw_worker *w, const char *run_id, uint32_t seq, int resolution,
                              const tw_payloads *result, const Temporal__Api__Failure__V1__Failure *failure,
                              int retry_state, int32_t attempt);

/*
 * Eager activities (worker.c, worker lock held). An activity a workflow of
 * this worker schedules on the worker's own task queue may come back in the
 * server's answer to the workflow task instead of through a poll; each one
 * asked for holds an activity slot from tw_act_eager_reserve (true: a slot
 * was free and is now reserved; always false with no_remote_activities or
 * max_task_queue_activities_per_second) until tw_act_eager_done gets the
 * answer's tasks (taken; none when the call failed) and frees the
 * reservations left; with max_activities_per_second, each task that came
 * spends a token of the rate limit.
 * tw_act_eager_done returns true when that left a shutting-down activity
 * side with nothing to wait for: its idle callback was dropped and will not
 * run, so the worker must do its part itself.
 */
bool tw_act_eager_reserve(tw_act *act);
bool tw_act_eager_done(tw_act *act, size_t reserved,
                       Temporal__Api__Workflowservice__V1__PollActivityTaskQueueResponse **tasks, size_t n);

/* The activity side of w (worker.c). */
tw_act *tw_worker_act(const tw_worker *w);

#endif
