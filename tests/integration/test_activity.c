/*
 * Activities against a real Temporal dev server, through the public API
 * only: the ActivityCaller workflow (examples/c/activity_caller_workflow.c)
 * schedules one activity described by its JSON input, and activities
 * written in the tests answer the tasks tw_worker_poll_activity_task
 * delivers. The server address comes from TW_TEST_ADDRESS.
 *
 * Each test runs "hosts" (a tw_worker plus what the test's activity does)
 * on its own task queue, and drives everything from one completion queue.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <criterion/criterion.h>

#include <tw/tw.h>

#include "activity_caller_workflow.h"

#define WAIT_MS 30000
#define MAX_HOSTS 4

enum { H_WF_POLL = 1, H_WF_DONE, H_ACT_POLL, H_ACT_DONE, H_SHUTDOWN };
enum { T_START = 10001, T_RESULT, T_CLIENT_CALL, T_HISTORY };

static tw_runtime *rt;
static tw_cq *cq;
static tw_client *client;

typedef struct host host;
/* What the test's activity does with a task (borrowed). */
typedef void (*task_fn)(host *h, const tw_activity_task *t);
/* Called about every 50 ms while the test waits (heartbeating activities). */
typedef void (*idle_fn)(host *h);

struct host {
    int index;
    tw_worker *w;
    bool wf_polling, act_polling;
    bool act_closed;
    bool shutdown_done;
    int shutdown_status;
    task_fn on_task;
    idle_fn on_idle;
    /* what the activity side saw */
    int starts, cancels;
    int cancel_reason;
    int64_t cancel_at;
    uint8_t token[1024];
    size_t token_len;
    bool running;              /* a START is being worked on */
    int32_t attempt;
    char details[256];         /* heartbeat details of the last START, as JSON ("" when none) */
    int dones, done_errors, last_done_status;
    int64_t done_at;
};

static host hosts[MAX_HOSTS];
static int host_count;

/* Activity tasks the library logged as delivered eagerly (the log sink runs on library threads). */
static int eager_count;

static void log_sink(int level, const char *message, void *user_data)
{
    (void)level;
    (void)user_data;
    if (strstr(message, "came eagerly with the workflow task's answer"))
        __atomic_add_fetch(&eager_count, 1, __ATOMIC_RELAXED);
}

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void call_ok(int rc, const char *what)
{
    cr_assert_eq(rc, 0, "%s: %s: %s", what, tw_strerror(rc), tw_error_message(tw_error_last()));
}

static void call_fails(int rc, int want, const char *what, const char *needle)
{
    cr_assert_eq(rc, want, "%s: got %s (%s), want %s", what, tw_strerror(rc), tw_error_message(tw_error_last()),
                 tw_strerror(want));
    if (needle)
        cr_assert(strstr(tw_error_message(tw_error_last()), needle), "%s: message \"%s\" does not mention \"%s\"",
                  what, tw_error_message(tw_error_last()), needle);
}

static void unique(char *buf, size_t size, const char *prefix)
{
    uint8_t r[6];
    cr_assert_eq(getrandom(r, sizeof(r), 0), (ssize_t)sizeof(r));
    snprintf(buf, size, "%s-%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3], r[4], r[5]);
}

static tw_payloads *json_list(const char *json)
{
    tw_payloads *p = NULL;
    call_ok(tw_payloads_new(&p), "payloads");
    if (json)
        call_ok(tw_payloads_add_json(p, json, NULL), "add json");
    return p;
}

/* The first payload of list as text ("" when none). */
static void first_text(const tw_payloads *list, char *out, size_t size)
{
    char *s = NULL;
    out[0] = '\0';
    if (tw_payloads_count(list) && tw_payloads_data_string(list, 0, &s) == 0)
        snprintf(out, size, "%s", s);
    tw_free(s);
}

static uint64_t tag_of(const host *h, int kind)
{
    return (uint64_t)(h->index + 1) * 100 + (uint64_t)kind;
}

/* ---- hosts ---- */

static host *host_new(const char *task_queue, bool workflows, bool activities, tw_worker_options *extra)
{
    cr_assert_lt(host_count, MAX_HOSTS);
    host *h = &hosts[host_count];
    memset(h, 0, sizeof(*h));
    h->index = host_count++;
    tw_worker_options o;
    if (extra)
        o = *extra;
    else
        tw_worker_options_init(&o);
    o.task_queue = task_queue;
    o.no_workflows = !workflows;
    o.no_activities = !activities;
    call_ok(tw_worker_new(client, &o, &h->w), "tw_worker_new");
    if (workflows) {
        call_ok(tw_worker_poll_activation(h->w, cq, tag_of(h, H_WF_POLL)), "poll activation");
        h->wf_polling = true;
    }
    if (activities) {
        call_ok(tw_worker_poll_activity_task(h->w, cq, tag_of(h, H_ACT_POLL)), "poll activity task");
        h->act_polling = true;
    }
    return h;
}

static void on_activity_task(host *h, tw_event *ev)
{
    tw_activity_task *t = tw_event_take_activity_task(ev);
    cr_assert_not_null(t);
    const uint8_t *token;
    size_t len;
    call_ok(tw_activity_task_token(t, &token, &len), "token");
    if (tw_activity_task_kind_of(t) == TW_ACTIVITY_TASK_START) {
        h->starts++;
        h->running = true;
        cr_assert_leq(len, sizeof(h->token));
        memcpy(h->token, token, len);
        h->token_len = len;
        h->attempt = tw_activity_task_attempt(t);
        first_text(tw_activity_task_heartbeat_details(t), h->details, sizeof(h->details));
    } else {
        cr_assert_eq(tw_activity_task_kind_of(t), TW_ACTIVITY_TASK_CANCEL);
        h->cancels++;
        h->cancel_reason = tw_activity_task_cancel_reason(t);
        h->cancel_at = now_ms();
    }
    if (h->on_task)
        h->on_task(h, t);
    tw_activity_task_free(t);
}

static void on_host_event(tw_event *ev)
{
    uint64_t tag = tw_event_tag(ev);
    cr_assert_geq(tag, 100, "unexpected event %llu", (unsigned long long)tag);
    host *h = &hosts[tag / 100 - 1];
    int status = tw_event_status(ev);
    switch ((int)(tag % 100)) {
    case H_WF_POLL:
        if (status) {
            h->wf_polling = false;
            return;
        }
        {
            tw_activation *a = tw_event_take_activation(ev);
            tw_completion *c = activity_caller_activate(a);
            tw_activation_free(a);
            cr_assert_not_null(c);
            call_ok(tw_worker_complete_activation(h->w, c, cq, tag_of(h, H_WF_DONE)), "complete activation");
            call_ok(tw_worker_poll_activation(h->w, cq, tag_of(h, H_WF_POLL)), "poll activation");
        }
        return;
    case H_WF_DONE:
        return;
    case H_ACT_POLL:
        if (status) {
            h->act_polling = false;
            h->act_closed = status == TW_ECLOSED;
            return;
        }
        on_activity_task(h, ev);
        call_ok(tw_worker_poll_activity_task(h->w, cq, tag_of(h, H_ACT_POLL)), "poll activity task");
        return;
    case H_ACT_DONE:
        h->dones++;
        h->last_done_status = status;
        h->done_at = now_ms();
        if (status)
            h->done_errors++;
        return;
    case H_SHUTDOWN:
        h->shutdown_done = true;
        h->shutdown_status = status;
        return;
    default:
        cr_assert_fail("unexpected event tag %llu", (unsigned long long)tag);
    }
}

typedef bool (*condition)(void *arg);

/* Runs hosts until cond(arg) holds or the event tagged want arrives (returned). */
static tw_event *pump(uint64_t want, condition cond, void *arg, const char *what)
{
    int64_t deadline = now_ms() + WAIT_MS;
    for (;;) {
        if (cond && cond(arg))
            return NULL;
        cr_assert_lt(now_ms(), deadline, "waited %d ms for %s", WAIT_MS, what);
        tw_event *ev = NULL;
        int rc = tw_cq_next(cq, 50, &ev);
        for (int i = 0; i < host_count; i++)
            if (hosts[i].on_idle && hosts[i].w)
                hosts[i].on_idle(&hosts[i]);
        if (rc == TW_ETIMEDOUT)
            continue;
        cr_assert_eq(rc, 0);
        if (want && tw_event_tag(ev) == want)
            return ev;
        cr_assert_lt(tw_event_tag(ev), 10000, "unexpected client event %llu while waiting for %s",
                     (unsigned long long)tw_event_tag(ev), what);
        on_host_event(ev);
        tw_event_free(ev);
    }
}

/* Runs hosts for ms milliseconds. */
static void run_for(int64_t ms)
{
    int64_t until = now_ms() + ms;
    while (now_ms() < until) {
        tw_event *ev = NULL;
        if (tw_cq_next(cq, 20, &ev) == 0) {
            on_host_event(ev);
            tw_event_free(ev);
        }
    }
}

static bool host_down(void *arg)
{
    host *h = arg;
    return h->shutdown_done && !h->wf_polling && !h->act_polling;
}

static void host_shutdown(host *h)
{
    call_ok(tw_worker_shutdown(h->w, cq, tag_of(h, H_SHUTDOWN)), "shutdown");
    pump(0, host_down, h, "the worker's shutdown");
    cr_assert_eq(h->shutdown_status, 0);
    tw_worker_free(h->w);
    h->w = NULL;
}

/* ---- workflows ---- */

static void start_caller(const char *workflow_id, const char *task_queue, const char *input)
{
    tw_payloads *args = json_list(input);
    tw_start_workflow_options o;
    tw_start_workflow_options_init(&o);
    o.workflow_id = workflow_id;
    o.workflow_type = ACTIVITY_CALLER_TYPE;
    o.task_queue = task_queue;
    o.args = args;
    o.execution_timeout_ms = 120000;
    call_ok(tw_client_start_workflow(client, &o, cq, T_START), "start workflow");
    tw_payloads_free(args);
    tw_event *ev = pump(T_START, NULL, NULL, "the workflow start");
    cr_assert_eq(tw_event_status(ev), 0, "start: %s", tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
}

/* Waits for the workflow's result event (the caller frees it). */
static tw_event *await_result(const char *workflow_id)
{
    tw_result_options o;
    tw_result_options_init(&o);
    o.workflow_id = workflow_id;
    call_ok(tw_client_workflow_result(client, &o, cq, T_RESULT), "workflow result");
    tw_event *ev = pump(T_RESULT, NULL, NULL, "the workflow result");
    cr_assert_eq(tw_event_status(ev), 0, "result: %s", tw_error_message(tw_event_error(ev)));
    return ev;
}

static void expect_completed_with(tw_event *ev, const char *json)
{
    char text[256];
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_COMPLETED, "the workflow did not complete: %s",
                 tw_failure_message(tw_event_failure(ev)));
    first_text(tw_event_payloads(ev), text, sizeof(text));
    cr_assert_str_eq(text, json);
}

/* The activity failure a failed ActivityCaller ended with, and its cause. */
static const tw_failure *activity_cause(tw_event *ev)
{
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_FAILED, "outcome %d, want FAILED", tw_event_outcome(ev));
    const tw_failure *f = tw_event_failure(ev);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_ACTIVITY, "failure \"%s\" is not an activity failure",
                 tw_failure_message(f));
    const tw_failure *cause = tw_failure_cause(f);
    cr_assert_not_null(cause, "the activity failure has no cause");
    return cause;
}

/* Waits for a client call's event on T_CLIENT_CALL (the caller frees it). */
static tw_event *await_client_call(const char *what)
{
    return pump(T_CLIENT_CALL, NULL, NULL, what);
}

/* ---- activities ---- */

static void complete_with(host *h, const char *json)
{
    tw_payloads *p = json_list(json);
    call_ok(tw_worker_complete_activity_task(h->w, h->token, h->token_len, p, cq, tag_of(h, H_ACT_DONE)),
            "complete activity");
    tw_payloads_free(p);
    h->running = false;
}

static void fail_with(host *h, const char *message, const char *type, int non_retryable)
{
    tw_activity_failure f;
    tw_activity_failure_init(&f);
    f.message = message;
    f.type = type;
    f.non_retryable = non_retryable;
    call_ok(tw_worker_fail_activity_task(h->w, h->token, h->token_len, &f, cq, tag_of(h, H_ACT_DONE)),
            "fail activity");
    h->running = false;
}

static void heartbeat(host *h, const char *json)
{
    tw_payloads *p = json ? json_list(json) : NULL;
    call_ok(tw_worker_heartbeat_activity_task(h->w, h->token, h->token_len, p), "heartbeat");
    tw_payloads_free(p);
}

static void report_cancelled(host *h)
{
    tw_payloads *p = json_list("\"cancelled details\"");
    call_ok(tw_worker_report_activity_task_cancelled(h->w, h->token, h->token_len, p, cq, tag_of(h, H_ACT_DONE)),
            "report cancelled");
    tw_payloads_free(p);
    h->running = false;
}

static bool is_start(const tw_activity_task *t)
{
    return tw_activity_task_kind_of(t) == TW_ACTIVITY_TASK_START;
}

/* Echo: completes with its first argument. */
static void echo(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    char arg[256];
    first_text(tw_activity_task_args(t), arg, sizeof(arg));
    complete_with(h, arg[0] ? arg : "null");
}

/* ---- setup ---- */

static void setup(void)
{
    const char *address = getenv("TW_TEST_ADDRESS");
    cr_assert(address && *address, "TW_TEST_ADDRESS is not set: integration tests need the host:port of a "
                                   "Temporal dev server (start one with `python3 scripts/devserver.py start`)");
    tw_runtime_options ro;
    tw_runtime_options_init(&ro);
    ro.log = log_sink;
    ro.log_level = TW_LOG_DEBUG;
    __atomic_store_n(&eager_count, 0, __ATOMIC_RELAXED);
    call_ok(tw_runtime_new(&ro, &rt), "runtime");
    call_ok(tw_cq_new(&cq), "cq");
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    call_ok(tw_client_new(rt, &o, &client), "client");
    call_ok(tw_client_connect(client, cq, 9999), "connect");
    tw_event *ev = NULL;
    call_ok(tw_cq_next(cq, WAIT_MS, &ev), "connect event");
    cr_assert_eq(tw_event_status(ev), 0, "connect: %s", tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
    host_count = 0;
}

static void teardown(void)
{
    for (int i = 0; i < host_count; i++)
        tw_worker_free(hosts[i].w);
    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
}

TestSuite(activity, .init = setup, .fini = teardown, .timeout = 120);

/* ---- tests ---- */

static char seen_info[512];

static void echo_and_describe(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    tw_retry_policy rp;
    tw_retry_policy_init(&rp);
    call_ok(tw_activity_task_retry_policy(t, &rp), "retry policy");
    snprintf(seen_info, sizeof(seen_info), "%d|%s|%s|%s|%s|%d|%lld|%lld|%lld|%zu|%s", rp.maximum_attempts,
             tw_activity_task_activity_type(t),
             tw_activity_task_activity_id(t), tw_activity_task_workflow_type(t), tw_activity_task_namespace(t),
             tw_activity_task_attempt(t), (long long)tw_activity_task_start_to_close_timeout_ms(t),
             (long long)tw_activity_task_heartbeat_timeout_ms(t),
             (long long)(tw_activity_task_scheduled_time(t) > 0 && tw_activity_task_started_time(t) > 0),
             tw_payloads_count(tw_activity_task_args(t)), tw_activity_task_workflow_id(t));
    echo(h, t);
}

Test(activity, completes_with_a_result)
{
    char tq[64], wid[64], input[256], want[512];
    unique(tq, sizeof(tq), "act-ok");
    unique(wid, sizeof(wid), "act-ok");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = echo_and_describe;
    snprintf(input, sizeof(input),
             "{\"activity_type\": \"Echo\", \"activity_id\": \"echo-1\", \"args\": [{\"n\": 42}, 7], "
             "\"start_to_close_ms\": 10000, \"heartbeat_timeout_ms\": 3000}");
    start_caller(wid, tq, input);
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "{\"n\":42}");
    tw_event_free(ev);
    snprintf(want, sizeof(want), "1|Echo|echo-1|ActivityCaller|default|1|10000|3000|1|2|%s", wid);
    cr_expect_str_eq(seen_info, want);
    cr_expect_eq(h->dones, 1);
    cr_expect_eq(h->done_errors, 0);
    host_shutdown(h);
}

/* Fails on attempt 1 (retryable), completes with the attempt number on attempt 2. */
static void flaky(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    if (h->attempt == 1) {
        fail_with(h, "first try fails", "Flaky", 0);
    } else {
        char n[16];
        snprintf(n, sizeof(n), "%d", h->attempt);
        complete_with(h, n);
    }
}

Test(activity, retryable_failure_then_success_on_attempt_2)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-retry");
    unique(wid, sizeof(wid), "act-retry");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = flaky;
    start_caller(wid, tq, "{\"activity_type\": \"Flaky\", \"retry\": {\"max_attempts\": 3, "
                          "\"initial_interval_ms\": 100, \"backoff\": 1.0}}");
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "2");
    tw_event_free(ev);
    cr_expect_eq(h->starts, 2);
    host_shutdown(h);
}

static void boom(host *h, const tw_activity_task *t)
{
    if (is_start(t))
        fail_with(h, "it went boom", "Boom", 1);
}

Test(activity, non_retryable_failure_reaches_the_workflow)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-boom");
    unique(wid, sizeof(wid), "act-boom");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = boom;
    start_caller(wid, tq, "{\"activity_type\": \"Boom\", \"retry\": {\"max_attempts\": 5, "
                          "\"initial_interval_ms\": 100}}");
    tw_event *ev = await_result(wid);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_str_eq(tw_failure_activity_type(tw_event_failure(ev)), "Boom");
    cr_expect_eq(tw_failure_kind_of(cause), TW_FAILURE_APPLICATION);
    cr_expect_str_eq(tw_failure_application_type(cause), "Boom");
    cr_expect_str_eq(tw_failure_message(cause), "it went boom");
    cr_expect(tw_failure_non_retryable(cause));
    tw_event_free(ev);
    cr_expect_eq(h->starts, 1, "a non-retryable failure is not retried");
    host_shutdown(h);
}

/* Fails with a hand-encoded Failure that has a cause: the chain reaches the workflow. */
static void fail_encoded(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    /* Failure{message "outer", cause Failure{message "inner", app{type "Inner"}}, app{type "Outer", non_retryable}} */
    static const uint8_t inner[] = {0x0a, 5, 'i', 'n', 'n', 'e', 'r', 0x2a, 7, 0x0a, 5, 'I', 'n', 'n', 'e', 'r'};
    uint8_t outer[64];
    size_t n = 0;
    outer[n++] = 0x0a;
    outer[n++] = 5;
    memcpy(outer + n, "outer", 5);
    n += 5;
    outer[n++] = 0x22;
    outer[n++] = (uint8_t)sizeof(inner);
    memcpy(outer + n, inner, sizeof(inner));
    n += sizeof(inner);
    static const uint8_t app[] = {0x2a, 9, 0x0a, 5, 'O', 'u', 't', 'e', 'r', 0x10, 1};
    memcpy(outer + n, app, sizeof(app));
    n += sizeof(app);
    call_fails(tw_worker_fail_activity_task_encoded(h->w, h->token, h->token_len, (const uint8_t *)"\xff\xff", 2, cq,
                                                    tag_of(h, H_ACT_DONE)),
               TW_EPROTO, "garbage failure", "not a serialized");
    call_ok(tw_worker_fail_activity_task_encoded(h->w, h->token, h->token_len, outer, n, cq, tag_of(h, H_ACT_DONE)),
            "fail encoded");
    h->running = false;
}

Test(activity, encoded_failure_keeps_its_cause_chain)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-enc");
    unique(wid, sizeof(wid), "act-enc");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = fail_encoded;
    start_caller(wid, tq, "{\"activity_type\": \"Encoded\"}");
    tw_event *ev = await_result(wid);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_str_eq(tw_failure_message(cause), "outer");
    cr_expect_str_eq(tw_failure_application_type(cause), "Outer");
    const tw_failure *inner = tw_failure_cause(cause);
    cr_assert_not_null(inner);
    cr_expect_str_eq(tw_failure_message(inner), "inner");
    cr_expect_str_eq(tw_failure_application_type(inner), "Inner");
    tw_event_free(ev);
    host_shutdown(h);
}

/* Never answers: a START is left running; a CANCEL is reported as cancelled. */
static void silent(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        report_cancelled(h);
}

static bool cancelled_and_done(void *arg)
{
    host *h = arg;
    return h->cancels > 0 && h->dones > 0;
}

Test(activity, heartbeat_timeout_fails_the_activity_and_cancels_it_locally)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-hbto");
    unique(wid, sizeof(wid), "act-hbto");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = silent;
    start_caller(wid, tq, "{\"activity_type\": \"Silent\", \"heartbeat_timeout_ms\": 1000, "
                          "\"start_to_close_ms\": 60000}");
    tw_event *ev = await_result(wid);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_eq(tw_failure_kind_of(cause), TW_FAILURE_TIMEOUT);
    cr_expect_eq(tw_failure_timeout_type(cause), 4 /* TIMEOUT_TYPE_HEARTBEAT */);
    tw_event_free(ev);
    /* The worker's own timer (timeout + 5 s) then cancels the task; its outcome is not sent to the server. */
    pump(0, cancelled_and_done, h, "the local timeout's CANCEL");
    cr_expect_eq(h->cancel_reason, TW_ACTIVITY_CANCEL_REASON_TIMED_OUT);
    cr_expect_eq(h->last_done_status, 0);
    host_shutdown(h);
}

/* Heartbeats every pump tick until a CANCEL arrives, then reports cancelled. */
static void heartbeating(host *h)
{
    if (h->running && h->cancels == 0)
        heartbeat(h, "\"beat\"");
}

Test(activity, cancellation_arrives_through_heartbeat)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-cancel");
    unique(wid, sizeof(wid), "act-cancel");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = silent;
    h->on_idle = heartbeating;
    start_caller(wid, tq, "{\"activity_type\": \"Heartbeater\", \"heartbeat_timeout_ms\": 1000, "
                          "\"cancel_after_ms\": 300, \"cancellation_type\": \"wait\"}");
    tw_event *ev = await_result(wid);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_eq(tw_failure_kind_of(cause), TW_FAILURE_CANCELED, "cause \"%s\" is not a cancellation",
                 tw_failure_message(cause));
    char details[64];
    first_text(tw_failure_details(cause), details, sizeof(details));
    cr_expect_str_eq(details, "\"cancelled details\"");
    tw_event_free(ev);
    cr_expect_eq(h->cancels, 1);
    cr_expect_eq(h->cancel_reason, TW_ACTIVITY_CANCEL_REASON_CANCELLED);
    cr_expect_eq(h->done_errors, 0);
    host_shutdown(h);
}

/* Attempt 1: three heartbeats in a row (the last two throttled), then a retryable failure. */
static void checkpointing(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    if (h->attempt == 1) {
        heartbeat(h, "\"one\"");
        heartbeat(h, "\"two\"");
        heartbeat(h, "\"three\"");
        fail_with(h, "crash after checkpoint", "Crash", 0);
    } else {
        complete_with(h, h->details[0] ? h->details : "null");
    }
}

Test(activity, latest_heartbeat_details_reach_the_next_attempt)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-details");
    unique(wid, sizeof(wid), "act-details");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = checkpointing;
    start_caller(wid, tq, "{\"activity_type\": \"Checkpoint\", \"heartbeat_timeout_ms\": 10000, "
                          "\"retry\": {\"max_attempts\": 2, \"initial_interval_ms\": 100}}");
    tw_event *ev = await_result(wid);
    /* The throttled "three" was flushed before the failure was reported. */
    expect_completed_with(ev, "\"three\"");
    tw_event_free(ev);
    host_shutdown(h);
}

static bool started(void *arg)
{
    return ((host *)arg)->starts > 0;
}

static bool started_twice(void *arg)
{
    return ((host *)arg)->starts > 1;
}

/* Attempt 1: two heartbeats, then left running (the test decides); attempt 2 returns the details it got. */
static void two_beats(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    if (h->attempt == 1) {
        heartbeat(h, "\"first\"");
        heartbeat(h, "\"second\"");
    } else {
        complete_with(h, h->details[0] ? h->details : "null");
    }
}

/* Drops the running attempt without flushing its heartbeats, and fails it through the client. */
static void drop_and_fail(host *h)
{
    call_ok(tw_worker_release_activity_task(h->w, h->token, h->token_len), "release");
    tw_activity_ref ref;
    tw_activity_ref_init(&ref);
    ref.task_token = h->token;
    ref.task_token_len = h->token_len;
    tw_activity_failure f;
    tw_activity_failure_init(&f);
    f.message = "dropped";
    call_ok(tw_client_fail_activity(client, &ref, &f, cq, T_CLIENT_CALL), "client fail");
    tw_event *ev = pump(T_CLIENT_CALL, NULL, NULL, "the async failure");
    cr_assert_eq(tw_event_status(ev), 0, "fail: %s", tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
}

Test(activity, heartbeats_are_throttled)
{
    char tq[64], wid[64], wid2[64];
    unique(tq, sizeof(tq), "act-throttle");
    unique(wid, sizeof(wid), "act-throttle");
    unique(wid2, sizeof(wid2), "act-throttle");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = two_beats;
    /* Heartbeat timeout 10 s: the second heartbeat waits 8 s, so the server only ever saw the first. */
    start_caller(wid, tq, "{\"activity_type\": \"Beats\", \"heartbeat_timeout_ms\": 10000, "
                          "\"retry\": {\"max_attempts\": 2, \"initial_interval_ms\": 100}}");
    pump(0, started, h, "the activity task");
    run_for(300);
    drop_and_fail(h);
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "\"first\"");
    tw_event_free(ev);

    /* Heartbeat timeout 1 s: the second heartbeat goes out when the 800 ms window ends. */
    h->starts = 0;
    start_caller(wid2, tq, "{\"activity_type\": \"Beats\", \"heartbeat_timeout_ms\": 1000, "
                           "\"retry\": {\"max_attempts\": 2, \"initial_interval_ms\": 100}}");
    pump(0, started, h, "the second activity task");
    run_for(1300);
    drop_and_fail(h);
    ev = await_result(wid2);
    expect_completed_with(ev, "\"second\"");
    tw_event_free(ev);
    host_shutdown(h);
}

/* Hands the task over to async completion. */
static void go_async(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    call_ok(tw_worker_release_activity_task(h->w, h->token, h->token_len), "release");
    call_fails(tw_worker_heartbeat_activity_task(h->w, h->token, h->token_len, NULL), TW_EINVAL,
               "heartbeat of a released task", "no running activity task");
}

Test(activity, async_completion_by_token)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-async-tok");
    unique(wid, sizeof(wid), "act-async-tok");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = go_async;
    start_caller(wid, tq, "{\"activity_type\": \"Async\", \"heartbeat_timeout_ms\": 20000}");
    pump(0, started, h, "the activity task");

    tw_activity_ref ref;
    tw_activity_ref_init(&ref);
    ref.task_token = h->token;
    ref.task_token_len = h->token_len;
    tw_payloads *details = json_list("\"progress\"");
    call_ok(tw_client_heartbeat_activity(client, &ref, details, cq, T_CLIENT_CALL), "client heartbeat");
    tw_payloads_free(details);
    tw_event *ev = await_client_call("the heartbeat");
    cr_assert_eq(tw_event_status(ev), 0, "heartbeat: %s", tw_error_message(tw_event_error(ev)));
    cr_expect_eq(tw_event_kind_of(ev), TW_EVENT_ACTIVITY_HEARTBEAT);
    cr_expect_eq(tw_event_activity_cancel_requested(ev), 0);
    tw_event_free(ev);

    tw_payloads *result = json_list("\"done later\"");
    call_ok(tw_client_complete_activity(client, &ref, result, cq, T_CLIENT_CALL), "client complete");
    tw_payloads_free(result);
    ev = await_client_call("the async completion");
    cr_assert_eq(tw_event_status(ev), 0, "complete: %s", tw_error_message(tw_event_error(ev)));
    cr_expect_eq(tw_event_kind_of(ev), TW_EVENT_ACTIVITY_DONE);
    tw_event_free(ev);

    ev = await_result(wid);
    expect_completed_with(ev, "\"done later\"");
    tw_event_free(ev);

    /* Completing it again: the server no longer knows the activity. */
    call_ok(tw_client_complete_activity(client, &ref, NULL, cq, T_CLIENT_CALL), "complete again");
    ev = await_client_call("the second completion");
    cr_expect_eq(tw_event_status(ev), TW_ENOTFOUND, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
    host_shutdown(h);
}

Test(activity, async_completion_by_ids)
{
    char tq[64], wid[64], wid2[64], input[256];
    unique(tq, sizeof(tq), "act-async-ids");
    unique(wid, sizeof(wid), "act-async-ids");
    unique(wid2, sizeof(wid2), "act-async-ids");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = go_async;
    snprintf(input, sizeof(input), "{\"activity_type\": \"Async\", \"activity_id\": \"by-id\"}");
    start_caller(wid, tq, input);
    pump(0, started, h, "the activity task");

    tw_activity_ref ref;
    tw_activity_ref_init(&ref);
    ref.workflow_id = wid;
    ref.activity_id = "by-id";
    call_ok(tw_client_heartbeat_activity(client, &ref, NULL, cq, T_CLIENT_CALL), "client heartbeat");
    tw_event *ev = await_client_call("the heartbeat by ids");
    cr_assert_eq(tw_event_status(ev), 0, "heartbeat: %s", tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
    tw_payloads *result = json_list("{\"by\":\"ids\"}");
    call_ok(tw_client_complete_activity(client, &ref, result, cq, T_CLIENT_CALL), "client complete");
    tw_payloads_free(result);
    ev = await_client_call("the async completion by ids");
    cr_assert_eq(tw_event_status(ev), 0, "complete: %s", tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
    ev = await_result(wid);
    expect_completed_with(ev, "{\"by\":\"ids\"}");
    tw_event_free(ev);

    /* A second workflow, failed by ids with an application failure. */
    start_caller(wid2, tq, input);
    pump(0, started_twice, h, "the second activity task");
    ref.workflow_id = wid2;
    tw_activity_failure f;
    tw_activity_failure_init(&f);
    f.message = "failed from outside";
    f.type = "External";
    f.non_retryable = 1;
    call_ok(tw_client_fail_activity(client, &ref, &f, cq, T_CLIENT_CALL), "client fail");
    ev = await_client_call("the async failure by ids");
    cr_assert_eq(tw_event_status(ev), 0, "fail: %s", tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
    ev = await_result(wid2);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_str_eq(tw_failure_application_type(cause), "External");
    cr_expect_str_eq(tw_failure_message(cause), "failed from outside");
    tw_event_free(ev);

    ref.workflow_id = "no-such-workflow-anywhere";
    call_ok(tw_client_complete_activity(client, &ref, NULL, cq, T_CLIENT_CALL), "complete unknown");
    ev = await_client_call("completing an unknown activity");
    cr_expect_eq(tw_event_status(ev), TW_ENOTFOUND, "got %s", tw_strerror(tw_event_status(ev)));
    tw_event_free(ev);
    host_shutdown(h);
}

static int64_t shutdown_at;

static bool shutdown_and_done(void *arg)
{
    host *h = arg;
    return h->shutdown_done && !h->act_polling;
}

Test(activity, shutdown_cancels_running_activities_after_the_grace_period)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-shutdown");
    unique(wid, sizeof(wid), "act-shutdown");
    host *wf = host_new(tq, true, false, NULL);
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.graceful_shutdown_timeout_ms = 800;
    host *a = host_new(tq, false, true, &o);
    a->on_task = silent;
    start_caller(wid, tq, "{\"activity_type\": \"Long\", \"start_to_close_ms\": 60000, "
                          "\"retry\": {\"max_attempts\": 2, \"initial_interval_ms\": 100}}");
    pump(0, started, a, "the activity task");
    shutdown_at = now_ms();
    call_ok(tw_worker_shutdown(a->w, cq, tag_of(a, H_SHUTDOWN)), "shutdown");
    pump(0, shutdown_and_done, a, "the activity worker's shutdown");
    cr_expect_eq(a->cancels, 1);
    cr_expect_eq(a->cancel_reason, TW_ACTIVITY_CANCEL_REASON_WORKER_SHUTDOWN);
    cr_expect_geq(a->cancel_at - shutdown_at, 700, "the CANCEL came %lld ms after shutdown, before the grace period",
                  (long long)(a->cancel_at - shutdown_at));
    cr_expect_eq(a->dones, 1, "the shutdown event came before the activity reported its outcome");
    cr_expect_eq(a->last_done_status, 0);
    cr_expect(a->act_closed, "polls after shutdown complete with TW_ECLOSED");
    tw_worker_free(a->w);
    a->w = NULL;

    /* Reported as a retryable failure, so attempt 2 runs at once on another worker. */
    host *b = host_new(tq, false, true, NULL);
    b->on_task = flaky;
    int64_t t0 = now_ms();
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "2");
    tw_event_free(ev);
    cr_expect_lt(now_ms() - t0, 20000);
    host_shutdown(b);
    host_shutdown(wf);
}

Test(activity, max_concurrent_activities_limits_running_tasks)
{
    char tq[64], wid1[64], wid2[64];
    unique(tq, sizeof(tq), "act-slots");
    unique(wid1, sizeof(wid1), "act-slots");
    unique(wid2, sizeof(wid2), "act-slots");
    host *wf = host_new(tq, true, false, NULL);
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.max_concurrent_activities = 1;
    host *a = host_new(tq, false, true, &o);
    start_caller(wid1, tq, "{\"activity_type\": \"Slot\", \"args\": [1]}");
    /* The second workflow starts once the first task runs, so "first" is always wid1's. */
    pump(0, started, a, "the first activity task");
    start_caller(wid2, tq, "{\"activity_type\": \"Slot\", \"args\": [2]}");
    /* With one slot taken, the second task is not even polled for. */
    run_for(1500);
    cr_expect_eq(a->starts, 1, "a second task started while the only slot was taken");
    complete_with(a, "\"first\"");
    a->on_task = echo;
    tw_event *ev = await_result(wid2);
    tw_event_free(ev);
    ev = await_result(wid1);
    expect_completed_with(ev, "\"first\"");
    tw_event_free(ev);
    cr_expect_eq(a->starts, 2);
    host_shutdown(a);
    host_shutdown(wf);
}

Test(activity, the_caller_workflow_rejects_bad_input)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-badin");
    unique(wid, sizeof(wid), "act-badin");
    host *h = host_new(tq, true, false, NULL);
    start_caller(wid, tq, "{\"args\": [1]}");
    tw_event *ev = await_result(wid);
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_FAILED);
    cr_expect_str_eq(tw_failure_application_type(tw_event_failure(ev)), "BadInput");
    tw_event_free(ev);
    host_shutdown(h);
}

Test(activity, bad_arguments_are_rejected_with_clear_errors)
{
    tw_worker_options o;
    tw_worker_options_init(&o);
    cr_expect_eq(o.max_concurrent_activities, 100);
    cr_expect_eq(o.activity_pollers, 2);
    cr_expect_eq(o.graceful_shutdown_timeout_ms, 0);
    cr_expect_eq(o.no_remote_activities, 0);
    cr_expect_eq(o.max_heartbeat_throttle_interval_ms, 60000);
    cr_expect_eq(o.default_heartbeat_throttle_interval_ms, 30000);
    cr_expect(o.max_activities_per_second == 0 && o.max_task_queue_activities_per_second == 0);
    tw_worker *w = NULL;
    o.task_queue = "act-bad-args";
    o.no_activities = 1;
    o.no_workflows = 1;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "both no_*", "no_activities and no_workflows");
    o.no_workflows = 0;
    o.no_activities = 0;
    o.activity_pollers = 0;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "no pollers", "activity_pollers");
    o.activity_pollers = 2;
    o.max_concurrent_activities = 0;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "no slots", "max_concurrent_activities");
    o.max_concurrent_activities = 1;
    o.graceful_shutdown_timeout_ms = -1;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "negative grace", "graceful_shutdown_timeout_ms");
    o.graceful_shutdown_timeout_ms = 0;
    o.max_heartbeat_throttle_interval_ms = -1;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "negative max throttle", "max_heartbeat_throttle_interval_ms");
    o.max_heartbeat_throttle_interval_ms = 60000;
    o.default_heartbeat_throttle_interval_ms = -5;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "negative default throttle",
               "default_heartbeat_throttle_interval_ms must not be negative, got -5");
    o.default_heartbeat_throttle_interval_ms = 30000;
    const double bad_rates[] = {-1, NAN, INFINITY, -INFINITY, 5e-324};
    for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
        o.max_activities_per_second = bad_rates[i];
        call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "bad worker rate", "max_activities_per_second");
        o.max_activities_per_second = 0;
        o.max_task_queue_activities_per_second = bad_rates[i];
        call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "bad task queue rate",
                   "max_task_queue_activities_per_second");
        o.max_task_queue_activities_per_second = 0;
    }
    o.max_activities_per_second = -2.5;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "the bad value is named", "got -2.5");
    o.max_activities_per_second = 0;
    o.no_remote_activities = 1;
    o.no_workflows = 1;
    call_fails(tw_worker_new(client, &o, &w), TW_EINVAL, "local activities only, no workflows",
               "no_remote_activities and no_workflows");
    o.no_workflows = 0;
    o.max_heartbeat_throttle_interval_ms = 0;
    o.default_heartbeat_throttle_interval_ms = 0;
    o.max_activities_per_second = 0.5;
    o.max_task_queue_activities_per_second = 1e6;
    call_ok(tw_worker_new(client, &o, &w), "local-only worker with every new option set");
    tw_worker_free(w);
    tw_worker_options_init(&o);
    o.task_queue = "act-bad-args";
    o.max_concurrent_activities = 1;

    o.no_activities = 1;
    call_ok(tw_worker_new(client, &o, &w), "workflow-only worker");
    call_fails(tw_worker_poll_activity_task(w, cq, 1), TW_EINVAL, "poll with no_activities", "no_activities");
    tw_worker_free(w);
    o.no_activities = 0;
    o.no_workflows = 1;
    call_ok(tw_worker_new(client, &o, &w), "activity-only worker");
    call_fails(tw_worker_poll_activation(w, cq, 1), TW_EINVAL, "poll with no_workflows", "no_workflows");

    static const uint8_t token[] = {1, 2, 3};
    call_fails(tw_worker_poll_activity_task(NULL, cq, 1), TW_EINVAL, "NULL worker", NULL);
    call_fails(tw_worker_complete_activity_task(w, NULL, 0, NULL, cq, 1), TW_EINVAL, "NULL token", "token");
    call_fails(tw_worker_complete_activity_task(w, token, sizeof(token), NULL, cq, 1), TW_EINVAL, "unknown token",
               "no running activity task");
    call_fails(tw_worker_complete_activity_task(w, token, sizeof(token), NULL, NULL, 1), TW_EINVAL, "NULL cq",
               "cq");
    call_fails(tw_worker_heartbeat_activity_task(w, token, sizeof(token), NULL), TW_EINVAL, "unknown token",
               "no running activity task");
    call_fails(tw_worker_release_activity_task(w, token, sizeof(token)), TW_EINVAL, "unknown token", NULL);
    tw_activity_failure f;
    memset(&f, 0, sizeof(f));
    call_fails(tw_worker_fail_activity_task(w, token, sizeof(token), &f, cq, 1), TW_EINVAL, "uninitialised failure",
               "tw_activity_failure_init");
    tw_activity_failure_init(&f);
    call_fails(tw_worker_fail_activity_task(w, token, sizeof(token), &f, cq, 1), TW_EINVAL, "NULL message",
               "message");
    f.message = "x";
    f.next_retry_delay_ms = -5;
    call_fails(tw_worker_fail_activity_task(w, token, sizeof(token), &f, cq, 1), TW_EINVAL, "negative delay",
               "next_retry_delay_ms");
    call_fails(tw_worker_fail_activity_task_encoded(w, token, sizeof(token), NULL, 0, cq, 1), TW_EINVAL,
               "NULL failure", "failure");
    tw_worker_free(w);

    tw_activity_ref ref;
    tw_activity_ref_init(&ref);
    call_fails(tw_client_complete_activity(client, &ref, NULL, cq, 1), TW_EINVAL, "empty ref", "neither");
    ref.task_token = token;
    ref.task_token_len = sizeof(token);
    ref.workflow_id = "wf";
    call_fails(tw_client_complete_activity(client, &ref, NULL, cq, 1), TW_EINVAL, "token and ids", "both");
    ref.task_token = NULL;
    ref.task_token_len = 0;
    call_fails(tw_client_heartbeat_activity(client, &ref, NULL, cq, 1), TW_EINVAL, "ids without activity id",
               "activity_id");
    ref.activity_id = "a";
    ref.workflow_id = "\xff\xfe";
    call_fails(tw_client_report_activity_cancelled(client, &ref, NULL, cq, 1), TW_EINVAL, "bad UTF-8",
               "UTF-8");
    ref.workflow_id = "wf";
    call_fails(tw_client_fail_activity_encoded(client, &ref, (const uint8_t *)"\xff", 1, cq, 1), TW_EPROTO,
               "garbage failure", "Failure");
    memset(&ref, 0, sizeof(ref));
    call_fails(tw_client_complete_activity(client, &ref, NULL, cq, 1), TW_EINVAL, "uninitialised ref",
               "tw_activity_ref_init");
    cr_expect_eq(tw_cq_pending(cq), 0, "a rejected call left an operation pending");
}

Test(activity, freeing_a_worker_with_running_activities_cancels_its_calls)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "act-free");
    unique(wid, sizeof(wid), "act-free");
    host *wf = host_new(tq, true, false, NULL);
    host *a = host_new(tq, false, true, NULL);
    a->on_task = silent;
    start_caller(wid, tq, "{\"activity_type\": \"Abandoned\", \"start_to_close_ms\": 60000}");
    pump(0, started, a, "the activity task");
    heartbeat(a, "\"x\"");
    tw_worker_free(a->w);
    a->w = NULL;
    /* The outstanding poll completes with TW_ECANCELLED. */
    int64_t until = now_ms() + 5000;
    while (a->act_polling && now_ms() < until) {
        tw_event *ev = NULL;
        if (tw_cq_next(cq, 100, &ev) == 0) {
            on_host_event(ev);
            tw_event_free(ev);
        }
    }
    cr_expect(!a->act_polling, "the poll of a freed worker did not complete");
    tw_close_options co;
    tw_close_options_init(&co);
    co.workflow_id = wid;
    call_ok(tw_client_terminate_workflow(client, &co, cq, T_CLIENT_CALL), "terminate");
    tw_event_free(await_client_call("the termination"));
    host_shutdown(wf);
}

Test(activity, a_worker_may_outlive_its_client)
{
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = getenv("TW_TEST_ADDRESS");
    tw_client *other = NULL;
    call_ok(tw_client_new(rt, &o, &other), "client");
    tw_worker_options wo;
    tw_worker_options_init(&wo);
    wo.task_queue = "act-orphan";
    wo.no_workflows = 1;
    tw_worker *w = NULL;
    call_ok(tw_worker_new(other, &wo, &w), "worker");
    call_ok(tw_worker_poll_activity_task(w, cq, 42), "poll");
    tw_client_free(other);
    static const uint8_t token[] = {9};
    call_fails(tw_worker_heartbeat_activity_task(w, token, sizeof(token), NULL), TW_EINVAL, "unknown token", NULL);
    call_ok(tw_worker_shutdown(w, cq, 43), "shutdown");
    bool poll_done = false, shutdown_done = false;
    while (!poll_done || !shutdown_done) {
        tw_event *ev = NULL;
        call_ok(tw_cq_next(cq, WAIT_MS, &ev), "event");
        if (tw_event_tag(ev) == 42) {
            cr_expect_eq(tw_event_status(ev), TW_ECLOSED, "got %s", tw_strerror(tw_event_status(ev)));
            poll_done = true;
        } else if (tw_event_tag(ev) == 43) {
            shutdown_done = true;
        }
        tw_event_free(ev);
    }
    tw_worker_free(w);
}

/* ---- local activities ---- */

static bool saw_local;

static void echo_local(host *h, const tw_activity_task *t)
{
    if (!is_start(t))
        return;
    saw_local = tw_activity_task_is_local(t) && strcmp(tw_activity_task_activity_type(t), "Echo") == 0;
    echo(h, t);
}

Test(activity, local_activity_completes_in_the_same_workflow_task)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "la-ok");
    unique(wid, sizeof(wid), "la-ok");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = echo_local;
    saw_local = false;
    start_caller(wid, tq, "{\"activity_type\": \"Echo\", \"local\": true, \"args\": [{\"n\": 5}], "
                          "\"start_to_close_ms\": 5000}");
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "{\"n\":5}");
    tw_event_free(ev);
    cr_expect(saw_local, "the task is a local Echo task");
    cr_expect_eq(h->starts, 1);
    cr_expect_eq(h->dones, 1);
    cr_expect_eq(h->done_errors, 0);
    host_shutdown(h);
}

Test(activity, local_activity_is_retried_locally)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "la-retry");
    unique(wid, sizeof(wid), "la-retry");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = flaky;
    start_caller(wid, tq, "{\"activity_type\": \"Flaky\", \"local\": true, \"retry\": {\"max_attempts\": 3, "
                          "\"initial_interval_ms\": 100, \"backoff\": 1.0}}");
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "2");
    tw_event_free(ev);
    cr_expect_eq(h->starts, 2);
    host_shutdown(h);
}

Test(activity, local_activity_non_retryable_failure_reaches_the_workflow)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "la-boom");
    unique(wid, sizeof(wid), "la-boom");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = boom;
    start_caller(wid, tq, "{\"activity_type\": \"Boom\", \"local\": true, \"retry\": {\"max_attempts\": 5, "
                          "\"initial_interval_ms\": 100}}");
    tw_event *ev = await_result(wid);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_str_eq(tw_failure_activity_type(tw_event_failure(ev)), "Boom");
    cr_expect_eq(tw_failure_kind_of(cause), TW_FAILURE_APPLICATION);
    cr_expect_str_eq(tw_failure_application_type(cause), "Boom");
    cr_expect_str_eq(tw_failure_message(cause), "it went boom");
    tw_event_free(ev);
    cr_expect_eq(h->starts, 1, "a non-retryable failure is not retried");
    host_shutdown(h);
}

/* ---- local activity retries past the local retry threshold ---- */

/* The workflow's whole history as proto3 JSON (one page; the caller frees it with tw_free). */
static char *history_json(const char *workflow_id)
{
    tw_history_options o;
    tw_history_options_init(&o);
    o.workflow_id = workflow_id;
    call_ok(tw_client_fetch_history(client, &o, cq, T_HISTORY), "fetch history");
    tw_event *ev = pump(T_HISTORY, NULL, NULL, "the history");
    cr_assert_eq(tw_event_status(ev), 0, "history: %s", tw_error_message(tw_event_error(ev)));
    char *json = NULL;
    call_ok(tw_history_to_json(tw_event_history(ev), &json), "history to json");
    tw_event_free(ev);
    return json;
}

static int occurrences(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Fails every attempt (retryable). */
static void always_fails(host *h, const tw_activity_task *t)
{
    if (is_start(t))
        fail_with(h, "fails again", "Again", 0);
}

Test(activity, local_activity_retry_past_its_threshold_waits_on_a_workflow_timer)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "la-backoff");
    unique(wid, sizeof(wid), "la-backoff");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = flaky;
    /* 1.5 s before attempt 2, above the 1 s threshold: the workflow waits, not the worker. */
    start_caller(wid, tq, "{\"activity_type\": \"Flaky\", \"local\": true, \"local_retry_threshold_ms\": 1000, "
                          "\"retry\": {\"max_attempts\": 3, \"initial_interval_ms\": 1500, \"backoff\": 1.0}}");
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "2");
    tw_event_free(ev);
    cr_expect_eq(h->starts, 2);
    char *json = history_json(wid);
    cr_expect_eq(occurrences(json, "EVENT_TYPE_MARKER_RECORDED"), 2, "the failed attempt, then the result");
    cr_expect_eq(occurrences(json, "\"backoff\""), 0, "marker data is base64 in the JSON");
    cr_expect_eq(occurrences(json, "EVENT_TYPE_TIMER_STARTED"), 1);
    cr_expect_eq(occurrences(json, "EVENT_TYPE_TIMER_FIRED"), 1);
    cr_expect_eq(occurrences(json, "\"startToFireTimeout\":\"1.500s\""), 1, "%s", json);
    tw_free(json);
    host_shutdown(h);
}

Test(activity, local_activity_schedule_to_close_counts_across_backoff_timers)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "la-backoff-s2c");
    unique(wid, sizeof(wid), "la-backoff-s2c");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = always_fails;
    /* 2 s between attempts, 3 s in all: attempt 2 (after a timer) is the last one. */
    start_caller(wid, tq, "{\"activity_type\": \"Again\", \"local\": true, \"local_retry_threshold_ms\": 1000, "
                          "\"schedule_to_close_ms\": 3000, "
                          "\"retry\": {\"max_attempts\": 0, \"initial_interval_ms\": 2000, \"backoff\": 1.0}}");
    tw_event *ev = await_result(wid);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_eq(tw_failure_retry_state(tw_event_failure(ev)), 3 /* RETRY_STATE_TIMEOUT */);
    /* Attempt 2's own failure; on a very slow machine the deadline passes during the timer instead. */
    cr_expect(tw_failure_kind_of(cause) == TW_FAILURE_APPLICATION || tw_failure_kind_of(cause) == TW_FAILURE_TIMEOUT,
              "cause: %s", tw_failure_message(cause));
    cr_expect(h->starts == 2 || (h->starts == 1 && tw_failure_kind_of(cause) == TW_FAILURE_TIMEOUT), "starts %d",
              h->starts);
    tw_event_free(ev);
    char *json = history_json(wid);
    cr_expect_eq(occurrences(json, "EVENT_TYPE_TIMER_STARTED"), 1, "one backoff timer, no more retries");
    tw_free(json);
    host_shutdown(h);
}

Test(activity, local_activity_cancelled_while_its_retry_waits_on_a_timer)
{
    char tq[64], wid[64];
    unique(tq, sizeof(tq), "la-backoff-cancel");
    unique(wid, sizeof(wid), "la-backoff-cancel");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = always_fails;
    /* 30 s before attempt 2, on a workflow timer; the cancellation comes 1.5 s in. */
    start_caller(wid, tq, "{\"activity_type\": \"Again\", \"local\": true, \"local_retry_threshold_ms\": 1000, "
                          "\"cancel_after_ms\": 1500, "
                          "\"retry\": {\"max_attempts\": 0, \"initial_interval_ms\": 30000, \"backoff\": 1.0}}");
    tw_event *ev = await_result(wid);
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_FAILED);
    cr_expect_str_eq(tw_failure_application_type(tw_event_failure(ev)), "Cancelled");
    tw_event_free(ev);
    cr_expect_eq(h->starts, 1, "no attempt after the cancellation");
    char *json = history_json(wid);
    cr_expect_eq(occurrences(json, "EVENT_TYPE_TIMER_CANCELED"), 1, "the backoff timer was cancelled");
    cr_expect_eq(occurrences(json, "\"startToFireTimeout\":\"30s\""), 1, "%s", json);
    tw_free(json);
    host_shutdown(h);
}

/* ---- max_concurrent_local_activities ---- */

static int want_starts;

static bool starts_reached(void *arg)
{
    return ((host *)arg)->starts >= want_starts;
}

/* A host running local activities one at a time; on_task NULL: a START is only recorded, the test completes it. */
static host *one_local_slot_host(const char *tq)
{
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.max_concurrent_local_activities = 1;
    return host_new(tq, true, true, &o);
}

Test(activity, local_activities_beyond_the_limit_wait_for_a_slot)
{
    char tq[64], wid1[64], wid2[64];
    unique(tq, sizeof(tq), "la-slots");
    unique(wid1, sizeof(wid1), "la-slots-1");
    unique(wid2, sizeof(wid2), "la-slots-2");
    host *h = one_local_slot_host(tq);
    start_caller(wid1, tq, "{\"activity_type\": \"Hold\", \"local\": true, \"start_to_close_ms\": 60000}");
    want_starts = 1;
    pump(0, starts_reached, h, "the first local activity's START");
    start_caller(wid2, tq, "{\"activity_type\": \"Hold\", \"local\": true, \"start_to_close_ms\": 60000}");
    run_for(1500);
    cr_expect_eq(h->starts, 1, "the second local activity waits while the first holds the only slot");
    complete_with(h, "1");
    want_starts = 2;
    pump(0, starts_reached, h, "the second local activity's START once the first finished");
    complete_with(h, "2");
    tw_event *ev = await_result(wid1);
    expect_completed_with(ev, "1");
    tw_event_free(ev);
    ev = await_result(wid2);
    expect_completed_with(ev, "2");
    tw_event_free(ev);
    cr_expect_eq(h->starts, 2);
    host_shutdown(h);
}

Test(activity, queued_local_activity_times_out_schedule_to_start)
{
    char tq[64], wid1[64], wid2[64];
    unique(tq, sizeof(tq), "la-s2s");
    unique(wid1, sizeof(wid1), "la-s2s-1");
    unique(wid2, sizeof(wid2), "la-s2s-2");
    host *h = one_local_slot_host(tq);
    start_caller(wid1, tq, "{\"activity_type\": \"Hold\", \"local\": true, \"start_to_close_ms\": 60000}");
    want_starts = 1;
    pump(0, starts_reached, h, "the first local activity's START");
    start_caller(wid2, tq, "{\"activity_type\": \"Hold\", \"local\": true, \"start_to_close_ms\": 60000, "
                           "\"schedule_to_start_ms\": 300, \"retry\": {\"max_attempts\": 5}}");
    tw_event *ev = await_result(wid2);
    const tw_failure *cause = activity_cause(ev);
    cr_expect_eq(tw_failure_kind_of(cause), TW_FAILURE_TIMEOUT, "cause: %s", tw_failure_message(cause));
    cr_expect_eq(tw_failure_timeout_type(cause), 2 /* TIMEOUT_TYPE_SCHEDULE_TO_START */);
    tw_event_free(ev);
    cr_expect_eq(h->starts, 1, "the queued local activity never ran");
    complete_with(h, "1");
    ev = await_result(wid1);
    expect_completed_with(ev, "1");
    tw_event_free(ev);
    cr_expect_eq(h->starts, 1);
    host_shutdown(h);
}

/* ---- eager activities ---- */

static int eager_seen(void)
{
    return __atomic_load_n(&eager_count, __ATOMIC_RELAXED);
}

/* Runs one Echo activity through ActivityCaller on queue tq (extra: more input members) and checks the result. */
static void run_echo(const char *tq, const char *extra)
{
    char wid[64], input[512];
    unique(wid, sizeof(wid), "eager");
    snprintf(input, sizeof(input), "{\"activity_type\": \"Echo\", \"args\": [\"hi\"]%s}", extra);
    start_caller(wid, tq, input);
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "\"hi\"");
    tw_event_free(ev);
}

/*
 * A worker that runs both sides gets the activity in the server's answer to
 * the workflow task that scheduled it (the dev server allows eager
 * execution), not through an activity task poll.
 */
Test(activity, eager_activity_comes_with_the_workflow_task_answer)
{
    char tq[64];
    unique(tq, sizeof(tq), "eager-on");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = echo;
    run_echo(tq, "");
    cr_expect_eq(eager_seen(), 1, "the activity came eagerly");
    cr_expect_eq(h->starts, 1);
    cr_expect_eq(h->dones, 1);
    cr_expect_eq(h->done_errors, 0);
    run_echo(tq, "");
    cr_expect_eq(eager_seen(), 2, "so did the second one (its slot was freed)");
    host_shutdown(h); /* a reservation left behind would keep the shutdown waiting */
}

Test(activity, no_eager_activities_worker_option_polls_instead)
{
    char tq[64];
    unique(tq, sizeof(tq), "eager-off");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.no_eager_activities = 1;
    host *h = host_new(tq, true, true, &o);
    h->on_task = echo;
    run_echo(tq, "");
    cr_expect_eq(eager_seen(), 0);
    cr_expect_eq(h->starts, 1);
    host_shutdown(h);
}

Test(activity, no_eager_execution_activity_option_polls_instead)
{
    char tq[64];
    unique(tq, sizeof(tq), "eager-no");
    host *h = host_new(tq, true, true, NULL);
    h->on_task = echo;
    run_echo(tq, ", \"no_eager\": true");
    cr_expect_eq(eager_seen(), 0);
    cr_expect_eq(h->starts, 1);
    host_shutdown(h);
}

Test(activity, no_eager_activity_on_another_task_queue)
{
    char tq[64], other[64], extra[128];
    unique(tq, sizeof(tq), "eager-wf");
    unique(other, sizeof(other), "eager-act");
    host *wf = host_new(tq, true, true, NULL);
    host *act = host_new(other, false, true, NULL);
    wf->on_task = echo;
    act->on_task = echo;
    snprintf(extra, sizeof(extra), ", \"task_queue\": \"%s\"", other);
    run_echo(tq, extra);
    cr_expect_eq(eager_seen(), 0);
    cr_expect_eq(wf->starts, 0);
    cr_expect_eq(act->starts, 1);
    host_shutdown(act);
    host_shutdown(wf);
}

/* ---- worker options of the activity side ---- */

/*
 * no_remote_activities: the worker runs the local activity its workflow
 * schedules (its activity task polls deliver it), but not the remote one
 * on the same queue: that one waits until a normal worker comes.
 */
Test(activity, no_remote_activities_runs_local_activities_only)
{
    char tq[64], wid[64], wid2[64];
    unique(tq, sizeof(tq), "no-remote");
    unique(wid, sizeof(wid), "no-remote");
    unique(wid2, sizeof(wid2), "no-remote");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.no_remote_activities = 1;
    host *local = host_new(tq, true, true, &o);
    local->on_task = echo_local;
    saw_local = false;
    start_caller(wid, tq, "{\"activity_type\": \"Echo\", \"local\": true, \"args\": [\"local\"]}");
    tw_event *ev = await_result(wid);
    expect_completed_with(ev, "\"local\"");
    tw_event_free(ev);
    cr_expect(saw_local, "the local activity ran on the local-only worker");
    cr_expect_eq(local->starts, 1);

    start_caller(wid2, tq, "{\"activity_type\": \"Echo\", \"args\": [\"remote\"]}");
    run_for(2000);
    cr_expect_eq(local->starts, 1, "the local-only worker ran the remote activity");
    cr_expect_eq(eager_seen(), 0, "the local-only worker asked for it eagerly");
    host *normal = host_new(tq, false, true, NULL);
    normal->on_task = echo;
    ev = await_result(wid2);
    expect_completed_with(ev, "\"remote\"");
    tw_event_free(ev);
    cr_expect_eq(normal->starts, 1);
    cr_expect_eq(local->starts, 1);
    host_shutdown(normal);
    host_shutdown(local);
}

/*
 * Runs two_beats (two heartbeats at once, then the attempt is dropped) on a
 * worker with options o and returns, through the second attempt, the
 * heartbeat details the server had: "second" only when the throttle
 * window ended while the test ran for 600 ms.
 */
static void beats_and_details(tw_worker_options *o, const char *timeout_member, char *out, size_t size)
{
    char tq[64], wid[64], input[256];
    unique(tq, sizeof(tq), "hb-opt");
    unique(wid, sizeof(wid), "hb-opt");
    host *h = host_new(tq, true, true, o);
    h->on_task = two_beats;
    snprintf(input, sizeof(input), "{\"activity_type\": \"Beats\"%s, \"retry\": {\"max_attempts\": 2, "
             "\"initial_interval_ms\": 100}}", timeout_member);
    start_caller(wid, tq, input);
    pump(0, started, h, "the activity task");
    run_for(600);
    drop_and_fail(h);
    tw_event *ev = await_result(wid);
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_COMPLETED);
    first_text(tw_event_payloads(ev), out, size);
    tw_event_free(ev);
    host_shutdown(h);
}

Test(activity, default_heartbeat_throttle_interval_applies_without_a_heartbeat_timeout)
{
    char details[64];
    beats_and_details(NULL, "", details, sizeof(details));
    cr_expect_str_eq(details, "\"first\"", "with the 30 s default the second heartbeat waits");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.default_heartbeat_throttle_interval_ms = 200;
    beats_and_details(&o, "", details, sizeof(details));
    cr_expect_str_eq(details, "\"second\"", "with 200 ms the second heartbeat went out");
}

Test(activity, max_heartbeat_throttle_interval_caps_the_window)
{
    char details[64];
    /* A 10 s heartbeat timeout: an 8 s window, unless the max is smaller. */
    beats_and_details(NULL, ", \"heartbeat_timeout_ms\": 10000", details, sizeof(details));
    cr_expect_str_eq(details, "\"first\"");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.max_heartbeat_throttle_interval_ms = 200;
    beats_and_details(&o, ", \"heartbeat_timeout_ms\": 10000", details, sizeof(details));
    cr_expect_str_eq(details, "\"second\"");
    /* The max caps the default interval too. */
    o.default_heartbeat_throttle_interval_ms = 30000;
    beats_and_details(&o, "", details, sizeof(details));
    cr_expect_str_eq(details, "\"second\"");
}

/* A task queue rate (kept by the server) turns eager activities off; activities still run, through polls. */
Test(activity, max_task_queue_activities_per_second_turns_eager_activities_off)
{
    char tq[64];
    unique(tq, sizeof(tq), "tq-rate");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.max_task_queue_activities_per_second = 50;
    host *h = host_new(tq, true, true, &o);
    h->on_task = echo;
    run_echo(tq, "");
    run_echo(tq, "");
    cr_expect_eq(eager_seen(), 0);
    cr_expect_eq(h->starts, 2);
    host_shutdown(h);
}

/* The server's start time (ns) of each task the rate host started. */
static int64_t started_ns[8];
static int started_n;

static void echo_and_note_start(host *h, const tw_activity_task *t)
{
    if (is_start(t) && started_n < 8)
        started_ns[started_n++] = tw_activity_task_started_time(t);
    echo(h, t);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * Four ActivityCallers at once, their activities on a queue served by an
 * activity-only worker with options o; returns the smallest gap between
 * the server's start times of the four tasks, in ms.
 */
static int64_t min_start_gap_ms(tw_worker_options *o)
{
    char wf_tq[64], act_tq[64], wids[4][64], input[256];
    unique(wf_tq, sizeof(wf_tq), "rate-wf");
    unique(act_tq, sizeof(act_tq), "rate-act");
    host *acts = host_new(act_tq, false, true, o);
    acts->on_task = echo_and_note_start;
    host *wfs = host_new(wf_tq, true, false, NULL);
    started_n = 0;
    snprintf(input, sizeof(input), "{\"activity_type\": \"Echo\", \"args\": [1], \"task_queue\": \"%s\"}", act_tq);
    for (int i = 0; i < 4; i++) {
        unique(wids[i], sizeof(wids[i]), "rate");
        start_caller(wids[i], wf_tq, input);
    }
    for (int i = 0; i < 4; i++) {
        tw_event *ev = await_result(wids[i]);
        expect_completed_with(ev, "1");
        tw_event_free(ev);
    }
    cr_assert_eq(started_n, 4);
    qsort(started_ns, 4, sizeof(started_ns[0]), cmp_i64);
    int64_t gap = INT64_MAX;
    for (int i = 1; i < 4; i++) {
        cr_assert_gt(started_ns[i - 1], 0, "the task carries no start time");
        int64_t d = (started_ns[i] - started_ns[i - 1]) / 1000000;
        gap = d < gap ? d : gap;
    }
    host_shutdown(wfs);
    host_shutdown(acts);
    return gap;
}

Test(activity, max_activities_per_second_spaces_the_starts)
{
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.max_activities_per_second = 1;
    int64_t limited = min_start_gap_ms(&o);
    cr_expect_geq(limited, 800, "starts %lld ms apart with a limit of 1/s", (long long)limited);
    int64_t free_gap = min_start_gap_ms(NULL);
    cr_expect_lt(free_gap, 500, "starts %lld ms apart with no limit", (long long)free_gap);
}
