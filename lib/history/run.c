/*
 * The per-run engine (history.h has the model). A run keeps every history
 * page it was given and walks the events once, from `pos` on:
 *
 *  - next_activation walks up to the next boundary, turning events into
 *    jobs and matching command events against the pending commands;
 *  - complete queues a completion's commands as pending; when the
 *    workflow task is over (no immediate resolution left to deliver), a
 *    live task hands them to the worker and a replayed one matches them at
 *    once against the command events that follow its WorkflowTaskCompleted.
 *
 * Timers, activities, child workflows, signals and cancellation requests of
 * other workflows are tracked by seq in small tables (one record per command
 * issued, newest last, so a seq reused after its resolution gets a new
 * record and late events still find the old one by event id).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "history/internal.h"

typedef Temporal__Api__History__V1__History pb_history;
typedef Temporal__Api__Failure__V1__Failure pb_failure;
typedef Temporal__Api__Common__V1__Payloads pb_payload_list;

#define EV(name) TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_##name
#define CMD(name) TEMPORAL__API__ENUMS__V1__COMMAND_TYPE__COMMAND_TYPE_##name
#define EV_ATTR(name) TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_##name##_EVENT_ATTRIBUTES

enum timer_state { TIMER_UNSENT, TIMER_STARTED, TIMER_DONE };

typedef struct timer_rec {
    uint32_t seq;
    int state;
    int64_t started_event_id;
} timer_rec;

enum activity_state { ACT_UNSENT, ACT_SCHEDULED, ACT_CANCEL_REQUESTED, ACT_RESOLVED };

typedef struct activity_rec {
    uint32_t seq;
    int state;
    int cancellation_type;
    int64_t scheduled_event_id;
    char *activity_id;
    char *activity_type;
} activity_rec;

/*
 * LA_WAITING: scheduled while replaying, its marker not reached yet (it
 * may be recorded in a later workflow task); at the live task it becomes
 * LA_REQUESTED and runs after all.
 */
enum la_state { LA_REQUESTED, LA_RUNNING, LA_WAITING, LA_RESOLVED };

/* A local activity: run by the worker, recorded as a core_local_activity marker. */
typedef struct la_rec {
    uint32_t seq;
    int state;
    bool marker_expected;         /* its marker event is still to be matched */
    char *activity_id;
    char *activity_type;
    tw_pb_command *request;       /* LA_REQUESTED, LA_WAITING: the schedule command, until the worker takes it */
    int64_t scheduled_ns;         /* the marker's original_schedule_time: the schedule's own (a retry), else
                                     the wall time the worker took it */
    int32_t attempt;              /* its first attempt: 1, or later for the retry after a backoff */
    int64_t retry_threshold_ms;   /* the worker resolves longer backoffs with TW_RESOLUTION_BACKOFF; -1: never */
    Temporal__Api__Common__V1__RetryPolicy *retry_policy; /* a copy (NULL: defaults), to compute that backoff */
    Temporal__Api__Sdk__V1__UserMetadata *user_metadata;  /* a copy of the schedule's (NULL: none), for its marker */
} la_rec;

/* A local activity resolution waiting to be delivered. */
typedef struct la_ready {
    uint32_t seq;
    int resolution;
    int32_t attempt;              /* BACKOFF: of the next attempt */
    tw_payloads *result;
    tw_failure *failure;
    int64_t backoff_ms;           /* BACKOFF */
    int64_t original_schedule_ns; /* BACKOFF */
} la_ready;

enum child_state { CHILD_UNSENT, CHILD_INITIATED, CHILD_STARTED, CHILD_DONE };

/* A child workflow; CHILD_DONE once the workflow got its last resolution for it. */
typedef struct child_rec {
    uint32_t seq;
    int state;
    int cancellation_type;        /* tw_child_cancellation_type */
    bool cancel_sent;             /* its cancellation request was issued (WAIT_* types then wait) */
    int64_t initiated_event_id;
    int64_t started_event_id;
    int64_t cancel_event_id;      /* its RequestCancelExternalWorkflowExecutionInitiated */
    char *namespace_;
    char *workflow_id;
    char *workflow_type;
    char *run_id;                 /* once started */
} child_rec;

enum ext_state { EXT_UNSENT, EXT_INITIATED, EXT_DONE };

/* A signal to another workflow, or a cancellation request of another workflow. */
typedef struct ext_rec {
    uint32_t seq;
    int state;
    int64_t initiated_event_id;
} ext_rec;

/* A resolution of a child, signal or cancellation request that needs no history event. */
typedef struct ready_job {
    int kind;                     /* TW_JOB_RESOLVE_CHILD_START, _CHILD, _SIGNAL_EXTERNAL */
    uint32_t seq;
    int resolution;
    tw_failure *failure;
} ready_job;

/* A command not yet matched with its history event. */
typedef struct pending {
    tw_pb_command *pb;            /* owned until handed to the worker (live) or matched (replay) */
    int type;
    uint32_t seq;
    char *id;                     /* timer id, activity id, (target) workflow id or patch id */
    char *name;                   /* activity type, child workflow type or signal name */
    int64_t scheduled_event_id;   /* RequestCancelActivityTask */
    bool child;                   /* RequestCancelExternalWorkflowExecution of child seq */
    bool patch;                   /* RecordMarker of patch id */
    bool deprecated;              /* patch */
} pending;

struct tw_run {
    char *run_id;
    char *task_queue;
    char *workflow_type;

    pb_history **pages;
    size_t page_count, page_cap;
    tw_pb_event **events;         /* events[i] has id i + 1 */
    size_t event_count, event_cap;
    size_t pos;                   /* next event to process */

    pending *pend;
    size_t pend_count, pend_cap;
    timer_rec *timers;
    size_t timer_count, timer_cap;
    activity_rec *acts;
    size_t act_count, act_cap;
    size_t *immediate;            /* activities (indexes) resolved as cancelled, not delivered yet */
    size_t imm_count, imm_cap;
    la_rec *las;
    size_t la_count, la_cap;
    la_ready *la_done;            /* local activity resolutions not delivered yet */
    size_t la_done_count, la_done_cap;
    uint32_t *la_cancels;         /* running local activities the worker must cancel */
    size_t la_cancel_count, la_cancel_cap;
    tw_pb_command **markers;      /* marker commands of the live task, not handed out yet */
    size_t marker_count, marker_cap;
    child_rec *children;
    size_t child_count, child_cap;
    ext_rec *signals;
    size_t sig_count, sig_cap;
    ext_rec *cancels;             /* cancellation requests of other workflows */
    size_t ext_count, ext_cap;
    ready_job *ready;             /* immediate resolutions of children and signals, not delivered yet */
    size_t ready_count, ready_cap;
    char **patches;               /* patch ids whose marker command was made */
    size_t patch_count, patch_cap;

    bool between_tasks;           /* the live task was answered: only new history makes the next activation */
    int64_t task_timeout_ms;      /* the started event's workflow_task_timeout (0: unset) */
    bool awaiting;                /* an activation was made and awaits its completion */
    bool broken;                  /* an error left the run unusable */
    bool wft_live;                /* the current workflow task */
    int64_t wft_time;
    int64_t wft_started_id;
    int64_t live_started_id;      /* started event of the last live task completed here */
};

/* Grows *items (of elem bytes) to hold one more; false when out of memory. */
static bool grow(void **items, size_t *cap, size_t count, size_t elem)
{
    if (count < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 8;
    void *p = realloc(*items, n * elem);
    if (!p)
        return false;
    *items = p;
    *cap = n;
    return true;
}

#define GROW(arr, count, cap) grow((void **)&(arr), &(cap), (count), sizeof(*(arr)))

/* ---- names for messages ---- */

/* "EVENT_TYPE_TIMER_STARTED" with prefix "EVENT_TYPE_" -> "TimerStarted". */
static void camel_name(const ProtobufCEnumDescriptor *desc, const char *prefix, int value, char *buf, size_t size)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);
    if (!v) {
        snprintf(buf, size, "%s%d", prefix, value);
        return;
    }
    const char *s = v->name;
    size_t plen = strlen(prefix);
    if (strncmp(s, prefix, plen) == 0)
        s += plen;
    size_t n = 0;
    bool upper = true;
    for (; *s && n + 1 < size; s++) {
        if (*s == '_') {
            upper = true;
            continue;
        }
        buf[n++] = upper ? *s : (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
        upper = false;
    }
    buf[n] = '\0';
}

static void event_type_name(int type, char *buf, size_t size)
{
    camel_name(&temporal__api__enums__v1__event_type__descriptor, "EVENT_TYPE_", type, buf, size);
}

static void command_type_name(int type, char *buf, size_t size)
{
    camel_name(&temporal__api__enums__v1__command_type__descriptor, "COMMAND_TYPE_", type, buf, size);
}

static const char *str(const char *s)
{
    return s ? s : "";
}

static const char *activity_type_name(const Temporal__Api__Common__V1__ActivityType *t)
{
    return t ? str(t->name) : "";
}

static bool patch_marker_of(const tw_pb_event *ev, char **id, bool *deprecated);
static bool is_patch_marker(const tw_pb_event *ev);

static const char *execution_workflow_id(const Temporal__Api__Common__V1__WorkflowExecution *e)
{
    return e ? str(e->workflow_id) : "";
}

/* What history has at ev, e.g. `TimerStarted (timer_id "1")`. */
static void describe_event(const tw_pb_event *ev, char *buf, size_t size)
{
    char name[96];
    event_type_name((int)ev->event_type, name, sizeof(name));
    char *patch_id;
    bool deprecated;
    if (patch_marker_of(ev, &patch_id, &deprecated)) {
        snprintf(buf, size, "%s (" TW_PATCH_MARKER " \"%.100s\"%s)", name, patch_id, deprecated ? ", deprecated" : "");
        free(patch_id);
        return;
    }
    switch (ev->attributes_case) {
    case EV_ATTR(TIMER_STARTED):
        snprintf(buf, size, "%s (timer_id \"%.100s\")", name, str(ev->timer_started_event_attributes->timer_id));
        break;
    case EV_ATTR(TIMER_CANCELED):
        snprintf(buf, size, "%s (timer_id \"%.100s\")", name, str(ev->timer_canceled_event_attributes->timer_id));
        break;
    case EV_ATTR(ACTIVITY_TASK_SCHEDULED): {
        const Temporal__Api__History__V1__ActivityTaskScheduledEventAttributes *a =
            ev->activity_task_scheduled_event_attributes;
        snprintf(buf, size, "%s (activity_id \"%.100s\", type \"%.100s\")", name, str(a->activity_id),
                 activity_type_name(a->activity_type));
        break;
    }
    case EV_ATTR(ACTIVITY_TASK_CANCEL_REQUESTED):
        snprintf(buf, size, "%s (scheduled_event_id %" PRId64 ")", name,
                 ev->activity_task_cancel_requested_event_attributes->scheduled_event_id);
        break;
    case EV_ATTR(START_CHILD_WORKFLOW_EXECUTION_INITIATED): {
        const Temporal__Api__History__V1__StartChildWorkflowExecutionInitiatedEventAttributes *a =
            ev->start_child_workflow_execution_initiated_event_attributes;
        snprintf(buf, size, "%s (workflow_id \"%.100s\", type \"%.100s\")", name, str(a->workflow_id),
                 a->workflow_type ? str(a->workflow_type->name) : "");
        break;
    }
    case EV_ATTR(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED): {
        const Temporal__Api__History__V1__SignalExternalWorkflowExecutionInitiatedEventAttributes *a =
            ev->signal_external_workflow_execution_initiated_event_attributes;
        snprintf(buf, size, "%s (workflow_id \"%.100s\", signal \"%.100s\")", name,
                 execution_workflow_id(a->workflow_execution), str(a->signal_name));
        break;
    }
    case EV_ATTR(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED):
        snprintf(buf, size, "%s (workflow_id \"%.100s\")", name,
                 execution_workflow_id(
                     ev->request_cancel_external_workflow_execution_initiated_event_attributes->workflow_execution));
        break;
    default:
        snprintf(buf, size, "%s", name);
    }
}

/* What the workflow produced, e.g. `StartTimer (timer_id "1")`. */
static void describe_pending(const pending *p, char *buf, size_t size)
{
    char name[96];
    command_type_name(p->type, name, sizeof(name));
    switch (p->type) {
    case CMD(START_TIMER):
    case CMD(CANCEL_TIMER):
        snprintf(buf, size, "%s (timer_id \"%.100s\")", name, str(p->id));
        break;
    case CMD(SCHEDULE_ACTIVITY_TASK):
        snprintf(buf, size, "%s (activity_id \"%.100s\", type \"%.100s\")", name, str(p->id), str(p->name));
        break;
    case CMD(REQUEST_CANCEL_ACTIVITY_TASK):
        snprintf(buf, size, "%s (scheduled_event_id %" PRId64 ")", name, p->scheduled_event_id);
        break;
    case CMD(START_CHILD_WORKFLOW_EXECUTION):
        snprintf(buf, size, "%s (workflow_id \"%.100s\", type \"%.100s\")", name, str(p->id), str(p->name));
        break;
    case CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION):
        snprintf(buf, size, "%s (workflow_id \"%.100s\", signal \"%.100s\")", name, str(p->id), str(p->name));
        break;
    case CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION):
        snprintf(buf, size, "%s (workflow_id \"%.100s\")", name, str(p->id));
        break;
    case CMD(RECORD_MARKER):
        if (p->patch) {
            snprintf(buf, size, "%s (" TW_PATCH_MARKER " \"%.100s\"%s)", name, str(p->id),
                     p->deprecated ? ", deprecated" : "");
            break;
        }
        snprintf(buf, size, "%s", name);
        break;
    default:
        snprintf(buf, size, "%s", name);
    }
}

/* ---- errors ---- */

static int fail(tw_error **err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets *err (and the thread's last error) to a new error of code. */
static int fail(tw_error **err, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err && !*err)
        *err = tw_error_create(code, 0, "%s", msg);
    return tw_set_error(code, "%s", msg);
}

static int no_memory(void)
{
    return tw_set_error(TW_ENOMEM, "out of memory");
}

/* ---- lifetime ---- */

int tw_run_new(const char *run_id, tw_run **out)
{
    if (!out)
        return tw_set_error(TW_EINVAL, "tw_run_new: out is NULL");
    *out = NULL;
    if (tw_str_empty(run_id))
        return tw_set_error(TW_EINVAL, "tw_run_new: run_id is %s", run_id ? "empty" : "NULL");
    tw_run *run = calloc(1, sizeof(*run));
    if (!run)
        return no_memory();
    run->run_id = tw_strdup(run_id);
    run->task_queue = tw_strdup("");
    run->workflow_type = tw_strdup("");
    if (!run->run_id || !run->task_queue || !run->workflow_type) {
        tw_run_free(run);
        return no_memory();
    }
    *out = run;
    return 0;
}

static void pending_clear(pending *p)
{
    if (p->pb)
        protobuf_c_message_free_unpacked(&p->pb->base, NULL);
    free(p->id);
    free(p->name);
}

static void pending_remove(tw_run *run, size_t i)
{
    pending_clear(&run->pend[i]);
    memmove(&run->pend[i], &run->pend[i + 1], (run->pend_count - i - 1) * sizeof(*run->pend));
    run->pend_count--;
}

static void pending_drop_all(tw_run *run)
{
    while (run->pend_count)
        pending_remove(run, run->pend_count - 1);
}

void tw_run_free(tw_run *run)
{
    if (!run)
        return;
    for (size_t i = 0; i < run->page_count; i++)
        protobuf_c_message_free_unpacked(&run->pages[i]->base, NULL);
    free(run->pages);
    free(run->events);
    pending_drop_all(run);
    free(run->pend);
    free(run->timers);
    for (size_t i = 0; i < run->act_count; i++) {
        free(run->acts[i].activity_id);
        free(run->acts[i].activity_type);
    }
    free(run->acts);
    free(run->immediate);
    for (size_t i = 0; i < run->la_count; i++) {
        free(run->las[i].activity_id);
        free(run->las[i].activity_type);
        if (run->las[i].request)
            protobuf_c_message_free_unpacked(&run->las[i].request->base, NULL);
        if (run->las[i].retry_policy)
            protobuf_c_message_free_unpacked(&run->las[i].retry_policy->base, NULL);
        if (run->las[i].user_metadata)
            protobuf_c_message_free_unpacked(&run->las[i].user_metadata->base, NULL);
    }
    free(run->las);
    for (size_t i = 0; i < run->la_done_count; i++) {
        tw_payloads_free(run->la_done[i].result);
        tw_failure_destroy(run->la_done[i].failure);
    }
    free(run->la_done);
    free(run->la_cancels);
    for (size_t i = 0; i < run->marker_count; i++)
        protobuf_c_message_free_unpacked(&run->markers[i]->base, NULL);
    free(run->markers);
    for (size_t i = 0; i < run->child_count; i++) {
        child_rec *ch = &run->children[i];
        free(ch->namespace_);
        free(ch->workflow_id);
        free(ch->workflow_type);
        free(ch->run_id);
    }
    free(run->children);
    free(run->signals);
    free(run->cancels);
    for (size_t i = 0; i < run->ready_count; i++)
        tw_failure_destroy(run->ready[i].failure);
    free(run->ready);
    for (size_t i = 0; i < run->patch_count; i++)
        free(run->patches[i]);
    free(run->patches);
    free(run->run_id);
    free(run->task_queue);
    free(run->workflow_type);
    free(run);
}

const char *tw_run_id(const tw_run *run)
{
    return run ? run->run_id : "";
}

int64_t tw_run_last_event_id(const tw_run *run)
{
    return run ? (int64_t)run->event_count : 0;
}

const char *tw_run_task_queue(const tw_run *run)
{
    return run ? run->task_queue : "";
}

const char *tw_run_workflow_type(const tw_run *run)
{
    return run ? run->workflow_type : "";
}

/* ---- appending history ---- */

static int64_t duration_ms(const Google__Protobuf__Duration *d);

static int note_started(tw_run *run, const tw_pb_event *ev)
{
    if (ev->attributes_case != EV_ATTR(WORKFLOW_EXECUTION_STARTED))
        return 0;
    const Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *a =
        ev->workflow_execution_started_event_attributes;
    char *queue = tw_strdup(a->task_queue ? str(a->task_queue->name) : "");
    char *type = tw_strdup(a->workflow_type ? str(a->workflow_type->name) : "");
    if (!queue || !type) {
        free(queue);
        free(type);
        return no_memory();
    }
    free(run->task_queue);
    free(run->workflow_type);
    run->task_queue = queue;
    run->workflow_type = type;
    run->task_timeout_ms = duration_ms(a->workflow_task_timeout);
    return 0;
}

/* Checks that page continues the history: returns the number of new events, or an error. */
static int check_page(const tw_run *run, const pb_history *page, size_t *fresh)
{
    int64_t last = (int64_t)run->event_count;
    int64_t next = last + 1;
    *fresh = 0;
    for (size_t i = 0; i < page->n_events; i++) {
        const tw_pb_event *ev = page->events[i];
        if (!ev)
            return tw_set_error(TW_EPROTO, "tw_run_append: page event %zu is missing", i);
        if (ev->event_id <= last)
            continue;
        if (ev->event_id != next) {
            if (last == 0 && *fresh == 0)
                return tw_set_error(TW_EPROTO, "history does not start at event 1: page starts at %" PRId64,
                                    ev->event_id);
            if (*fresh == 0)
                return tw_set_error(TW_EPROTO, "history gap: have events up to %" PRId64 ", page starts at %" PRId64,
                                    last, ev->event_id);
            return tw_set_error(TW_EPROTO, "history gap: event %" PRId64 " follows event %" PRId64 " in a page",
                                ev->event_id, next - 1);
        }
        next++;
        (*fresh)++;
    }
    return 0;
}

int tw_run_append(tw_run *run, pb_history *page)
{
    if (!run || !page) {
        if (page)
            protobuf_c_message_free_unpacked(&page->base, NULL);
        return tw_set_error(TW_EINVAL, "tw_run_append: %s is NULL", run ? "page" : "run");
    }
    size_t fresh;
    int rc = check_page(run, page, &fresh);
    if (rc || !fresh) {
        protobuf_c_message_free_unpacked(&page->base, NULL);
        return rc;
    }
    if (!GROW(run->pages, run->page_count, run->page_cap)) {
        protobuf_c_message_free_unpacked(&page->base, NULL);
        return no_memory();
    }
    while (run->event_cap < run->event_count + fresh) {
        if (!grow((void **)&run->events, &run->event_cap, run->event_cap, sizeof(*run->events))) {
            protobuf_c_message_free_unpacked(&page->base, NULL);
            return no_memory();
        }
    }
    run->pages[run->page_count++] = page;
    for (size_t i = 0; i < page->n_events; i++) {
        tw_pb_event *ev = page->events[i];
        if (ev->event_id <= (int64_t)run->event_count)
            continue;
        run->events[run->event_count++] = ev;
        if ((rc = note_started(run, ev)))
            return rc;
    }
    return 0;
}

/* ---- boundaries ---- */

/* Index of the next boundary at or after from, or -1; *live when it is the last event. */
static long find_boundary(const tw_run *run, size_t from, bool *live)
{
    for (size_t i = from; i < run->event_count; i++) {
        if (run->events[i]->event_type != EV(WORKFLOW_TASK_STARTED))
            continue;
        if (i + 1 == run->event_count) {
            *live = true;
            return (long)i;
        }
        if (run->events[i + 1]->event_type == EV(WORKFLOW_TASK_COMPLETED)) {
            *live = false;
            return (long)i;
        }
    }
    return -1;
}

bool tw_run_has_next_activation(const tw_run *run)
{
    if (!run || run->broken || run->awaiting)
        return false;
    bool live;
    if (find_boundary(run, run->pos, &live) >= 0)
        return true;
    /* Between tasks, resolutions wait for the next task's activation. */
    return !run->between_tasks && (run->imm_count > 0 || run->la_done_count > 0 || run->ready_count > 0);
}

int64_t tw_run_task_timeout_ms(const tw_run *run)
{
    return run && run->task_timeout_ms > 0 ? run->task_timeout_ms : 10000;
}

/* ---- seq tables ---- */

static timer_rec *timer_by_seq(tw_run *run, uint32_t seq)
{
    for (size_t i = run->timer_count; i > 0; i--) {
        if (run->timers[i - 1].seq == seq)
            return &run->timers[i - 1];
    }
    return NULL;
}

static timer_rec *timer_by_event(tw_run *run, int64_t started_event_id)
{
    for (size_t i = 0; i < run->timer_count; i++) {
        if (run->timers[i].started_event_id == started_event_id)
            return &run->timers[i];
    }
    return NULL;
}

static activity_rec *activity_by_seq(tw_run *run, uint32_t seq)
{
    for (size_t i = run->act_count; i > 0; i--) {
        if (run->acts[i - 1].seq == seq)
            return &run->acts[i - 1];
    }
    return NULL;
}

static activity_rec *activity_by_event(tw_run *run, int64_t scheduled_event_id)
{
    for (size_t i = 0; i < run->act_count; i++) {
        if (run->acts[i].scheduled_event_id == scheduled_event_id)
            return &run->acts[i];
    }
    return NULL;
}

static child_rec *child_by_seq(tw_run *run, uint32_t seq)
{
    for (size_t i = run->child_count; i > 0; i--) {
        if (run->children[i - 1].seq == seq)
            return &run->children[i - 1];
    }
    return NULL;
}

static child_rec *child_by_initiated(tw_run *run, int64_t initiated_event_id)
{
    for (size_t i = 0; initiated_event_id > 0 && i < run->child_count; i++) {
        if (run->children[i].initiated_event_id == initiated_event_id)
            return &run->children[i];
    }
    return NULL;
}

/* The child whose cancellation request was recorded at event id. */
static child_rec *child_by_cancel_event(tw_run *run, int64_t id)
{
    for (size_t i = 0; id > 0 && i < run->child_count; i++) {
        if (run->children[i].cancel_event_id == id)
            return &run->children[i];
    }
    return NULL;
}

static ext_rec *ext_by_seq(ext_rec *recs, size_t count, uint32_t seq)
{
    for (size_t i = count; i > 0; i--) {
        if (recs[i - 1].seq == seq)
            return &recs[i - 1];
    }
    return NULL;
}

static ext_rec *ext_by_initiated(ext_rec *recs, size_t count, int64_t initiated_event_id)
{
    for (size_t i = 0; initiated_event_id > 0 && i < count; i++) {
        if (recs[i].initiated_event_id == initiated_event_id)
            return &recs[i];
    }
    return NULL;
}

/* ---- failures wrapped like the server and sdk-core present them ---- */

static tw_failure *activity_failure(const activity_rec *act, const char *message, const char *identity,
                                    int retry_state, int64_t scheduled_event_id, int64_t started_event_id,
                                    const pb_failure *cause)
{
    Temporal__Api__Common__V1__ActivityType type;
    temporal__api__common__v1__activity_type__init(&type);
    type.name = act->activity_type;
    Temporal__Api__Failure__V1__ActivityFailureInfo info;
    temporal__api__failure__v1__activity_failure_info__init(&info);
    info.scheduled_event_id = scheduled_event_id;
    info.started_event_id = started_event_id;
    info.identity = (char *)str(identity);
    info.activity_type = &type;
    info.activity_id = act->activity_id;
    info.retry_state = (Temporal__Api__Enums__V1__RetryState)retry_state;
    pb_failure f;
    temporal__api__failure__v1__failure__init(&f);
    f.message = (char *)message;
    f.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_ACTIVITY_FAILURE_INFO;
    f.activity_failure_info = &info;
    f.cause = (pb_failure *)cause;
    return tw_failure_from_pb(&f);
}

/* The activity failure of a cancellation: cause is a canceled failure with details. */
static tw_failure *activity_cancel_failure(const activity_rec *act, const char *identity, int64_t scheduled_event_id,
                                           int64_t started_event_id, pb_payload_list *details)
{
    Temporal__Api__Failure__V1__CanceledFailureInfo info;
    temporal__api__failure__v1__canceled_failure_info__init(&info);
    info.details = details;
    pb_failure cause;
    temporal__api__failure__v1__failure__init(&cause);
    cause.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO;
    cause.canceled_failure_info = &info;
    return activity_failure(act, "Activity cancelled", identity,
                            TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_CANCEL_REQUESTED, scheduled_event_id,
                            started_event_id, &cause);
}

/*
 * The failure of child ch as sdk-core reports it: a child-workflow failure
 * naming the child, whose cause says what happened.
 */
static tw_failure *child_failure(const child_rec *ch, const char *message, int retry_state, const pb_failure *cause)
{
    Temporal__Api__Common__V1__WorkflowType type;
    temporal__api__common__v1__workflow_type__init(&type);
    type.name = (char *)str(ch->workflow_type);
    Temporal__Api__Common__V1__WorkflowExecution execution;
    temporal__api__common__v1__workflow_execution__init(&execution);
    execution.workflow_id = (char *)str(ch->workflow_id);
    execution.run_id = (char *)str(ch->run_id);
    Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo info;
    temporal__api__failure__v1__child_workflow_execution_failure_info__init(&info);
    info.namespace_ = (char *)str(ch->namespace_);
    info.workflow_execution = &execution;
    info.workflow_type = &type;
    info.initiated_event_id = ch->initiated_event_id;
    info.started_event_id = ch->started_event_id;
    info.retry_state = (Temporal__Api__Enums__V1__RetryState)retry_state;
    pb_failure f;
    temporal__api__failure__v1__failure__init(&f);
    f.message = (char *)message;
    f.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CHILD_WORKFLOW_EXECUTION_FAILURE_INFO;
    f.child_workflow_execution_failure_info = &info;
    f.cause = (pb_failure *)cause;
    return tw_failure_from_pb(&f);
}

/* The child-workflow failure of a cancelled child: its cause is a canceled failure (with details). */
static tw_failure *child_cancel_failure(const child_rec *ch, const char *message, pb_payload_list *details)
{
    Temporal__Api__Failure__V1__CanceledFailureInfo info;
    temporal__api__failure__v1__canceled_failure_info__init(&info);
    info.details = details;
    pb_failure cause;
    temporal__api__failure__v1__failure__init(&cause);
    cause.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO;
    cause.canceled_failure_info = &info;
    return child_failure(ch, message, TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE,
                         &cause);
}

/* A canceled failure (type NULL) or a non-retryable application failure of type. */
static tw_failure *simple_failure(const char *message, const char *type)
{
    Temporal__Api__Failure__V1__CanceledFailureInfo canceled;
    temporal__api__failure__v1__canceled_failure_info__init(&canceled);
    Temporal__Api__Failure__V1__ApplicationFailureInfo app;
    temporal__api__failure__v1__application_failure_info__init(&app);
    pb_failure f;
    temporal__api__failure__v1__failure__init(&f);
    f.message = (char *)message;
    if (type) {
        app.type = (char *)type;
        app.non_retryable = true;
        f.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO;
        f.application_failure_info = &app;
    } else {
        f.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO;
        f.canceled_failure_info = &canceled;
    }
    return tw_failure_from_pb(&f);
}

/* ---- events -> jobs ---- */

static int64_t duration_ms(const Google__Protobuf__Duration *d)
{
    return d ? d->seconds * 1000 + d->nanos / 1000000 : 0;
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static tw_payloads *payloads_of(const pb_payload_list *p)
{
    return tw_payloads_from_pb(p ? p->n_payloads : 0, p ? p->payloads : NULL);
}

static tw_payloads *header_of(const Temporal__Api__Common__V1__Header *h)
{
    return tw_payloads_from_pb_map(h ? h->n_fields : 0, h ? (void *const *)h->fields : NULL);
}

static int job_started(tw_run *run, const tw_pb_event *ev, tw_activation *a)
{
    const Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *s =
        ev->workflow_execution_started_event_attributes;
    tw_job *j = tw_activation_add_job(a, TW_JOB_INITIALIZE);
    if (!j)
        return no_memory();
    const Temporal__Api__Common__V1__WorkflowExecution *parent = s->parent_workflow_execution;
    const Temporal__Api__Common__V1__Memo *memo = s->memo;
    const Temporal__Api__Common__V1__SearchAttributes *sa = s->search_attributes;
    j->name = tw_strdup(s->workflow_type ? str(s->workflow_type->name) : "");
    j->args = payloads_of(s->input);
    j->headers = header_of(s->header);
    j->workflow_id = tw_strdup_or_empty(s->workflow_id);
    j->task_queue = tw_strdup(s->task_queue ? str(s->task_queue->name) : "");
    j->attempt = s->attempt;
    j->first_execution_run_id = tw_strdup_or_empty(s->first_execution_run_id);
    j->continued_from_run_id = tw_strdup_or_empty(s->continued_execution_run_id);
    j->parent_namespace = tw_strdup_or_empty(s->parent_workflow_namespace);
    j->parent_workflow_id = tw_strdup(parent ? str(parent->workflow_id) : "");
    j->parent_run_id = tw_strdup(parent ? str(parent->run_id) : "");
    j->cron_schedule = tw_strdup_or_empty(s->cron_schedule);
    j->execution_timeout_ms = duration_ms(s->workflow_execution_timeout);
    j->run_timeout_ms = duration_ms(s->workflow_run_timeout);
    j->task_timeout_ms = duration_ms(s->workflow_task_timeout);
    j->start_time = tw_timestamp_to_ns(ev->event_time);
    j->memo = tw_payloads_from_pb_map(memo ? memo->n_fields : 0, memo ? (void *const *)memo->fields : NULL);
    j->search_attributes =
        tw_payloads_from_pb_map(sa ? sa->n_indexed_fields : 0, sa ? (void *const *)sa->indexed_fields : NULL);
    j->random_seed = fnv1a64(tw_str_empty(s->original_execution_run_id) ? run->run_id : s->original_execution_run_id);
    if (!j->name || !j->args || !j->headers || !j->workflow_id || !j->task_queue || !j->first_execution_run_id ||
        !j->continued_from_run_id || !j->parent_namespace || !j->parent_workflow_id || !j->parent_run_id ||
        !j->cron_schedule || !j->memo || !j->search_attributes)
        return no_memory();
    if (s->last_completion_result && !(j->last_completion_result = payloads_of(s->last_completion_result)))
        return no_memory();
    if (s->continued_failure && !(j->continued_failure = tw_failure_from_pb(s->continued_failure)))
        return no_memory();
    if (s->retry_policy && !(j->retry_policy = (Temporal__Api__Common__V1__RetryPolicy *)tw_pb_copy(
                                 &s->retry_policy->base)))
        return no_memory();
    if (s->priority && !(j->priority = (Temporal__Api__Common__V1__Priority *)tw_pb_copy(&s->priority->base)))
        return no_memory();
    return 0;
}

static int job_signal(const tw_pb_event *ev, tw_activation *a)
{
    const Temporal__Api__History__V1__WorkflowExecutionSignaledEventAttributes *s =
        ev->workflow_execution_signaled_event_attributes;
    tw_job *j = tw_activation_add_job(a, TW_JOB_SIGNAL);
    if (!j)
        return no_memory();
    j->name = tw_strdup_or_empty(s->signal_name);
    j->args = payloads_of(s->input);
    j->headers = header_of(s->header);
    return j->name && j->args && j->headers ? 0 : no_memory();
}

static int job_cancel_workflow(const tw_pb_event *ev, tw_activation *a)
{
    tw_job *j = tw_activation_add_job(a, TW_JOB_CANCEL_WORKFLOW);
    if (!j || !(j->name = tw_strdup_or_empty(ev->workflow_execution_cancel_requested_event_attributes->cause)))
        return no_memory();
    return 0;
}

static int job_timer_fired(tw_run *run, const tw_pb_event *ev, tw_activation *a, tw_error **err)
{
    const Temporal__Api__History__V1__TimerFiredEventAttributes *f = ev->timer_fired_event_attributes;
    timer_rec *t = timer_by_event(run, f->started_event_id);
    if (!t)
        return fail(err, TW_EPROTO,
                    "history event %" PRId64 " (TimerFired, timer_id \"%.100s\") fires a timer this run did not "
                    "start (started_event_id %" PRId64 ")",
                    ev->event_id, str(f->timer_id), f->started_event_id);
    if (t->state == TIMER_DONE)
        return 0;
    t->state = TIMER_DONE;
    tw_job *j = tw_activation_add_job(a, TW_JOB_FIRE_TIMER);
    if (!j)
        return no_memory();
    j->seq = t->seq;
    return 0;
}

/* The activity an event resolves, or NULL with an error; *skip when it was resolved already. */
static activity_rec *resolved_activity(tw_run *run, const tw_pb_event *ev, int64_t scheduled_event_id, bool *skip,
                                       tw_error **err)
{
    activity_rec *act = activity_by_event(run, scheduled_event_id);
    *skip = false;
    if (!act) {
        char name[96];
        event_type_name((int)ev->event_type, name, sizeof(name));
        fail(err, TW_EPROTO,
             "history event %" PRId64 " (%s) resolves the activity scheduled at event %" PRId64
             ", which this run did not schedule",
             ev->event_id, name, scheduled_event_id);
        return NULL;
    }
    /* Late news of an activity already resolved (cancelled at once, or abandoned) is ignored. */
    *skip = act->state == ACT_RESOLVED;
    act->state = ACT_RESOLVED;
    return act;
}

static int job_activity(tw_run *run, const tw_pb_event *ev, tw_activation *a, tw_error **err)
{
    int64_t scheduled;
    switch (ev->attributes_case) {
    case EV_ATTR(ACTIVITY_TASK_COMPLETED):
        scheduled = ev->activity_task_completed_event_attributes->scheduled_event_id;
        break;
    case EV_ATTR(ACTIVITY_TASK_FAILED):
        scheduled = ev->activity_task_failed_event_attributes->scheduled_event_id;
        break;
    case EV_ATTR(ACTIVITY_TASK_TIMED_OUT):
        scheduled = ev->activity_task_timed_out_event_attributes->scheduled_event_id;
        break;
    default:
        scheduled = ev->activity_task_canceled_event_attributes->scheduled_event_id;
    }
    bool skip;
    activity_rec *act = resolved_activity(run, ev, scheduled, &skip, err);
    if (!act)
        return TW_EPROTO;
    if (skip)
        return 0;
    tw_job *j = tw_activation_add_job(a, TW_JOB_RESOLVE_ACTIVITY);
    if (!j)
        return no_memory();
    j->seq = act->seq;
    switch (ev->attributes_case) {
    case EV_ATTR(ACTIVITY_TASK_COMPLETED):
        j->resolution = TW_RESOLUTION_COMPLETED;
        j->result = payloads_of(ev->activity_task_completed_event_attributes->result);
        return j->result ? 0 : no_memory();
    case EV_ATTR(ACTIVITY_TASK_FAILED): {
        const Temporal__Api__History__V1__ActivityTaskFailedEventAttributes *f =
            ev->activity_task_failed_event_attributes;
        j->resolution = TW_RESOLUTION_FAILED;
        j->failure = activity_failure(act, "Activity task failed", f->identity, (int)f->retry_state,
                                      f->scheduled_event_id, f->started_event_id, f->failure);
        break;
    }
    case EV_ATTR(ACTIVITY_TASK_TIMED_OUT): {
        const Temporal__Api__History__V1__ActivityTaskTimedOutEventAttributes *t =
            ev->activity_task_timed_out_event_attributes;
        j->resolution = TW_RESOLUTION_FAILED;
        j->failure = activity_failure(act, "Activity task timed out", "", (int)t->retry_state,
                                      t->scheduled_event_id, t->started_event_id, t->failure);
        break;
    }
    default: {
        const Temporal__Api__History__V1__ActivityTaskCanceledEventAttributes *c =
            ev->activity_task_canceled_event_attributes;
        j->resolution = TW_RESOLUTION_CANCELLED;
        j->failure = activity_cancel_failure(act, c->identity, c->scheduled_event_id, c->started_event_id,
                                             c->details);
    }
    }
    return j->failure ? 0 : no_memory();
}

/* ---- child workflows and other workflows: events -> jobs ---- */

static tw_job *add_resolution(tw_activation *a, int kind, uint32_t seq, int resolution)
{
    tw_job *j = tw_activation_add_job(a, kind);
    if (j) {
        j->seq = seq;
        j->resolution = resolution;
    }
    return j;
}

static int64_t child_event_initiated_id(const tw_pb_event *ev)
{
    switch (ev->attributes_case) {
    case EV_ATTR(START_CHILD_WORKFLOW_EXECUTION_FAILED):
        return ev->start_child_workflow_execution_failed_event_attributes->initiated_event_id;
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_STARTED):
        return ev->child_workflow_execution_started_event_attributes->initiated_event_id;
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_COMPLETED):
        return ev->child_workflow_execution_completed_event_attributes->initiated_event_id;
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_FAILED):
        return ev->child_workflow_execution_failed_event_attributes->initiated_event_id;
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_CANCELED):
        return ev->child_workflow_execution_canceled_event_attributes->initiated_event_id;
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_TIMED_OUT):
        return ev->child_workflow_execution_timed_out_event_attributes->initiated_event_id;
    default:
        return ev->child_workflow_execution_terminated_event_attributes->initiated_event_id;
    }
}

static tw_failure *child_start_failure(const child_rec *ch, int cause)
{
    char cause_name[96], message[512];
    camel_name(&temporal__api__enums__v1__start_child_workflow_execution_failed_cause__descriptor,
               "START_CHILD_WORKFLOW_EXECUTION_FAILED_CAUSE_", cause, cause_name, sizeof(cause_name));
    const char *why = cause == TW_START_FAILED_WORKFLOW_ALREADY_EXISTS ? "a workflow with this id already exists"
                      : cause == TW_START_FAILED_NAMESPACE_NOT_FOUND ? "its namespace was not found"
                                                                     : NULL;
    if (why)
        snprintf(message, sizeof(message), "Child workflow \"%.150s\" (type \"%.150s\") could not start: %s",
                 str(ch->workflow_id), str(ch->workflow_type), why);
    else
        snprintf(message, sizeof(message), "Child workflow \"%.150s\" (type \"%.150s\") could not start (%s)",
                 str(ch->workflow_id), str(ch->workflow_type), cause_name);
    return simple_failure(message, cause_name);
}

/* Timeout or termination: the cause sdk-core puts under the child-workflow failure. */
static tw_failure *child_closed_failure(const child_rec *ch, bool timed_out, int retry_state)
{
    Temporal__Api__Failure__V1__TimeoutFailureInfo timeout;
    temporal__api__failure__v1__timeout_failure_info__init(&timeout);
    timeout.timeout_type = TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_START_TO_CLOSE;
    Temporal__Api__Failure__V1__TerminatedFailureInfo terminated;
    temporal__api__failure__v1__terminated_failure_info__init(&terminated);
    pb_failure cause;
    temporal__api__failure__v1__failure__init(&cause);
    if (timed_out) {
        cause.message = (char *)"Timed out";
        cause.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TIMEOUT_FAILURE_INFO;
        cause.timeout_failure_info = &timeout;
        return child_failure(ch, "Child Workflow execution timed out", retry_state, &cause);
    }
    cause.message = (char *)"Terminated";
    cause.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TERMINATED_FAILURE_INFO;
    cause.terminated_failure_info = &terminated;
    return child_failure(ch, "Child Workflow execution terminated",
                         TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE, &cause);
}

static int child_started(child_rec *ch, const tw_pb_event *ev, tw_job *j)
{
    const Temporal__Api__History__V1__ChildWorkflowExecutionStartedEventAttributes *s =
        ev->child_workflow_execution_started_event_attributes;
    const char *given = s->workflow_execution ? str(s->workflow_execution->run_id) : "";
    char *run_id = tw_strdup(given);
    j->child_run_id = tw_strdup(given);
    if (!run_id || !j->child_run_id) {
        free(run_id);
        return no_memory();
    }
    free(ch->run_id);
    ch->run_id = run_id;
    ch->started_event_id = ev->event_id;
    ch->state = CHILD_STARTED;
    return 0;
}

static int job_child(tw_run *run, const tw_pb_event *ev, tw_activation *a, tw_error **err)
{
    int64_t initiated = child_event_initiated_id(ev);
    child_rec *ch = child_by_initiated(run, initiated);
    if (!ch) {
        char name[96];
        event_type_name((int)ev->event_type, name, sizeof(name));
        return fail(err, TW_EPROTO,
                    "history event %" PRId64 " (%s) is about the child workflow initiated at event %" PRId64
                    ", which this run did not start",
                    ev->event_id, name, initiated);
    }
    /* Late news of a child already resolved (cancelled at once, or abandoned) is ignored. */
    if (ch->state == CHILD_DONE)
        return 0;
    bool start = ev->event_type == EV(START_CHILD_WORKFLOW_EXECUTION_FAILED) ||
                 ev->event_type == EV(CHILD_WORKFLOW_EXECUTION_STARTED);
    int resolution = ev->event_type == EV(CHILD_WORKFLOW_EXECUTION_STARTED) ||
                             ev->event_type == EV(CHILD_WORKFLOW_EXECUTION_COMPLETED)
                         ? TW_RESOLUTION_COMPLETED
                     : ev->event_type == EV(CHILD_WORKFLOW_EXECUTION_CANCELED) ? TW_RESOLUTION_CANCELLED
                                                                               : TW_RESOLUTION_FAILED;
    tw_job *j = add_resolution(a, start ? TW_JOB_RESOLVE_CHILD_START : TW_JOB_RESOLVE_CHILD, ch->seq, resolution);
    if (!j)
        return no_memory();
    if (ev->event_type == EV(CHILD_WORKFLOW_EXECUTION_STARTED))
        return child_started(ch, ev, j);
    ch->state = CHILD_DONE;
    switch (ev->attributes_case) {
    case EV_ATTR(START_CHILD_WORKFLOW_EXECUTION_FAILED): {
        const Temporal__Api__History__V1__StartChildWorkflowExecutionFailedEventAttributes *f =
            ev->start_child_workflow_execution_failed_event_attributes;
        j->start_failed_cause = (int)f->cause;
        j->workflow_id = tw_strdup(ch->workflow_id);
        j->name = tw_strdup(ch->workflow_type);
        j->failure = child_start_failure(ch, (int)f->cause);
        return j->workflow_id && j->name && j->failure ? 0 : no_memory();
    }
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_COMPLETED):
        j->result = payloads_of(ev->child_workflow_execution_completed_event_attributes->result);
        return j->result ? 0 : no_memory();
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_FAILED): {
        const Temporal__Api__History__V1__ChildWorkflowExecutionFailedEventAttributes *f =
            ev->child_workflow_execution_failed_event_attributes;
        j->failure = child_failure(ch, "Child Workflow execution failed", (int)f->retry_state, f->failure);
        break;
    }
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_CANCELED):
        j->failure = child_cancel_failure(ch, "Child Workflow execution cancelled",
                                          ev->child_workflow_execution_canceled_event_attributes->details);
        break;
    case EV_ATTR(CHILD_WORKFLOW_EXECUTION_TIMED_OUT):
        j->failure = child_closed_failure(ch, true,
                                          (int)ev->child_workflow_execution_timed_out_event_attributes->retry_state);
        break;
    default:
        j->failure = child_closed_failure(ch, false, 0);
    }
    return j->failure ? 0 : no_memory();
}

/* Why the server could not signal or cancel another workflow, in words. */
static const char *external_failure_reason(int cause, bool signal)
{
    /*
     * Both cause enums number "workflow not found" 1 and "namespace not
     * found" 2; the signal one adds SIGNAL_COUNT_LIMIT_EXCEEDED 3.
     */
    if (cause == 1 || cause == 2)
        return "the workflow was not found";
    if (signal && cause == 3)
        return "the workflow's signal limit was exceeded";
    return "the server gave no cause";
}

static tw_failure *external_failure(bool signal, int cause, const char *workflow_id)
{
    char cause_name[96], message[512];
    if (signal)
        camel_name(&temporal__api__enums__v1__signal_external_workflow_execution_failed_cause__descriptor,
                   "SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_", cause, cause_name, sizeof(cause_name));
    else
        camel_name(&temporal__api__enums__v1__cancel_external_workflow_execution_failed_cause__descriptor,
                   "CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_", cause, cause_name, sizeof(cause_name));
    snprintf(message, sizeof(message), "Could not %s external workflow \"%.200s\": %s",
             signal ? "signal" : "request cancellation of", workflow_id, external_failure_reason(cause, signal));
    return simple_failure(message, cause_name);
}

/* A cancellation request that a child's cancellation made was recorded, or failed. */
static int child_cancel_request_outcome(child_rec *ch, const tw_pb_event *ev, tw_activation *a)
{
    /* A failed request is of no consequence: the child resolves by its own events. */
    if (ev->event_type != EV(EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED) || ch->state == CHILD_DONE ||
        ch->cancellation_type != TW_CHILD_CANCEL_WAIT_REQUESTED)
        return 0;
    int kind = ch->state == CHILD_STARTED ? TW_JOB_RESOLVE_CHILD : TW_JOB_RESOLVE_CHILD_START;
    ch->state = CHILD_DONE;
    tw_job *j = add_resolution(a, kind, ch->seq, TW_RESOLUTION_CANCELLED);
    if (!j || !(j->failure = child_cancel_failure(ch, "Child Workflow execution cancelled", NULL)))
        return no_memory();
    return 0;
}

static int job_external(tw_run *run, const tw_pb_event *ev, tw_activation *a, tw_error **err)
{
    bool signal = false, failed = false;
    int cause = 0;
    int64_t initiated;
    const Temporal__Api__Common__V1__WorkflowExecution *target = NULL;
    switch (ev->attributes_case) {
    case EV_ATTR(EXTERNAL_WORKFLOW_EXECUTION_SIGNALED):
        signal = true;
        initiated = ev->external_workflow_execution_signaled_event_attributes->initiated_event_id;
        break;
    case EV_ATTR(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED): {
        const Temporal__Api__History__V1__SignalExternalWorkflowExecutionFailedEventAttributes *f =
            ev->signal_external_workflow_execution_failed_event_attributes;
        signal = failed = true;
        initiated = f->initiated_event_id;
        cause = (int)f->cause;
        target = f->workflow_execution;
        break;
    }
    case EV_ATTR(EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED):
        initiated = ev->external_workflow_execution_cancel_requested_event_attributes->initiated_event_id;
        break;
    default: {
        const Temporal__Api__History__V1__RequestCancelExternalWorkflowExecutionFailedEventAttributes *f =
            ev->request_cancel_external_workflow_execution_failed_event_attributes;
        failed = true;
        initiated = f->initiated_event_id;
        cause = (int)f->cause;
        target = f->workflow_execution;
    }
    }
    ext_rec *rec = signal ? ext_by_initiated(run->signals, run->sig_count, initiated)
                          : ext_by_initiated(run->cancels, run->ext_count, initiated);
    if (!rec && !signal) {
        child_rec *ch = child_by_cancel_event(run, initiated);
        if (ch)
            return child_cancel_request_outcome(ch, ev, a);
    }
    if (!rec) {
        char name[96];
        event_type_name((int)ev->event_type, name, sizeof(name));
        return fail(err, TW_EPROTO,
                    "history event %" PRId64 " (%s) is about the %s initiated at event %" PRId64
                    ", which this run did not issue",
                    ev->event_id, name, signal ? "signal" : "cancellation request", initiated);
    }
    /* Late news of a signal already resolved (cancelled) is ignored. */
    if (rec->state == EXT_DONE)
        return 0;
    rec->state = EXT_DONE;
    tw_job *j = add_resolution(a, signal ? TW_JOB_RESOLVE_SIGNAL_EXTERNAL : TW_JOB_RESOLVE_CANCEL_EXTERNAL, rec->seq,
                               failed ? TW_RESOLUTION_FAILED : TW_RESOLUTION_COMPLETED);
    if (!j)
        return no_memory();
    if (failed && !(j->failure = external_failure(signal, cause, execution_workflow_id(target))))
        return no_memory();
    return 0;
}

/* ---- matching command events ---- */

static bool is_command_event(int type)
{
    switch (type) {
    case EV(TIMER_STARTED):
    case EV(TIMER_CANCELED):
    case EV(ACTIVITY_TASK_SCHEDULED):
    case EV(ACTIVITY_TASK_CANCEL_REQUESTED):
    case EV(MARKER_RECORDED):
    case EV(WORKFLOW_EXECUTION_COMPLETED):
    case EV(WORKFLOW_EXECUTION_FAILED):
    case EV(WORKFLOW_EXECUTION_CANCELED):
    case EV(WORKFLOW_EXECUTION_CONTINUED_AS_NEW):
    case EV(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES):
    case EV(WORKFLOW_PROPERTIES_MODIFIED):
    case EV(START_CHILD_WORKFLOW_EXECUTION_INITIATED):
    case EV(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED):
    case EV(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED):
        return true;
    default:
        return false;
    }
}

/*
 * Whether this engine handles events of type; *attr is the attributes
 * case such an event must carry (NOT_SET when the engine reads none).
 */
static bool handled_type(int type, int *attr)
{
    *attr = TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES__NOT_SET;
    switch (type) {
    case EV(WORKFLOW_EXECUTION_STARTED): *attr = EV_ATTR(WORKFLOW_EXECUTION_STARTED); return true;
    case EV(WORKFLOW_EXECUTION_SIGNALED): *attr = EV_ATTR(WORKFLOW_EXECUTION_SIGNALED); return true;
    case EV(WORKFLOW_EXECUTION_CANCEL_REQUESTED): *attr = EV_ATTR(WORKFLOW_EXECUTION_CANCEL_REQUESTED); return true;
    case EV(TIMER_STARTED): *attr = EV_ATTR(TIMER_STARTED); return true;
    case EV(TIMER_FIRED): *attr = EV_ATTR(TIMER_FIRED); return true;
    case EV(TIMER_CANCELED): *attr = EV_ATTR(TIMER_CANCELED); return true;
    case EV(ACTIVITY_TASK_SCHEDULED): *attr = EV_ATTR(ACTIVITY_TASK_SCHEDULED); return true;
    case EV(ACTIVITY_TASK_COMPLETED): *attr = EV_ATTR(ACTIVITY_TASK_COMPLETED); return true;
    case EV(ACTIVITY_TASK_FAILED): *attr = EV_ATTR(ACTIVITY_TASK_FAILED); return true;
    case EV(ACTIVITY_TASK_TIMED_OUT): *attr = EV_ATTR(ACTIVITY_TASK_TIMED_OUT); return true;
    case EV(ACTIVITY_TASK_CANCELED): *attr = EV_ATTR(ACTIVITY_TASK_CANCELED); return true;
    case EV(ACTIVITY_TASK_CANCEL_REQUESTED): *attr = EV_ATTR(ACTIVITY_TASK_CANCEL_REQUESTED); return true;
    case EV(MARKER_RECORDED): *attr = EV_ATTR(MARKER_RECORDED); return true;
    case EV(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES): *attr = EV_ATTR(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES); return true;
    case EV(WORKFLOW_PROPERTIES_MODIFIED): *attr = EV_ATTR(WORKFLOW_PROPERTIES_MODIFIED); return true;
    case EV(WORKFLOW_TASK_FAILED): *attr = EV_ATTR(WORKFLOW_TASK_FAILED); return true;
    case EV(WORKFLOW_TASK_TIMED_OUT): *attr = EV_ATTR(WORKFLOW_TASK_TIMED_OUT); return true;
    case EV(START_CHILD_WORKFLOW_EXECUTION_INITIATED):
        *attr = EV_ATTR(START_CHILD_WORKFLOW_EXECUTION_INITIATED);
        return true;
    case EV(START_CHILD_WORKFLOW_EXECUTION_FAILED): *attr = EV_ATTR(START_CHILD_WORKFLOW_EXECUTION_FAILED); return true;
    case EV(CHILD_WORKFLOW_EXECUTION_STARTED): *attr = EV_ATTR(CHILD_WORKFLOW_EXECUTION_STARTED); return true;
    case EV(CHILD_WORKFLOW_EXECUTION_COMPLETED): *attr = EV_ATTR(CHILD_WORKFLOW_EXECUTION_COMPLETED); return true;
    case EV(CHILD_WORKFLOW_EXECUTION_FAILED): *attr = EV_ATTR(CHILD_WORKFLOW_EXECUTION_FAILED); return true;
    case EV(CHILD_WORKFLOW_EXECUTION_CANCELED): *attr = EV_ATTR(CHILD_WORKFLOW_EXECUTION_CANCELED); return true;
    case EV(CHILD_WORKFLOW_EXECUTION_TIMED_OUT): *attr = EV_ATTR(CHILD_WORKFLOW_EXECUTION_TIMED_OUT); return true;
    case EV(CHILD_WORKFLOW_EXECUTION_TERMINATED): *attr = EV_ATTR(CHILD_WORKFLOW_EXECUTION_TERMINATED); return true;
    case EV(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED):
        *attr = EV_ATTR(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
        return true;
    case EV(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED):
        *attr = EV_ATTR(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED);
        return true;
    case EV(EXTERNAL_WORKFLOW_EXECUTION_SIGNALED): *attr = EV_ATTR(EXTERNAL_WORKFLOW_EXECUTION_SIGNALED); return true;
    case EV(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED):
        *attr = EV_ATTR(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED);
        return true;
    case EV(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED):
        *attr = EV_ATTR(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED);
        return true;
    case EV(EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED):
        *attr = EV_ATTR(EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
        return true;
    case EV(ACTIVITY_TASK_STARTED):
    case EV(WORKFLOW_TASK_SCHEDULED):
    case EV(WORKFLOW_TASK_STARTED):
    case EV(WORKFLOW_TASK_COMPLETED):
    case EV(WORKFLOW_EXECUTION_COMPLETED):
    case EV(WORKFLOW_EXECUTION_FAILED):
    case EV(WORKFLOW_EXECUTION_CANCELED):
    case EV(WORKFLOW_EXECUTION_CONTINUED_AS_NEW):
    /* These end or annotate the run and need nothing from the workflow. */
    case EV(WORKFLOW_EXECUTION_TERMINATED):
    case EV(WORKFLOW_EXECUTION_TIMED_OUT):
    case EV(WORKFLOW_EXECUTION_OPTIONS_UPDATED):
        return true;
    default:
        return false;
    }
}

static const char *raw_type_name(int type, char *buf, size_t size)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&temporal__api__enums__v1__event_type__descriptor, type);
    if (v)
        return v->name;
    snprintf(buf, size, "event type %d", type);
    return buf;
}

/*
 * Checks that the engine can process ev: 0, 1 when ev is to be skipped
 * (unknown to the engine but marked worker_may_ignore), or TW_EPROTO.
 */
static int check_event(const tw_pb_event *ev, tw_error **err)
{
    char buf[32];
    int attr;
    bool handled = handled_type((int)ev->event_type, &attr);
    if (handled && ev->event_type == EV(MARKER_RECORDED) &&
        !(ev->attributes_case == EV_ATTR(MARKER_RECORDED) &&
          (strcmp(str(ev->marker_recorded_event_attributes->marker_name), TW_LA_MARKER) == 0 ||
           is_patch_marker(ev))))
        handled = false; /* local activity markers and patch markers with readable data only */
    if (!handled) {
        if (ev->worker_may_ignore)
            return 1;
        return fail(err, TW_EPROTO, "history event %" PRId64 " (%s) is not supported by this engine yet",
                    ev->event_id, raw_type_name((int)ev->event_type, buf, sizeof(buf)));
    }
    if (attr != TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES__NOT_SET && (int)ev->attributes_case != attr)
        return fail(err, TW_EPROTO, "history event %" PRId64 " (%s) does not carry its attributes", ev->event_id,
                    raw_type_name((int)ev->event_type, buf, sizeof(buf)));
    return 0;
}

static int command_for_event(int event_type)
{
    switch (event_type) {
    case EV(TIMER_STARTED): return CMD(START_TIMER);
    case EV(TIMER_CANCELED): return CMD(CANCEL_TIMER);
    case EV(ACTIVITY_TASK_SCHEDULED): return CMD(SCHEDULE_ACTIVITY_TASK);
    case EV(ACTIVITY_TASK_CANCEL_REQUESTED): return CMD(REQUEST_CANCEL_ACTIVITY_TASK);
    case EV(WORKFLOW_EXECUTION_COMPLETED): return CMD(COMPLETE_WORKFLOW_EXECUTION);
    case EV(WORKFLOW_EXECUTION_FAILED): return CMD(FAIL_WORKFLOW_EXECUTION);
    case EV(WORKFLOW_EXECUTION_CANCELED): return CMD(CANCEL_WORKFLOW_EXECUTION);
    case EV(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES): return CMD(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
    case EV(WORKFLOW_PROPERTIES_MODIFIED): return CMD(MODIFY_WORKFLOW_PROPERTIES);
    case EV(START_CHILD_WORKFLOW_EXECUTION_INITIATED): return CMD(START_CHILD_WORKFLOW_EXECUTION);
    case EV(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED): return CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION);
    case EV(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED):
        return CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION);
    case EV(MARKER_RECORDED): return CMD(RECORD_MARKER);
    default: return CMD(CONTINUE_AS_NEW_WORKFLOW_EXECUTION);
    }
}

/* Whether the head pending command p is what history recorded at ev. */
static bool matches(const pending *p, const tw_pb_event *ev)
{
    if (!p || p->type != command_for_event((int)ev->event_type))
        return false;
    switch (ev->attributes_case) {
    case EV_ATTR(TIMER_STARTED):
        return strcmp(str(p->id), str(ev->timer_started_event_attributes->timer_id)) == 0;
    case EV_ATTR(TIMER_CANCELED):
        return strcmp(str(p->id), str(ev->timer_canceled_event_attributes->timer_id)) == 0;
    case EV_ATTR(ACTIVITY_TASK_SCHEDULED): {
        const Temporal__Api__History__V1__ActivityTaskScheduledEventAttributes *a =
            ev->activity_task_scheduled_event_attributes;
        return strcmp(str(p->id), str(a->activity_id)) == 0 &&
               strcmp(str(p->name), activity_type_name(a->activity_type)) == 0;
    }
    case EV_ATTR(ACTIVITY_TASK_CANCEL_REQUESTED):
        return p->scheduled_event_id == ev->activity_task_cancel_requested_event_attributes->scheduled_event_id;
    case EV_ATTR(START_CHILD_WORKFLOW_EXECUTION_INITIATED): {
        const Temporal__Api__History__V1__StartChildWorkflowExecutionInitiatedEventAttributes *a =
            ev->start_child_workflow_execution_initiated_event_attributes;
        return strcmp(str(p->id), str(a->workflow_id)) == 0 &&
               strcmp(str(p->name), a->workflow_type ? str(a->workflow_type->name) : "") == 0;
    }
    case EV_ATTR(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED): {
        const Temporal__Api__History__V1__SignalExternalWorkflowExecutionInitiatedEventAttributes *a =
            ev->signal_external_workflow_execution_initiated_event_attributes;
        return strcmp(str(p->id), execution_workflow_id(a->workflow_execution)) == 0 &&
               strcmp(str(p->name), str(a->signal_name)) == 0;
    }
    case EV_ATTR(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED): {
        const Temporal__Api__History__V1__RequestCancelExternalWorkflowExecutionInitiatedEventAttributes *a =
            ev->request_cancel_external_workflow_execution_initiated_event_attributes;
        return strcmp(str(p->id), execution_workflow_id(a->workflow_execution)) == 0;
    }
    case EV_ATTR(MARKER_RECORDED): {
        char *id;
        bool deprecated;
        if (!p->patch || !patch_marker_of(ev, &id, &deprecated))
            return false;
        bool same = strcmp(str(p->id), id) == 0;
        free(id);
        return same;
    }
    default:
        return true;
    }
}

static int match_marker(tw_run *run, const tw_pb_event *ev, tw_error **err);
static bool is_la_marker(const tw_pb_event *ev);

/*
 * The UpsertWorkflowSearchAttributes of TemporalChangeVersion that sdk-core
 * may record right after a patch marker: this engine never makes it.
 */
static bool is_patch_version_upsert(const tw_run *run, const tw_pb_event *ev)
{
    if (ev->attributes_case != EV_ATTR(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) || ev->event_id < 2 ||
        !is_patch_marker(run->events[ev->event_id - 2]))
        return false;
    const Temporal__Api__Common__V1__SearchAttributes *sa =
        ev->upsert_workflow_search_attributes_event_attributes->search_attributes;
    return sa && sa->n_indexed_fields == 1 && sa->indexed_fields[0] &&
           strcmp(str(sa->indexed_fields[0]->key), "TemporalChangeVersion") == 0;
}

/*
 * The skip rules of patch markers, as sdk-core applies them: true when ev
 * is to be passed over (a deprecated marker that is not the head pending
 * command's, or sdk-core's version upsert after a marker). Otherwise drops
 * the head pending patch markers that history does not have here (a
 * patch command with no marker is always accepted).
 */
static bool skip_for_patches(tw_run *run, const tw_pb_event *ev)
{
    char *id;
    bool deprecated;
    if (patch_marker_of(ev, &id, &deprecated)) {
        const pending *p = run->pend_count ? &run->pend[0] : NULL;
        bool mine = p && p->patch && strcmp(str(p->id), id) == 0;
        free(id);
        return deprecated && !mine;
    }
    if (is_patch_version_upsert(run, ev) &&
        !(run->pend_count && run->pend[0].type == CMD(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)))
        return true;
    while (run->pend_count && run->pend[0].patch)
        pending_remove(run, 0);
    return false;
}

static int match_command_event(tw_run *run, const tw_pb_event *ev, tw_error **err)
{
    if (is_la_marker(ev))
        return match_marker(run, ev, err);
    if (skip_for_patches(run, ev))
        return 0;
    pending *p = run->pend_count ? &run->pend[0] : NULL;
    if (!matches(p, ev)) {
        char have[320], produced[320];
        describe_event(ev, have, sizeof(have));
        if (p)
            describe_pending(p, produced, sizeof(produced));
        else
            snprintf(produced, sizeof(produced), "no command");
        return fail(err, TW_EPROTO, "non-deterministic: history event %" PRId64 " is %s but the workflow produced %s",
                    ev->event_id, have, produced);
    }
    if (p->type == CMD(START_TIMER)) {
        timer_rec *t = timer_by_seq(run, p->seq);
        if (t && t->state == TIMER_UNSENT) {
            t->state = TIMER_STARTED;
            t->started_event_id = ev->event_id;
        }
    } else if (p->type == CMD(SCHEDULE_ACTIVITY_TASK)) {
        activity_rec *a = activity_by_seq(run, p->seq);
        if (a && a->state == ACT_UNSENT) {
            a->state = ACT_SCHEDULED;
            a->scheduled_event_id = ev->event_id;
        }
    } else if (p->type == CMD(START_CHILD_WORKFLOW_EXECUTION)) {
        child_rec *ch = child_by_seq(run, p->seq);
        const char *ns = ev->start_child_workflow_execution_initiated_event_attributes->namespace_;
        if (ch && ch->state == CHILD_UNSENT) {
            ch->state = CHILD_INITIATED;
            ch->initiated_event_id = ev->event_id;
            char *copy = tw_str_empty(ns) ? NULL : tw_strdup(ns);
            if (copy) {
                free(ch->namespace_);
                ch->namespace_ = copy;
            }
        }
    } else if (p->type == CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION)) {
        ext_rec *sig = ext_by_seq(run->signals, run->sig_count, p->seq);
        if (sig && sig->state == EXT_UNSENT) {
            sig->state = EXT_INITIATED;
            sig->initiated_event_id = ev->event_id;
        }
    } else if (p->type == CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION) && p->child) {
        child_rec *ch = child_by_seq(run, p->seq);
        if (ch)
            ch->cancel_event_id = ev->event_id;
    } else if (p->type == CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION)) {
        ext_rec *rec = ext_by_seq(run->cancels, run->ext_count, p->seq);
        if (rec && rec->state == EXT_UNSENT) {
            rec->state = EXT_INITIATED;
            rec->initiated_event_id = ev->event_id;
        }
    }
    pending_remove(run, 0);
    return 0;
}

/*
 * At a WorkflowTaskCompleted event (pos): matches the command events that
 * follow it against the pending commands, which must all find theirs.
 */
static int match_task_commands(tw_run *run, tw_error **err)
{
    int64_t completed_id = run->events[run->pos]->event_id;
    run->pos++;
    int rc;
    while (run->pos < run->event_count) {
        const tw_pb_event *ev = run->events[run->pos];
        if ((rc = check_event(ev, err)) < 0)
            return rc;
        if (rc == 0) {
            if (!is_command_event((int)ev->event_type))
                break;
            if ((rc = match_command_event(run, ev, err)))
                return rc;
        }
        run->pos++;
    }
    /* Patch markers that history does not have were accepted as such (see skip_for_patches). */
    for (size_t i = run->pend_count; i > 0; i--) {
        if (run->pend[i - 1].patch)
            pending_remove(run, i - 1);
    }
    if (run->pend_count) {
        char produced[320];
        describe_pending(&run->pend[0], produced, sizeof(produced));
        return fail(err, TW_EPROTO,
                    "non-deterministic: history has no more command events for the workflow task completed at "
                    "event %" PRId64 " (up to event %" PRId64 ") but the workflow produced %s",
                    completed_id, run->events[run->pos - 1]->event_id, produced);
    }
    return 0;
}

static int check_task_failure(const tw_run *run, const tw_pb_event *ev, tw_error **err)
{
    int64_t started = ev->attributes_case == EV_ATTR(WORKFLOW_TASK_FAILED)
                          ? ev->workflow_task_failed_event_attributes->started_event_id
                          : ev->workflow_task_timed_out_event_attributes->started_event_id;
    if (run->live_started_id && started == run->live_started_id)
        return fail(err, TW_EPROTO,
                    "history event %" PRId64 ": the workflow task started at event %" PRId64
                    " failed after this run completed it; the run must be replayed from the start",
                    ev->event_id, started);
    return 0;
}

/* Applies the event at pos (not a WorkflowTaskCompleted) to the activation being made. */
static int apply_event(tw_run *run, const tw_pb_event *ev, tw_activation *a, tw_error **err)
{
    int rc = check_event(ev, err);
    if (rc)
        return rc < 0 ? rc : 0;
    switch (ev->event_type) {
    case EV(WORKFLOW_EXECUTION_STARTED): return job_started(run, ev, a);
    case EV(WORKFLOW_EXECUTION_SIGNALED): return job_signal(ev, a);
    case EV(WORKFLOW_EXECUTION_CANCEL_REQUESTED): return job_cancel_workflow(ev, a);
    case EV(TIMER_FIRED): return job_timer_fired(run, ev, a, err);
    case EV(ACTIVITY_TASK_COMPLETED):
    case EV(ACTIVITY_TASK_FAILED):
    case EV(ACTIVITY_TASK_TIMED_OUT):
    case EV(ACTIVITY_TASK_CANCELED):
        return job_activity(run, ev, a, err);
    case EV(WORKFLOW_TASK_FAILED):
    case EV(WORKFLOW_TASK_TIMED_OUT):
        return check_task_failure(run, ev, err);
    case EV(START_CHILD_WORKFLOW_EXECUTION_FAILED):
    case EV(CHILD_WORKFLOW_EXECUTION_STARTED):
    case EV(CHILD_WORKFLOW_EXECUTION_COMPLETED):
    case EV(CHILD_WORKFLOW_EXECUTION_FAILED):
    case EV(CHILD_WORKFLOW_EXECUTION_CANCELED):
    case EV(CHILD_WORKFLOW_EXECUTION_TIMED_OUT):
    case EV(CHILD_WORKFLOW_EXECUTION_TERMINATED):
        return job_child(run, ev, a, err);
    case EV(EXTERNAL_WORKFLOW_EXECUTION_SIGNALED):
    case EV(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED):
    case EV(EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED):
    case EV(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED):
        return job_external(run, ev, a, err);
    default:
        if (is_command_event((int)ev->event_type))
            return match_command_event(run, ev, err);
        return 0;
    }
}

/* ---- local activities ---- */

#define LA_MARKER TW_LA_MARKER

static la_rec *la_by_seq(tw_run *run, uint32_t seq)
{
    for (size_t i = run->la_count; i > 0; i--) {
        if (run->las[i - 1].seq == seq)
            return &run->las[i - 1];
    }
    return NULL;
}

/* An activity_rec view of a local activity, for the failure builders. */
static activity_rec la_view(const la_rec *la)
{
    return (activity_rec){.seq = la->seq, .activity_id = la->activity_id, .activity_type = la->activity_type};
}

static pb_failure *failure_to_pb(const tw_failure *f)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!f || tw_failure_encode(f, &buf, &len))
        return NULL;
    pb_failure *pb = temporal__api__failure__v1__failure__unpack(NULL, len, buf);
    free(buf);
    return pb;
}

/* As sdk-core reads a marker's failure: a cancellation when it, or its direct cause, is a canceled failure. */
static bool failure_is_cancel(const pb_failure *f)
{
    const int canceled = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO;
    return f && ((int)f->failure_info_case == canceled || (f->cause && (int)f->cause->failure_info_case == canceled));
}

/*
 * A time as sdk-core's marker data holds it: a prost Timestamp through
 * serde, {"seconds": N, "nanos": M}.
 */
static cJSON *json_timestamp(int64_t ns)
{
    int64_t secs = ns / 1000000000, nanos = ns % 1000000000;
    if (nanos < 0) {
        nanos += 1000000000;
        secs--;
    }
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddNumberToObject(o, "seconds", (double)secs) ||
              !cJSON_AddNumberToObject(o, "nanos", (double)nanos))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Adds key: time ns as a timestamp object, or null when ns is 0. */
static bool json_add_time(cJSON *o, const char *key, int64_t ns)
{
    if (!ns)
        return cJSON_AddNullToObject(o, key) != NULL;
    cJSON *t = json_timestamp(ns);
    if (t && cJSON_AddItemToObject(o, key, t))
        return true;
    cJSON_Delete(t);
    return false;
}

/* Adds key: a duration of ms as a prost Duration through serde ({"seconds", "nanos"}), or null when ms is 0. */
static bool json_add_duration(cJSON *o, const char *key, int64_t ms)
{
    if (!ms)
        return cJSON_AddNullToObject(o, key) != NULL;
    cJSON *d = cJSON_CreateObject();
    if (d && cJSON_AddNumberToObject(d, "seconds", (double)(ms / 1000)) &&
        cJSON_AddNumberToObject(d, "nanos", (double)(ms % 1000 * 1000000)) && cJSON_AddItemToObject(o, key, d))
        return true;
    cJSON_Delete(d);
    return false;
}

/*
 * The "data" of a core_local_activity marker: sdk-core's
 * LocalActivityMarkerData (coresdk.external_data) as serde_json writes it,
 * every field in declaration order, unset ones null:
 * {"seq":1,"attempt":1,"activity_id":"1","activity_type":"t",
 *  "complete_time":{"seconds":N,"nanos":M},"backoff":null,
 *  "original_schedule_time":{"seconds":N,"nanos":M}}.
 * "backoff" is set ({"seconds", "nanos"}) when the attempt failed and its
 * retry waits on a timer (TW_RESOLUTION_BACKOFF).
 * NULL when out of memory; free with cJSON_free.
 */
static char *la_marker_json(const la_rec *la, int32_t attempt, int64_t complete_ns, int64_t backoff_ms)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "seq", (double)la->seq) &&
              cJSON_AddNumberToObject(o, "attempt", attempt > 0 ? (double)attempt : 0) &&
              cJSON_AddStringToObject(o, "activity_id", str(la->activity_id)) &&
              cJSON_AddStringToObject(o, "activity_type", str(la->activity_type)) &&
              json_add_time(o, "complete_time", complete_ns) && json_add_duration(o, "backoff", backoff_ms) &&
              json_add_time(o, "original_schedule_time", la->scheduled_ns);
    char *json = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return json;
}

/* The RecordMarker command of a resolved local activity (sdk-core's layout). */
static tw_pb_command *la_marker(const la_rec *la, int32_t attempt, int64_t complete_ns, const tw_payloads *result,
                                const tw_failure *failure, int64_t backoff_ms)
{
    char *json = la_marker_json(la, attempt, complete_ns, backoff_ms);
    if (!json)
        return NULL;
    pb_build b = {false};
    tw_pb_command *cmd = pb_new(&b, &temporal__api__command__v1__command__descriptor);
    Temporal__Api__Command__V1__RecordMarkerCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__record_marker_command_attributes__descriptor);
    if (!cmd || !a) {
        cJSON_free(json);
        free(cmd);
        free(a);
        return NULL;
    }
    cmd->command_type = CMD(RECORD_MARKER);
    cmd->attributes_case = TEMPORAL__API__COMMAND__V1__COMMAND__ATTRIBUTES_RECORD_MARKER_COMMAND_ATTRIBUTES;
    cmd->record_marker_command_attributes = a;
    a->marker_name = pb_str(&b, LA_MARKER);
    a->details = calloc(2, sizeof(*a->details));
    if (!a->details) {
        b.oom = true;
    } else {
        const char *keys[2] = {"data", "result"};
        size_t count = result ? 2 : 1;
        for (size_t i = 0; i < count; i++) {
            Temporal__Api__Command__V1__RecordMarkerCommandAttributes__DetailsEntry *e =
                pb_new(&b, &temporal__api__command__v1__record_marker_command_attributes__details_entry__descriptor);
            if (!e)
                break;
            e->key = pb_str(&b, keys[i]);
            e->value = i == 0 ? tw_json_payloads(&b, json) : pb_payloads(&b, result);
            if (i == 0 && !e->value)
                b.oom = true;
            a->details[a->n_details++] = e;
        }
    }
    cJSON_free(json);
    if (failure && !(a->failure = failure_to_pb(failure)))
        b.oom = true;
    /* The summary the local activity was scheduled with, as sdk-core puts it on the marker. */
    if (la->user_metadata &&
        !(cmd->user_metadata = (Temporal__Api__Sdk__V1__UserMetadata *)tw_pb_copy(&la->user_metadata->base)))
        b.oom = true;
    if (b.oom) {
        protobuf_c_message_free_unpacked(&cmd->base, NULL);
        return NULL;
    }
    return cmd;
}

static const Temporal__Api__Common__V1__Payloads *marker_detail(
    const Temporal__Api__History__V1__MarkerRecordedEventAttributes *m, const char *key)
{
    for (size_t i = 0; i < m->n_details; i++) {
        if (m->details[i] && strcmp(str(m->details[i]->key), key) == 0)
            return m->details[i]->value;
    }
    return NULL;
}

static const Temporal__Api__Common__V1__Payload *first_payload(const Temporal__Api__Common__V1__Payloads *ps);

/* Days from 1970-01-01 to the civil date y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* An RFC 3339 time ("2024-01-02T03:04:05.5Z", or with an offset) in ns since the epoch. */
static bool parse_rfc3339(const char *s, int64_t *ns)
{
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || !n || mo < 1 ||
        mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    const char *p = s + n;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            if (digits < 9)
                frac = frac * 10 + (*p - '0');
        }
        if (!digits)
            return false;
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || !k)
            return false;
        offset = (*p == '-' ? -1 : 1) * ((int64_t)oh * 3600 + om * 60);
        p += 1 + k;
    } else {
        return false;
    }
    if (*p)
        return false;
    int64_t secs = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + (int64_t)h * 3600 + mi * 60 + sec - offset;
    *ns = secs * 1000000000 + frac;
    return true;
}

/* A JSON number, or a string holding one (protobuf's JSON writes 64-bit integers so). */
static bool json_int(const cJSON *j, int64_t *v)
{
    if (cJSON_IsNumber(j)) {
        *v = (int64_t)j->valuedouble;
        return true;
    }
    if (cJSON_IsString(j) && j->valuestring[0]) {
        char *end;
        long long x = strtoll(j->valuestring, &end, 10);
        if (*end)
            return false;
        *v = x;
        return true;
    }
    return false;
}

/*
 * A time of marker data: {"seconds", "nanos"} (sdk-core), or an RFC 3339
 * string (earlier builds of this library); false when t is neither.
 */
static bool json_time(const cJSON *t, int64_t *ns)
{
    int64_t secs, nanos = 0;
    if (cJSON_IsObject(t) && json_int(cJSON_GetObjectItemCaseSensitive(t, "seconds"), &secs)) {
        json_int(cJSON_GetObjectItemCaseSensitive(t, "nanos"), &nanos);
        *ns = secs * 1000000000 + nanos;
        return true;
    }
    return cJSON_IsString(t) && parse_rfc3339(t->valuestring, ns);
}

bool tw_la_marker_read(const Temporal__Api__History__V1__MarkerRecordedEventAttributes *m, tw_la_marker_info *out)
{
    memset(out, 0, sizeof(*out));
    const Temporal__Api__Common__V1__Payload *p = first_payload(marker_detail(m, "data"));
    if (!p || !p->data.len)
        return false;
    cJSON *root = cJSON_ParseWithLength((const char *)p->data.data, p->data.len);
    int64_t seq = -1, attempt = 1, v;
    bool ok = json_int(cJSON_GetObjectItemCaseSensitive(root, "seq"), &seq) && seq >= 0 && seq <= (int64_t)UINT32_MAX;
    if (ok) {
        out->seq = (uint32_t)seq;
        if (json_int(cJSON_GetObjectItemCaseSensitive(root, "attempt"), &v))
            attempt = v;
        out->attempt = (int32_t)attempt;
        out->has_complete_time = json_time(cJSON_GetObjectItemCaseSensitive(root, "complete_time"),
                                           &out->complete_time_ns);
        if (!json_time(cJSON_GetObjectItemCaseSensitive(root, "original_schedule_time"), &out->original_schedule_ns))
            out->original_schedule_ns = 0;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "backoff");
        int64_t secs, nanos = 0;
        if (cJSON_IsObject(b) && json_int(cJSON_GetObjectItemCaseSensitive(b, "seconds"), &secs)) {
            json_int(cJSON_GetObjectItemCaseSensitive(b, "nanos"), &nanos);
            /* In whole ms, rounded up: any backoff the marker records is one (at least 1 ms). */
            int64_t ms = secs * 1000 + (nanos + 999999) / 1000000;
            out->backoff_ms = ms > 0 ? ms : 1;
        }
    }
    cJSON_Delete(root);
    return ok;
}

static bool payload_is_json(const Temporal__Api__Common__V1__Payload *p)
{
    for (size_t i = 0; i < p->n_metadata; i++) {
        const Temporal__Api__Common__V1__Payload__MetadataEntry *m = p->metadata[i];
        if (m && strcmp(str(m->key), "encoding") == 0)
            return m->value.len == 10 && memcmp(m->value.data, "json/plain", 10) == 0;
    }
    return false;
}

static const Temporal__Api__Common__V1__Payload *first_payload(const Temporal__Api__Common__V1__Payloads *ps)
{
    return ps && ps->n_payloads ? ps->payloads[0] : NULL;
}

/*
 * Whether ev is a core_patch marker whose data names its patch; then sets
 * *id (the caller frees it) and *deprecated. Reads what sdk-core writes
 * (details "patch-data": one json/plain payload {"id": ..., "deprecated":
 * ...}) and, as sdk-core still does, its older layout (plain-byte details
 * "patch_id" and "deprecated").
 */
static bool patch_marker_of(const tw_pb_event *ev, char **id, bool *deprecated)
{
    *id = NULL;
    *deprecated = false;
    if (ev->event_type != EV(MARKER_RECORDED) || ev->attributes_case != EV_ATTR(MARKER_RECORDED) ||
        strcmp(str(ev->marker_recorded_event_attributes->marker_name), TW_PATCH_MARKER) != 0)
        return false;
    const Temporal__Api__History__V1__MarkerRecordedEventAttributes *m = ev->marker_recorded_event_attributes;
    const Temporal__Api__Common__V1__Payloads *data = marker_detail(m, TW_PATCH_DETAILS_KEY);
    if (data) {
        const Temporal__Api__Common__V1__Payload *p = first_payload(data);
        if (!p || !payload_is_json(p) || !p->data.len)
            return false;
        cJSON *root = cJSON_ParseWithLength((const char *)p->data.data, p->data.len);
        const cJSON *jid = cJSON_GetObjectItemCaseSensitive(root, "id");
        const cJSON *jdep = cJSON_GetObjectItemCaseSensitive(root, "deprecated");
        if (cJSON_IsString(jid) && (!jdep || cJSON_IsBool(jdep))) {
            *id = tw_strdup(jid->valuestring);
            *deprecated = cJSON_IsTrue(jdep);
        }
        cJSON_Delete(root);
        return *id != NULL;
    }
    const Temporal__Api__Common__V1__Payload *pid = first_payload(marker_detail(m, "patch_id"));
    const Temporal__Api__Common__V1__Payload *pdep = first_payload(marker_detail(m, "deprecated"));
    if (!pid || !pdep || !pdep->data.len)
        return false;
    char *copy = malloc(pid->data.len + 1);
    if (!copy)
        return false;
    if (pid->data.len)
        memcpy(copy, pid->data.data, pid->data.len);
    copy[pid->data.len] = '\0';
    *id = copy;
    *deprecated = pdep->data.data[0] != 0;
    return true;
}

static bool is_patch_marker(const tw_pb_event *ev)
{
    char *id;
    bool deprecated;
    if (!patch_marker_of(ev, &id, &deprecated))
        return false;
    free(id);
    return true;
}

static bool is_la_marker(const tw_pb_event *ev)
{
    return ev->event_type == EV(MARKER_RECORDED) && ev->attributes_case == EV_ATTR(MARKER_RECORDED) &&
           strcmp(str(ev->marker_recorded_event_attributes->marker_name), LA_MARKER) == 0;
}

/* Hands resolution r (its result and failure taken) to job j. */
static void la_job_fill(tw_job *j, la_ready *r)
{
    j->seq = r->seq;
    j->resolution = r->resolution;
    j->attempt = r->attempt;
    j->result = r->result;
    j->failure = r->failure;
    j->backoff_ms = r->backoff_ms;
    j->original_schedule_time = r->original_schedule_ns;
    r->result = NULL;
    r->failure = NULL;
}

/*
 * Queues resolution r (its result and failure taken) for one more
 * activation, or adds it to activation a when given (replay).
 */
static int push_la_done(tw_run *run, la_ready r, tw_activation *a)
{
    /* A backoff's failure is only informative: markers of other SDKs may leave it out. */
    bool missing = r.resolution == TW_RESOLUTION_COMPLETED ? !r.result
                                                           : !r.failure && r.resolution != TW_RESOLUTION_BACKOFF;
    tw_job *j = NULL;
    if (!missing && a)
        j = tw_activation_add_job(a, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    if (missing || (a ? !j : !GROW(run->la_done, run->la_done_count, run->la_done_cap))) {
        tw_payloads_free(r.result);
        tw_failure_destroy(r.failure);
        return no_memory();
    }
    if (j)
        la_job_fill(j, &r);
    else
        run->la_done[run->la_done_count++] = r;
    return 0;
}

/* la is done: no request, its marker to be matched. */
static void la_settle(la_rec *la)
{
    la->state = LA_RESOLVED;
    la->marker_expected = true;
    if (la->request) {
        protobuf_c_message_free_unpacked(&la->request->base, NULL);
        la->request = NULL;
    }
}

static int push_marker(tw_run *run, tw_pb_command *cmd)
{
    if (!cmd || !GROW(run->markers, run->marker_count, run->marker_cap)) {
        if (cmd)
            protobuf_c_message_free_unpacked(&cmd->base, NULL);
        return no_memory();
    }
    run->markers[run->marker_count++] = cmd;
    return 0;
}

/*
 * Resolves la now (live task): queues its marker and its resolution job.
 * A BACKOFF records the failed attempt with the backoff its retry policy
 * gives (the worker found it above la's threshold); the job names the next
 * attempt.
 */
static int la_resolve_live(tw_run *run, la_rec *la, int resolution, const tw_payloads *result,
                           const pb_failure *cause, int retry_state, int32_t attempt, int64_t complete_ns)
{
    activity_rec view = la_view(la);
    la_ready r = {.seq = la->seq, .resolution = resolution, .attempt = attempt};
    if (resolution == TW_RESOLUTION_BACKOFF) {
        r.backoff_ms = tw_la_retry_backoff_ms(la->retry_policy, attempt, cause);
        if (r.backoff_ms <= 0) /* the retry policy allows no retry after all: the failure is final */
            r.resolution = resolution = TW_RESOLUTION_FAILED;
    }
    if (resolution == TW_RESOLUTION_COMPLETED)
        r.result = tw_payloads_copy(result);
    else if (resolution == TW_RESOLUTION_CANCELLED)
        r.failure = activity_cancel_failure(&view, "", 0, 0, NULL);
    else
        r.failure = activity_failure(&view, "Local activity task failed", "", retry_state, 0, 0, cause);
    if (resolution == TW_RESOLUTION_COMPLETED ? !r.result : !r.failure) {
        tw_payloads_free(r.result);
        return no_memory();
    }
    int rc = push_marker(run, la_marker(la, attempt, complete_ns, r.result, r.failure, r.backoff_ms));
    if (rc) {
        tw_payloads_free(r.result);
        tw_failure_destroy(r.failure);
        return rc;
    }
    la_settle(la);
    if (resolution == TW_RESOLUTION_BACKOFF) {
        r.attempt = attempt + 1;
        r.original_schedule_ns = la->scheduled_ns;
    }
    return push_la_done(run, r, NULL);
}

/*
 * Replaying: resolves la from its marker event ev, with a job in a when
 * given (the activation being made), else for one more activation of the
 * task.
 */
static int la_resolve_from_marker(tw_run *run, la_rec *la, const tw_pb_event *ev, const tw_la_marker_info *info,
                                  tw_activation *a)
{
    const Temporal__Api__History__V1__MarkerRecordedEventAttributes *m = ev->marker_recorded_event_attributes;
    la_ready r = {.seq = la->seq, .resolution = TW_RESOLUTION_COMPLETED, .attempt = info->attempt};
    if (info->backoff_ms > 0) {
        /* The attempt failed and its retry waited on a timer: the workflow starts that timer again. */
        r.resolution = TW_RESOLUTION_BACKOFF;
        r.attempt = info->attempt + 1;
        r.backoff_ms = info->backoff_ms;
        r.original_schedule_ns = info->original_schedule_ns;
        if (m->failure && !(r.failure = tw_failure_from_pb(m->failure)))
            return no_memory();
    } else if (m->failure) {
        r.resolution = failure_is_cancel(m->failure) ? TW_RESOLUTION_CANCELLED : TW_RESOLUTION_FAILED;
        if (!(r.failure = tw_failure_from_pb(m->failure)))
            return no_memory();
    } else if (!(r.result = payloads_of(marker_detail(m, "result")))) {
        return no_memory();
    }
    la_settle(la);
    return push_la_done(run, r, a);
}

/*
 * The core_local_activity marker of seq among the command events of the
 * task whose WorkflowTaskCompleted is at index completed (up to the next
 * workflow task), or NULL; fills *info.
 */
static const tw_pb_event *task_la_marker(const tw_run *run, size_t completed, uint32_t seq, tw_la_marker_info *info)
{
    for (size_t i = completed + 1; i < run->event_count; i++) {
        const tw_pb_event *ev = run->events[i];
        if (ev->event_type == EV(WORKFLOW_TASK_SCHEDULED) || ev->event_type == EV(WORKFLOW_TASK_STARTED))
            break;
        if (is_la_marker(ev) && tw_la_marker_read(ev->marker_recorded_event_attributes, info) && info->seq == seq)
            return ev;
    }
    return NULL;
}

/*
 * Replaying, at the schedule of la: when the task being replayed (its
 * WorkflowTaskCompleted at pos) recorded la's marker, la resolves in one
 * more activation of the task; otherwise it waits for its marker (see
 * la_peek_markers).
 */
static int la_resolve_from_history(tw_run *run, la_rec *la)
{
    tw_la_marker_info info;
    const tw_pb_event *ev = task_la_marker(run, run->pos, la->seq, &info);
    return ev ? la_resolve_from_marker(run, la, ev, &info, NULL) : 0;
}

/*
 * Replaying, making the activation of the boundary at index boundary:
 * local activities still waiting whose markers are among the command
 * events of that task (recorded there after heartbeats) resolve in it, in
 * marker order, as they did when the task ran.
 */
static int la_peek_markers(tw_run *run, size_t boundary, tw_activation *a)
{
    for (size_t i = boundary + 2; i < run->event_count; i++) {
        const tw_pb_event *ev = run->events[i];
        if (ev->event_type == EV(WORKFLOW_TASK_SCHEDULED) || ev->event_type == EV(WORKFLOW_TASK_STARTED))
            break;
        tw_la_marker_info info;
        if (!is_la_marker(ev) || !tw_la_marker_read(ev->marker_recorded_event_attributes, &info))
            continue;
        la_rec *la = la_by_seq(run, info.seq);
        if (!la || la->state != LA_WAITING)
            continue;
        int rc = la_resolve_from_marker(run, la, ev, &info, a);
        if (rc)
            return rc;
    }
    return 0;
}

/* The live task is reached with markers still missing: those local activities run now (sdk-core does so too). */
static void la_run_waiting(tw_run *run)
{
    for (size_t i = 0; i < run->la_count; i++) {
        if (run->las[i].state == LA_WAITING)
            run->las[i].state = LA_REQUESTED;
    }
}

static int match_marker(tw_run *run, const tw_pb_event *ev, tw_error **err)
{
    const Temporal__Api__History__V1__MarkerRecordedEventAttributes *m = ev->marker_recorded_event_attributes;
    if (!is_la_marker(ev))
        return fail(err, TW_EPROTO, "history event %" PRId64 " is a \"%.100s\" marker, which this engine does not "
                                    "support yet", ev->event_id, str(m->marker_name));
    tw_la_marker_info info;
    if (!tw_la_marker_read(m, &info))
        return fail(err, TW_EPROTO, "history event %" PRId64 " (MarkerRecorded core_local_activity) has no seq in "
                                    "its data", ev->event_id);
    la_rec *la = la_by_seq(run, info.seq);
    if (!la || !la->marker_expected)
        return fail(err, TW_EPROTO,
                    "non-deterministic: history event %" PRId64 " is MarkerRecorded (core_local_activity seq %u) but "
                    "the workflow scheduled no such local activity",
                    ev->event_id, info.seq);
    la->marker_expected = false;
    return 0;
}

/* ---- what the activity side needs of a local activity (history.h) ---- */

int64_t tw_la_retry_backoff_ms(const Temporal__Api__Common__V1__RetryPolicy *p, int32_t attempt,
                               const Temporal__Api__Failure__V1__Failure *f)
{
    int64_t initial = p && duration_ms(p->initial_interval) > 0 ? duration_ms(p->initial_interval) : 1000;
    double coef = p && p->backoff_coefficient >= 1 ? p->backoff_coefficient : 2.0;
    int64_t max = p && duration_ms(p->maximum_interval) > 0 ? duration_ms(p->maximum_interval) : 100 * initial;
    if (p && p->maximum_attempts > 0 && attempt >= p->maximum_attempts)
        return -1;
    if (f && f->failure_info_case == TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO &&
        f->application_failure_info && f->application_failure_info->next_retry_delay)
        return duration_ms(f->application_failure_info->next_retry_delay);
    double d = (double)initial;
    for (int32_t i = 1; i < attempt && d < (double)max; i++)
        d *= coef;
    return d < (double)max ? (int64_t)d : max;
}

static int apply_schedule_local(tw_run *run, tw_cmd *cmd)
{
    la_rec *old = la_by_seq(run, cmd->seq);
    if (old && old->state != LA_RESOLVED)
        return tw_set_error(TW_EINVAL,
                            "tw_run_complete: local activity seq %u is already used by an unresolved local activity",
                            cmd->seq);
    if (!GROW(run->las, run->la_count, run->la_cap))
        return no_memory();
    const Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *a =
        cmd->pb->schedule_activity_task_command_attributes;
    la_rec rec = {.seq = cmd->seq,
                  .state = run->wft_live ? LA_REQUESTED : LA_WAITING,
                  .attempt = cmd->la_attempt > 0 ? cmd->la_attempt : 1,
                  .scheduled_ns = cmd->la_original_schedule_ns,
                  .retry_threshold_ms = cmd->la_retry_threshold_ms};
    rec.activity_id = tw_strdup(str(a->activity_id));
    rec.activity_type = tw_strdup(activity_type_name(a->activity_type));
    if (a->retry_policy)
        rec.retry_policy = (Temporal__Api__Common__V1__RetryPolicy *)tw_pb_copy(&a->retry_policy->base);
    const Temporal__Api__Sdk__V1__UserMetadata *um = cmd->pb->user_metadata;
    if (um)
        rec.user_metadata = (Temporal__Api__Sdk__V1__UserMetadata *)tw_pb_copy(&um->base);
    if (!rec.activity_id || !rec.activity_type || (a->retry_policy && !rec.retry_policy) ||
        (um && !rec.user_metadata)) {
        free(rec.activity_id);
        free(rec.activity_type);
        if (rec.retry_policy)
            protobuf_c_message_free_unpacked(&rec.retry_policy->base, NULL);
        if (rec.user_metadata)
            protobuf_c_message_free_unpacked(&rec.user_metadata->base, NULL);
        return no_memory();
    }
    la_rec *la = &run->las[run->la_count++];
    *la = rec;
    /* Kept while replaying too: should the marker never come, the live task runs it. */
    la->request = cmd->pb;
    cmd->pb = NULL;
    return run->wft_live ? 0 : la_resolve_from_history(run, la);
}

static int apply_cancel_local(tw_run *run, tw_cmd *cmd)
{
    la_rec *la = la_by_seq(run, cmd->seq);
    if (!la)
        return tw_set_error(TW_EINVAL,
                            "tw_run_complete: request_cancel_local_activity: no local activity with seq %u was "
                            "scheduled", cmd->seq);
    /* Replaying, the marker says how it ended, cancelled or not: it still waits for it. */
    if (la->state == LA_RESOLVED || la->state == LA_WAITING)
        return 0;
    if (la->state == LA_RUNNING) {
        if (!GROW(run->la_cancels, run->la_cancel_count, run->la_cancel_cap))
            return no_memory();
        run->la_cancels[run->la_cancel_count++] = la->seq;
    }
    return la_resolve_live(run, la, TW_RESOLUTION_CANCELLED, NULL, NULL, 0, la->attempt, run->wft_time);
}

static int la_activation(tw_run *run, tw_activation *a)
{
    for (size_t i = 0; i < run->la_done_count; i++) {
        tw_job *j = tw_activation_add_job(a, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
        if (!j)
            return no_memory();
        la_job_fill(j, &run->la_done[i]);
    }
    run->la_done_count = 0;
    return 0;
}

size_t tw_run_local_activities_outstanding(const tw_run *run)
{
    size_t n = 0;
    for (size_t i = 0; run && i < run->la_count; i++)
        n += run->las[i].state == LA_REQUESTED || run->las[i].state == LA_RUNNING;
    return n;
}

int tw_run_take_local_activity_requests(tw_run *run, int64_t now_ns, tw_run_la_request **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    size_t n = run->la_cancel_count;
    for (size_t i = 0; i < run->la_count; i++)
        n += run->las[i].state == LA_REQUESTED && run->las[i].request != NULL;
    if (!n)
        return 0;
    tw_run_la_request *reqs = calloc(n, sizeof(*reqs));
    if (!reqs)
        return no_memory();
    for (size_t i = 0; i < run->la_count; i++) {
        la_rec *la = &run->las[i];
        if (la->state != LA_REQUESTED || !la->request)
            continue;
        if (!la->scheduled_ns)
            la->scheduled_ns = now_ns;
        reqs[*count].seq = la->seq;
        reqs[*count].schedule = la->request;
        reqs[*count].params = (tw_la_params){.attempt = la->attempt,
                                             .original_schedule_ms = la->scheduled_ns / 1000000,
                                             .retry_threshold_ms = la->retry_threshold_ms};
        (*count)++;
        la->request = NULL;
        la->state = LA_RUNNING;
    }
    for (size_t i = 0; i < run->la_cancel_count; i++) {
        reqs[*count].seq = run->la_cancels[i];
        reqs[*count].cancel = true;
        (*count)++;
    }
    run->la_cancel_count = 0;
    *out = reqs;
    return 0;
}

int tw_run_resolve_local_activity(tw_run *run, uint32_t seq, int resolution, const tw_payloads *result,
                                  const Temporal__Api__Failure__V1__Failure *failure, int retry_state,
                                  int32_t attempt, int64_t complete_time_ns)
{
    if (!run)
        return tw_set_error(TW_EINVAL, "tw_run_resolve_local_activity: run is NULL");
    la_rec *la = la_by_seq(run, seq);
    if (!la || la->state != LA_RUNNING)
        return 0; /* cancelled meanwhile, or the run was reset: the late outcome is dropped */
    if (run->broken)
        return 0;
    return la_resolve_live(run, la, resolution, result, failure, retry_state, attempt, complete_time_ns);
}

/* ---- activations ---- */

static int immediate_activation(tw_run *run, tw_activation *a)
{
    for (size_t i = 0; i < run->imm_count; i++) {
        const activity_rec *act = &run->acts[run->immediate[i]];
        tw_job *j = tw_activation_add_job(a, TW_JOB_RESOLVE_ACTIVITY);
        if (!j)
            return no_memory();
        j->seq = act->seq;
        j->resolution = TW_RESOLUTION_CANCELLED;
        if (!(j->failure = activity_cancel_failure(act, "", act->scheduled_event_id, 0, NULL)))
            return no_memory();
    }
    run->imm_count = 0;
    return 0;
}

/* The resolutions of children and signals that need no history event. */
static int ready_activation(tw_run *run, tw_activation *a)
{
    for (size_t i = 0; i < run->ready_count; i++) {
        ready_job *r = &run->ready[i];
        tw_job *j = tw_activation_add_job(a, r->kind);
        if (!j)
            return no_memory();
        j->seq = r->seq;
        j->resolution = r->resolution;
        j->failure = r->failure;
        r->failure = NULL;
    }
    run->ready_count = 0;
    return 0;
}

/*
 * Replaying: the patch markers among the command events that the task of
 * boundary produced (after its WorkflowTaskCompleted, up to the next
 * workflow task) tell the workflow which patches its code took back then.
 */
static int patch_notifications(const tw_run *run, size_t boundary, tw_activation *a)
{
    for (size_t i = boundary + 2; i < run->event_count; i++) {
        const tw_pb_event *ev = run->events[i];
        if (ev->event_type == EV(WORKFLOW_TASK_SCHEDULED) || ev->event_type == EV(WORKFLOW_TASK_STARTED))
            break;
        char *id;
        bool deprecated;
        if (!patch_marker_of(ev, &id, &deprecated))
            continue;
        tw_job *j = tw_activation_add_job(a, TW_JOB_NOTIFY_HAS_PATCH);
        if (!j) {
            free(id);
            return no_memory();
        }
        j->name = id;
    }
    return 0;
}

static int history_activation(tw_run *run, size_t boundary, tw_activation *a, tw_error **err)
{
    while (run->pos <= boundary) {
        const tw_pb_event *ev = run->events[run->pos];
        int rc;
        if (ev->event_type == EV(WORKFLOW_TASK_COMPLETED)) {
            if ((rc = match_task_commands(run, err)))
                return rc;
            continue;
        }
        if ((rc = apply_event(run, ev, a, err)))
            return rc;
        run->pos++;
    }
    return 0;
}

/* Whether a local activity is unresolved: running or to run (live), or waiting for its marker (replaying). */
static bool la_pending(const tw_run *run)
{
    for (size_t i = 0; i < run->la_count; i++) {
        if (run->las[i].state != LA_RESOLVED)
            return true;
    }
    return false;
}

/*
 * A workflow task whose events hold nothing for the workflow while local
 * activities are unresolved (the task the server made after a heartbeat)
 * is not handed to it, as sdk-core does not: replaying, it is matched as a
 * completion with no commands; live, it waits on the local activities.
 * (Other tasks without jobs still make an empty activation, as before.)
 */
static int skip_empty_task(tw_run *run, tw_error **err)
{
    return run->wft_live ? 0 : match_task_commands(run, err);
}

int tw_run_next_activation(tw_run *run, tw_activation **out, bool *live, tw_error **err)
{
    if (err)
        *err = NULL;
    if (out)
        *out = NULL;
    if (live)
        *live = false;
    if (!run || !out || !live)
        return tw_set_error(TW_EINVAL, "tw_run_next_activation: %s is NULL", !run ? "run" : !out ? "out" : "live");
    if (run->broken)
        return tw_set_error(TW_EINVAL, "tw_run_next_activation: run %s is unusable after an earlier error",
                            run->run_id);
    if (run->awaiting)
        return tw_set_error(TW_EINVAL, "tw_run_next_activation: the last activation of run %s awaits its completion",
                            run->run_id);
    bool boundary_live = false;
    /* Between tasks (the live one was answered), resolutions go with the next task's activation. */
    bool immediate = !run->between_tasks && (run->imm_count || run->la_done_count || run->ready_count);
    long boundary = immediate ? -1 : find_boundary(run, run->pos, &boundary_live);
    if (!immediate && boundary < 0)
        return tw_set_error(TW_EINVAL, "tw_run_next_activation: run %s has no activation to make", run->run_id);

    tw_activation *a = tw_activation_create(run->run_id);
    if (!a)
        return no_memory();
    int rc;
    bool skipped = false;
    if (immediate) {
        rc = immediate_activation(run, a);
        if (!rc)
            rc = la_activation(run, a);
        if (!rc)
            rc = ready_activation(run, a);
    } else {
        rc = history_activation(run, (size_t)boundary, a, err);
        if (!rc && !boundary_live)
            rc = patch_notifications(run, (size_t)boundary, a);
        if (!rc && !boundary_live)
            rc = la_peek_markers(run, (size_t)boundary, a);
        if (!rc && boundary_live)
            la_run_waiting(run);
        /* Local activities that ended between tasks. */
        if (!rc)
            rc = immediate_activation(run, a);
        if (!rc)
            rc = la_activation(run, a);
        if (!rc)
            rc = ready_activation(run, a);
        if (!rc) {
            const tw_pb_event *started = run->events[boundary];
            run->between_tasks = false;
            run->wft_live = boundary_live;
            run->wft_time = tw_timestamp_to_ns(started->event_time);
            run->wft_started_id = started->event_id;
            skipped = a->job_count == 0 && la_pending(run);
            if (skipped)
                rc = skip_empty_task(run, err);
        }
        if (!rc && skipped) {
            tw_activation_free(a);
            *live = run->wft_live;
            return 0;
        }
    }
    if (rc) {
        run->broken = true;
        tw_activation_free(a);
        return rc;
    }
    a->timestamp = run->wft_time;
    a->replaying = !run->wft_live;
    a->history_length = run->wft_started_id;
    tw_activation_sort_jobs(a);
    run->awaiting = true;
    *live = run->wft_live;
    *out = a;
    return 0;
}

/* ---- completions -> pending commands ---- */

static int push_pending(tw_run *run, tw_cmd *cmd, const char *id, const char *name, int64_t scheduled_event_id)
{
    if (!GROW(run->pend, run->pend_count, run->pend_cap))
        return no_memory();
    pending *p = &run->pend[run->pend_count];
    *p = (pending){.type = (int)cmd->pb->command_type, .seq = cmd->seq, .scheduled_event_id = scheduled_event_id};
    p->id = tw_strdup(id);
    p->name = tw_strdup(name);
    if ((id && !p->id) || (name && !p->name)) {
        free(p->id);
        free(p->name);
        return no_memory();
    }
    p->pb = cmd->pb;
    cmd->pb = NULL;
    run->pend_count++;
    return 0;
}

/* Drops the still unsent command of kind type for seq (cancelled before it was sent). */
static void drop_unsent(tw_run *run, int type, uint32_t seq)
{
    for (size_t i = run->pend_count; i > 0; i--) {
        if (run->pend[i - 1].type == type && run->pend[i - 1].seq == seq) {
            pending_remove(run, i - 1);
            return;
        }
    }
}

/*
 * A command that names no task queue (*queue NULL, or one with an empty
 * name) goes to the run's own, as the workflow's options promise. Out of
 * memory is left in b->oom.
 */
static void default_task_queue(const tw_run *run, pb_build *b, Temporal__Api__Taskqueue__V1__TaskQueue **queue)
{
    if (!*queue) {
        *queue = pb_new(b, &temporal__api__taskqueue__v1__task_queue__descriptor);
        if (*queue)
            (*queue)->kind = TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL;
    }
    if (*queue && tw_str_empty((*queue)->name))
        (*queue)->name = pb_str(b, run->task_queue);
}

static int resolve_now(tw_run *run, activity_rec *act)
{
    if (!GROW(run->immediate, run->imm_count, run->imm_cap))
        return no_memory();
    act->state = ACT_RESOLVED;
    run->immediate[run->imm_count++] = (size_t)(act - run->acts);
    return 0;
}

static int apply_start_timer(tw_run *run, tw_cmd *cmd)
{
    timer_rec *t = timer_by_seq(run, cmd->seq);
    if (t && t->state != TIMER_DONE)
        return tw_set_error(TW_EINVAL, "tw_run_complete: timer seq %u is already used by a pending timer", cmd->seq);
    if (!GROW(run->timers, run->timer_count, run->timer_cap))
        return no_memory();
    int rc = push_pending(run, cmd, cmd->pb->start_timer_command_attributes->timer_id, NULL, 0);
    if (rc)
        return rc;
    run->timers[run->timer_count++] = (timer_rec){.seq = cmd->seq, .state = TIMER_UNSENT};
    return 0;
}

static int apply_cancel_timer(tw_run *run, tw_cmd *cmd)
{
    timer_rec *t = timer_by_seq(run, cmd->seq);
    if (!t)
        return tw_set_error(TW_EINVAL, "tw_run_complete: cancel_timer: no timer with seq %u was started", cmd->seq);
    int state = t->state;
    t->state = TIMER_DONE;
    if (state == TIMER_UNSENT)
        drop_unsent(run, CMD(START_TIMER), cmd->seq);
    if (state != TIMER_STARTED)
        return 0;
    return push_pending(run, cmd, cmd->pb->cancel_timer_command_attributes->timer_id, NULL, 0);
}

static int apply_schedule_activity(tw_run *run, tw_cmd *cmd)
{
    activity_rec *old = activity_by_seq(run, cmd->seq);
    if (old && old->state != ACT_RESOLVED)
        return tw_set_error(TW_EINVAL, "tw_run_complete: activity seq %u is already used by an unresolved activity",
                            cmd->seq);
    Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *a =
        cmd->pb->schedule_activity_task_command_attributes;
    pb_build b = {false};
    default_task_queue(run, &b, &a->task_queue);
    if (b.oom || !GROW(run->acts, run->act_count, run->act_cap))
        return no_memory();
    activity_rec rec = {.seq = cmd->seq, .state = ACT_UNSENT, .cancellation_type = cmd->cancellation_type};
    rec.activity_id = tw_strdup(str(a->activity_id));
    rec.activity_type = tw_strdup(activity_type_name(a->activity_type));
    int rc = rec.activity_id && rec.activity_type ? push_pending(run, cmd, rec.activity_id, rec.activity_type, 0)
                                                  : no_memory();
    if (rc) {
        free(rec.activity_id);
        free(rec.activity_type);
        return rc;
    }
    run->acts[run->act_count++] = rec;
    return 0;
}

static int apply_cancel_activity(tw_run *run, tw_cmd *cmd)
{
    activity_rec *act = activity_by_seq(run, cmd->seq);
    if (!act)
        return tw_set_error(TW_EINVAL, "tw_run_complete: request_cancel_activity: no activity with seq %u was scheduled",
                            cmd->seq);
    switch (act->state) {
    case ACT_UNSENT:
        /* Never sent: drop the schedule command too, and tell the workflow at once. */
        drop_unsent(run, CMD(SCHEDULE_ACTIVITY_TASK), cmd->seq);
        return resolve_now(run, act);
    case ACT_SCHEDULED:
        if (act->cancellation_type == TW_ACTIVITY_CANCEL_ABANDON)
            return resolve_now(run, act);
        cmd->pb->request_cancel_activity_task_command_attributes->scheduled_event_id = act->scheduled_event_id;
        int rc = push_pending(run, cmd, NULL, NULL, act->scheduled_event_id);
        if (rc)
            return rc;
        if (act->cancellation_type == TW_ACTIVITY_CANCEL_TRY)
            return resolve_now(run, act);
        act->state = ACT_CANCEL_REQUESTED;
        return 0;
    default:
        return 0;  /* already resolved or being cancelled */
    }
}

static void ready_clear(tw_run *run)
{
    for (size_t i = 0; i < run->ready_count; i++)
        tw_failure_destroy(run->ready[i].failure);
    run->ready_count = 0;
}

/* Queues a resolution for one more activation of this task (takes failure). */
static int push_ready(tw_run *run, int kind, uint32_t seq, int resolution, tw_failure *failure)
{
    if (!failure || !GROW(run->ready, run->ready_count, run->ready_cap)) {
        tw_failure_destroy(failure);
        return no_memory();
    }
    run->ready[run->ready_count++] =
        (ready_job){.kind = kind, .seq = seq, .resolution = resolution, .failure = failure};
    return 0;
}

/* ---- child workflows ---- */

static int apply_start_child(tw_run *run, tw_cmd *cmd)
{
    child_rec *old = child_by_seq(run, cmd->seq);
    if (old && old->state != CHILD_DONE)
        return tw_set_error(TW_EINVAL, "tw_run_complete: child workflow seq %u is already used by an unresolved child "
                                       "workflow", cmd->seq);
    Temporal__Api__Command__V1__StartChildWorkflowExecutionCommandAttributes *a =
        cmd->pb->start_child_workflow_execution_command_attributes;
    pb_build b = {false};
    default_task_queue(run, &b, &a->task_queue);
    if (b.oom || !GROW(run->children, run->child_count, run->child_cap))
        return no_memory();
    child_rec rec = {.seq = cmd->seq, .state = CHILD_UNSENT, .cancellation_type = cmd->cancellation_type};
    rec.namespace_ = tw_strdup(str(a->namespace_));
    rec.workflow_id = tw_strdup(str(a->workflow_id));
    rec.workflow_type = tw_strdup(a->workflow_type ? str(a->workflow_type->name) : "");
    rec.run_id = tw_strdup("");
    int rc = rec.namespace_ && rec.workflow_id && rec.workflow_type && rec.run_id
                 ? push_pending(run, cmd, rec.workflow_id, rec.workflow_type, 0)
                 : no_memory();
    if (rc) {
        free(rec.namespace_);
        free(rec.workflow_id);
        free(rec.workflow_type);
        free(rec.run_id);
        return rc;
    }
    run->children[run->child_count++] = rec;
    return 0;
}

static int apply_cancel_child(tw_run *run, tw_cmd *cmd)
{
    child_rec *ch = child_by_seq(run, cmd->seq);
    if (!ch)
        return tw_set_error(TW_EINVAL, "tw_run_complete: cancel_child_workflow: no child workflow with seq %u was "
                                       "started", cmd->seq);
    if (ch->state == CHILD_DONE || ch->cancel_sent)
        return 0;
    if (ch->state == CHILD_UNSENT) {
        /* Never sent: drop the start command, and tell the workflow at once. */
        drop_unsent(run, CMD(START_CHILD_WORKFLOW_EXECUTION), cmd->seq);
        ch->state = CHILD_DONE;
        return push_ready(run, TW_JOB_RESOLVE_CHILD_START, ch->seq, TW_RESOLUTION_CANCELLED,
                          child_cancel_failure(ch, "Child Workflow Execution cancelled before scheduled", NULL));
    }
    if (ch->cancellation_type != TW_CHILD_CANCEL_ABANDON) {
        /* Ask the server to cancel the child (its run is not known before it started). */
        Temporal__Api__Command__V1__RequestCancelExternalWorkflowExecutionCommandAttributes *a =
            cmd->pb->request_cancel_external_workflow_execution_command_attributes;
        pb_build b = {false};
        a->namespace_ = pb_str(&b, str(ch->namespace_));
        a->workflow_id = pb_str(&b, str(ch->workflow_id));
        a->run_id = pb_str(&b, str(ch->run_id));
        a->child_workflow_only = true;
        if (b.oom)
            return no_memory();
        int rc = push_pending(run, cmd, ch->workflow_id, NULL, 0);
        if (rc)
            return rc;
        run->pend[run->pend_count - 1].child = true;
        ch->cancel_sent = true;
    }
    if (ch->cancellation_type != TW_CHILD_CANCEL_ABANDON && ch->cancellation_type != TW_CHILD_CANCEL_TRY)
        return 0; /* WAIT_*: resolved by history */
    int kind = ch->state == CHILD_STARTED ? TW_JOB_RESOLVE_CHILD : TW_JOB_RESOLVE_CHILD_START;
    ch->state = CHILD_DONE;
    return push_ready(run, kind, ch->seq, TW_RESOLUTION_CANCELLED,
                      child_cancel_failure(ch, "Child Workflow execution cancelled", NULL));
}

/* ---- signals and cancellation requests of other workflows ---- */

static int apply_signal_external(tw_run *run, tw_cmd *cmd)
{
    ext_rec *old = ext_by_seq(run->signals, run->sig_count, cmd->seq);
    if (old && old->state != EXT_DONE)
        return tw_set_error(TW_EINVAL, "tw_run_complete: signal seq %u is already used by an unresolved signal",
                            cmd->seq);
    const Temporal__Api__Command__V1__SignalExternalWorkflowExecutionCommandAttributes *a =
        cmd->pb->signal_external_workflow_execution_command_attributes;
    if (!GROW(run->signals, run->sig_count, run->sig_cap))
        return no_memory();
    int rc = push_pending(run, cmd, execution_workflow_id(a->execution), str(a->signal_name), 0);
    if (rc)
        return rc;
    run->signals[run->sig_count++] = (ext_rec){.seq = cmd->seq, .state = EXT_UNSENT};
    return 0;
}

static int apply_cancel_signal(tw_run *run, tw_cmd *cmd)
{
    ext_rec *sig = ext_by_seq(run->signals, run->sig_count, cmd->seq);
    if (!sig)
        return tw_set_error(TW_EINVAL, "tw_run_complete: cancel_signal_external: no signal with seq %u was sent",
                            cmd->seq);
    if (sig->state == EXT_DONE)
        return 0;
    bool unsent = sig->state == EXT_UNSENT;
    if (unsent)
        drop_unsent(run, CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION), cmd->seq);
    sig->state = EXT_DONE;
    return push_ready(run, TW_JOB_RESOLVE_SIGNAL_EXTERNAL, cmd->seq, TW_RESOLUTION_CANCELLED,
                      simple_failure(unsent ? "Signal was cancelled before being sent"
                                            : "Signal was cancelled after being sent",
                                     NULL));
}

static int apply_cancel_external(tw_run *run, tw_cmd *cmd)
{
    ext_rec *old = ext_by_seq(run->cancels, run->ext_count, cmd->seq);
    if (old && old->state != EXT_DONE)
        return tw_set_error(TW_EINVAL, "tw_run_complete: cancellation request seq %u is already used by an "
                                       "unresolved request", cmd->seq);
    if (!GROW(run->cancels, run->ext_count, run->ext_cap))
        return no_memory();
    const char *target = str(cmd->pb->request_cancel_external_workflow_execution_command_attributes->workflow_id);
    int rc = push_pending(run, cmd, target, NULL, 0);
    if (rc)
        return rc;
    run->cancels[run->ext_count++] = (ext_rec){.seq = cmd->seq, .state = EXT_UNSENT};
    return 0;
}

/* ---- patches ---- */

static int apply_patch(tw_run *run, tw_cmd *cmd)
{
    /* One marker per patch id and run, as sdk-core makes. */
    for (size_t i = 0; i < run->patch_count; i++) {
        if (strcmp(run->patches[i], cmd->patch_id) == 0)
            return 0;
    }
    char *id = tw_strdup(cmd->patch_id);
    if (!id || !GROW(run->patches, run->patch_count, run->patch_cap)) {
        free(id);
        return no_memory();
    }
    int rc = push_pending(run, cmd, id, NULL, 0);
    if (rc) {
        free(id);
        return rc;
    }
    run->patches[run->patch_count++] = id;
    run->pend[run->pend_count - 1].patch = true;
    run->pend[run->pend_count - 1].deprecated = cmd->deprecated;
    return 0;
}

static int fill_continue_as_new(const tw_run *run, tw_cmd *cmd)
{
    Temporal__Api__Command__V1__ContinueAsNewWorkflowExecutionCommandAttributes *a =
        cmd->pb->continue_as_new_workflow_execution_command_attributes;
    pb_build b = {false};
    if (!a->workflow_type) {
        a->workflow_type = pb_new(&b, &temporal__api__common__v1__workflow_type__descriptor);
        if (a->workflow_type)
            a->workflow_type->name = pb_str(&b, run->workflow_type);
    }
    default_task_queue(run, &b, &a->task_queue);
    return b.oom ? no_memory() : 0;
}

static int apply_command(tw_run *run, tw_cmd *cmd)
{
    switch (cmd->op) {
    case TW_CMD_CANCEL_CHILD: return apply_cancel_child(run, cmd);
    case TW_CMD_CANCEL_SIGNAL: return apply_cancel_signal(run, cmd);
    case TW_CMD_PATCH: return apply_patch(run, cmd);
    default: break;
    }
    int type = (int)cmd->pb->command_type;
    int rc;
    if (cmd->local && type == CMD(SCHEDULE_ACTIVITY_TASK))
        return apply_schedule_local(run, cmd);
    if (cmd->local)
        return apply_cancel_local(run, cmd);
    switch (type) {
    case CMD(START_TIMER): return apply_start_timer(run, cmd);
    case CMD(CANCEL_TIMER): return apply_cancel_timer(run, cmd);
    case CMD(SCHEDULE_ACTIVITY_TASK): return apply_schedule_activity(run, cmd);
    case CMD(REQUEST_CANCEL_ACTIVITY_TASK): return apply_cancel_activity(run, cmd);
    case CMD(START_CHILD_WORKFLOW_EXECUTION): return apply_start_child(run, cmd);
    case CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION): return apply_signal_external(run, cmd);
    case CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION): return apply_cancel_external(run, cmd);
    case CMD(CONTINUE_AS_NEW_WORKFLOW_EXECUTION):
        if ((rc = fill_continue_as_new(run, cmd)))
            return rc;
        break;
    default:
        break;
    }
    if (tw_command_is_terminal(type)) {
        /* The workflow is done: nothing else is delivered to it in this task. */
        run->imm_count = 0;
        ready_clear(run);
        for (size_t i = 0; i < run->la_done_count; i++) {
            tw_payloads_free(run->la_done[i].result);
            tw_failure_destroy(run->la_done[i].failure);
        }
        run->la_done_count = 0;
    }
    return push_pending(run, cmd, NULL, NULL, 0);
}

/* Hands the live task's commands to the worker (they stay pending for matching). */
static int output_commands(tw_run *run, tw_run_output *out)
{
    size_t n = run->marker_count;
    for (size_t i = 0; i < run->pend_count; i++)
        n += run->pend[i].pb != NULL;
    if (!n)
        return 0;
    out->commands = calloc(n, sizeof(*out->commands));
    if (!out->commands)
        return no_memory();
    /* Markers first: their local activities were scheduled before anything still pending was sent. */
    for (size_t i = 0; i < run->marker_count; i++)
        out->commands[out->command_count++] = run->markers[i];
    run->marker_count = 0;
    for (size_t i = 0; i < run->pend_count; i++) {
        pending *p = &run->pend[i];
        if (!p->pb)
            continue;
        out->commands[out->command_count++] = p->pb;
        p->pb = NULL;
        if (tw_command_is_terminal(p->type))
            out->terminal = true;
    }
    return 0;
}

int tw_run_complete(tw_run *run, tw_completion *c, tw_run_output *out, tw_error **err)
{
    if (err)
        *err = NULL;
    if (out)
        memset(out, 0, sizeof(*out));
    if (!run || !c || !out) {
        tw_completion_free(c);
        return tw_set_error(TW_EINVAL, "tw_run_complete: %s is NULL", !run ? "run" : !c ? "c" : "out");
    }
    if (strcmp(c->run_id, run->run_id) != 0) {
        int rc = tw_set_error(TW_EINVAL, "tw_run_complete: the completion is for run %s, not for run %s", c->run_id,
                              run->run_id);
        tw_completion_free(c);
        return rc;
    }
    if (!run->awaiting || run->broken) {
        tw_completion_free(c);
        return tw_set_error(TW_EINVAL, "tw_run_complete: run %s has no activation awaiting a completion",
                            run->run_id);
    }
    run->awaiting = false;
    tw_completion_move_answers(c, out);
    if (c->task_failed) {
        /* The task will be retried from the server's history: this run's state is of no further use. */
        pending_drop_all(run);
        run->imm_count = 0;
        ready_clear(run);
        run->broken = true;
        tw_completion_free(c);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < c->cmd_count && !rc; i++)
        rc = apply_command(run, &c->cmds[i]);
    tw_completion_free(c);
    if (!rc && !run->imm_count && !run->la_done_count && !run->ready_count &&
        !tw_run_local_activities_outstanding(run)) {
        if (run->wft_live) {
            rc = output_commands(run, out);
            run->live_started_id = run->wft_started_id;
            run->between_tasks = true;
        } else {
            rc = match_task_commands(run, err);
        }
    }
    if (rc) {
        run->broken = true;
        tw_run_output_clear(out);
    }
    return rc;
}

int tw_run_heartbeat(tw_run *run, tw_run_output *out)
{
    if (out)
        memset(out, 0, sizeof(*out));
    if (!run || !out)
        return tw_set_error(TW_EINVAL, "tw_run_heartbeat: %s is NULL", !run ? "run" : "out");
    if (run->broken || run->awaiting || !run->wft_live || run->between_tasks || tw_run_has_next_activation(run) ||
        !tw_run_local_activities_outstanding(run))
        return tw_set_error(TW_EINVAL, "tw_run_heartbeat: run %s has no live workflow task waiting on local "
                            "activities only", run->run_id);
    int rc = output_commands(run, out);
    if (rc) {
        run->broken = true;
        tw_run_output_clear(out);
        return rc;
    }
    run->live_started_id = run->wft_started_id;
    run->between_tasks = true;
    return 0;
}
