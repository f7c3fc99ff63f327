/*
 * lib/history: synthetic histories (heap protobuf-c messages made with
 * ../history_builders.h) through tw_run, activations and completions:
 * jobs and their details, replay and live workflow tasks, activity
 * cancellation types, child workflows (outcomes and cancellation types),
 * signals and cancellation requests to other workflows, patches, local
 * activities (workflow-task heartbeats, markers recorded tasks after their
 * schedule, the marker layout), paging, the determinism check, queries,
 * evictions and bad input.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../history_builders.h"
#include "client/build.h" /* pb_retry_policy */
#include "convert/pbjson.h"
#include "history/internal.h"

#define RUN_ID "run-1"

/* ================================================================== */
/* Run helpers                                                          */

static tw_run *run_of(pb_history *h)
{
    cr_assert(!B.oom, "builder ran out of memory");
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, h), 0, "%s", tw_error_message(tw_error_last()));
    return run;
}

static tw_activation *next_act(tw_run *run, bool expect_live)
{
    cr_assert(tw_run_has_next_activation(run));
    tw_activation *a = NULL;
    bool live = !expect_live;
    tw_error *err = NULL;
    int rc = tw_run_next_activation(run, &a, &live, &err);
    cr_assert_eq(rc, 0, "next_activation: %s", err ? tw_error_message(err) : tw_error_message(tw_error_last()));
    cr_assert_null(err);
    cr_assert_not_null(a);
    cr_assert_eq(live, expect_live);
    cr_assert_eq(tw_activation_is_replaying(a), !expect_live);
    cr_assert_str_eq(tw_activation_run_id(a), RUN_ID);
    return a;
}

static tw_completion *new_completion(void)
{
    tw_completion *c;
    cr_assert_eq(tw_completion_new(RUN_ID, &c), 0);
    return c;
}

static void complete_ok(tw_run *run, tw_completion *c, tw_run_output *out)
{
    tw_error *err = NULL;
    int rc = tw_run_complete(run, c, out, &err);
    cr_assert_eq(rc, 0, "complete: %s", err ? tw_error_message(err) : tw_error_message(tw_error_last()));
    cr_assert_null(err);
}

/* Completes with c and expects non-determinism (TW_EPROTO) with exactly message. */
static void complete_nondeterministic(tw_run *run, tw_completion *c, const char *message)
{
    tw_run_output out;
    tw_error *err = NULL;
    cr_assert_eq(tw_run_complete(run, c, &out, &err), TW_EPROTO);
    cr_assert_not_null(err);
    cr_assert_eq(tw_error_code(err), TW_EPROTO);
    cr_assert_str_eq(tw_error_message(err), message);
    cr_assert_eq(out.command_count, 0);
    tw_error_destroy(err);
    cr_assert_not(tw_run_has_next_activation(run));
}

static const tw_job *job_at(const tw_activation *a, size_t i, int kind)
{
    cr_assert_gt(tw_activation_job_count(a), i);
    const tw_job *j = tw_activation_job(a, i);
    cr_assert_not_null(j);
    cr_assert_eq(tw_job_kind_of(j), kind, "job %zu is kind %d, expected %d", i, tw_job_kind_of(j), kind);
    return j;
}

static void assert_json(const tw_payloads *list, size_t i, const char *json)
{
    cr_assert_not_null(list);
    char *s = NULL;
    cr_assert_eq(tw_payloads_data_string(list, i, &s), 0);
    cr_assert_str_eq(s, json);
    tw_free(s);
}

static tw_activity_options activity(const char *type)
{
    tw_activity_options o;
    tw_activity_options_init(&o);
    o.activity_type = type;
    o.start_to_close_timeout_ms = 10000;
    return o;
}

static void schedule(tw_completion *c, uint32_t seq, const char *type, int cancellation_type)
{
    tw_activity_options o = activity(type);
    o.cancellation_type = cancellation_type;
    cr_assert_eq(tw_completion_schedule_activity(c, seq, &o), 0, "%s", tw_error_message(tw_error_last()));
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void expect_einval(int rc, const char *needle)
{
    cr_assert_eq(rc, TW_EINVAL, "rc %d, expected TW_EINVAL", rc);
    const char *msg = tw_error_message(tw_error_last());
    cr_assert(strstr(msg, needle) != NULL, "message \"%s\" does not mention \"%s\"", msg, needle);
}

static void setup(void)
{
    B.oom = false;
}

TestSuite(history, .init = setup);

/* ================================================================== */
/* Initialize                                                           */

Test(history, initialize_job_has_every_detail)
{
    pb_history *h = hist_new();
    Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *s = started(h);
    s->input = json_payloads("\"Ada\"");
    tw_payloads *hdr = named_json("trace", "\"abc\"");
    tw_payloads *memo = named_json("owner", "\"ops\"");
    tw_payloads *sa = named_json("CustomKeywordField", "\"blue\"");
    s->header = pb_header(&B, hdr);
    s->memo = pb_memo(&B, memo);
    s->search_attributes = pb_search_attributes(&B, sa);
    tw_payloads_free(hdr);
    tw_payloads_free(memo);
    tw_payloads_free(sa);
    s->attempt = 3;
    s->first_execution_run_id = pb_str(&B, "first-run");
    s->continued_execution_run_id = pb_str(&B, "prev-run");
    s->original_execution_run_id = pb_str(&B, "original-run");
    s->parent_workflow_namespace = pb_str(&B, "parent-ns");
    s->parent_workflow_execution = pb_new(&B, &temporal__api__common__v1__workflow_execution__descriptor);
    s->parent_workflow_execution->workflow_id = pb_str(&B, "parent-wf");
    s->parent_workflow_execution->run_id = pb_str(&B, "parent-run");
    s->cron_schedule = pb_str(&B, "0 * * * *");
    s->workflow_execution_timeout = pb_duration_ms(&B, 3600000);
    s->workflow_run_timeout = pb_duration_ms(&B, 600000);
    s->workflow_task_timeout = pb_duration_ms(&B, 10000);
    s->last_completion_result = json_payloads("42");
    s->continued_failure = app_failure("previous run failed", "Boom");
    static const char *const fatal[] = {"Fatal", NULL};
    tw_retry_policy rp;
    tw_retry_policy_init(&rp);
    rp.initial_interval_ms = 1500;
    rp.backoff_coefficient = 3.0;
    rp.maximum_interval_ms = 60000;
    rp.maximum_attempts = 7;
    rp.non_retryable_error_types = fatal;
    s->retry_policy = pb_retry_policy(&B, &rp);
    wft(h, false);

    tw_run *run = run_of(h);
    cr_assert_str_eq(tw_run_task_queue(run), "tq");
    cr_assert_str_eq(tw_run_workflow_type(run), "greeter");
    cr_assert_eq(tw_run_last_event_id(run), 3);
    cr_assert_str_eq(tw_run_id(run), RUN_ID);

    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(3));
    cr_assert_eq(tw_activation_history_length(a), 3);
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_INITIALIZE);
    cr_assert_str_eq(tw_job_name(j), "greeter");
    assert_json(tw_job_args(j), 0, "\"Ada\"");
    cr_assert_str_eq(tw_payloads_name(tw_job_headers(j), 0), "trace");
    assert_json(tw_job_headers(j), 0, "\"abc\"");
    cr_assert_str_eq(tw_job_workflow_id(j), "wf-id");
    cr_assert_str_eq(tw_job_task_queue(j), "tq");
    cr_assert_eq(tw_job_attempt(j), 3);
    cr_assert_str_eq(tw_job_first_execution_run_id(j), "first-run");
    cr_assert_str_eq(tw_job_continued_from_run_id(j), "prev-run");
    cr_assert_str_eq(tw_job_parent_namespace(j), "parent-ns");
    cr_assert_str_eq(tw_job_parent_workflow_id(j), "parent-wf");
    cr_assert_str_eq(tw_job_parent_run_id(j), "parent-run");
    cr_assert_str_eq(tw_job_cron_schedule(j), "0 * * * *");
    cr_assert_eq(tw_job_execution_timeout_ms(j), 3600000);
    cr_assert_eq(tw_job_run_timeout_ms(j), 600000);
    cr_assert_eq(tw_job_task_timeout_ms(j), 10000);
    cr_assert_eq(tw_job_start_time(j), time_of(1));
    cr_assert_str_eq(tw_payloads_name(tw_job_memo(j), 0), "owner");
    assert_json(tw_job_memo(j), 0, "\"ops\"");
    cr_assert_str_eq(tw_payloads_name(tw_job_search_attributes(j), 0), "CustomKeywordField");
    assert_json(tw_job_search_attributes(j), 0, "\"blue\"");
    assert_json(tw_job_last_completion_result(j), 0, "42");
    cr_assert_str_eq(tw_failure_message(tw_job_continued_failure(j)), "previous run failed");
    cr_assert_str_eq(tw_failure_application_type(tw_job_continued_failure(j)), "Boom");
    cr_assert_eq(tw_job_random_seed(j), fnv1a("original-run"));
    cr_assert(tw_job_has_retry_policy(j));
    cr_assert_eq(tw_job_retry_initial_interval_ms(j), 1500);
    cr_assert_float_eq(tw_job_retry_backoff_coefficient(j), 3.0, 1e-9);
    cr_assert_eq(tw_job_retry_maximum_interval_ms(j), 60000);
    cr_assert_eq(tw_job_retry_maximum_attempts(j), 7);
    cr_assert_eq(tw_job_retry_non_retryable_error_type_count(j), 1);
    cr_assert_str_eq(tw_job_retry_non_retryable_error_type(j, 0), "Fatal");
    cr_assert_null(tw_job_retry_non_retryable_error_type(j, 1));
    cr_assert_eq(tw_job_seq(j), 0);
    cr_assert_null(tw_job_failure(j));
    cr_assert_null(tw_job_result(j));
    tw_activation_free(a);

    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 5000), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert_eq(out.commands[0]->command_type, CMD(START_TIMER));
    cr_assert_str_eq(out.commands[0]->start_timer_command_attributes->timer_id, "1");
    cr_assert_eq(out.commands[0]->start_timer_command_attributes->start_to_fire_timeout->seconds, 5);
    cr_assert_not(out.terminal);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, initialize_defaults_and_seed_from_run_id)
{
    pb_history *h = hist_new();
    Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *s = started(h);
    free(s->workflow_id);
    s->workflow_id = NULL;
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_INITIALIZE);
    cr_assert_str_eq(tw_job_workflow_id(j), "");
    cr_assert_eq(tw_job_random_seed(j), fnv1a(RUN_ID));
    cr_assert_eq(tw_payloads_count(tw_job_args(j)), 0);
    cr_assert_eq(tw_payloads_count(tw_job_headers(j)), 0);
    cr_assert_eq(tw_payloads_count(tw_job_memo(j)), 0);
    cr_assert_null(tw_job_last_completion_result(j));
    cr_assert_null(tw_job_continued_failure(j));
    cr_assert_eq(tw_job_execution_timeout_ms(j), 0);
    cr_assert_str_eq(tw_job_parent_workflow_id(j), "");
    tw_activation_free(a);
    tw_run_free(run);
}

/* ================================================================== */
/* Timers                                                               */

/* 1 started, 2-4 WFT, 5 timer 1, 6 fired, 7-9 WFT, 10 timer 2, 11 fired, 12-14 WFT, 15 completed. */
static pb_history *two_timers_history(void)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t t1 = timer_started(h, "1", c1);
    timer_fired(h, "1", t1);
    int64_t c2 = wft(h, true);
    int64_t t2 = timer_started(h, "2", c2);
    timer_fired(h, "2", t2);
    int64_t c3 = wft(h, true);
    wf_completed(h, c3);
    return h;
}

Test(history, timer_replay_of_finished_history)
{
    tw_run *run = run_of(two_timers_history());
    tw_run_output out;

    tw_activation *a = next_act(run, false);
    cr_assert_eq(tw_activation_timestamp(a), time_of(3));
    cr_assert_eq(tw_activation_history_length(a), 3);
    job_at(a, 0, TW_JOB_INITIALIZE);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0, "a replayed task sends nothing");
    tw_run_output_clear(&out);

    a = next_act(run, false);
    cr_assert_eq(tw_activation_timestamp(a), time_of(8));
    cr_assert_eq(tw_activation_history_length(a), 8);
    cr_assert_eq(tw_activation_job_count(a), 1);
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 1);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 2, 1000), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    a = next_act(run, false);
    cr_assert_eq(tw_activation_timestamp(a), time_of(13));
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 2);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    cr_assert_not(out.terminal);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, timer_live_last_task_sends_commands)
{
    pb_history *full = two_timers_history();
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(full, 1, 13)), 0);
    tw_run_output out;

    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);

    a = next_act(run, false);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 2, 1000), 0);
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);

    a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(13));
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 2);
    tw_activation_free(a);
    tw_payloads *result;
    cr_assert_eq(tw_payloads_new(&result), 0);
    cr_assert_eq(tw_payloads_add_json(result, "\"done\"", NULL), 0);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, result), 0);
    tw_payloads_free(result);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert(out.terminal);
    cr_assert_eq(out.commands[0]->command_type, CMD(COMPLETE_WORKFLOW_EXECUTION));
    Temporal__Api__Common__V1__Payloads *r = out.commands[0]->complete_workflow_execution_command_attributes->result;
    cr_assert_eq(r->n_payloads, 1);
    cr_assert_eq(memcmp(r->payloads[0]->data.data, "\"done\"", 6), 0);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));

    /* The server records it: no further boundary. */
    cr_assert_eq(tw_run_append(run, page_of(full, 14, 15)), 0);
    cr_assert_not(tw_run_has_next_activation(run));
    hist_free(full);
    tw_run_free(run);
}

Test(history, timer_started_live_then_matched_from_new_events)
{
    pb_history *full = two_timers_history();
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(full, 1, 3)), 0);
    tw_run_output out;
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));

    /* The next workflow task brings the timer's events (a sticky cache hit), overlapping by one. */
    cr_assert_eq(tw_run_append(run, page_of(full, 3, 8)), 0);
    a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(8));
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 1);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_cancel_timer(c, 1), 0, "cancelling a fired timer is a no-op");
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert_eq(out.commands[0]->command_type, CMD(COMPLETE_WORKFLOW_EXECUTION));
    tw_run_output_clear(&out);
    hist_free(full);
    tw_run_free(run);
}

Test(history, timer_cancelled_before_sent_drops_both)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    cr_assert_eq(tw_completion_start_timer(c, 2, 1000), 0);
    cr_assert_eq(tw_completion_cancel_timer(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert_str_eq(out.commands[0]->start_timer_command_attributes->timer_id, "2");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run), "cancelled timers resolve in the language");
    tw_run_free(run);
}

Test(history, timer_cancel_of_started_timer_is_matched)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t t1 = timer_started(h, "1", c1);
    signaled(h, "stop", "{}");
    int64_t c2 = wft(h, true);
    pb_event *e = add_event(h, EV(TIMER_CANCELED));
    NEW_ATTR(e, timer_canceled_event_attributes, TIMER_CANCELED,
             temporal__api__history__v1__timer_canceled_event_attributes__descriptor);
    e->timer_canceled_event_attributes->timer_id = pb_str(&B, "1");
    e->timer_canceled_event_attributes->started_event_id = t1;
    e->timer_canceled_event_attributes->workflow_task_completed_event_id = c2;
    wf_completed(h, c2);
    tw_run *run = run_of(h);
    tw_run_output out;

    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);

    a = next_act(run, false);
    cr_assert_str_eq(tw_job_name(job_at(a, 0, TW_JOB_SIGNAL)), "stop");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_cancel_timer(c, 1), 0);
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

/* ================================================================== */
/* Activities                                                           */

/* 1 started, 2-4 WFT, 5 scheduled "1" greet; returns the history for the outcome to be added. */
static pb_history *activity_history(void)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    act_scheduled(h, "1", "greet", c1);
    act_started(h, 5);
    return h;
}

/* Replays the schedule of activity seq 1 and returns the next activation. */
static tw_activation *schedule_then_next(tw_run *run, int cancellation_type, bool live)
{
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    schedule(c, 1, "greet", cancellation_type);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    return next_act(run, live);
}

static void assert_activity_info(const tw_failure *f, int64_t started_id, const char *identity, int retry_state)
{
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_ACTIVITY);
    cr_assert_str_eq(tw_failure_activity_type(f), "greet");
    cr_assert_str_eq(tw_failure_activity_id(f), "1");
    cr_assert_eq(tw_failure_scheduled_event_id(f), 5);
    cr_assert_eq(tw_failure_started_event_id(f), started_id);
    cr_assert_str_eq(tw_failure_identity(f), identity);
    cr_assert_eq(tw_failure_retry_state(f), retry_state);
}

Test(history, activity_schedule_command_fields)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);

    tw_payloads *args, *hdr = named_json("trace", "\"x\"");
    cr_assert_eq(tw_payloads_new(&args), 0);
    cr_assert_eq(tw_payloads_add_json(args, "\"Ada\"", NULL), 0);
    const char *non_retryable[] = {"ValueError", NULL};
    tw_activity_options o = activity("greet");
    o.args = args;
    o.headers = hdr;
    o.schedule_to_close_timeout_ms = 60000;
    o.schedule_to_start_timeout_ms = 5000;
    o.heartbeat_timeout_ms = 2500;
    o.retry_initial_interval_ms = 1000;
    o.retry_backoff_coefficient = 2.0;
    o.retry_maximum_interval_ms = 30000;
    o.retry_maximum_attempts = 5;
    o.retry_non_retryable_error_types = non_retryable;
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &o), 0);
    o = activity("other");
    o.activity_id = "custom-id";
    o.task_queue = "other-tq";
    cr_assert_eq(tw_completion_schedule_activity(c, 2, &o), 0);
    tw_payloads_free(args);
    tw_payloads_free(hdr);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);

    cr_assert_eq(out.commands[0]->command_type, CMD(SCHEDULE_ACTIVITY_TASK));
    Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *s =
        out.commands[0]->schedule_activity_task_command_attributes;
    cr_assert_str_eq(s->activity_id, "1");
    cr_assert_str_eq(s->activity_type->name, "greet");
    cr_assert_str_eq(s->task_queue->name, "tq", "default: the run's task queue");
    cr_assert_eq(s->task_queue->kind, TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL);
    cr_assert_eq(s->input->n_payloads, 1);
    cr_assert_eq(s->header->n_fields, 1);
    cr_assert_str_eq(s->header->fields[0]->key, "trace");
    cr_assert_eq(s->start_to_close_timeout->seconds, 10);
    cr_assert_eq(s->schedule_to_close_timeout->seconds, 60);
    cr_assert_eq(s->schedule_to_start_timeout->seconds, 5);
    cr_assert_eq(s->heartbeat_timeout->seconds, 2);
    cr_assert_eq(s->heartbeat_timeout->nanos, 500000000);
    cr_assert_not_null(s->retry_policy);
    cr_assert_eq(s->retry_policy->initial_interval->seconds, 1);
    cr_assert_float_eq(s->retry_policy->backoff_coefficient, 2.0, 1e-9);
    cr_assert_eq(s->retry_policy->maximum_interval->seconds, 30);
    cr_assert_eq(s->retry_policy->maximum_attempts, 5);
    cr_assert_eq(s->retry_policy->n_non_retryable_error_types, 1);
    cr_assert_str_eq(s->retry_policy->non_retryable_error_types[0], "ValueError");

    s = out.commands[1]->schedule_activity_task_command_attributes;
    cr_assert_str_eq(s->activity_id, "custom-id");
    cr_assert_str_eq(s->task_queue->name, "other-tq");
    cr_assert_null(s->retry_policy, "no retry field set: server default");
    cr_assert_null(s->schedule_to_close_timeout);
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, activity_completed)
{
    pb_history *h = activity_history();
    act_completed(h, 5, 6, "\"Hello, Ada\"");
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_TRY, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(9));
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    assert_json(tw_job_result(j), 0, "\"Hello, Ada\"");
    cr_assert_null(tw_job_failure(j));
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, activity_completed_without_result)
{
    pb_history *h = activity_history();
    act_completed(h, 5, 6, NULL);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_TRY, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_not_null(tw_job_result(j));
    cr_assert_eq(tw_payloads_count(tw_job_result(j)), 0);
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, activity_failed_is_wrapped)
{
    pb_history *h = activity_history();
    act_failed(h, 5, 6);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_TRY, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    cr_assert_null(tw_job_result(j));
    const tw_failure *f = tw_job_failure(j);
    cr_assert_str_eq(tw_failure_message(f), "Activity task failed");
    assert_activity_info(f, 6, "worker@host", TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(cause), TW_FAILURE_APPLICATION);
    cr_assert_str_eq(tw_failure_message(cause), "boom");
    cr_assert_str_eq(tw_failure_application_type(cause), "ValueError");
    cr_assert_null(tw_failure_cause(cause));
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, activity_timed_out_is_wrapped)
{
    pb_history *h = activity_history();
    act_timed_out(h, 5, 6);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_TRY, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_str_eq(tw_failure_message(f), "Activity task timed out");
    assert_activity_info(f, 6, "", TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_TIMEOUT);
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(cause), TW_FAILURE_TIMEOUT);
    cr_assert_eq(tw_failure_timeout_type(cause), TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_START_TO_CLOSE);
    cr_assert_str_eq(tw_failure_message(cause), "activity StartToClose timeout");
    tw_activation_free(a);
    tw_run_free(run);
}

/* 1-4, 5 scheduled, 6 started, 7 signal "cancel", 8-9 WFT live. */
static pb_history *activity_then_signal_history(void)
{
    pb_history *h = activity_history();
    signaled(h, "cancel", "{}");
    wft(h, false);
    return h;
}

Test(history, activity_cancel_wait_resolves_on_canceled_event)
{
    pb_history *h = activity_then_signal_history();
    tw_run *run = run_of(h);
    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_WAIT, true);
    job_at(a, 0, TW_JOB_SIGNAL);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_activity(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert_eq(out.commands[0]->command_type, CMD(REQUEST_CANCEL_ACTIVITY_TASK));
    cr_assert_eq(out.commands[0]->request_cancel_activity_task_command_attributes->scheduled_event_id, 5);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run), "WAIT resolves only when the server confirms");

    /* 10 WFT completed, 11 cancel requested, 12 canceled, 13-14 WFT. */
    pb_history *all = activity_then_signal_history();
    pb_event *wc = add_event(all, EV(WORKFLOW_TASK_COMPLETED));
    NEW_ATTR(wc, workflow_task_completed_event_attributes, WORKFLOW_TASK_COMPLETED,
             temporal__api__history__v1__workflow_task_completed_event_attributes__descriptor);
    act_cancel_requested(all, 5, wc->event_id);
    act_canceled(all, 5, 6, "\"bye\"");
    wft(all, false);
    cr_assert_eq(tw_run_append(run, page_of(all, 10, 14)), 0);
    hist_free(all);

    a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(14));
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_str_eq(tw_failure_message(f), "Activity cancelled");
    assert_activity_info(f, 6, "worker@host", TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_CANCEL_REQUESTED);
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(cause), TW_FAILURE_CANCELED);
    assert_json(tw_failure_details(cause), 0, "\"bye\"");
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, activity_cancel_try_resolves_in_next_activation)
{
    pb_history *all = activity_then_signal_history();
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 9)), 0);
    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_TRY, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_activity(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0, "commands wait for the task's last completion");
    cr_assert(tw_run_has_next_activation(run));

    a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(9), "same workflow task, same time");
    cr_assert_eq(tw_activation_history_length(a), 9);
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_ACTIVITY);
    cr_assert_eq(tw_failure_kind_of(tw_failure_cause(f)), TW_FAILURE_CANCELED);
    cr_assert_eq(tw_failure_scheduled_event_id(f), 5);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_eq(out.commands[0]->command_type, CMD(REQUEST_CANCEL_ACTIVITY_TASK));
    cr_assert_eq(out.commands[0]->request_cancel_activity_task_command_attributes->scheduled_event_id, 5);
    cr_assert_eq(out.commands[1]->command_type, CMD(START_TIMER));
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));

    /* The server's events: the late ActivityTaskCanceled is ignored, the timer fires. */
    pb_event *wc = add_event(all, EV(WORKFLOW_TASK_COMPLETED));
    NEW_ATTR(wc, workflow_task_completed_event_attributes, WORKFLOW_TASK_COMPLETED,
             temporal__api__history__v1__workflow_task_completed_event_attributes__descriptor);
    act_cancel_requested(all, 5, wc->event_id);
    int64_t t = timer_started(all, "1", wc->event_id);
    act_canceled(all, 5, 6, NULL);
    timer_fired(all, "1", t);
    wft(all, false);
    cr_assert_eq(tw_run_append(run, page_of(all, 10, (int64_t)all->n_events)), 0);
    hist_free(all);
    a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 1);
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 1);
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, activity_cancel_try_replays)
{
    /* The same story as a finished history replayed from the start. */
    pb_history *h = activity_history();
    signaled(h, "cancel", "{}");
    int64_t c2 = wft(h, true);
    act_cancel_requested(h, 5, c2);
    int64_t t = timer_started(h, "1", c2);
    act_canceled(h, 5, 6, NULL);
    timer_fired(h, "1", t);
    int64_t c3 = wft(h, true);
    wf_completed(h, c3);
    tw_run *run = run_of(h);
    tw_run_output out;

    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_TRY, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_activity(c, 1), 0);
    complete_ok(run, c, &out);
    a = next_act(run, false);
    cr_assert_eq(tw_job_resolution(job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY)), TW_RESOLUTION_CANCELLED);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);

    a = next_act(run, false);
    cr_assert_eq(tw_activation_job_count(a), 1);
    job_at(a, 0, TW_JOB_FIRE_TIMER);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, activity_cancel_abandon_sends_nothing)
{
    pb_history *all = activity_then_signal_history();
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 9)), 0);
    tw_activation *a = schedule_then_next(run, TW_ACTIVITY_CANCEL_ABANDON, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_activity(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1, "no RequestCancelActivityTask for an abandoned activity");
    cr_assert_eq(out.commands[0]->command_type, CMD(START_TIMER));
    tw_run_output_clear(&out);

    /* The abandoned activity completes anyway: ignored. */
    pb_event *done = add_event(all, EV(WORKFLOW_TASK_COMPLETED));
    NEW_ATTR(done, workflow_task_completed_event_attributes, WORKFLOW_TASK_COMPLETED,
             temporal__api__history__v1__workflow_task_completed_event_attributes__descriptor);
    int64_t t = timer_started(all, "1", done->event_id);
    act_completed(all, 5, 6, "\"late\"");
    timer_fired(all, "1", t);
    wft(all, false);
    cr_assert_eq(tw_run_append(run, page_of(all, 10, (int64_t)all->n_events)), 0);
    hist_free(all);
    a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 1);
    job_at(a, 0, TW_JOB_FIRE_TIMER);
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, activity_cancelled_before_sent_drops_both)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    schedule(c, 1, "greet", TW_ACTIVITY_CANCEL_WAIT);
    cr_assert_eq(tw_completion_request_cancel_activity(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    tw_activation_free(a);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 0, "neither the schedule nor the cancel is sent");
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, activity_resolution_for_unknown_activity)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, true);
    act_completed(h, 99, 98, "1");
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_run_output out;
    complete_ok(run, new_completion(), &out);
    tw_error *err = NULL;
    bool live;
    cr_assert_eq(tw_run_next_activation(run, &a, &live, &err), TW_EPROTO);
    cr_assert_null(a);
    cr_assert_str_eq(tw_error_message(err), "history event 5 (ActivityTaskCompleted) resolves the activity scheduled "
                                            "at event 99, which this run did not schedule");
    tw_error_destroy(err);
    tw_run_free(run);
}

/* ================================================================== */
/* Signals, cancellation, failed tasks                                  */

Test(history, signals_come_before_resolutions)
{
    pb_history *h = hist_new();
    started(h);
    signaled(h, "early", "1");
    int64_t c1 = wft(h, true);
    int64_t t = timer_started(h, "1", c1);
    timer_fired(h, "1", t);
    signaled(h, "first", "2");
    signaled(h, "second", "3");
    wft(h, false);
    tw_run *run = run_of(h);

    tw_activation *a = next_act(run, false);
    cr_assert_eq(tw_activation_job_count(a), 2);
    job_at(a, 0, TW_JOB_INITIALIZE);
    const tw_job *s = job_at(a, 1, TW_JOB_SIGNAL);
    cr_assert_str_eq(tw_job_name(s), "early");
    assert_json(tw_job_args(s), 0, "1");
    cr_assert_str_eq(tw_payloads_name(tw_job_headers(s), 0), "trace");
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    tw_run_output out;
    complete_ok(run, c, &out);

    a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 3);
    cr_assert_str_eq(tw_job_name(job_at(a, 0, TW_JOB_SIGNAL)), "first");
    cr_assert_str_eq(tw_job_name(job_at(a, 1, TW_JOB_SIGNAL)), "second");
    cr_assert_eq(tw_job_seq(job_at(a, 2, TW_JOB_FIRE_TIMER)), 1);
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, workflow_cancel_request)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    timer_started(h, "1", c1);
    cancel_requested(h, "user asked");
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 60000), 0);
    tw_run_output out;
    complete_ok(run, c, &out);

    a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 1);
    cr_assert_str_eq(tw_job_name(job_at(a, 0, TW_JOB_CANCEL_WORKFLOW)), "user asked");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_cancel_timer(c, 1), 0);
    cr_assert_eq(tw_completion_cancel_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_eq(out.commands[0]->command_type, CMD(CANCEL_TIMER));
    cr_assert_str_eq(out.commands[0]->cancel_timer_command_attributes->timer_id, "1");
    cr_assert_eq(out.commands[1]->command_type, CMD(CANCEL_WORKFLOW_EXECUTION));
    cr_assert(out.terminal);
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, failed_workflow_task_is_no_boundary)
{
    pb_history *h = hist_new();
    started(h);
    int64_t s1 = wft(h, false);
    wft_failed(h, s1);
    signaled(h, "during", "{}");
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_activation_history_length(a), 7);
    cr_assert_eq(tw_activation_timestamp(a), time_of(7));
    cr_assert_eq(tw_activation_job_count(a), 2);
    job_at(a, 0, TW_JOB_INITIALIZE);
    job_at(a, 1, TW_JOB_SIGNAL);
    tw_activation_free(a);
    tw_run_output out;
    complete_ok(run, new_completion(), &out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, task_failed_after_live_completion_needs_replay)
{
    pb_history *all = hist_new();
    started(all);
    int64_t s1 = wft(all, false);
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 3)), 0);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_run_output out;
    complete_ok(run, new_completion(), &out);
    wft_failed(all, s1);
    wft(all, false);
    cr_assert_eq(tw_run_append(run, page_of(all, 4, 6)), 0);
    hist_free(all);
    tw_error *err = NULL;
    bool live;
    cr_assert_eq(tw_run_next_activation(run, &a, &live, &err), TW_EPROTO);
    cr_assert(strstr(tw_error_message(err), "replayed from the start") != NULL);
    tw_error_destroy(err);
    tw_run_free(run);
}

Test(history, task_failure_goes_to_output)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    cr_assert_eq(tw_completion_fail_task(c, "it broke", "at line 3"), 0);
    cr_assert_eq(tw_completion_start_timer(c, 2, 1000), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    cr_assert_str_eq(out.task_failure, "it broke");
    cr_assert_str_eq(out.task_failure_stack, "at line 3");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

/* ================================================================== */
/* Paging                                                               */

Test(history, history_in_two_pages)
{
    pb_history *full = two_timers_history();
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(full, 1, 6)), 0);
    cr_assert_eq(tw_run_last_event_id(run), 6);
    cr_assert_eq(tw_run_append(run, page_of(full, 7, 15)), 0);
    cr_assert_eq(tw_run_last_event_id(run), 15);
    cr_assert_eq(tw_run_append(run, page_of(full, 1, 15)), 0, "events seen already are skipped");
    cr_assert_eq(tw_run_last_event_id(run), 15);
    hist_free(full);
    int activations = 0;
    uint32_t seq = 1;
    while (tw_run_has_next_activation(run)) {
        tw_activation *a = next_act(run, false);
        tw_activation_free(a);
        tw_completion *c = new_completion();
        if (activations < 2)
            cr_assert_eq(tw_completion_start_timer(c, seq++, 1000), 0);
        else
            cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
        tw_run_output out;
        complete_ok(run, c, &out);
        activations++;
    }
    cr_assert_eq(activations, 3);
    tw_run_free(run);
}

Test(history, history_gap_is_an_error)
{
    pb_history *full = two_timers_history();
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(full, 1, 3)), 0);
    cr_assert_eq(tw_run_append(run, page_of(full, 5, 9)), TW_EPROTO);
    cr_assert_str_eq(tw_error_message(tw_error_last()), "history gap: have events up to 3, page starts at 5");
    cr_assert_eq(tw_run_last_event_id(run), 3);
    tw_run_free(run);

    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(full, 2, 9)), TW_EPROTO);
    cr_assert_str_eq(tw_error_message(tw_error_last()), "history does not start at event 1: page starts at 2");
    cr_assert_eq(tw_run_last_event_id(run), 0);
    cr_assert_not(tw_run_has_next_activation(run));
    cr_assert_eq(tw_run_append(run, hist_new()), 0, "an empty page is fine");
    tw_run_free(run);
    hist_free(full);
}

/* ================================================================== */
/* Determinism                                                          */

/* 1 started, 2-4 WFT, then what history recorded for that task. */
static tw_run *replay_first_task(pb_history *h)
{
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    return run;
}

static pb_history *history_with_activity(const char *activity_id, const char *type)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    act_scheduled(h, activity_id, type, c1);
    wft(h, false);
    return h;
}

Test(history, nondeterminism_timer_instead_of_activity)
{
    tw_run *run = replay_first_task(history_with_activity("1", "greet"));
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is ActivityTaskScheduled (activity_id \"1\", "
                              "type \"greet\") but the workflow produced StartTimer (timer_id \"1\")");
    tw_run_free(run);
}

Test(history, nondeterminism_wrong_timer_id)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    timer_started(h, "1", c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 2, 1000), 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is TimerStarted (timer_id \"1\") but the workflow "
                              "produced StartTimer (timer_id \"2\")");
    tw_run_free(run);
}

Test(history, nondeterminism_wrong_activity_type)
{
    tw_run *run = replay_first_task(history_with_activity("1", "greet"));
    tw_completion *c = new_completion();
    schedule(c, 1, "farewell", TW_ACTIVITY_CANCEL_TRY);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is ActivityTaskScheduled (activity_id \"1\", "
                              "type \"greet\") but the workflow produced ScheduleActivityTask (activity_id \"1\", "
                              "type \"farewell\")");
    tw_run_free(run);
}

Test(history, nondeterminism_wrong_activity_id)
{
    tw_run *run = replay_first_task(history_with_activity("1", "greet"));
    tw_completion *c = new_completion();
    schedule(c, 7, "greet", TW_ACTIVITY_CANCEL_TRY);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is ActivityTaskScheduled (activity_id \"1\", "
                              "type \"greet\") but the workflow produced ScheduleActivityTask (activity_id \"7\", "
                              "type \"greet\")");
    tw_run_free(run);
}

Test(history, nondeterminism_missing_command)
{
    tw_run *run = replay_first_task(history_with_activity("1", "greet"));
    complete_nondeterministic(run, new_completion(),
                              "non-deterministic: history event 5 is ActivityTaskScheduled (activity_id \"1\", "
                              "type \"greet\") but the workflow produced no command");
    tw_run_free(run);
}

Test(history, nondeterminism_extra_command)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    timer_started(h, "1", c1);
    signaled(h, "s", "{}");
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    schedule(c, 1, "greet", TW_ACTIVITY_CANCEL_TRY);
    complete_nondeterministic(run, c,
                              "non-deterministic: history has no more command events for the workflow task "
                              "completed at event 4 (up to event 5) but the workflow produced ScheduleActivityTask "
                              "(activity_id \"1\", type \"greet\")");
    tw_run_free(run);
}

Test(history, nondeterminism_found_in_new_events_of_live_task)
{
    pb_history *all = history_with_activity("1", "greet");
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 3)), 0);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    cr_assert_eq(tw_run_append(run, page_of(all, 4, 7)), 0);
    hist_free(all);
    tw_error *err = NULL;
    bool live;
    cr_assert_eq(tw_run_next_activation(run, &a, &live, &err), TW_EPROTO);
    cr_assert_str_eq(tw_error_message(err), "non-deterministic: history event 5 is ActivityTaskScheduled (activity_id "
                                            "\"1\", type \"greet\") but the workflow produced StartTimer (timer_id "
                                            "\"1\")");
    tw_error_destroy(err);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

/* ================================================================== */
/* Terminal commands, unsupported events                                */

Test(history, commands_after_terminal_are_dropped)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    cr_assert_eq(tw_completion_fail_workflow(c, "bad input", "InputError", 1, NULL), 0);
    cr_assert_eq(tw_completion_start_timer(c, 2, 1000), 0);
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_eq(out.commands[0]->command_type, CMD(START_TIMER));
    cr_assert_eq(out.commands[1]->command_type, CMD(FAIL_WORKFLOW_EXECUTION));
    pb_failure *f = out.commands[1]->fail_workflow_execution_command_attributes->failure;
    cr_assert_str_eq(f->message, "bad input");
    cr_assert_str_eq(f->application_failure_info->type, "InputError");
    cr_assert(f->application_failure_info->non_retryable);
    cr_assert(out.terminal);
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, fail_workflow_encoded)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);

    pb_failure *f = app_failure("outer", "Outer");
    f->cause = app_failure("inner", "Inner");
    size_t len = protobuf_c_message_get_packed_size(&f->base);
    uint8_t *buf = malloc(len);
    protobuf_c_message_pack(&f->base, buf);
    protobuf_c_message_free_unpacked(&f->base, NULL);

    tw_completion *c = new_completion();
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff};
    cr_assert_eq(tw_completion_fail_workflow_encoded(c, garbage, sizeof(garbage)), TW_EPROTO);
    cr_assert(strstr(tw_error_message(tw_error_last()), "not a serialized Failure") != NULL);
    expect_einval(tw_completion_fail_workflow_encoded(c, NULL, 3), "failure");
    cr_assert_eq(tw_completion_fail_workflow_encoded(c, buf, len), 0);
    free(buf);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    pb_failure *got = out.commands[0]->fail_workflow_execution_command_attributes->failure;
    cr_assert_str_eq(got->message, "outer");
    cr_assert_str_eq(got->cause->message, "inner");
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, continue_as_new_defaults_from_run)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_continue_as_new_options o;
    tw_continue_as_new_options_init(&o);
    o.run_timeout_ms = 60000;
    tw_payloads *memo = named_json("k", "1");
    o.memo = memo;
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_continue_as_new(c, &o), 0);
    tw_payloads_free(memo);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert(out.terminal);
    Temporal__Api__Command__V1__ContinueAsNewWorkflowExecutionCommandAttributes *can =
        out.commands[0]->continue_as_new_workflow_execution_command_attributes;
    cr_assert_eq(out.commands[0]->command_type, CMD(CONTINUE_AS_NEW_WORKFLOW_EXECUTION));
    cr_assert_str_eq(can->workflow_type->name, "greeter");
    cr_assert_str_eq(can->task_queue->name, "tq");
    cr_assert_eq(can->workflow_run_timeout->seconds, 60);
    cr_assert_eq(can->memo->n_fields, 1);
    cr_assert_null(can->retry_policy, "no retry fields set: the new run gets none");
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, continue_as_new_with_retry_policy)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    cr_assert_not(tw_job_has_retry_policy(tw_activation_job(a, 0)));
    cr_assert_eq(tw_job_retry_maximum_attempts(tw_activation_job(a, 0)), 0);
    tw_activation_free(a);
    static const char *const types[] = {"Fatal", "Worse", NULL};
    tw_continue_as_new_options o;
    tw_continue_as_new_options_init(&o);
    o.retry_initial_interval_ms = 2000;
    o.retry_backoff_coefficient = 1.5;
    o.retry_maximum_attempts = 4;
    o.retry_non_retryable_error_types = types;
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_continue_as_new(c, &o), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    const Temporal__Api__Common__V1__RetryPolicy *rp =
        out.commands[0]->continue_as_new_workflow_execution_command_attributes->retry_policy;
    cr_assert_not_null(rp);
    cr_assert_eq(rp->initial_interval->seconds, 2);
    cr_assert_float_eq(rp->backoff_coefficient, 1.5, 1e-9);
    cr_assert_eq(rp->maximum_attempts, 4);
    cr_assert_eq(rp->n_non_retryable_error_types, 2);
    cr_assert_str_eq(rp->non_retryable_error_types[1], "Worse");
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, unsupported_event_is_an_error)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    (void)c1;
    marker(h, false);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_run_output out;
    tw_error *err = NULL;
    cr_assert_eq(tw_run_complete(run, new_completion(), &out, &err), TW_EPROTO);
    cr_assert_str_eq(tw_error_message(err),
                     "history event 5 (EVENT_TYPE_MARKER_RECORDED) is not supported by this engine yet");
    tw_error_destroy(err);
    tw_run_free(run);
}

Test(history, ignorable_event_is_skipped)
{
    pb_history *h = hist_new();
    started(h);
    signaled(h, "a", "1");
    marker(h, true);
    pb_event *future = add_event(h, 999);
    future->worker_may_ignore = true;
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 2);
    tw_activation_free(a);
    tw_run_free(run);
}

/* ================================================================== */
/* Queries and evictions                                                */

Test(history, query_activation_and_answers)
{
    Temporal__Api__Query__V1__WorkflowQuery *q1 = pb_new(&B, &temporal__api__query__v1__workflow_query__descriptor);
    q1->query_type = pb_str(&B, "status");
    q1->query_args = json_payloads("\"verbose\"");
    tw_payloads *hdr = named_json("trace", "\"q\"");
    q1->header = pb_header(&B, hdr);
    tw_payloads_free(hdr);
    Temporal__Api__Query__V1__WorkflowQuery *q2 = pb_new(&B, &temporal__api__query__v1__workflow_query__descriptor);
    q2->query_type = pb_str(&B, "__stack_trace");
    const char *ids[] = {"q-1", "legacy_query"};
    const Temporal__Api__Query__V1__WorkflowQuery *qs[] = {q1, q2};
    tw_activation *a = tw_activation_new_queries(RUN_ID, 2, ids, qs);
    protobuf_c_message_free_unpacked(&q1->base, NULL);
    protobuf_c_message_free_unpacked(&q2->base, NULL);
    cr_assert_not_null(a);
    cr_assert_not(tw_activation_is_eviction(a));
    cr_assert_str_eq(tw_activation_run_id(a), RUN_ID);
    cr_assert_eq(tw_activation_job_count(a), 2);
    const tw_job *j = job_at(a, 0, TW_JOB_QUERY);
    cr_assert_str_eq(tw_job_query_id(j), "q-1");
    cr_assert_str_eq(tw_job_name(j), "status");
    assert_json(tw_job_args(j), 0, "\"verbose\"");
    cr_assert_str_eq(tw_payloads_name(tw_job_headers(j), 0), "trace");
    j = job_at(a, 1, TW_JOB_QUERY);
    cr_assert_str_eq(tw_job_query_id(j), "legacy_query");
    cr_assert_eq(tw_payloads_count(tw_job_args(j)), 0);
    tw_activation_free(a);

    tw_payloads *result;
    cr_assert_eq(tw_payloads_new(&result), 0);
    cr_assert_eq(tw_payloads_add_json(result, "\"running\"", NULL), 0);
    tw_completion *c = new_completion();
    cr_assert_str_eq(tw_completion_run_id(c), RUN_ID);
    cr_assert_eq(tw_completion_respond_query(c, "q-1", result, NULL), 0);
    cr_assert_eq(tw_completion_respond_query(c, "legacy_query", NULL, "no such query"), 0);
    cr_assert_eq(tw_completion_respond_query(c, "unknown-id", NULL, NULL), 0, "unknown query ids are fine");
    expect_einval(tw_completion_respond_query(c, "", result, NULL), "query_id");
    tw_payloads_free(result);
    tw_run_output out;
    cr_assert_eq(tw_completion_take_output(c, &out), 0);
    cr_assert_eq(out.command_count, 0);
    cr_assert_eq(out.query_count, 3);
    cr_assert_str_eq(out.query_ids[0], "q-1");
    assert_json(out.query_results[0], 0, "\"running\"");
    cr_assert_null(out.query_failures[0]);
    cr_assert_str_eq(out.query_ids[1], "legacy_query");
    cr_assert_null(out.query_results[1]);
    cr_assert_str_eq(out.query_failures[1], "no such query");
    cr_assert_eq(tw_payloads_count(out.query_results[2]), 0);
    tw_run_output_clear(&out);
    cr_assert_eq(out.query_count, 0);
    tw_run_output_clear(&out);
    tw_run_output_clear(NULL);
}

Test(history, eviction_activation)
{
    tw_activation *a = tw_activation_new_eviction(RUN_ID, TW_EVICTION_NONDETERMINISM, "history event 5 differs");
    cr_assert_not_null(a);
    cr_assert(tw_activation_is_eviction(a));
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_REMOVE_FROM_CACHE);
    cr_assert_eq(tw_job_eviction_reason(j), TW_EVICTION_NONDETERMINISM);
    cr_assert_str_eq(tw_job_name(j), "history event 5 differs");
    tw_activation_free(a);

    tw_run_output out;
    cr_assert_eq(tw_completion_take_output(new_completion(), &out), 0);
    cr_assert_eq(out.command_count, 0);
    cr_assert_eq(out.query_count, 0);
    cr_assert_null(out.task_failure);
    tw_run_output_clear(&out);
    cr_assert_not(tw_activation_is_eviction(NULL));
}

/* ================================================================== */
/* Bad input at the edge                                                */

Test(history, bad_input_is_einval)
{
    tw_completion *c = NULL;
    expect_einval(tw_completion_new(NULL, &c), "run_id");
    cr_assert_null(c);
    expect_einval(tw_completion_new(RUN_ID, NULL), "out");
    expect_einval(tw_completion_start_timer(NULL, 1, 1000), "c is NULL");
    expect_einval(tw_completion_cancel_timer(NULL, 1), "c is NULL");
    expect_einval(tw_completion_schedule_activity(NULL, 1, NULL), "c is NULL");
    expect_einval(tw_completion_request_cancel_activity(NULL, 1), "c is NULL");
    expect_einval(tw_completion_complete_workflow(NULL, NULL), "c is NULL");
    expect_einval(tw_completion_fail_workflow(NULL, "m", NULL, 0, NULL), "c is NULL");
    expect_einval(tw_completion_cancel_workflow(NULL, NULL), "c is NULL");
    expect_einval(tw_completion_continue_as_new(NULL, NULL), "c is NULL");
    expect_einval(tw_completion_respond_query(NULL, "q", NULL, NULL), "c is NULL");
    expect_einval(tw_completion_fail_task(NULL, "m", NULL), "c is NULL");

    c = new_completion();
    expect_einval(tw_completion_start_timer(c, 1, -5), "duration_ms");
    expect_einval(tw_completion_start_timer(c, 1, 0), "duration_ms");
    cr_assert_eq(tw_completion_start_timer(c, 1, 10), 0);
    expect_einval(tw_completion_start_timer(c, 1, 10), "seq 1 is already used");
    cr_assert_eq(tw_completion_cancel_timer(c, 1), 0);
    cr_assert_eq(tw_completion_start_timer(c, 1, 10), 0, "free again once cancelled");

    expect_einval(tw_completion_schedule_activity(c, 1, NULL), "options is NULL");
    tw_activity_options o = activity("greet");
    o.size = 0;
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "tw_activity_options_init");
    o = activity("");
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "activity_type is empty");
    o = activity(NULL);
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "activity_type is NULL");
    o = activity("greet");
    o.start_to_close_timeout_ms = 0;
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "start_to_close_timeout_ms or schedule_to_close");
    o = activity("greet");
    o.heartbeat_timeout_ms = -1;
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "heartbeat_timeout_ms must not be negative");
    o = activity("greet");
    o.schedule_to_close_timeout_ms = -1;
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "schedule_to_close_timeout_ms must not be negative");
    o = activity("greet");
    o.retry_backoff_coefficient = 0.5;
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "retry_backoff_coefficient");
    o = activity("greet");
    o.cancellation_type = 7;
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "cancellation_type");
    o = activity("greet");
    tw_payloads *unnamed;
    cr_assert_eq(tw_payloads_new(&unnamed), 0);
    cr_assert_eq(tw_payloads_add_json(unnamed, "1", NULL), 0);
    o.headers = unnamed;
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "headers");
    o = activity("greet\xff");
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "UTF-8");
    o = activity("greet");
    o.schedule_to_close_timeout_ms = 5000;
    o.start_to_close_timeout_ms = 0;
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &o), 0, "schedule_to_close alone is enough");
    expect_einval(tw_completion_schedule_activity(c, 1, &o), "seq 1 is already used");

    expect_einval(tw_completion_continue_as_new(c, NULL), "options is NULL");
    tw_continue_as_new_options can;
    tw_continue_as_new_options_init(&can);
    can.task_timeout_ms = -1;
    expect_einval(tw_completion_continue_as_new(c, &can), "task_timeout_ms");
    tw_continue_as_new_options_init(&can);
    can.search_attributes = unnamed;
    expect_einval(tw_completion_continue_as_new(c, &can), "search_attributes");
    tw_continue_as_new_options_init(&can);
    can.retry_backoff_coefficient = 0.5;
    expect_einval(tw_completion_continue_as_new(c, &can), "backoff_coefficient");
    tw_payloads_free(unnamed);
    expect_einval(tw_completion_fail_task(c, NULL, NULL), "message");
    expect_einval(tw_completion_respond_query(c, NULL, NULL, NULL), "query_id");
    tw_completion_free(c);
    tw_completion_free(NULL);

    tw_activity_options_init(NULL);
    tw_continue_as_new_options_init(NULL);
    tw_activation_free(NULL);
    cr_assert_eq(tw_activation_job_count(NULL), 0);
    cr_assert_null(tw_activation_job(NULL, 0));
    cr_assert_str_eq(tw_activation_run_id(NULL), "");
    cr_assert_eq(tw_job_kind_of(NULL), 0);
    cr_assert_str_eq(tw_job_name(NULL), "");
    cr_assert_null(tw_job_args(NULL));
    cr_assert_null(tw_job_failure(NULL));
    cr_assert_str_eq(tw_job_workflow_id(NULL), "");

    tw_run *run = NULL;
    expect_einval(tw_run_new("", &run), "run_id");
    expect_einval(tw_run_append(NULL, hist_new()), "run");
    cr_assert_not(tw_run_has_next_activation(NULL));
    tw_run_free(NULL);
    cr_assert_eq(tw_completion_take_output(NULL, NULL), TW_EINVAL);
}

/* The calls taking an options struct share their first checks; each message still names its call and the fault. */
static void expect_message(int rc, const char *message)
{
    cr_assert_eq(rc, TW_EINVAL, "rc %d, expected TW_EINVAL", rc);
    cr_assert_str_eq(tw_error_message(tw_error_last()), message);
}

Test(history, options_preamble_names_the_call_and_the_fault)
{
    tw_completion *c = new_completion();
    tw_activity_options act;
    tw_activity_options_init(&act);
    tw_local_activity_options la;
    tw_local_activity_options_init(&la);
    tw_continue_as_new_options can;
    tw_continue_as_new_options_init(&can);
    tw_child_workflow_options child;
    tw_child_workflow_options_init(&child);
    tw_signal_external_options sig;
    tw_signal_external_options_init(&sig);

    expect_message(tw_completion_schedule_activity(NULL, 1, &act), "tw_completion_schedule_activity: c is NULL");
    expect_message(tw_completion_schedule_local_activity(NULL, 1, &la),
                   "tw_completion_schedule_local_activity: c is NULL");
    expect_message(tw_completion_continue_as_new(NULL, &can), "tw_completion_continue_as_new: c is NULL");
    expect_message(tw_completion_start_child_workflow(NULL, 1, &child),
                   "tw_completion_start_child_workflow: c is NULL");
    expect_message(tw_completion_signal_external_workflow(NULL, 1, &sig),
                   "tw_completion_signal_external_workflow: c is NULL");

    expect_message(tw_completion_schedule_activity(c, 1, NULL), "tw_completion_schedule_activity: options is NULL");
    expect_message(tw_completion_schedule_local_activity(c, 1, NULL),
                   "tw_completion_schedule_local_activity: options is NULL");
    expect_message(tw_completion_continue_as_new(c, NULL), "tw_completion_continue_as_new: options is NULL");
    expect_message(tw_completion_start_child_workflow(c, 1, NULL),
                   "tw_completion_start_child_workflow: options is NULL");
    expect_message(tw_completion_signal_external_workflow(c, 1, NULL),
                   "tw_completion_signal_external_workflow: options is NULL");

    act.size = la.size = can.size = child.size = sig.size = 0;
    expect_message(tw_completion_schedule_activity(c, 1, &act),
                   "tw_completion_schedule_activity: options->size is 0; call tw_activity_options_init first");
    expect_message(tw_completion_schedule_local_activity(c, 1, &la),
                   "tw_completion_schedule_local_activity: options->size is 0; call tw_local_activity_options_init "
                   "first");
    expect_message(tw_completion_continue_as_new(c, &can),
                   "tw_completion_continue_as_new: options->size is 0; call tw_continue_as_new_options_init first");
    expect_message(tw_completion_start_child_workflow(c, 1, &child),
                   "tw_completion_start_child_workflow: options->size is 0; call tw_child_workflow_options_init "
                   "first");
    expect_message(tw_completion_signal_external_workflow(c, 1, &sig),
                   "tw_completion_signal_external_workflow: options->size is 0; call tw_signal_external_options_init "
                   "first");

    /* A caller's struct from before a field was appended: that field keeps its default. */
    tw_child_workflow_options_init(&child);
    child.workflow_id = "kid";
    child.workflow_type = "kid-type";
    child.cancellation_type = 99; /* beyond the caller's size: not read */
    child.size = offsetof(tw_child_workflow_options, cancellation_type);
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &child), 0, "%s", tw_error_message(tw_error_last()));
    cr_assert_eq(c->cmd_count, 1);
    cr_assert_eq(c->cmds[0].cancellation_type, TW_CHILD_CANCEL_WAIT_COMPLETED);
    tw_completion_free(c);
}

Test(history, run_rejects_misused_completions)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    timer_started(h, "1", c1);
    signaled(h, "s", "{}");
    wft(h, false);
    tw_run *run = run_of(h);
    tw_run_output out;

    tw_completion *c = new_completion();
    expect_einval(tw_run_complete(run, c, &out, NULL), "no activation awaiting");

    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    bool live;
    expect_einval(tw_run_next_activation(run, &a, &live, NULL), "awaits its completion");
    cr_assert_not(tw_run_has_next_activation(run), "false while an activation is outstanding");

    cr_assert_eq(tw_completion_new("another-run", &c), 0);
    expect_einval(tw_run_complete(run, c, &out, NULL), "the completion is for run another-run");

    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_ok(run, c, &out);

    a = next_act(run, true);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    expect_einval(tw_run_complete(run, c, &out, NULL), "timer seq 1 is already used by a pending timer");
    tw_run_free(run);

    h = hist_new();
    started(h);
    wft(h, false);
    run = run_of(h);
    a = next_act(run, true);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_activity(c, 4), 0);
    expect_einval(tw_run_complete(run, c, &out, NULL), "no activity with seq 4 was scheduled");
    expect_einval(tw_run_next_activation(run, &a, &live, NULL), "unusable");
    tw_run_free(run);

    h = hist_new();
    started(h);
    wft(h, false);
    run = run_of(h);
    a = next_act(run, true);
    tw_activation_free(a);
    complete_ok(run, new_completion(), &out);
    expect_einval(tw_run_next_activation(run, &a, &live, NULL), "no activation to make");
    expect_einval(tw_run_next_activation(run, NULL, &live, NULL), "out is NULL");
    tw_run_free(run);
}

/* ================================================================== */
/* Local activities                                                    */

static void schedule_local(tw_completion *c, uint32_t seq, const char *type)
{
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = type;
    o.start_to_close_timeout_ms = 5000;
    cr_assert_eq(tw_completion_schedule_local_activity(c, seq, &o), 0, "%s", tw_error_message(tw_error_last()));
}

/* A MarkerRecorded core_local_activity event for seq (result json, or failure when result is NULL). */
static int64_t la_marker_event(pb_history *h, uint32_t seq, const char *type, const char *result_json,
                               int64_t completed_id)
{
    pb_event *e = add_event(h, EV(MARKER_RECORDED));
    NEW_ATTR(e, marker_recorded_event_attributes, MARKER_RECORDED,
             temporal__api__history__v1__marker_recorded_event_attributes__descriptor);
    Temporal__Api__History__V1__MarkerRecordedEventAttributes *m = e->marker_recorded_event_attributes;
    m->marker_name = pb_str(&B, "core_local_activity");
    m->workflow_task_completed_event_id = completed_id;
    char data[256];
    snprintf(data, sizeof(data), "{\"seq\":%u,\"attempt\":1,\"activity_id\":\"%u\",\"activity_type\":\"%s\"}", seq,
             seq, type);
    m->details = calloc(2, sizeof(*m->details));
    cr_assert_not_null(m->details);
    const char *keys[2] = {"data", "result"};
    for (size_t i = 0; i < (result_json ? 2u : 1u); i++) {
        Temporal__Api__History__V1__MarkerRecordedEventAttributes__DetailsEntry *d =
            pb_new(&B, &temporal__api__history__v1__marker_recorded_event_attributes__details_entry__descriptor);
        d->key = pb_str(&B, keys[i]);
        d->value = json_payloads(i == 0 ? data : result_json);
        m->details[m->n_details++] = d;
    }
    if (!result_json)
        m->failure = app_failure("boom", "Boom");
    return e->event_id;
}

static const char *marker_data(const tw_pb_command *cmd, const char *key)
{
    cr_assert_eq(cmd->command_type, CMD(RECORD_MARKER));
    const Temporal__Api__Command__V1__RecordMarkerCommandAttributes *m = cmd->record_marker_command_attributes;
    cr_assert_str_eq(m->marker_name, "core_local_activity");
    static char buf[512];
    for (size_t i = 0; i < m->n_details; i++) {
        if (strcmp(m->details[i]->key, key) == 0) {
            const ProtobufCBinaryData *d = &m->details[i]->value->payloads[0]->data;
            size_t n = d->len < sizeof(buf) - 1 ? d->len : sizeof(buf) - 1;
            memcpy(buf, d->data, n);
            buf[n] = '\0';
            return buf;
        }
    }
    return NULL;
}

Test(history, local_activity_live_marker_and_resolution_in_same_task)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_run_output out;
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    schedule_local(c, 1, "greet");
    complete_ok(run, c, &out);
    /* Nothing is sent while the local activity runs. */
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));
    cr_assert_eq(tw_run_local_activities_outstanding(run), 1);

    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(reqs[0].seq, 1);
    cr_assert_not(reqs[0].cancel);
    cr_assert_str_eq(reqs[0].schedule->schedule_activity_task_command_attributes->activity_type->name, "greet");
    cr_assert_str_eq(reqs[0].schedule->schedule_activity_task_command_attributes->activity_id, "1");
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 0);

    tw_payloads *result;
    cr_assert_eq(tw_payloads_new(&result), 0);
    cr_assert_eq(tw_payloads_add_json(result, "\"hi\"", NULL), 0);
    cr_assert_eq(tw_run_resolve_local_activity(run, 1, TW_RESOLUTION_COMPLETED, result, NULL, 0, 2, time_of(4)), 0);
    tw_payloads_free(result);
    cr_assert_eq(tw_run_local_activities_outstanding(run), 0);

    a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    cr_assert_eq(tw_job_attempt(j), 2);
    assert_json(tw_job_result(j), 0, "\"hi\"");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert(out.terminal);
    const char *data = marker_data(out.commands[0], "data");
    cr_assert_not_null(strstr(data, "\"seq\":1,\"attempt\":2"), "%s", data);
    cr_assert_not_null(strstr(data, "\"activity_type\":\"greet\""), "%s", data);
    cr_assert_str_eq(marker_data(out.commands[0], "result"), "\"hi\"");
    cr_assert_null(out.commands[0]->record_marker_command_attributes->failure);
    cr_assert_eq(out.commands[1]->command_type, CMD(COMPLETE_WORKFLOW_EXECUTION));
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, local_activity_failure_is_wrapped_and_recorded)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_run_output out;
    tw_activation_free(next_act(run, true));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "greet");
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    pb_failure *cause = app_failure("boom", "Boom");
    cr_assert_eq(tw_run_resolve_local_activity(run, 1, TW_RESOLUTION_FAILED, NULL, cause,
                                               TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED,
                                               3, time_of(4)),
                 0);
    protobuf_c_message_free_unpacked(&cause->base, NULL);
    tw_activation *a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_ACTIVITY);
    cr_assert_str_eq(tw_failure_activity_type(f), "greet");
    cr_assert_str_eq(tw_failure_message(tw_failure_cause(f)), "boom");
    cr_assert_str_eq(tw_failure_application_type(tw_failure_cause(f)), "Boom");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_not_null(out.commands[0]->record_marker_command_attributes->failure);
    cr_assert_null(marker_data(out.commands[0], "result"));
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, local_activity_cancel_resolves_at_once)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_run_output out;
    tw_activation_free(next_act(run, true));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "slow");
    schedule_local(c, 2, "fast");
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 2);
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&reqs[i].schedule->base, NULL);
    free(reqs);
    cr_assert_eq(tw_run_resolve_local_activity(run, 2, TW_RESOLUTION_COMPLETED, NULL, NULL, 0, 1, time_of(4)), 0);
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY)), 2);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_local_activity(c, 1), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    tw_activation_free(a);
    /* The worker is told to cancel the running task. */
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert(reqs[0].cancel);
    cr_assert_eq(reqs[0].seq, 1);
    free(reqs);
    /* A late outcome is ignored. */
    cr_assert_eq(tw_run_resolve_local_activity(run, 1, TW_RESOLUTION_COMPLETED, NULL, NULL, 0, 1, time_of(4)), 0);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 3);
    cr_assert_eq(out.commands[0]->command_type, CMD(RECORD_MARKER));
    cr_assert_eq(out.commands[1]->command_type, CMD(RECORD_MARKER));
    tw_run_output_clear(&out);
    tw_run_free(run);
}

/* started, a completed task, then the task's commands: [marker seq 1], WorkflowExecutionCompleted. */
static pb_history *la_replay_history(bool with_marker, const char *result_json)
{
    pb_history *h = hist_new();
    started(h);
    int64_t done = wft(h, true);
    if (with_marker)
        la_marker_event(h, 1, "greet", result_json, done);
    wf_completed(h, done);
    return h;
}

Test(history, local_activity_replays_from_marker)
{
    tw_run *run = run_of(la_replay_history(true, "\"hi\""));
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "greet");
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 0, "a replayed local activity is not run again");
    tw_activation *a = next_act(run, false);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    assert_json(tw_job_result(j), 0, "\"hi\"");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, local_activity_replays_failure_from_marker)
{
    tw_run *run = run_of(la_replay_history(true, NULL));
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "greet");
    complete_ok(run, c, &out);
    tw_activation *a = next_act(run, false);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    cr_assert_str_eq(tw_failure_message(tw_job_failure(j)), "boom");
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, local_activity_without_marker_is_nondeterministic)
{
    /*
     * As in sdk-core, the missing marker is no error by itself (it could
     * come in a later task): the workflow, waiting on the local activity,
     * produced nothing where history completes the workflow.
     */
    tw_run *run = run_of(la_replay_history(false, NULL));
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "greet");
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is WorkflowExecutionCompleted but the workflow "
                              "produced no command");
    tw_run_free(run);
}

Test(history, marker_without_local_activity_is_nondeterministic)
{
    tw_run *run = run_of(la_replay_history(true, "\"hi\""));
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is MarkerRecorded (core_local_activity seq 1) but "
                              "the workflow scheduled no such local activity");
    tw_run_free(run);
}

Test(history, local_activity_options_are_checked)
{
    tw_completion *c = new_completion();
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "greet";
    expect_einval(tw_completion_schedule_local_activity(c, 1, &o), "start_to_close_timeout_ms");
    o.activity_type = NULL;
    o.start_to_close_timeout_ms = 1;
    expect_einval(tw_completion_schedule_local_activity(c, 1, &o), "activity_type");
    tw_completion_free(c);
}

/* ---- heartbeats: local activities longer than the workflow task timeout ---- */

static size_t take_requests(tw_run *run, int64_t now, uint32_t *seq)
{
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, now, &reqs, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (seq && i == 0)
            *seq = reqs[i].seq;
        if (reqs[i].schedule)
            protobuf_c_message_free_unpacked(&reqs[i].schedule->base, NULL);
    }
    free(reqs);
    return n;
}

/* tw_run_next_activation made no activation: a task with nothing for the workflow. */
static void expect_no_activation(tw_run *run, bool expect_live)
{
    cr_assert(tw_run_has_next_activation(run));
    tw_activation *a = (tw_activation *)1;
    bool live = !expect_live;
    tw_error *err = NULL;
    cr_assert_eq(tw_run_next_activation(run, &a, &live, &err), 0, "%s", err ? tw_error_message(err) : "");
    cr_assert_null(a);
    cr_assert_eq(live, expect_live);
}

static void resolve_json(tw_run *run, uint32_t seq, const char *json, int64_t when)
{
    tw_payloads *result;
    cr_assert_eq(tw_payloads_new(&result), 0);
    cr_assert_eq(tw_payloads_add_json(result, json, NULL), 0);
    cr_assert_eq(tw_run_resolve_local_activity(run, seq, TW_RESOLUTION_COMPLETED, result, NULL, 0, 1, when), 0);
    tw_payloads_free(result);
}

Test(history, task_timeout_from_started_event)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    cr_assert_eq(tw_run_task_timeout_ms(run), 10000, "unset: 10 s");
    tw_run_free(run);
    h = hist_new();
    started(h);
    set_task_timeout_ms(h, 2000);
    wft(h, false);
    run = run_of(h);
    cr_assert_eq(tw_run_task_timeout_ms(run), 2000);
    tw_run_free(run);
}

Test(history, local_activity_heartbeat_live_flow)
{
    pb_history *all = hist_new();
    started(all);
    wft(all, false); /* 2, 3 */
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 3)), 0);
    tw_run_output out;
    tw_activation_free(next_act(run, true));
    tw_run_output none;
    expect_einval(tw_run_heartbeat(run, &none), "waiting on local activities");

    /* Task 3: a timer and a long local activity. */
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    schedule_local(c, 1, "slow");
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0, "nothing is sent while the local activity runs");
    tw_run_output_clear(&out);
    uint32_t seq = 0;
    cr_assert_eq(take_requests(run, time_of(3), &seq), 1);
    cr_assert_eq(seq, 1);

    /* Heartbeat: what the task produced so far, the local activity still running. */
    cr_assert_eq(tw_run_heartbeat(run, &out), 0, "%s", tw_error_message(tw_error_last()));
    cr_assert_eq(out.command_count, 1);
    cr_assert_eq(out.commands[0]->command_type, CMD(START_TIMER));
    cr_assert_str_eq(out.commands[0]->start_timer_command_attributes->timer_id, "1");
    cr_assert_not(out.terminal);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));
    cr_assert_eq(tw_run_local_activities_outstanding(run), 1);
    expect_einval(tw_run_heartbeat(run, &none), "waiting on local activities");

    /* The server records the timer and makes a new task at once: it has nothing for the workflow. */
    int64_t done = wft_completed(all);                 /* 4 */
    int64_t timer = timer_started(all, "1", done);     /* 5 */
    wft(all, false);                                   /* 6, 7 */
    cr_assert_eq(tw_run_append(run, page_of(all, 4, 7)), 0);
    expect_no_activation(run, true);
    cr_assert_not(tw_run_has_next_activation(run));
    cr_assert_eq(tw_run_local_activities_outstanding(run), 1);

    /* The local activity ends in task 7: its resolution, then a second local activity. */
    resolve_json(run, 1, "\"one\"", time_of(7) + 250000000);
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(7));
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    assert_json(tw_job_result(j), 0, "\"one\"");
    tw_activation_free(a);
    c = new_completion();
    schedule_local(c, 2, "slow");
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert_eq(take_requests(run, time_of(7), &seq), 1);
    cr_assert_eq(seq, 2);

    /* Second heartbeat: the first local activity's marker goes out. */
    cr_assert_eq(tw_run_heartbeat(run, &out), 0, "%s", tw_error_message(tw_error_last()));
    cr_assert_eq(out.command_count, 1);
    cr_assert_str_eq(marker_data(out.commands[0], "data"),
                     "{\"seq\":1,\"attempt\":1,\"activity_id\":\"1\",\"activity_type\":\"slow\","
                     "\"complete_time\":{\"seconds\":1700000007,\"nanos\":250000000},\"backoff\":null,"
                     "\"original_schedule_time\":{\"seconds\":1700000003,\"nanos\":0}}");
    cr_assert_str_eq(marker_data(out.commands[0], "result"), "\"one\"");
    tw_run_output_clear(&out);

    /* The second ends between tasks: its resolution waits for the next task. */
    resolve_json(run, 2, "\"two\"", time_of(9));
    cr_assert_not(tw_run_has_next_activation(run));
    cr_assert_eq(tw_run_local_activities_outstanding(run), 0);

    /* The next task brings the marker, and the timer fires meanwhile. */
    done = wft_completed(all);                         /* 8 */
    char data[256];
    snprintf(data, sizeof(data), "{\"seq\":1,\"attempt\":1,\"activity_id\":\"1\",\"activity_type\":\"slow\"}");
    la_marker_with_data(all, data, "\"one\"", NULL, done); /* 9 */
    timer_fired(all, "1", timer);                      /* 10 */
    wft(all, false);                                   /* 11, 12 */
    cr_assert_eq(tw_run_append(run, page_of(all, 8, 12)), 0);
    a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(12));
    cr_assert_eq(tw_activation_job_count(a), 2);
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 1);
    j = job_at(a, 1, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 2);
    assert_json(tw_job_result(j), 0, "\"two\"");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert(out.terminal);
    cr_assert_not_null(strstr(marker_data(out.commands[0], "data"), "\"seq\":2,"));
    cr_assert_eq(out.commands[1]->command_type, CMD(COMPLETE_WORKFLOW_EXECUTION));
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));
    hist_free(all);
    tw_run_free(run);
}

/*
 * started; task 3 schedules local activity 1 and heartbeats; task 6
 * heartbeats; task 9 records its marker and completes the workflow.
 */
static pb_history *la_heartbeat_history(const char *data_json)
{
    pb_history *h = hist_new();
    started(h);
    set_task_timeout_ms(h, 2000);
    wft(h, true);                                      /* 2, 3, 4 */
    wft(h, true);                                      /* 5, 6, 7 */
    int64_t done = wft(h, true);                       /* 8, 9, 10 */
    if (data_json)
        la_marker_with_data(h, data_json, "\"late\"", NULL, done); /* 11 */
    wf_completed(h, done);
    return h;
}

#define SDK_CORE_DATA                                                                                                 \
    "{\"seq\":1,\"attempt\":1,\"activity_id\":\"1\",\"activity_type\":\"slow\",\"complete_time\":{\"seconds\":"      \
    "1700000009,\"nanos\":500000000},\"backoff\":null,\"original_schedule_time\":{\"seconds\":1700000003,\"nanos\":0}}"

Test(history, local_activity_marker_two_tasks_after_schedule_replays)
{
    tw_run *run = run_of(la_heartbeat_history(SDK_CORE_DATA));
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "slow");
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    cr_assert_eq(take_requests(run, time_of(3), NULL), 0, "a replayed local activity is not run");
    cr_assert_eq(tw_run_local_activities_outstanding(run), 0);
    /* Task 6 (a heartbeat) has nothing for the workflow; task 9 recorded the marker. */
    expect_no_activation(run, false);
    tw_activation *a = next_act(run, false);
    cr_assert_eq(tw_activation_timestamp(a), time_of(9));
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    assert_json(tw_job_result(j), 0, "\"late\"");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, local_activity_marker_in_earlier_format_replays)
{
    /* complete_time as the RFC 3339 string earlier builds of this library wrote. */
    tw_run *run = run_of(la_heartbeat_history("{\"seq\":1,\"attempt\":1,\"activity_id\":\"1\",\"activity_type\":"
                                              "\"slow\",\"complete_time\":\"2023-11-14T22:13:29.500000000Z\"}"));
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "slow");
    complete_ok(run, c, &out);
    expect_no_activation(run, false);
    tw_activation *a = next_act(run, false);
    assert_json(tw_job_result(job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY)), 0, "\"late\"");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, local_activity_marker_never_recorded_is_nondeterministic)
{
    /* Heartbeats, then the workflow completes: the marker never came. */
    tw_run *run = run_of(la_heartbeat_history(NULL));
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "slow");
    complete_ok(run, c, &out);
    expect_no_activation(run, false);
    /* Task 9 has no job either, but its command events must be matched: the workflow produced none. */
    cr_assert(tw_run_has_next_activation(run));
    tw_activation *a = NULL;
    bool live = true;
    tw_error *err = NULL;
    cr_assert_eq(tw_run_next_activation(run, &a, &live, &err), TW_EPROTO);
    cr_assert_null(a);
    cr_assert_not_null(err);
    cr_assert_str_eq(tw_error_message(err), "non-deterministic: history event 11 is WorkflowExecutionCompleted but "
                                            "the workflow produced no command");
    tw_error_destroy(err);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, local_activity_marker_before_its_schedule_is_nondeterministic)
{
    /* The marker of seq 1 comes in task 3, but the workflow schedules seq 2 there and seq 1 never. */
    pb_history *h = hist_new();
    started(h);
    int64_t done = wft(h, true);
    la_marker_with_data(h, SDK_CORE_DATA, "\"x\"", NULL, done);
    wf_completed(h, done);
    tw_run *run = run_of(h);
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 2, "slow");
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is MarkerRecorded (core_local_activity seq 1) but "
                              "the workflow scheduled no such local activity");
    tw_run_free(run);
}

Test(history, local_activity_without_marker_runs_at_live_task)
{
    /* The worker heartbeated and died: the replay reaches the live task with no marker, so it runs again. */
    pb_history *h = hist_new();
    started(h);
    wft(h, true);                                      /* 2, 3, 4 */
    wft(h, false);                                     /* 5, 6 */
    tw_run *run = run_of(h);
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_local(c, 1, "slow");
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    /* The timer is matched against history at once: none there. */
    complete_nondeterministic(run, c,
                              "non-deterministic: history has no more command events for the workflow task completed "
                              "at event 4 (up to event 4) but the workflow produced StartTimer (timer_id \"1\")");
    tw_run_free(run);

    h = hist_new();
    started(h);
    wft(h, true);
    wft(h, false);
    run = run_of(h);
    tw_activation_free(next_act(run, false));
    c = new_completion();
    schedule_local(c, 1, "slow");
    complete_ok(run, c, &out);
    cr_assert_eq(tw_run_local_activities_outstanding(run), 0);
    expect_no_activation(run, true);
    cr_assert_eq(tw_run_local_activities_outstanding(run), 1);
    uint32_t seq = 0;
    cr_assert_eq(take_requests(run, time_of(6), &seq), 1);
    cr_assert_eq(seq, 1);
    resolve_json(run, 1, "\"again\"", time_of(7));
    tw_activation *a = next_act(run, true);
    assert_json(tw_job_result(job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY)), 0, "\"again\"");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_eq(out.commands[0]->command_type, CMD(RECORD_MARKER));
    tw_run_output_clear(&out);
    tw_run_free(run);
}

static Temporal__Api__History__V1__MarkerRecordedEventAttributes *marker_attrs(const char *data_json)
{
    Temporal__Api__History__V1__MarkerRecordedEventAttributes *m =
        pb_new(&B, &temporal__api__history__v1__marker_recorded_event_attributes__descriptor);
    m->marker_name = pb_str(&B, "core_local_activity");
    m->details = calloc(1, sizeof(*m->details));
    Temporal__Api__History__V1__MarkerRecordedEventAttributes__DetailsEntry *d =
        pb_new(&B, &temporal__api__history__v1__marker_recorded_event_attributes__details_entry__descriptor);
    d->key = pb_str(&B, "data");
    d->value = json_payloads(data_json);
    m->details[m->n_details++] = d;
    cr_assert(!B.oom);
    return m;
}

static void expect_marker_read(const char *data_json, bool ok, uint32_t seq, int32_t attempt, bool has_time,
                               int64_t time_ns)
{
    Temporal__Api__History__V1__MarkerRecordedEventAttributes *m = marker_attrs(data_json);
    tw_la_marker_info info;
    cr_assert_eq(tw_la_marker_read(m, &info), ok, "%s", data_json);
    if (ok) {
        cr_assert_eq(info.seq, seq, "%s", data_json);
        cr_assert_eq(info.attempt, attempt, "%s", data_json);
        cr_assert_eq(info.has_complete_time, has_time, "%s", data_json);
        if (has_time)
            cr_assert_eq(info.complete_time_ns, time_ns, "%s: %lld", data_json, (long long)info.complete_time_ns);
    }
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

Test(history, local_activity_marker_data_read_in_both_formats)
{
    int64_t t = time_of(9) + 500000000; /* 2023-11-14T22:13:29.5Z */
    expect_marker_read(SDK_CORE_DATA, true, 1, 1, true, t);
    expect_marker_read("{\"seq\":7,\"attempt\":3,\"complete_time\":\"2023-11-14T22:13:29.500000000Z\"}", true, 7, 3,
                       true, t);
    expect_marker_read("{\"seq\":7,\"attempt\":3,\"complete_time\":\"2023-11-14T22:13:29.5Z\"}", true, 7, 3, true, t);
    expect_marker_read("{\"seq\":7,\"complete_time\":\"2023-11-15T00:13:29.5+02:00\"}", true, 7, 1, true, t);
    expect_marker_read("{\"seq\":7,\"complete_time\":{\"seconds\":\"1700000009\",\"nanos\":500000000}}", true, 7, 1,
                       true, t);
    expect_marker_read("{\"seq\":2,\"attempt\":1,\"complete_time\":null}", true, 2, 1, false, 0);
    expect_marker_read("{\"seq\":2,\"complete_time\":\"yesterday\"}", true, 2, 1, false, 0);
    expect_marker_read("{\"attempt\":1}", false, 0, 0, false, 0);
    expect_marker_read("\"not an object\"", false, 0, 0, false, 0);
    expect_marker_read("{\"seq\":-1}", false, 0, 0, false, 0);
}

Test(history, local_activity_marker_written_in_sdk_core_layout)
{
    /* A cancel of a local activity never taken by the worker: no original_schedule_time, complete_time the task's. */
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_run_output out;
    tw_activation_free(next_act(run, true));
    tw_completion *c = new_completion();
    schedule_local(c, 5, "quick \"q\"");
    cr_assert_eq(tw_completion_request_cancel_local_activity(c, 5), 0);
    complete_ok(run, c, &out);
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_job_resolution(job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY)), TW_RESOLUTION_CANCELLED);
    tw_activation_free(a);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert_str_eq(marker_data(out.commands[0], "data"),
                     "{\"seq\":5,\"attempt\":1,\"activity_id\":\"5\",\"activity_type\":\"quick \\\"q\\\"\","
                     "\"complete_time\":{\"seconds\":1700000003,\"nanos\":0},\"backoff\":null,"
                     "\"original_schedule_time\":null}");
    /* And this engine reads back what it wrote. */
    tw_la_marker_info info;
    const Temporal__Api__Command__V1__RecordMarkerCommandAttributes *m = out.commands[0]->record_marker_command_attributes;
    Temporal__Api__History__V1__MarkerRecordedEventAttributes ev;
    temporal__api__history__v1__marker_recorded_event_attributes__init(&ev);
    ev.n_details = m->n_details;
    ev.details = (Temporal__Api__History__V1__MarkerRecordedEventAttributes__DetailsEntry **)m->details;
    cr_assert(tw_la_marker_read(&ev, &info));
    cr_assert_eq(info.seq, 5);
    cr_assert(info.has_complete_time);
    cr_assert_eq(info.complete_time_ns, time_of(3));
    tw_run_output_clear(&out);
    tw_run_free(run);
}

/* ---- retries waiting on a backoff timer (local_retry_threshold_ms) ---- */

/* Local activity seq retried every 1.5 s, with a local retry threshold of threshold_ms (attempt, schedule time). */
static void schedule_flaky(tw_completion *c, uint32_t seq, int64_t threshold_ms, int32_t attempt, int64_t original)
{
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "flaky";
    o.start_to_close_timeout_ms = 5000;
    o.retry_initial_interval_ms = 1500;
    o.retry_backoff_coefficient = 1.0;
    o.local_retry_threshold_ms = threshold_ms;
    o.attempt = attempt;
    o.original_schedule_time = original;
    cr_assert_eq(tw_completion_schedule_local_activity(c, seq, &o), 0, "%s", tw_error_message(tw_error_last()));
}

/* Takes the run's one request; checks its seq and returns its parameters. */
static tw_la_params take_params(tw_run *run, int64_t now, uint32_t seq)
{
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, now, &reqs, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(reqs[0].seq, seq);
    tw_la_params p = reqs[0].params;
    Temporal__Api__Common__V1__Header *hdr = reqs[0].schedule->schedule_activity_task_command_attributes->header;
    cr_assert(!hdr || hdr->n_fields == 0, "the activity sees no extra header");
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    return p;
}

#define BACKOFF_MARKER_DATA                                                                                        \
    "{\"seq\":1,\"attempt\":1,\"activity_id\":\"1\",\"activity_type\":\"flaky\","                                    \
    "\"complete_time\":{\"seconds\":1700000003,\"nanos\":250000000},"                                                \
    "\"backoff\":{\"seconds\":1,\"nanos\":500000000},"                                                               \
    "\"original_schedule_time\":{\"seconds\":1700000003,\"nanos\":0}}"

Test(history, local_activity_backoff_records_the_attempt_and_asks_for_a_timer)
{
    /* 1 started, 2-4 WFT, 5 the marker, 6 timer started, 7 fired, 8-9 live; the run gets 1-3 first. */
    pb_history *full = hist_new();
    started(full);
    int64_t done = wft(full, true);
    la_marker_with_data(full, BACKOFF_MARKER_DATA, NULL, app_failure("boom", "Boom"), done);
    int64_t t = timer_started(full, "1", done);
    timer_fired(full, "1", t);
    wft(full, false);
    cr_assert(!B.oom);
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(full, 1, 3)), 0);
    tw_run_output out;
    tw_activation_free(next_act(run, true));
    tw_completion *c = new_completion();
    schedule_flaky(c, 1, 1000, 0, 0);
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    tw_la_params p = take_params(run, time_of(3), 1);
    cr_assert_eq(p.attempt, 1);
    cr_assert_eq(p.original_schedule_ms, time_of(3) / 1000000);
    cr_assert_eq(p.retry_threshold_ms, 1000);

    pb_failure *cause = app_failure("boom", "Boom");
    cr_assert_eq(tw_run_resolve_local_activity(run, 1, TW_RESOLUTION_BACKOFF, NULL, cause,
                                               TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_IN_PROGRESS, 1,
                                               time_of(3) + 250000000),
                 0);
    protobuf_c_message_free_unpacked(&cause->base, NULL);
    cr_assert_eq(tw_run_local_activities_outstanding(run), 0, "the local activity seq 1 is over");
    tw_activation *a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_BACKOFF);
    cr_assert_eq(tw_job_attempt(j), 2, "the next attempt");
    cr_assert_eq(tw_job_backoff_ms(j), 1500, "computed from the retry policy");
    cr_assert_eq(tw_job_original_schedule_time(j), time_of(3));
    cr_assert_str_eq(tw_failure_message(tw_failure_cause(tw_job_failure(j))), "boom");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1500), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_str_eq(marker_data(out.commands[0], "data"), BACKOFF_MARKER_DATA);
    cr_assert_not_null(out.commands[0]->record_marker_command_attributes->failure);
    cr_assert_null(marker_data(out.commands[0], "result"));
    cr_assert_eq(out.commands[1]->command_type, CMD(START_TIMER));
    tw_run_output_clear(&out);

    /* The timer fires: the retry is a new local activity, attempt 2, scheduled as the first attempt was. */
    cr_assert_eq(tw_run_append(run, page_of(full, 4, 9)), 0, "%s", tw_error_message(tw_error_last()));
    a = next_act(run, true);
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 1);
    tw_activation_free(a);
    c = new_completion();
    schedule_flaky(c, 2, 1000, 2, time_of(3));
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    p = take_params(run, time_of(9), 2);
    cr_assert_eq(p.attempt, 2);
    cr_assert_eq(p.original_schedule_ms, time_of(3) / 1000000, "schedule_to_close counts from the first attempt");
    tw_payloads *ok;
    cr_assert_eq(tw_payloads_new(&ok), 0);
    cr_assert_eq(tw_payloads_add_json(ok, "\"ok\"", NULL), 0);
    cr_assert_eq(tw_run_resolve_local_activity(run, 2, TW_RESOLUTION_COMPLETED, ok, NULL, 0, 2, time_of(9)), 0);
    tw_payloads_free(ok);
    a = next_act(run, true);
    j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    cr_assert_eq(tw_job_attempt(j), 2);
    cr_assert_eq(tw_job_backoff_ms(j), 0);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_str_eq(marker_data(out.commands[0], "data"),
                     "{\"seq\":2,\"attempt\":2,\"activity_id\":\"2\",\"activity_type\":\"flaky\","
                     "\"complete_time\":{\"seconds\":1700000009,\"nanos\":0},\"backoff\":null,"
                     "\"original_schedule_time\":{\"seconds\":1700000003,\"nanos\":0}}");
    tw_run_output_clear(&out);
    tw_run_free(run);
    hist_free(full);
}

/*
 * What the official SDK recorded for a local activity that failed once and
 * waited 1.5 s on timer 1 (its marker data as sdk-core writes it, with the
 * newer "activation_index" this engine ignores): 1 started, 2-4 WFT, 5
 * marker, 6 timer started, 7 fired, 8-10 WFT, 11 marker seq 2, 12 completed.
 */
static pb_history *official_backoff_history(void)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    la_marker_with_data(h,
                        "{\"seq\":1,\"attempt\":1,\"activity_id\":\"1\",\"activity_type\":\"flaky\","
                        "\"complete_time\":{\"seconds\":1795598683,\"nanos\":139964544},"
                        "\"backoff\":{\"seconds\":1,\"nanos\":500000000},"
                        "\"original_schedule_time\":{\"seconds\":1795598683,\"nanos\":168983339},"
                        "\"activation_index\":1}",
                        NULL, app_failure("attempt 1 fails", "RuntimeError"), c1);
    int64_t t = timer_started(h, "1", c1);
    timer_fired(h, "1", t);
    int64_t c2 = wft(h, true);
    la_marker_with_data(h,
                        "{\"seq\":2,\"attempt\":2,\"activity_id\":\"2\",\"activity_type\":\"flaky\","
                        "\"complete_time\":{\"seconds\":1795598686,\"nanos\":240481584},\"backoff\":null,"
                        "\"original_schedule_time\":{\"seconds\":1795598683,\"nanos\":168983339},"
                        "\"activation_index\":1}",
                        "\"ok\"", NULL, c2);
    wf_completed(h, c2);
    return h;
}

Test(history, local_activity_backoff_replays_from_its_marker)
{
    tw_run *run = run_of(official_backoff_history());
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_flaky(c, 1, 1000, 0, 0);
    complete_ok(run, c, &out);
    /* The marker, not the worker, resolves it: a BACKOFF to wait 1.5 s, then attempt 2. */
    tw_activation *a = next_act(run, false);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_BACKOFF);
    cr_assert_eq(tw_job_attempt(j), 2);
    cr_assert_eq(tw_job_backoff_ms(j), 1500);
    cr_assert_eq(tw_job_original_schedule_time(j), 1795598683LL * 1000000000 + 168983339);
    cr_assert_str_eq(tw_failure_message(tw_job_failure(j)), "attempt 1 fails");
    int64_t original = tw_job_original_schedule_time(j);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1500), 0);
    complete_ok(run, c, &out); /* matches the marker and TimerStarted */
    a = next_act(run, false);
    cr_assert_eq(tw_job_seq(job_at(a, 0, TW_JOB_FIRE_TIMER)), 1);
    tw_activation_free(a);
    c = new_completion();
    schedule_flaky(c, 2, 1000, 2, original);
    complete_ok(run, c, &out);
    a = next_act(run, false);
    j = job_at(a, 0, TW_JOB_RESOLVE_LOCAL_ACTIVITY);
    cr_assert_eq(tw_job_seq(j), 2);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    cr_assert_eq(tw_job_attempt(j), 2);
    assert_json(tw_job_result(j), 0, "\"ok\"");
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0, "replayed: nothing to send");
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, local_activity_backoff_without_its_timer_is_nondeterministic)
{
    /* The code that wrote the history waited on timer 1; this code schedules the retry at once. */
    tw_run *run = run_of(official_backoff_history());
    tw_run_output out;
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    schedule_flaky(c, 1, 1000, 0, 0);
    complete_ok(run, c, &out);
    tw_activation_free(next_act(run, false));
    c = new_completion();
    schedule_flaky(c, 2, 1000, 2, 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 6 is TimerStarted (timer_id \"1\") but the workflow "
                              "produced no command");
    tw_run_free(run);
}

Test(history, local_retry_threshold_defaults_and_callers_from_before_it)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_run_output out;
    tw_activation_free(next_act(run, true));
    tw_completion *c = new_completion();
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "flaky";
    o.start_to_close_timeout_ms = 5000;
    cr_assert_eq(o.local_retry_threshold_ms, 0);
    cr_assert_eq(o.attempt, 0);
    cr_assert_eq(o.original_schedule_time, 0);
    o.local_retry_threshold_ms = -1;
    expect_einval(tw_completion_schedule_local_activity(c, 1, &o), "local_retry_threshold_ms must not be negative");
    o.local_retry_threshold_ms = 0;
    o.attempt = -2;
    expect_einval(tw_completion_schedule_local_activity(c, 1, &o), "options->attempt must not be negative");
    o.attempt = 0;
    o.original_schedule_time = -5;
    expect_einval(tw_completion_schedule_local_activity(c, 1, &o), "original_schedule_time must not be negative");
    o.original_schedule_time = 0;
    /* 0: sixty seconds, as in sdk-core. */
    cr_assert_eq(tw_completion_schedule_local_activity(c, 1, &o), 0);
    /* A struct that ends before the field: its caller cannot handle TW_RESOLUTION_BACKOFF, so never one. */
    o.local_retry_threshold_ms = 5; /* beyond the caller's size: not read */
    o.size = offsetof(tw_local_activity_options, local_retry_threshold_ms);
    cr_assert_eq(tw_completion_schedule_local_activity(c, 2, &o), 0);
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 2);
    int64_t expected[2] = {60000, -1};
    for (size_t i = 0; i < n; i++) {
        tw_la_params p = reqs[i].params;
        cr_assert_eq(p.retry_threshold_ms, expected[reqs[i].seq - 1], "seq %u: %lld", reqs[i].seq,
                     (long long)p.retry_threshold_ms);
        cr_assert_eq(p.attempt, 1);
        protobuf_c_message_free_unpacked(&reqs[i].schedule->base, NULL);
    }
    free(reqs);
    tw_run_free(run);
}

Test(history, local_activity_params_leave_the_headers_alone)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_run_output out;
    tw_activation_free(next_act(run, true));
    tw_completion *c = new_completion();
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "flaky";
    o.start_to_close_timeout_ms = 5000;
    tw_payloads *hdr = named_json("trace", "\"t-1\"");
    o.headers = hdr;
    cr_assert_eq(tw_completion_schedule_local_activity(c, 1, &o), 0);
    tw_payloads_free(hdr);
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    Temporal__Api__Common__V1__Header *header = reqs[0].schedule->schedule_activity_task_command_attributes->header;
    cr_assert_eq(header->n_fields, 1, "the caller's headers only");
    cr_assert_str_eq(header->fields[0]->key, "trace");
    cr_assert_eq(reqs[0].params.attempt, 1);
    cr_assert_eq(reqs[0].params.original_schedule_ms, time_of(3) / 1000000);
    cr_assert_eq(reqs[0].params.retry_threshold_ms, 60000);
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    tw_run_free(run);
}

Test(history, local_activity_retry_backoff_follows_the_retry_policy)
{
    /* Defaults: 1 s, x2, at most 100 s, unlimited attempts. */
    cr_assert_eq(tw_la_retry_backoff_ms(NULL, 1, NULL), 1000);
    cr_assert_eq(tw_la_retry_backoff_ms(NULL, 2, NULL), 2000);
    cr_assert_eq(tw_la_retry_backoff_ms(NULL, 4, NULL), 8000);
    cr_assert_eq(tw_la_retry_backoff_ms(NULL, 30, NULL), 100000);
    tw_retry_policy rp;
    tw_retry_policy_init(&rp);
    rp.initial_interval_ms = 1500;
    rp.backoff_coefficient = 3.0;
    rp.maximum_interval_ms = 10000;
    rp.maximum_attempts = 4;
    pb_build b = {false};
    Temporal__Api__Common__V1__RetryPolicy *p = pb_retry_policy(&b, &rp);
    cr_assert(p && !b.oom);
    cr_assert_eq(tw_la_retry_backoff_ms(p, 1, NULL), 1500);
    cr_assert_eq(tw_la_retry_backoff_ms(p, 2, NULL), 4500);
    cr_assert_eq(tw_la_retry_backoff_ms(p, 3, NULL), 10000, "capped");
    cr_assert_eq(tw_la_retry_backoff_ms(p, 4, NULL), -1, "no fifth attempt");
    /* An application failure's next_retry_delay wins. */
    pb_failure *f = app_failure("slow down", "Busy");
    f->application_failure_info->next_retry_delay = pb_duration_ms(&B, 90000);
    cr_assert_eq(tw_la_retry_backoff_ms(p, 1, f), 90000);
    protobuf_c_message_free_unpacked(&f->base, NULL);
    protobuf_c_message_free_unpacked(&p->base, NULL);
}

Test(history, local_activity_marker_backoff_and_schedule_time_read)
{
    Temporal__Api__History__V1__MarkerRecordedEventAttributes *m =
        marker_attrs("{\"seq\":4,\"attempt\":2,\"backoff\":{\"seconds\":61,\"nanos\":1},"
                     "\"original_schedule_time\":{\"seconds\":1700000003,\"nanos\":7}}");
    tw_la_marker_info info;
    cr_assert(tw_la_marker_read(m, &info));
    cr_assert_eq(info.backoff_ms, 61001, "rounded up to whole ms");
    cr_assert_eq(info.original_schedule_ns, time_of(3) + 7);
    protobuf_c_message_free_unpacked(&m->base, NULL);
    m = marker_attrs(SDK_CORE_DATA);
    cr_assert(tw_la_marker_read(m, &info));
    cr_assert_eq(info.backoff_ms, 0, "backoff null: no timer");
    protobuf_c_message_free_unpacked(&m->base, NULL);
}

/* ================================================================== */
/* Search attribute upserts and memo modifications                      */

static int64_t sa_upserted(pb_history *h, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES));
    NEW_ATTR(e, upsert_workflow_search_attributes_event_attributes, UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
             temporal__api__history__v1__upsert_workflow_search_attributes_event_attributes__descriptor);
    e->upsert_workflow_search_attributes_event_attributes->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

static int64_t props_modified(pb_history *h, int64_t completed_id)
{
    pb_event *e = add_event(h, EV(WORKFLOW_PROPERTIES_MODIFIED));
    NEW_ATTR(e, workflow_properties_modified_event_attributes, WORKFLOW_PROPERTIES_MODIFIED,
             temporal__api__history__v1__workflow_properties_modified_event_attributes__descriptor);
    e->workflow_properties_modified_event_attributes->workflow_task_completed_event_id = completed_id;
    return e->event_id;
}

/* Completion of the first task: upserts CustomKeywordField and memo key "owner". */
static tw_completion *upsert_completion(void)
{
    tw_completion *c = new_completion();
    tw_payloads *sa = named_json("CustomKeywordField", "\"blue\"");
    tw_payloads *memo = named_json("owner", "\"ops\"");
    cr_assert_eq(tw_completion_upsert_search_attributes(c, sa), 0);
    cr_assert_eq(tw_completion_modify_memo(c, memo), 0);
    tw_payloads_free(sa);
    tw_payloads_free(memo);
    return c;
}

Test(history, upsert_and_modify_memo_live_commands)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation_free(next_act(run, true));
    tw_run_output out;
    complete_ok(run, upsert_completion(), &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_not(out.terminal);

    const tw_pb_command *cmd = out.commands[0];
    cr_assert_eq(cmd->command_type, CMD(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES));
    cr_assert_eq(cmd->attributes_case,
                 TEMPORAL__API__COMMAND__V1__COMMAND__ATTRIBUTES_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES_COMMAND_ATTRIBUTES);
    const Temporal__Api__Common__V1__SearchAttributes *sa =
        cmd->upsert_workflow_search_attributes_command_attributes->search_attributes;
    cr_assert_not_null(sa);
    cr_assert_eq(sa->n_indexed_fields, 1);
    cr_assert_str_eq(sa->indexed_fields[0]->key, "CustomKeywordField");
    cr_assert_eq(sa->indexed_fields[0]->value->data.len, 6);
    cr_assert_eq(memcmp(sa->indexed_fields[0]->value->data.data, "\"blue\"", 6), 0);

    cmd = out.commands[1];
    cr_assert_eq(cmd->command_type, CMD(MODIFY_WORKFLOW_PROPERTIES));
    cr_assert_eq(cmd->attributes_case,
                 TEMPORAL__API__COMMAND__V1__COMMAND__ATTRIBUTES_MODIFY_WORKFLOW_PROPERTIES_COMMAND_ATTRIBUTES);
    const Temporal__Api__Common__V1__Memo *memo = cmd->modify_workflow_properties_command_attributes->upserted_memo;
    cr_assert_not_null(memo);
    cr_assert_eq(memo->n_fields, 1);
    cr_assert_str_eq(memo->fields[0]->key, "owner");
    cr_assert_eq(memo->fields[0]->value->data.len, 5);
    cr_assert_eq(memcmp(memo->fields[0]->value->data.data, "\"ops\"", 5), 0);
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, upsert_and_modify_memo_replay_match_events)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    sa_upserted(h, c1);
    props_modified(h, c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_run_output out;
    complete_ok(run, upsert_completion(), &out);
    cr_assert_eq(out.command_count, 0, "a replayed task sends nothing");
    tw_run_output_clear(&out);
    tw_activation_free(next_act(run, true));
    tw_run_free(run);
}

Test(history, nondeterminism_upsert_in_history_not_in_code)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    sa_upserted(h, c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is UpsertWorkflowSearchAttributes but the workflow "
                              "produced StartTimer (timer_id \"1\")");
    tw_run_free(run);

    h = hist_new();
    started(h);
    c1 = wft(h, true);
    sa_upserted(h, c1);
    wft(h, false);
    run = replay_first_task(h);
    complete_nondeterministic(run, new_completion(),
                              "non-deterministic: history event 5 is UpsertWorkflowSearchAttributes but the workflow "
                              "produced no command");
    tw_run_free(run);
}

Test(history, nondeterminism_memo_in_history_not_in_code)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    props_modified(h, c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    tw_payloads *sa = named_json("CustomKeywordField", "\"blue\"");
    cr_assert_eq(tw_completion_upsert_search_attributes(c, sa), 0);
    tw_payloads_free(sa);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is WorkflowPropertiesModified but the workflow "
                              "produced UpsertWorkflowSearchAttributes");
    tw_run_free(run);
}

Test(history, nondeterminism_upsert_in_code_not_in_history)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, true);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = upsert_completion();
    complete_nondeterministic(run, c,
                              "non-deterministic: history has no more command events for the workflow task completed "
                              "at event 4 (up to event 4) but the workflow produced UpsertWorkflowSearchAttributes");
    tw_run_free(run);
}

Test(history, upsert_and_modify_memo_need_lists)
{
    tw_completion *c = new_completion();
    expect_einval(tw_completion_upsert_search_attributes(c, NULL), "attrs");
    expect_einval(tw_completion_modify_memo(c, NULL), "memo");
    tw_completion_free(c);
}

/* ================================================================== */
/* Child workflows                                                      */

static void start_child(tw_completion *c, uint32_t seq, const char *workflow_id, const char *type,
                        int cancellation_type)
{
    tw_child_workflow_options o;
    tw_child_workflow_options_init(&o);
    o.workflow_id = workflow_id;
    o.workflow_type = type;
    o.cancellation_type = cancellation_type;
    cr_assert_eq(tw_completion_start_child_workflow(c, seq, &o), 0, "%s", tw_error_message(tw_error_last()));
}

/* 1 started, 2-4 WFT, 5 child "child-1" of type "kid" initiated, 6 started as "child-run". */
static pb_history *child_history(void)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t i = child_initiated(h, "child-1", "kid", c1);
    child_started(h, "child-1", "child-run", i);
    return h;
}

/* Replays the start of child seq 1 (task 1) and returns the activation of task 2 (live or not). */
static tw_activation *start_child_then_next(tw_run *run, int cancellation_type, bool live)
{
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    start_child(c, 1, "child-1", "kid", cancellation_type);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    return next_act(run, live);
}

static void assert_child_info(const tw_failure *f, const char *message, int64_t started_id, int retry_state)
{
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_str_eq(tw_failure_message(f), message);
    cr_assert_str_eq(tw_failure_namespace(f), "ns");
    cr_assert_str_eq(tw_failure_workflow_id(f), "child-1");
    cr_assert_str_eq(tw_failure_run_id(f), started_id ? "child-run" : "");
    cr_assert_str_eq(tw_failure_workflow_type(f), "kid");
    cr_assert_eq(tw_failure_initiated_event_id(f), 5);
    cr_assert_eq(tw_failure_started_event_id(f), started_id);
    cr_assert_eq(tw_failure_retry_state(f), retry_state);
}

Test(history, child_start_command_fields)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);

    tw_child_workflow_options o;
    tw_child_workflow_options_init(&o);
    cr_assert_eq(o.size, sizeof(o));
    cr_assert_eq(o.cancellation_type, TW_CHILD_CANCEL_WAIT_COMPLETED);
    o.workflow_id = "child-1";
    o.workflow_type = "kid";
    o.namespace_ = "other-ns";
    tw_payloads *args = named_json("x", "\"hi\"");
    tw_payloads *hdr = named_json("trace", "\"t\"");
    tw_payloads *memo = named_json("owner", "\"ops\"");
    tw_payloads *sa = named_json("CustomKeywordField", "\"blue\"");
    o.args = args;
    o.headers = hdr;
    o.memo = memo;
    o.search_attributes = sa;
    o.execution_timeout_ms = 60000;
    o.run_timeout_ms = 30000;
    o.task_timeout_ms = 5000;
    o.parent_close_policy = TW_PARENT_CLOSE_ABANDON;
    o.id_reuse_policy = TW_ID_REUSE_REJECT_DUPLICATE;
    o.retry_initial_interval_ms = 1000;
    o.retry_maximum_attempts = 3;
    const char *nonretry[] = {"Fatal", NULL};
    o.retry_non_retryable_error_types = nonretry;
    o.cron_schedule = "@hourly";
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &o), 0, "%s", tw_error_message(tw_error_last()));
    start_child(c, 2, "child-2", "kid", TW_CHILD_CANCEL_TRY); /* defaults */
    tw_payloads_free(args);
    tw_payloads_free(hdr);
    tw_payloads_free(memo);
    tw_payloads_free(sa);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_eq(out.commands[0]->command_type, CMD(START_CHILD_WORKFLOW_EXECUTION));
    const Temporal__Api__Command__V1__StartChildWorkflowExecutionCommandAttributes *s =
        out.commands[0]->start_child_workflow_execution_command_attributes;
    cr_assert_str_eq(s->namespace_, "other-ns");
    cr_assert_str_eq(s->workflow_id, "child-1");
    cr_assert_str_eq(s->workflow_type->name, "kid");
    cr_assert_str_eq(s->task_queue->name, "tq", "the parent's queue by default");
    cr_assert_eq(s->input->n_payloads, 1);
    cr_assert_eq(s->workflow_execution_timeout->seconds, 60);
    cr_assert_eq(s->workflow_run_timeout->seconds, 30);
    cr_assert_eq(s->workflow_task_timeout->seconds, 5);
    cr_assert_eq(s->parent_close_policy, TEMPORAL__API__ENUMS__V1__PARENT_CLOSE_POLICY__PARENT_CLOSE_POLICY_ABANDON);
    cr_assert_eq(s->workflow_id_reuse_policy,
                 TEMPORAL__API__ENUMS__V1__WORKFLOW_ID_REUSE_POLICY__WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE);
    cr_assert_not_null(s->retry_policy);
    cr_assert_eq(s->retry_policy->initial_interval->seconds, 1);
    cr_assert_eq(s->retry_policy->maximum_attempts, 3);
    cr_assert_eq(s->retry_policy->n_non_retryable_error_types, 1);
    cr_assert_str_eq(s->retry_policy->non_retryable_error_types[0], "Fatal");
    cr_assert_str_eq(s->cron_schedule, "@hourly");
    cr_assert_eq(s->header->n_fields, 1);
    cr_assert_str_eq(s->header->fields[0]->key, "trace");
    cr_assert_eq(s->memo->n_fields, 1);
    cr_assert_str_eq(s->memo->fields[0]->key, "owner");
    cr_assert_eq(s->search_attributes->n_indexed_fields, 1);
    cr_assert_str_eq(s->search_attributes->indexed_fields[0]->key, "CustomKeywordField");
    s = out.commands[1]->start_child_workflow_execution_command_attributes;
    cr_assert_str_eq(s->namespace_, "");
    cr_assert_str_eq(s->task_queue->name, "tq");
    cr_assert_null(s->retry_policy, "no retry policy unless one is given");
    cr_assert_null(s->header);
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, child_started_then_completed)
{
    pb_history *h = child_history();
    int64_t c2 = wft(h, true);
    (void)c2;
    child_completed(h, 5, 6, "\"child result\"");
    wft(h, false);
    tw_run *run = run_of(h);

    tw_activation *a = start_child_then_next(run, TW_CHILD_CANCEL_WAIT_COMPLETED, false);
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_CHILD_START);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    cr_assert_str_eq(tw_job_child_run_id(j), "child-run");
    cr_assert_eq(tw_job_start_failed_cause(j), 0);
    cr_assert_null(tw_job_failure(j));
    tw_activation_free(a);
    tw_run_output out;
    complete_ok(run, new_completion(), &out);

    a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 1);
    j = job_at(a, 0, TW_JOB_RESOLVE_CHILD);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    assert_json(tw_job_result(j), 0, "\"child result\"");
    cr_assert_null(tw_job_failure(j));
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, child_start_failed)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t i = child_initiated(h, "child-1", "kid", c1);
    child_start_failed(h, "child-1", i, TW_START_FAILED_WORKFLOW_ALREADY_EXISTS);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = start_child_then_next(run, TW_CHILD_CANCEL_WAIT_COMPLETED, true);
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_CHILD_START);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    cr_assert_eq(tw_job_start_failed_cause(j), TW_START_FAILED_WORKFLOW_ALREADY_EXISTS);
    cr_assert_str_eq(tw_job_workflow_id(j), "child-1");
    cr_assert_str_eq(tw_job_name(j), "kid");
    cr_assert_str_eq(tw_job_child_run_id(j), "");
    const tw_failure *f = tw_job_failure(j);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_APPLICATION);
    cr_assert_str_eq(tw_failure_application_type(f), "WorkflowAlreadyExists");
    cr_assert_str_eq(tw_failure_message(f),
                     "Child workflow \"child-1\" (type \"kid\") could not start: a workflow with this id already "
                     "exists");
    tw_activation_free(a);
    tw_run_free(run);
}

/* Task 2 (live) resolves the started child with the event add makes; returns that job's activation. */
static tw_activation *child_outcome(int64_t (*add)(pb_history *, int64_t, int64_t), tw_run **run_out)
{
    pb_history *h = child_history();
    add(h, 5, 6);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = start_child_then_next(run, TW_CHILD_CANCEL_WAIT_COMPLETED, true);
    cr_assert_eq(tw_activation_job_count(a), 2);
    cr_assert_eq(tw_job_resolution(job_at(a, 0, TW_JOB_RESOLVE_CHILD_START)), TW_RESOLUTION_COMPLETED);
    cr_assert_eq(tw_job_seq(job_at(a, 1, TW_JOB_RESOLVE_CHILD)), 1);
    *run_out = run;
    return a;
}

static int64_t add_child_canceled(pb_history *h, int64_t initiated, int64_t started_id)
{
    return child_canceled(h, initiated, started_id, "\"bye\"");
}

Test(history, child_failed_is_wrapped)
{
    tw_run *run;
    tw_activation *a = child_outcome(child_failed, &run);
    const tw_job *j = job_at(a, 1, TW_JOB_RESOLVE_CHILD);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    cr_assert_null(tw_job_result(j));
    const tw_failure *f = tw_job_failure(j);
    assert_child_info(f, "Child Workflow execution failed", 6,
                      TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_RETRY_POLICY_NOT_SET);
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(cause), TW_FAILURE_APPLICATION);
    cr_assert_str_eq(tw_failure_message(cause), "child broke");
    cr_assert_str_eq(tw_failure_application_type(cause), "ChildError");
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, child_timed_out_is_wrapped)
{
    tw_run *run;
    tw_activation *a = child_outcome(child_timed_out, &run);
    const tw_job *j = job_at(a, 1, TW_JOB_RESOLVE_CHILD);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    const tw_failure *f = tw_job_failure(j);
    assert_child_info(f, "Child Workflow execution timed out", 6,
                      TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_TIMEOUT);
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(cause), TW_FAILURE_TIMEOUT);
    cr_assert_str_eq(tw_failure_message(cause), "Timed out");
    cr_assert_eq(tw_failure_timeout_type(cause), TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_START_TO_CLOSE);
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, child_terminated_is_wrapped)
{
    tw_run *run;
    tw_activation *a = child_outcome(child_terminated, &run);
    const tw_job *j = job_at(a, 1, TW_JOB_RESOLVE_CHILD);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    const tw_failure *f = tw_job_failure(j);
    assert_child_info(f, "Child Workflow execution terminated", 6,
                      TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE);
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(cause), TW_FAILURE_TERMINATED);
    cr_assert_str_eq(tw_failure_message(cause), "Terminated");
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, child_canceled_is_wrapped)
{
    tw_run *run;
    tw_activation *a = child_outcome(add_child_canceled, &run);
    const tw_job *j = job_at(a, 1, TW_JOB_RESOLVE_CHILD);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    const tw_failure *f = tw_job_failure(j);
    assert_child_info(f, "Child Workflow execution cancelled", 6,
                      TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE);
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(cause), TW_FAILURE_CANCELED);
    assert_json(tw_failure_details(cause), 0, "\"bye\"");
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, child_event_for_unknown_child)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, true);
    child_completed(h, 42, 43, "1");
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_run_output out;
    complete_ok(run, new_completion(), &out);
    tw_error *err = NULL;
    bool live;
    cr_assert_eq(tw_run_next_activation(run, &a, &live, &err), TW_EPROTO);
    cr_assert_str_eq(tw_error_message(err), "history event 5 (ChildWorkflowExecutionCompleted) is about the child "
                                            "workflow initiated at event 42, which this run did not start");
    tw_error_destroy(err);
    tw_run_free(run);
}

Test(history, child_cancelled_before_sent_sends_nothing)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    start_child(c, 1, "child-1", "kid", TW_CHILD_CANCEL_WAIT_COMPLETED);
    cr_assert_eq(tw_completion_cancel_child_workflow(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(3));
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_CHILD_START);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_str_eq(tw_failure_message(f), "Child Workflow Execution cancelled before scheduled");
    cr_assert_eq(tw_failure_kind_of(tw_failure_cause(f)), TW_FAILURE_CANCELED);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_cancel_child_workflow(c, 1), 0, "cancelling a resolved child is a no-op");
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0, "neither the start nor a cancellation request is sent");
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

/* The child's cancellation request as the worker sends it. */
static void assert_child_cancel_command(const tw_pb_command *cmd, const char *run_id)
{
    cr_assert_eq(cmd->command_type, CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION));
    const Temporal__Api__Command__V1__RequestCancelExternalWorkflowExecutionCommandAttributes *r =
        cmd->request_cancel_external_workflow_execution_command_attributes;
    cr_assert_str_eq(r->namespace_, "ns");
    cr_assert_str_eq(r->workflow_id, "child-1");
    cr_assert_str_eq(r->run_id, run_id);
    cr_assert(r->child_workflow_only);
}

/* Live task 2 of child_history (the child started): cancels the child; returns the run and output. */
static tw_run *cancel_started_child(int cancellation_type, pb_history **all, tw_run_output *out)
{
    *all = child_history();
    wft(*all, false);
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(*all, 1, 8)), 0);
    tw_activation *a = start_child_then_next(run, cancellation_type, true);
    cr_assert_eq(tw_job_resolution(job_at(a, 0, TW_JOB_RESOLVE_CHILD_START)), TW_RESOLUTION_COMPLETED);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_cancel_child_workflow(c, 1), 0);
    complete_ok(run, c, out);
    return run;
}

/* The immediate activation cancelling child seq 1. */
static void expect_child_cancelled_now(tw_run *run, int kind)
{
    cr_assert(tw_run_has_next_activation(run));
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_activation_timestamp(a), time_of(8), "same workflow task");
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, kind);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_str_eq(tw_failure_message(f), "Child Workflow execution cancelled");
    cr_assert_eq(tw_failure_kind_of(tw_failure_cause(f)), TW_FAILURE_CANCELED);
    tw_activation_free(a);
}

/* Appends events first.. of all (ending in a live WFT) and expects an activation with n jobs. */
static tw_activation *append_then_next(tw_run *run, pb_history *all, int64_t first, size_t n)
{
    cr_assert_eq(tw_run_append(run, page_of(all, first, (int64_t)all->n_events)), 0);
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), n);
    return a;
}

Test(history, child_cancel_abandon_sends_nothing)
{
    pb_history *all;
    tw_run_output out;
    tw_run *run = cancel_started_child(TW_CHILD_CANCEL_ABANDON, &all, &out);
    cr_assert_eq(out.command_count, 0);
    expect_child_cancelled_now(run, TW_JOB_RESOLVE_CHILD);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 0, "no cancellation request for an abandoned child");

    /* The abandoned child completes anyway: ignored. */
    wft_completed(all);
    child_completed(all, 5, 6, "1");
    signaled(all, "s", "{}");
    wft(all, false);
    tw_activation *a = append_then_next(run, all, 9, 1);
    job_at(a, 0, TW_JOB_SIGNAL);
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, child_cancel_try_sends_request_and_resolves_at_once)
{
    pb_history *all;
    tw_run_output out;
    tw_run *run = cancel_started_child(TW_CHILD_CANCEL_TRY, &all, &out);
    cr_assert_eq(out.command_count, 0, "commands wait for the task's last completion");
    expect_child_cancelled_now(run, TW_JOB_RESOLVE_CHILD);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 1);
    assert_child_cancel_command(out.commands[0], "child-run");
    tw_run_output_clear(&out);

    /* The server's events: the request is matched, the child's cancellation is ignored. */
    int64_t done = wft_completed(all);
    int64_t r = cancel_external_initiated(all, "child-1", "child-run", true, done);
    external_cancel_requested(all, r);
    child_canceled(all, 5, 6, NULL);
    signaled(all, "s", "{}");
    wft(all, false);
    tw_activation *a = append_then_next(run, all, 9, 1);
    job_at(a, 0, TW_JOB_SIGNAL);
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, child_cancel_wait_requested_resolves_when_recorded)
{
    pb_history *all;
    tw_run_output out;
    tw_run *run = cancel_started_child(TW_CHILD_CANCEL_WAIT_REQUESTED, &all, &out);
    cr_assert_eq(out.command_count, 1);
    assert_child_cancel_command(out.commands[0], "child-run");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run), "WAIT_REQUESTED resolves when the request is recorded");

    int64_t done = wft_completed(all);
    int64_t r = cancel_external_initiated(all, "child-1", "child-run", true, done);
    external_cancel_requested(all, r);
    wft(all, false);
    tw_activation *a = append_then_next(run, all, 9, 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_CHILD);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    assert_child_info(tw_job_failure(j), "Child Workflow execution cancelled", 6,
                      TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE);
    tw_activation_free(a);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 0);

    /* The child's own cancellation comes later: ignored. */
    wft_completed(all);
    child_canceled(all, 5, 6, NULL);
    wft(all, false);
    a = append_then_next(run, all, 14, 0);
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, child_cancel_wait_completed_resolves_when_child_closes)
{
    pb_history *all;
    tw_run_output out;
    tw_run *run = cancel_started_child(TW_CHILD_CANCEL_WAIT_COMPLETED, &all, &out);
    cr_assert_eq(out.command_count, 1);
    assert_child_cancel_command(out.commands[0], "child-run");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(run));

    int64_t done = wft_completed(all);
    int64_t r = cancel_external_initiated(all, "child-1", "child-run", true, done);
    external_cancel_requested(all, r);
    wft(all, false);
    tw_activation *a = append_then_next(run, all, 9, 0);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_cancel_child_workflow(c, 1), 0, "a second cancellation sends nothing more");
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);

    wft_completed(all);
    child_canceled(all, 5, 6, "\"bye\"");
    wft(all, false);
    a = append_then_next(run, all, 14, 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_CHILD);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    assert_json(tw_failure_details(tw_failure_cause(tw_job_failure(j))), 0, "\"bye\"");
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, child_cancel_before_it_started)
{
    /* Initiated, not started yet: TRY asks the server (no run id yet) and the start resolves as cancelled. */
    pb_history *all = hist_new();
    started(all);
    int64_t c1 = wft(all, true);
    child_initiated(all, "child-1", "kid", c1);
    signaled(all, "stop", "{}");
    wft(all, false);
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 8)), 0);
    tw_activation *a = start_child_then_next(run, TW_CHILD_CANCEL_TRY, true);
    job_at(a, 0, TW_JOB_SIGNAL);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_cancel_child_workflow(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    expect_child_cancelled_now(run, TW_JOB_RESOLVE_CHILD_START);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 1);
    assert_child_cancel_command(out.commands[0], "");
    tw_run_output_clear(&out);

    /* The child starts anyway: ignored. */
    int64_t done = wft_completed(all);
    cancel_external_initiated(all, "child-1", "", true, done);
    child_started(all, "child-1", "child-run", 5);
    wft(all, false);
    a = append_then_next(run, all, 9, 0);
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, child_cancel_request_replays)
{
    pb_history *h = child_history();
    signaled(h, "stop", "{}");
    int64_t c2 = wft(h, true);
    int64_t r = cancel_external_initiated(h, "child-1", "child-run", true, c2);
    external_cancel_requested(h, r);
    child_canceled(h, 5, 6, NULL);
    int64_t c3 = wft(h, true);
    wf_canceled(h, c3);
    tw_run *run = run_of(h);
    tw_activation *a = start_child_then_next(run, TW_CHILD_CANCEL_WAIT_COMPLETED, false);
    job_at(a, 0, TW_JOB_SIGNAL);
    job_at(a, 1, TW_JOB_RESOLVE_CHILD_START);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_cancel_child_workflow(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    a = next_act(run, false);
    cr_assert_eq(tw_job_resolution(job_at(a, 0, TW_JOB_RESOLVE_CHILD)), TW_RESOLUTION_CANCELLED);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_cancel_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, nondeterminism_child_other_type)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    child_initiated(h, "child-1", "kid", c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    start_child(c, 1, "child-1", "adult", TW_CHILD_CANCEL_WAIT_COMPLETED);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is StartChildWorkflowExecutionInitiated "
                              "(workflow_id \"child-1\", type \"kid\") but the workflow produced "
                              "StartChildWorkflowExecution (workflow_id \"child-1\", type \"adult\")");
    tw_run_free(run);
}

Test(history, nondeterminism_child_other_id)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    child_initiated(h, "child-1", "kid", c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    start_child(c, 1, "child-2", "kid", TW_CHILD_CANCEL_WAIT_COMPLETED);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is StartChildWorkflowExecutionInitiated "
                              "(workflow_id \"child-1\", type \"kid\") but the workflow produced "
                              "StartChildWorkflowExecution (workflow_id \"child-2\", type \"kid\")");
    tw_run_free(run);
}

/* ================================================================== */
/* Signals and cancellation requests to other workflows                 */

static void signal_other(tw_completion *c, uint32_t seq)
{
    tw_signal_external_options o;
    tw_signal_external_options_init(&o);
    o.workflow_id = "other";
    o.signal_name = "ping";
    cr_assert_eq(tw_completion_signal_external_workflow(c, seq, &o), 0, "%s", tw_error_message(tw_error_last()));
}

/* 1 started, 2-4 WFT, 5 signal "ping" to "other" initiated. */
static pb_history *signal_history(void)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    signal_initiated(h, "other", "ping", c1);
    return h;
}

/* Replays the signal seq 1 of task 1 and returns task 2's activation. */
static tw_activation *signal_then_next(tw_run *run, bool live)
{
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    signal_other(c, 1);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    return next_act(run, live);
}

Test(history, signal_external_command_and_delivery)
{
    pb_history *all = hist_new();
    started(all);
    wft(all, false);
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 3)), 0);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);

    tw_signal_external_options o;
    tw_signal_external_options_init(&o);
    cr_assert_eq(o.size, sizeof(o));
    o.namespace_ = "ns2";
    o.workflow_id = "other";
    o.run_id = "other-run";
    o.signal_name = "ping";
    tw_payloads *args = named_json("x", "42");
    tw_payloads *hdr = named_json("trace", "\"t\"");
    o.args = args;
    o.headers = hdr;
    o.child_workflow_only = 1;
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_signal_external_workflow(c, 7, &o), 0);
    tw_payloads_free(args);
    tw_payloads_free(hdr);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert_eq(out.commands[0]->command_type, CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION));
    const Temporal__Api__Command__V1__SignalExternalWorkflowExecutionCommandAttributes *s =
        out.commands[0]->signal_external_workflow_execution_command_attributes;
    cr_assert_str_eq(s->namespace_, "ns2");
    cr_assert_str_eq(s->execution->workflow_id, "other");
    cr_assert_str_eq(s->execution->run_id, "other-run");
    cr_assert_str_eq(s->signal_name, "ping");
    cr_assert_eq(s->input->n_payloads, 1);
    cr_assert_str_eq(s->header->fields[0]->key, "trace");
    cr_assert(s->child_workflow_only);
    tw_run_output_clear(&out);

    int64_t done = wft_completed(all);
    int64_t i = signal_initiated(all, "other", "ping", done);
    external_signaled(all, i);
    wft(all, false);
    a = append_then_next(run, all, 4, 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_SIGNAL_EXTERNAL);
    cr_assert_eq(tw_job_seq(j), 7);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    cr_assert_null(tw_job_failure(j));
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, signal_external_failed)
{
    pb_history *h = signal_history();
    signal_failed(h, "other", 5,
                  1 /* SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND */);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = signal_then_next(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_SIGNAL_EXTERNAL);
    cr_assert_eq(tw_job_seq(j), 1);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_APPLICATION);
    cr_assert_str_eq(tw_failure_application_type(f), "ExternalWorkflowExecutionNotFound");
    cr_assert_str_eq(tw_failure_message(f), "Could not signal external workflow \"other\": the workflow was not found");
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, signal_external_cancelled_before_sent)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    signal_other(c, 1);
    cr_assert_eq(tw_completion_cancel_signal_external(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_SIGNAL_EXTERNAL);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    cr_assert_eq(tw_failure_kind_of(tw_job_failure(j)), TW_FAILURE_CANCELED);
    cr_assert_str_eq(tw_failure_message(tw_job_failure(j)), "Signal was cancelled before being sent");
    tw_activation_free(a);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 0, "the signal is not sent");
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, signal_external_cancelled_after_sent)
{
    pb_history *all = signal_history();
    signaled(all, "stop", "{}");
    wft(all, false);
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 8)), 0);
    tw_activation *a = signal_then_next(run, true);
    job_at(a, 0, TW_JOB_SIGNAL);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_cancel_signal_external(c, 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_SIGNAL_EXTERNAL);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_CANCELLED);
    cr_assert_eq(tw_failure_kind_of(tw_job_failure(j)), TW_FAILURE_CANCELED);
    tw_activation_free(a);
    complete_ok(run, new_completion(), &out);
    cr_assert_eq(out.command_count, 0);

    /* The signal is delivered anyway: ignored. */
    wft_completed(all);
    external_signaled(all, 5);
    wft(all, false);
    a = append_then_next(run, all, 9, 0);
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, nondeterminism_signal_to_another_workflow)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    signal_initiated(h, "someone-else", "ping", c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    signal_other(c, 1);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is SignalExternalWorkflowExecutionInitiated "
                              "(workflow_id \"someone-else\", signal \"ping\") but the workflow produced "
                              "SignalExternalWorkflowExecution (workflow_id \"other\", signal \"ping\")");
    tw_run_free(run);
}

Test(history, cancel_external_command_and_completion)
{
    pb_history *all = hist_new();
    started(all);
    wft(all, false);
    tw_run *run;
    cr_assert_eq(tw_run_new(RUN_ID, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(all, 1, 3)), 0);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_external_workflow(c, 3, NULL, "other", NULL), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    cr_assert_eq(out.commands[0]->command_type, CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION));
    const Temporal__Api__Command__V1__RequestCancelExternalWorkflowExecutionCommandAttributes *r =
        out.commands[0]->request_cancel_external_workflow_execution_command_attributes;
    cr_assert_str_eq(r->namespace_, "");
    cr_assert_str_eq(r->workflow_id, "other");
    cr_assert_str_eq(r->run_id, "");
    cr_assert_not(r->child_workflow_only);
    tw_run_output_clear(&out);

    int64_t done = wft_completed(all);
    int64_t i = cancel_external_initiated(all, "other", "", false, done);
    external_cancel_requested(all, i);
    wft(all, false);
    a = append_then_next(run, all, 4, 1);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_CANCEL_EXTERNAL);
    cr_assert_eq(tw_job_seq(j), 3);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_COMPLETED);
    tw_activation_free(a);
    hist_free(all);
    tw_run_free(run);
}

Test(history, cancel_external_failed)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t i = cancel_external_initiated(h, "other", "", false, c1);
    cancel_external_failed(h, "other", i,
                           1 /* CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND */);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, false);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_external_workflow(c, 1, NULL, "other", NULL), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    a = next_act(run, true);
    const tw_job *j = job_at(a, 0, TW_JOB_RESOLVE_CANCEL_EXTERNAL);
    cr_assert_eq(tw_job_resolution(j), TW_RESOLUTION_FAILED);
    const tw_failure *f = tw_job_failure(j);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_APPLICATION);
    cr_assert_str_eq(tw_failure_application_type(f), "ExternalWorkflowExecutionNotFound");
    cr_assert_str_eq(tw_failure_message(f),
                     "Could not request cancellation of external workflow \"other\": the workflow was not found");
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, nondeterminism_cancel_of_another_workflow)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    cancel_external_initiated(h, "other", "", false, c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_request_cancel_external_workflow(c, 1, NULL, "third", NULL), 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is RequestCancelExternalWorkflowExecutionInitiated "
                              "(workflow_id \"other\") but the workflow produced "
                              "RequestCancelExternalWorkflowExecution (workflow_id \"third\")");
    tw_run_free(run);
}

/* ================================================================== */
/* Patches                                                              */

Test(history, patch_live_records_marker)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 1, "no notification when not replaying");
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_set_patch_marker(c, "my-patch", 0), 0);
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    cr_assert_eq(tw_completion_set_patch_marker(c, "my-patch", 0), 0, "one marker per patch");
    cr_assert_eq(tw_completion_set_patch_marker(c, "old \"one\"", 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 3);
    const char *want[] = {"{\"id\":\"my-patch\",\"deprecated\":false}",
                          "{\"id\":\"old \\\"one\\\"\",\"deprecated\":true}"};
    for (size_t k = 0; k < 2; k++) {
        const tw_pb_command *cmd = out.commands[k == 0 ? 0 : 2];
        cr_assert_eq(cmd->command_type, CMD(RECORD_MARKER));
        const Temporal__Api__Command__V1__RecordMarkerCommandAttributes *m = cmd->record_marker_command_attributes;
        cr_assert_str_eq(m->marker_name, "core_patch");
        cr_assert_eq(m->n_details, 1);
        cr_assert_str_eq(m->details[0]->key, "patch-data");
        const Temporal__Api__Common__V1__Payloads *ps = m->details[0]->value;
        cr_assert_eq(ps->n_payloads, 1);
        const Temporal__Api__Common__V1__Payload *p = ps->payloads[0];
        cr_assert_eq(p->n_metadata, 1);
        cr_assert_str_eq(p->metadata[0]->key, "encoding");
        cr_assert_eq(p->metadata[0]->value.len, 10);
        cr_assert_eq(memcmp(p->metadata[0]->value.data, "json/plain", 10), 0);
        cr_assert_eq(p->data.len, strlen(want[k]));
        cr_assert_eq(memcmp(p->data.data, want[k], p->data.len), 0, "%.*s", (int)p->data.len, p->data.data);
        cr_assert_null(m->failure);
    }
    cr_assert_eq(out.commands[1]->command_type, CMD(START_TIMER));
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(history, patch_replay_notifies_and_matches_marker)
{
    pb_history *h = hist_new();
    started(h);
    signaled(h, "go", "{}");
    int64_t c1 = wft(h, true);
    patch_marker(h, "p1", false, c1);
    patch_version_upsert(h, "[\"p1\"]", c1); /* what sdk-core may record after it */
    int64_t t = timer_started(h, "1", c1);
    timer_fired(h, "1", t);
    int64_t c2 = wft(h, true);
    wf_completed(h, c2);
    tw_run *run = run_of(h);

    tw_activation *a = next_act(run, false);
    cr_assert_eq(tw_activation_job_count(a), 3);
    job_at(a, 0, TW_JOB_INITIALIZE);
    cr_assert_str_eq(tw_job_name(job_at(a, 1, TW_JOB_NOTIFY_HAS_PATCH)), "p1");
    job_at(a, 2, TW_JOB_SIGNAL);
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_set_patch_marker(c, "p1", 0), 0);
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);

    a = next_act(run, false);
    cr_assert_eq(tw_activation_job_count(a), 1, "the marker of an earlier task is not notified again");
    job_at(a, 0, TW_JOB_FIRE_TIMER);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_set_patch_marker(c, "p1", 0), 0, "already recorded: no second marker");
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_not(tw_run_has_next_activation(run));
    tw_run_free(run);
}

Test(history, patch_deprecated_command_without_marker_is_skipped)
{
    /* History made before the patch: the (deprecated) patch's marker command has no event. */
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    timer_started(h, "1", c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_set_patch_marker(c, "p1", 1), 0);
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    cr_assert_eq(tw_completion_set_patch_marker(c, "p2", 1), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, patch_deprecated_marker_without_command_is_skipped)
{
    /* The code no longer records deprecated patch "old": its marker in history is passed over. */
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    patch_marker(h, "old", true, c1);
    patch_version_upsert(h, "[\"old\"]", c1);
    patch_marker(h, "other-old", true, c1);
    patch_marker(h, "new", false, c1);
    timer_started(h, "1", c1);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, false);
    cr_assert_eq(tw_activation_job_count(a), 4, "every marker is notified");
    cr_assert_str_eq(tw_job_name(job_at(a, 1, TW_JOB_NOTIFY_HAS_PATCH)), "old");
    cr_assert_str_eq(tw_job_name(job_at(a, 2, TW_JOB_NOTIFY_HAS_PATCH)), "other-old");
    cr_assert_str_eq(tw_job_name(job_at(a, 3, TW_JOB_NOTIFY_HAS_PATCH)), "new");
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_set_patch_marker(c, "new", 0), 0);
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    tw_run_output out;
    complete_ok(run, c, &out);
    a = next_act(run, true);
    tw_activation_free(a);
    tw_run_free(run);
}

Test(history, nondeterminism_patch_marker_without_command)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    patch_marker(h, "p1", false, c1);
    timer_started(h, "1", c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is MarkerRecorded (core_patch \"p1\") but the "
                              "workflow produced StartTimer (timer_id \"1\")");
    tw_run_free(run);
}

Test(history, nondeterminism_marker_of_another_patch)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    patch_marker(h, "p1", false, c1);
    wft(h, false);
    tw_run *run = replay_first_task(h);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_set_patch_marker(c, "p2", 0), 0);
    complete_nondeterministic(run, c,
                              "non-deterministic: history event 5 is MarkerRecorded (core_patch \"p1\") but the "
                              "workflow produced RecordMarker (core_patch \"p2\")");
    tw_run_free(run);
}

Test(history, patch_marker_in_legacy_layout_is_read)
{
    /* sdk-core's older layout: plain-byte "patch_id" and "deprecated" details. */
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t id = marker(h, false);
    Temporal__Api__History__V1__MarkerRecordedEventAttributes *m = h->events[id - 1]->marker_recorded_event_attributes;
    m->workflow_task_completed_event_id = c1;
    m->details = calloc(2, sizeof(*m->details));
    const char *keys[] = {"patch_id", "deprecated"};
    const char *values[] = {"legacy", "\x01"};
    for (size_t k = 0; k < 2; k++) {
        Temporal__Api__History__V1__MarkerRecordedEventAttributes__DetailsEntry *d =
            pb_new(&B, &temporal__api__history__v1__marker_recorded_event_attributes__details_entry__descriptor);
        d->key = pb_str(&B, keys[k]);
        d->value = pb_new(&B, &temporal__api__common__v1__payloads__descriptor);
        d->value->payloads = calloc(1, sizeof(*d->value->payloads));
        d->value->payloads[0] = pb_new(&B, &temporal__api__common__v1__payload__descriptor);
        d->value->payloads[0]->data = pb_bytes(&B, (const uint8_t *)values[k], strlen(values[k]));
        d->value->n_payloads = 1;
        m->details[m->n_details++] = d;
    }
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, false);
    cr_assert_str_eq(tw_job_name(job_at(a, 1, TW_JOB_NOTIFY_HAS_PATCH)), "legacy");
    tw_activation_free(a);
    tw_run_output out;
    complete_ok(run, new_completion(), &out); /* deprecated: skipped without a command */
    a = next_act(run, true);
    tw_activation_free(a);
    tw_run_free(run);
}

/* ================================================================== */
/* Proto3 JSON histories with these events                              */

Test(history, json_history_with_children_signals_and_patches)
{
    static const char json[] =
        "{\"events\": ["
        "{\"eventId\": \"1\", \"eventType\": \"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\","
        " \"workflowExecutionStartedEventAttributes\": {\"workflowType\": {\"name\": \"greeter\"},"
        " \"taskQueue\": {\"name\": \"tq\"}, \"workflowId\": \"wf-id\"}},"
        "{\"eventId\": \"2\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\","
        " \"workflowTaskScheduledEventAttributes\": {}},"
        "{\"eventId\": \"3\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_STARTED\","
        " \"workflowTaskStartedEventAttributes\": {\"scheduledEventId\": \"2\"}},"
        "{\"eventId\": \"4\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_COMPLETED\","
        " \"workflowTaskCompletedEventAttributes\": {\"scheduledEventId\": \"2\", \"startedEventId\": \"3\"}},"
        "{\"eventId\": \"5\", \"eventType\": \"EVENT_TYPE_MARKER_RECORDED\","
        " \"markerRecordedEventAttributes\": {\"markerName\": \"core_patch\", \"details\": {\"patch-data\":"
        " {\"payloads\": [{\"metadata\": {\"encoding\": \"anNvbi9wbGFpbg==\"},"
        " \"data\": \"eyJpZCI6InAxIiwiZGVwcmVjYXRlZCI6ZmFsc2V9\"}]}}, \"workflowTaskCompletedEventId\": \"4\"}},"
        "{\"eventId\": \"6\", \"eventType\": \"EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED\","
        " \"startChildWorkflowExecutionInitiatedEventAttributes\": {\"namespace\": \"ns\", \"workflowId\": \"child-1\","
        " \"workflowType\": {\"name\": \"kid\"}, \"taskQueue\": {\"name\": \"tq\"},"
        " \"parentClosePolicy\": \"PARENT_CLOSE_POLICY_TERMINATE\", \"workflowTaskCompletedEventId\": \"4\"}},"
        "{\"eventId\": \"7\", \"eventType\": \"EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED\","
        " \"signalExternalWorkflowExecutionInitiatedEventAttributes\": {\"workflowTaskCompletedEventId\": \"4\","
        " \"namespace\": \"ns\", \"workflowExecution\": {\"workflowId\": \"other\"}, \"signalName\": \"ping\"}},"
        "{\"eventId\": \"8\", \"eventType\": \"EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED\","
        " \"childWorkflowExecutionStartedEventAttributes\": {\"namespace\": \"ns\", \"initiatedEventId\": \"6\","
        " \"workflowExecution\": {\"workflowId\": \"child-1\", \"runId\": \"child-run\"},"
        " \"workflowType\": {\"name\": \"kid\"}}},"
        "{\"eventId\": \"9\", \"eventType\": \"EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED\","
        " \"externalWorkflowExecutionSignaledEventAttributes\": {\"initiatedEventId\": \"7\", \"namespace\": \"ns\","
        " \"workflowExecution\": {\"workflowId\": \"other\"}}},"
        "{\"eventId\": \"10\", \"eventType\": \"EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED\","
        " \"childWorkflowExecutionCompletedEventAttributes\": {\"result\": {\"payloads\": [{\"metadata\":"
        " {\"encoding\": \"anNvbi9wbGFpbg==\"}, \"data\": \"ImNoaWxkIHJlc3VsdCI=\"}]}, \"namespace\": \"ns\","
        " \"workflowExecution\": {\"workflowId\": \"child-1\", \"runId\": \"child-run\"},"
        " \"workflowType\": {\"name\": \"kid\"}, \"initiatedEventId\": \"6\", \"startedEventId\": \"8\"}},"
        "{\"eventId\": \"11\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\","
        " \"workflowTaskScheduledEventAttributes\": {}},"
        "{\"eventId\": \"12\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_STARTED\","
        " \"workflowTaskStartedEventAttributes\": {\"scheduledEventId\": \"11\"}}]}";
    cJSON *root = cJSON_Parse(json);
    cr_assert_not_null(root);
    ProtobufCMessage *msg = NULL;
    char err[256] = "";
    cr_assert_eq(tw_pbjson_decode(&temporal__api__history__v1__history__descriptor, root, 0, &msg, err, sizeof(err)),
                 0, "%s", err);
    cJSON_Delete(root);
    tw_run *run = run_of((pb_history *)msg);

    tw_activation *a = next_act(run, false);
    cr_assert_str_eq(tw_job_name(job_at(a, 1, TW_JOB_NOTIFY_HAS_PATCH)), "p1");
    tw_activation_free(a);
    tw_completion *c = new_completion();
    cr_assert_eq(tw_completion_set_patch_marker(c, "p1", 0), 0);
    start_child(c, 1, "child-1", "kid", TW_CHILD_CANCEL_WAIT_COMPLETED);
    signal_other(c, 1);
    tw_run_output out;
    complete_ok(run, c, &out);

    a = next_act(run, true);
    cr_assert_eq(tw_activation_job_count(a), 3);
    cr_assert_str_eq(tw_job_child_run_id(job_at(a, 0, TW_JOB_RESOLVE_CHILD_START)), "child-run");
    cr_assert_eq(tw_job_resolution(job_at(a, 1, TW_JOB_RESOLVE_SIGNAL_EXTERNAL)), TW_RESOLUTION_COMPLETED);
    assert_json(tw_job_result(job_at(a, 2, TW_JOB_RESOLVE_CHILD)), 0, "\"child result\"");
    tw_activation_free(a);
    tw_run_free(run);
}

/* ================================================================== */
/* Bad input of children, other workflows and patches                   */

Test(history, child_signal_cancel_and_patch_input_is_checked)
{
    tw_completion *c = new_completion();
    tw_child_workflow_options o;
    tw_child_workflow_options_init(&o);
    expect_einval(tw_completion_start_child_workflow(NULL, 1, &o), "c is NULL");
    expect_einval(tw_completion_start_child_workflow(c, 1, NULL), "options is NULL");
    o.size = 0;
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "tw_child_workflow_options_init");
    tw_child_workflow_options_init(&o);
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "options->workflow_id is NULL");
    o.workflow_id = "child-1";
    o.workflow_type = "";
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "options->workflow_type is empty");
    o.workflow_type = "kid";
    o.run_timeout_ms = -1;
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "options->run_timeout_ms must not be negative");
    o.run_timeout_ms = 0;
    o.cancellation_type = 9;
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "not a tw_child_cancellation_type");
    o.cancellation_type = TW_CHILD_CANCEL_TRY;
    o.parent_close_policy = 7;
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "not a tw_parent_close_policy");
    o.parent_close_policy = 0;
    o.id_reuse_policy = -1;
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "not a tw_id_reuse_policy");
    o.id_reuse_policy = 0;
    o.retry_backoff_coefficient = 0.5;
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "backoff_coefficient must be >= 1");
    o.retry_backoff_coefficient = 0;
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &o), 0);
    expect_einval(tw_completion_start_child_workflow(c, 1, &o), "seq 1 is already used by a child workflow");
    expect_einval(tw_completion_cancel_child_workflow(NULL, 1), "c is NULL");

    tw_signal_external_options s;
    tw_signal_external_options_init(&s);
    expect_einval(tw_completion_signal_external_workflow(c, 1, NULL), "options is NULL");
    expect_einval(tw_completion_signal_external_workflow(c, 1, &s), "options->workflow_id is NULL");
    s.workflow_id = "other";
    s.signal_name = "";
    expect_einval(tw_completion_signal_external_workflow(c, 1, &s), "options->signal_name is empty");
    expect_einval(tw_completion_cancel_signal_external(NULL, 1), "c is NULL");

    expect_einval(tw_completion_request_cancel_external_workflow(c, 1, NULL, "", NULL), "workflow_id is empty");
    expect_einval(tw_completion_request_cancel_external_workflow(c, 1, NULL, NULL, NULL), "workflow_id is NULL");
    expect_einval(tw_completion_set_patch_marker(c, NULL, 0), "patch_id is NULL");
    expect_einval(tw_completion_set_patch_marker(c, "", 0), "patch_id is empty");
    tw_completion_free(c);

    /* Cancelling what the run never started. */
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_cancel_child_workflow(c, 4), 0);
    tw_run_output out;
    tw_error *err = NULL;
    expect_einval(tw_run_complete(run, c, &out, &err), "no child workflow with seq 4 was started");
    tw_run_free(run);
    h = hist_new();
    started(h);
    wft(h, false);
    run = run_of(h);
    a = next_act(run, true);
    tw_activation_free(a);
    c = new_completion();
    cr_assert_eq(tw_completion_cancel_signal_external(c, 4), 0);
    expect_einval(tw_run_complete(run, c, &out, &err), "no signal with seq 4 was sent");
    tw_run_free(run);
}
