/*
 * Priority, user metadata (summaries and details) and the continue-as-new
 * start delay in lib/history: what the commands carry, what the initialize
 * job reports, what is refused (TW_EINVAL naming the field), what a caller
 * built against the headers before these fields gets, and that replay does
 * not compare any of them (sdk-core does not either).
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../history_builders.h"

#define RUN_ID "run-1"

static void setup(void)
{
    B.oom = false;
}

TestSuite(metadata, .init = setup);

/* ---- helpers ---- */

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
    tw_activation *a = NULL;
    bool live = !expect_live;
    tw_error *err = NULL;
    int rc = tw_run_next_activation(run, &a, &live, &err);
    cr_assert_eq(rc, 0, "next_activation: %s", err ? tw_error_message(err) : tw_error_message(tw_error_last()));
    cr_assert_not_null(a);
    cr_assert_eq(live, expect_live);
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
}

static void expect_einval(int rc, const char *needle)
{
    cr_assert_eq(rc, TW_EINVAL, "rc %d, expected TW_EINVAL", rc);
    const char *msg = tw_error_message(tw_error_last());
    cr_assert(strstr(msg, needle) != NULL, "message \"%s\" does not mention \"%s\"", msg, needle);
}

static tw_payloads *text(const char *json)
{
    tw_payloads *l;
    cr_assert_eq(tw_payloads_new(&l), 0);
    cr_assert_eq(tw_payloads_add_json(l, json, NULL), 0);
    return l;
}

/* The data of a user-metadata payload as a string (a static buffer); "" for NULL. */
static const char *data_of(const Temporal__Api__Common__V1__Payload *p)
{
    static char buf[128];
    if (!p)
        return "";
    size_t n = p->data.len < sizeof(buf) - 1 ? p->data.len : sizeof(buf) - 1;
    memcpy(buf, p->data.data, n);
    buf[n] = '\0';
    return buf;
}

static Temporal__Api__Sdk__V1__UserMetadata *metadata_pb(const char *summary_json, const char *details_json)
{
    tw_payloads *s = summary_json ? text(summary_json) : NULL;
    tw_payloads *d = details_json ? text(details_json) : NULL;
    Temporal__Api__Sdk__V1__UserMetadata *m = pb_user_metadata(&B, s, d);
    tw_payloads_free(s);
    tw_payloads_free(d);
    return m;
}

static Temporal__Api__Common__V1__Priority *priority_pb(int32_t key, const char *fairness_key, float weight)
{
    Temporal__Api__Common__V1__Priority *p = pb_new(&B, &temporal__api__common__v1__priority__descriptor);
    p->priority_key = key;
    p->fairness_key = pb_str(&B, fairness_key);
    p->fairness_weight = weight;
    return p;
}

static tw_run *live_run(void)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation_free(next_act(run, true));
    return run;
}

static tw_activity_options activity(const char *type)
{
    tw_activity_options o;
    tw_activity_options_init(&o);
    o.activity_type = type;
    o.start_to_close_timeout_ms = 10000;
    return o;
}

static tw_child_workflow_options child(const char *workflow_id)
{
    tw_child_workflow_options o;
    tw_child_workflow_options_init(&o);
    o.workflow_id = workflow_id;
    o.workflow_type = "kid";
    return o;
}

/* ---- commands ---- */

Test(metadata, live_commands_carry_priority_and_user_metadata)
{
    tw_run *run = live_run();
    tw_completion *c = new_completion();

    tw_priority prio;
    tw_priority_init(&prio);
    prio.priority_key = 3;
    prio.fairness_key = "tenant-a";
    prio.fairness_weight = 2.5f;
    tw_payloads *summary = text("\"fetch the invoice\"");
    tw_activity_options ao = activity("fetch");
    ao.priority = &prio;
    ao.summary = summary;
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &ao), 0, "%s", tw_error_message(tw_error_last()));
    ao = activity("plain");
    cr_assert_eq(tw_completion_schedule_activity(c, 2, &ao), 0);

    tw_timer_options to;
    tw_timer_options_init(&to);
    to.duration_ms = 1500;
    tw_payloads *nap = text("\"nap\"");
    to.summary = nap;
    cr_assert_eq(tw_completion_start_timer_with_options(c, 1, &to), 0, "%s", tw_error_message(tw_error_last()));
    cr_assert_eq(tw_completion_start_timer(c, 2, 1000), 0);

    tw_priority child_prio;
    tw_priority_init(&child_prio);
    child_prio.priority_key = 1;
    tw_payloads *details = text("\"a longer story\"");
    tw_child_workflow_options co = child("kid-1");
    co.priority = &child_prio;
    co.static_summary = summary;
    co.static_details = details;
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &co), 0, "%s", tw_error_message(tw_error_last()));
    /* Copied during the calls. */
    prio.fairness_key = "changed";
    tw_payloads_free(summary);
    tw_payloads_free(nap);
    tw_payloads_free(details);

    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 5);

    const Temporal__Api__Command__V1__Command *cmd = out.commands[0];
    const Temporal__Api__Common__V1__Priority *p = cmd->schedule_activity_task_command_attributes->priority;
    cr_assert_not_null(p);
    cr_assert_eq(p->priority_key, 3);
    cr_assert_str_eq(p->fairness_key, "tenant-a");
    cr_assert_float_eq(p->fairness_weight, 2.5f, 1e-6);
    cr_assert_not_null(cmd->user_metadata);
    cr_assert_str_eq(data_of(cmd->user_metadata->summary), "\"fetch the invoice\"");
    cr_assert_null(cmd->user_metadata->details);

    cmd = out.commands[1];
    cr_assert_null(cmd->schedule_activity_task_command_attributes->priority, "unset: none sent");
    cr_assert_null(cmd->user_metadata);

    cmd = out.commands[2];
    cr_assert_eq(cmd->command_type, CMD(START_TIMER));
    cr_assert_eq(cmd->start_timer_command_attributes->start_to_fire_timeout->seconds, 1);
    cr_assert_eq(cmd->start_timer_command_attributes->start_to_fire_timeout->nanos, 500000000);
    cr_assert_not_null(cmd->user_metadata);
    cr_assert_str_eq(data_of(cmd->user_metadata->summary), "\"nap\"");
    cr_assert_null(out.commands[3]->user_metadata);

    cmd = out.commands[4];
    cr_assert_eq(cmd->command_type, CMD(START_CHILD_WORKFLOW_EXECUTION));
    p = cmd->start_child_workflow_execution_command_attributes->priority;
    cr_assert_not_null(p);
    cr_assert_eq(p->priority_key, 1);
    cr_assert(!p->fairness_key || !p->fairness_key[0], "unset fairness key: empty");
    cr_assert_eq(p->fairness_weight, 0);
    cr_assert_str_eq(data_of(cmd->user_metadata->summary), "\"fetch the invoice\"");
    cr_assert_str_eq(data_of(cmd->user_metadata->details), "\"a longer story\"");
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(metadata, continue_as_new_carries_its_start_delay)
{
    tw_run *run = live_run();
    tw_completion *c = new_completion();
    tw_continue_as_new_options o;
    tw_continue_as_new_options_init(&o);
    cr_assert_eq(o.backoff_start_interval_ms, 0);
    o.backoff_start_interval_ms = 2500;
    cr_assert_eq(tw_completion_continue_as_new(c, &o), 0, "%s", tw_error_message(tw_error_last()));
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 1);
    const Google__Protobuf__Duration *d =
        out.commands[0]->continue_as_new_workflow_execution_command_attributes->backoff_start_interval;
    cr_assert_not_null(d);
    cr_assert_eq(d->seconds, 2);
    cr_assert_eq(d->nanos, 500000000);
    tw_run_output_clear(&out);
    tw_run_free(run);

    run = live_run();
    c = new_completion();
    tw_continue_as_new_options_init(&o);
    cr_assert_eq(tw_completion_continue_as_new(c, &o), 0);
    complete_ok(run, c, &out);
    cr_assert_null(out.commands[0]->continue_as_new_workflow_execution_command_attributes->backoff_start_interval);
    tw_run_output_clear(&out);
    tw_run_free(run);
}

Test(metadata, local_activity_summary_goes_on_its_marker)
{
    tw_run *run = live_run();
    tw_completion *c = new_completion();
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "lookup";
    o.start_to_close_timeout_ms = 5000;
    tw_payloads *summary = text("\"look it up\"");
    o.summary = summary;
    cr_assert_eq(tw_completion_schedule_local_activity(c, 1, &o), 0, "%s", tw_error_message(tw_error_last()));
    tw_payloads_free(summary);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 1);
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    tw_payloads *result = text("\"found\"");
    cr_assert_eq(tw_run_resolve_local_activity(run, 1, TW_RESOLUTION_COMPLETED, result, NULL, 0, 1, time_of(4)), 0);
    tw_payloads_free(result);

    tw_activation_free(next_act(run, true));
    c = new_completion();
    cr_assert_eq(tw_completion_complete_workflow(c, NULL), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 2);
    cr_assert_eq(out.commands[0]->command_type, CMD(RECORD_MARKER));
    cr_assert_not_null(out.commands[0]->user_metadata, "the marker carries the local activity's summary");
    cr_assert_str_eq(data_of(out.commands[0]->user_metadata->summary), "\"look it up\"");
    tw_run_output_clear(&out);
    tw_run_free(run);
}

/* ---- the initialize job ---- */

Test(metadata, initialize_job_reports_the_priority)
{
    pb_history *h = hist_new();
    started(h)->priority = priority_pb(2, "tenant-b", 0.5f);
    wft(h, false);
    tw_run *run = run_of(h);
    tw_activation *a = next_act(run, true);
    const tw_job *j = tw_activation_job(a, 0);
    cr_assert_eq(tw_job_kind_of(j), TW_JOB_INITIALIZE);
    tw_priority p;
    tw_priority_init(&p);
    cr_assert_eq(tw_job_priority(j, &p), 0);
    cr_assert_eq(p.size, sizeof(p));
    cr_assert_eq(p.priority_key, 2);
    cr_assert_str_eq(p.fairness_key, "tenant-b");
    cr_assert_float_eq(p.fairness_weight, 0.5f, 1e-6);

    /* A caller whose struct ends after priority_key gets that much. */
    struct {
        tw_priority p;
        char guard[16];
    } small;
    memset(&small, 0x5a, sizeof(small));
    small.p.size = offsetof(tw_priority, fairness_key);
    cr_assert_eq(tw_job_priority(j, &small.p), 0);
    cr_assert_eq(small.p.size, offsetof(tw_priority, fairness_key));
    cr_assert_eq(small.p.priority_key, 2);
    for (size_t i = 0; i < sizeof(small.guard); i++)
        cr_assert_eq(small.guard[i], 0x5a);
    cr_assert_eq(((const unsigned char *)&small.p)[offsetof(tw_priority, fairness_key)], 0x5a, "not written");

    expect_einval(tw_job_priority(j, NULL), "out is NULL");
    tw_priority unset = {0};
    expect_einval(tw_job_priority(j, &unset), "tw_priority_init");
    expect_einval(tw_job_priority(NULL, &p), "j is NULL");
    tw_activation_free(a);
    tw_run_free(run);

    h = hist_new();
    started(h);
    wft(h, false);
    run = run_of(h);
    a = next_act(run, true);
    p.priority_key = 9;
    cr_assert_eq(tw_job_priority(tw_activation_job(a, 0), &p), 0);
    cr_assert_eq(p.priority_key, 0, "none recorded: all unset");
    cr_assert_null(p.fairness_key);
    cr_assert_eq(p.fairness_weight, 0);
    tw_activation_free(a);
    tw_run_free(run);
}

/* ---- bad input ---- */

Test(metadata, bad_values_are_einval_naming_the_field)
{
    tw_completion *c = new_completion();
    tw_priority prio;
    tw_activity_options ao = activity("greet");
    ao.priority = &prio;

    tw_priority_init(&prio);
    prio.priority_key = -1;
    expect_einval(tw_completion_schedule_activity(c, 1, &ao), "options->priority->priority_key must not be negative");
    tw_priority_init(&prio);
    char long_key[66];
    memset(long_key, 'k', 65);
    long_key[65] = '\0';
    prio.fairness_key = long_key;
    expect_einval(tw_completion_schedule_activity(c, 1, &ao), "fairness_key is 65 bytes long");
    long_key[64] = '\0';
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &ao), 0, "64 bytes are allowed");
    prio.fairness_key = "\xff\xfe";
    expect_einval(tw_completion_schedule_activity(c, 2, &ao), "fairness_key is not valid UTF-8");
    tw_priority_init(&prio);
    prio.fairness_weight = -1.0f;
    expect_einval(tw_completion_schedule_activity(c, 2, &ao), "fairness_weight must be a positive finite number");
    prio.fairness_weight = INFINITY;
    expect_einval(tw_completion_schedule_activity(c, 2, &ao), "fairness_weight");
    prio.fairness_weight = NAN;
    expect_einval(tw_completion_schedule_activity(c, 2, &ao), "fairness_weight");
    prio.size = 0;
    expect_einval(tw_completion_schedule_activity(c, 2, &ao), "call tw_priority_init first");

    tw_payloads *two = text("\"one\"");
    cr_assert_eq(tw_payloads_add_json(two, "\"two\"", NULL), 0);
    tw_payloads *none;
    cr_assert_eq(tw_payloads_new(&none), 0);
    ao = activity("greet");
    ao.summary = two;
    expect_einval(tw_completion_schedule_activity(c, 2, &ao), "options->summary must hold exactly one payload");
    ao.summary = none;
    expect_einval(tw_completion_schedule_activity(c, 2, &ao), "it holds 0");

    tw_child_workflow_options co = child("kid-1");
    co.static_details = two;
    expect_einval(tw_completion_start_child_workflow(c, 1, &co), "options->static_details");
    co = child("kid-1");
    co.static_summary = none;
    expect_einval(tw_completion_start_child_workflow(c, 1, &co), "options->static_summary");
    co = child("kid-1");
    tw_priority_init(&prio);
    prio.priority_key = -3;
    co.priority = &prio;
    expect_einval(tw_completion_start_child_workflow(c, 1, &co), "tw_completion_start_child_workflow: "
                                                                  "options->priority->priority_key");

    tw_local_activity_options lo;
    tw_local_activity_options_init(&lo);
    lo.activity_type = "lookup";
    lo.start_to_close_timeout_ms = 1000;
    lo.summary = two;
    expect_einval(tw_completion_schedule_local_activity(c, 3, &lo), "options->summary");

    tw_timer_options to;
    tw_timer_options_init(&to);
    to.duration_ms = 1000;
    to.summary = two;
    expect_einval(tw_completion_start_timer_with_options(c, 5, &to), "options->summary");
    to.summary = NULL;
    to.duration_ms = 0;
    expect_einval(tw_completion_start_timer_with_options(c, 5, &to), "duration_ms must be positive");
    expect_einval(tw_completion_start_timer_with_options(c, 5, NULL), "options is NULL");

    tw_continue_as_new_options cn;
    tw_continue_as_new_options_init(&cn);
    cn.backoff_start_interval_ms = -1;
    expect_einval(tw_completion_continue_as_new(c, &cn), "options->backoff_start_interval_ms must not be negative");

    tw_payloads_free(two);
    tw_payloads_free(none);
    tw_completion_free(c);
}

/* ---- callers built before the fields ---- */

Test(metadata, callers_from_before_the_fields_leave_them_unset)
{
    tw_run *run = live_run();
    tw_completion *c = new_completion();
    /* Whatever lies past the caller's size is never read: here, pointers that would crash. */
    tw_activity_options ao = activity("greet");
    ao.priority = (const tw_priority *)(uintptr_t)1;
    ao.summary = (const tw_payloads *)(uintptr_t)1;
    ao.size = offsetof(tw_activity_options, priority);
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &ao), 0, "%s", tw_error_message(tw_error_last()));
    tw_child_workflow_options co = child("kid-1");
    co.priority = (const tw_priority *)(uintptr_t)1;
    co.static_summary = (const tw_payloads *)(uintptr_t)1;
    co.static_details = (const tw_payloads *)(uintptr_t)1;
    co.size = offsetof(tw_child_workflow_options, priority);
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &co), 0, "%s", tw_error_message(tw_error_last()));
    tw_local_activity_options lo;
    tw_local_activity_options_init(&lo);
    lo.activity_type = "lookup";
    lo.start_to_close_timeout_ms = 1000;
    lo.summary = (const tw_payloads *)(uintptr_t)1;
    lo.size = offsetof(tw_local_activity_options, summary);
    cr_assert_eq(tw_completion_schedule_local_activity(c, 2, &lo), 0, "%s", tw_error_message(tw_error_last()));
    tw_continue_as_new_options cn;
    tw_continue_as_new_options_init(&cn);
    cn.backoff_start_interval_ms = 5000;
    cn.size = offsetof(tw_continue_as_new_options, backoff_start_interval_ms);
    cr_assert_eq(tw_completion_continue_as_new(c, &cn), 0, "%s", tw_error_message(tw_error_last()));

    /* The local activity is kept by the run; the others are checked as they are sent. */
    tw_run_output out;
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    tw_run_la_request *reqs;
    size_t n;
    cr_assert_eq(tw_run_take_local_activity_requests(run, time_of(3), &reqs, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_null(reqs[0].schedule->user_metadata);
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    tw_run_free(run);

    /* The same calls with commands kept: nothing of the new fields was sent. */
    run = live_run();
    c = new_completion();
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &ao), 0);
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &co), 0);
    cr_assert_eq(tw_completion_continue_as_new(c, &cn), 0);
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 3);
    cr_assert_null(out.commands[0]->schedule_activity_task_command_attributes->priority);
    cr_assert_null(out.commands[0]->user_metadata);
    cr_assert_null(out.commands[1]->start_child_workflow_execution_command_attributes->priority);
    cr_assert_null(out.commands[1]->user_metadata);
    cr_assert_null(out.commands[2]->continue_as_new_workflow_execution_command_attributes->backoff_start_interval);
    tw_run_output_clear(&out);
    tw_run_free(run);
}

/* ---- replay ---- */

/*
 * 1 started, 2-4 WFT, 5 activity "1" scheduled with priority 1 and a
 * summary, 6 timer "1" started with a summary, 7 child "kid-1" initiated
 * with priority 5 and summary/details, 8-9 live WFT.
 */
static pb_history *history_with_metadata(void)
{
    pb_history *h = hist_new();
    started(h)->priority = priority_pb(4, "history-tenant", 3.0f);
    int64_t c1 = wft(h, true);
    int64_t s = act_scheduled(h, "1", "fetch", c1);
    h->events[s - 1]->activity_task_scheduled_event_attributes->priority = priority_pb(1, "old", 1.0f);
    h->events[s - 1]->user_metadata = metadata_pb("\"the old summary\"", NULL);
    int64_t t = timer_started(h, "1", c1);
    h->events[t - 1]->user_metadata = metadata_pb("\"old nap\"", NULL);
    int64_t i = child_initiated(h, "kid-1", "kid", c1);
    h->events[i - 1]->start_child_workflow_execution_initiated_event_attributes->priority = priority_pb(5, NULL, 0);
    h->events[i - 1]->user_metadata = metadata_pb("\"old child\"", "\"old details\"");
    wft(h, false);
    return h;
}

/* Replays task 1 of history_with_metadata with commands made by make, expecting no non-determinism. */
static void replay_with(void (*make)(tw_completion *c))
{
    tw_run *run = run_of(history_with_metadata());
    tw_activation_free(next_act(run, false));
    tw_completion *c = new_completion();
    make(c);
    tw_run_output out;
    complete_ok(run, c, &out);
    cr_assert_eq(out.command_count, 0, "replayed: nothing to send");
    tw_run_output_clear(&out);
    /* The live task follows: the commands matched their events. */
    tw_activation_free(next_act(run, true));
    tw_run_free(run);
}

static void make_plain(tw_completion *c)
{
    tw_activity_options ao = activity("fetch");
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &ao), 0);
    cr_assert_eq(tw_completion_start_timer(c, 1, 1000), 0);
    tw_child_workflow_options co = child("kid-1");
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &co), 0);
}

static void make_different(tw_completion *c)
{
    tw_priority prio;
    tw_priority_init(&prio);
    prio.priority_key = 2;
    prio.fairness_key = "new-tenant";
    prio.fairness_weight = 7.0f;
    tw_payloads *summary = text("\"a new summary\"");
    tw_activity_options ao = activity("fetch");
    ao.priority = &prio;
    ao.summary = summary;
    cr_assert_eq(tw_completion_schedule_activity(c, 1, &ao), 0);
    tw_timer_options to;
    tw_timer_options_init(&to);
    to.duration_ms = 1000;
    to.summary = summary;
    cr_assert_eq(tw_completion_start_timer_with_options(c, 1, &to), 0);
    tw_child_workflow_options co = child("kid-1");
    co.priority = &prio;
    co.static_details = summary;
    cr_assert_eq(tw_completion_start_child_workflow(c, 1, &co), 0);
    tw_payloads_free(summary);
}

Test(metadata, replay_ignores_priority_and_user_metadata)
{
    replay_with(make_plain);
    replay_with(make_different);
}
