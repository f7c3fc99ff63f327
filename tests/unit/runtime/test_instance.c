/*
 * lib/runtime: tw_wf_instance driven by a real tw_run. Synthetic histories
 * (../history_builders.h) become activations through tw_run, the instance
 * runs them through the callbacks below, and its completions go back
 * through tw_run_complete, so the commands checked are the engine's own:
 * the start callback, timers, activities and their cancellation types, the
 * scope tree and scope timeouts, workflow cancellation, buffered signals,
 * read-only queries, terminal commands, task failures, misuse outside
 * activate, info, deterministic random and time, eviction, and replay of
 * recorded histories (matching and non-deterministic).
 *
 * Each callback appends a word to F.log ("start(greeter,[])",
 * "resolved(42,COMPLETED)", "drain", ...); step() clears the log, so a test
 * compares what one activation did with one string.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../history_builders.h"
#include "runtime/runtime.h"

#define RUN_ID "run-1"

/* ================================================================== */
/* The fixture: one run, one instance, and the workflow's behaviour     */

typedef struct fx fx;

struct fx {
    pb_history *full;  /* the whole history; pages of it are appended */
    tw_run *run;
    tw_wf_instance *wf;
    char log[2048];
    int64_t timestamp; /* of the last activation made by step() */

    /* What the workflow does, per test (NULL: only the log). */
    void (*on_start)(tw_wf_instance *wf, const tw_payloads *args);
    int (*on_signal)(tw_wf_instance *wf, const char *name, const tw_payloads *headers);
    void (*on_query)(tw_wf_instance *wf, const char *name, const tw_payloads *args, tw_payloads *result,
                     const char **error);
    void (*on_cancel_requested)(tw_wf_instance *wf);
    void (*on_resolved)(tw_wf_instance *wf, uint64_t tag, int resolution);
    void (*on_drain)(tw_wf_instance *wf);

    /* What the workflow keeps. */
    tw_op *op[8];
    tw_scope *scope[8];
    int cancellation_type;
    int handles_a, handles_all; /* signal handlers the workflow has */
    int cleanup_done;
    int failure_kind;  /* of the last resolution's failure (-1: none) */
    size_t result_count;
    char result_json[256]; /* of the last resolution's result */
    int replaying_seen; /* tw_wf_is_replaying in the last start (or time query) callback */
    int64_t now_seen;   /* tw_wf_now, likewise */
    uint64_t rnd[16];
    size_t nrnd;
    int rc;
    char message[256];
};

static fx F;

/* Indexes of F.scope. */
enum { PARENT, CHILD, DETACHED, TIMED };

static void note(const char *fmt, ...)
{
    size_t n = strlen(F.log);
    if (n && n < sizeof(F.log) - 1)
        F.log[n++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(F.log + n, sizeof(F.log) - n, fmt, ap);
    va_end(ap);
}

/* The JSON entries of p as "[a,b]" (a static buffer). */
static const char *json_list(const tw_payloads *p)
{
    static char buf[512];
    size_t n = 0;
    buf[n++] = '[';
    for (size_t i = 0; i < tw_payloads_count(p); i++) {
        char *s = NULL;
        cr_assert_eq(tw_payloads_data_string(p, i, &s), 0);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "", s);
        tw_free(s);
        cr_assert_lt(n, sizeof(buf) - 2);
    }
    buf[n++] = ']';
    buf[n] = '\0';
    return buf;
}

static const char *resolution_name(int r)
{
    switch (r) {
    case TW_RESOLUTION_COMPLETED: return "COMPLETED";
    case TW_RESOLUTION_FAILED: return "FAILED";
    case TW_RESOLUTION_CANCELLED: return "CANCELLED";
    default: return "?";
    }
}

/* Remembers the code and message of a call made inside a callback. */
static void keep_rc(int rc)
{
    F.rc = rc;
    snprintf(F.message, sizeof(F.message), "%s", rc ? tw_error_message(tw_error_last()) : "");
}

/* ---- callbacks: log, then the test's behaviour ---- */

static void cb_start(tw_wf_instance *wf, const char *type, const tw_payloads *args, void *ud)
{
    cr_assert_eq(ud, &F);
    note("start(%s,%s)", type, json_list(args));
    F.replaying_seen = tw_wf_is_replaying(wf);
    F.now_seen = tw_wf_now(wf);
    if (F.on_start)
        F.on_start(wf, args);
}

static int cb_signal(tw_wf_instance *wf, const char *name, const tw_payloads *args, const tw_payloads *headers,
                     void *ud)
{
    (void)ud;
    note("signal(%s,%s)", name, json_list(args));
    int handled = F.on_signal ? F.on_signal(wf, name, headers) : 1;
    if (!handled)
        note("buffered");
    return handled;
}

static void cb_query(tw_wf_instance *wf, const char *name, const tw_payloads *args, const tw_payloads *headers,
                     tw_payloads *result, const char **error, void *ud)
{
    (void)headers, (void)ud;
    note("query(%s)", name);
    if (F.on_query)
        F.on_query(wf, name, args, result, error);
}

static void cb_cancel_requested(tw_wf_instance *wf, const char *reason, void *ud)
{
    (void)ud;
    note("cancel_requested(%s)", reason);
    if (F.on_cancel_requested)
        F.on_cancel_requested(wf);
}

static void cb_resolved(tw_wf_instance *wf, tw_op *op, uint64_t tag, int resolution, const tw_payloads *result,
                        const tw_failure *failure, void *ud)
{
    (void)ud;
    cr_assert_eq(tw_op_tag(op), tag);
    note("resolved(%llu,%s)", (unsigned long long)tag, resolution_name(resolution));
    F.failure_kind = failure ? tw_failure_kind_of(failure) : -1;
    F.result_count = tw_payloads_count(result);
    snprintf(F.result_json, sizeof(F.result_json), "%s", result ? json_list(result) : "");
    if (F.on_resolved)
        F.on_resolved(wf, tag, resolution);
}

static void cb_scope_cancelled(tw_wf_instance *wf, tw_scope *scope, uint64_t tag, void *ud)
{
    (void)wf, (void)ud;
    cr_assert(tw_scope_is_cancelled(scope));
    note("scope_cancelled(%llu)", (unsigned long long)tag);
}

static void cb_drain(tw_wf_instance *wf, void *ud)
{
    (void)ud;
    note("drain");
    if (F.on_drain)
        F.on_drain(wf);
}

static void cb_evict(tw_wf_instance *wf, int reason, const char *message, void *ud)
{
    (void)wf, (void)ud;
    note("evict(%d,%s)", reason, message);
}

static const tw_wf_callbacks callbacks = {
    .size = sizeof(tw_wf_callbacks), .start = cb_start, .signal = cb_signal, .query = cb_query,
    .cancel_requested = cb_cancel_requested, .resolved = cb_resolved, .scope_cancelled = cb_scope_cancelled,
    .drain = cb_drain, .evict = cb_evict,
};

static tw_wf_instance *instance_new(void)
{
    tw_wf_instance *wf = NULL;
    cr_assert_eq(tw_wf_instance_new(&callbacks, &F, &wf), 0, "%s", tw_error_message(tw_error_last()));
    cr_assert_not_null(wf);
    return wf;
}

static void setup(void)
{
    memset(&F, 0, sizeof(F));
    F.failure_kind = -1;
    B.oom = false;
}

static void teardown(void)
{
    tw_wf_instance_free(F.wf);
    tw_run_free(F.run);
    if (F.full)
        hist_free(F.full);
}

TestSuite(runtime, .init = setup, .fini = teardown);

/* ================================================================== */
/* Driving the run                                                      */

/* A run of RUN_ID holding events 1..last of h (kept in F.full), and the instance. */
static void begin(pb_history *h, int64_t last)
{
    cr_assert(!B.oom, "builder ran out of memory");
    F.full = h;
    cr_assert_eq(tw_run_new(RUN_ID, &F.run), 0);
    cr_assert_eq(tw_run_append(F.run, page_of(h, 1, last)), 0, "%s", tw_error_message(tw_error_last()));
    F.wf = instance_new();
}

/* Appends events first..last of F.full: the next workflow task. */
static void more(int64_t first, int64_t last)
{
    cr_assert_eq(tw_run_append(F.run, page_of(F.full, first, last)), 0, "%s", tw_error_message(tw_error_last()));
}

static tw_activation *next_activation(tw_run *run, bool live)
{
    cr_assert(tw_run_has_next_activation(run), "the run has no next activation");
    tw_activation *a = NULL;
    bool is_live = !live;
    tw_error *err = NULL;
    int rc = tw_run_next_activation(run, &a, &is_live, &err);
    cr_assert_eq(rc, 0, "next_activation: %s", err ? tw_error_message(err) : tw_error_message(tw_error_last()));
    cr_assert_eq(is_live, live);
    return a;
}

static tw_completion *activate(tw_wf_instance *wf, const tw_activation *a)
{
    tw_completion *c = NULL;
    int rc = tw_wf_instance_activate(wf, a, &c);
    cr_assert_eq(rc, 0, "activate: %s", tw_error_message(tw_error_last()));
    cr_assert_not_null(c);
    return c;
}

static void complete_ok(tw_run *run, tw_completion *c, tw_run_output *out)
{
    tw_error *err = NULL;
    int rc = tw_run_complete(run, c, out, &err);
    cr_assert_eq(rc, 0, "complete: %s", err ? tw_error_message(err) : tw_error_message(tw_error_last()));
}

/*
 * One activation/completion round of F.run through F.wf: the next
 * activation (live or replaying as expected), activate, tw_run_complete.
 * F.log holds what the callbacks did; the caller clears *out.
 */
static void step(bool live, tw_run_output *out)
{
    F.log[0] = '\0';
    tw_activation *a = next_activation(F.run, live);
    F.timestamp = tw_activation_timestamp(a);
    tw_completion *c = activate(F.wf, a);
    tw_activation_free(a);
    complete_ok(F.run, c, out);
}

/* An activation that involves no run (query, eviction) through F.wf; returns its answers. */
static void step_outside_run(tw_activation *a, tw_run_output *out)
{
    cr_assert_not_null(a);
    F.log[0] = '\0';
    tw_completion *c = activate(F.wf, a);
    tw_activation_free(a);
    cr_assert_eq(tw_completion_take_output(c, out), 0);
}

/* The commands of out, in order, as "StartTimer(1,1500ms) CancelTimer(1) ..." (a static buffer). */
static const char *commands(const tw_run_output *out)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < out->command_count; i++) {
        const tw_pb_command *c = out->commands[i];
        char one[160];
        switch ((int)c->command_type) {
        case CMD(START_TIMER): {
            const Google__Protobuf__Duration *d = c->start_timer_command_attributes->start_to_fire_timeout;
            snprintf(one, sizeof(one), "StartTimer(%s,%lldms)", c->start_timer_command_attributes->timer_id,
                     (long long)(d->seconds * 1000 + d->nanos / 1000000));
            break;
        }
        case CMD(CANCEL_TIMER):
            snprintf(one, sizeof(one), "CancelTimer(%s)", c->cancel_timer_command_attributes->timer_id);
            break;
        case CMD(SCHEDULE_ACTIVITY_TASK):
            snprintf(one, sizeof(one), "ScheduleActivity(%s,%s)",
                     c->schedule_activity_task_command_attributes->activity_id,
                     c->schedule_activity_task_command_attributes->activity_type->name);
            break;
        case CMD(REQUEST_CANCEL_ACTIVITY_TASK):
            snprintf(one, sizeof(one), "RequestCancelActivity(%lld)",
                     (long long)c->request_cancel_activity_task_command_attributes->scheduled_event_id);
            break;
        case CMD(COMPLETE_WORKFLOW_EXECUTION): snprintf(one, sizeof(one), "CompleteWorkflow"); break;
        case CMD(FAIL_WORKFLOW_EXECUTION): snprintf(one, sizeof(one), "FailWorkflow"); break;
        case CMD(CANCEL_WORKFLOW_EXECUTION): snprintf(one, sizeof(one), "CancelWorkflow"); break;
        case CMD(CONTINUE_AS_NEW_WORKFLOW_EXECUTION): snprintf(one, sizeof(one), "ContinueAsNew"); break;
        default: snprintf(one, sizeof(one), "Command%d", (int)c->command_type); break;
        }
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", one);
        cr_assert_lt(n, sizeof(buf) - 1);
    }
    return buf;
}

static void expect_einval(int rc, const char *needle)
{
    cr_assert_eq(rc, TW_EINVAL, "rc %d, expected TW_EINVAL", rc);
    const char *msg = tw_error_message(tw_error_last());
    cr_assert(strstr(msg, needle) != NULL, "message \"%s\" does not mention \"%s\"", msg, needle);
}

static tw_payloads *json(const char *text)
{
    tw_payloads *p = NULL;
    cr_assert_eq(tw_payloads_new(&p), 0);
    cr_assert_eq(tw_payloads_add_json(p, text, NULL), 0);
    return p;
}

static tw_activity_options greet_options(int cancellation_type)
{
    tw_activity_options o;
    tw_activity_options_init(&o);
    o.activity_type = "greet";
    o.start_to_close_timeout_ms = 10000;
    o.cancellation_type = cancellation_type;
    return o;
}

/* Starts a timer (expected to succeed) and returns its op. */
static tw_op *timer(tw_wf_instance *wf, tw_scope *scope, int64_t ms, uint64_t tag)
{
    tw_op *op = NULL;
    int rc = tw_wf_start_timer(wf, scope, ms, tag, &op);
    cr_assert_eq(rc, 0, "start_timer: %s", tw_error_message(tw_error_last()));
    cr_assert_not_null(op);
    return op;
}

static tw_scope *scope(tw_wf_instance *wf, tw_scope *parent, int detached, int64_t timeout_ms, uint64_t tag)
{
    tw_scope *s = NULL;
    int rc = tw_wf_scope_new(wf, parent, detached, timeout_ms, tag, &s);
    cr_assert_eq(rc, 0, "scope_new: %s", tw_error_message(tw_error_last()));
    cr_assert_not_null(s);
    return s;
}

/* 1 started, 2-3 the first (live) workflow task. */
static pb_history *just_started(void)
{
    pb_history *h = hist_new();
    started(h);
    wft(h, false);
    return h;
}

/* ================================================================== */
/* Start                                                                */

Test(runtime, start_gets_type_and_args)
{
    pb_history *h = hist_new();
    Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *s = started(h);
    tw_payloads *args = json("\"Ada\"");
    cr_assert_eq(tw_payloads_add_json(args, "3", NULL), 0);
    s->input = pb_payloads(&B, args);
    tw_payloads_free(args);
    wft(h, false);
    begin(h, 3);
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[\"Ada\",3]) drain");
    cr_assert_not(F.replaying_seen);
    cr_assert_eq(out.command_count, 0);
    cr_assert_not(tw_wf_is_done(F.wf));
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

/* ================================================================== */
/* Timers                                                               */

static void start_timer_42(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 1500, 42);
    cr_assert_eq(tw_op_kind_of(F.op[0]), TW_OP_TIMER);
    cr_assert_eq(tw_op_tag(F.op[0]), 42);
    cr_assert_not(tw_op_is_resolved(F.op[0]));
}

Test(runtime, timer_fires_and_resolves_completed_with_its_tag)
{
    /* 4 completed, 5 timer "1" started, 6 fired, 7-8 WFT. */
    pb_history *h = just_started();
    int64_t c1 = wft_completed(h);
    int64_t t1 = timer_started(h, "1", c1);
    timer_fired(h, "1", t1);
    wft(h, false);
    begin(h, 3);
    F.on_start = start_timer_42;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain");
    cr_assert_str_eq(commands(&out), "StartTimer(1,1500ms)");
    tw_run_output_clear(&out);

    more(4, 8);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(42,COMPLETED) drain");
    cr_assert_eq(F.failure_kind, -1, "a fired timer has no failure");
    cr_assert(tw_op_is_resolved(F.op[0]));
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

static void start_two_timers_cancel_first(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 1000, 1);
    F.op[1] = timer(wf, NULL, 2000, 2);
    cr_assert_eq(tw_op_cancel(F.op[0]), 0);
    note("cancel-returned");
}

static void cancel_first_again(tw_wf_instance *wf)
{
    (void)wf;
    cr_assert_eq(tw_op_cancel(F.op[0]), 0, "cancelling a resolved op is a no-op");
}

Test(runtime, timer_cancelled_before_sent_drops_both_commands)
{
    begin(just_started(), 3);
    F.on_start = start_two_timers_cancel_first;
    F.on_drain = cancel_first_again;
    tw_run_output out;
    step(true, &out);
    /* Not resolved from inside tw_op_cancel: after the drain, which then runs again. */
    cr_assert_str_eq(F.log, "start(greeter,[]) cancel-returned drain resolved(1,CANCELLED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CANCELED);
    cr_assert_str_eq(commands(&out), "StartTimer(2,2000ms)");
    tw_run_output_clear(&out);
    cr_assert(tw_op_is_resolved(F.op[0]));
    cr_assert_not(tw_op_is_resolved(F.op[1]));
    cr_assert_not(tw_run_has_next_activation(F.run), "the runtime resolved it; the engine has nothing to deliver");
}

static void start_timer_1(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 60000, 1);
}

static int signal_cancels_op0(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    (void)wf, (void)name, (void)headers;
    cr_assert_eq(tw_op_cancel(F.op[0]), 0, "%s", tw_error_message(tw_error_last()));
    note("cancel-returned");
    return 1;
}

/* 1-3 as just_started, 4 completed, 5.. what `between` adds, then a signal named signal and a live WFT. */
static pb_history *second_task_with_signal(const char *signal, void (*between)(pb_history *h, int64_t completed))
{
    pb_history *h = just_started();
    int64_t c1 = wft_completed(h);
    if (between)
        between(h, c1);
    signaled(h, signal, "{}");
    wft(h, false);
    return h;
}

static void one_timer_started(pb_history *h, int64_t completed)
{
    timer_started(h, "1", completed);
}

Test(runtime, cancelling_a_started_timer_emits_cancel_timer)
{
    pb_history *h = second_task_with_signal("stop", one_timer_started);
    begin(h, 3);
    F.on_start = start_timer_1;
    F.on_signal = signal_cancels_op0;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartTimer(1,60000ms)");
    tw_run_output_clear(&out);

    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(stop,[{}]) cancel-returned drain resolved(1,CANCELLED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CANCELED);
    cr_assert_str_eq(commands(&out), "CancelTimer(1)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

static void start_zero_timer(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 0, 7);
}

static void complete_on_resolution(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    (void)tag, (void)resolution;
    cr_assert_eq(tw_wf_complete(wf, NULL), 0);
}

Test(runtime, zero_length_timer_resolves_without_a_command)
{
    begin(just_started(), 3);
    F.on_start = start_zero_timer;
    F.on_resolved = complete_on_resolution;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain resolved(7,COMPLETED) drain");
    cr_assert_str_eq(commands(&out), "CompleteWorkflow");
    cr_assert(out.terminal);
    tw_run_output_clear(&out);
    cr_assert(tw_wf_is_done(F.wf));
}

/* ================================================================== */
/* Activities: each cancellation type                                   */

static void start_activity(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_activity_options o = greet_options(F.cancellation_type);
    int rc = tw_wf_start_activity(wf, NULL, &o, 5, &F.op[0]);
    cr_assert_eq(rc, 0, "%s", tw_error_message(tw_error_last()));
    cr_assert_eq(tw_op_kind_of(F.op[0]), TW_OP_ACTIVITY);
}

static void activity_scheduled_and_started(pb_history *h, int64_t completed)
{
    int64_t s = act_scheduled(h, "1", "greet", completed);
    act_started(h, s);
}

/*
 * 1-3 live start, then 4 completed, 5 scheduled "1" greet, 6 started,
 * 7 signal "cancel", 8-9 WFT: the signal cancels the activity. Runs up
 * to the completion of that task and returns its output.
 */
static void activity_cancelled_by_signal(int cancellation_type, tw_run_output *out)
{
    pb_history *h = second_task_with_signal("cancel", activity_scheduled_and_started);
    begin(h, 3);
    F.cancellation_type = cancellation_type;
    F.on_start = start_activity;
    F.on_signal = signal_cancels_op0;
    step(true, out);
    cr_assert_str_eq(commands(out), "ScheduleActivity(1,greet)");
    tw_run_output_clear(out);
    more(4, 9);
    step(true, out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned drain", "an activity does not resolve at once");
    cr_assert_not(tw_op_is_resolved(F.op[0]));
}

Test(runtime, activity_cancel_try_resolves_in_the_next_activation)
{
    tw_run_output out;
    activity_cancelled_by_signal(TW_ACTIVITY_CANCEL_TRY, &out);
    cr_assert_eq(out.command_count, 0, "commands wait for the task's last completion");
    tw_run_output_clear(&out);
    cr_assert(tw_run_has_next_activation(F.run));

    step(true, &out);
    cr_assert_eq(F.timestamp, time_of(9), "the same workflow task");
    cr_assert_str_eq(F.log, "resolved(5,CANCELLED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_ACTIVITY);
    cr_assert_str_eq(commands(&out), "RequestCancelActivity(5)");
    tw_run_output_clear(&out);
    cr_assert(tw_op_is_resolved(F.op[0]));
    cr_assert_not(tw_run_has_next_activation(F.run));
}

Test(runtime, activity_cancel_wait_resolves_when_the_server_confirms)
{
    tw_run_output out;
    activity_cancelled_by_signal(TW_ACTIVITY_CANCEL_WAIT, &out);
    cr_assert_str_eq(commands(&out), "RequestCancelActivity(5)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run), "WAIT resolves only on ActivityTaskCanceled");
    cr_assert_not(tw_op_is_resolved(F.op[0]));

    /* 10 completed, 11 cancel requested, 12 canceled, 13-14 WFT. */
    int64_t c2 = wft_completed(F.full);
    act_cancel_requested(F.full, 5, c2);
    act_canceled(F.full, 5, 6, "\"bye\"");
    wft(F.full, false);
    more(10, 14);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(5,CANCELLED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_ACTIVITY);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert(tw_op_is_resolved(F.op[0]));
}

Test(runtime, activity_cancel_abandon_sends_no_command)
{
    tw_run_output out;
    activity_cancelled_by_signal(TW_ACTIVITY_CANCEL_ABANDON, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert(tw_run_has_next_activation(F.run));

    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(5,CANCELLED) drain");
    cr_assert_eq(out.command_count, 0, "no RequestCancelActivityTask for an abandoned activity");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

/* 1-3 live start that schedules the activity, 4 completed, 5 scheduled, 6 started, 7 its outcome, 8-9 WFT. */
static void activity_outcome(bool failed, tw_run_output *out)
{
    pb_history *h = just_started();
    int64_t c1 = wft_completed(h);
    int64_t s = act_scheduled(h, "1", "greet", c1);
    int64_t st = act_started(h, s);
    if (failed)
        act_failed(h, s, st);
    else
        act_completed(h, s, st, "\"Hello, Ada\"");
    wft(h, false);
    begin(h, 3);
    F.on_start = start_activity;
    step(true, out);
    cr_assert_str_eq(commands(out), "ScheduleActivity(1,greet)");
    cr_assert_str_eq(out->commands[0]->schedule_activity_task_command_attributes->task_queue->name, "tq");
    tw_run_output_clear(out);
    more(4, 9);
    step(true, out);
}

Test(runtime, activity_result_reaches_resolved)
{
    tw_run_output out;
    activity_outcome(false, &out);
    cr_assert_str_eq(F.log, "resolved(5,COMPLETED) drain");
    cr_assert_str_eq(F.result_json, "[\"Hello, Ada\"]");
    cr_assert_eq(F.failure_kind, -1);
    tw_run_output_clear(&out);
}

Test(runtime, activity_failure_reaches_resolved)
{
    tw_run_output out;
    activity_outcome(true, &out);
    cr_assert_str_eq(F.log, "resolved(5,FAILED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_ACTIVITY);
    cr_assert_str_eq(F.result_json, "");
    tw_run_output_clear(&out);
}

static void start_activity_in_scope_and_cancel_it(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[PARENT] = scope(wf, NULL, 0, 0, 10);
    tw_activity_options o = greet_options(TW_ACTIVITY_CANCEL_WAIT);
    cr_assert_eq(tw_wf_start_activity(wf, F.scope[PARENT], &o, 5, &F.op[0]), 0);
    cr_assert_eq(tw_scope_cancel(F.scope[PARENT]), 0);
}

Test(runtime, activity_cancelled_with_its_scope_before_sent)
{
    begin(just_started(), 3);
    F.on_start = start_activity_in_scope_and_cancel_it;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain scope_cancelled(10) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert(tw_run_has_next_activation(F.run), "even WAIT resolves at once when nothing was sent");

    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(5,CANCELLED) drain");
    cr_assert_eq(out.command_count, 0, "neither the schedule nor the cancel is sent");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

/* ================================================================== */
/* Scopes                                                               */

/* parent (10) > child (11) and detached (12), one timer in each (tags 1, 2, 3). */
static void start_scope_tree(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_scope *root = tw_wf_root_scope(wf);
    F.scope[PARENT] = scope(wf, NULL, 0, 0, 10);
    F.scope[CHILD] = scope(wf, F.scope[PARENT], 0, 0, 11);
    F.scope[DETACHED] = scope(wf, F.scope[PARENT], 1, 0, 12);
    cr_assert_eq(tw_scope_parent(F.scope[PARENT]), root);
    cr_assert_eq(tw_scope_parent(F.scope[CHILD]), F.scope[PARENT]);
    cr_assert_eq(tw_scope_parent(F.scope[DETACHED]), F.scope[PARENT]);
    cr_assert_null(tw_scope_parent(root));
    F.op[0] = timer(wf, F.scope[PARENT], 60000, 1);
    F.op[1] = timer(wf, F.scope[CHILD], 60000, 2);
    F.op[2] = timer(wf, F.scope[DETACHED], 60000, 3);
}

static int signal_cancels_parent(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    (void)wf, (void)name, (void)headers;
    cr_assert_eq(tw_scope_cancel(F.scope[PARENT]), 0);
    cr_assert_eq(tw_scope_cancel(F.scope[PARENT]), 0, "idempotent");
    note("cancel-returned");
    return 1;
}

static void three_timers_started(pb_history *h, int64_t completed)
{
    timer_started(h, "1", completed);
    timer_started(h, "2", completed);
    timer_started(h, "3", completed);
}

Test(runtime, cancelling_a_scope_cancels_its_children_but_not_detached_ones)
{
    pb_history *h = second_task_with_signal("cancel", three_timers_started);
    begin(h, 3);
    F.on_start = start_scope_tree;
    F.on_signal = signal_cancels_parent;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartTimer(1,60000ms) StartTimer(2,60000ms) StartTimer(3,60000ms)");
    tw_run_output_clear(&out);

    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned drain scope_cancelled(10) resolved(1,CANCELLED) "
                            "scope_cancelled(11) resolved(2,CANCELLED) drain");
    cr_assert_str_eq(commands(&out), "CancelTimer(1) CancelTimer(2)");
    tw_run_output_clear(&out);
    cr_assert(tw_scope_is_cancelled(F.scope[PARENT]));
    cr_assert(tw_scope_is_cancelled(F.scope[CHILD]));
    cr_assert_not(tw_scope_is_cancelled(F.scope[DETACHED]));
    cr_assert_not(tw_scope_is_cancelled(tw_wf_root_scope(F.wf)));
    cr_assert_not(tw_op_is_resolved(F.op[2]), "the detached scope's timer survives");
}

/* A scope (20) with a 300 ms timeout holding a 1-hour timer (tag 1), and a 1-hour timer in root (tag 2). */
static void start_timed_scope(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[TIMED] = scope(wf, NULL, 0, 300, 20);
    F.op[0] = timer(wf, F.scope[TIMED], 3600000, 1);
    F.op[1] = timer(wf, NULL, 3600000, 2);
}

static void timeout_fired(pb_history *h, int64_t completed)
{
    int64_t t = timer_started(h, "1", completed);
    timer_started(h, "2", completed);
    timer_started(h, "3", completed);
    timer_fired(h, "1", t);
}

Test(runtime, scope_timeout_cancels_the_scope_and_its_ops)
{
    /* 1-3, 4 completed, 5-7 timers started, 8 timeout fired, 9-10 WFT. */
    pb_history *h = just_started();
    timeout_fired(h, wft_completed(h));
    wft(h, false);
    begin(h, 3);
    F.on_start = start_timed_scope;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain");
    cr_assert_str_eq(commands(&out), "StartTimer(1,300ms) StartTimer(2,3600000ms) StartTimer(3,3600000ms)");
    tw_run_output_clear(&out);

    more(4, 10);
    step(true, &out);
    cr_assert_str_eq(F.log, "drain scope_cancelled(20) resolved(1,CANCELLED) drain",
                     "the timeout timer itself is never reported");
    cr_assert_str_eq(commands(&out), "CancelTimer(2)");
    tw_run_output_clear(&out);
    cr_assert(tw_scope_is_cancelled(F.scope[TIMED]));
    cr_assert_not(tw_op_is_resolved(F.op[1]));
}

static int signal_cancels_timed_scope(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    (void)wf, (void)name, (void)headers;
    cr_assert_eq(tw_scope_cancel(F.scope[TIMED]), 0);
    return 1;
}

Test(runtime, cancelling_a_scope_cancels_its_timeout_timer_silently)
{
    pb_history *h = second_task_with_signal("cancel", three_timers_started);
    begin(h, 3);
    F.on_start = start_timed_scope;
    F.on_signal = signal_cancels_timed_scope;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);

    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) drain scope_cancelled(20) resolved(1,CANCELLED) drain");
    cr_assert_str_eq(commands(&out), "CancelTimer(2) CancelTimer(1)", "the work timer and the timeout timer");
    tw_run_output_clear(&out);
}

static void start_timed_scope_and_cancel_it(tw_wf_instance *wf, const tw_payloads *args)
{
    start_timed_scope(wf, args);
    cr_assert_eq(tw_scope_cancel(F.scope[TIMED]), 0);
    /* Under a cancelled parent a new scope starts cancelled. */
    F.scope[CHILD] = scope(wf, F.scope[TIMED], 0, 0, 21);
    cr_assert(tw_scope_is_cancelled(F.scope[CHILD]));
    F.scope[DETACHED] = scope(wf, F.scope[TIMED], 1, 0, 22);
    cr_assert_not(tw_scope_is_cancelled(F.scope[DETACHED]));
}

Test(runtime, scope_cancelled_in_the_task_that_made_it_sends_nothing)
{
    begin(just_started(), 3);
    F.on_start = start_timed_scope_and_cancel_it;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain scope_cancelled(20) resolved(1,CANCELLED) "
                            "scope_cancelled(21) drain");
    cr_assert_str_eq(commands(&out), "StartTimer(3,3600000ms)", "timeout timer and work timer are dropped");
    tw_run_output_clear(&out);
}

/* ================================================================== */
/* Workflow cancellation                                                */

/* A timer in root (tag 1) and one in a detached scope (12, tag 3). */
static void start_root_and_detached_timers(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 60000, 1);
    F.scope[DETACHED] = scope(wf, NULL, 1, 0, 12);
    F.op[1] = timer(wf, F.scope[DETACHED], 60000, 3);
}

static void note_root_state(tw_wf_instance *wf)
{
    note("root-cancelled=%d", tw_scope_is_cancelled(tw_wf_root_scope(wf)));
}

Test(runtime, cancel_request_calls_back_then_cancels_the_root_scope)
{
    /* 4 completed, 5-6 timers started, 7 cancel requested, 8-9 WFT. */
    pb_history *h = just_started();
    int64_t c1 = wft_completed(h);
    timer_started(h, "1", c1);
    timer_started(h, "2", c1);
    cancel_requested(h, "user asked");
    wft(h, false);
    begin(h, 3);
    F.on_start = start_root_and_detached_timers;
    F.on_cancel_requested = note_root_state;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartTimer(1,60000ms) StartTimer(2,60000ms)");
    tw_run_output_clear(&out);

    more(4, 9);
    step(true, &out);
    cr_assert_str_eq(F.log, "cancel_requested(user asked) root-cancelled=0 drain scope_cancelled(0) "
                            "resolved(1,CANCELLED) drain");
    cr_assert_str_eq(commands(&out), "CancelTimer(1)");
    tw_run_output_clear(&out);
    cr_assert(tw_scope_is_cancelled(tw_wf_root_scope(F.wf)));
    cr_assert_not(tw_scope_is_cancelled(F.scope[DETACHED]));
    cr_assert_not(tw_op_is_resolved(F.op[1]));
}

/* ================================================================== */
/* Signals                                                              */

static int buffering_signal(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    cr_assert_str_eq(tw_payloads_name(headers, 0), "trace", "headers are kept for redelivery");
    if (strcmp(name, "add-a") == 0) {
        F.handles_a = 1;
        cr_assert_eq(tw_wf_signal_handler_added(wf, "a"), 0);
        note("added-a");
        return 1;
    }
    if (strcmp(name, "add-all") == 0) {
        F.handles_all = 1;
        cr_assert_eq(tw_wf_signal_handler_added(wf, NULL), 0);
        note("added-all");
        return 1;
    }
    return F.handles_all || (F.handles_a && strcmp(name, "a") == 0);
}

Test(runtime, unhandled_signals_are_buffered_and_redelivered_in_order)
{
    /* 1 started, 2 a=1, 3 b=2, 4 a=3, 5-7 WFT, 8 add-a, 9 b=4, 10-12 WFT, 13 add-all, 14 a=5, 15-16 WFT. */
    pb_history *h = hist_new();
    started(h);
    signaled(h, "a", "1");
    signaled(h, "b", "2");
    signaled(h, "a", "3");
    wft(h, true);
    signaled(h, "add-a", "{}");
    signaled(h, "b", "4");
    wft(h, true);
    signaled(h, "add-all", "{}");
    signaled(h, "a", "5");
    wft(h, false);
    begin(h, (int64_t)h->n_events);
    F.on_signal = buffering_signal;
    tw_run_output out;
    step(false, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) signal(a,[1]) buffered signal(b,[2]) buffered signal(a,[3]) buffered "
                            "drain");
    tw_run_output_clear(&out);

    /* Only the a's come back, in order, from inside tw_wf_signal_handler_added. */
    step(false, &out);
    cr_assert_str_eq(F.log, "signal(add-a,[{}]) signal(a,[1]) signal(a,[3]) added-a signal(b,[4]) buffered drain");
    tw_run_output_clear(&out);

    /* NULL: every name, still in arrival order. */
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(add-all,[{}]) signal(b,[2]) signal(b,[4]) added-all signal(a,[5]) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

/* ================================================================== */
/* Queries                                                              */

/* A query activation for RUN_ID: one query per (id, type, args JSON or NULL) triple. */
static tw_activation *queries(size_t n, const char *const *ids, const char *const *types, const char *const *args)
{
    Temporal__Api__Query__V1__WorkflowQuery *q[4];
    cr_assert_leq(n, 4);
    for (size_t i = 0; i < n; i++) {
        q[i] = pb_new(&B, &temporal__api__query__v1__workflow_query__descriptor);
        cr_assert_not_null(q[i]);
        q[i]->query_type = pb_str(&B, types[i]);
        q[i]->query_args = args[i] ? json_payloads(args[i]) : NULL;
    }
    typedef const Temporal__Api__Query__V1__WorkflowQuery *const *query_list;
    tw_activation *a = tw_activation_new_queries(RUN_ID, n, ids, (query_list)q);
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&q[i]->base, NULL);
    cr_assert_not_null(a);
    return a;
}

static void query_starts_a_timer(tw_wf_instance *wf, const char *name, const tw_payloads *args, tw_payloads *result,
                                 const char **error)
{
    (void)name, (void)args, (void)error;
    tw_op *op = NULL;
    keep_rc(tw_wf_start_timer(wf, NULL, 1000, 9, &op));
    cr_assert_null(op);
    cr_assert_eq(tw_scope_cancel(tw_wf_root_scope(wf)), TW_EINVAL);
    cr_assert_eq(tw_payloads_add_json(result, "\"ignored\"", NULL), 0);
}

static int signal_starts_timer(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    (void)name, (void)headers;
    F.op[0] = timer(wf, NULL, 1000, 1);
    return 1;
}

Test(runtime, query_that_starts_a_timer_fails_and_changes_nothing)
{
    pb_history *h = second_task_with_signal("go", NULL);
    begin(h, 3);
    F.on_query = query_starts_a_timer;
    F.on_signal = signal_starts_timer;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);

    const char *ids[] = {"q-1"}, *types[] = {"status"}, *args[] = {NULL};
    step_outside_run(queries(1, ids, types, args), &out);
    cr_assert_str_eq(F.log, "query(status)", "no drain for a query");
    cr_assert_eq(F.rc, TW_EINVAL);
    cr_assert(strstr(F.message, "query") != NULL, "message: %s", F.message);
    cr_assert_eq(out.command_count, 0);
    cr_assert_eq(out.query_count, 1);
    cr_assert_str_eq(out.query_ids[0], "q-1");
    cr_assert_null(out.query_results[0]);
    cr_assert_not_null(out.query_failures[0]);
    cr_assert(strstr(out.query_failures[0], "read-only") != NULL, "failure: %s", out.query_failures[0]);
    tw_run_output_clear(&out);
    cr_assert_not(tw_scope_is_cancelled(tw_wf_root_scope(F.wf)));

    /* The refused timer took no seq: the next one is timer 1. */
    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartTimer(1,1000ms)");
    tw_run_output_clear(&out);
}

static void status_query(tw_wf_instance *wf, const char *name, const tw_payloads *args, tw_payloads *result,
                         const char **error)
{
    (void)wf;
    if (strcmp(name, "status") != 0) {
        *error = "unknown query";
        return;
    }
    cr_assert_str_eq(json_list(args), "[\"verbose\"]");
    cr_assert_eq(tw_payloads_add_json(result, "\"running\"", NULL), 0);
    cr_assert_eq(tw_payloads_add_json(result, "{\"step\":2}", NULL), 0);
}

Test(runtime, query_results_and_failures)
{
    begin(just_started(), 3);
    F.on_query = status_query;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);

    const char *ids[] = {"q-1", "q-2"}, *types[] = {"status", "nope"}, *args[] = {"\"verbose\"", NULL};
    step_outside_run(queries(2, ids, types, args), &out);
    cr_assert_str_eq(F.log, "query(status) query(nope)");
    cr_assert_eq(out.query_count, 2);
    cr_assert_str_eq(out.query_ids[0], "q-1");
    cr_assert_null(out.query_failures[0]);
    cr_assert_str_eq(json_list(out.query_results[0]), "[\"running\",{\"step\":2}]");
    cr_assert_str_eq(out.query_ids[1], "q-2");
    cr_assert_null(out.query_results[1]);
    cr_assert_str_eq(out.query_failures[1], "unknown query");
    tw_run_output_clear(&out);

    /* An instance whose binding has no query callback answers with a failure. */
    tw_wf_instance *bare = NULL;
    cr_assert_eq(tw_wf_instance_new(NULL, NULL, &bare), 0);
    const char *one_id[] = {"q-3"}, *one_type[] = {"status"}, *no_args[] = {NULL};
    tw_activation *a = queries(1, one_id, one_type, no_args);
    tw_completion *c = activate(bare, a);
    tw_activation_free(a);
    cr_assert_eq(tw_completion_take_output(c, &out), 0);
    cr_assert_eq(out.query_count, 1);
    cr_assert_str_eq(out.query_failures[0], "this workflow has no query handlers");
    tw_run_output_clear(&out);
    tw_wf_instance_free(bare);
}

static void time_query(tw_wf_instance *wf, const char *name, const tw_payloads *args, tw_payloads *result,
                       const char **error)
{
    (void)name, (void)args, (void)result, (void)error;
    F.now_seen = tw_wf_now(wf);
    F.replaying_seen = tw_wf_is_replaying(wf);
}

Test(runtime, query_and_eviction_keep_the_workflow_time)
{
    begin(just_started(), 3);
    F.on_query = time_query;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);

    /* Query activations carry no time of their own: the handler sees the last task's. */
    const char *ids[] = {"q-1"}, *types[] = {"elapsed"}, *args[] = {NULL};
    step_outside_run(queries(1, ids, types, args), &out);
    tw_run_output_clear(&out);
    cr_assert_eq(F.now_seen, time_of(3));
    cr_assert_not(F.replaying_seen);
    cr_assert_eq(tw_wf_now(F.wf), time_of(3));

    step_outside_run(tw_activation_new_eviction(RUN_ID, TW_EVICTION_CACHE_FULL, ""), &out);
    tw_run_output_clear(&out);
    cr_assert_eq(tw_wf_now(F.wf), time_of(3));
}

/* ================================================================== */
/* Ending the run                                                       */

static void start_complete_then_more(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 1000, 1);
    cr_assert_not(tw_wf_is_done(wf));
    tw_payloads *result = json("\"done\"");
    cr_assert_eq(tw_wf_complete(wf, result), 0);
    tw_payloads_free(result);
    cr_assert(tw_wf_is_done(wf));
    F.op[1] = timer(wf, NULL, 2000, 2);
    cr_assert_eq(tw_wf_fail(wf, "too late", NULL, 0, NULL), 0);
    cr_assert_eq(tw_wf_cancel(wf, NULL), 0);
}

Test(runtime, terminal_command_drops_later_commands)
{
    begin(just_started(), 3);
    F.on_start = start_complete_then_more;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartTimer(1,1000ms) CompleteWorkflow");
    cr_assert(out.terminal);
    Temporal__Api__Common__V1__Payloads *r = out.commands[1]->complete_workflow_execution_command_attributes->result;
    cr_assert_not_null(r);
    cr_assert_eq(r->n_payloads, 1);
    cr_assert_eq(r->payloads[0]->data.len, 6);
    cr_assert_eq(memcmp(r->payloads[0]->data.data, "\"done\"", 6), 0);
    tw_run_output_clear(&out);
}

static uint8_t *packed_failure(size_t *len)
{
    pb_failure *f = app_failure("outer", "Outer");
    f->cause = app_failure("inner", "Inner");
    *len = protobuf_c_message_get_packed_size(&f->base);
    uint8_t *buf = malloc(*len);
    cr_assert_not_null(buf);
    protobuf_c_message_pack(&f->base, buf);
    protobuf_c_message_free_unpacked(&f->base, NULL);
    return buf;
}

static void start_fail_encoded(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff};
    keep_rc(tw_wf_fail_encoded(wf, garbage, sizeof(garbage)));
    cr_assert_not(tw_wf_is_done(wf), "a refused failure ends nothing");
    expect_einval(tw_wf_fail_encoded(wf, NULL, 3), "failure");
    size_t len;
    uint8_t *buf = packed_failure(&len);
    cr_assert_eq(tw_wf_fail_encoded(wf, buf, len), 0);
    free(buf);
    cr_assert(tw_wf_is_done(wf));
}

Test(runtime, fail_encoded_rejects_garbage_and_keeps_the_cause_chain)
{
    begin(just_started(), 3);
    F.on_start = start_fail_encoded;
    tw_run_output out;
    step(true, &out);
    cr_assert_eq(F.rc, TW_EPROTO);
    cr_assert(strstr(F.message, "not a serialized Failure") != NULL, "message: %s", F.message);
    cr_assert_str_eq(commands(&out), "FailWorkflow");
    cr_assert(out.terminal);
    pb_failure *got = out.commands[0]->fail_workflow_execution_command_attributes->failure;
    cr_assert_str_eq(got->message, "outer");
    cr_assert_str_eq(got->cause->message, "inner");
    cr_assert_str_eq(got->cause->application_failure_info->type, "Inner");
    tw_run_output_clear(&out);
}

static void start_fail_task(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 1000, 1);
    cr_assert_eq(tw_wf_fail_task(wf, "it broke", "at step 3"), 0);
}

Test(runtime, fail_task_goes_to_the_output)
{
    begin(just_started(), 3);
    F.on_start = start_fail_task;
    tw_run_output out;
    step(true, &out);
    cr_assert_eq(out.command_count, 0, "the task's commands are discarded");
    cr_assert_str_eq(out.task_failure, "it broke");
    cr_assert_str_eq(out.task_failure_stack, "at step 3");
    cr_assert_not(out.terminal);
    tw_run_output_clear(&out);
    cr_assert_not(tw_wf_is_done(F.wf), "a task failure is not the end of the workflow");
    cr_assert_not(tw_run_has_next_activation(F.run));
}

static void start_continue_as_new(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_continue_as_new_options o;
    tw_continue_as_new_options_init(&o);
    o.run_timeout_ms = 60000;
    cr_assert_eq(tw_wf_continue_as_new(wf, &o), 0);
    cr_assert(tw_wf_is_done(wf));
}

Test(runtime, continue_as_new_is_terminal)
{
    begin(just_started(), 3);
    F.on_start = start_continue_as_new;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "ContinueAsNew");
    cr_assert(out.terminal);
    cr_assert_str_eq(out.commands[0]->continue_as_new_workflow_execution_command_attributes->workflow_type->name,
                     "greeter");
    tw_run_output_clear(&out);
}

/* ================================================================== */
/* Misuse                                                               */

#define OUTSIDE "must be called from a workflow callback inside tw_wf_instance_activate"

static void expect_outside(int rc, const char *fn)
{
    expect_einval(rc, OUTSIDE);
    cr_assert(strstr(tw_error_message(tw_error_last()), fn) != NULL, "message does not name %s", fn);
}

static void start_keeps_op_and_scope(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[PARENT] = scope(wf, NULL, 0, 0, 10);
    F.op[0] = timer(wf, F.scope[PARENT], 1000, 1);
    /* Bad arguments inside a callback. */
    tw_op *op = NULL;
    expect_einval(tw_wf_start_timer(wf, NULL, -1, 2, &op), "duration_ms must not be negative");
    cr_assert_null(op);
    tw_scope *s = NULL;
    expect_einval(tw_wf_scope_new(wf, NULL, 0, -5, 3, &s), "timeout_ms must not be negative");
    expect_einval(tw_wf_scope_new(wf, NULL, 0, 0, 3, NULL), "out must not be NULL");
    tw_completion *c = NULL;
    tw_activation *a = tw_activation_new_eviction(RUN_ID, TW_EVICTION_CACHE_FULL, "");
    expect_einval(tw_wf_instance_activate(wf, a, &c), "called again from inside a callback");
    tw_activation_free(a);
    cr_assert_null(c);
}

Test(runtime, calls_outside_activate_are_einval)
{
    begin(just_started(), 3);
    tw_wf_instance *wf = F.wf;
    tw_op *op = NULL;
    tw_scope *s = NULL;
    tw_activity_options o = greet_options(TW_ACTIVITY_CANCEL_TRY);
    tw_continue_as_new_options can;
    tw_continue_as_new_options_init(&can);
    static const uint8_t one[] = {0x0a};

    expect_outside(tw_wf_start_timer(wf, NULL, 1000, 1, &op), "tw_wf_start_timer");
    expect_outside(tw_wf_start_activity(wf, NULL, &o, 1, &op), "tw_wf_start_activity");
    cr_assert_null(op);
    expect_outside(tw_scope_cancel(tw_wf_root_scope(wf)), "tw_scope_cancel");
    expect_outside(tw_wf_scope_new(wf, NULL, 0, 500, 1, &s), "tw_wf_scope_new");
    expect_outside(tw_wf_signal_handler_added(wf, NULL), "tw_wf_signal_handler_added");
    expect_outside(tw_wf_complete(wf, NULL), "tw_wf_complete");
    expect_outside(tw_wf_fail(wf, "m", NULL, 0, NULL), "tw_wf_fail");
    expect_outside(tw_wf_fail_encoded(wf, one, sizeof(one)), "tw_wf_fail_encoded");
    expect_outside(tw_wf_cancel(wf, NULL), "tw_wf_cancel");
    expect_outside(tw_wf_continue_as_new(wf, &can), "tw_wf_continue_as_new");
    expect_outside(tw_wf_fail_task(wf, "m", NULL), "tw_wf_fail_task");
    cr_assert_not(tw_wf_is_done(wf));

    /* Handles made inside a callback cannot be used after activate returned. */
    F.on_start = start_keeps_op_and_scope;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartTimer(1,1000ms)");
    tw_run_output_clear(&out);
    expect_outside(tw_op_cancel(F.op[0]), "tw_op_cancel");
    expect_outside(tw_scope_cancel(F.scope[PARENT]), "tw_scope_cancel");
    cr_assert_not(tw_op_is_resolved(F.op[0]));
    cr_assert_not(tw_scope_is_cancelled(F.scope[PARENT]));

    /* An activation of another run. */
    tw_activation *a = tw_activation_new_eviction("other-run", TW_EVICTION_CACHE_FULL, "");
    tw_completion *c = NULL;
    expect_einval(tw_wf_instance_activate(wf, a, &c), "activation is for run other-run, this instance runs run-1");
    cr_assert_null(c);
    expect_einval(tw_wf_instance_activate(wf, a, NULL), "must not be NULL");
    expect_einval(tw_wf_instance_activate(NULL, a, &c), "must not be NULL");
    tw_activation_free(a);
}

static void start_uses_foreign_scope(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_op *op = NULL;
    tw_scope *s = NULL;
    tw_scope *foreign = F.scope[DETACHED];
    expect_einval(tw_wf_start_timer(wf, foreign, 1000, 1, &op), "scope belongs to another instance");
    tw_activity_options o = greet_options(TW_ACTIVITY_CANCEL_TRY);
    expect_einval(tw_wf_start_activity(wf, foreign, &o, 1, &op), "scope belongs to another instance");
    expect_einval(tw_wf_scope_new(wf, foreign, 0, 0, 1, &s), "parent belongs to another instance");
    o.activity_type = NULL;
    expect_einval(tw_wf_start_activity(wf, NULL, &o, 1, &op), "activity_type");
    cr_assert_null(op);
}

Test(runtime, bad_arguments_are_einval)
{
    tw_wf_instance *wf = NULL;
    expect_einval(tw_wf_instance_new(&callbacks, NULL, NULL), "out must not be NULL");
    tw_wf_callbacks small = {0};
    expect_einval(tw_wf_instance_new(&small, NULL, &wf), "sizeof(tw_wf_callbacks)");
    cr_assert_null(wf);
    expect_einval(tw_op_cancel(NULL), "op must not be NULL");
    expect_einval(tw_scope_cancel(NULL), "scope must not be NULL");
    expect_einval(tw_wf_start_timer(NULL, NULL, 1, 1, NULL), "wf must not be NULL");
    expect_einval(tw_wf_complete(NULL, NULL), "wf must not be NULL");
    cr_assert_null(tw_wf_root_scope(NULL));
    cr_assert_eq(tw_op_kind_of(NULL), 0);
    cr_assert_eq(tw_op_tag(NULL), 0);
    cr_assert(tw_op_is_resolved(NULL));
    cr_assert_not(tw_scope_is_cancelled(NULL));
    cr_assert_null(tw_scope_parent(NULL));
    cr_assert_not(tw_wf_is_done(NULL));
    cr_assert_str_eq(tw_wf_workflow_id(NULL), "");
    cr_assert_eq(tw_wf_random(NULL), 0);
    tw_wf_instance_free(NULL);

    /* A scope of one instance given to another. */
    tw_wf_instance *other = instance_new();
    F.scope[DETACHED] = tw_wf_root_scope(other);
    begin(just_started(), 3);
    F.on_start = start_uses_foreign_scope;
    tw_run_output out;
    step(true, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    tw_wf_instance_free(other);
}

Test(runtime, callbacks_are_read_up_to_their_size)
{
    /* A binding built against a header that ended before drain and evict. */
    tw_wf_callbacks old = callbacks;
    old.size = offsetof(tw_wf_callbacks, drain);
    pb_history *h = just_started();
    begin(h, 3);
    tw_wf_instance_free(F.wf);
    F.wf = NULL;
    cr_assert_eq(tw_wf_instance_new(&old, &F, &F.wf), 0);
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[])", "drain is past the caller's size: not called");
    tw_run_output_clear(&out);
}

/* ================================================================== */
/* Information, time, random                                            */

Test(runtime, info_after_start)
{
    pb_history *h = hist_new();
    Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *s = started(h);
    tw_payloads *memo = named_json("owner", "\"ops\"");
    tw_payloads *sa = named_json("CustomKeywordField", "\"blue\"");
    s->memo = pb_memo(&B, memo);
    s->search_attributes = pb_search_attributes(&B, sa);
    tw_payloads_free(memo);
    tw_payloads_free(sa);
    s->attempt = 3;
    s->continued_execution_run_id = pb_str(&B, "prev-run");
    s->parent_workflow_namespace = pb_str(&B, "parent-ns");
    s->parent_workflow_execution = pb_new(&B, &temporal__api__common__v1__workflow_execution__descriptor);
    s->parent_workflow_execution->workflow_id = pb_str(&B, "parent-wf");
    s->parent_workflow_execution->run_id = pb_str(&B, "parent-run");
    s->cron_schedule = pb_str(&B, "0 * * * *");
    s->workflow_execution_timeout = pb_duration_ms(&B, 3600000);
    s->workflow_run_timeout = pb_duration_ms(&B, 600000);
    s->workflow_task_timeout = pb_duration_ms(&B, 10000);
    s->last_completion_result = json_payloads("42");
    wft(h, false);
    begin(h, 3);

    tw_wf_instance *wf = F.wf;
    cr_assert_str_eq(tw_wf_workflow_id(wf), "", "nothing before the start");
    cr_assert_null(tw_wf_memo(wf));
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    cr_assert_str_eq(tw_wf_workflow_id(wf), "wf-id");
    cr_assert_str_eq(tw_wf_run_id(wf), RUN_ID);
    cr_assert_str_eq(tw_wf_workflow_type(wf), "greeter");
    cr_assert_str_eq(tw_wf_task_queue(wf), "tq");
    cr_assert_eq(tw_wf_attempt(wf), 3);
    cr_assert_eq(tw_wf_start_time(wf), time_of(1));
    cr_assert_eq(tw_wf_execution_timeout_ms(wf), 3600000);
    cr_assert_eq(tw_wf_run_timeout_ms(wf), 600000);
    cr_assert_eq(tw_wf_task_timeout_ms(wf), 10000);
    cr_assert_str_eq(tw_wf_parent_workflow_id(wf), "parent-wf");
    cr_assert_str_eq(tw_wf_parent_run_id(wf), "parent-run");
    cr_assert_str_eq(tw_wf_parent_namespace(wf), "parent-ns");
    cr_assert_str_eq(tw_wf_continued_run_id(wf), "prev-run");
    cr_assert_str_eq(tw_wf_cron_schedule(wf), "0 * * * *");
    cr_assert_eq(tw_payloads_count(tw_wf_memo(wf)), 1);
    cr_assert_str_eq(tw_payloads_name(tw_wf_memo(wf), 0), "owner");
    cr_assert_str_eq(json_list(tw_wf_memo(wf)), "[\"ops\"]");
    cr_assert_str_eq(tw_payloads_name(tw_wf_search_attributes(wf), 0), "CustomKeywordField");
    cr_assert_str_eq(json_list(tw_wf_search_attributes(wf)), "[\"blue\"]");
    cr_assert_str_eq(json_list(tw_wf_last_completion_result(wf)), "[42]");
    cr_assert_not(tw_wf_is_replaying(wf));
}

Test(runtime, info_defaults)
{
    begin(just_started(), 3);
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    tw_wf_instance *wf = F.wf;
    cr_assert_str_eq(tw_wf_parent_workflow_id(wf), "");
    cr_assert_str_eq(tw_wf_parent_namespace(wf), "");
    cr_assert_str_eq(tw_wf_cron_schedule(wf), "");
    cr_assert_eq(tw_wf_execution_timeout_ms(wf), 0);
    cr_assert_eq(tw_payloads_count(tw_wf_memo(wf)), 0);
    cr_assert_null(tw_wf_last_completion_result(wf));
    cr_assert_eq(tw_wf_attempt(wf), 1);
}

static void start_draws_random(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    for (int i = 0; i < 4; i++)
        F.rnd[F.nrnd++] = tw_wf_random(wf);
}

/* Runs a fresh instance over a fresh run of h's first task; the instance draws 4 values into F.rnd. */
static void draw_from(const pb_history *h, const char *run_id)
{
    tw_run *run;
    cr_assert_eq(tw_run_new(run_id, &run), 0);
    cr_assert_eq(tw_run_append(run, page_of(h, 1, 3)), 0);
    tw_wf_instance *wf = instance_new();
    tw_activation *a = next_activation(run, true);
    tw_completion *c = activate(wf, a);
    cr_assert_eq(F.now_seen, tw_activation_timestamp(a));
    tw_activation_free(a);
    tw_run_output out;
    complete_ok(run, c, &out);
    tw_run_output_clear(&out);
    tw_wf_instance_free(wf);
    tw_run_free(run);
}

Test(runtime, random_is_deterministic_per_run)
{
    pb_history *h = just_started();
    F.full = h;
    F.on_start = start_draws_random;
    draw_from(h, RUN_ID);
    draw_from(h, RUN_ID);
    cr_assert_eq(F.nrnd, 8);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(F.rnd[i], F.rnd[4 + i], "value %d differs between two replays of the same history", i);
    cr_assert_neq(F.rnd[0], F.rnd[1]);
    cr_assert_neq(F.rnd[1], F.rnd[2]);

    /* Another run (the seed comes from the run id here): another sequence. */
    draw_from(h, "run-2");
    cr_assert_neq(F.rnd[8], F.rnd[0]);
    cr_assert_neq(F.rnd[9], F.rnd[1]);
}

Test(runtime, now_is_the_activation_timestamp)
{
    pb_history *h = second_task_with_signal("tick", NULL);
    begin(h, 3);
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    cr_assert_eq(F.now_seen, time_of(3));
    cr_assert_eq(tw_wf_now(F.wf), time_of(3));
    more(4, (int64_t)h->n_events);
    step(true, &out);
    tw_run_output_clear(&out);
    cr_assert_eq(F.timestamp, time_of(7));
    cr_assert_eq(tw_wf_now(F.wf), F.timestamp);
}

/* ================================================================== */
/* Eviction                                                             */

Test(runtime, eviction_calls_evict_and_answers_empty)
{
    begin(just_started(), 3);
    F.on_start = start_timer_1;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);

    step_outside_run(tw_activation_new_eviction(RUN_ID, TW_EVICTION_CACHE_FULL, "cache is full"), &out);
    cr_assert_str_eq(F.log, "evict(1,cache is full)", "no drain for an eviction");
    cr_assert_eq(out.command_count, 0);
    cr_assert_eq(out.query_count, 0);
    cr_assert_null(out.task_failure);
    tw_run_output_clear(&out);
}

/* ================================================================== */
/* Replay                                                               */

enum { TAG_DELAY = 1, TAG_GREET = 2 };

/* The workflow: a 1 s timer, then activity greet, then complete with its result. */
static void replay_start(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = timer(wf, NULL, 1000, TAG_DELAY);
}

static void replay_resolved(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    cr_assert_eq(resolution, TW_RESOLUTION_COMPLETED);
    if (tag == TAG_DELAY) {
        tw_activity_options o = greet_options(TW_ACTIVITY_CANCEL_TRY);
        cr_assert_eq(tw_wf_start_activity(wf, NULL, &o, TAG_GREET, &F.op[1]), 0);
    } else {
        cr_assert_eq(F.result_count, 1);
        cr_assert_eq(tw_wf_complete(wf, NULL), 0);
    }
}

/* The changed workflow: the activity first, no timer. */
static void changed_start(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_activity_options o = greet_options(TW_ACTIVITY_CANCEL_TRY);
    cr_assert_eq(tw_wf_start_activity(wf, NULL, &o, TAG_GREET, &F.op[1]), 0);
}

/*
 * What the workflow recorded: 1 started, 2-4 WFT, 5 timer "1", 6 fired,
 * 7-9 WFT, 10 scheduled "1" greet, 11 started, 12 completed, 13-15 WFT,
 * 16 workflow completed.
 */
static pb_history *recorded_history(void)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t t = timer_started(h, "1", c1);
    timer_fired(h, "1", t);
    int64_t c2 = wft(h, true);
    int64_t s = act_scheduled(h, "1", "greet", c2);
    int64_t st = act_started(h, s);
    act_completed(h, s, st, "\"Hello, Ada\"");
    int64_t c3 = wft(h, true);
    wf_completed(h, c3);
    return h;
}

Test(runtime, replay_of_a_recorded_history_is_deterministic)
{
    pb_history *h = recorded_history();
    begin(h, (int64_t)h->n_events);
    F.on_start = replay_start;
    F.on_resolved = replay_resolved;
    tw_run_output out;
    step(false, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain");
    cr_assert(F.replaying_seen);
    cr_assert(tw_wf_is_replaying(F.wf));
    cr_assert_eq(out.command_count, 0, "a replayed task sends nothing");
    tw_run_output_clear(&out);
    step(false, &out);
    cr_assert_str_eq(F.log, "resolved(1,COMPLETED) drain");
    tw_run_output_clear(&out);
    step(false, &out);
    cr_assert_str_eq(F.log, "resolved(2,COMPLETED) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert(tw_wf_is_done(F.wf));
    cr_assert_not(tw_run_has_next_activation(F.run));
}

Test(runtime, replay_with_changed_code_is_non_deterministic)
{
    pb_history *h = recorded_history();
    begin(h, (int64_t)h->n_events);
    F.on_start = changed_start;
    tw_activation *a = next_activation(F.run, false);
    tw_completion *c = activate(F.wf, a);
    tw_activation_free(a);
    tw_run_output out;
    tw_error *err = NULL;
    cr_assert_eq(tw_run_complete(F.run, c, &out, &err), TW_EPROTO);
    cr_assert_not_null(err);
    cr_assert_str_eq(tw_error_message(err), "non-deterministic: history event 5 is TimerStarted (timer_id \"1\") but "
                                            "the workflow produced ScheduleActivityTask (activity_id \"1\", type "
                                            "\"greet\")");
    tw_error_destroy(err);
    cr_assert_eq(out.command_count, 0);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

/*
 * The CCleanup workflow of examples/c/scopes_workflow.c: a 1-hour timer
 * (tag 2) in a scope (1) with a 300 ms timeout, a 1-hour wait (tag 3) in
 * root; on cancellation a 200 ms cleanup timer (tag 4) in a detached scope
 * (2), and the workflow reports itself cancelled once it fired.
 */
static void cleanup_start(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[TIMED] = scope(wf, NULL, 0, 300, 1);
    timer(wf, F.scope[TIMED], 3600 * 1000, 2);
    timer(wf, NULL, 3600 * 1000, 3);
}

static void cleanup_cancel_requested(tw_wf_instance *wf)
{
    F.scope[DETACHED] = scope(wf, NULL, 1, 0, 2);
    timer(wf, F.scope[DETACHED], 200, 4);
}

static void cleanup_resolved(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    (void)wf;
    if (tag == 4 && resolution == TW_RESOLUTION_COMPLETED)
        F.cleanup_done = 1;
}

static void cleanup_drain(tw_wf_instance *wf)
{
    if (F.cleanup_done && !tw_wf_is_done(wf))
        cr_assert_eq(tw_wf_cancel(wf, NULL), 0);
}

Test(runtime, replay_of_the_scopes_example_history)
{
    /*
     * 1 started, 2-4 WFT: timers 1 (timeout), 2, 3 at 5-7; 8 timer 1 fired;
     * 9-11 WFT: 12 timer 2 canceled; 13 cancel requested; 14-16 WFT: 17
     * timer 4 started, 18 timer 3 canceled; 19 timer 4 fired; 20-22 WFT:
     * 23 workflow canceled.
     */
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    int64_t t1 = timer_started(h, "1", c1);
    int64_t t2 = timer_started(h, "2", c1);
    int64_t t3 = timer_started(h, "3", c1);
    timer_fired(h, "1", t1);
    int64_t c2 = wft(h, true);
    timer_canceled(h, "2", t2, c2);
    cancel_requested(h, "stop");
    int64_t c3 = wft(h, true);
    int64_t t4 = timer_started(h, "4", c3);
    timer_canceled(h, "3", t3, c3);
    timer_fired(h, "4", t4);
    int64_t c4 = wft(h, true);
    wf_canceled(h, c4);
    begin(h, (int64_t)h->n_events);
    F.on_start = cleanup_start;
    F.on_cancel_requested = cleanup_cancel_requested;
    F.on_resolved = cleanup_resolved;
    F.on_drain = cleanup_drain;

    static const char *const expected[] = {
        "start(greeter,[]) drain",
        "drain scope_cancelled(1) resolved(2,CANCELLED) drain",
        "cancel_requested(stop) drain scope_cancelled(0) resolved(3,CANCELLED) drain",
        "resolved(4,COMPLETED) drain",
    };
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        tw_run_output out;
        step(false, &out);
        cr_assert_str_eq(F.log, expected[i], "workflow task %zu", i + 1);
        cr_assert_eq(out.command_count, 0);
        tw_run_output_clear(&out);
    }
    cr_assert(tw_wf_is_done(F.wf));
    cr_assert_not(tw_run_has_next_activation(F.run));
}

/* ================================================================== */
/* Search attribute upserts and memo modifications                      */

static void upsert_on_start(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_payloads *sa = named_json("CustomKeywordField", "\"blue\"");
    tw_payloads *memo = named_json("owner", "\"ops\"");
    cr_assert_eq(tw_wf_upsert_search_attributes(wf, sa), 0, "%s", tw_error_message(tw_error_last()));
    cr_assert_eq(tw_wf_modify_memo(wf, memo), 0, "%s", tw_error_message(tw_error_last()));
    tw_payloads_free(sa);
    tw_payloads_free(memo);
    memo = named_json("owner", "\"dev\"");
    cr_assert_eq(tw_wf_modify_memo(wf, memo), 0, "%s", tw_error_message(tw_error_last()));
    tw_payloads_free(memo);
}

Test(runtime, upserts_update_info_and_send_commands)
{
    begin(just_started(), 3);
    F.on_start = upsert_on_start;
    tw_run_output out;
    step(true, &out);
    cr_assert_eq(out.command_count, 3);
    cr_assert_eq(out.commands[0]->command_type, CMD(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES));
    cr_assert_eq(out.commands[1]->command_type, CMD(MODIFY_WORKFLOW_PROPERTIES));
    cr_assert_eq(out.commands[2]->command_type, CMD(MODIFY_WORKFLOW_PROPERTIES));
    tw_run_output_clear(&out);
    tw_wf_instance *wf = F.wf;
    cr_assert_eq(tw_payloads_count(tw_wf_search_attributes(wf)), 1);
    cr_assert_str_eq(tw_payloads_name(tw_wf_search_attributes(wf), 0), "CustomKeywordField");
    cr_assert_str_eq(json_list(tw_wf_search_attributes(wf)), "[\"blue\"]");
    cr_assert_eq(tw_payloads_count(tw_wf_memo(wf)), 1, "a key upserted again is replaced");
    cr_assert_str_eq(tw_payloads_name(tw_wf_memo(wf), 0), "owner");
    cr_assert_str_eq(json_list(tw_wf_memo(wf)), "[\"dev\"]");
}

Test(runtime, upserts_need_an_activation)
{
    F.wf = instance_new();
    tw_payloads *sa = named_json("CustomKeywordField", "\"blue\"");
    cr_assert_eq(tw_wf_upsert_search_attributes(F.wf, sa), TW_EINVAL);
    cr_assert_eq(tw_wf_modify_memo(F.wf, sa), TW_EINVAL);
    tw_payloads_free(sa);
}
