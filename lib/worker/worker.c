/*
 * The workflow worker: polls workflow tasks (normal and sticky queues),
 * keeps runs cached, feeds history to lib/history to make activations,
 * hands them to the language, and answers the server with the commands of
 * each completed workflow task.
 *
 * Concurrency: one mutex guards the whole worker. RPC callbacks run on the
 * transport thread; the language calls in from its own threads. RPCs are
 * started with the lock held (lock order: worker, then transport).
 *
 * Lifetime: every RPC in flight holds a reference on the worker, so
 * tw_worker_free may return while replies are still coming; they then only
 * release their reference.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "client/build.h"
#include "client/client.h"
#include "history/history.h"
#include "worker/activity.h"
#include "worker/worker.h"

#define WS(name) temporal__api__workflowservice__v1__##name
typedef Temporal__Api__Workflowservice__V1__PollWorkflowTaskQueueResponse wf_task;

typedef enum act_kind { ACT_NONE = 0, ACT_MAIN, ACT_QUERIES, ACT_LEGACY_QUERY, ACT_EVICTION } act_kind;

typedef struct queued_task {
    wf_task *task;
    int64_t received_ms;         /* monotonic time the poll returned it */
    struct queued_task *next;
} queued_task;

typedef struct run_entry {
    struct run_entry *prev, *next; /* LRU list, most recent first */
    char *run_id;
    tw_run *run;
    wf_task *task;               /* workflow task being processed, owned */
    int64_t received_ms;         /* monotonic time the poll returned task (heartbeats count from it) */
    uint64_t task_gen;           /* counts the tasks started, to tell a heartbeat timer's task */
    bool responding;             /* task's answer (completed, failed, heartbeat, query) is on its way */
    bool hb_armed;               /* a heartbeat timer runs for task */
    bool hb_due;                 /* that timer fired: heartbeat once nothing else is under way */
    queued_task *queued;         /* tasks for this run waiting for the current one */
    act_kind outstanding;        /* activation handed to the language, not completed yet */
    bool fetching;               /* history pages are being fetched */
    bool lang_knows;             /* the language holds state for this run */
    bool evicting;               /* eviction activation queued or outstanding */
    bool evict_pending;          /* evict once the outstanding activation completes */
    int evict_reason;
    char *evict_message;
    tw_pb_command **commands;    /* accumulated for the live workflow task */
    size_t command_count;
    bool terminal;
    tw_run_output queries;       /* answers to the task's queries */
    tw_cq *done_cq;              /* completion call waiting for the server's answer */
    uint64_t done_tag;
} run_entry;

typedef struct ready_act {
    tw_activation *activation;
    struct ready_act *next;
} ready_act;

typedef struct waiter {
    tw_cq *cq;
    uint64_t tag;
    struct waiter *next;
} waiter;

struct tw_worker {
    pthread_mutex_t lock;
    size_t refs;
    tw_client *client;
    tw_rpc_channel *ch;
    tw_logger log;
    char *namespace_name;
    char *task_queue;
    char *sticky_queue;
    char *identity;
    char *build_id;
    tw_worker_options opts;
    run_entry *lru_head, *lru_tail;
    size_t run_count;
    ready_act *ready_head, *ready_tail;
    waiter *wait_head, *wait_tail;
    uint32_t normal_polls, sticky_polls; /* outstanding poll RPCs */
    uint32_t tasks_in_flight;            /* tasks taken from polls and not finished */
    bool started;
    bool poll_backing_off;               /* polls wait for a backoff timer after errors */
    uint32_t poll_failures;              /* consecutive failed polls */
    bool shutting_down;
    bool closed;                         /* shutdown finished */
    tw_cq *shutdown_cq;
    uint64_t shutdown_tag;
    tw_act *act;                         /* the activity side (activity.c) */
    bool act_busy;                       /* shutting down while activities still run */
    eager_target eager;                  /* registered with the client's eager registry (workflows only) */
    eager_registry *eager_reg;           /* that registry (a reference), or NULL */
    uint32_t eager_reserved;             /* slots held by eager starts waiting for the server's answer */
};

static const tw_error oom = {TW_ENOMEM, 0, "out of memory", NULL, NULL, NULL, 0};

/* ---- small helpers ---- */

static void worker_ref(tw_worker *w)
{
    w->refs++;
}

static void worker_destroy(tw_worker *w);

/* Drops a reference; called with the lock held, releases it. */
static void worker_unref_locked(tw_worker *w)
{
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->lock);
    if (last)
        worker_destroy(w);
}

static void push_event(tw_cq *cq, tw_event *ev, const tw_error *err)
{
    if (!ev) {
        tw_cq_push(cq, NULL);
        return;
    }
    if (err)
        tw_event_fail(ev, err);
    tw_cq_push(cq, ev);
}

static void complete_waiter(waiter *wt, tw_activation *a, const tw_error *err)
{
    tw_event *ev = tw_event_create(TW_EVENT_ACTIVATION, wt->tag);
    if (ev && a)
        ev->activation = a;
    else if (a)
        tw_activation_free(a);
    push_event(wt->cq, ev, ev ? err : NULL);
    free(wt);
}

/* Hands ready activations to waiting polls. */
static void dispatch_locked(tw_worker *w)
{
    while (w->ready_head && w->wait_head) {
        ready_act *r = w->ready_head;
        waiter *wt = w->wait_head;
        w->ready_head = r->next;
        if (!w->ready_head)
            w->ready_tail = NULL;
        w->wait_head = wt->next;
        if (!w->wait_head)
            w->wait_tail = NULL;
        complete_waiter(wt, r->activation, NULL);
        free(r);
    }
}

static void offer_locked(tw_worker *w, tw_activation *a)
{
    ready_act *r = calloc(1, sizeof(*r));
    if (!r) {
        tw_log(&w->log, TW_LOG_ERROR, "out of memory queueing an activation for run %s", tw_activation_run_id(a));
        tw_activation_free(a);
        return;
    }
    r->activation = a;
    if (w->ready_tail)
        w->ready_tail->next = r;
    else
        w->ready_head = r;
    w->ready_tail = r;
    dispatch_locked(w);
}

/* ---- run entries and the LRU cache ---- */

static run_entry *find_run(tw_worker *w, const char *run_id)
{
    for (run_entry *e = w->lru_head; e; e = e->next)
        if (strcmp(e->run_id, run_id) == 0)
            return e;
    return NULL;
}

static void lru_unlink(tw_worker *w, run_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        w->lru_head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        w->lru_tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_touch(tw_worker *w, run_entry *e)
{
    lru_unlink(w, e);
    e->next = w->lru_head;
    if (w->lru_head)
        w->lru_head->prev = e;
    w->lru_head = e;
    if (!w->lru_tail)
        w->lru_tail = e;
}

static run_entry *new_run_entry(tw_worker *w, const char *run_id)
{
    run_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->run_id = tw_strdup(run_id))) {
        free(e);
        return NULL;
    }
    e->next = w->lru_head;
    if (w->lru_head)
        w->lru_head->prev = e;
    w->lru_head = e;
    if (!w->lru_tail)
        w->lru_tail = e;
    w->run_count++;
    return e;
}

static void free_commands(run_entry *e)
{
    for (size_t i = 0; i < e->command_count; i++)
        protobuf_c_message_free_unpacked(&e->commands[i]->base, NULL);
    free(e->commands);
    e->commands = NULL;
    e->command_count = 0;
    e->terminal = false;
}

static void destroy_run_entry(tw_worker *w, run_entry *e)
{
    lru_unlink(w, e);
    w->run_count--;
    tw_run_free(e->run);
    if (e->task)
        temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(e->task, NULL);
    for (queued_task *q = e->queued; q;) {
        queued_task *next = q->next;
        temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(q->task, NULL);
        free(q);
        q = next;
    }
    free_commands(e);
    tw_run_output_clear(&e->queries);
    free(e->evict_message);
    free(e->run_id);
    free(e);
}

static void start_task_locked(tw_worker *w, run_entry *e);
static void maybe_finish_shutdown_locked(tw_worker *w);
static void poll_more_locked(tw_worker *w);

/*
 * Evicts a run: the language is told with an eviction activation when it
 * holds state for the run; otherwise the entry just goes. A run with an
 * activation outstanding is evicted once that completes.
 */
static void evict_locked(tw_worker *w, run_entry *e, int reason, const char *message)
{
    if (e->evicting)
        return;
    if (e->outstanding != ACT_NONE || e->fetching) {
        if (!e->evict_pending) {
            e->evict_pending = true;
            e->evict_reason = reason;
            free(e->evict_message);
            e->evict_message = tw_strdup(message);
        }
        return;
    }
    tw_log(&w->log, TW_LOG_DEBUG, "evicting run %s: %s", e->run_id, message);
    tw_run_free(e->run);
    e->run = NULL;
    if (!e->lang_knows) {
        if (!e->task && !e->queued) {
            destroy_run_entry(w, e);
            maybe_finish_shutdown_locked(w);
        }
        return;
    }
    tw_activation *a = tw_activation_new_eviction(e->run_id, reason, message);
    if (!a) {
        tw_log(&w->log, TW_LOG_ERROR, "out of memory evicting run %s", e->run_id);
        return;
    }
    e->evicting = true;
    e->outstanding = ACT_EVICTION;
    offer_locked(w, a);
}

static void run_pending_eviction_locked(tw_worker *w, run_entry *e)
{
    if (!e->evict_pending || e->outstanding != ACT_NONE || e->fetching)
        return;
    e->evict_pending = false;
    char *message = e->evict_message;
    e->evict_message = NULL;
    evict_locked(w, e, e->evict_reason, message ? message : "");
    free(message);
}

/* Keeps the cache within max_cached_workflows by evicting idle runs, least recent first. */
static void trim_cache_locked(tw_worker *w)
{
    size_t limit = w->opts.max_cached_workflows;
    size_t live = 0;
    for (run_entry *e = w->lru_head; e; e = e->next)
        if (!e->evicting)
            live++;
    for (run_entry *e = w->lru_tail; e && live > limit;) {
        run_entry *prev = e->prev;
        /* A run whose local activities still run (it heartbeated) is not idle. */
        if (!e->evicting && !e->task && e->outstanding == ACT_NONE && !e->fetching &&
            !(e->run && tw_run_local_activities_outstanding(e->run))) {
            live--;
            evict_locked(w, e, TW_EVICTION_CACHE_FULL, "the workflow cache is full");
        }
        e = prev;
    }
}

/* ---- finishing a workflow task ---- */

/* Makes the first queued task the entry's current one. */
static void unqueue_task(run_entry *e)
{
    queued_task *q = e->queued;
    e->queued = q->next;
    e->task = q->task;
    e->received_ms = q->received_ms;
    free(q);
}

static void task_done_locked(tw_worker *w, run_entry *e)
{
    free_commands(e);
    tw_run_output_clear(&e->queries);
    /*
     * Evictions first, while the entry still has its task: evict_locked then
     * keeps the entry. With caching off, a run that heartbeated keeps its
     * state while its local activities run: the next task continues it.
     */
    if (w->opts.max_cached_workflows == 0 && e->run && !e->evict_pending &&
        !tw_run_local_activities_outstanding(e->run))
        evict_locked(w, e, TW_EVICTION_CACHE_FULL, "workflow caching is disabled");
    run_pending_eviction_locked(w, e);
    e->responding = false;
    if (e->task) {
        temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(e->task, NULL);
        e->task = NULL;
        w->tasks_in_flight--;
    }
    if (!e->evicting && e->queued) {
        unqueue_task(e);
        start_task_locked(w, e);
    } else if (!e->run && !e->lang_knows && !e->evicting && !e->fetching && e->outstanding == ACT_NONE) {
        /* The language dropped the run while this task was being answered: nothing is left of it. */
        destroy_run_entry(w, e);
    }
    trim_cache_locked(w);
    poll_more_locked(w);
    maybe_finish_shutdown_locked(w);
}

static void finish_completion_call(run_entry *e, const tw_error *err)
{
    if (!e->done_cq)
        return;
    push_event(e->done_cq, tw_event_create(TW_EVENT_ACTIVATION_DONE, e->done_tag), err);
    e->done_cq = NULL;
}

typedef struct task_rpc {
    tw_worker *w;
    char *run_id;
    size_t eager_reserved;       /* activity slots held for eager tasks the answer may carry */
} task_rpc;

static task_rpc *task_rpc_new(tw_worker *w, const char *run_id)
{
    task_rpc *t = calloc(1, sizeof(*t));
    if (t && !(t->run_id = tw_strdup(run_id))) {
        free(t);
        return NULL;
    }
    if (t) {
        t->w = w;
        worker_ref(w);
    }
    return t;
}

static int start_rpc_locked(tw_worker *w, const char *method, ProtobufCMessage *req,
                            const ProtobufCMessageDescriptor *resp, int retry, tw_rpc_done_fn done, void *arg,
                            const void *owner)
{
    tw_rpc_request r = {.method = method, .message = req, .response_type = resp, .retry = retry,
                        .timeout_ms = retry == TW_RPC_LONG_POLL ? 70000 : 10000, .budget_ms = 30000,
                        .done = done, .arg = arg, .owner = owner};
    return tw_rpc_start(w->ch, &r);
}

/*
 * Gives the activity side the eager activity tasks of a workflow task's
 * answer (none when the call failed) and frees the slots reserved for them.
 */
static void eager_done_locked(tw_worker *w, size_t reserved,
                              Temporal__Api__Workflowservice__V1__RespondWorkflowTaskCompletedResponse *resp)
{
    size_t n = resp ? resp->n_activity_tasks : 0;
    if (!reserved && !n)
        return;
    bool went_idle = tw_act_eager_done(w->act, reserved, n ? resp->activity_tasks : NULL, n);
    if (resp)
        resp->n_activity_tasks = 0; /* taken (the array itself goes with the reply) */
    if (went_idle && w->act_busy) {
        /* That was all the activity side's shutdown waited for; its idle callback will not run. */
        w->act_busy = false;
        w->refs--; /* the reference on_activities_idle would have dropped (the caller holds another) */
    }
}

/* The server's INVALID_ARGUMENT "UnhandledCommand": the completion raced new events. */
static bool is_unhandled_command(const tw_error *err)
{
    return tw_error_grpc_status(err) == 3 /* INVALID_ARGUMENT */ && strstr(tw_error_message(err), "UnhandledCommand");
}

static void on_task_answered(tw_rpc_reply *reply, void *arg)
{
    task_rpc *t = arg;
    tw_worker *w = t->w;
    pthread_mutex_lock(&w->lock);
    if (t->eager_reserved || (!reply->error && reply->response &&
                              reply->response->descriptor == &WS(respond_workflow_task_completed_response__descriptor)))
        eager_done_locked(w, t->eager_reserved, reply->error ? NULL : (void *)reply->response);
    run_entry *e = find_run(w, t->run_id);
    if (e) {
        bool unhandled = reply->error && is_unhandled_command(reply->error);
        /* An unhandled command is not the language's failure: its completion call succeeds. */
        finish_completion_call(e, unhandled ? NULL : reply->error);
        if (unhandled) {
            /* Expected when a signal races the workflow's end: the next task replays with it (as sdk-core does). */
            tw_log(&w->log, TW_LOG_DEBUG, "run %s: the server has new events for the task being completed", e->run_id);
            evict_locked(w, e, TW_EVICTION_UNHANDLED_COMMAND, "new events arrived while the workflow task ran");
        } else if (reply->error) {
            tw_log(&w->log, TW_LOG_WARN, "answering the workflow task of run %s failed: %s", e->run_id,
                   reply->error->message);
            evict_locked(w, e, reply->error->code == TW_ENOTFOUND ? TW_EVICTION_TASK_NOT_FOUND : TW_EVICTION_FATAL,
                         reply->error->message);
        } else if (e->terminal) {
            evict_locked(w, e, TW_EVICTION_WORKFLOW_CLOSED, "the workflow run is closed");
        }
        task_done_locked(w, e);
    } else {
        maybe_finish_shutdown_locked(w);
    }
    free(t->run_id);
    free(t);
    tw_rpc_reply_clear(reply);
    worker_unref_locked(w);
}

/* Sends req (taken); eager_reserved: activity slots held for the eager tasks it asks for. */
static void send_or_fail(tw_worker *w, run_entry *e, const char *method, ProtobufCMessage *req,
                         const ProtobufCMessageDescriptor *resp, bool oom_building, size_t eager_reserved)
{
    task_rpc *t = oom_building ? NULL : task_rpc_new(w, e->run_id);
    if (t)
        t->eager_reserved = eager_reserved;
    int rc = t ? start_rpc_locked(w, method, req, resp, TW_RPC_RETRY, on_task_answered, t, NULL) : TW_ENOMEM;
    if (req)
        protobuf_c_message_free_unpacked(req, NULL);
    if (!rc)
        e->responding = true;
    if (rc) {
        eager_done_locked(w, eager_reserved, NULL);
        if (t) {
            free(t->run_id);
            free(t);
            w->refs--;
        }
        const tw_error *err = rc == TW_ENOMEM ? &oom : tw_error_last();
        finish_completion_call(e, err);
        evict_locked(w, e, TW_EVICTION_FATAL, tw_error_message(err));
        task_done_locked(w, e);
    }
}

static Temporal__Api__Taskqueue__V1__StickyExecutionAttributes *sticky_attributes(tw_worker *w, pb_build *b)
{
    if (w->opts.max_cached_workflows == 0)
        return NULL;
    Temporal__Api__Taskqueue__V1__StickyExecutionAttributes *s =
        pb_new(b, &temporal__api__taskqueue__v1__sticky_execution_attributes__descriptor);
    if (!s)
        return NULL;
    s->worker_task_queue = pb_new(b, &temporal__api__taskqueue__v1__task_queue__descriptor);
    if (s->worker_task_queue) {
        s->worker_task_queue->name = pb_str(b, w->sticky_queue);
        s->worker_task_queue->kind = TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_STICKY;
        s->worker_task_queue->normal_name = pb_str(b, w->task_queue);
    }
    s->schedule_to_start_timeout = pb_duration_ms(b, w->opts.sticky_schedule_to_start_timeout_ms);
    return s;
}

static void add_query_results(pb_build *b, Temporal__Api__Workflowservice__V1__RespondWorkflowTaskCompletedRequest *r,
                              const tw_run_output *q)
{
    if (!q->query_count)
        return;
    r->query_results = calloc(q->query_count, sizeof(*r->query_results));
    if (!r->query_results) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < q->query_count; i++) {
        Temporal__Api__Workflowservice__V1__RespondWorkflowTaskCompletedRequest__QueryResultsEntry *entry =
            pb_new(b, &WS(respond_workflow_task_completed_request__query_results_entry__descriptor));
        if (!entry)
            return;
        r->query_results[r->n_query_results++] = entry;
        entry->key = pb_str(b, q->query_ids[i]);
        entry->value = pb_new(b, &temporal__api__query__v1__workflow_query_result__descriptor);
        if (!entry->value)
            return;
        if (q->query_failures[i]) {
            entry->value->result_type = TEMPORAL__API__ENUMS__V1__QUERY_RESULT_TYPE__QUERY_RESULT_TYPE_FAILED;
            entry->value->error_message = pb_str(b, q->query_failures[i]);
        } else {
            entry->value->result_type = TEMPORAL__API__ENUMS__V1__QUERY_RESULT_TYPE__QUERY_RESULT_TYPE_ANSWERED;
            entry->value->answer = pb_payloads(b, q->query_results[i]);
        }
    }
}

/* sdk-core's limit: more would hold slots other tasks could use while the answer is awaited. */
#define MAX_EAGER_ACTIVITIES_PER_TASK 3

/*
 * Eager activities: the server may hand an activity this worker schedules on
 * its own task queue straight back in the answer to the workflow task,
 * sparing the dispatch through matching (the history service's transfer
 * queue, then a poll). The workflow asks for it (request_eager_execution,
 * unless the activity's options say no_eager_execution); it is kept only
 * when this worker runs activities with a free slot, which stays reserved
 * until the answer comes. Returns the number of slots reserved.
 */
static size_t request_eager_activities_locked(tw_worker *w, tw_pb_command **commands, size_t n)
{
    size_t reserved = 0;
    for (size_t i = 0; i < n; i++) {
        if (commands[i]->attributes_case != TEMPORAL__API__COMMAND__V1__COMMAND__ATTRIBUTES_SCHEDULE_ACTIVITY_TASK_COMMAND_ATTRIBUTES)
            continue;
        Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *a =
            commands[i]->schedule_activity_task_command_attributes;
        if (!a || !a->request_eager_execution)
            continue;
        /* No task queue: the workflow's, which is the one this worker polls. */
        bool own_queue = !a->task_queue || tw_str_empty(a->task_queue->name) ||
                         strcmp(a->task_queue->name, w->task_queue) == 0;
        a->request_eager_execution = !w->opts.no_eager_activities && own_queue &&
                                     reserved < MAX_EAGER_ACTIVITIES_PER_TASK && !w->shutting_down &&
                                     tw_act_eager_reserve(w->act);
        if (a->request_eager_execution)
            reserved++;
    }
    return reserved;
}

/* Answers the task with the accumulated commands; force_new: a heartbeat, the server makes a new task at once. */
static void respond_completed_locked(tw_worker *w, run_entry *e, bool force_new)
{
    pb_build b = {false};
    size_t eager = 0;
    Temporal__Api__Workflowservice__V1__RespondWorkflowTaskCompletedRequest *r =
        pb_new(&b, &WS(respond_workflow_task_completed_request__descriptor));
    if (r) {
        r->task_token = pb_bytes(&b, e->task->task_token.data, e->task->task_token.len);
        r->namespace_ = pb_str(&b, w->namespace_name);
        r->identity = pb_str(&b, w->identity);
        r->binary_checksum = pb_str(&b, w->build_id);
        r->sticky_attributes = sticky_attributes(w, &b);
        r->force_create_new_workflow_task = force_new;
        /* The request takes the accumulated commands. */
        r->commands = e->commands;
        r->n_commands = e->command_count;
        e->commands = NULL;
        e->command_count = 0;
        add_query_results(&b, r, &e->queries);
        if (!b.oom)
            eager = request_eager_activities_locked(w, r->commands, r->n_commands);
    }
    send_or_fail(w, e, "RespondWorkflowTaskCompleted", r ? &r->base : NULL,
                 &WS(respond_workflow_task_completed_response__descriptor), b.oom || !r, eager);
}

static bool is_legacy_query(const wf_task *t);
static void respond_legacy_query_locked(tw_worker *w, run_entry *e, const tw_run_output *out, const char *failure);

/* Fails the current workflow task (reported to the server on attempt 1 only) and evicts the run. */
static void fail_task_locked(tw_worker *w, run_entry *e, int cause, int eviction, const char *message,
                             const char *stack)
{
    tw_log(&w->log, TW_LOG_WARN, "workflow task of run %s failed: %s", e->run_id, message);
    free_commands(e);
    evict_locked(w, e, eviction, message);
    if (is_legacy_query(e->task)) {
        /* A query task is answered as a failed query, never as a failed workflow task. */
        tw_run_output none = {0};
        respond_legacy_query_locked(w, e, &none, message);
        return;
    }
    if (e->task->attempt > 1) {
        finish_completion_call(e, NULL);
        task_done_locked(w, e);
        return;
    }
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__RespondWorkflowTaskFailedRequest *r =
        pb_new(&b, &WS(respond_workflow_task_failed_request__descriptor));
    if (r) {
        r->task_token = pb_bytes(&b, e->task->task_token.data, e->task->task_token.len);
        r->namespace_ = pb_str(&b, w->namespace_name);
        r->identity = pb_str(&b, w->identity);
        r->binary_checksum = pb_str(&b, w->build_id);
        r->cause = cause;
        r->failure = pb_new(&b, &temporal__api__failure__v1__failure__descriptor);
        if (r->failure) {
            r->failure->message = pb_str(&b, message);
            r->failure->stack_trace = pb_str(&b, stack);
            r->failure->source = pb_str(&b, "libtemporal-workflow");
        }
    }
    send_or_fail(w, e, "RespondWorkflowTaskFailed", r ? &r->base : NULL,
                 &WS(respond_workflow_task_failed_response__descriptor), b.oom || !r, 0);
}

static void respond_legacy_query_locked(tw_worker *w, run_entry *e, const tw_run_output *out, const char *failure)
{
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__RespondQueryTaskCompletedRequest *r =
        pb_new(&b, &WS(respond_query_task_completed_request__descriptor));
    if (r) {
        r->task_token = pb_bytes(&b, e->task->task_token.data, e->task->task_token.len);
        r->namespace_ = pb_str(&b, w->namespace_name);
        const char *err = failure ? failure : out->query_count ? out->query_failures[0] : "the query got no answer";
        if (!failure && out->query_count && !out->query_failures[0]) {
            r->completed_type = TEMPORAL__API__ENUMS__V1__QUERY_RESULT_TYPE__QUERY_RESULT_TYPE_ANSWERED;
            r->query_result = pb_payloads(&b, out->query_results[0]);
        } else {
            r->completed_type = TEMPORAL__API__ENUMS__V1__QUERY_RESULT_TYPE__QUERY_RESULT_TYPE_FAILED;
            r->error_message = pb_str(&b, err);
        }
    }
    send_or_fail(w, e, "RespondQueryTaskCompleted", r ? &r->base : NULL,
                 &WS(respond_query_task_completed_response__descriptor), b.oom || !r, 0);
}

/* ---- making activations ---- */

static bool is_legacy_query(const wf_task *t)
{
    return t->query != NULL;
}

static void offer_queries_locked(tw_worker *w, run_entry *e)
{
    const wf_task *t = e->task;
    size_t n = is_legacy_query(t) ? 1 : t->n_queries;
    const char **ids = calloc(n ? n : 1, sizeof(char *));
    const Temporal__Api__Query__V1__WorkflowQuery **qs = calloc(n ? n : 1, sizeof(*qs));
    tw_activation *a = NULL;
    if (ids && qs) {
        for (size_t i = 0; i < n; i++) {
            ids[i] = is_legacy_query(t) ? "legacy_query" : t->queries[i]->key;
            qs[i] = is_legacy_query(t) ? t->query : t->queries[i]->value;
        }
        a = tw_activation_new_queries(e->run_id, n, ids, qs);
    }
    free(ids);
    free(qs);
    if (!a) {
        fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                         TW_EVICTION_FATAL, "out of memory making a query activation", NULL);
        return;
    }
    e->outstanding = is_legacy_query(t) ? ACT_LEGACY_QUERY : ACT_QUERIES;
    e->lang_knows = true;
    offer_locked(w, a);
}

/* ---- local activities ---- */

static int64_t la_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static Google__Protobuf__Timestamp *la_timestamp(pb_build *b, int64_t ns)
{
    Google__Protobuf__Timestamp *ts = pb_new(b, &google__protobuf__timestamp__descriptor);
    if (ts) {
        ts->seconds = ns / 1000000000;
        ts->nanos = (int32_t)(ns % 1000000000);
    }
    return ts;
}

/* Hands the run's new local activity requests to the activity side (and its cancels). */
static void start_local_activities_locked(tw_worker *w, run_entry *e)
{
    static uint64_t counter;
    tw_run_la_request *reqs = NULL;
    size_t n = 0;
    if (!e->run || tw_run_take_local_activity_requests(e->run, la_wall_ns(), &reqs, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].cancel) {
            tw_act_cancel_local(w->act, e->run_id, reqs[i].seq);
            continue;
        }
        Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *a =
            reqs[i].schedule->schedule_activity_task_command_attributes;
        pb_build b = {false};
        Temporal__Api__Workflowservice__V1__PollActivityTaskQueueResponse *t =
            pb_new(&b, &WS(poll_activity_task_queue_response__descriptor));
        if (t) {
            char token[300];
            int len = snprintf(token, sizeof(token), "tw-local/%s/%u/%llu", e->run_id, reqs[i].seq,
                               (unsigned long long)__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
            t->task_token = pb_bytes(&b, (const uint8_t *)token, (size_t)len);
            t->workflow_namespace = pb_str(&b, w->namespace_name);
            t->workflow_type = pb_new(&b, &temporal__api__common__v1__workflow_type__descriptor);
            if (t->workflow_type)
                t->workflow_type->name = pb_str(&b, tw_run_workflow_type(e->run));
            t->workflow_execution = pb_new(&b, &temporal__api__common__v1__workflow_execution__descriptor);
            if (t->workflow_execution) {
                const Temporal__Api__Common__V1__WorkflowExecution *we = e->task ? e->task->workflow_execution : NULL;
                t->workflow_execution->workflow_id = pb_str(&b, we && we->workflow_id ? we->workflow_id : "");
                t->workflow_execution->run_id = pb_str(&b, e->run_id);
            }
            t->activity_id = a->activity_id;
            a->activity_id = NULL;
            t->activity_type = a->activity_type;
            a->activity_type = NULL;
            t->header = a->header;
            a->header = NULL;
            t->input = a->input;
            a->input = NULL;
            t->schedule_to_close_timeout = a->schedule_to_close_timeout;
            a->schedule_to_close_timeout = NULL;
            t->start_to_close_timeout = a->start_to_close_timeout;
            a->start_to_close_timeout = NULL;
            t->retry_policy = a->retry_policy;
            a->retry_policy = NULL;
            int64_t now = la_wall_ns();
            t->scheduled_time = la_timestamp(&b, now);
            t->started_time = la_timestamp(&b, now);
            t->current_attempt_scheduled_time = la_timestamp(&b, now);
            t->attempt = 1;
        }
        const Google__Protobuf__Duration *s2s = a->schedule_to_start_timeout;
        int64_t s2s_ms = s2s ? s2s->seconds * 1000 + s2s->nanos / 1000000 : 0;
        protobuf_c_message_free_unpacked(&reqs[i].schedule->base, NULL);
        int rc = TW_ENOMEM;
        if (t && !b.oom)
            rc = tw_act_start_local(w->act, w, e->run_id, reqs[i].seq, t, s2s_ms, &reqs[i].params);
        else if (t)
            protobuf_c_message_free_unpacked(&t->base, NULL);
        if (rc) {
            Temporal__Api__Failure__V1__Failure f;
            temporal__api__failure__v1__failure__init(&f);
            f.message = (char *)(rc == TW_ENOMEM ? "out of memory" : tw_error_message(tw_error_last()));
            tw_run_resolve_local_activity(e->run, reqs[i].seq, TW_RESOLUTION_FAILED, NULL, &f,
                                          TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE, 1,
                                          la_wall_ns());
        }
    }
    free(reqs);
}

static void advance_locked(tw_worker *w, run_entry *e);

void tw_worker_local_resolved(tw_worker *w, const char *run_id, uint32_t seq, int resolution,
                              const tw_payloads *result, const Temporal__Api__Failure__V1__Failure *failure,
                              int retry_state, int32_t attempt)
{
    if (!w || !run_id)
        return;
    pthread_mutex_lock(&w->lock);
    run_entry *e = find_run(w, run_id);
    /* Also between tasks (after a heartbeat): the run keeps it for the next task. */
    if (e && e->run) {
        tw_run_resolve_local_activity(e->run, seq, resolution, result, failure, retry_state, attempt, la_wall_ns());
        if (e->task && e->outstanding == ACT_NONE && !e->fetching && !e->evicting)
            advance_locked(w, e);
    }
    pthread_mutex_unlock(&w->lock);
}

/* ---- workflow task heartbeats ---- */

/*
 * A live task waiting on local activities is answered before it times
 * out, as sdk-core does: at 80% of the workflow task timeout after the
 * task was received, the commands so far go out with
 * force_create_new_workflow_task (tw_run_heartbeat) and the server makes
 * a new task at once, which then waits on the local activities in turn.
 */
#define HEARTBEAT_PERCENT 80

typedef struct hb_timer {
    tw_worker *w;
    char *run_id;
    uint64_t task_gen;
} hb_timer;

static void on_heartbeat_due(tw_rpc_reply *reply, void *arg)
{
    hb_timer *t = arg;
    tw_worker *w = t->w;
    pthread_mutex_lock(&w->lock);
    run_entry *e = reply->error ? NULL : find_run(w, t->run_id);
    if (e && e->task && e->task_gen == t->task_gen) {
        e->hb_armed = false;
        e->hb_due = true;
        if (e->run && e->outstanding == ACT_NONE && !e->fetching && !e->evicting)
            advance_locked(w, e);
    }
    free(t->run_id);
    free(t);
    tw_rpc_reply_clear(reply);
    worker_unref_locked(w);
}

/* Starts the heartbeat timer of the entry's task (once per task). */
static void arm_heartbeat_locked(tw_worker *w, run_entry *e)
{
    if (e->hb_armed || e->hb_due)
        return;
    int64_t deadline = e->received_ms + tw_run_task_timeout_ms(e->run) * HEARTBEAT_PERCENT / 100;
    int64_t delay = deadline - tw_now_ms();
    hb_timer *t = calloc(1, sizeof(*t));
    if (t && !(t->run_id = tw_strdup(e->run_id))) {
        free(t);
        t = NULL;
    }
    if (!t) {
        tw_log(&w->log, TW_LOG_ERROR, "out of memory arming the workflow task heartbeat of run %s", e->run_id);
        return;
    }
    t->w = w;
    t->task_gen = e->task_gen;
    worker_ref(w);
    if (tw_rpc_timer_start(w->ch, delay > 0 ? delay : 0, on_heartbeat_due, t, w) != 0) {
        w->refs--;
        free(t->run_id);
        free(t);
        tw_log(&w->log, TW_LOG_ERROR, "could not arm the workflow task heartbeat of run %s: %s", e->run_id,
               tw_error_message(tw_error_last()));
        return;
    }
    e->hb_armed = true;
}

/* Answers the task with what the workflow produced so far; its local activities keep running. */
static void heartbeat_locked(tw_worker *w, run_entry *e)
{
    tw_run_output out;
    e->hb_due = false;
    if (tw_run_heartbeat(e->run, &out) != 0) {
        fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                         TW_EVICTION_FATAL, tw_error_message(tw_error_last()), NULL);
        return;
    }
    tw_log(&w->log, TW_LOG_DEBUG, "workflow task of run %s: heartbeat with %zu commands while local activities run",
           e->run_id, out.command_count);
    free_commands(e);
    e->commands = out.commands;
    e->command_count = out.command_count;
    e->terminal = out.terminal;
    out.commands = NULL;
    out.command_count = 0;
    tw_run_output_clear(&out);
    respond_completed_locked(w, e, true);
}

/* Moves the run on: the next activation of its history, its queries, or the answer to the server. */
static void advance_locked(tw_worker *w, run_entry *e)
{
    if (e->responding || !e->task)
        return;
    while (e->run) {
        /* Local activities to start: asked by the last completion, or left without a marker by a replay. */
        start_local_activities_locked(w, e);
        if (!tw_run_has_next_activation(e->run))
            break;
        tw_activation *a = NULL;
        bool live = false;
        tw_error *err = NULL;
        int rc = tw_run_next_activation(e->run, &a, &live, &err);
        if (rc) {
            const char *msg = err ? err->message : tw_error_message(tw_error_last());
            bool nondet = msg && strstr(msg, "non-deterministic");
            fail_task_locked(w, e,
                             nondet ? TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR
                                    : TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                             nondet ? TW_EVICTION_NONDETERMINISM : TW_EVICTION_FATAL, msg ? msg : "history error", NULL);
            tw_error_destroy(err);
            return;
        }
        if (!a)
            continue; /* a task with nothing for the workflow: the run went past it */
        e->outstanding = ACT_MAIN;
        e->lang_knows = true;
        offer_locked(w, a);
        return;
    }
    bool has_queries = is_legacy_query(e->task) || e->task->n_queries > 0;
    /* A legacy query needs no local activity: it is answered at once. */
    if (e->run && !is_legacy_query(e->task) && tw_run_local_activities_outstanding(e->run)) {
        /*
         * Queries the task carries are answered at once, and the answers
         * sent with a heartbeat then and there (as sdk-core forces a new
         * task when it answers queries with local activities pending):
         * they need not wait for the local activities.
         */
        if (has_queries && e->queries.query_count == 0) {
            offer_queries_locked(w, e);
            return;
        }
        if (has_queries || e->hb_due) {
            heartbeat_locked(w, e);
            return;
        }
        /* tw_worker_local_resolved moves it on, or the heartbeat timer. */
        arm_heartbeat_locked(w, e);
        return;
    }
    if (has_queries && e->queries.query_count == 0) {
        offer_queries_locked(w, e);
        return;
    }
    if (is_legacy_query(e->task)) {
        respond_legacy_query_locked(w, e, &e->queries, NULL);
        return;
    }
    respond_completed_locked(w, e, false);
}

/* ---- history pages ---- */

static void fetch_page_locked(tw_worker *w, run_entry *e, const ProtobufCBinaryData *token);

static void on_history_page(tw_rpc_reply *reply, void *arg)
{
    task_rpc *t = arg;
    tw_worker *w = t->w;
    pthread_mutex_lock(&w->lock);
    run_entry *e = find_run(w, t->run_id);
    if (e && e->task) {
        e->fetching = false;
        if (reply->error) {
            fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                             TW_EVICTION_FATAL, reply->error->message, NULL);
        } else {
            Temporal__Api__Workflowservice__V1__GetWorkflowExecutionHistoryResponse *resp = (void *)reply->response;
            Temporal__Api__History__V1__History *page = resp->history;
            resp->history = NULL;
            int rc = page ? tw_run_append(e->run, page) : 0;
            if (rc) {
                fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                                 TW_EVICTION_FATAL, tw_error_message(tw_error_last()), NULL);
            } else if (resp->next_page_token.len) {
                fetch_page_locked(w, e, &resp->next_page_token);
            } else {
                advance_locked(w, e);
            }
        }
    }
    free(t->run_id);
    free(t);
    tw_rpc_reply_clear(reply);
    worker_unref_locked(w);
}

static void fetch_page_locked(tw_worker *w, run_entry *e, const ProtobufCBinaryData *token)
{
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__GetWorkflowExecutionHistoryRequest *r =
        pb_new(&b, &WS(get_workflow_execution_history_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, w->namespace_name);
        r->execution = pb_execution(&b, e->task->workflow_execution->workflow_id, e->run_id);
        if (token)
            r->next_page_token = pb_bytes(&b, token->data, token->len);
    }
    task_rpc *t = b.oom || !r ? NULL : task_rpc_new(w, e->run_id);
    int rc = t ? start_rpc_locked(w, "GetWorkflowExecutionHistory", &r->base,
                                  &WS(get_workflow_execution_history_response__descriptor), TW_RPC_RETRY,
                                  on_history_page, t, NULL)
               : TW_ENOMEM;
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    if (rc) {
        if (t) {
            free(t->run_id);
            free(t);
            w->refs--;
        }
        fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                         TW_EVICTION_FATAL, "could not fetch history", NULL);
        return;
    }
    e->fetching = true;
}

/* ---- starting a task ---- */

static void start_task_locked(tw_worker *w, run_entry *e)
{
    wf_task *t = e->task;
    lru_touch(w, e);
    e->task_gen++;
    e->hb_armed = false;
    e->hb_due = false;
    Temporal__Api__History__V1__History *page = t->history;
    int64_t first = page && page->n_events ? page->events[0]->event_id : 0;
    int64_t have = e->run ? tw_run_last_event_id(e->run) : 0;
    bool continues = e->run && (first == 0 || first <= have + 1);
    if (!continues) {
        if (e->run || (e->lang_knows && first == 1)) {
            /* Cached state does not line up with this task: start over from event 1. */
            tw_run_free(e->run);
            e->run = NULL;
            if (e->lang_knows) {
                /* The language must drop its state first; the task waits in the queue. */
                queued_task *q = calloc(1, sizeof(*q));
                if (q) {
                    q->task = t;
                    q->received_ms = e->received_ms;
                    q->next = e->queued;
                    e->queued = q;
                    e->task = NULL;
                    /* tasks_in_flight still counts it: it is parked, not finished */
                }
                e->task = NULL;
                evict_locked(w, e, TW_EVICTION_FATAL, "cached history does not continue with the new task");
                return;
            }
        }
        if (tw_run_new(e->run_id, &e->run) != 0) {
            fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                             TW_EVICTION_FATAL, "out of memory", NULL);
            return;
        }
        if (first != 1) {
            /* A sticky task for a run we no longer hold: fetch the whole history. */
            if (t->history) {
                temporal__api__history__v1__history__free_unpacked(t->history, NULL);
                t->history = NULL;
            }
            fetch_page_locked(w, e, NULL);
            return;
        }
    }
    if (page) {
        t->history = NULL;
        if (tw_run_append(e->run, page) != 0) {
            fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                             TW_EVICTION_FATAL, tw_error_message(tw_error_last()), NULL);
            return;
        }
    }
    if (t->next_page_token.len) {
        fetch_page_locked(w, e, &t->next_page_token);
        return;
    }
    advance_locked(w, e);
}

static void accept_task_locked(tw_worker *w, wf_task *t)
{
    const char *run_id = t->workflow_execution ? t->workflow_execution->run_id : NULL;
    if (tw_str_empty(run_id)) {
        tw_log(&w->log, TW_LOG_ERROR, "dropping a workflow task without a run id");
        temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(t, NULL);
        return;
    }
    run_entry *e = find_run(w, run_id);
    if (!e && !(e = new_run_entry(w, run_id))) {
        tw_log(&w->log, TW_LOG_ERROR, "out of memory accepting a task for run %s", run_id);
        temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(t, NULL);
        return;
    }
    w->tasks_in_flight++;
    int64_t now = tw_now_ms();
    if (e->task || e->evicting || e->outstanding != ACT_NONE || e->fetching) {
        queued_task *q = calloc(1, sizeof(*q));
        if (!q) {
            w->tasks_in_flight--;
            temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(t, NULL);
            return;
        }
        q->task = t;
        q->received_ms = now;
        queued_task **tail = &e->queued;
        while (*tail)
            tail = &(*tail)->next;
        *tail = q;
        return;
    }
    e->task = t;
    e->received_ms = now;
    start_task_locked(w, e);
    trim_cache_locked(w);
}

/* ---- polling ---- */

typedef struct poll_rpc {
    tw_worker *w;
    bool sticky;
} poll_rpc;

static void start_poll_locked(tw_worker *w, bool sticky);

static void on_poll_backoff_done(tw_rpc_reply *reply, void *arg)
{
    tw_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    w->poll_backing_off = false;
    poll_more_locked(w);
    maybe_finish_shutdown_locked(w);
    tw_rpc_reply_clear(reply);
    worker_unref_locked(w);
}

/*
 * A poll failed with something the transport does not retry itself (the
 * namespace went away, permission denied...): wait 100 ms, doubling up to
 * 10 s, before polling again, so a broken server is not hammered.
 */
static void back_off_polls_locked(tw_worker *w)
{
    if (w->poll_failures < 16)
        w->poll_failures++;
    if (w->poll_backing_off)
        return;
    int64_t delay = 100;
    for (uint32_t i = 1; i < w->poll_failures && delay < 10000; i++)
        delay *= 2;
    worker_ref(w);
    if (tw_rpc_timer_start(w->ch, delay < 10000 ? delay : 10000, on_poll_backoff_done, w, w) != 0) {
        w->refs--;
        return;
    }
    w->poll_backing_off = true;
}

static void on_poll(tw_rpc_reply *reply, void *arg)
{
    poll_rpc *p = arg;
    tw_worker *w = p->w;
    pthread_mutex_lock(&w->lock);
    if (p->sticky)
        w->sticky_polls--;
    else
        w->normal_polls--;
    if (reply->error) {
        if (!w->shutting_down && reply->error->code != TW_ECANCELLED) {
            tw_log(&w->log, TW_LOG_WARN, "workflow task poll failed: %s", reply->error->message);
            back_off_polls_locked(w);
        }
    } else {
        w->poll_failures = 0;
        wf_task *t = (void *)reply->response;
        if (t->task_token.len) {
            reply->response = NULL; /* the worker keeps the task */
            accept_task_locked(w, t);
        }
    }
    poll_more_locked(w);
    maybe_finish_shutdown_locked(w);
    free(p);
    tw_rpc_reply_clear(reply);
    worker_unref_locked(w);
}

static void start_poll_locked(tw_worker *w, bool sticky)
{
    pb_build b = {false};
    Temporal__Api__Workflowservice__V1__PollWorkflowTaskQueueRequest *r =
        pb_new(&b, &WS(poll_workflow_task_queue_request__descriptor));
    if (r) {
        r->namespace_ = pb_str(&b, w->namespace_name);
        r->identity = pb_str(&b, w->identity);
        r->binary_checksum = pb_str(&b, w->build_id);
        r->task_queue = pb_new(&b, &temporal__api__taskqueue__v1__task_queue__descriptor);
        if (r->task_queue) {
            r->task_queue->name = pb_str(&b, sticky ? w->sticky_queue : w->task_queue);
            r->task_queue->kind = sticky ? TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_STICKY
                                         : TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL;
            if (sticky)
                r->task_queue->normal_name = pb_str(&b, w->task_queue);
        }
    }
    poll_rpc *p = b.oom || !r ? NULL : calloc(1, sizeof(*p));
    int rc = TW_ENOMEM;
    if (p) {
        p->w = w;
        p->sticky = sticky;
        worker_ref(w);
        rc = start_rpc_locked(w, "PollWorkflowTaskQueue", &r->base, &WS(poll_workflow_task_queue_response__descriptor),
                              TW_RPC_LONG_POLL, on_poll, p, w);
        if (rc) {
            w->refs--;
            free(p);
        }
    }
    if (r)
        protobuf_c_message_free_unpacked(&r->base, NULL);
    if (rc) {
        tw_log(&w->log, TW_LOG_ERROR, "could not start a workflow task poll: %s", tw_error_message(tw_error_last()));
        return;
    }
    if (sticky)
        w->sticky_polls++;
    else
        w->normal_polls++;
}

static void poll_more_locked(tw_worker *w)
{
    if (!w->started || w->shutting_down || w->poll_backing_off)
        return;
    uint32_t max_tasks = w->opts.max_concurrent_workflow_tasks;
    bool sticky_on = w->opts.max_cached_workflows > 0;
    for (;;) {
        if (w->tasks_in_flight + w->eager_reserved + w->normal_polls + w->sticky_polls >= max_tasks)
            return;
        if (w->normal_polls < w->opts.workflow_pollers) {
            uint32_t before = w->normal_polls;
            start_poll_locked(w, false);
            if (w->normal_polls == before)
                return;
        } else if (sticky_on && w->sticky_polls < w->opts.sticky_pollers) {
            uint32_t before = w->sticky_polls;
            start_poll_locked(w, true);
            if (w->sticky_polls == before)
                return;
        } else {
            return;
        }
    }
}

/* ---- eager workflow start (see lib/client/client.h) ---- */

static bool eager_reserve(eager_target *t)
{
    tw_worker *w = (tw_worker *)((char *)t - offsetof(tw_worker, eager));
    pthread_mutex_lock(&w->lock);
    /* Not polling yet is fine: the activation waits for the language's first poll. */
    bool ok = !w->shutting_down &&
              w->tasks_in_flight + w->eager_reserved + w->normal_polls + w->sticky_polls <
                  w->opts.max_concurrent_workflow_tasks;
    if (ok) {
        w->eager_reserved++;
        worker_ref(w);
    }
    pthread_mutex_unlock(&w->lock);
    return ok;
}

static void eager_deliver(eager_target *t, wf_task *task)
{
    tw_worker *w = (tw_worker *)((char *)t - offsetof(tw_worker, eager));
    pthread_mutex_lock(&w->lock);
    w->eager_reserved--;
    if (task && w->shutting_down) {
        /* The server times the task out and hands it to another poll. */
        tw_log(&w->log, TW_LOG_DEBUG, "dropping an eagerly started workflow task: the worker is shutting down");
        temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(task, NULL);
    } else if (task) {
        accept_task_locked(w, task);
    }
    poll_more_locked(w);
    maybe_finish_shutdown_locked(w);
    worker_unref_locked(w);
}

/* ---- shutdown ---- */

static void maybe_finish_shutdown_locked(tw_worker *w)
{
    if (!w->shutting_down || w->closed)
        return;
    if (w->normal_polls || w->sticky_polls || w->tasks_in_flight || w->eager_reserved || w->lru_head ||
        w->ready_head || w->act_busy)
        return;
    w->closed = true;
    while (w->wait_head) {
        waiter *wt = w->wait_head;
        w->wait_head = wt->next;
        tw_error *err = tw_error_create(TW_ECLOSED, 0, "the worker has shut down");
        complete_waiter(wt, NULL, err ? err : &oom);
        tw_error_destroy(err);
    }
    w->wait_tail = NULL;
    if (w->shutdown_cq) {
        push_event(w->shutdown_cq, tw_event_create(TW_EVENT_WORKER_SHUTDOWN, w->shutdown_tag), NULL);
        w->shutdown_cq = NULL;
    }
}

/* The activity side finished after shutdown began (activity.c calls this with no lock held). */
static void on_activities_idle(void *arg)
{
    tw_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    w->act_busy = false;
    maybe_finish_shutdown_locked(w);
    worker_unref_locked(w);
}

static void on_shutdown_worker_rpc(tw_rpc_reply *reply, void *arg)
{
    tw_worker *w = arg;
    tw_rpc_reply_clear(reply); /* best effort: older servers do not implement ShutdownWorker */
    pthread_mutex_lock(&w->lock);
    worker_unref_locked(w);
}

int tw_worker_shutdown(tw_worker *w, tw_cq *cq, uint64_t tag)
{
    if (!w || !cq)
        return tw_set_error(TW_EINVAL, "tw_worker_shutdown: w and cq must not be NULL");
    pthread_mutex_lock(&w->lock);
    if (w->shutting_down) {
        pthread_mutex_unlock(&w->lock);
        return tw_set_error(TW_EINVAL, "tw_worker_shutdown: shutdown was already requested");
    }
    w->shutting_down = true;
    w->shutdown_cq = cq;
    w->shutdown_tag = tag;
    tw_cq_expect(cq);
    tw_rpc_cancel_owner(w->ch, w);
    if (w->started) {
        pb_build b = {false};
        Temporal__Api__Workflowservice__V1__ShutdownWorkerRequest *r =
            pb_new(&b, &WS(shutdown_worker_request__descriptor));
        if (r && !b.oom) {
            r->namespace_ = pb_str(&b, w->namespace_name);
            r->sticky_task_queue = pb_str(&b, w->sticky_queue);
            r->identity = pb_str(&b, w->identity);
            r->reason = pb_str(&b, "graceful shutdown");
            r->task_queue = pb_str(&b, w->task_queue);
            worker_ref(w);
            if (b.oom || start_rpc_locked(w, "ShutdownWorker", &r->base, &WS(shutdown_worker_response__descriptor),
                                          TW_RPC_NO_RETRY, on_shutdown_worker_rpc, w, NULL) != 0)
                w->refs--;
        }
        if (r)
            protobuf_c_message_free_unpacked(&r->base, NULL);
    }
    for (run_entry *e = w->lru_head; e;) {
        run_entry *next = e->next;
        evict_locked(w, e, TW_EVICTION_SHUTDOWN, "the worker is shutting down");
        e = next;
    }
    if (tw_act_shutdown(w->act, on_activities_idle, w)) {
        w->act_busy = true;
        worker_ref(w);
    }
    maybe_finish_shutdown_locked(w);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* ---- public API ---- */

void tw_worker_options_init(tw_worker_options *o)
{
    if (o)
        *o = (tw_worker_options){.size = sizeof(*o), .max_concurrent_workflow_tasks = 100,
                                 .max_cached_workflows = 1000, .workflow_pollers = 2, .sticky_pollers = 2,
                                 .sticky_schedule_to_start_timeout_ms = 10000,
                                 .max_concurrent_activities = 100, .activity_pollers = 2,
                                 .max_concurrent_local_activities = 100,
                                 .max_heartbeat_throttle_interval_ms = 60000,
                                 .default_heartbeat_throttle_interval_ms = 30000};
}

int tw_worker_new(tw_client *client, const tw_worker_options *options, tw_worker **out)
{
    static const char fn[] = "tw_worker_new";
    if (!out)
        return tw_set_error(TW_EINVAL, "%s: out must not be NULL", fn);
    *out = NULL;
    if (!client || !options)
        return tw_set_error(TW_EINVAL, "%s: client and options must not be NULL", fn);
    if (options->size < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: options->size is %zu; call tw_worker_options_init first", fn,
                            options->size);
    tw_worker_options o;
    tw_worker_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    int rc;
    if ((rc = check_required(fn, "task_queue", o.task_queue)) || (rc = check_utf8(fn, "build_id", o.build_id)) ||
        (rc = check_utf8(fn, "identity", o.identity)))
        return rc;
    if (o.max_concurrent_workflow_tasks == 0)
        return tw_set_error(TW_EINVAL, "%s: max_concurrent_workflow_tasks must be at least 1", fn);
    if (o.workflow_pollers == 0)
        return tw_set_error(TW_EINVAL, "%s: workflow_pollers must be at least 1", fn);
    if (o.max_cached_workflows > 0 && o.sticky_pollers == 0)
        return tw_set_error(TW_EINVAL, "%s: sticky_pollers must be at least 1 when caching is on", fn);
    if (o.sticky_schedule_to_start_timeout_ms <= 0)
        return tw_set_error(TW_EINVAL, "%s: sticky_schedule_to_start_timeout_ms must be positive", fn);
    tw_worker *w = calloc(1, sizeof(*w));
    if (!w)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    pthread_mutex_init(&w->lock, NULL);
    w->refs = 1;
    w->client = client;
    w->ch = client->ch;
    w->log = client->rt->log;
    w->opts = o;
    w->namespace_name = tw_strdup(client->namespace_name);
    w->task_queue = tw_strdup(o.task_queue);
    w->identity = tw_strdup(tw_str_empty(o.identity) ? client->identity : o.identity);
    w->build_id = tw_strdup_or_empty(o.build_id);
    char uuid[37], hex[33];
    tw_uuid4(uuid);
    size_t k = 0;
    for (const char *p = uuid; *p && k < 32; p++)
        if (*p != '-')
            hex[k++] = *p;
    hex[k] = '\0';
    w->sticky_queue = w->identity ? tw_sprintf("%s-%s", w->identity, hex) : NULL;
    if (!w->namespace_name || !w->task_queue || !w->identity || !w->build_id || !w->sticky_queue) {
        worker_destroy(w);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    if ((rc = tw_act_new(fn, client, &o, w->identity, &w->act))) {
        worker_destroy(w);
        return rc;
    }
    worker_ref(w); /* the activity side's, see tw_act_release_worker */
    if (!o.no_workflows && client->eager) {
        w->eager = (eager_target){.namespace_name = w->namespace_name, .task_queue = w->task_queue,
                                  .reserve = eager_reserve, .deliver = eager_deliver};
        w->eager_reg = eager_registry_ref(client->eager);
        eager_registry_add(w->eager_reg, &w->eager);
    }
    *out = w;
    return 0;
}

static void worker_destroy(tw_worker *w)
{
    eager_registry_unref(w->eager_reg);
    tw_act_free(w->act);
    while (w->lru_head)
        destroy_run_entry(w, w->lru_head);
    while (w->ready_head) {
        ready_act *r = w->ready_head;
        w->ready_head = r->next;
        tw_activation_free(r->activation);
        free(r);
    }
    while (w->wait_head) {
        waiter *wt = w->wait_head;
        w->wait_head = wt->next;
        complete_waiter(wt, NULL, &(tw_error){TW_ECANCELLED, 0, "the worker was freed", NULL, NULL, NULL, 0});
    }
    if (w->shutdown_cq)
        push_event(w->shutdown_cq, tw_event_create(TW_EVENT_WORKER_SHUTDOWN, w->shutdown_tag),
                   &(tw_error){TW_ECANCELLED, 0, "the worker was freed", NULL, NULL, NULL, 0});
    free(w->namespace_name);
    free(w->task_queue);
    free(w->sticky_queue);
    free(w->identity);
    free(w->build_id);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void tw_worker_free(tw_worker *w)
{
    if (!w)
        return;
    if (w->eager_reg)
        eager_registry_remove(w->eager_reg, &w->eager); /* before the worker's lock: see lib/client/eager.c */
    pthread_mutex_lock(&w->lock);
    w->shutting_down = true;
    tw_rpc_cancel_owner(w->ch, w);
    if (tw_act_abandon(w->act) && w->act_busy) {
        w->act_busy = false;
        w->refs--; /* the reference on_activities_idle would have dropped */
    }
    if (tw_act_release_worker(w->act))
        w->refs--; /* the activity side's: it calls us no more */
    worker_unref_locked(w);
}

void tw_worker_act_unref(tw_worker *w)
{
    pthread_mutex_lock(&w->lock);
    worker_unref_locked(w);
}

tw_act *tw_worker_act(const tw_worker *w)
{
    return w->act;
}

const char *tw_worker_sticky_queue(const tw_worker *w)
{
    return w ? w->sticky_queue : "";
}

int tw_worker_poll_activation(tw_worker *w, tw_cq *cq, uint64_t tag)
{
    if (!w || !cq)
        return tw_set_error(TW_EINVAL, "tw_worker_poll_activation: w and cq must not be NULL");
    if (w->opts.no_workflows)
        return tw_set_error(TW_EINVAL, "tw_worker_poll_activation: the worker was made with no_workflows set");
    waiter *wt = calloc(1, sizeof(*wt));
    if (!wt)
        return tw_set_error(TW_ENOMEM, "tw_worker_poll_activation: out of memory");
    wt->cq = cq;
    wt->tag = tag;
    tw_cq_expect(cq);
    pthread_mutex_lock(&w->lock);
    if (w->closed) {
        tw_error *err = tw_error_create(TW_ECLOSED, 0, "the worker has shut down");
        complete_waiter(wt, NULL, err ? err : &oom);
        tw_error_destroy(err);
        pthread_mutex_unlock(&w->lock);
        return 0;
    }
    if (w->wait_tail)
        w->wait_tail->next = wt;
    else
        w->wait_head = wt;
    w->wait_tail = wt;
    if (!w->started) {
        w->started = true;
        poll_more_locked(w);
    }
    dispatch_locked(w);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

/* Completion of a TW_JOB_REMOVE_FROM_CACHE activation: the language dropped the run. */
static void complete_eviction_locked(tw_worker *w, run_entry *e)
{
    e->outstanding = ACT_NONE;
    e->evicting = false;
    e->lang_knows = false;
    tw_run_free(e->run);
    e->run = NULL;
    if (e->task && !e->responding) {
        /*
         * Evicted while its task waited on local activities: nothing is
         * left to answer that task with. It is dropped (the server times it
         * out and makes another, which replays the run).
         */
        tw_log(&w->log, TW_LOG_DEBUG, "run %s: dropping the workflow task it was evicted in", e->run_id);
        temporal__api__workflowservice__v1__poll_workflow_task_queue_response__free_unpacked(e->task, NULL);
        e->task = NULL;
        w->tasks_in_flight--;
    }
    if (e->task) {
        /*
         * The run's current task is still being answered (its failure, or
         * the commands, went to the server): it must not run again. Once
         * the server replies, task_done_locked starts the next queued task
         * or drops the entry.
         */
    } else if (e->queued) {
        unqueue_task(e);
        /* a parked task was counted when it was accepted */
        start_task_locked(w, e);
    } else {
        destroy_run_entry(w, e);
    }
    poll_more_locked(w);
    maybe_finish_shutdown_locked(w);
}

int tw_worker_complete_activation(tw_worker *w, tw_completion *c, tw_cq *cq, uint64_t tag)
{
    static const char fn[] = "tw_worker_complete_activation";
    if (!w || !c || !cq) {
        tw_completion_free(c);
        return tw_set_error(TW_EINVAL, "%s: w, c and cq must not be NULL", fn);
    }
    pthread_mutex_lock(&w->lock);
    run_entry *e = find_run(w, tw_completion_run_id(c));
    if (!e || e->outstanding == ACT_NONE) {
        pthread_mutex_unlock(&w->lock);
        int rc = tw_set_error(TW_EINVAL, "%s: run %s has no outstanding activation", fn, tw_completion_run_id(c));
        tw_completion_free(c);
        return rc;
    }
    tw_cq_expect(cq);
    act_kind kind = e->outstanding;
    tw_event *done = NULL;
    if (kind == ACT_EVICTION) {
        tw_completion_free(c);
        done = tw_event_create(TW_EVENT_ACTIVATION_DONE, tag);
        complete_eviction_locked(w, e);
        push_event(cq, done, NULL);
        pthread_mutex_unlock(&w->lock);
        return 0;
    }
    e->outstanding = ACT_NONE;
    tw_run_output out = {0};
    tw_error *err = NULL;
    int rc = 0;
    if (kind == ACT_QUERIES || kind == ACT_LEGACY_QUERY)
        rc = tw_completion_take_output(c, &out);
    else
        rc = tw_run_complete(e->run, c, &out, &err);
    bool last_step = false;
    if (rc == 0 && out.task_failure) {
        e->done_cq = cq;
        e->done_tag = tag;
        fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                         TW_EVICTION_WORKFLOW_TASK_FAILED, out.task_failure, out.task_failure_stack);
        tw_run_output_clear(&out);
        pthread_mutex_unlock(&w->lock);
        return 0;
    }
    if (rc) {
        const char *msg = err ? err->message : tw_error_message(tw_error_last());
        bool nondet = rc == TW_EPROTO && msg && strstr(msg, "non-deterministic");
        e->done_cq = cq;
        e->done_tag = tag;
        if (nondet)
            fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR,
                             TW_EVICTION_NONDETERMINISM, msg, NULL);
        else
            fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                             TW_EVICTION_FATAL, msg, NULL);
        tw_error_destroy(err);
        tw_run_output_clear(&out);
        pthread_mutex_unlock(&w->lock);
        return 0;
    }
    if (kind == ACT_QUERIES || kind == ACT_LEGACY_QUERY) {
        tw_run_output_clear(&e->queries);
        e->queries = out;
        memset(&out, 0, sizeof(out));
    } else if (out.command_count) {
        tw_pb_command **all = realloc(e->commands, (e->command_count + out.command_count) * sizeof(*all));
        if (!all) {
            tw_run_output_clear(&out);
            e->done_cq = cq;
            e->done_tag = tag;
            fail_task_locked(w, e, TEMPORAL__API__ENUMS__V1__WORKFLOW_TASK_FAILED_CAUSE__WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE,
                             TW_EVICTION_FATAL, "out of memory", NULL);
            pthread_mutex_unlock(&w->lock);
            return 0;
        }
        memcpy(all + e->command_count, out.commands, out.command_count * sizeof(*all));
        e->commands = all;
        e->command_count += out.command_count;
        e->terminal = e->terminal || out.terminal;
        free(out.commands);
        out.commands = NULL;
        out.command_count = 0;
    }
    tw_run_output_clear(&out);
    if (kind == ACT_MAIN)
        start_local_activities_locked(w, e);
    last_step = !(e->run && tw_run_has_next_activation(e->run)) &&
                !(e->run && tw_run_local_activities_outstanding(e->run)) &&
                (kind == ACT_QUERIES || kind == ACT_LEGACY_QUERY ||
                 !(is_legacy_query(e->task) || e->task->n_queries > 0));
    if (last_step) {
        /* The answer to the server completes this call. */
        e->done_cq = cq;
        e->done_tag = tag;
    } else {
        push_event(cq, tw_event_create(TW_EVENT_ACTIVATION_DONE, tag), NULL);
    }
    advance_locked(w, e);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

tw_activation *tw_event_take_activation(tw_event *ev)
{
    if (!ev)
        return NULL;
    tw_activation *a = ev->activation;
    ev->activation = NULL;
    return a;
}
