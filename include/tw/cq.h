/*
 * tw/cq.h - completion queues.
 *
 * Every operation that talks to the server completes asynchronously by
 * pushing one tw_event into the tw_cq the caller named, tagged with the
 * caller's integer. C programs block in tw_cq_next(); event loops watch
 * tw_cq_fd() (an eventfd, readable while events are queued) and drain the
 * queue with tw_cq_next(cq, 0, &ev) until it returns TW_EAGAIN.
 *
 * A tw_cq may be used from any thread. Events are owned by the caller once
 * returned and freed with tw_event_free.
 */
#ifndef TW_CQ_H
#define TW_CQ_H

#include "common.h"
#include "errors.h"

TW_BEGIN_DECLS

typedef struct tw_cq tw_cq;
typedef struct tw_event tw_event;

/* What completed. Result accessors per kind are in tw/client.h. */
typedef enum tw_event_kind {
    TW_EVENT_CONNECT = 1,
    TW_EVENT_START_WORKFLOW = 2,
    TW_EVENT_SIGNAL_WITH_START = 3,
    TW_EVENT_SIGNAL_WORKFLOW = 4,
    TW_EVENT_QUERY_WORKFLOW = 5,
    TW_EVENT_CANCEL_WORKFLOW = 6,
    TW_EVENT_TERMINATE_WORKFLOW = 7,
    TW_EVENT_DESCRIBE_WORKFLOW = 8,
    TW_EVENT_WORKFLOW_RESULT = 9,
    TW_EVENT_FETCH_HISTORY = 10,
    TW_EVENT_LIST_WORKFLOWS = 11,
    TW_EVENT_COUNT_WORKFLOWS = 12,
    TW_EVENT_ACTIVATION = 13,
    TW_EVENT_ACTIVATION_DONE = 14,
    TW_EVENT_WORKER_SHUTDOWN = 15,
    TW_EVENT_ACTIVITY_TASK = 16,      /* tw/activity.h: tw_event_take_activity_task */
    TW_EVENT_ACTIVITY_DONE = 17,      /* tw/activity.h: an activity outcome was reported */
    TW_EVENT_ACTIVITY_HEARTBEAT = 18  /* tw/activity.h: tw_client_heartbeat_activity answered */
} tw_event_kind;

/* Creates a queue. Returns 0, TW_ENOMEM, or TW_EINTERNAL if no eventfd could be made. */
TW_API int tw_cq_new(tw_cq **out);

/*
 * Frees the queue. Operations still in flight complete into nothing: their
 * events are dropped and freed. NULL is a no-op.
 */
TW_API void tw_cq_free(tw_cq *cq);

/* The eventfd that is readable while events are queued. Owned by the queue. */
TW_API int tw_cq_fd(const tw_cq *cq);

/*
 * Takes the oldest event. timeout_ms < 0 waits forever, 0 does not wait.
 * Returns 0 with *out set, TW_EAGAIN when timeout_ms is 0 and the queue is
 * empty, TW_ETIMEDOUT when the wait ran out.
 */
TW_API int tw_cq_next(tw_cq *cq, int64_t timeout_ms, tw_event **out);

/* Number of operations that will still complete into this queue. */
TW_API size_t tw_cq_pending(const tw_cq *cq);

/* The tag the caller gave when starting the operation. */
TW_API uint64_t tw_event_tag(const tw_event *ev);

/* A tw_event_kind value. */
TW_API int tw_event_kind_of(const tw_event *ev);

/* 0 when the operation succeeded, else its TW_E* code. */
TW_API int tw_event_status(const tw_event *ev);

/* Details when tw_event_status is not 0 (borrowed, lives as long as ev). */
TW_API const tw_error *tw_event_error(const tw_event *ev);

/* Frees the event and everything borrowed from it. NULL is a no-op. */
TW_API void tw_event_free(tw_event *ev);

TW_END_DECLS

#endif
