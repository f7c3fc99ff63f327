/*
 * tw/worker.h - a worker: polls a task queue for workflow tasks (and, with
 * the activity API, activity tasks) and turns them into activations.
 *
 * The language drives it: tw_worker_poll_activation asks for the next
 * activation (any run), the language runs the workflow code and answers
 * with tw_worker_complete_activation. Each run has at most one activation
 * outstanding. Runs stay cached (LRU, max_cached_workflows) between
 * workflow tasks so that only new events are applied; a cache miss replays
 * the full history. The worker polls its own sticky queue
 * ("<identity>-<32 hex>") as well as the normal one.
 *
 * Every function may be called from any thread; events go to the queue the
 * call names.
 */
#ifndef TW_WORKER_H
#define TW_WORKER_H

#include "activation.h"
#include "client.h"
#include "common.h"
#include "cq.h"

TW_BEGIN_DECLS

typedef struct tw_worker tw_worker;

typedef struct tw_worker_options {
    size_t size;
    const char *task_queue;                   /* required */
    const char *build_id;                     /* default "" */
    const char *identity;                     /* default: the client's */
    uint32_t max_concurrent_workflow_tasks;   /* default 100 */
    uint32_t max_cached_workflows;            /* default 1000; 0 disables the cache (and sticky polling) */
    uint32_t workflow_pollers;                /* pollers on the normal queue; default 2 */
    uint32_t sticky_pollers;                  /* pollers on the sticky queue; default 2 */
    int64_t sticky_schedule_to_start_timeout_ms; /* default 10000 */
    uint32_t max_concurrent_activities;       /* running activity tasks (tw/activity.h); default 100 */
    uint32_t activity_pollers;                /* activity task long polls; default 2 */
    int no_activities;                        /* non-zero: no activities, local ones included */
    int no_workflows;                         /* non-zero: never poll workflow tasks */
    int64_t graceful_shutdown_timeout_ms;     /* how long shutdown lets activities run before cancelling them; default 0 */
    /*
     * Non-zero: never ask for eager activities. By default, when this worker
     * runs both workflows and activities, an activity a workflow schedules on
     * the worker's own task queue is asked to come back in the server's
     * answer to the workflow task (at most 3 per task, each holding a free
     * activity slot until the answer comes), sparing the dispatch through the
     * server's task queues; the server may decline. See also
     * tw_activity_options.no_eager_execution.
     */
    int no_eager_activities;
    /*
     * Local activities running at once (default 100; 0: the default). More
     * wait in FIFO order for a running one to finish; a local activity's
     * schedule_to_start_timeout counts this wait (from when the workflow
     * scheduled it), and one still waiting when it expires fails with a
     * SCHEDULE_TO_START timeout, not retried.
     */
    uint32_t max_concurrent_local_activities;
    /*
     * Non-zero: run local activities only. The worker never polls its task
     * queue for activity tasks and never asks for eager activities, but the
     * local activities its workflows schedule still come through
     * tw_worker_poll_activity_task. Needs workflows (with no_workflows set
     * the worker would have nothing to poll: TW_EINVAL); no_activities
     * turns off local activities too.
     */
    int no_remote_activities;
    /*
     * Heartbeat throttling: the first heartbeat of an activity goes out at
     * once; later ones go out at most once per window, the details of the
     * last call in a window winning. The window is 0.8 x the activity's
     * heartbeat timeout, or default_heartbeat_throttle_interval_ms (default
     * 30000) when it has none, and never longer than
     * max_heartbeat_throttle_interval_ms (default 60000). Windows end on a
     * 100 ms tick, and at most one heartbeat is in flight per activity, so
     * 0 means "as often as that allows". Negative: TW_EINVAL.
     */
    int64_t max_heartbeat_throttle_interval_ms;
    int64_t default_heartbeat_throttle_interval_ms;
    /*
     * A limit, kept by this worker, on how many activity tasks it starts per
     * second (0, the default: none). A poll goes out only with a token from
     * a bucket refilled at this rate and holding the rate's whole part (at
     * least 1, at most max_concurrent_activities); a poll holds its token
     * while it waits, spends it when it brings a task and gives it back
     * when it comes back empty. So no more polled tasks than the bucket
     * holds start at once, and for a rate of 1 or less they start at least
     * 1/rate seconds apart. Local activities do not count. Eager activities
     * are still asked for (as sdk-core does) and not held back, but each
     * one spends a token, delaying the next polls. Anything but 0 or a
     * positive, finite, normal number: TW_EINVAL.
     */
    double max_activities_per_second;
    /*
     * A limit for the whole task queue, kept by the server: sent with every
     * activity task poll (task_queue_metadata.max_tasks_per_second), so
     * the last poller's value wins when workers disagree. 0 (the default):
     * not sent. Setting it turns eager activities off, since they would
     * bypass the server's limit (sdk-core does the same). Anything but 0 or
     * a positive, finite, normal number: TW_EINVAL.
     */
    double max_task_queue_activities_per_second;
} tw_worker_options;

TW_API void tw_worker_options_init(tw_worker_options *options);

/* Creates a worker on client's namespace. Polling starts with the first poll call. */
TW_API int tw_worker_new(tw_client *client, const tw_worker_options *options, tw_worker **out);

/*
 * Asks for the next activation. Completes with TW_EVENT_ACTIVATION:
 * tw_event_take_activation() hands it over. After tw_worker_shutdown has
 * delivered every eviction, further polls complete with TW_ECLOSED.
 * TW_EINVAL synchronously when the worker was made with no_workflows.
 */
TW_API int tw_worker_poll_activation(tw_worker *w, tw_cq *cq, uint64_t tag);

/*
 * Answers the outstanding activation of the completion's run; takes
 * ownership of c (also on error). Completes with TW_EVENT_ACTIVATION_DONE
 * once the engine has acted on it (for the last activation of a workflow
 * task: once the server accepted the result, or refused it because new
 * events arrived meanwhile: then the run is evicted with
 * TW_EVICTION_UNHANDLED_COMMAND and replayed with them on the next task).
 * TW_EINVAL synchronously for a run with no outstanding activation.
 */
TW_API int tw_worker_complete_activation(tw_worker *w, tw_completion *c, tw_cq *cq, uint64_t tag);

/*
 * Stops polling, lets outstanding activations complete, evicts every cached
 * run (delivered as TW_JOB_REMOVE_FROM_CACHE activations to pollers), lets
 * running activities finish (cancelling them after
 * graceful_shutdown_timeout_ms, see tw/activity.h), and completes with
 * TW_EVENT_WORKER_SHUTDOWN when nothing is left.
 */
TW_API int tw_worker_shutdown(tw_worker *w, tw_cq *cq, uint64_t tag);

/* Frees the worker (after shutdown completed, or to abandon it). NULL is a no-op. */
TW_API void tw_worker_free(tw_worker *w);

TW_API const char *tw_worker_sticky_queue(const tw_worker *w);

/* The activation of a TW_EVENT_ACTIVATION event; the caller owns it (tw_activation_free). NULL once taken. */
TW_API tw_activation *tw_event_take_activation(tw_event *ev);

TW_END_DECLS

#endif
