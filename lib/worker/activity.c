/*
 * The activity side of a tw_worker (see tw/activity.h and activity.h).
 *
 * Long polls bring activity tasks; each one becomes a `running` record
 * that holds a slot until the language reports the outcome (or releases
 * the task for async completion), and a START task queued for the
 * language's poll calls. CANCEL tasks come from heartbeat replies, local
 * timeouts and shutdown; they are queued ahead of STARTs, and only after
 * the START of the same task was handed out.
 *
 * Time-driven work (heartbeat throttle windows, local timeouts, the
 * shutdown grace period, poll backoff, polls waiting for a rate token) is
 * done by a tick: a transport timer re-armed every TICK_MS while anything
 * needs it.
 *
 * The worker-side rate limit (max_activities_per_second) is a token
 * bucket that polls draw from: each poll in flight holds a token, since it
 * may bring a task at any moment; a poll that brings one spends it, an
 * empty one gives it back. Tokens held by polls count against the
 * bucket's size, so however long polls wait, no more tasks than the bucket
 * holds can arrive together.
 *
 * Concurrency and lifetime: one mutex guards everything; RPC and timer
 * callbacks run on the transport thread, the language calls in from its
 * own threads. Every call or timer in flight holds a reference on the
 * tw_act, and so does the worker until it is destroyed.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/activity.h"
#include "client/client.h"
#include "history/history.h" /* tw_la_params, tw_la_retry_backoff_ms */
#include "worker/activity.h"

#define WS(name) temporal__api__workflowservice__v1__##name
typedef Temporal__Api__Workflowservice__V1__PollActivityTaskQueueResponse task_pb;
typedef Temporal__Api__Common__V1__Payloads pb_payloads_msg;

#define TICK_MS 100
#define POLL_BACKOFF_MS 1000
/* Local timeouts fire this long after the server's, so the server's verdict normally comes first. */
#define LOCAL_TIMEOUT_BUFFER_MS 5000

struct tw_activity_task {
    int kind;
    int cancel_reason;
    uint8_t *token;
    size_t token_len;
    task_pb *pb;                 /* START: the poll response, owned */
    char *namespace_name;
    char *task_queue;
    tw_payloads *args;
    tw_payloads *headers;
    tw_payloads *heartbeat_details;
    const char **retry_types;    /* NULL-terminated, borrowed from pb */
};

/* A task between the poll that brought it and its reported outcome. */
typedef struct running {
    struct running *next;
    uint64_t id;
    uint8_t *token;
    size_t token_len;
    char *activity_id;
    char *activity_type;
    int64_t heartbeat_timeout_ms;
    int64_t throttle_ms;
    bool delivered;              /* the START was handed to the language */
    int pending_cancel;          /* reason to deliver once the START is handed out */
    int cancel_reason;           /* CANCEL handed out (0: none) */
    bool known_not_found;        /* the server no longer knows the task: report nothing */
    /* heartbeats */
    bool hb_window;              /* a heartbeat went out less than throttle_ms ago */
    bool hb_in_flight;
    int64_t hb_sent_at;
    pb_payloads_msg *hb_pending; /* latest details waiting for the window to end */
    bool hb_has_pending;
    /* local timeouts (monotonic ms; 0: none) */
    int64_t heartbeat_deadline;
    int64_t close_deadline;
    /* outcome */
    bool reporting;              /* the language gave the outcome */
    bool report_sent;
    ProtobufCMessage *report;    /* request to send once heartbeats are flushed */
    const char *report_method;
    const ProtobufCMessageDescriptor *report_resp;
    tw_cq *done_cq;
    uint64_t done_tag;
    /* local activities (the token starts with LOCAL_TOKEN_PREFIX) */
    bool local;
    tw_worker *la_worker;
    char *la_run_id;
    uint32_t la_seq;
    task_pb *la_template;        /* the first attempt's task, copied for retries */
    int32_t la_attempt;
    int64_t la_threshold_ms;     /* a longer backoff is the workflow's to wait (TW_RESOLUTION_BACKOFF); -1: never */
    int64_t la_retry_at;         /* monotonic ms: deliver the next attempt then (0: none) */
    int64_t la_deadline;         /* schedule_to_close (monotonic ms, 0: none) */
    int64_t la_s2s_deadline;     /* schedule_to_start: must start by then (monotonic ms, 0: none) */
    bool la_started;             /* an attempt was handed out: schedule_to_start no longer applies */
    bool la_slot;                /* holds one of the max_local slots (an attempt is out) */
    bool la_queued;              /* waits in the local queue for a slot */
    struct running *la_qnext;
} running;

/* A local activity resolved by the activity side itself, to hand to the worker with no lock held. */
typedef struct la_result {
    struct la_result *next;
    char *run_id;
    uint32_t seq;
    int32_t attempt;
    int timeout_type;
} la_result;

#define LOCAL_TOKEN_PREFIX "tw-local/"

static bool token_is_local(const uint8_t *token, size_t len)
{
    size_t n = sizeof(LOCAL_TOKEN_PREFIX) - 1;
    return len > n && memcmp(token, LOCAL_TOKEN_PREFIX, n) == 0;
}

typedef struct ready_task {
    struct ready_task *next;
    tw_activity_task *task;
    uint64_t running_id;
} ready_task;

typedef struct waiter {
    struct waiter *next;
    tw_cq *cq;
    uint64_t tag;
} waiter;

struct tw_act {
    pthread_mutex_t lock;
    size_t refs;
    tw_rpc_channel *ch;
    tw_logger log;
    char *namespace_name;
    char *task_queue;
    char *identity;
    uint32_t max_running;
    uint32_t pollers;
    int64_t grace_ms;
    int64_t max_throttle_ms;     /* heartbeat throttle windows: the cap, */
    int64_t default_throttle_ms; /* ... and the window of an activity with no heartbeat timeout */
    double queue_rate;           /* max_tasks_per_second sent with each poll (0: none) */
    /* the worker-side rate limit (rate_per_ms 0: none) */
    double rate_per_ms;
    double rate_burst;           /* the bucket's size */
    double rate_tokens;          /* tokens in the bucket (polls in flight hold theirs); negative after eager tasks */
    int64_t rate_at;             /* when rate_tokens was last brought up to date (monotonic ms) */
    bool rate_wait;              /* a poll waits for a token: the tick tries again */
    bool disabled;
    bool remote_disabled;        /* local activities only: no polls, no eager tasks */
    bool started;
    bool shutting_down;
    bool closed;                 /* shutdown finished: polls complete with TW_ECLOSED */
    bool abandoned;
    bool cancel_all;             /* grace period over: every task gets a worker-shutdown CANCEL */
    int64_t grace_deadline;      /* 0: none */
    int64_t poll_backoff_until;
    uint32_t polls;
    running *running;
    size_t running_count;
    size_t eager_reserved;       /* slots held for eager tasks asked for in workflow task answers */
    /* local activities: their own slots, and a FIFO of those waiting for one */
    uint32_t max_local;
    uint32_t la_active;
    running *la_qhead, *la_qtail;
    tw_worker *la_w;             /* the worker (set by the first local activity) */
    la_result *la_results;       /* resolutions to deliver from the tick */
    int la_callouts;             /* tw_worker_local_resolved calls in progress from the tick */
    bool worker_released;        /* tw_act_release_worker: the worker may go, call it no more */
    uint64_t next_id;
    ready_task *ready_head, *ready_tail;
    waiter *wait_head, *wait_tail;
    bool ticking;
    tw_act_idle_fn idle;
    void *idle_arg;
    char poll_owner;             /* address used as the tw_rpc owner of polls */
    char call_owner;             /* ... and of every other call and timer */
};

static const tw_error oom = {TW_ENOMEM, 0, "out of memory", NULL, NULL, NULL, 0};

/* ---- tasks ---- */

static tw_activity_task *task_alloc(int kind)
{
    tw_activity_task *t = calloc(1, sizeof(*t));
    if (t)
        t->kind = kind;
    return t;
}

void tw_activity_task_free(tw_activity_task *t)
{
    if (!t)
        return;
    if (t->pb)
        temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(t->pb, NULL);
    else
        free(t->token);
    free(t->namespace_name);
    free(t->task_queue);
    tw_payloads_free(t->args);
    tw_payloads_free(t->headers);
    tw_payloads_free(t->heartbeat_details);
    free(t->retry_types);
    free(t);
}

static tw_payloads *payloads_of(const pb_payloads_msg *ps)
{
    return tw_payloads_from_pb(ps ? ps->n_payloads : 0, ps ? ps->payloads : NULL);
}

/* A START task owning pb (freed on failure too). */
static tw_activity_task *task_start(const tw_act *act, task_pb *pb)
{
    tw_activity_task *t = task_alloc(TW_ACTIVITY_TASK_START);
    if (!t) {
        temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(pb, NULL);
        return NULL;
    }
    t->pb = pb;
    t->token = pb->task_token.data;
    t->token_len = pb->task_token.len;
    t->namespace_name = tw_strdup(act->namespace_name);
    t->task_queue = tw_strdup(act->task_queue);
    t->args = payloads_of(pb->input);
    t->heartbeat_details = payloads_of(pb->heartbeat_details);
    t->headers = tw_payloads_from_pb_map(pb->header ? pb->header->n_fields : 0,
                                         pb->header ? (void *const *)pb->header->fields : NULL);
    size_t n = pb->retry_policy ? pb->retry_policy->n_non_retryable_error_types : 0;
    t->retry_types = calloc(n + 1, sizeof(*t->retry_types));
    for (size_t i = 0; t->retry_types && i < n; i++)
        t->retry_types[i] = pb->retry_policy->non_retryable_error_types[i];
    if (!t->namespace_name || !t->task_queue || !t->args || !t->heartbeat_details || !t->headers ||
        !t->retry_types) {
        tw_activity_task_free(t);
        return NULL;
    }
    return t;
}

static tw_activity_task *task_cancel(const running *r, int reason)
{
    tw_activity_task *t = task_alloc(TW_ACTIVITY_TASK_CANCEL);
    if (!t)
        return NULL;
    t->cancel_reason = reason;
    t->token = malloc(r->token_len);
    if (t->token) {
        memcpy(t->token, r->token, r->token_len);
        t->token_len = r->token_len;
    }
    tw_payloads_new(&t->args);
    tw_payloads_new(&t->headers);
    tw_payloads_new(&t->heartbeat_details);
    if (!t->token || !t->args || !t->headers || !t->heartbeat_details) {
        tw_activity_task_free(t);
        return NULL;
    }
    return t;
}

/* ---- references and the idle check ---- */

static void free_la_results(la_result *res)
{
    while (res) {
        la_result *next = res->next;
        free(res->run_id);
        free(res);
        res = next;
    }
}

static void act_destroy(tw_act *act)
{
    free_la_results(act->la_results);
    if (act->ch)
        tw_rpc_channel_unref(act->ch);
    free(act->namespace_name);
    free(act->task_queue);
    free(act->identity);
    pthread_mutex_destroy(&act->lock);
    free(act);
}

static bool idle_locked(const tw_act *act)
{
    return act->polls == 0 && !act->running && act->eager_reserved == 0;
}

static void complete_waiter(waiter *wt, tw_activity_task *t, const tw_error *err)
{
    tw_event *ev = tw_event_create(TW_EVENT_ACTIVITY_TASK, wt->tag);
    if (ev) {
        ev->activity_task = t;
        if (err)
            tw_event_fail(ev, err);
    } else {
        tw_activity_task_free(t);
    }
    tw_cq_push(wt->cq, ev);
    free(wt);
}

static void fail_waiters_locked(tw_act *act, int code, const char *message)
{
    tw_error *err = tw_error_create(code, 0, "%s", message);
    while (act->wait_head) {
        waiter *wt = act->wait_head;
        act->wait_head = wt->next;
        complete_waiter(wt, NULL, err ? err : &oom);
    }
    act->wait_tail = NULL;
    tw_error_destroy(err);
}

/*
 * Leaves the lock, first finishing shutdown if nothing is left; drops a
 * reference when unref. The idle callback runs after the lock is released.
 */
static void act_leave(tw_act *act, bool unref)
{
    tw_act_idle_fn idle = NULL;
    void *arg = NULL;
    if (act->shutting_down && !act->closed && idle_locked(act)) {
        act->closed = true;
        fail_waiters_locked(act, TW_ECLOSED, "the worker has shut down");
        idle = act->idle;
        arg = act->idle_arg;
        act->idle = NULL;
    }
    bool last = unref && --act->refs == 0;
    pthread_mutex_unlock(&act->lock);
    if (idle)
        idle(arg);
    if (last)
        act_destroy(act);
}

/* ---- handing tasks to the language ---- */

static running *find_by_id(tw_act *act, uint64_t id)
{
    for (running *r = act->running; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static running *find_by_token(tw_act *act, const uint8_t *token, size_t len)
{
    for (running *r = act->running; r; r = r->next)
        if (r->token_len == len && memcmp(r->token, token, len) == 0)
            return r;
    return NULL;
}

static void issue_cancel_locked(tw_act *act, running *r, int reason);

static void dispatch_locked(tw_act *act)
{
    while (act->ready_head && act->wait_head) {
        ready_task *rt = act->ready_head;
        waiter *wt = act->wait_head;
        act->ready_head = rt->next;
        if (!act->ready_head)
            act->ready_tail = NULL;
        act->wait_head = wt->next;
        if (!act->wait_head)
            act->wait_tail = NULL;
        running *r = find_by_id(act, rt->running_id);
        bool start = rt->task->kind == TW_ACTIVITY_TASK_START;
        complete_waiter(wt, rt->task, NULL);
        free(rt);
        if (start && r) {
            r->delivered = true;
            if (r->pending_cancel)
                issue_cancel_locked(act, r, r->pending_cancel);
        }
    }
}

/* Queues t for the language: CANCELs ahead of STARTs (their START went out already). */
static void offer_locked(tw_act *act, tw_activity_task *t, uint64_t running_id)
{
    ready_task *rt = calloc(1, sizeof(*rt));
    if (!rt) {
        tw_log(&act->log, TW_LOG_ERROR, "out of memory queueing an activity task");
        tw_activity_task_free(t);
        return;
    }
    rt->task = t;
    rt->running_id = running_id;
    if (t->kind == TW_ACTIVITY_TASK_CANCEL) {
        ready_task **at = &act->ready_head;
        while (*at && (*at)->task->kind == TW_ACTIVITY_TASK_CANCEL)
            at = &(*at)->next;
        rt->next = *at;
        *at = rt;
        if (!rt->next)
            act->ready_tail = rt;
    } else {
        if (act->ready_tail)
            act->ready_tail->next = rt;
        else
            act->ready_head = rt;
        act->ready_tail = rt;
    }
    dispatch_locked(act);
}

static void issue_cancel_locked(tw_act *act, running *r, int reason)
{
    if (r->cancel_reason || r->reporting)
        return;
    if (!r->delivered) {
        if (!r->pending_cancel)
            r->pending_cancel = reason;
        return;
    }
    r->pending_cancel = 0;
    r->cancel_reason = reason;
    if (reason == TW_ACTIVITY_CANCEL_REASON_NOT_FOUND || reason == TW_ACTIVITY_CANCEL_REASON_TIMED_OUT)
        r->known_not_found = true;
    tw_log(&act->log, TW_LOG_DEBUG, "cancelling activity %s (%s), reason %d", r->activity_id, r->activity_type,
           reason);
    tw_activity_task *t = task_cancel(r, reason);
    if (!t) {
        tw_log(&act->log, TW_LOG_ERROR, "out of memory cancelling activity %s", r->activity_id);
        return;
    }
    offer_locked(act, t, r->id);
}

static void remove_running_locked(tw_act *act, running *r);

static void cancel_all_locked(tw_act *act)
{
    act->cancel_all = true;
    act->grace_deadline = 0;
    /* Local activities still waiting for a slot never run: no outcome, as for the cancelled ones. */
    while (act->la_qhead)
        remove_running_locked(act, act->la_qhead);
    for (running *r = act->running; r; r = r->next)
        issue_cancel_locked(act, r, TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN);
}

/* ---- running records ---- */

static void free_running(running *r)
{
    free(r->la_run_id);
    if (r->la_template)
        temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(r->la_template, NULL);
    free(r->token);
    free(r->activity_id);
    free(r->activity_type);
    if (r->hb_pending)
        protobuf_c_message_free_unpacked(&r->hb_pending->base, NULL);
    if (r->report)
        protobuf_c_message_free_unpacked(r->report, NULL);
    free(r);
}

static void poll_more_locked(tw_act *act);
static void la_release_slot_locked(tw_act *act, running *r);

static void la_unqueue_locked(tw_act *act, running *r)
{
    if (!r->la_queued)
        return;
    running *prev = NULL;
    for (running *q = act->la_qhead; q; prev = q, q = q->la_qnext) {
        if (q == r) {
            if (prev)
                prev->la_qnext = r->la_qnext;
            else
                act->la_qhead = r->la_qnext;
            if (act->la_qtail == r)
                act->la_qtail = prev;
            break;
        }
    }
    r->la_queued = false;
    r->la_qnext = NULL;
}

/* Forgets a task: drops its queued tasks, frees its slot. */
static void remove_running_locked(tw_act *act, running *r)
{
    for (running **at = &act->running; *at; at = &(*at)->next) {
        if (*at == r) {
            *at = r->next;
            break;
        }
    }
    if (!r->local)
        act->running_count--;
    la_unqueue_locked(act, r);
    ready_task *prev = NULL;
    for (ready_task *rt = act->ready_head; rt;) {
        ready_task *next = rt->next;
        if (rt->running_id == r->id) {
            if (prev)
                prev->next = next;
            else
                act->ready_head = next;
            if (act->ready_tail == rt)
                act->ready_tail = prev;
            tw_activity_task_free(rt->task);
            free(rt);
        } else {
            prev = rt;
        }
        rt = next;
    }
    bool slot = r->la_slot;
    r->la_slot = false;
    free_running(r);
    if (slot)
        la_release_slot_locked(act, NULL);
    poll_more_locked(act);
}

static int64_t duration_ms(const Google__Protobuf__Duration *d)
{
    return d ? d->seconds * 1000 + d->nanos / 1000000 : 0;
}

static void arm_tick_locked(tw_act *act);

/*
 * A task the poll brought: track it and queue its START (pb is owned). A
 * local one (offer false) is only tracked: pb is freed, its attempts are
 * made from its template.
 */
static running *accept_locked(tw_act *act, task_pb *pb, bool offer)
{
    running *r = calloc(1, sizeof(*r));
    if (r) {
        r->token = malloc(pb->task_token.len);
        r->activity_id = tw_strdup_or_empty(pb->activity_id);
        r->activity_type = tw_strdup_or_empty(pb->activity_type ? pb->activity_type->name : NULL);
    }
    if (!r || !r->token || !r->activity_id || !r->activity_type) {
        tw_log(&act->log, TW_LOG_ERROR, "out of memory accepting an activity task");
        if (r)
            free_running(r);
        temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(pb, NULL);
        return NULL;
    }
    memcpy(r->token, pb->task_token.data, pb->task_token.len);
    r->token_len = pb->task_token.len;
    r->id = ++act->next_id;
    int64_t now = tw_now_ms();
    r->heartbeat_timeout_ms = duration_ms(pb->heartbeat_timeout);
    /* The server sends 0 for "no heartbeat timeout"; sdk-core treats both alike. */
    int64_t throttle = r->heartbeat_timeout_ms > 0 ? r->heartbeat_timeout_ms * 4 / 5 : act->default_throttle_ms;
    r->throttle_ms = throttle < act->max_throttle_ms ? throttle : act->max_throttle_ms;
    if (r->heartbeat_timeout_ms > 0)
        r->heartbeat_deadline = now + r->heartbeat_timeout_ms + LOCAL_TIMEOUT_BUFFER_MS;
    int64_t start_to_close = duration_ms(pb->start_to_close_timeout);
    if (start_to_close > 0)
        r->close_deadline = now + start_to_close + LOCAL_TIMEOUT_BUFFER_MS;
    r->local = token_is_local(r->token, r->token_len);
    if (!offer) {
        temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(pb, NULL);
        r->next = act->running;
        act->running = r;
        arm_tick_locked(act);
        return r;
    }
    tw_activity_task *t = task_start(act, pb);
    if (!t) {
        tw_log(&act->log, TW_LOG_ERROR, "out of memory accepting activity %s", r->activity_id);
        free_running(r);
        return NULL;
    }
    r->next = act->running;
    act->running = r;
    if (!r->local)
        act->running_count++;
    if (act->cancel_all)
        r->pending_cancel = TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN;
    offer_locked(act, t, r->id);
    arm_tick_locked(act);
    return r;
}

/* ---- calls ---- */

typedef struct call_arg {
    tw_act *act;
    uint64_t running_id;
} call_arg;

/* Starts a call for task running_id; the request stays the caller's. Returns 0 or the error. */
static int start_call_locked(tw_act *act, uint64_t running_id, const char *method, const ProtobufCMessage *req,
                             const ProtobufCMessageDescriptor *resp, int retry, tw_rpc_done_fn done)
{
    call_arg *a = calloc(1, sizeof(*a));
    if (!a)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", method);
    a->act = act;
    a->running_id = running_id;
    bool poll = retry == TW_RPC_LONG_POLL;
    tw_rpc_request r = {.method = method, .message = req, .response_type = resp, .retry = retry,
                        .timeout_ms = poll ? 70000 : 10000, .budget_ms = 30000, .done = done, .arg = a,
                        .owner = poll ? (const void *)&act->poll_owner : (const void *)&act->call_owner};
    int rc = tw_rpc_start(act->ch, &r);
    if (rc) {
        free(a);
        return rc;
    }
    act->refs++;
    return 0;
}

/* Takes a callback's argument apart and enters the lock. */
static tw_act *enter_call(void *arg, uint64_t *running_id)
{
    call_arg *a = arg;
    tw_act *act = a->act;
    *running_id = a->running_id;
    free(a);
    pthread_mutex_lock(&act->lock);
    return act;
}

/* ---- the worker-side rate limit ---- */

/* Adds the tokens earned since the last update; call it before polls or tokens change. */
static void rate_refill_locked(tw_act *act)
{
    int64_t now = tw_now_ms();
    double room = act->rate_burst - (double)act->polls;
    double tokens = act->rate_tokens + act->rate_per_ms * (double)(now - act->rate_at);
    act->rate_tokens = tokens < room ? tokens : room;
    act->rate_at = now;
}

/* Takes a token for a new poll; false (the tick will try again) when the bucket has none. */
static bool rate_take_locked(tw_act *act)
{
    if (act->rate_per_ms <= 0)
        return true;
    rate_refill_locked(act);
    if (act->rate_tokens < 1) {
        act->rate_wait = true;
        return false;
    }
    act->rate_tokens -= 1;
    return true;
}

/* A poll ended: its token is spent when it brought a task, else given back. */
static void poll_ended_locked(tw_act *act, bool got_task)
{
    if (act->rate_per_ms > 0)
        rate_refill_locked(act);
    act->polls--;
    if (act->rate_per_ms > 0 && !got_task)
        act->rate_tokens += 1;
}

/* ---- polling ---- */

static void on_poll(tw_rpc_reply *reply, void *arg)
{
    uint64_t unused;
    tw_act *act = enter_call(arg, &unused);
    poll_ended_locked(act, !reply->error && ((task_pb *)(void *)reply->response)->task_token.len > 0);
    if (reply->error) {
        if (reply->error->code != TW_ECANCELLED && !act->shutting_down) {
            tw_log(&act->log, TW_LOG_WARN, "activity task poll failed: %s", reply->error->message);
            act->poll_backoff_until = tw_now_ms() + POLL_BACKOFF_MS;
            arm_tick_locked(act);
        }
    } else {
        task_pb *pb = (void *)reply->response;
        if (pb->task_token.len && !act->abandoned) {
            reply->response = NULL; /* accept_locked owns it now */
            accept_locked(act, pb, true);
        }
    }
    poll_more_locked(act);
    tw_rpc_reply_clear(reply);
    act_leave(act, true);
}

static int start_poll_locked(tw_act *act)
{
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__PollActivityTaskQueueRequest *r =
        pb_new(&b, &WS(poll_activity_task_queue_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, act->namespace_name);
        r->identity = pb_str(&b, act->identity);
        r->task_queue = pb_new(&b, &temporal__api__taskqueue__v1__task_queue__descriptor);
        if (r->task_queue) {
            r->task_queue->name = pb_str(&b, act->task_queue);
            r->task_queue->kind = TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL;
        }
        if (act->queue_rate > 0) {
            r->task_queue_metadata = pb_new(&b, &temporal__api__taskqueue__v1__task_queue_metadata__descriptor);
            if (r->task_queue_metadata) {
                r->task_queue_metadata->max_tasks_per_second =
                    pb_new(&b, &google__protobuf__double_value__descriptor);
                if (r->task_queue_metadata->max_tasks_per_second)
                    r->task_queue_metadata->max_tasks_per_second->value = act->queue_rate;
            }
        }
    }
    int rc = !r || b.oom ? TW_ENOMEM
                         : start_call_locked(act, 0, "PollActivityTaskQueue", &r->base,
                                             &WS(poll_activity_task_queue_response__descriptor), TW_RPC_LONG_POLL,
                                             on_poll);
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    if (rc) {
        tw_log(&act->log, TW_LOG_ERROR, "could not start an activity task poll: %s",
               rc == TW_ENOMEM ? "out of memory" : tw_error_message(tw_error_last()));
        return rc;
    }
    act->polls++;
    return 0;
}

static void poll_more_locked(tw_act *act)
{
    act->rate_wait = false;
    if (!act->started || act->shutting_down || act->abandoned || act->remote_disabled)
        return;
    if (act->poll_backoff_until && tw_now_ms() < act->poll_backoff_until)
        return;
    act->poll_backoff_until = 0;
    while (act->polls < act->pollers && act->polls + act->running_count + act->eager_reserved < act->max_running) {
        if (!rate_take_locked(act)) {
            arm_tick_locked(act);
            return;
        }
        if (start_poll_locked(act) != 0) {
            if (act->rate_per_ms > 0)
                act->rate_tokens += 1;
            return;
        }
    }
}

/* ---- heartbeats ---- */

static void try_report_locked(tw_act *act, running *r);

static void on_heartbeat(tw_rpc_reply *reply, void *arg)
{
    uint64_t id;
    tw_act *act = enter_call(arg, &id);
    running *r = find_by_id(act, id);
    if (r) {
        r->hb_in_flight = false;
        /* The throttle window still counts from the send, as in sdk-core; the local timeout from now. */
        if (r->heartbeat_timeout_ms > 0)
            r->heartbeat_deadline = tw_now_ms() + r->heartbeat_timeout_ms + LOCAL_TIMEOUT_BUFFER_MS;
        if (reply->error) {
            if (reply->error->code == TW_ENOTFOUND)
                issue_cancel_locked(act, r, TW_ACTIVITY_CANCEL_REASON_NOT_FOUND);
            else if (reply->error->code != TW_ECANCELLED)
                tw_log(&act->log, TW_LOG_WARN, "heartbeat of activity %s failed: %s", r->activity_id,
                       reply->error->message);
        } else {
            const Temporal__Api__Workflowservice__V1__RecordActivityTaskHeartbeatResponse *resp =
                (void *)reply->response;
            /* Cancellation first, then reset, then pause, as sdk-core ranks them. */
            if (resp->cancel_requested)
                issue_cancel_locked(act, r, TW_ACTIVITY_CANCEL_REASON_CANCELLED);
            else if (resp->activity_reset)
                issue_cancel_locked(act, r, TW_ACTIVITY_CANCEL_REASON_RESET);
            else if (resp->activity_paused)
                issue_cancel_locked(act, r, TW_ACTIVITY_CANCEL_REASON_PAUSED);
        }
        try_report_locked(act, r);
        arm_tick_locked(act);
    }
    tw_rpc_reply_clear(reply);
    act_leave(act, true);
}

/* Sends a heartbeat for r now; takes details (may be NULL). */
static void send_heartbeat_locked(tw_act *act, running *r, pb_payloads_msg *details)
{
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__RecordActivityTaskHeartbeatRequest *m =
        pb_new(&b, &WS(record_activity_task_heartbeat_request__descriptor));
    if (m) {
        m->task_token = pb_bytes(&b, r->token, r->token_len);
        m->namespace_ = pb_str(&b, act->namespace_name);
        m->identity = pb_str(&b, act->identity);
        m->details = details;
        details = NULL;
    }
    if (details)
        protobuf_c_message_free_unpacked(&details->base, NULL);
    r->hb_window = true;
    r->hb_sent_at = tw_now_ms();
    int rc = !m || b.oom ? TW_ENOMEM
                         : start_call_locked(act, r->id, "RecordActivityTaskHeartbeat", &m->base,
                                             &WS(record_activity_task_heartbeat_response__descriptor), TW_RPC_RETRY,
                                             on_heartbeat);
    if (m)
        protobuf_c_message_free_unpacked(&m->base, NULL);
    if (rc)
        tw_log(&act->log, TW_LOG_WARN, "could not send a heartbeat for activity %s", r->activity_id);
    else
        r->hb_in_flight = true;
    arm_tick_locked(act);
}

static void send_pending_heartbeat_locked(tw_act *act, running *r)
{
    pb_payloads_msg *details = r->hb_pending;
    r->hb_pending = NULL;
    r->hb_has_pending = false;
    send_heartbeat_locked(act, r, details);
}

/* ---- outcomes ---- */

static void finish_report_locked(tw_act *act, running *r, const tw_error *err)
{
    if (r->done_cq) {
        tw_event *ev = tw_event_create(TW_EVENT_ACTIVITY_DONE, r->done_tag);
        if (ev && err)
            tw_event_fail(ev, err);
        tw_cq_push(r->done_cq, ev);
        r->done_cq = NULL;
    }
    if (err && err->code != TW_ECANCELLED)
        tw_log(&act->log, err->code == TW_ENOTFOUND ? TW_LOG_INFO : TW_LOG_WARN,
               "reporting the outcome of activity %s failed: %s", r->activity_id, err->message);
    remove_running_locked(act, r);
}

static void on_report(tw_rpc_reply *reply, void *arg)
{
    uint64_t id;
    tw_act *act = enter_call(arg, &id);
    running *r = find_by_id(act, id);
    if (r)
        finish_report_locked(act, r, reply->error);
    tw_rpc_reply_clear(reply);
    act_leave(act, true);
}

/* Sends r's outcome once no heartbeat is in flight or waiting. */
static void try_report_locked(tw_act *act, running *r)
{
    if (!r->reporting || r->report_sent || r->hb_in_flight)
        return;
    if (r->hb_has_pending && !r->known_not_found) {
        send_pending_heartbeat_locked(act, r);
        if (r->hb_in_flight)
            return;
    }
    if (!r->report) {
        finish_report_locked(act, r, NULL);
        return;
    }
    r->report_sent = true;
    int rc = start_call_locked(act, r->id, r->report_method, r->report, r->report_resp, TW_RPC_RETRY, on_report);
    protobuf_c_message_free_unpacked(r->report, NULL);
    r->report = NULL;
    if (rc)
        finish_report_locked(act, r, rc == TW_ENOMEM ? &oom : tw_error_last());
}

/* ---- local activity slots ---- */

/* A timeout failure of timeout_type for a local activity (NULL when out of memory). */
static tw_pb_failure *la_timeout_failure(int timeout_type)
{
    tw_pb_failure *f = calloc(1, sizeof(*f));
    Temporal__Api__Failure__V1__TimeoutFailureInfo *ti = calloc(1, sizeof(*ti));
    char *message = tw_strdup("local activity timed out");
    if (!f || !ti || !message) {
        free(f);
        free(ti);
        free(message);
        return NULL;
    }
    temporal__api__failure__v1__failure__init(f);
    temporal__api__failure__v1__timeout_failure_info__init(ti);
    ti->timeout_type = timeout_type;
    f->message = message;
    f->failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TIMEOUT_FAILURE_INFO;
    f->timeout_failure_info = ti;
    return f;
}

/*
 * Local activity r timed out before an attempt could start: queued past its
 * schedule_to_start timeout, or (the retry after a backoff timer) already
 * past its schedule_to_close timeout. It resolves as timed out (not
 * retried, as in sdk-core), delivered by the tick, and is forgotten.
 */
static void la_time_out_locked(tw_act *act, running *r, int timeout_type)
{
    tw_log(&act->log, TW_LOG_DEBUG, "local activity %s (%s) timed out before its attempt %d could start (%s)",
           r->activity_id, r->activity_type, (int)r->la_attempt,
           timeout_type == TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_SCHEDULE_TO_START ? "schedule_to_start"
                                                                                                : "schedule_to_close");
    la_result *res = calloc(1, sizeof(*res));
    if (res) {
        res->run_id = r->la_run_id;
        r->la_run_id = NULL;
        res->seq = r->la_seq;
        res->attempt = r->la_attempt;
        res->timeout_type = timeout_type;
        la_result **at = &act->la_results;
        while (*at)
            at = &(*at)->next;
        *at = res;
    } else {
        tw_log(&act->log, TW_LOG_ERROR, "out of memory timing out local activity %s", r->activity_id);
    }
    remove_running_locked(act, r);
    arm_tick_locked(act);
}

/* Hands out the next attempt of local activity r, which takes a slot. */
static void la_start_attempt_locked(tw_act *act, running *r)
{
    task_pb *pb = (task_pb *)tw_pb_copy(&r->la_template->base);
    tw_activity_task *t = pb ? task_start(act, pb) : NULL;
    if (!t) {
        /* Its workflow task times out and runs it elsewhere. */
        tw_log(&act->log, TW_LOG_ERROR, "out of memory starting local activity %s", r->activity_id);
        remove_running_locked(act, r);
        return;
    }
    t->pb->attempt = r->la_attempt;
    int64_t start_to_close = duration_ms(t->pb->start_to_close_timeout);
    r->close_deadline = start_to_close > 0 ? tw_now_ms() + start_to_close : 0;
    r->cancel_reason = 0;
    r->pending_cancel = act->cancel_all ? TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN : 0;
    r->la_started = true;
    r->la_slot = true;
    act->la_active++;
    offer_locked(act, t, r->id);
    arm_tick_locked(act);
}

/*
 * Local activity r is ready for an attempt: it starts when a slot is free
 * and nothing waits before it, else waits in FIFO order. Once shutdown
 * cancels everything it starts at once (to be cancelled like the others).
 */
static void la_schedule_locked(tw_act *act, running *r)
{
    if (act->cancel_all || (!act->la_qhead && act->la_active < act->max_local)) {
        la_start_attempt_locked(act, r);
        return;
    }
    r->la_queued = true;
    r->la_qnext = NULL;
    if (act->la_qtail)
        act->la_qtail->la_qnext = r;
    else
        act->la_qhead = r;
    act->la_qtail = r;
    arm_tick_locked(act);
}

/* Starts queued local activities while slots are free (those past their schedule_to_start time out instead). */
static void la_pump_locked(tw_act *act)
{
    while (act->la_qhead && act->la_active < act->max_local && !act->cancel_all && !act->abandoned) {
        running *r = act->la_qhead;
        la_unqueue_locked(act, r);
        if (!r->la_started && r->la_s2s_deadline && tw_now_ms() >= r->la_s2s_deadline)
            la_time_out_locked(act, r, TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_SCHEDULE_TO_START);
        else
            la_start_attempt_locked(act, r);
    }
}

/* Gives back the slot of r (NULL: of a task already forgotten) and starts what waits for it. */
static void la_release_slot_locked(tw_act *act, running *r)
{
    if (r) {
        if (!r->la_slot)
            return;
        r->la_slot = false;
    }
    act->la_active--;
    la_pump_locked(act);
}

/*
 * Hands the local activities the activity side resolved itself to the
 * worker (act locked; the lock is left and taken again). The worker stays
 * valid throughout: tw_worker_free keeps its reference for us until
 * tw_act_release_worker says no call is in progress, or else the last one
 * drops it.
 */
static void la_deliver_locked(tw_act *act)
{
    la_result *res = act->la_results;
    act->la_results = NULL;
    if (!res)
        return;
    tw_worker *w = act->la_w;
    if (act->worker_released || !w) {
        free_la_results(res);
        return;
    }
    act->la_callouts++;
    pthread_mutex_unlock(&act->lock);
    for (la_result *x = res; x; x = x->next) {
        tw_pb_failure *f = la_timeout_failure(x->timeout_type);
        tw_pb_failure oom_failure;
        if (!f) {
            temporal__api__failure__v1__failure__init(&oom_failure);
            oom_failure.message = (char *)"local activity timed out (out of memory describing it)";
        }
        tw_worker_local_resolved(w, x->run_id, x->seq, TW_RESOLUTION_FAILED, NULL, f ? f : &oom_failure,
                                 TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_TIMEOUT, x->attempt);
        if (f)
            protobuf_c_message_free_unpacked(&f->base, NULL);
    }
    free_la_results(res);
    pthread_mutex_lock(&act->lock);
    if (--act->la_callouts == 0 && act->worker_released) {
        pthread_mutex_unlock(&act->lock);
        tw_worker_act_unref(w);
        pthread_mutex_lock(&act->lock);
    }
}

/* ---- the tick ---- */

static bool needs_tick_locked(const tw_act *act)
{
    return !act->abandoned && (act->running || act->poll_backoff_until || act->rate_wait || act->la_results);
}

static void tick_locked(tw_act *act)
{
    int64_t now = tw_now_ms();
    if (act->grace_deadline && now >= act->grace_deadline)
        cancel_all_locked(act);
    for (running *r = act->running, *next; r; r = next) {
        next = r->next;
        if (r->local && r->la_retry_at && now >= r->la_retry_at) {
            r->la_retry_at = 0;
            if (act->shutting_down) {
                /* No new attempt while shutting down: the workflow task times out and runs it elsewhere. */
                remove_running_locked(act, r);
                continue;
            }
            la_schedule_locked(act, r);
            continue;
        }
        if (r->la_queued && !r->la_started && r->la_s2s_deadline && now >= r->la_s2s_deadline)
            la_time_out_locked(act, r, TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_SCHEDULE_TO_START);
    }
    for (running *r = act->running; r;) {
        running *next = r->next; /* r may go: a report can finish at once */
        if (r->hb_window && !r->hb_in_flight && now - r->hb_sent_at >= r->throttle_ms) {
            if (r->hb_has_pending && !r->reporting)
                send_pending_heartbeat_locked(act, r);
            else
                r->hb_window = false;
        }
        bool timed_out = (r->heartbeat_deadline && now >= r->heartbeat_deadline) ||
                         (r->close_deadline && now >= r->close_deadline);
        if (timed_out && !r->reporting && !r->cancel_reason)
            issue_cancel_locked(act, r, TW_ACTIVITY_CANCEL_REASON_TIMED_OUT);
        r = next;
    }
    if ((act->poll_backoff_until && now >= act->poll_backoff_until) || act->rate_wait)
        poll_more_locked(act);
}

static void on_tick(tw_rpc_reply *reply, void *arg)
{
    uint64_t unused;
    tw_act *act = enter_call(arg, &unused);
    act->ticking = false;
    if (!reply->error && !act->abandoned) {
        tick_locked(act);
        arm_tick_locked(act);
        la_deliver_locked(act);
    }
    tw_rpc_reply_clear(reply);
    act_leave(act, true);
}

static void arm_tick_locked(tw_act *act)
{
    if (act->ticking || !needs_tick_locked(act))
        return;
    call_arg *a = calloc(1, sizeof(*a));
    if (!a)
        return;
    a->act = act;
    if (tw_rpc_timer_start(act->ch, TICK_MS, on_tick, a, &act->call_owner) != 0) {
        free(a);
        return;
    }
    act->refs++;
    act->ticking = true;
}

/* ---- worker.c hooks ---- */

/* 0 (unset), or positive, finite and not subnormal (which a rate per millisecond could round to 0). */
static bool rate_ok(double per_second)
{
    return per_second == 0 || (isnormal(per_second) && per_second > 0);
}

int tw_act_new(const char *fn, tw_client *client, const tw_worker_options *o, const char *identity, tw_act **out)
{
    *out = NULL;
    if (o->no_activities && o->no_workflows)
        return tw_set_error(TW_EINVAL, "%s: no_activities and no_workflows are both set: the worker would poll "
                                       "nothing", fn);
    if (!o->no_activities) {
        if (o->max_concurrent_activities == 0)
            return tw_set_error(TW_EINVAL, "%s: max_concurrent_activities must be at least 1", fn);
        if (o->activity_pollers == 0)
            return tw_set_error(TW_EINVAL, "%s: activity_pollers must be at least 1", fn);
    }
    if (o->graceful_shutdown_timeout_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: graceful_shutdown_timeout_ms must not be negative, got %lld", fn,
                            (long long)o->graceful_shutdown_timeout_ms);
    if (o->no_remote_activities && o->no_workflows && !o->no_activities)
        return tw_set_error(TW_EINVAL, "%s: no_remote_activities and no_workflows are both set: the worker would "
                                       "poll nothing (local activities come from its workflows)", fn);
    if (o->max_heartbeat_throttle_interval_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: max_heartbeat_throttle_interval_ms must not be negative, got %lld", fn,
                            (long long)o->max_heartbeat_throttle_interval_ms);
    if (o->default_heartbeat_throttle_interval_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: default_heartbeat_throttle_interval_ms must not be negative, got %lld",
                            fn, (long long)o->default_heartbeat_throttle_interval_ms);
    if (!rate_ok(o->max_activities_per_second))
        return tw_set_error(TW_EINVAL, "%s: max_activities_per_second must be 0 (no limit) or a positive finite "
                                       "number, got %g", fn, o->max_activities_per_second);
    if (!rate_ok(o->max_task_queue_activities_per_second))
        return tw_set_error(TW_EINVAL, "%s: max_task_queue_activities_per_second must be 0 (not sent) or a "
                                       "positive finite number, got %g", fn, o->max_task_queue_activities_per_second);
    tw_act *act = calloc(1, sizeof(*act));
    if (!act)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    pthread_mutex_init(&act->lock, NULL);
    act->refs = 1;
    act->ch = client->ch;
    tw_rpc_channel_ref(act->ch);
    act->log = client->rt->log;
    act->namespace_name = tw_strdup(client->namespace_name);
    act->task_queue = tw_strdup(o->task_queue);
    act->identity = tw_strdup(identity);
    act->max_running = o->max_concurrent_activities;
    act->max_local = o->max_concurrent_local_activities ? o->max_concurrent_local_activities : 100;
    act->pollers = o->activity_pollers < o->max_concurrent_activities ? o->activity_pollers
                                                                       : o->max_concurrent_activities;
    act->grace_ms = o->graceful_shutdown_timeout_ms;
    act->max_throttle_ms = o->max_heartbeat_throttle_interval_ms;
    act->default_throttle_ms = o->default_heartbeat_throttle_interval_ms;
    act->queue_rate = o->max_task_queue_activities_per_second;
    if (o->max_activities_per_second > 0) {
        act->rate_per_ms = o->max_activities_per_second / 1000.0;
        /* Whole tokens, at least one; more than the task slots could never be used. */
        double burst = o->max_activities_per_second < (double)act->max_running ? o->max_activities_per_second
                                                                                 : (double)act->max_running;
        act->rate_burst = burst < 1 ? 1 : (double)(uint32_t)burst;
        act->rate_tokens = act->rate_burst;
        act->rate_at = tw_now_ms();
    }
    act->disabled = o->no_activities != 0;
    act->remote_disabled = o->no_remote_activities != 0;
    if (!act->namespace_name || !act->task_queue || !act->identity) {
        act_destroy(act);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    *out = act;
    return 0;
}

bool tw_act_shutdown(tw_act *act, tw_act_idle_fn idle, void *arg)
{
    pthread_mutex_lock(&act->lock);
    act->shutting_down = true;
    tw_rpc_cancel_owner(act->ch, &act->poll_owner);
    if (act->grace_ms > 0 && act->running) {
        act->grace_deadline = tw_now_ms() + act->grace_ms;
        arm_tick_locked(act);
    } else {
        cancel_all_locked(act);
    }
    bool busy = !idle_locked(act);
    if (busy) {
        act->idle = idle;
        act->idle_arg = arg;
    } else if (!act->closed) {
        act->closed = true;
        fail_waiters_locked(act, TW_ECLOSED, "the worker has shut down");
    }
    pthread_mutex_unlock(&act->lock);
    return busy;
}

static void abandon_locked(tw_act *act)
{
    if (act->abandoned)
        return;
    act->abandoned = true;
    act->shutting_down = true;
    act->closed = true;
    tw_rpc_cancel_owner(act->ch, &act->poll_owner);
    tw_rpc_cancel_owner(act->ch, &act->call_owner);
    fail_waiters_locked(act, TW_ECANCELLED, "the worker was freed");
    while (act->ready_head) {
        ready_task *rt = act->ready_head;
        act->ready_head = rt->next;
        tw_activity_task_free(rt->task);
        free(rt);
    }
    act->ready_tail = NULL;
    static const tw_error freed = {TW_ECANCELLED, 0, "the worker was freed", NULL, NULL, NULL, 0};
    while (act->running) {
        running *r = act->running;
        act->running = r->next;
        if (r->done_cq) {
            tw_event *ev = tw_event_create(TW_EVENT_ACTIVITY_DONE, r->done_tag);
            if (ev)
                tw_event_fail(ev, &freed);
            tw_cq_push(r->done_cq, ev);
        }
        free_running(r);
    }
    act->running_count = 0;
    act->la_active = 0;
    act->la_qhead = act->la_qtail = NULL;
    free_la_results(act->la_results);
    act->la_results = NULL;
}

bool tw_act_release_worker(tw_act *act)
{
    pthread_mutex_lock(&act->lock);
    act->worker_released = true;
    bool now = act->la_callouts == 0;
    pthread_mutex_unlock(&act->lock);
    return now;
}

bool tw_act_abandon(tw_act *act)
{
    pthread_mutex_lock(&act->lock);
    abandon_locked(act);
    bool had = act->idle != NULL;
    act->idle = NULL;
    pthread_mutex_unlock(&act->lock);
    return had;
}

void tw_act_free(tw_act *act)
{
    if (!act)
        return;
    pthread_mutex_lock(&act->lock);
    abandon_locked(act);
    act->idle = NULL;
    act_leave(act, true);
}

/* ---- eager activities ---- */

bool tw_act_eager_reserve(tw_act *act)
{
    pthread_mutex_lock(&act->lock);
    /*
     * Only while the language polls activity tasks, and like a poll, only with a slot nobody else holds.
     * Never for a worker that runs local activities only, nor when the server limits the task queue's
     * rate (eager tasks would bypass that limit).
     */
    bool ok = !act->disabled && !act->remote_disabled && act->queue_rate <= 0 && act->started &&
              !act->shutting_down && act->polls + act->running_count + act->eager_reserved < act->max_running;
    if (ok)
        act->eager_reserved++;
    pthread_mutex_unlock(&act->lock);
    return ok;
}

bool tw_act_eager_done(tw_act *act, size_t reserved, task_pb **tasks, size_t n)
{
    pthread_mutex_lock(&act->lock);
    size_t used = n < reserved ? n : reserved;
    act->eager_reserved -= reserved;
    for (size_t i = 0; i < n; i++) {
        task_pb *pb = tasks[i];
        tasks[i] = NULL;
        if (i >= used) {
            tw_log(&act->log, TW_LOG_ERROR, "the server sent more eager activity tasks than were asked for (%zu); "
                   "dropping activity %s, which will time out", reserved, pb->activity_id ? pb->activity_id : "");
        } else if (pb->task_token.len && !act->abandoned) {
            tw_log(&act->log, TW_LOG_DEBUG, "activity %s (%s) came eagerly with the workflow task's answer",
                   pb->activity_id ? pb->activity_id : "",
                   pb->activity_type && pb->activity_type->name ? pb->activity_type->name : "");
            if (act->rate_per_ms > 0) {
                /* Eager tasks count against the worker's rate limit too. */
                rate_refill_locked(act);
                act->rate_tokens -= 1;
            }
            accept_locked(act, pb, true); /* takes pb */
            continue;
        }
        temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(pb, NULL);
    }
    if (used < reserved)
        tw_log(&act->log, TW_LOG_DEBUG, "the server returned %zu of %zu eager activity tasks asked for", used,
               reserved);
    poll_more_locked(act);
    bool went_idle = false;
    if (act->shutting_down && !act->closed && idle_locked(act)) {
        /* What act_leave would do, except that the worker, which holds its lock, runs the idle part itself. */
        act->closed = true;
        fail_waiters_locked(act, TW_ECLOSED, "the worker has shut down");
        went_idle = act->idle != NULL;
        act->idle = NULL;
    }
    pthread_mutex_unlock(&act->lock);
    return went_idle;
}

/* ---- public API: the worker side ---- */

static int check_token(const char *fn, const tw_worker *w, const uint8_t *token, size_t len)
{
    if (!w)
        return tw_set_error(TW_EINVAL, "%s: w must not be NULL", fn);
    if (!token || !len)
        return tw_set_error(TW_EINVAL, "%s: token is %s", fn, token ? "empty (token_len is 0)" : "NULL");
    return 0;
}

/* Finds the running task of token for an outcome or heartbeat; TW_EINVAL (lock released) when there is none. */
static int find_for_call_locked(const char *fn, tw_act *act, const uint8_t *token, size_t len, running **out)
{
    running *r = find_by_token(act, token, len);
    int rc = 0;
    if (!r)
        rc = tw_set_error(TW_EINVAL, "%s: no running activity task has this token (%zu bytes): it was never "
                                     "delivered by this worker, or its outcome was already reported", fn, len);
    else if (r->reporting)
        rc = tw_set_error(TW_EINVAL, "%s: the outcome of activity %s (%s) was already reported", fn, r->activity_id,
                          r->activity_type);
    if (rc)
        pthread_mutex_unlock(&act->lock);
    *out = r;
    return rc;
}

int tw_worker_poll_activity_task(tw_worker *w, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_worker_poll_activity_task";
    if (!w || !cq)
        return tw_set_error(TW_EINVAL, "%s: w and cq must not be NULL", fn);
    tw_act *act = tw_worker_act(w);
    if (act->disabled)
        return tw_set_error(TW_EINVAL, "%s: the worker was made with no_activities set", fn);
    waiter *wt = calloc(1, sizeof(*wt));
    if (!wt)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    wt->cq = cq;
    wt->tag = tag;
    tw_cq_expect(cq);
    pthread_mutex_lock(&act->lock);
    if (act->closed) {
        tw_error *err = act->abandoned ? tw_error_create(TW_ECANCELLED, 0, "the worker was freed")
                                       : tw_error_create(TW_ECLOSED, 0, "the worker has shut down");
        complete_waiter(wt, NULL, err ? err : &oom);
        tw_error_destroy(err);
        pthread_mutex_unlock(&act->lock);
        return 0;
    }
    if (act->wait_tail)
        act->wait_tail->next = wt;
    else
        act->wait_head = wt;
    act->wait_tail = wt;
    if (!act->started) {
        act->started = true;
        poll_more_locked(act);
    }
    dispatch_locked(act);
    act_leave(act, false);
    return 0;
}

tw_activity_task *tw_event_take_activity_task(tw_event *ev)
{
    if (!ev)
        return NULL;
    tw_activity_task *t = ev->activity_task;
    ev->activity_task = NULL;
    return t;
}

/* ---- local activities ---- */

static bool la_non_retryable(const task_pb *tpl, const tw_pb_failure *f)
{
    const Temporal__Api__Failure__V1__ApplicationFailureInfo *info =
        f && f->failure_info_case == TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO
            ? f->application_failure_info
            : NULL;
    if (!info)
        return false;
    if (info->non_retryable)
        return true;
    const Temporal__Api__Common__V1__RetryPolicy *p = tpl->retry_policy;
    for (size_t i = 0; p && i < p->n_non_retryable_error_types; i++) {
        if (info->type && strcmp(info->type, p->non_retryable_error_types[i]) == 0)
            return true;
    }
    return false;
}

/*
 * The language reported the outcome of local task r (act locked; unlocks):
 * retries a failure per the retry policy, or hands the final outcome to the
 * workflow worker (with no lock of the activity side held). A retry due
 * later than the local activity's threshold is not waited here: the
 * outcome is then TW_RESOLUTION_BACKOFF, and the workflow waits on a timer
 * and schedules the next attempt itself (the run computes the same backoff
 * with the same tw_la_retry_backoff_ms).
 */
static int local_outcome_locked(tw_act *act, running *r, tw_cq *cq, uint64_t tag, ProtobufCMessage *req,
                                const char *method)
{
    int resolution = TW_RESOLUTION_COMPLETED;
    int retry_state = 0;
    Temporal__Api__Common__V1__Payloads *result = NULL;
    tw_pb_failure *failure = NULL;
    tw_pb_failure *timeout = NULL;
    if (req && strcmp(method, "RespondActivityTaskCompleted") == 0) {
        result = ((Temporal__Api__Workflowservice__V1__RespondActivityTaskCompletedRequest *)(void *)req)->result;
    } else if (r->cancel_reason == TW_ACTIVITY_CANCEL_REASON_TIMED_OUT) {
        resolution = TW_RESOLUTION_FAILED;
        retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_TIMEOUT;
        timeout = la_timeout_failure(TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_START_TO_CLOSE);
        failure = timeout;
    } else if (req && strcmp(method, "RespondActivityTaskFailed") == 0) {
        resolution = TW_RESOLUTION_FAILED;
        failure = ((Temporal__Api__Workflowservice__V1__RespondActivityTaskFailedRequest *)(void *)req)->failure;
        int64_t backoff = -1;
        int64_t now = tw_now_ms();
        if (la_non_retryable(r->la_template, failure)) {
            retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE;
        } else if (r->cancel_reason) {
            retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_CANCEL_REQUESTED;
        } else if ((backoff = tw_la_retry_backoff_ms(r->la_template->retry_policy, r->la_attempt, failure)) < 0) {
            retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
        } else if (r->la_deadline && now + backoff >= r->la_deadline) {
            retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_TIMEOUT;
            backoff = -1;
        } else if (r->la_threshold_ms >= 0 && backoff > r->la_threshold_ms) {
            resolution = TW_RESOLUTION_BACKOFF;
            retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_IN_PROGRESS;
            backoff = -1;
        }
        if (backoff >= 0 && !retry_state) {
            /* Another attempt after the backoff; this call is done. */
            r->la_attempt++;
            r->la_retry_at = now + (backoff > 0 ? backoff : 1);
            r->delivered = false;
            r->close_deadline = 0;
            la_release_slot_locked(act, r);
            protobuf_c_message_free_unpacked(req, NULL);
            tw_cq_push(cq, tw_event_create(TW_EVENT_ACTIVITY_DONE, tag));
            arm_tick_locked(act);
            pthread_mutex_unlock(&act->lock);
            return 0;
        }
    } else {
        resolution = TW_RESOLUTION_CANCELLED;
    }
    /* Cancelled by a worker shutdown: no outcome, the workflow task times out and runs it elsewhere. */
    tw_worker *w = r->cancel_reason == TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN ? NULL : r->la_worker;
    char *run_id = r->la_run_id;
    uint32_t seq = r->la_seq;
    int32_t attempt = r->la_attempt;
    r->la_run_id = NULL;
    r->reporting = true;
    r->done_cq = cq;
    r->done_tag = tag;
    finish_report_locked(act, r, NULL);
    pthread_mutex_unlock(&act->lock);
    tw_payloads *res = NULL;
    if (resolution == TW_RESOLUTION_COMPLETED)
        res = tw_payloads_from_pb(result ? result->n_payloads : 0, result ? result->payloads : NULL);
    if (w)
        tw_worker_local_resolved(w, run_id, seq, resolution, res, failure, retry_state, attempt);
    tw_payloads_free(res);
    free(run_id);
    if (timeout)
        protobuf_c_message_free_unpacked(&timeout->base, NULL);
    if (req)
        protobuf_c_message_free_unpacked(req, NULL);
    return 0;
}

/* Wall clock in ms since the epoch (the run gives the original schedule time so). */
static int64_t wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tw_act_start_local(tw_act *act, tw_worker *w, const char *run_id, uint32_t seq, task_pb *pb,
                       int64_t schedule_to_start_ms, const tw_la_params *params)
{
    pthread_mutex_lock(&act->lock);
    if (act->disabled || act->closed || act->abandoned) {
        pthread_mutex_unlock(&act->lock);
        temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(pb, NULL);
        return tw_set_error(TW_EINVAL, "local activities need a worker that runs activities (and has not shut "
                                       "down)");
    }
    task_pb *tpl = (task_pb *)tw_pb_copy(&pb->base);
    char *rid = tw_strdup(run_id);
    int64_t s2c = duration_ms(pb->schedule_to_close_timeout);
    running *r = tpl && rid ? accept_locked(act, pb, false) : NULL;
    if (!r) {
        if (!tpl || !rid)
            temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(pb, NULL);
        if (tpl)
            temporal__api__workflowservice__v1__poll_activity_task_queue_response__free_unpacked(tpl, NULL);
        free(rid);
        pthread_mutex_unlock(&act->lock);
        return tw_set_error(TW_ENOMEM, "out of memory starting a local activity");
    }
    r->local = true;
    r->la_worker = w;
    r->la_run_id = rid;
    r->la_seq = seq;
    r->la_template = tpl;
    r->la_attempt = params->attempt;
    r->la_threshold_ms = params->retry_threshold_ms;
    int64_t now = tw_now_ms();
    /* schedule_to_close counts from the first attempt's schedule, also across backoff timers. */
    int64_t elapsed = params->original_schedule_ms > 0 ? wall_now_ms() - params->original_schedule_ms : 0;
    r->la_deadline = s2c > 0 ? now + s2c - (elapsed > 0 ? elapsed : 0) : 0;
    r->la_s2s_deadline = schedule_to_start_ms > 0 ? now + schedule_to_start_ms : 0;
    r->close_deadline = 0; /* counts from each attempt's start */
    act->la_w = w;
    if (r->la_deadline && r->la_deadline <= now)
        la_time_out_locked(act, r, TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_SCHEDULE_TO_CLOSE);
    else
        la_schedule_locked(act, r);
    pthread_mutex_unlock(&act->lock);
    return 0;
}

void tw_act_cancel_local(tw_act *act, const char *run_id, uint32_t seq)
{
    pthread_mutex_lock(&act->lock);
    for (running *r = act->running; r; r = r->next) {
        if (r->local && r->la_run_id && r->la_seq == seq && strcmp(r->la_run_id, run_id) == 0) {
            if (r->la_retry_at || r->la_queued)
                remove_running_locked(act, r); /* waiting for its next attempt or a slot: just forget it */
            else
                issue_cancel_locked(act, r, TW_ACTIVITY_CANCEL_REASON_CANCELLED);
            break;
        }
    }
    pthread_mutex_unlock(&act->lock);
}

/*
 * Records the outcome of the task with token: req (taken, NULL for none)
 * is sent once heartbeats are flushed; completes into cq.
 */
static int report_outcome(const char *fn, tw_worker *w, const uint8_t *token, size_t len, tw_cq *cq, uint64_t tag,
                          ProtobufCMessage *req, const char *method, const ProtobufCMessageDescriptor *resp)
{
    tw_act *act = tw_worker_act(w);
    pthread_mutex_lock(&act->lock);
    running *r;
    int rc = find_for_call_locked(fn, act, token, len, &r);
    if (rc) {
        if (req)
            protobuf_c_message_free_unpacked(req, NULL);
        return rc;
    }
    tw_cq_expect(cq);
    if (r->local)
        return local_outcome_locked(act, r, cq, tag, req, method);
    r->reporting = true;
    r->done_cq = cq;
    r->done_tag = tag;
    if (r->known_not_found) {
        /* The server no longer knows the task (sdk-core does not report these either). */
        if (req)
            protobuf_c_message_free_unpacked(req, NULL);
        req = NULL;
    }
    r->report = req;
    r->report_method = method;
    r->report_resp = resp;
    try_report_locked(act, r);
    act_leave(act, false);
    return 0;
}

/* Common argument checks of the outcome calls. */
static int check_outcome(const char *fn, const tw_worker *w, const uint8_t *token, size_t len, const tw_cq *cq)
{
    int rc = check_token(fn, w, token, len);
    if (rc)
        return rc;
    if (!cq)
        return tw_set_error(TW_EINVAL, "%s: cq must not be NULL", fn);
    if (tw_worker_act(w)->disabled)
        return tw_set_error(TW_EINVAL, "%s: the worker was made with no_activities set", fn);
    return 0;
}

#define FILL_RESPONSE(m, b, act, token, len)                  \
    do {                                                      \
        (m)->task_token = pb_bytes(b, token, len);            \
        (m)->namespace_ = pb_str(b, (act)->namespace_name);   \
        (m)->identity = pb_str(b, (act)->identity);           \
    } while (0)

/* Sends a failure for the task (failure owned: attached or freed). */
static int report_failure(const char *fn, tw_worker *w, const uint8_t *token, size_t len, tw_pb_failure *failure,
                          pb_build *b, tw_cq *cq, uint64_t tag)
{
    Temporal__Api__Workflowservice__V1__RespondActivityTaskFailedRequest *m =
        pb_new(b, &WS(respond_activity_task_failed_request__descriptor));
    if (m) {
        FILL_RESPONSE(m, b, tw_worker_act(w), token, len);
        m->failure = failure;
    } else if (failure) {
        protobuf_c_message_free_unpacked(&failure->base, NULL);
    }
    if (!m || b->oom) {
        if (m)
            protobuf_c_message_free_unpacked(&m->base, NULL);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    return report_outcome(fn, w, token, len, cq, tag, &m->base, "RespondActivityTaskFailed",
                          &WS(respond_activity_task_failed_response__descriptor));
}

int tw_worker_complete_activity_task(tw_worker *w, const uint8_t *token, size_t token_len, const tw_payloads *result,
                                     tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_worker_complete_activity_task";
    int rc = check_outcome(fn, w, token, token_len, cq);
    if (rc)
        return rc;
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__RespondActivityTaskCompletedRequest *m =
        pb_new(&b, &WS(respond_activity_task_completed_request__descriptor));
    if (m) {
        FILL_RESPONSE(m, &b, tw_worker_act(w), token, token_len);
        m->result = pb_payloads(&b, result);
    }
    if (!m || b.oom) {
        if (m)
            protobuf_c_message_free_unpacked(&m->base, NULL);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    return report_outcome(fn, w, token, token_len, cq, tag, &m->base, "RespondActivityTaskCompleted",
                          &WS(respond_activity_task_completed_response__descriptor));
}

int tw_worker_fail_activity_task(tw_worker *w, const uint8_t *token, size_t token_len,
                                 const tw_activity_failure *failure, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_worker_fail_activity_task";
    tw_activity_failure f;
    int rc = check_outcome(fn, w, token, token_len, cq);
    if (rc || (rc = check_activity_failure(fn, failure, &f)))
        return rc;
    pb_build b = {false};
    return report_failure(fn, w, token, token_len, pb_activity_failure(&b, &f), &b, cq, tag);
}

int tw_worker_fail_activity_task_encoded(tw_worker *w, const uint8_t *token, size_t token_len,
                                         const uint8_t *failure, size_t len, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_worker_fail_activity_task_encoded";
    tw_pb_failure *f = NULL;
    int rc = check_outcome(fn, w, token, token_len, cq);
    if (rc || (rc = decode_failure_arg(fn, failure, len, &f)))
        return rc;
    pb_build b = {false};
    return report_failure(fn, w, token, token_len, f, &b, cq, tag);
}

int tw_worker_report_activity_task_cancelled(tw_worker *w, const uint8_t *token, size_t token_len,
                                             const tw_payloads *details, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_worker_report_activity_task_cancelled";
    int rc = check_outcome(fn, w, token, token_len, cq);
    if (rc)
        return rc;
    tw_act *act = tw_worker_act(w);
    pthread_mutex_lock(&act->lock);
    running *r = find_by_token(act, token, token_len);
    bool shutdown = r && r->cancel_reason == TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN;
    pthread_mutex_unlock(&act->lock);
    pb_build b = {false};
    if (shutdown) {
        /* As sdk-core: a failure, so that the server retries it elsewhere without waiting for a timeout. */
        return report_failure(fn, w, token, token_len, pb_worker_shutdown_failure(&b), &b, cq, tag);
    }
    Temporal__Api__Workflowservice__V1__RespondActivityTaskCanceledRequest *m =
        pb_new(&b, &WS(respond_activity_task_canceled_request__descriptor));
    if (m) {
        FILL_RESPONSE(m, &b, act, token, token_len);
        m->details = pb_payloads(&b, details);
    }
    if (!m || b.oom) {
        if (m)
            protobuf_c_message_free_unpacked(&m->base, NULL);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    return report_outcome(fn, w, token, token_len, cq, tag, &m->base, "RespondActivityTaskCanceled",
                          &WS(respond_activity_task_canceled_response__descriptor));
}

int tw_worker_heartbeat_activity_task(tw_worker *w, const uint8_t *token, size_t token_len,
                                      const tw_payloads *details)
{
    static const char fn[] = "tw_worker_heartbeat_activity_task";
    int rc = check_token(fn, w, token, token_len);
    if (rc)
        return rc;
    tw_act *act = tw_worker_act(w);
    pb_build b = {false};
    pb_payloads_msg *copy = pb_payloads(&b, details);
    if (b.oom) {
        if (copy)
            protobuf_c_message_free_unpacked(&copy->base, NULL);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    pthread_mutex_lock(&act->lock);
    running *r;
    if ((rc = find_for_call_locked(fn, act, token, token_len, &r))) {
        if (copy)
            protobuf_c_message_free_unpacked(&copy->base, NULL);
        return rc;
    }
    if (r->known_not_found || r->local) {
        if (copy)
            protobuf_c_message_free_unpacked(&copy->base, NULL);
    } else if (!r->hb_window) {
        send_heartbeat_locked(act, r, copy);
    } else {
        /* Within the throttle window: keep the latest details for when it ends. */
        if (r->hb_pending)
            protobuf_c_message_free_unpacked(&r->hb_pending->base, NULL);
        r->hb_pending = copy;
        r->hb_has_pending = true;
    }
    act_leave(act, false);
    return 0;
}

int tw_worker_release_activity_task(tw_worker *w, const uint8_t *token, size_t token_len)
{
    static const char fn[] = "tw_worker_release_activity_task";
    int rc = check_token(fn, w, token, token_len);
    if (rc)
        return rc;
    tw_act *act = tw_worker_act(w);
    pthread_mutex_lock(&act->lock);
    running *r;
    if ((rc = find_for_call_locked(fn, act, token, token_len, &r)))
        return rc;
    remove_running_locked(act, r);
    act_leave(act, false);
    return 0;
}

/* ---- task accessors ---- */

static const char *str(const char *s)
{
    return s ? s : "";
}

static const task_pb *pb_of(const tw_activity_task *t)
{
    return t ? t->pb : NULL;
}

int tw_activity_task_is_local(const tw_activity_task *t)
{
    return t && t->token && token_is_local(t->token, t->token_len);
}

int tw_activity_task_kind_of(const tw_activity_task *t)
{
    return t ? t->kind : 0;
}

int tw_activity_task_token(const tw_activity_task *t, const uint8_t **token, size_t *len)
{
    if (!t || !token || !len)
        return tw_set_error(TW_EINVAL, "tw_activity_task_token: t, token and len must not be NULL");
    *token = t->token;
    *len = t->token_len;
    return 0;
}

int tw_activity_task_cancel_reason(const tw_activity_task *t)
{
    return t ? t->cancel_reason : 0;
}

const char *tw_activity_task_namespace(const tw_activity_task *t)
{
    return t ? str(t->namespace_name) : "";
}

const char *tw_activity_task_workflow_namespace(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? str(pb->workflow_namespace) : "";
}

const char *tw_activity_task_workflow_id(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb && pb->workflow_execution ? str(pb->workflow_execution->workflow_id) : "";
}

const char *tw_activity_task_run_id(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb && pb->workflow_execution ? str(pb->workflow_execution->run_id) : "";
}

const char *tw_activity_task_workflow_type(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb && pb->workflow_type ? str(pb->workflow_type->name) : "";
}

const char *tw_activity_task_activity_id(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? str(pb->activity_id) : "";
}

const char *tw_activity_task_activity_type(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb && pb->activity_type ? str(pb->activity_type->name) : "";
}

const char *tw_activity_task_task_queue(const tw_activity_task *t)
{
    return t ? str(t->task_queue) : "";
}

int32_t tw_activity_task_attempt(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? pb->attempt : 0;
}

int64_t tw_activity_task_scheduled_time(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? tw_timestamp_to_ns(pb->scheduled_time) : 0;
}

int64_t tw_activity_task_started_time(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? tw_timestamp_to_ns(pb->started_time) : 0;
}

int64_t tw_activity_task_current_attempt_scheduled_time(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? tw_timestamp_to_ns(pb->current_attempt_scheduled_time) : 0;
}

int64_t tw_activity_task_schedule_to_close_timeout_ms(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? duration_ms(pb->schedule_to_close_timeout) : 0;
}

int64_t tw_activity_task_start_to_close_timeout_ms(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? duration_ms(pb->start_to_close_timeout) : 0;
}

int64_t tw_activity_task_heartbeat_timeout_ms(const tw_activity_task *t)
{
    const task_pb *pb = pb_of(t);
    return pb ? duration_ms(pb->heartbeat_timeout) : 0;
}

int tw_activity_task_priority(const tw_activity_task *t, tw_priority *out)
{
    if (!t)
        return tw_set_error(TW_EINVAL, "tw_activity_task_priority: t is NULL");
    const task_pb *pb = pb_of(t);
    return tw_priority_read("tw_activity_task_priority", pb ? pb->priority : NULL, out);
}

int tw_activity_task_retry_policy(const tw_activity_task *t, tw_retry_policy *out)
{
    if (!t || !out)
        return tw_set_error(TW_EINVAL, "tw_activity_task_retry_policy: t and out must not be NULL");
    if (out->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "tw_activity_task_retry_policy: out->size is %zu; call "
                                       "tw_retry_policy_init first", out->size);
    const task_pb *pb = pb_of(t);
    if (!pb || !pb->retry_policy)
        return tw_set_error(TW_ENOTFOUND, "tw_activity_task_retry_policy: the server sent no retry policy");
    const Temporal__Api__Common__V1__RetryPolicy *p = pb->retry_policy;
    tw_retry_policy r;
    tw_retry_policy_init(&r);
    r.initial_interval_ms = duration_ms(p->initial_interval);
    r.backoff_coefficient = p->backoff_coefficient;
    r.maximum_interval_ms = duration_ms(p->maximum_interval);
    r.maximum_attempts = p->maximum_attempts;
    r.non_retryable_error_types = t->retry_types;
    size_t n = out->size < sizeof(r) ? out->size : sizeof(r);
    memcpy(out, &r, n);
    out->size = n;
    return 0;
}

const tw_payloads *tw_activity_task_heartbeat_details(const tw_activity_task *t)
{
    return t ? t->heartbeat_details : NULL;
}

const tw_payloads *tw_activity_task_args(const tw_activity_task *t)
{
    return t ? t->args : NULL;
}

const tw_payloads *tw_activity_task_headers(const tw_activity_task *t)
{
    return t ? t->headers : NULL;
}
