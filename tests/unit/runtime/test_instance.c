/*
 * lib/runtime: tw_wf_instance driven by a real tw_run. Synthetic histories
 * (../history_builders.h) become activations through tw_run, the instance
 * runs them through the callbacks below, and its completions go back
 * through tw_run_complete, so the commands checked are the engine's own:
 * the start callback, timers, activities and their cancellation types, the
 * scope tree and scope timeouts, workflow cancellation, buffered signals,
 * read-only queries, terminal commands, task failures, misuse outside
 * activate, info, deterministic random and time, eviction, replay of
 * recorded histories (matching and non-deterministic), child workflows
 * (start, child_started, outcomes, each cancellation type, scopes),
 * signals and cancellation requests to other workflows, patches, and local
 * activities whose retries wait on a backoff timer.
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
    char failure_message[256];
    int cause_kind;    /* of that failure's cause (-1: none) */
    char cause_message[256];
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
    snprintf(F.failure_message, sizeof(F.failure_message), "%s", failure ? tw_failure_message(failure) : "");
    const tw_failure *cause = failure ? tw_failure_cause(failure) : NULL;
    F.cause_kind = cause ? tw_failure_kind_of(cause) : -1;
    snprintf(F.cause_message, sizeof(F.cause_message), "%s", cause ? tw_failure_message(cause) : "");
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

static void cb_child_started(tw_wf_instance *wf, tw_op *op, uint64_t tag, const char *run_id, void *ud)
{
    (void)wf, (void)ud;
    cr_assert_eq(tw_op_tag(op), tag);
    cr_assert_eq(tw_op_kind_of(op), TW_OP_CHILD_WORKFLOW);
    cr_assert_str_eq(tw_op_child_run_id(op), run_id);
    cr_assert_not(tw_op_is_resolved(op), "a started child resolves later");
    note("child_started(%llu,%s)", (unsigned long long)tag, run_id);
}

static const tw_wf_callbacks callbacks = {
    .size = sizeof(tw_wf_callbacks), .start = cb_start, .signal = cb_signal, .query = cb_query,
    .cancel_requested = cb_cancel_requested, .resolved = cb_resolved, .scope_cancelled = cb_scope_cancelled,
    .drain = cb_drain, .evict = cb_evict, .child_started = cb_child_started,
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
    F.cause_kind = -1;
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

/*
 * A core_patch marker's patch as "p1" or "p1,deprecated" (its details are
 * {"patch-data": {"id":"p1","deprecated":false}}); the raw data otherwise.
 */
static void patch_of(const Temporal__Api__Command__V1__RecordMarkerCommandAttributes *m, char *buf, size_t size)
{
    static const char head[] = "{\"id\":\"", tail_no[] = "\",\"deprecated\":false}",
                      tail_yes[] = "\",\"deprecated\":true}";
    cr_assert_eq(m->n_details, 1);
    cr_assert_str_eq(m->details[0]->key, "patch-data");
    cr_assert_eq(m->details[0]->value->n_payloads, 1);
    const ProtobufCBinaryData *d = &m->details[0]->value->payloads[0]->data;
    char data[256];
    snprintf(data, sizeof(data), "%.*s", (int)d->len, (const char *)d->data);
    size_t n = strlen(data), h = strlen(head);
    bool yes = n > strlen(tail_yes) && strcmp(data + n - strlen(tail_yes), tail_yes) == 0;
    bool no = n > strlen(tail_no) && strcmp(data + n - strlen(tail_no), tail_no) == 0;
    if (strncmp(data, head, h) != 0 || (!yes && !no)) {
        snprintf(buf, size, "%s", data);
        return;
    }
    size_t id_len = n - h - (yes ? strlen(tail_yes) : strlen(tail_no));
    snprintf(buf, size, "%.*s%s", (int)id_len, data + h, yes ? ",deprecated" : "");
}

/*
 * A core_local_activity marker as "seq,attempt" plus ",backoff=Nms" when its
 * data records a backoff, ",failed" when it carries a failure, and
 * ",scheduled=S" (the seconds of original_schedule_time).
 */
static void la_marker_of(const Temporal__Api__Command__V1__RecordMarkerCommandAttributes *m, char *buf, size_t size)
{
    const ProtobufCBinaryData *d = NULL;
    for (size_t i = 0; i < m->n_details; i++)
        if (strcmp(m->details[i]->key, "data") == 0)
            d = &m->details[i]->value->payloads[0]->data;
    cr_assert_not_null(d);
    char data[512];
    snprintf(data, sizeof(data), "%.*s", (int)d->len, (const char *)d->data);
    unsigned seq = 0;
    int attempt = 0;
    cr_assert_eq(sscanf(data, "{\"seq\":%u,\"attempt\":%d", &seq, &attempt), 2, "%s", data);
    long long secs = 0, nanos = 0, scheduled = 0;
    const char *b = strstr(data, "\"backoff\":");
    bool backoff = b && sscanf(b, "\"backoff\":{\"seconds\":%lld,\"nanos\":%lld}", &secs, &nanos) == 2;
    const char *o = strstr(data, "\"original_schedule_time\":");
    cr_assert(o && sscanf(o, "\"original_schedule_time\":{\"seconds\":%lld", &scheduled) == 1, "%s", data);
    size_t n = (size_t)snprintf(buf, size, "%u,%d", seq, attempt);
    if (backoff)
        n += (size_t)snprintf(buf + n, size - n, ",backoff=%lldms", secs * 1000 + nanos / 1000000);
    if (m->failure)
        n += (size_t)snprintf(buf + n, size - n, ",failed");
    snprintf(buf + n, size - n, ",scheduled=T0+%lld", scheduled - T0);
}

/* The commands of out, in order, as "StartTimer(1,1500ms) CancelTimer(1) ..." (a static buffer). */
static const char *commands(const tw_run_output *out)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < out->command_count; i++) {
        const tw_pb_command *c = out->commands[i];
        char one[400];
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
        case CMD(START_CHILD_WORKFLOW_EXECUTION):
            snprintf(one, sizeof(one), "StartChild(%s,%s)",
                     c->start_child_workflow_execution_command_attributes->workflow_id,
                     c->start_child_workflow_execution_command_attributes->workflow_type->name);
            break;
        case CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION): {
            const Temporal__Api__Command__V1__RequestCancelExternalWorkflowExecutionCommandAttributes *r =
                c->request_cancel_external_workflow_execution_command_attributes;
            snprintf(one, sizeof(one), "RequestCancelExternal(%s,%s%s)", r->workflow_id, r->run_id,
                     r->child_workflow_only ? ",child" : "");
            break;
        }
        case CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION):
            snprintf(one, sizeof(one), "SignalExternal(%s,%s)",
                     c->signal_external_workflow_execution_command_attributes->execution->workflow_id,
                     c->signal_external_workflow_execution_command_attributes->signal_name);
            break;
        case CMD(RECORD_MARKER): {
            char what[300];
            if (strcmp(c->record_marker_command_attributes->marker_name, "core_local_activity") == 0) {
                la_marker_of(c->record_marker_command_attributes, what, sizeof(what));
                snprintf(one, sizeof(one), "LAMarker(%s)", what);
                break;
            }
            cr_assert_str_eq(c->record_marker_command_attributes->marker_name, "core_patch");
            patch_of(c->record_marker_command_attributes, what, sizeof(what));
            snprintf(one, sizeof(one), "PatchMarker(%s)", what);
            break;
        }
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

/* ================================================================== */
/* Child workflows                                                      */

static tw_child_workflow_options kid_options(const char *workflow_id, int cancellation_type)
{
    tw_child_workflow_options o;
    tw_child_workflow_options_init(&o);
    o.workflow_id = workflow_id;
    o.workflow_type = "kid";
    o.cancellation_type = cancellation_type;
    return o;
}

/* Starts child workflow_id of type "kid" (expected to succeed) and returns its op. */
static tw_op *child(tw_wf_instance *wf, tw_scope *scope, const char *workflow_id, int cancellation_type, uint64_t tag)
{
    tw_child_workflow_options o = kid_options(workflow_id, cancellation_type);
    tw_op *op = NULL;
    int rc = tw_wf_start_child_workflow(wf, scope, &o, tag, &op);
    cr_assert_eq(rc, 0, "start_child_workflow: %s", tw_error_message(tw_error_last()));
    cr_assert_not_null(op);
    cr_assert_eq(tw_op_kind_of(op), TW_OP_CHILD_WORKFLOW);
    cr_assert_eq(tw_op_tag(op), tag);
    return op;
}

/* Child "child-1" (tag 3) in root, cancelled as F.cancellation_type says. */
static void start_child_1(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = child(wf, NULL, "child-1", F.cancellation_type, 3);
    cr_assert_str_eq(tw_op_child_run_id(F.op[0]), "", "no run id before it started");
    cr_assert_eq(tw_op_start_failed_cause(F.op[0]), 0);
    cr_assert_not(tw_op_is_resolved(F.op[0]));
}

/* The child "child-1" of type "kid" initiated by the task completed at `completed`, then started as "child-run". */
static void child_1_started(pb_history *h, int64_t completed)
{
    int64_t i = child_initiated(h, "child-1", "kid", completed);
    child_started(h, "child-1", "child-run", i);
}

/* The JSON of pb payloads as "[a,b]" (a static buffer). */
static const char *pb_json_list(const Temporal__Api__Common__V1__Payloads *p)
{
    static char buf[256];
    size_t n = 0;
    buf[n++] = '[';
    for (size_t i = 0; p && i < p->n_payloads; i++) {
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%.*s", i ? "," : "", (int)p->payloads[i]->data.len,
                              (const char *)p->payloads[i]->data.data);
        cr_assert_lt(n, sizeof(buf) - 2);
    }
    buf[n++] = ']';
    buf[n] = '\0';
    return buf;
}

static void start_children_with_options(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_child_workflow_options o = kid_options("child-1", TW_CHILD_CANCEL_WAIT_COMPLETED);
    tw_payloads *input = json("\"hi\"");
    cr_assert_eq(tw_payloads_add_json(input, "2", NULL), 0);
    o.args = input;
    o.run_timeout_ms = 30000;
    o.parent_close_policy = TW_PARENT_CLOSE_ABANDON;
    cr_assert_eq(tw_wf_start_child_workflow(wf, NULL, &o, 1, &F.op[0]), 0, "%s", tw_error_message(tw_error_last()));
    tw_payloads_free(input);
    o = kid_options("child-2", TW_CHILD_CANCEL_TRY);
    o.workflow_type = "other-kid";
    o.task_queue = "other-tq";
    o.namespace_ = ""; /* empty is as good as NULL */
    cr_assert_eq(tw_wf_start_child_workflow(wf, NULL, &o, 2, &F.op[1]), 0, "%s", tw_error_message(tw_error_last()));
}

Test(runtime, child_start_command_carries_the_options)
{
    begin(just_started(), 3);
    F.on_start = start_children_with_options;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain");
    cr_assert_str_eq(commands(&out), "StartChild(child-1,kid) StartChild(child-2,other-kid)");
    const Temporal__Api__Command__V1__StartChildWorkflowExecutionCommandAttributes *s =
        out.commands[0]->start_child_workflow_execution_command_attributes;
    cr_assert_str_eq(s->namespace_, "", "children run in the parent's namespace");
    cr_assert_str_eq(s->workflow_id, "child-1");
    cr_assert_str_eq(s->workflow_type->name, "kid");
    cr_assert_str_eq(s->task_queue->name, "tq", "the parent's task queue by default");
    cr_assert_str_eq(pb_json_list(s->input), "[\"hi\",2]");
    cr_assert_eq(s->workflow_run_timeout->seconds, 30);
    cr_assert_eq(s->parent_close_policy, TEMPORAL__API__ENUMS__V1__PARENT_CLOSE_POLICY__PARENT_CLOSE_POLICY_ABANDON);
    s = out.commands[1]->start_child_workflow_execution_command_attributes;
    cr_assert_str_eq(s->namespace_, "");
    cr_assert_str_eq(s->task_queue->name, "other-tq");
    cr_assert_str_eq(pb_json_list(s->input), "[]");
    tw_run_output_clear(&out);
    cr_assert_not(tw_op_is_resolved(F.op[0]));
    cr_assert_not(tw_op_is_resolved(F.op[1]));
    cr_assert_not(tw_run_has_next_activation(F.run));
}

Test(runtime, child_started_then_completed_with_its_result)
{
    /* 4 completed, 5 initiated, 6 started, 7-8 WFT, 9 completed, 10 child completed, 11-12 WFT. */
    pb_history *h = just_started();
    child_1_started(h, wft_completed(h));
    wft(h, false);
    wft_completed(h);
    child_completed(h, 5, 6, "\"child result\"");
    wft(h, false);
    begin(h, 3);
    F.cancellation_type = TW_CHILD_CANCEL_WAIT_COMPLETED;
    F.on_start = start_child_1;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartChild(child-1,kid)");
    tw_run_output_clear(&out);

    more(4, 8);
    step(true, &out);
    cr_assert_str_eq(F.log, "child_started(3,child-run) drain");
    cr_assert_str_eq(tw_op_child_run_id(F.op[0]), "child-run");
    cr_assert_not(tw_op_is_resolved(F.op[0]));
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    more(9, 12);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(3,COMPLETED) drain");
    cr_assert_str_eq(F.result_json, "[\"child result\"]");
    cr_assert_eq(F.failure_kind, -1);
    cr_assert(tw_op_is_resolved(F.op[0]));
    cr_assert_str_eq(tw_op_child_run_id(F.op[0]), "child-run", "the run id stays");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

Test(runtime, child_start_failed_resolves_failed_with_its_cause)
{
    /* 4 completed, 5 initiated, 6 start failed (already exists), 7-8 WFT. */
    pb_history *h = just_started();
    int64_t i = child_initiated(h, "child-1", "kid", wft_completed(h));
    child_start_failed(h, "child-1", i, TW_START_FAILED_WORKFLOW_ALREADY_EXISTS);
    wft(h, false);
    begin(h, 3);
    F.on_start = start_child_1;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);

    more(4, 8);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(3,FAILED) drain", "no child_started for a child that did not start");
    cr_assert_eq(tw_op_start_failed_cause(F.op[0]), TW_START_FAILED_WORKFLOW_ALREADY_EXISTS);
    cr_assert_str_eq(tw_op_child_run_id(F.op[0]), "");
    cr_assert_eq(F.failure_kind, TW_FAILURE_APPLICATION);
    cr_assert(strstr(F.failure_message, "already exists") != NULL, "message: %s", F.failure_message);
    cr_assert(tw_op_is_resolved(F.op[0]));
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

Test(runtime, child_failure_is_a_child_workflow_failure_caused_by_the_childs)
{
    /* 4 completed, 5 initiated, 6 started, 7 child failed, 8-9 WFT. */
    pb_history *h = just_started();
    child_1_started(h, wft_completed(h));
    child_failed(h, 5, 6);
    wft(h, false);
    begin(h, 3);
    F.on_start = start_child_1;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);

    more(4, 9);
    step(true, &out);
    cr_assert_str_eq(F.log, "child_started(3,child-run) resolved(3,FAILED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_str_eq(F.failure_message, "Child Workflow execution failed");
    cr_assert_eq(F.cause_kind, TW_FAILURE_APPLICATION);
    cr_assert_str_eq(F.cause_message, "child broke");
    cr_assert_eq(tw_op_start_failed_cause(F.op[0]), 0, "it did start");
    cr_assert_str_eq(F.result_json, "");
    tw_run_output_clear(&out);
}

/*
 * 1-3 live start of child-1 (F.cancellation_type), 4 completed, 5
 * initiated, 6 started, 7-8 WFT (child_started), 9 completed, 10 signal
 * "cancel", 11-12 WFT: the signal cancels the child with tw_op_cancel.
 * Runs up to the completion of that task and returns its output.
 */
static void child_cancelled_by_signal(int cancellation_type, tw_run_output *out)
{
    pb_history *h = just_started();
    child_1_started(h, wft_completed(h));
    wft(h, false);
    wft_completed(h);
    signaled(h, "cancel", "{}");
    wft(h, false);
    begin(h, 3);
    F.cancellation_type = cancellation_type;
    F.on_start = start_child_1;
    F.on_signal = signal_cancels_op0;
    step(true, out);
    cr_assert_str_eq(commands(out), "StartChild(child-1,kid)");
    tw_run_output_clear(out);
    more(4, 8);
    step(true, out);
    cr_assert_str_eq(F.log, "child_started(3,child-run) drain");
    tw_run_output_clear(out);
    more(9, 12);
    step(true, out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned drain", "a child does not resolve at once");
    cr_assert_not(tw_op_is_resolved(F.op[0]));
}

/* Expects the cancelled child's resolution: a child-workflow failure caused by a cancellation. */
static void expect_child_cancelled(const char *log)
{
    cr_assert_str_eq(F.log, log);
    cr_assert_eq(F.failure_kind, TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_eq(F.cause_kind, TW_FAILURE_CANCELED);
    cr_assert(tw_op_is_resolved(F.op[0]));
}

/* Appends the server's answer to the child's cancellation request: 13 completed, 14 initiated, 15 recorded, 16-17 WFT. */
static void child_cancel_request_recorded(void)
{
    int64_t c = wft_completed(F.full);
    int64_t r = cancel_external_initiated(F.full, "child-1", "child-run", true, c);
    external_cancel_requested(F.full, r);
    wft(F.full, false);
    more(c, (int64_t)F.full->n_events);
}

/* Late news of an already resolved child: 13 completed, 14 child completed, 15 signal "s", 16-17 WFT. */
static void late_child_news_is_ignored(void)
{
    int64_t c = wft_completed(F.full);
    child_completed(F.full, 5, 6, "1");
    signaled(F.full, "s", "{}");
    wft(F.full, false);
    more(c, (int64_t)F.full->n_events);
    F.on_signal = NULL;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(s,[{}]) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

Test(runtime, child_cancel_abandon_resolves_at_once_and_sends_nothing)
{
    tw_run_output out;
    child_cancelled_by_signal(TW_CHILD_CANCEL_ABANDON, &out);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert(tw_run_has_next_activation(F.run));

    step(true, &out);
    cr_assert_eq(F.timestamp, time_of(12), "the same workflow task");
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_eq(out.command_count, 0, "no cancellation request for an abandoned child");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
    late_child_news_is_ignored();
}

Test(runtime, child_cancel_try_requests_cancellation_and_resolves_at_once)
{
    tw_run_output out;
    child_cancelled_by_signal(TW_CHILD_CANCEL_TRY, &out);
    cr_assert_eq(out.command_count, 0, "commands wait for the task's last completion");
    tw_run_output_clear(&out);
    cr_assert(tw_run_has_next_activation(F.run));

    step(true, &out);
    cr_assert_eq(F.timestamp, time_of(12), "the same workflow task");
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(child-1,child-run,child)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

Test(runtime, child_cancel_wait_requested_resolves_when_the_request_is_recorded)
{
    tw_run_output out;
    child_cancelled_by_signal(TW_CHILD_CANCEL_WAIT_REQUESTED, &out);
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(child-1,child-run,child)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));

    child_cancel_request_recorded();
    step(true, &out);
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

Test(runtime, child_cancel_wait_completed_resolves_when_the_child_closes)
{
    tw_run_output out;
    child_cancelled_by_signal(TW_CHILD_CANCEL_WAIT_COMPLETED, &out);
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(child-1,child-run,child)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));

    /* The request recorded: a task without jobs; the child is still running. */
    child_cancel_request_recorded();
    step(true, &out);
    cr_assert_str_eq(F.log, "drain");
    cr_assert_eq(tw_wf_now(F.wf), F.timestamp, "an activation without jobs moves the workflow time too");
    cr_assert_eq(F.timestamp, time_of(17));
    cr_assert_not(tw_op_is_resolved(F.op[0]));
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    /* 18 completed, 19 child cancelled, 20-21 WFT. */
    int64_t c = wft_completed(F.full);
    child_canceled(F.full, 5, 6, "\"bye\"");
    wft(F.full, false);
    more(c, (int64_t)F.full->n_events);
    step(true, &out);
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_str_eq(F.failure_message, "Child Workflow execution cancelled");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

static void start_child_and_cancel_it(tw_wf_instance *wf, const tw_payloads *args)
{
    start_child_1(wf, args);
    cr_assert_eq(tw_op_cancel(F.op[0]), 0, "%s", tw_error_message(tw_error_last()));
    note("cancel-returned");
}

Test(runtime, child_cancelled_before_its_start_was_sent_sends_nothing)
{
    begin(just_started(), 3);
    F.cancellation_type = TW_CHILD_CANCEL_WAIT_COMPLETED;
    F.on_start = start_child_and_cancel_it;
    F.on_drain = cancel_first_again;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) cancel-returned drain");
    cr_assert_eq(out.command_count, 0, "the start is dropped");
    tw_run_output_clear(&out);
    cr_assert(tw_run_has_next_activation(F.run), "even WAIT_COMPLETED resolves at once when nothing was sent");

    step(true, &out);
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_str_eq(F.failure_message, "Child Workflow Execution cancelled before scheduled");
    cr_assert_eq(tw_op_start_failed_cause(F.op[0]), 0);
    cr_assert_eq(out.command_count, 0, "neither the start nor a cancellation request is sent");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

Test(runtime, child_cancelled_in_the_activation_that_reports_its_start)
{
    /* 4 completed, 5 initiated, 6 started, 7 signal "cancel", 8-9 WFT: signals come before resolutions. */
    pb_history *h = second_task_with_signal("cancel", child_1_started);
    begin(h, 3);
    F.cancellation_type = TW_CHILD_CANCEL_TRY;
    F.on_start = start_child_1;
    F.on_signal = signal_cancels_op0;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    more(4, 9);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned child_started(3,child-run) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    step(true, &out);
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(child-1,child-run,child)", "the run id is known");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

static void child_1_initiated(pb_history *h, int64_t completed)
{
    child_initiated(h, "child-1", "kid", completed);
}

Test(runtime, child_cancel_try_before_it_started_resolves_its_start)
{
    /* 4 completed, 5 initiated (not started yet), 6 signal "cancel", 7-8 WFT. */
    pb_history *h = second_task_with_signal("cancel", child_1_initiated);
    begin(h, 3);
    F.cancellation_type = TW_CHILD_CANCEL_TRY;
    F.on_start = start_child_1;
    F.on_signal = signal_cancels_op0;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    more(4, 8);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned drain");
    tw_run_output_clear(&out);

    step(true, &out);
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_str_eq(tw_op_child_run_id(F.op[0]), "");
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(child-1,,child)", "no run id known yet");
    tw_run_output_clear(&out);

    /* The child starts anyway: no child_started for a resolved op. 9 completed, 10 initiated, 11 started, 12 signal. */
    int64_t c = wft_completed(F.full);
    cancel_external_initiated(F.full, "child-1", "", true, c);
    child_started(F.full, "child-1", "child-run", 5);
    signaled(F.full, "s", "{}");
    wft(F.full, false);
    more(c, (int64_t)F.full->n_events);
    F.on_signal = NULL;
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(s,[{}]) drain");
    tw_run_output_clear(&out);
}

/* Children child-1 (TRY, tag 1) and child-2 (WAIT_COMPLETED, tag 2) in scope 10. */
static void start_children_in_scope(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[PARENT] = scope(wf, NULL, 0, 0, 10);
    F.op[0] = child(wf, F.scope[PARENT], "child-1", TW_CHILD_CANCEL_TRY, 1);
    F.op[1] = child(wf, F.scope[PARENT], "child-2", TW_CHILD_CANCEL_WAIT_COMPLETED, 2);
}

Test(runtime, children_are_cancelled_with_their_scope_as_their_types_say)
{
    /* 4 completed, 5-6 initiated, 7-8 started, 9-10 WFT, 11 completed, 12 signal "cancel", 13-14 WFT. */
    pb_history *h = just_started();
    int64_t c1 = wft_completed(h);
    int64_t i1 = child_initiated(h, "child-1", "kid", c1);
    int64_t i2 = child_initiated(h, "child-2", "kid", c1);
    child_started(h, "child-1", "run-1", i1);
    int64_t s2 = child_started(h, "child-2", "run-2", i2);
    wft(h, false);
    wft_completed(h);
    signaled(h, "cancel", "{}");
    wft(h, false);
    begin(h, 3);
    F.on_start = start_children_in_scope;
    F.on_signal = signal_cancels_parent;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartChild(child-1,kid) StartChild(child-2,kid)");
    tw_run_output_clear(&out);
    more(4, 10);
    step(true, &out);
    cr_assert_str_eq(F.log, "child_started(1,run-1) child_started(2,run-2) drain");
    tw_run_output_clear(&out);

    more(11, 14);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned drain scope_cancelled(10) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(1,CANCELLED) drain", "TRY at once, WAIT_COMPLETED later");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_str_eq(commands(&out),
                     "RequestCancelExternal(child-2,run-2,child) RequestCancelExternal(child-1,run-1,child)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_op_is_resolved(F.op[1]));
    cr_assert_not(tw_run_has_next_activation(F.run));

    /* 15 completed, 16-17 requests initiated, 18-19 recorded, 20 child-2 cancelled, 21-22 WFT. */
    int64_t c3 = wft_completed(h);
    int64_t r2 = cancel_external_initiated(h, "child-2", "run-2", true, c3);
    int64_t r1 = cancel_external_initiated(h, "child-1", "run-1", true, c3);
    external_cancel_requested(h, r2);
    external_cancel_requested(h, r1);
    child_canceled(h, i2, s2, NULL);
    wft(h, false);
    more(c3, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(2,CANCELLED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_eq(F.cause_kind, TW_FAILURE_CANCELED);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

static void cancel_on_resolution(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    (void)tag;
    cr_assert_eq(resolution, TW_RESOLUTION_CANCELLED);
    cr_assert_eq(tw_wf_cancel(wf, NULL), 0);
}

Test(runtime, workflow_cancellation_cancels_children_of_the_root_scope)
{
    /* 4 completed, 5 initiated, 6 started, 7-8 WFT, 9 completed, 10 cancel requested, 11-12 WFT. */
    pb_history *h = just_started();
    child_1_started(h, wft_completed(h));
    wft(h, false);
    wft_completed(h);
    cancel_requested(h, "stop");
    wft(h, false);
    begin(h, 3);
    F.cancellation_type = TW_CHILD_CANCEL_WAIT_COMPLETED;
    F.on_start = start_child_1;
    F.on_resolved = cancel_on_resolution;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    more(4, 8);
    step(true, &out);
    tw_run_output_clear(&out);

    more(9, 12);
    step(true, &out);
    cr_assert_str_eq(F.log, "cancel_requested(stop) drain scope_cancelled(0) drain");
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(child-1,child-run,child)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_op_is_resolved(F.op[0]));

    /* 13 completed, 14 initiated, 15 recorded, 16 child cancelled, 17-18 WFT. */
    int64_t c3 = wft_completed(h);
    int64_t r = cancel_external_initiated(h, "child-1", "child-run", true, c3);
    external_cancel_requested(h, r);
    child_canceled(h, 5, 6, NULL);
    wft(h, false);
    more(c3, (int64_t)h->n_events);
    step(true, &out);
    expect_child_cancelled("resolved(3,CANCELLED) drain");
    cr_assert_str_eq(commands(&out), "CancelWorkflow");
    cr_assert(out.terminal);
    tw_run_output_clear(&out);
}

/* Scope 10 cancelled, then a child (tag 1), a signal (tag 2) and a cancellation request (tag 3) in it. */
static void start_ops_in_cancelled_scope(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[PARENT] = scope(wf, NULL, 0, 0, 10);
    cr_assert_eq(tw_scope_cancel(F.scope[PARENT]), 0);
    F.op[0] = child(wf, F.scope[PARENT], "child-1", TW_CHILD_CANCEL_WAIT_COMPLETED, 1);
    tw_signal_external_options s;
    tw_signal_external_options_init(&s);
    s.workflow_id = "other";
    s.signal_name = "ping";
    cr_assert_eq(tw_wf_signal_external(wf, F.scope[PARENT], &s, 2, &F.op[1]), 0);
    cr_assert_eq(tw_wf_cancel_external(wf, F.scope[PARENT], "other", NULL, 3, &F.op[2]), 0);
    for (int i = 0; i < 3; i++)
        cr_assert_not_null(F.op[i]);
    note("started");
}

static void note_failure(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    (void)wf, (void)tag, (void)resolution;
    note("<%s>", F.failure_message);
}

Test(runtime, ops_started_in_a_cancelled_scope_resolve_cancelled_without_commands)
{
    begin(just_started(), 3);
    F.on_start = start_ops_in_cancelled_scope;
    F.on_resolved = note_failure;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) started drain scope_cancelled(10) "
                            "resolved(1,CANCELLED) <Child workflow cancelled before it was started> "
                            "resolved(2,CANCELLED) <Signal cancelled before it was sent> "
                            "resolved(3,CANCELLED) <Cancellation request cancelled before it was sent> drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CANCELED);
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run), "the runtime resolved them; the engine knows nothing of them");
    cr_assert(tw_op_is_resolved(F.op[0]));
    cr_assert_eq(tw_op_start_failed_cause(F.op[0]), 0);
}

static void start_children_badly(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_op *op = NULL;
    tw_child_workflow_options o = kid_options("child-1", TW_CHILD_CANCEL_WAIT_COMPLETED);
    o.namespace_ = "other-ns";
    expect_einval(tw_wf_start_child_workflow(wf, NULL, &o, 1, &op),
                  "tw_wf_start_child_workflow: options->namespace_ must be NULL: a child runs in its parent's "
                  "namespace");
    cr_assert_null(op);
    expect_einval(tw_wf_start_child_workflow(wf, NULL, NULL, 1, &op), "options");
    o = kid_options(NULL, TW_CHILD_CANCEL_WAIT_COMPLETED);
    expect_einval(tw_wf_start_child_workflow(wf, NULL, &o, 1, &op), "workflow_id");
    o = kid_options("child-1", 9);
    expect_einval(tw_wf_start_child_workflow(wf, NULL, &o, 1, &op), "tw_child_cancellation_type");
    cr_assert_null(op);
    expect_einval(tw_wf_start_child_workflow(wf, F.scope[DETACHED], &o, 1, &op), "scope belongs to another instance");
    F.op[0] = child(wf, NULL, "child-1", TW_CHILD_CANCEL_WAIT_COMPLETED, 1);
}

Test(runtime, child_with_a_namespace_or_bad_options_is_einval)
{
    tw_wf_instance *other = instance_new();
    F.scope[DETACHED] = tw_wf_root_scope(other);
    begin(just_started(), 3);
    F.on_start = start_children_badly;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "StartChild(child-1,kid)", "only the good one");
    tw_run_output_clear(&out);
    tw_wf_instance_free(other);
}

/* ================================================================== */
/* Signals to other workflows                                           */

static tw_signal_external_options ping_options(int child_workflow_only)
{
    tw_signal_external_options o;
    tw_signal_external_options_init(&o);
    o.workflow_id = "other";
    o.signal_name = "ping";
    o.child_workflow_only = child_workflow_only;
    return o;
}

/* Signal "ping" to "other" (tag 4, child only) and, when F.cancellation_type is 1, a second one (tag 5). */
static void start_signal(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_signal_external_options o = ping_options(1);
    tw_payloads *input = json("42");
    o.args = input;
    cr_assert_eq(tw_wf_signal_external(wf, NULL, &o, 4, &F.op[0]), 0, "%s", tw_error_message(tw_error_last()));
    tw_payloads_free(input);
    cr_assert_eq(tw_op_kind_of(F.op[0]), TW_OP_SIGNAL_EXTERNAL);
    cr_assert_str_eq(tw_op_child_run_id(F.op[0]), "", "not a child");
    cr_assert_eq(tw_op_start_failed_cause(F.op[0]), 0);
    if (F.cancellation_type == 1) {
        o = ping_options(0);
        o.run_id = "other-run";
        cr_assert_eq(tw_wf_signal_external(wf, NULL, &o, 5, &F.op[1]), 0, "%s", tw_error_message(tw_error_last()));
    }
}

static void two_signals_delivered(pb_history *h, int64_t completed)
{
    int64_t i1 = signal_initiated(h, "other", "ping", completed);
    int64_t i2 = signal_initiated(h, "other", "ping", completed);
    external_signaled(h, i1);
    external_signaled(h, i2);
}

Test(runtime, signal_external_command_and_delivery)
{
    /* 4 completed, 5-6 initiated, 7-8 signaled, 9 signal "s", 10-11 WFT. */
    pb_history *h = second_task_with_signal("s", two_signals_delivered);
    begin(h, 3);
    F.cancellation_type = 1;
    F.on_start = start_signal;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain");
    cr_assert_str_eq(commands(&out), "SignalExternal(other,ping) SignalExternal(other,ping)");
    const Temporal__Api__Command__V1__SignalExternalWorkflowExecutionCommandAttributes *s =
        out.commands[0]->signal_external_workflow_execution_command_attributes;
    cr_assert(s->child_workflow_only, "the flag reaches the command");
    cr_assert_str_eq(s->namespace_, "");
    cr_assert_str_eq(s->execution->run_id, "");
    cr_assert_str_eq(pb_json_list(s->input), "[42]");
    s = out.commands[1]->signal_external_workflow_execution_command_attributes;
    cr_assert_not(s->child_workflow_only);
    cr_assert_str_eq(s->execution->run_id, "other-run");
    tw_run_output_clear(&out);

    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(s,[{}]) resolved(4,COMPLETED) resolved(5,COMPLETED) drain");
    cr_assert_eq(F.failure_kind, -1);
    cr_assert_eq(F.result_count, 0);
    cr_assert(tw_op_is_resolved(F.op[0]));
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

static void signal_not_delivered(pb_history *h, int64_t completed)
{
    int64_t i = signal_initiated(h, "other", "ping", completed);
    signal_failed(h, "other", i,
                  1 /* SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND */);
}

Test(runtime, signal_external_failure_resolves_failed_with_a_message)
{
    pb_history *h = second_task_with_signal("s", signal_not_delivered);
    begin(h, 3);
    F.on_start = start_signal;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(s,[{}]) resolved(4,FAILED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_APPLICATION);
    cr_assert_str_eq(F.failure_message, "Could not signal external workflow \"other\": the workflow was not found");
    tw_run_output_clear(&out);
}

static void start_signal_and_cancel_it(tw_wf_instance *wf, const tw_payloads *args)
{
    start_signal(wf, args);
    cr_assert_eq(tw_op_cancel(F.op[0]), 0, "%s", tw_error_message(tw_error_last()));
    note("cancel-returned");
}

Test(runtime, signal_external_cancelled_before_sent_sends_nothing)
{
    begin(just_started(), 3);
    F.on_start = start_signal_and_cancel_it;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) cancel-returned drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(4,CANCELLED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CANCELED);
    cr_assert_str_eq(F.failure_message, "Signal was cancelled before being sent");
    cr_assert_eq(out.command_count, 0, "the signal is not sent");
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run));
}

static void one_signal_initiated(pb_history *h, int64_t completed)
{
    signal_initiated(h, "other", "ping", completed);
}

Test(runtime, signal_external_cancelled_after_sent_resolves_cancelled)
{
    /* 4 completed, 5 initiated, 6 signal "cancel", 7-8 WFT. */
    pb_history *h = second_task_with_signal("cancel", one_signal_initiated);
    begin(h, 3);
    F.on_start = start_signal;
    F.on_signal = signal_cancels_op0;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "SignalExternal(other,ping)");
    tw_run_output_clear(&out);
    more(4, 8);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned drain");
    tw_run_output_clear(&out);

    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(4,CANCELLED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_CANCELED);
    cr_assert_str_eq(F.failure_message, "Signal was cancelled after being sent");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    /* Delivered anyway: ignored. 9 completed, 10 signaled, 11 signal "s", 12-13 WFT. */
    int64_t c = wft_completed(h);
    external_signaled(h, 5);
    signaled(h, "s", "{}");
    wft(h, false);
    more(c, (int64_t)h->n_events);
    F.on_signal = NULL;
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(s,[{}]) drain");
    tw_run_output_clear(&out);
}

/* ================================================================== */
/* Cancellation requests to other workflows                             */

/* A cancellation request for other/other-run (tag 6) in scope 10, "cancelled" at once: no effect. */
static void start_cancel_external(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[PARENT] = scope(wf, NULL, 0, 0, 10);
    cr_assert_eq(tw_wf_cancel_external(wf, F.scope[PARENT], "other", "other-run", 6, &F.op[0]), 0, "%s",
                 tw_error_message(tw_error_last()));
    cr_assert_eq(tw_op_kind_of(F.op[0]), TW_OP_CANCEL_EXTERNAL);
    cr_assert_eq(tw_op_cancel(F.op[0]), 0);
    cr_assert_not(tw_op_is_resolved(F.op[0]));
}

static int signal_cancels_op0_and_parent(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    signal_cancels_op0(wf, name, headers);
    return signal_cancels_parent(wf, name, headers);
}

static void other_cancel_initiated(pb_history *h, int64_t completed)
{
    cancel_external_initiated(h, "other", "other-run", false, completed);
}

Test(runtime, cancel_external_completes_and_cannot_be_cancelled)
{
    /* 4 completed, 5 initiated, 6 signal "cancel", 7-8 WFT. */
    pb_history *h = second_task_with_signal("cancel", other_cancel_initiated);
    begin(h, 3);
    F.on_start = start_cancel_external;
    F.on_signal = signal_cancels_op0_and_parent;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain", "cancelling it before it was sent did nothing");
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(other,other-run)");
    tw_run_output_clear(&out);

    more(4, 8);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(cancel,[{}]) cancel-returned cancel-returned drain scope_cancelled(10) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
    cr_assert_not(tw_run_has_next_activation(F.run), "neither tw_op_cancel nor its scope resolves it");
    cr_assert_not(tw_op_is_resolved(F.op[0]));

    /* 9 completed, 10 recorded, 11-12 WFT. */
    int64_t c = wft_completed(h);
    external_cancel_requested(h, 5);
    wft(h, false);
    more(c, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(6,COMPLETED) drain");
    cr_assert_eq(F.failure_kind, -1);
    cr_assert(tw_op_is_resolved(F.op[0]));
    tw_run_output_clear(&out);
}

static void start_cancel_external_badly(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_op *op = NULL;
    expect_einval(tw_wf_cancel_external(wf, NULL, NULL, NULL, 6, &op),
                  "tw_wf_cancel_external: workflow_id must not be empty");
    expect_einval(tw_wf_cancel_external(wf, NULL, "", "r", 6, &op), "workflow_id must not be empty");
    cr_assert_null(op);
    cr_assert_eq(tw_wf_cancel_external(wf, NULL, "other", "", 6, &F.op[0]), 0);
}

static void other_cancel_failed(pb_history *h, int64_t completed)
{
    int64_t i = cancel_external_initiated(h, "other", "", false, completed);
    cancel_external_failed(h, "other", i,
                           1 /* CANCEL_EXTERNAL_WORKFLOW_EXECUTION_FAILED_CAUSE_EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND */);
}

Test(runtime, cancel_external_failure_resolves_failed)
{
    pb_history *h = second_task_with_signal("s", other_cancel_failed);
    begin(h, 3);
    F.on_start = start_cancel_external_badly;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "RequestCancelExternal(other,)", "run_id \"\": the current run");
    tw_run_output_clear(&out);
    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(s,[{}]) resolved(6,FAILED) drain");
    cr_assert_eq(F.failure_kind, TW_FAILURE_APPLICATION);
    cr_assert_str_eq(F.failure_message,
                     "Could not request cancellation of external workflow \"other\": the workflow was not found");
    tw_run_output_clear(&out);
}

/* ================================================================== */
/* Patches                                                              */

/* Notes what tw_wf_patched answers for id. */
static int ask_patch(tw_wf_instance *wf, const char *id)
{
    int answer = tw_wf_patched(wf, id);
    cr_assert_geq(answer, 0, "%s", tw_error_message(tw_error_last()));
    note("patched(%s)=%d", id, answer);
    return answer;
}

/* Asks for p1 twice around a 1 s timer (tag 1). */
static void start_patched_timer(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    ask_patch(wf, "p1");
    F.op[0] = timer(wf, NULL, 1000, 1);
    ask_patch(wf, "p1");
}

static int signal_asks_p1(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    (void)name, (void)headers;
    ask_patch(wf, "p1");
    return 1;
}

static void p1_marker_and_timer(pb_history *h, int64_t completed)
{
    patch_marker(h, "p1", false, completed);
    timer_started(h, "1", completed);
}

Test(runtime, patch_live_is_taken_and_recorded_once)
{
    /* 4 completed, 5 marker p1, 6 timer started, 7 signal "go", 8-9 WFT. */
    pb_history *h = second_task_with_signal("go", p1_marker_and_timer);
    begin(h, 3);
    F.on_start = start_patched_timer;
    F.on_signal = signal_asks_p1;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) patched(p1)=1 patched(p1)=1 drain");
    cr_assert_str_eq(commands(&out), "PatchMarker(p1) StartTimer(1,1000ms)", "one marker, where it was first asked");
    tw_run_output_clear(&out);

    /* Remembered in the next activation: no second marker (and the first one matched its event). */
    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(go,[{}]) patched(p1)=1 drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

/* The workflow of the replay tests: p1 and a timer at the start; p1, p2 and completion when it fired. */
static void patched_resolved(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    (void)tag, (void)resolution;
    ask_patch(wf, "p1");
    ask_patch(wf, "p2");
    cr_assert_eq(tw_wf_complete(wf, NULL), 0);
}

static void start_p1_timer(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    ask_patch(wf, "p1");
    F.op[0] = timer(wf, NULL, 1000, 1);
}

/* 1 started, 2-4 WFT, [5 marker p1,] timer "1" started, fired, a live WFT. */
static pb_history *patch_history(bool with_marker)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    if (with_marker)
        patch_marker(h, "p1", false, c1);
    int64_t t = timer_started(h, "1", c1);
    timer_fired(h, "1", t);
    wft(h, false);
    return h;
}

Test(runtime, patch_replay_with_its_marker_is_taken_and_matches)
{
    pb_history *h = patch_history(true);
    begin(h, (int64_t)h->n_events);
    F.on_start = start_p1_timer;
    F.on_resolved = patched_resolved;
    tw_run_output out;
    step(false, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) patched(p1)=1 drain", "the history notified p1");
    cr_assert_eq(out.command_count, 0, "the marker command matched its event");
    tw_run_output_clear(&out);

    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(1,COMPLETED) patched(p1)=1 patched(p2)=1 drain");
    cr_assert_str_eq(commands(&out), "PatchMarker(p2) CompleteWorkflow", "p1 is not recorded again");
    tw_run_output_clear(&out);
}

Test(runtime, patch_replay_without_its_marker_is_not_taken)
{
    pb_history *h = patch_history(false);
    begin(h, (int64_t)h->n_events);
    F.on_start = start_p1_timer;
    F.on_resolved = patched_resolved;
    tw_run_output out;
    step(false, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) patched(p1)=0 drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);

    /* Live now, but p1's answer is remembered; a new patch is taken. */
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(1,COMPLETED) patched(p1)=0 patched(p2)=1 drain");
    cr_assert_str_eq(commands(&out), "PatchMarker(p2) CompleteWorkflow");
    tw_run_output_clear(&out);
}

static void start_deprecated_timer(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    keep_rc(tw_wf_deprecate_patch(wf, "old"));
    cr_assert_eq(F.rc, 0, "%s", F.message);
    ask_patch(wf, "old");
    F.op[0] = timer(wf, NULL, 1000, 1);
}

static void old_marker_and_timer(pb_history *h, int64_t completed)
{
    patch_marker(h, "old", true, completed);
    timer_started(h, "1", completed);
}

Test(runtime, deprecate_patch_records_a_deprecated_marker)
{
    /* 4 completed, 5 deprecated marker "old", 6 timer started, 7 signal "go", 8-9 WFT. */
    pb_history *h = second_task_with_signal("go", old_marker_and_timer);
    begin(h, 3);
    F.on_start = start_deprecated_timer;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) patched(old)=1 drain");
    cr_assert_str_eq(commands(&out), "PatchMarker(old,deprecated) StartTimer(1,1000ms)");
    tw_run_output_clear(&out);
    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(go,[{}]) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

Test(runtime, deprecate_patch_replays_a_history_without_the_marker)
{
    /* Recorded before the patch: 1 started, 2-4 WFT, 5 timer started, 6 signal "go", 7-8 WFT. */
    pb_history *h = hist_new();
    started(h);
    timer_started(h, "1", wft(h, true));
    signaled(h, "go", "{}");
    wft(h, false);
    begin(h, (int64_t)h->n_events);
    F.on_start = start_deprecated_timer;
    tw_run_output out;
    step(false, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) patched(old)=1 drain");
    cr_assert_eq(out.command_count, 0, "no non-determinism: the deprecated marker is skipped");
    tw_run_output_clear(&out);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(go,[{}]) drain");
    cr_assert_eq(out.command_count, 0);
    tw_run_output_clear(&out);
}

static void start_asks_p1(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    ask_patch(wf, "p1");
}

static void query_asks_patches(tw_wf_instance *wf, const char *name, const tw_payloads *args, tw_payloads *result,
                               const char **error)
{
    (void)name, (void)args, (void)error;
    ask_patch(wf, "p1");
    ask_patch(wf, "p9");
    keep_rc(tw_wf_deprecate_patch(wf, "p8"));
    note("deprecate=%d", F.rc);
    cr_assert_eq(tw_payloads_add_json(result, "\"ok\"", NULL), 0);
}

static int signal_asks_p9(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    (void)name, (void)headers;
    ask_patch(wf, "p9");
    return 1;
}

static void p1_marker(pb_history *h, int64_t completed)
{
    patch_marker(h, "p1", false, completed);
}

Test(runtime, patched_in_a_query_answers_without_recording)
{
    /* 4 completed, 5 marker p1, 6 signal "go", 7-8 WFT. */
    pb_history *h = second_task_with_signal("go", p1_marker);
    begin(h, 3);
    F.on_start = start_asks_p1;
    F.on_query = query_asks_patches;
    F.on_signal = signal_asks_p9;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(commands(&out), "PatchMarker(p1)");
    tw_run_output_clear(&out);

    const char *ids[] = {"q-1"}, *types[] = {"status"}, *args[] = {NULL};
    step_outside_run(queries(1, ids, types, args), &out);
    cr_assert_str_eq(F.log, "query(status) patched(p1)=1 patched(p9)=0 deprecate=0",
                     "the remembered answer, or false; nothing recorded");
    cr_assert_eq(out.command_count, 0);
    cr_assert_eq(out.query_count, 1);
    cr_assert_null(out.query_failures[0], "asking is no violation: %s", out.query_failures[0]);
    cr_assert_str_eq(json_list(out.query_results[0]), "[\"ok\"]");
    tw_run_output_clear(&out);

    /* The query's "no" for p9 was not remembered: live code takes it now. */
    more(4, (int64_t)h->n_events);
    step(true, &out);
    cr_assert_str_eq(F.log, "signal(go,[{}]) patched(p9)=1 drain");
    cr_assert_str_eq(commands(&out), "PatchMarker(p9)");
    tw_run_output_clear(&out);
}

/* Expects tw_wf_patched's -1 with an error mentioning needle. */
static void expect_patch_error(int answer, const char *needle)
{
    cr_assert_eq(answer, -1, "answer %d, expected -1", answer);
    const tw_error *e = tw_error_last();
    cr_assert_eq(tw_error_code(e), TW_EINVAL);
    cr_assert(strstr(tw_error_message(e), needle) != NULL, "message \"%s\" does not mention \"%s\"",
              tw_error_message(e), needle);
}

static void start_patches_badly(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    expect_patch_error(tw_wf_patched(wf, NULL), "tw_wf_patched: patch_id must not be empty");
    expect_patch_error(tw_wf_patched(wf, ""), "tw_wf_patched: patch_id must not be empty");
    expect_patch_error(tw_wf_patched(NULL, "p1"), "tw_wf_patched: wf must not be NULL");
    expect_einval(tw_wf_deprecate_patch(wf, NULL), "tw_wf_deprecate_patch: patch_id must not be empty");
    expect_einval(tw_wf_deprecate_patch(wf, ""), "patch_id must not be empty");
    expect_einval(tw_wf_deprecate_patch(NULL, "p1"), "wf must not be NULL");
    ask_patch(wf, "p1");
}

Test(runtime, patch_bad_input_and_calls_outside_activate_are_errors)
{
    begin(just_started(), 3);
    tw_wf_instance *wf = F.wf;
    expect_patch_error(tw_wf_patched(wf, "p1"), OUTSIDE);
    expect_outside(tw_wf_deprecate_patch(wf, "p1"), "tw_wf_deprecate_patch");
    F.on_start = start_patches_badly;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) patched(p1)=1 drain");
    cr_assert_str_eq(commands(&out), "PatchMarker(p1)", "refused calls record nothing");
    tw_run_output_clear(&out);

    /* Outside a callback even a remembered answer is refused. */
    expect_patch_error(tw_wf_patched(wf, "p1"), OUTSIDE);
    cr_assert(strstr(tw_error_message(tw_error_last()), "tw_wf_patched") != NULL);
    expect_patch_error(tw_wf_patched(wf, "p2"), OUTSIDE);
    expect_outside(tw_wf_deprecate_patch(wf, "p1"), "tw_wf_deprecate_patch");
}

Test(runtime, new_operations_outside_activate_are_einval)
{
    begin(just_started(), 3);
    tw_wf_instance *wf = F.wf;
    tw_op *op = NULL;
    tw_child_workflow_options c = kid_options("child-1", TW_CHILD_CANCEL_TRY);
    tw_signal_external_options s = ping_options(0);
    expect_outside(tw_wf_start_child_workflow(wf, NULL, &c, 1, &op), "tw_wf_start_child_workflow");
    expect_outside(tw_wf_signal_external(wf, NULL, &s, 1, &op), "tw_wf_signal_external");
    expect_outside(tw_wf_cancel_external(wf, NULL, "other", NULL, 1, &op), "tw_wf_cancel_external");
    cr_assert_null(op);
    expect_einval(tw_wf_start_child_workflow(NULL, NULL, &c, 1, &op), "wf must not be NULL");
    expect_einval(tw_wf_signal_external(NULL, NULL, &s, 1, &op), "wf must not be NULL");
    cr_assert_str_eq(tw_op_child_run_id(NULL), "");
    cr_assert_eq(tw_op_start_failed_cause(NULL), 0);
}

/* ================================================================== */
/* Replay of a recorded child workflow history                          */

enum { TAG_CHILD = 1, TAG_POKE = 2 };

/* The workflow: start child-1, signal it "poke" once it started, complete with its result. */
static void family_start(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.op[0] = child(wf, NULL, "child-1", TW_CHILD_CANCEL_WAIT_COMPLETED, TAG_CHILD);
}

static void family_drain(tw_wf_instance *wf)
{
    /* Once started (and only once), signal the child by its run id. */
    if (F.op[1] || tw_op_child_run_id(F.op[0])[0] == '\0')
        return;
    tw_signal_external_options o;
    tw_signal_external_options_init(&o);
    o.workflow_id = "child-1";
    o.run_id = tw_op_child_run_id(F.op[0]);
    o.signal_name = "poke";
    o.child_workflow_only = 1;
    cr_assert_eq(tw_wf_signal_external(wf, NULL, &o, TAG_POKE, &F.op[1]), 0, "%s", tw_error_message(tw_error_last()));
}

static void family_resolved(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    cr_assert_eq(resolution, TW_RESOLUTION_COMPLETED);
    if (tag == TAG_CHILD)
        cr_assert_eq(tw_wf_complete(wf, NULL), 0);
}

Test(runtime, replay_of_a_child_workflow_history_is_deterministic)
{
    /*
     * 1 started, 2-4 WFT, 5 child initiated, 6 started, 7-9 WFT, 10 signal
     * initiated, 11 signaled, 12 child completed, 13-15 WFT, 16 completed.
     */
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    child_1_started(h, c1);
    int64_t c2 = wft(h, true);
    int64_t i = signal_initiated(h, "child-1", "poke", c2);
    external_signaled(h, i);
    child_completed(h, 5, 6, "\"child result\"");
    int64_t c3 = wft(h, true);
    wf_completed(h, c3);
    begin(h, (int64_t)h->n_events);
    F.on_start = family_start;
    F.on_drain = family_drain;
    F.on_resolved = family_resolved;

    static const char *const expected[] = {
        "start(greeter,[]) drain",
        "child_started(1,child-run) drain",
        "resolved(2,COMPLETED) resolved(1,COMPLETED) drain",
    };
    for (size_t k = 0; k < sizeof(expected) / sizeof(expected[0]); k++) {
        tw_run_output out;
        step(false, &out);
        cr_assert_str_eq(F.log, expected[k], "workflow task %zu", k + 1);
        cr_assert_eq(out.command_count, 0, "a replayed task sends nothing");
        tw_run_output_clear(&out);
    }
    cr_assert_str_eq(F.result_json, "[\"child result\"]");
    cr_assert(tw_wf_is_done(F.wf));
    cr_assert_not(tw_run_has_next_activation(F.run));
}

/* ================================================================== */
/* Local activities whose retries wait on a backoff timer               */

/* Takes the run's one local activity request: its seq, activity id and the parameters it carries. */
static uint32_t take_la_request(int64_t now, char *activity_id, size_t size, tw_la_params *params)
{
    tw_run_la_request *reqs = NULL;
    size_t n = 0;
    cr_assert_eq(tw_run_take_local_activity_requests(F.run, now, &reqs, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_not(reqs[0].cancel);
    Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *a =
        reqs[0].schedule->schedule_activity_task_command_attributes;
    snprintf(activity_id, size, "%s", a->activity_id);
    *params = reqs[0].params;
    cr_assert(!a->header || a->header->n_fields == 0, "the activity sees no extra header");
    uint32_t seq = reqs[0].seq;
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    return seq;
}

static void no_la_request(void)
{
    tw_run_la_request *reqs = NULL;
    size_t n = 0;
    cr_assert_eq(tw_run_take_local_activity_requests(F.run, time_of(20), &reqs, &n), 0);
    cr_assert_eq(n, 0);
    free(reqs);
}

/* A local activity (tag 7) retried every 1.5 s, with a local retry threshold of 1 s, in scope[PARENT]. */
static void start_flaky_local_activity(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    F.scope[PARENT] = scope(wf, NULL, 0, 0, 70);
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "flaky";
    o.start_to_close_timeout_ms = 5000;
    o.retry_initial_interval_ms = 1500;
    o.retry_backoff_coefficient = 1.0;
    o.local_retry_threshold_ms = 1000;
    cr_assert_eq(tw_wf_start_local_activity(wf, F.scope[PARENT], &o, 7, &F.op[0]), 0, "%s",
                 tw_error_message(tw_error_last()));
}

static void complete_with_result(tw_wf_instance *wf, uint64_t tag, int resolution)
{
    (void)tag;
    if (resolution == TW_RESOLUTION_COMPLETED) {
        tw_payloads *r = json("\"done\"");
        cr_assert_eq(tw_wf_complete(wf, r), 0);
        tw_payloads_free(r);
    }
}

static void resolve_backoff(uint32_t seq, int32_t attempt, int64_t when)
{
    pb_failure *f = app_failure("boom", "Boom");
    cr_assert_eq(tw_run_resolve_local_activity(F.run, seq, TW_RESOLUTION_BACKOFF, NULL, f,
                                               TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_IN_PROGRESS,
                                               attempt, when),
                 0);
    protobuf_c_message_free_unpacked(&f->base, NULL);
}

/* The marker the first attempt's BACKOFF records (seq 1, attempt 1, 1.5 s, scheduled at event 3's time). */
static int64_t backoff_marker(pb_history *h, int64_t completed)
{
    char data[400];
    snprintf(data, sizeof(data),
             "{\"seq\":1,\"attempt\":1,\"activity_id\":\"1\",\"activity_type\":\"flaky\","
             "\"complete_time\":{\"seconds\":%lld,\"nanos\":0},\"backoff\":{\"seconds\":1,\"nanos\":500000000},"
             "\"original_schedule_time\":{\"seconds\":%lld,\"nanos\":0}}",
             T0 + 3, T0 + 3);
    return la_marker_with_data(h, data, NULL, app_failure("boom", "Boom"), completed);
}

/*
 * 1 started, 2-4 WFT (the local activity, its BACKOFF), 5 its marker, 6
 * timer 1 started, then what `then` adds, and a live WFT.
 */
static pb_history *backoff_history(void (*then)(pb_history *h, int64_t timer_started))
{
    pb_history *h = hist_new();
    started(h);
    int64_t done = wft(h, true);
    backoff_marker(h, done);
    int64_t t = timer_started(h, "1", done);
    then(h, t);
    wft(h, false);
    return h;
}

static void backoff_timer_fires(pb_history *h, int64_t timer_started_id)
{
    timer_fired(h, "1", timer_started_id);
}

Test(runtime, local_activity_backoff_waits_on_a_timer_then_retries_under_a_new_seq)
{
    pb_history *h = backoff_history(backoff_timer_fires); /* ..., 7 fired, 8-9 live WFT */
    begin(h, 3);
    F.on_start = start_flaky_local_activity;
    F.on_resolved = complete_with_result;
    tw_run_output out;
    step(true, &out);
    cr_assert_str_eq(F.log, "start(greeter,[]) drain");
    cr_assert_str_eq(commands(&out), "", "nothing is sent while the local activity runs");
    tw_run_output_clear(&out);

    char id[32];
    tw_la_params params;
    cr_assert_eq(take_la_request(time_of(3), id, sizeof(id), &params), 1);
    cr_assert_str_eq(id, "1");
    cr_assert_eq(params.attempt, 1);
    cr_assert_eq(params.retry_threshold_ms, 1000);
    cr_assert_eq(params.original_schedule_ms, time_of(3) / 1000000);

    /* The worker found the 1.5 s backoff above the threshold: the workflow waits on a timer instead. */
    resolve_backoff(1, 1, time_of(3));
    step(true, &out);
    cr_assert_str_eq(F.log, "drain", "the binding sees nothing of the backoff");
    cr_assert_str_eq(commands(&out), "LAMarker(1,1,backoff=1500ms,failed,scheduled=T0+3) StartTimer(1,1500ms)");
    tw_run_output_clear(&out);
    cr_assert_not(tw_op_is_resolved(F.op[0]));

    /* The timer fires: the next attempt, under seq 2, with the first attempt's schedule time. */
    more(4, 9);
    step(true, &out);
    cr_assert_str_eq(F.log, "drain");
    cr_assert_str_eq(commands(&out), "");
    tw_run_output_clear(&out);
    cr_assert_eq(take_la_request(time_of(9), id, sizeof(id), &params), 2);
    cr_assert_str_eq(id, "2");
    cr_assert_eq(params.attempt, 2);
    cr_assert_eq(params.retry_threshold_ms, 1000);
    cr_assert_eq(params.original_schedule_ms, time_of(3) / 1000000, "not the retry's own schedule time");

    tw_payloads *ok = json("\"ok\"");
    cr_assert_eq(tw_run_resolve_local_activity(F.run, 2, TW_RESOLUTION_COMPLETED, ok, NULL, 0, 2, time_of(9)), 0);
    tw_payloads_free(ok);
    step(true, &out);
    cr_assert_str_eq(F.log, "resolved(7,COMPLETED) drain", "resolved once, with the final outcome");
    cr_assert_str_eq(F.result_json, "[\"ok\"]");
    cr_assert_str_eq(commands(&out), "LAMarker(2,2,scheduled=T0+3) CompleteWorkflow");
    tw_run_output_clear(&out);
}

static int signal_cancels_op0(tw_wf_instance *wf, const char *name, const tw_payloads *headers);

static int signal_cancels_parent_scope(tw_wf_instance *wf, const char *name, const tw_payloads *headers)
{
    (void)wf, (void)name, (void)headers;
    keep_rc(tw_scope_cancel(F.scope[PARENT]));
    return 1;
}

static void backoff_interrupted_by_signal(pb_history *h, int64_t timer_started_id)
{
    (void)timer_started_id;
    signaled(h, "stop", "1");
}

/* The local activity waits on its backoff timer when a signal cancels it (its op, or its scope). */
static void cancel_during_backoff(int (*on_signal)(tw_wf_instance *, const char *, const tw_payloads *),
                                  const char *expected_log)
{
    pb_history *h = backoff_history(backoff_interrupted_by_signal); /* ..., 7 signal, 8-9 live WFT */
    begin(h, 3);
    F.on_start = start_flaky_local_activity;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    char id[32];
    tw_la_params params;
    take_la_request(time_of(3), id, sizeof(id), &params);
    resolve_backoff(1, 1, time_of(3));
    step(true, &out);
    cr_assert_str_eq(commands(&out), "LAMarker(1,1,backoff=1500ms,failed,scheduled=T0+3) StartTimer(1,1500ms)");
    tw_run_output_clear(&out);

    more(4, 9);
    F.on_signal = on_signal;
    step(true, &out);
    cr_assert_eq(F.rc, 0, "%s", F.message);
    cr_assert_str_eq(F.log, expected_log);
    cr_assert_str_eq(commands(&out), "CancelTimer(1)", "the backoff timer goes, no attempt is scheduled");
    tw_run_output_clear(&out);
    cr_assert(tw_op_is_resolved(F.op[0]));
    /* Worded as the engine words a cancelled local activity. */
    cr_assert_eq(F.failure_kind, TW_FAILURE_ACTIVITY);
    cr_assert_str_eq(F.failure_message, "Activity cancelled");
    cr_assert_eq(F.cause_kind, TW_FAILURE_CANCELED);
    no_la_request();
}

Test(runtime, local_activity_cancelled_during_its_backoff_timer)
{
    cancel_during_backoff(signal_cancels_op0, "signal(stop,[1]) cancel-returned drain resolved(7,CANCELLED) drain");
}

Test(runtime, local_activity_cancelled_with_its_scope_during_its_backoff_timer)
{
    cancel_during_backoff(signal_cancels_parent_scope,
                          "signal(stop,[1]) drain scope_cancelled(70) resolved(7,CANCELLED) drain");
}

/*
 * 1 started, 2-4 WFT, 5 marker (seq 1, backoff), 6 timer 1 started, 7
 * fired, 8-10 WFT, 11 marker (seq 2, attempt 2, result), 12 completed.
 */
static pb_history *full_backoff_history(void)
{
    pb_history *h = hist_new();
    started(h);
    int64_t c1 = wft(h, true);
    backoff_marker(h, c1);
    int64_t t = timer_started(h, "1", c1);
    timer_fired(h, "1", t);
    int64_t c2 = wft(h, true);
    char data[400];
    snprintf(data, sizeof(data),
             "{\"seq\":2,\"attempt\":2,\"activity_id\":\"2\",\"activity_type\":\"flaky\","
             "\"complete_time\":{\"seconds\":%lld,\"nanos\":0},\"backoff\":null,"
             "\"original_schedule_time\":{\"seconds\":%lld,\"nanos\":0}}",
             T0 + 9, T0 + 3);
    la_marker_with_data(h, data, "\"ok\"", NULL, c2);
    wf_completed(h, c2);
    return h;
}

static void replay_full_backoff_history(void (*on_start)(tw_wf_instance *wf, const tw_payloads *args))
{
    pb_history *h = full_backoff_history();
    begin(h, (int64_t)h->n_events);
    F.on_start = on_start;
    F.on_resolved = complete_with_result;
    /* The marker brings the BACKOFF back: the same timer, then seq 2, matched against history. */
    static const char *const expected[] = {
        "start(greeter,[]) drain",
        "drain",
        "drain",
        "resolved(7,COMPLETED) drain",
    };
    for (size_t k = 0; k < sizeof(expected) / sizeof(expected[0]); k++) {
        tw_run_output out;
        step(false, &out);
        cr_assert_str_eq(F.log, expected[k], "activation %zu", k + 1);
        cr_assert_eq(out.command_count, 0, "a replayed task sends nothing");
        tw_run_output_clear(&out);
        no_la_request();
    }
    cr_assert_str_eq(F.result_json, "[\"ok\"]");
    cr_assert(tw_wf_is_done(F.wf));
    cr_assert_not(tw_run_has_next_activation(F.run));
}

Test(runtime, replay_of_a_local_activity_backoff_history_is_deterministic)
{
    replay_full_backoff_history(start_flaky_local_activity);
}

static void start_flaky_local_activity_default_threshold(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "flaky";
    o.start_to_close_timeout_ms = 5000;
    cr_assert_eq(tw_wf_start_local_activity(wf, NULL, &o, 7, &F.op[0]), 0, "%s", tw_error_message(tw_error_last()));
}

Test(runtime, replay_follows_the_backoff_markers_whatever_the_threshold_now)
{
    /* As in sdk-core, history decides: the code's threshold (now the 60 s default) only matters live. */
    replay_full_backoff_history(start_flaky_local_activity_default_threshold);
}

/* ================================================================== */
/* Priority and summaries                                               */

/* The summary a command carries as a string (a static buffer); "" when it has none. */
static const char *summary_of(const tw_pb_command *c)
{
    static char buf[128];
    buf[0] = '\0';
    if (c->user_metadata && c->user_metadata->summary) {
        const ProtobufCBinaryData *d = &c->user_metadata->summary->data;
        snprintf(buf, sizeof(buf), "%.*s", (int)d->len, (const char *)d->data);
    }
    return buf;
}

static void start_timers_with_summaries(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_payloads *nap = json("\"nap\"");
    tw_timer_options o;
    tw_timer_options_init(&o);
    o.duration_ms = 2000;
    o.summary = nap;
    cr_assert_eq(tw_wf_start_timer_with_options(wf, NULL, &o, 1, &F.op[0]), 0, "%s",
                 tw_error_message(tw_error_last()));
    tw_payloads_free(nap); /* copied */
    /* A zero-length timer sends no command, but its summary is still checked. */
    tw_payloads *two = json("\"a\"");
    cr_assert_eq(tw_payloads_add_json(two, "\"b\"", NULL), 0);
    o.duration_ms = 0;
    o.summary = two;
    keep_rc(tw_wf_start_timer_with_options(wf, NULL, &o, 2, &F.op[1]));
    tw_payloads_free(two);
}

Test(runtime, timer_with_options_sends_its_summary)
{
    begin(just_started(), 3);
    F.on_start = start_timers_with_summaries;
    tw_run_output out;
    step(true, &out);
    cr_assert_eq(F.rc, TW_EINVAL);
    cr_assert(strstr(F.message, "tw_wf_start_timer_with_options: options->summary must hold exactly one payload"),
              "%s", F.message);
    cr_assert_str_eq(commands(&out), "StartTimer(1,2000ms)");
    cr_assert_str_eq(summary_of(out.commands[0]), "\"nap\"");
    tw_run_output_clear(&out);
    expect_einval(tw_wf_start_timer_with_options(F.wf, NULL, NULL, 3, NULL), "options is NULL");
}

/* The flaky local activity of the backoff tests, with a summary its caller frees at once. */
static void start_flaky_local_activity_with_summary(tw_wf_instance *wf, const tw_payloads *args)
{
    (void)args;
    tw_payloads *summary = json("\"flaky one\"");
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    o.activity_type = "flaky";
    o.start_to_close_timeout_ms = 5000;
    o.retry_initial_interval_ms = 1500;
    o.retry_backoff_coefficient = 1.0;
    o.local_retry_threshold_ms = 1000;
    o.summary = summary;
    cr_assert_eq(tw_wf_start_local_activity(wf, NULL, &o, 7, &F.op[0]), 0, "%s", tw_error_message(tw_error_last()));
    tw_payloads_free(summary);
}

/* Takes the one local activity request and returns the summary its schedule carries. */
static const char *take_la_summary(int64_t now, uint32_t want_seq)
{
    tw_run_la_request *reqs = NULL;
    size_t n = 0;
    cr_assert_eq(tw_run_take_local_activity_requests(F.run, now, &reqs, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(reqs[0].seq, want_seq);
    const char *s = summary_of(reqs[0].schedule);
    protobuf_c_message_free_unpacked(&reqs[0].schedule->base, NULL);
    free(reqs);
    return s;
}

Test(runtime, local_activity_summary_survives_its_backoff_retry)
{
    pb_history *h = backoff_history(backoff_timer_fires); /* ..., 7 fired, 8-9 live WFT */
    begin(h, 3);
    F.on_start = start_flaky_local_activity_with_summary;
    F.on_resolved = complete_with_result;
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    cr_assert_str_eq(take_la_summary(time_of(3), 1), "\"flaky one\"");

    resolve_backoff(1, 1, time_of(3));
    step(true, &out);
    cr_assert_str_eq(commands(&out), "LAMarker(1,1,backoff=1500ms,failed,scheduled=T0+3) StartTimer(1,1500ms)");
    cr_assert_str_eq(summary_of(out.commands[0]), "\"flaky one\"", "the attempt's marker carries it");
    cr_assert_str_eq(summary_of(out.commands[1]), "", "the backoff timer is the runtime's own");
    tw_run_output_clear(&out);

    /* The retry is scheduled from the instance's own copy of the options (the caller's list is gone). */
    more(4, 9);
    step(true, &out);
    tw_run_output_clear(&out);
    cr_assert_str_eq(take_la_summary(time_of(9), 2), "\"flaky one\"");
    tw_payloads *ok = json("\"ok\"");
    cr_assert_eq(tw_run_resolve_local_activity(F.run, 2, TW_RESOLUTION_COMPLETED, ok, NULL, 0, 2, time_of(9)), 0);
    tw_payloads_free(ok);
    step(true, &out);
    cr_assert_str_eq(commands(&out), "LAMarker(2,2,scheduled=T0+3) CompleteWorkflow");
    cr_assert_str_eq(summary_of(out.commands[0]), "\"flaky one\"");
    tw_run_output_clear(&out);
}

Test(runtime, priority_reaches_the_instance)
{
    pb_history *h = hist_new();
    Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *s = started(h);
    s->priority = pb_new(&B, &temporal__api__common__v1__priority__descriptor);
    s->priority->priority_key = 5;
    s->priority->fairness_key = pb_str(&B, "tenant-z");
    s->priority->fairness_weight = 0.25f;
    wft(h, false);
    begin(h, 3);
    tw_priority p;
    tw_priority_init(&p);
    cr_assert_eq(tw_wf_priority(F.wf, &p), 0);
    cr_assert_eq(p.priority_key, 0, "nothing before the start");
    tw_run_output out;
    step(true, &out);
    tw_run_output_clear(&out);
    tw_priority_init(&p);
    cr_assert_eq(tw_wf_priority(F.wf, &p), 0);
    cr_assert_eq(p.priority_key, 5);
    cr_assert_str_eq(p.fairness_key, "tenant-z");
    cr_assert_float_eq(p.fairness_weight, 0.25f, 1e-6);
    expect_einval(tw_wf_priority(F.wf, NULL), "out is NULL");
    expect_einval(tw_wf_priority(NULL, &p), "wf is NULL");
}
