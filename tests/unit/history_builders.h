/*
 * Builders of synthetic histories for the unit tests of lib/history and
 * lib/runtime: History pages of heap HistoryEvent protobuf messages (made
 * with lib/common/pbbuild.h, so one protobuf_c_message_free_unpacked, or
 * tw_run_append taking the page, frees a whole page).
 *
 * Event ids are consecutive from 1 and every event is one second after the
 * previous one (time_of). The started event is for workflow type "greeter"
 * on task queue "tq", workflow id "wf-id". Header-only (static inline): a
 * test includes it once. The builder's allocation failures are remembered
 * in B.oom; a test checks it before using the history.
 */
#ifndef TW_TESTS_UNIT_HISTORY_BUILDERS_H
#define TW_TESTS_UNIT_HISTORY_BUILDERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <criterion/criterion.h>

#include "common/pbbuild.h"
#include "history/history.h"

typedef Temporal__Api__History__V1__History pb_history;
typedef Temporal__Api__History__V1__HistoryEvent pb_event;
typedef Temporal__Api__Failure__V1__Failure pb_failure;

#define EV(name) TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_##name
#define CMD(name) TEMPORAL__API__ENUMS__V1__COMMAND_TYPE__COMMAND_TYPE_##name
#define ATTR(name) TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_##name##_EVENT_ATTRIBUTES

#define T0 1700000000LL

/* Workflow time of event id: every event is one second after the previous. */
static inline int64_t time_of(int64_t id)
{
    return (T0 + id) * 1000000000LL;
}

static pb_build B;

static inline pb_history *hist_new(void)
{
    pb_history *h = pb_new(&B, &temporal__api__history__v1__history__descriptor);
    cr_assert_not_null(h);
    return h;
}

static inline pb_event *add_event(pb_history *h, int type)
{
    pb_event *e = pb_new(&B, &temporal__api__history__v1__history_event__descriptor);
    cr_assert_not_null(e);
    e->event_id = (int64_t)h->n_events + 1;
    e->event_type = (Temporal__Api__Enums__V1__EventType)type;
    e->event_time = pb_new(&B, &google__protobuf__timestamp__descriptor);
    e->event_time->seconds = T0 + e->event_id;
    h->events = realloc(h->events, (h->n_events + 1) * sizeof(*h->events));
    cr_assert_not_null(h->events);
    h->events[h->n_events++] = e;
    return e;
}

#define NEW_ATTR(e, field, name, desc)                \
    do {                                              \
        (e)->attributes_case = ATTR(name);            \
        (e)->field = pb_new(&B, &(desc));             \
        cr_assert_not_null((e)->field);               \
    } while (0)

static inline Temporal__Api__Common__V1__Payloads *json_payloads(const char *json)
{
    tw_payloads *l;
    cr_assert_eq(tw_payloads_new(&l), 0);
    cr_assert_eq(tw_payloads_add_json(l, json, NULL), 0);
    Temporal__Api__Common__V1__Payloads *p = pb_payloads(&B, l);
    tw_payloads_free(l);
    return p;
}

/* A one-entry map list {name: json}. */
static inline tw_payloads *named_json(const char *name, const char *json)
{
    tw_payloads *l;
    size_t i;
    cr_assert_eq(tw_payloads_new(&l), 0);
    cr_assert_eq(tw_payloads_add_json(l, json, &i), 0);
    cr_assert_eq(tw_payloads_set_name(l, i, name), 0);
    return l;
}

static inline pb_failure *app_failure(const char *message, const char *type)
{
    pb_failure *f = pb_new(&B, &temporal__api__failure__v1__failure__descriptor);
    f->message = pb_str(&B, message);
    f->failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO;
    f->application_failure_info = pb_new(&B, &temporal__api__failure__v1__application_failure_info__descriptor);
    f->application_failure_info->type = pb_str(&B, type);
    return f;
}

static inline Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *started(pb_history *h)
{
    pb_event *e = add_event(h, EV(WORKFLOW_EXECUTION_STARTED));
    NEW_ATTR(e, workflow_execution_started_event_attributes, WORKFLOW_EXECUTION_STARTED,
             temporal__api__history__v1__workflow_execution_started_event_attributes__descriptor);
    Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *a =
        e->workflow_execution_started_event_attributes;
    a->workflow_type = pb_new(&B, &temporal__api__common__v1__workflow_type__descriptor);
    a->workflow_type->name = pb_str(&B, "greeter");
    a->task_queue = pb_new(&B, &temporal__api__taskqueue__v1__task_queue__descriptor);
    a->task_queue->name = pb_str(&B, "tq");
    a->workflow_id = pb_str(&B, "wf-id");
    a->attempt = 1;
    return a;
}

/* WorkflowTaskScheduled + Started (+ Completed when done); returns the last id. */
static inline int64_t wft(pb_history *h, bool done)
{
    pb_event *s = add_event(h, EV(WORKFLOW_TASK_SCHEDULED));
    NEW_ATTR(s, workflow_task_scheduled_event_attributes, WORKFLOW_TASK_SCHEDULED,
             temporal__api__history__v1__workflow_task_scheduled_event_attributes__descriptor);
    pb_event *st = add_event(h, EV(WORKFLOW_TASK_STARTED));
    NEW_ATTR(st, workflow_task_started_event_attributes, WORKFLOW_TASK_STARTED,
             temporal__api__history__v1__workflow_task_started_event_attributes__descriptor);
    st->workflow_task_started_event_attributes->scheduled_event_id = s->event_id;
    if (!done)
        return st->event_id;
    pb_event *c = add_event(h, EV(WORKFLOW_TASK_COMPLETED));
    NEW_ATTR(c, workflow_task_completed_event_attributes, WORKFLOW_TASK_COMPLETED,
             temporal__api__history__v1__workflow_task_completed_event_attributes__descriptor);
    c->workflow_task_completed_event_attributes->scheduled_event_id = s->event_id;
    c->workflow_task_completed_event_attributes->started_event_id = st->event_id;
    return c->event_id;
}

static inline int64_t wft_failed(pb_history *h, int64_t started_id)
{
    pb_event *e = add_event(h, EV(WORKFLOW_TASK_FAILED));
    NEW_ATTR(e, workflow_task_failed_event_attributes, WORKFLOW_TASK_FAILED,
             temporal__api__history__v1__workflow_task_failed_event_attributes__descriptor);
    e->workflow_task_failed_event_attributes->started_event_id = started_id;
    e->workflow_task_failed_event_attributes->scheduled_event_id = started_id - 1;
    return e->event_id;
}

static inline int64_t timer_started(pb_history *h, const char *timer_id, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(TIMER_STARTED));
    NEW_ATTR(e, timer_started_event_attributes, TIMER_STARTED,
             temporal__api__history__v1__timer_started_event_attributes__descriptor);
    e->timer_started_event_attributes->timer_id = pb_str(&B, timer_id);
    e->timer_started_event_attributes->start_to_fire_timeout = pb_duration_ms(&B, 1000);
    e->timer_started_event_attributes->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline int64_t timer_fired(pb_history *h, const char *timer_id, int64_t started_id)
{
    pb_event *e = add_event(h, EV(TIMER_FIRED));
    NEW_ATTR(e, timer_fired_event_attributes, TIMER_FIRED,
             temporal__api__history__v1__timer_fired_event_attributes__descriptor);
    e->timer_fired_event_attributes->timer_id = pb_str(&B, timer_id);
    e->timer_fired_event_attributes->started_event_id = started_id;
    return e->event_id;
}

static inline int64_t act_scheduled(pb_history *h, const char *activity_id, const char *type, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(ACTIVITY_TASK_SCHEDULED));
    NEW_ATTR(e, activity_task_scheduled_event_attributes, ACTIVITY_TASK_SCHEDULED,
             temporal__api__history__v1__activity_task_scheduled_event_attributes__descriptor);
    Temporal__Api__History__V1__ActivityTaskScheduledEventAttributes *a = e->activity_task_scheduled_event_attributes;
    a->activity_id = pb_str(&B, activity_id);
    a->activity_type = pb_new(&B, &temporal__api__common__v1__activity_type__descriptor);
    a->activity_type->name = pb_str(&B, type);
    a->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline int64_t act_started(pb_history *h, int64_t scheduled_id)
{
    pb_event *e = add_event(h, EV(ACTIVITY_TASK_STARTED));
    NEW_ATTR(e, activity_task_started_event_attributes, ACTIVITY_TASK_STARTED,
             temporal__api__history__v1__activity_task_started_event_attributes__descriptor);
    e->activity_task_started_event_attributes->scheduled_event_id = scheduled_id;
    return e->event_id;
}

static inline int64_t act_completed(pb_history *h, int64_t scheduled_id, int64_t started_id, const char *json)
{
    pb_event *e = add_event(h, EV(ACTIVITY_TASK_COMPLETED));
    NEW_ATTR(e, activity_task_completed_event_attributes, ACTIVITY_TASK_COMPLETED,
             temporal__api__history__v1__activity_task_completed_event_attributes__descriptor);
    e->activity_task_completed_event_attributes->scheduled_event_id = scheduled_id;
    e->activity_task_completed_event_attributes->started_event_id = started_id;
    e->activity_task_completed_event_attributes->result = json ? json_payloads(json) : NULL;
    return e->event_id;
}

static inline int64_t act_failed(pb_history *h, int64_t scheduled_id, int64_t started_id)
{
    pb_event *e = add_event(h, EV(ACTIVITY_TASK_FAILED));
    NEW_ATTR(e, activity_task_failed_event_attributes, ACTIVITY_TASK_FAILED,
             temporal__api__history__v1__activity_task_failed_event_attributes__descriptor);
    Temporal__Api__History__V1__ActivityTaskFailedEventAttributes *a = e->activity_task_failed_event_attributes;
    a->scheduled_event_id = scheduled_id;
    a->started_event_id = started_id;
    a->identity = pb_str(&B, "worker@host");
    a->retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
    a->failure = app_failure("boom", "ValueError");
    return e->event_id;
}

static inline int64_t act_timed_out(pb_history *h, int64_t scheduled_id, int64_t started_id)
{
    pb_event *e = add_event(h, EV(ACTIVITY_TASK_TIMED_OUT));
    NEW_ATTR(e, activity_task_timed_out_event_attributes, ACTIVITY_TASK_TIMED_OUT,
             temporal__api__history__v1__activity_task_timed_out_event_attributes__descriptor);
    Temporal__Api__History__V1__ActivityTaskTimedOutEventAttributes *a = e->activity_task_timed_out_event_attributes;
    a->scheduled_event_id = scheduled_id;
    a->started_event_id = started_id;
    a->retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_TIMEOUT;
    pb_failure *f = pb_new(&B, &temporal__api__failure__v1__failure__descriptor);
    f->message = pb_str(&B, "activity StartToClose timeout");
    f->failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_TIMEOUT_FAILURE_INFO;
    f->timeout_failure_info = pb_new(&B, &temporal__api__failure__v1__timeout_failure_info__descriptor);
    f->timeout_failure_info->timeout_type = TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_START_TO_CLOSE;
    a->failure = f;
    return e->event_id;
}

static inline int64_t act_cancel_requested(pb_history *h, int64_t scheduled_id, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(ACTIVITY_TASK_CANCEL_REQUESTED));
    NEW_ATTR(e, activity_task_cancel_requested_event_attributes, ACTIVITY_TASK_CANCEL_REQUESTED,
             temporal__api__history__v1__activity_task_cancel_requested_event_attributes__descriptor);
    e->activity_task_cancel_requested_event_attributes->scheduled_event_id = scheduled_id;
    e->activity_task_cancel_requested_event_attributes->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline int64_t act_canceled(pb_history *h, int64_t scheduled_id, int64_t started_id, const char *details_json)
{
    pb_event *e = add_event(h, EV(ACTIVITY_TASK_CANCELED));
    NEW_ATTR(e, activity_task_canceled_event_attributes, ACTIVITY_TASK_CANCELED,
             temporal__api__history__v1__activity_task_canceled_event_attributes__descriptor);
    Temporal__Api__History__V1__ActivityTaskCanceledEventAttributes *a = e->activity_task_canceled_event_attributes;
    a->scheduled_event_id = scheduled_id;
    a->started_event_id = started_id;
    a->identity = pb_str(&B, "worker@host");
    a->details = details_json ? json_payloads(details_json) : NULL;
    return e->event_id;
}

static inline int64_t signaled(pb_history *h, const char *name, const char *json)
{
    pb_event *e = add_event(h, EV(WORKFLOW_EXECUTION_SIGNALED));
    NEW_ATTR(e, workflow_execution_signaled_event_attributes, WORKFLOW_EXECUTION_SIGNALED,
             temporal__api__history__v1__workflow_execution_signaled_event_attributes__descriptor);
    e->workflow_execution_signaled_event_attributes->signal_name = pb_str(&B, name);
    e->workflow_execution_signaled_event_attributes->input = json_payloads(json);
    tw_payloads *hdr = named_json("trace", "\"t-1\"");
    e->workflow_execution_signaled_event_attributes->header = pb_header(&B, hdr);
    tw_payloads_free(hdr);
    return e->event_id;
}

static inline int64_t cancel_requested(pb_history *h, const char *cause)
{
    pb_event *e = add_event(h, EV(WORKFLOW_EXECUTION_CANCEL_REQUESTED));
    NEW_ATTR(e, workflow_execution_cancel_requested_event_attributes, WORKFLOW_EXECUTION_CANCEL_REQUESTED,
             temporal__api__history__v1__workflow_execution_cancel_requested_event_attributes__descriptor);
    e->workflow_execution_cancel_requested_event_attributes->cause = pb_str(&B, cause);
    return e->event_id;
}

static inline int64_t wf_completed(pb_history *h, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(WORKFLOW_EXECUTION_COMPLETED));
    NEW_ATTR(e, workflow_execution_completed_event_attributes, WORKFLOW_EXECUTION_COMPLETED,
             temporal__api__history__v1__workflow_execution_completed_event_attributes__descriptor);
    e->workflow_execution_completed_event_attributes->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline int64_t marker(pb_history *h, bool may_ignore)
{
    pb_event *e = add_event(h, EV(MARKER_RECORDED));
    NEW_ATTR(e, marker_recorded_event_attributes, MARKER_RECORDED,
             temporal__api__history__v1__marker_recorded_event_attributes__descriptor);
    e->marker_recorded_event_attributes->marker_name = pb_str(&B, "core_patch");
    e->worker_may_ignore = may_ignore;
    return e->event_id;
}

/* A deep copy of h holding only events first..last (ids kept). */
static inline pb_history *page_of(const pb_history *h, int64_t first, int64_t last)
{
    size_t len = protobuf_c_message_get_packed_size(&h->base);
    uint8_t *buf = malloc(len ? len : 1);
    protobuf_c_message_pack(&h->base, buf);
    pb_history *copy = temporal__api__history__v1__history__unpack(NULL, len, buf);
    free(buf);
    cr_assert_not_null(copy);
    size_t n = 0;
    for (size_t i = 0; i < copy->n_events; i++) {
        pb_event *e = copy->events[i];
        if (e->event_id >= first && e->event_id <= last)
            copy->events[n++] = e;
        else
            protobuf_c_message_free_unpacked(&e->base, NULL);
    }
    copy->n_events = n;
    return copy;
}

static inline void hist_free(pb_history *h)
{
    protobuf_c_message_free_unpacked(&h->base, NULL);
}

/* A WorkflowTaskCompleted for the task whose WorkflowTaskStarted is the last event of h. */
static inline int64_t wft_completed(pb_history *h)
{
    int64_t started_id = (int64_t)h->n_events;
    pb_event *c = add_event(h, EV(WORKFLOW_TASK_COMPLETED));
    NEW_ATTR(c, workflow_task_completed_event_attributes, WORKFLOW_TASK_COMPLETED,
             temporal__api__history__v1__workflow_task_completed_event_attributes__descriptor);
    c->workflow_task_completed_event_attributes->scheduled_event_id = started_id - 1;
    c->workflow_task_completed_event_attributes->started_event_id = started_id;
    return c->event_id;
}

static inline int64_t timer_canceled(pb_history *h, const char *timer_id, int64_t started_id, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(TIMER_CANCELED));
    NEW_ATTR(e, timer_canceled_event_attributes, TIMER_CANCELED,
             temporal__api__history__v1__timer_canceled_event_attributes__descriptor);
    e->timer_canceled_event_attributes->timer_id = pb_str(&B, timer_id);
    e->timer_canceled_event_attributes->started_event_id = started_id;
    e->timer_canceled_event_attributes->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline int64_t wf_canceled(pb_history *h, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(WORKFLOW_EXECUTION_CANCELED));
    NEW_ATTR(e, workflow_execution_canceled_event_attributes, WORKFLOW_EXECUTION_CANCELED,
             temporal__api__history__v1__workflow_execution_canceled_event_attributes__descriptor);
    e->workflow_execution_canceled_event_attributes->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

/* ---- child workflows ---- */

static inline int64_t child_initiated(pb_history *h, const char *workflow_id, const char *type, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(START_CHILD_WORKFLOW_EXECUTION_INITIATED));
    NEW_ATTR(e, start_child_workflow_execution_initiated_event_attributes, START_CHILD_WORKFLOW_EXECUTION_INITIATED,
             temporal__api__history__v1__start_child_workflow_execution_initiated_event_attributes__descriptor);
    Temporal__Api__History__V1__StartChildWorkflowExecutionInitiatedEventAttributes *a =
        e->start_child_workflow_execution_initiated_event_attributes;
    a->namespace_ = pb_str(&B, "ns");
    a->workflow_id = pb_str(&B, workflow_id);
    a->workflow_type = pb_new(&B, &temporal__api__common__v1__workflow_type__descriptor);
    a->workflow_type->name = pb_str(&B, type);
    a->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline Temporal__Api__Common__V1__WorkflowExecution *child_execution(const char *workflow_id,
                                                                           const char *run_id)
{
    Temporal__Api__Common__V1__WorkflowExecution *we =
        pb_new(&B, &temporal__api__common__v1__workflow_execution__descriptor);
    we->workflow_id = pb_str(&B, workflow_id);
    we->run_id = pb_str(&B, run_id);
    return we;
}

static inline int64_t child_start_failed(pb_history *h, const char *workflow_id, int64_t initiated_id, int cause)
{
    pb_event *e = add_event(h, EV(START_CHILD_WORKFLOW_EXECUTION_FAILED));
    NEW_ATTR(e, start_child_workflow_execution_failed_event_attributes, START_CHILD_WORKFLOW_EXECUTION_FAILED,
             temporal__api__history__v1__start_child_workflow_execution_failed_event_attributes__descriptor);
    Temporal__Api__History__V1__StartChildWorkflowExecutionFailedEventAttributes *a =
        e->start_child_workflow_execution_failed_event_attributes;
    a->workflow_id = pb_str(&B, workflow_id);
    a->initiated_event_id = initiated_id;
    a->cause = (Temporal__Api__Enums__V1__StartChildWorkflowExecutionFailedCause)cause;
    return e->event_id;
}

static inline int64_t child_started(pb_history *h, const char *workflow_id, const char *run_id, int64_t initiated_id)
{
    pb_event *e = add_event(h, EV(CHILD_WORKFLOW_EXECUTION_STARTED));
    NEW_ATTR(e, child_workflow_execution_started_event_attributes, CHILD_WORKFLOW_EXECUTION_STARTED,
             temporal__api__history__v1__child_workflow_execution_started_event_attributes__descriptor);
    e->child_workflow_execution_started_event_attributes->initiated_event_id = initiated_id;
    e->child_workflow_execution_started_event_attributes->workflow_execution = child_execution(workflow_id, run_id);
    return e->event_id;
}

static inline int64_t child_completed(pb_history *h, int64_t initiated_id, int64_t started_id, const char *json)
{
    pb_event *e = add_event(h, EV(CHILD_WORKFLOW_EXECUTION_COMPLETED));
    NEW_ATTR(e, child_workflow_execution_completed_event_attributes, CHILD_WORKFLOW_EXECUTION_COMPLETED,
             temporal__api__history__v1__child_workflow_execution_completed_event_attributes__descriptor);
    e->child_workflow_execution_completed_event_attributes->initiated_event_id = initiated_id;
    e->child_workflow_execution_completed_event_attributes->started_event_id = started_id;
    e->child_workflow_execution_completed_event_attributes->result = json ? json_payloads(json) : NULL;
    return e->event_id;
}

static inline int64_t child_failed(pb_history *h, int64_t initiated_id, int64_t started_id)
{
    pb_event *e = add_event(h, EV(CHILD_WORKFLOW_EXECUTION_FAILED));
    NEW_ATTR(e, child_workflow_execution_failed_event_attributes, CHILD_WORKFLOW_EXECUTION_FAILED,
             temporal__api__history__v1__child_workflow_execution_failed_event_attributes__descriptor);
    Temporal__Api__History__V1__ChildWorkflowExecutionFailedEventAttributes *a =
        e->child_workflow_execution_failed_event_attributes;
    a->initiated_event_id = initiated_id;
    a->started_event_id = started_id;
    a->retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_RETRY_POLICY_NOT_SET;
    a->failure = app_failure("child broke", "ChildError");
    return e->event_id;
}

static inline int64_t child_canceled(pb_history *h, int64_t initiated_id, int64_t started_id, const char *details_json)
{
    pb_event *e = add_event(h, EV(CHILD_WORKFLOW_EXECUTION_CANCELED));
    NEW_ATTR(e, child_workflow_execution_canceled_event_attributes, CHILD_WORKFLOW_EXECUTION_CANCELED,
             temporal__api__history__v1__child_workflow_execution_canceled_event_attributes__descriptor);
    e->child_workflow_execution_canceled_event_attributes->initiated_event_id = initiated_id;
    e->child_workflow_execution_canceled_event_attributes->started_event_id = started_id;
    e->child_workflow_execution_canceled_event_attributes->details = details_json ? json_payloads(details_json) : NULL;
    return e->event_id;
}

static inline int64_t child_timed_out(pb_history *h, int64_t initiated_id, int64_t started_id)
{
    pb_event *e = add_event(h, EV(CHILD_WORKFLOW_EXECUTION_TIMED_OUT));
    NEW_ATTR(e, child_workflow_execution_timed_out_event_attributes, CHILD_WORKFLOW_EXECUTION_TIMED_OUT,
             temporal__api__history__v1__child_workflow_execution_timed_out_event_attributes__descriptor);
    e->child_workflow_execution_timed_out_event_attributes->initiated_event_id = initiated_id;
    e->child_workflow_execution_timed_out_event_attributes->started_event_id = started_id;
    e->child_workflow_execution_timed_out_event_attributes->retry_state =
        TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_TIMEOUT;
    return e->event_id;
}

static inline int64_t child_terminated(pb_history *h, int64_t initiated_id, int64_t started_id)
{
    pb_event *e = add_event(h, EV(CHILD_WORKFLOW_EXECUTION_TERMINATED));
    NEW_ATTR(e, child_workflow_execution_terminated_event_attributes, CHILD_WORKFLOW_EXECUTION_TERMINATED,
             temporal__api__history__v1__child_workflow_execution_terminated_event_attributes__descriptor);
    e->child_workflow_execution_terminated_event_attributes->initiated_event_id = initiated_id;
    e->child_workflow_execution_terminated_event_attributes->started_event_id = started_id;
    return e->event_id;
}

/* ---- other workflows ---- */

static inline int64_t signal_initiated(pb_history *h, const char *workflow_id, const char *signal_name,
                                       int64_t completed_id)
{
    pb_event *e = add_event(h, EV(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED));
    NEW_ATTR(e, signal_external_workflow_execution_initiated_event_attributes,
             SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
             temporal__api__history__v1__signal_external_workflow_execution_initiated_event_attributes__descriptor);
    Temporal__Api__History__V1__SignalExternalWorkflowExecutionInitiatedEventAttributes *a =
        e->signal_external_workflow_execution_initiated_event_attributes;
    a->workflow_execution = child_execution(workflow_id, "");
    a->signal_name = pb_str(&B, signal_name);
    a->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline int64_t external_signaled(pb_history *h, int64_t initiated_id)
{
    pb_event *e = add_event(h, EV(EXTERNAL_WORKFLOW_EXECUTION_SIGNALED));
    NEW_ATTR(e, external_workflow_execution_signaled_event_attributes, EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
             temporal__api__history__v1__external_workflow_execution_signaled_event_attributes__descriptor);
    e->external_workflow_execution_signaled_event_attributes->initiated_event_id = initiated_id;
    return e->event_id;
}

static inline int64_t signal_failed(pb_history *h, const char *workflow_id, int64_t initiated_id, int cause)
{
    pb_event *e = add_event(h, EV(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED));
    NEW_ATTR(e, signal_external_workflow_execution_failed_event_attributes, SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
             temporal__api__history__v1__signal_external_workflow_execution_failed_event_attributes__descriptor);
    Temporal__Api__History__V1__SignalExternalWorkflowExecutionFailedEventAttributes *a =
        e->signal_external_workflow_execution_failed_event_attributes;
    a->initiated_event_id = initiated_id;
    a->workflow_execution = child_execution(workflow_id, "");
    a->cause = (Temporal__Api__Enums__V1__SignalExternalWorkflowExecutionFailedCause)cause;
    return e->event_id;
}

static inline int64_t cancel_external_initiated(pb_history *h, const char *workflow_id, const char *run_id,
                                                bool child_only, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED));
    NEW_ATTR(e, request_cancel_external_workflow_execution_initiated_event_attributes,
             REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
             temporal__api__history__v1__request_cancel_external_workflow_execution_initiated_event_attributes__descriptor);
    Temporal__Api__History__V1__RequestCancelExternalWorkflowExecutionInitiatedEventAttributes *a =
        e->request_cancel_external_workflow_execution_initiated_event_attributes;
    a->workflow_execution = child_execution(workflow_id, run_id);
    a->child_workflow_only = child_only;
    a->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static inline int64_t external_cancel_requested(pb_history *h, int64_t initiated_id)
{
    pb_event *e = add_event(h, EV(EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED));
    NEW_ATTR(e, external_workflow_execution_cancel_requested_event_attributes,
             EXTERNAL_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
             temporal__api__history__v1__external_workflow_execution_cancel_requested_event_attributes__descriptor);
    e->external_workflow_execution_cancel_requested_event_attributes->initiated_event_id = initiated_id;
    return e->event_id;
}

static inline int64_t cancel_external_failed(pb_history *h, const char *workflow_id, int64_t initiated_id, int cause)
{
    pb_event *e = add_event(h, EV(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED));
    NEW_ATTR(e, request_cancel_external_workflow_execution_failed_event_attributes,
             REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
             temporal__api__history__v1__request_cancel_external_workflow_execution_failed_event_attributes__descriptor);
    Temporal__Api__History__V1__RequestCancelExternalWorkflowExecutionFailedEventAttributes *a =
        e->request_cancel_external_workflow_execution_failed_event_attributes;
    a->initiated_event_id = initiated_id;
    a->workflow_execution = child_execution(workflow_id, "");
    a->cause = (Temporal__Api__Enums__V1__CancelExternalWorkflowExecutionFailedCause)cause;
    return e->event_id;
}

/* ---- patches ---- */

/* A core_patch marker as sdk-core records it: details {"patch-data": json/plain {"id", "deprecated"}}. */
static inline int64_t patch_marker(pb_history *h, const char *patch_id, bool deprecated, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(MARKER_RECORDED));
    NEW_ATTR(e, marker_recorded_event_attributes, MARKER_RECORDED,
             temporal__api__history__v1__marker_recorded_event_attributes__descriptor);
    Temporal__Api__History__V1__MarkerRecordedEventAttributes *a = e->marker_recorded_event_attributes;
    a->marker_name = pb_str(&B, "core_patch");
    a->workflow_task_completed_event_id = completed_id;
    char json[256];
    snprintf(json, sizeof(json), "{\"id\":\"%s\",\"deprecated\":%s}", patch_id, deprecated ? "true" : "false");
    a->details = calloc(1, sizeof(*a->details));
    cr_assert_not_null(a->details);
    Temporal__Api__History__V1__MarkerRecordedEventAttributes__DetailsEntry *d =
        pb_new(&B, &temporal__api__history__v1__marker_recorded_event_attributes__details_entry__descriptor);
    d->key = pb_str(&B, "patch-data");
    d->value = json_payloads(json);
    a->details[0] = d;
    a->n_details = 1;
    return e->event_id;
}

/* The UpsertWorkflowSearchAttributes of TemporalChangeVersion that sdk-core records after a patch marker. */
static inline int64_t patch_version_upsert(pb_history *h, const char *json, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES));
    NEW_ATTR(e, upsert_workflow_search_attributes_event_attributes, UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
             temporal__api__history__v1__upsert_workflow_search_attributes_event_attributes__descriptor);
    tw_payloads *sa = named_json("TemporalChangeVersion", json);
    e->upsert_workflow_search_attributes_event_attributes->search_attributes = pb_search_attributes(&B, sa);
    e->upsert_workflow_search_attributes_event_attributes->workflow_task_completed_event_id = completed_id;
    tw_payloads_free(sa);
    return e->event_id;
}

/*
 * A core_local_activity marker with data_json as its "data" (written as
 * given, so tests choose the layout), result_json as its "result" (none
 * when NULL) and, when failure is set, that failure (taken).
 */
static inline int64_t la_marker_with_data(pb_history *h, const char *data_json, const char *result_json,
                                          pb_failure *failure, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(MARKER_RECORDED));
    NEW_ATTR(e, marker_recorded_event_attributes, MARKER_RECORDED,
             temporal__api__history__v1__marker_recorded_event_attributes__descriptor);
    Temporal__Api__History__V1__MarkerRecordedEventAttributes *m = e->marker_recorded_event_attributes;
    m->marker_name = pb_str(&B, "core_local_activity");
    m->workflow_task_completed_event_id = completed_id;
    m->details = calloc(2, sizeof(*m->details));
    cr_assert_not_null(m->details);
    const char *keys[2] = {"data", "result"};
    const char *values[2] = {data_json, result_json};
    for (size_t i = 0; i < (result_json ? 2u : 1u); i++) {
        Temporal__Api__History__V1__MarkerRecordedEventAttributes__DetailsEntry *d =
            pb_new(&B, &temporal__api__history__v1__marker_recorded_event_attributes__details_entry__descriptor);
        d->key = pb_str(&B, keys[i]);
        d->value = json_payloads(values[i]);
        m->details[m->n_details++] = d;
    }
    m->failure = failure;
    return e->event_id;
}

/* The workflow task timeout of the started event (the first event of h). */
static inline void set_task_timeout_ms(pb_history *h, int64_t ms)
{
    cr_assert(h->n_events > 0 && h->events[0]->event_type == EV(WORKFLOW_EXECUTION_STARTED));
    h->events[0]->workflow_execution_started_event_attributes->workflow_task_timeout = pb_duration_ms(&B, ms);
}

#endif
