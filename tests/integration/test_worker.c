/*
 * The workflow worker against a real Temporal dev server, through the
 * public API only: a C workflow on activations (the greeting example's:
 * a timer, signals, a query, completion, cancellation) run by one or more
 * tw_worker, each test on its own task queue with its own workflow ids.
 *
 * The server address comes from TW_TEST_ADDRESS (host:port); every test
 * fails, saying so, when it is unset.
 *
 * One completion queue carries everything. pump() drains it: activations
 * are run through the workflow code of the worker ("host") they came from
 * and completed at once, each host keeping its own per-run workflow state
 * (what a language keeps), so a second worker starts with an empty cache
 * and empty state; client calls are waited for by tag.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <criterion/criterion.h>

#include <tw/tw.h>

#define WAIT_MS 30000
#define MAX_HOSTS 4
#define MAX_RUNS 8
#define MAX_EVICTIONS 64

static tw_runtime *rt;
static tw_cq *cq;
static tw_client *client;

/* ---- tags: client calls below 1000; host events are kind * 1000 + host index ---- */

enum { TAG_START = 1, TAG_SIGNAL, TAG_QUERY, TAG_RESULT, TAG_CANCEL, TAG_TERMINATE, TAG_HISTORY, TAG_CONNECT };
enum { HOST_POLL = 1, HOST_DONE = 2, HOST_SHUTDOWN = 3 };

/* ---- the workflow ---- */

typedef enum variant {
    GREETING,          /* examples/c/greeting_worker.c's workflow */
    ACTIVITY_FIRST,    /* changed code: schedules an activity where history has the timer */
    FAIL_ON_COMPLETE   /* fails the workflow task on signal "complete" */
} variant;

#define FAIL_MESSAGE "greeting: refusing to complete"

typedef struct greeting {
    char run_id[64];
    char name[128];
    char salutation[64];
    char text[256];
    bool timer_fired;
} greeting;

/* A worker and the language state behind it. */
typedef struct host {
    int index;
    tw_worker *w;
    variant v;
    greeting runs[MAX_RUNS];
    bool polling;
    int pending_done;          /* completions sent, ACTIVATION_DONE not received */
    int done_errors;
    bool closed;               /* a poll completed with TW_ECLOSED */
    bool shutdown_done;
    /* what the host saw */
    int activations;
    bool first_seen;
    bool first_has_init;
    bool first_replaying;
    int inits;
    int replayed_inits;        /* TW_JOB_INITIALIZE in a replaying activation */
    int cancel_jobs;
    int evictions;
    int eviction_reasons[MAX_EVICTIONS];
    char last_eviction_message[1024];
} host;

static host hosts[MAX_HOSTS];

static void call_ok(int rc, const char *what)
{
    cr_assert_eq(rc, 0, "%s: %s: %s", what, tw_strerror(rc), tw_error_message(tw_error_last()));
}

static void unique_id(char *buf, size_t size, const char *prefix)
{
    uint8_t r[8];
    cr_assert_eq(getrandom(r, sizeof(r), 0), (ssize_t)sizeof(r));
    snprintf(buf, size, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3], r[4], r[5], r[6],
             r[7]);
}

static tw_payloads *json_payloads(const char *json)
{
    tw_payloads *p = NULL;
    call_ok(tw_payloads_new(&p), "payloads");
    call_ok(tw_payloads_add_json(p, json, NULL), "payload");
    return p;
}

/* The first payload as a string without its JSON quotes. */
static void first_string(const tw_payloads *p, char *out, size_t len)
{
    char *raw = NULL;
    out[0] = '\0';
    if (!p || tw_payloads_count(p) == 0 || tw_payloads_data_string(p, 0, &raw) != 0)
        return;
    size_t n = strlen(raw);
    if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"') {
        raw[n - 1] = '\0';
        snprintf(out, len, "%s", raw + 1);
    } else {
        snprintf(out, len, "%s", raw);
    }
    tw_free(raw);
}

static greeting *state_of(host *h, const char *run_id)
{
    greeting *free_slot = NULL;
    for (int i = 0; i < MAX_RUNS; i++) {
        if (strcmp(h->runs[i].run_id, run_id) == 0)
            return &h->runs[i];
        if (!free_slot && !h->runs[i].run_id[0])
            free_slot = &h->runs[i];
    }
    cr_assert_not_null(free_slot, "host %d holds too many runs", h->index);
    memset(free_slot, 0, sizeof(*free_slot));
    snprintf(free_slot->run_id, sizeof(free_slot->run_id), "%s", run_id);
    snprintf(free_slot->salutation, sizeof(free_slot->salutation), "Hello");
    return free_slot;
}

/* The state h holds for run_id, or NULL. */
static greeting *find_state(host *h, const char *run_id)
{
    for (int i = 0; i < MAX_RUNS; i++)
        if (run_id && strcmp(h->runs[i].run_id, run_id) == 0)
            return &h->runs[i];
    return NULL;
}

static void update_greeting(greeting *g)
{
    snprintf(g->text, sizeof(g->text), "\"%s, %s!\"", g->salutation, g->name);
}

static void record_activation(host *h, const tw_activation *a)
{
    bool has_init = false;
    for (size_t i = 0; i < tw_activation_job_count(a); i++) {
        const tw_job *j = tw_activation_job(a, i);
        if (tw_job_kind_of(j) == TW_JOB_INITIALIZE) {
            has_init = true;
            h->inits++;
            h->replayed_inits += tw_activation_is_replaying(a) != 0;
        } else if (tw_job_kind_of(j) == TW_JOB_REMOVE_FROM_CACHE) {
            if (h->evictions < MAX_EVICTIONS)
                h->eviction_reasons[h->evictions] = tw_job_eviction_reason(j);
            h->evictions++;
            snprintf(h->last_eviction_message, sizeof(h->last_eviction_message), "%s", tw_job_name(j));
        }
    }
    if (!h->first_seen) {
        h->first_seen = true;
        h->first_has_init = has_init;
        h->first_replaying = tw_activation_is_replaying(a) != 0;
    }
    h->activations++;
}

/* Runs the workflow code for one activation and builds its completion. */
static tw_completion *run_workflow(host *h, const tw_activation *a)
{
    const char *run_id = tw_activation_run_id(a);
    tw_completion *c = NULL;
    call_ok(tw_completion_new(run_id, &c), "completion");
    greeting *g = state_of(h, run_id);
    for (size_t i = 0; i < tw_activation_job_count(a); i++) {
        const tw_job *j = tw_activation_job(a, i);
        switch (tw_job_kind_of(j)) {
        case TW_JOB_INITIALIZE:
            first_string(tw_job_args(j), g->name, sizeof(g->name));
            update_greeting(g);
            if (h->v == ACTIVITY_FIRST) {
                tw_activity_options o;
                tw_activity_options_init(&o);
                o.activity_type = "compose_greeting";
                o.start_to_close_timeout_ms = 5000;
                call_ok(tw_completion_schedule_activity(c, 1, &o), "schedule activity");
            } else {
                call_ok(tw_completion_start_timer(c, 1, 200), "start timer");
            }
            break;
        case TW_JOB_FIRE_TIMER:
            g->timer_fired = true;
            update_greeting(g);
            break;
        case TW_JOB_SIGNAL:
            if (strcmp(tw_job_name(j), "update_salutation") == 0) {
                first_string(tw_job_args(j), g->salutation, sizeof(g->salutation));
                update_greeting(g);
            } else if (strcmp(tw_job_name(j), "complete") == 0) {
                if (h->v == FAIL_ON_COMPLETE) {
                    call_ok(tw_completion_fail_task(c, FAIL_MESSAGE, "greeting.c:42"), "fail task");
                    break;
                }
                tw_payloads *result = json_payloads(g->text);
                call_ok(tw_completion_complete_workflow(c, result), "complete workflow");
                tw_payloads_free(result);
            }
            break;
        case TW_JOB_QUERY:
            if (strcmp(tw_job_name(j), "current_greeting") == 0) {
                tw_payloads *answer = json_payloads(g->text);
                call_ok(tw_completion_respond_query(c, tw_job_query_id(j), answer, NULL), "respond query");
                tw_payloads_free(answer);
            } else {
                call_ok(tw_completion_respond_query(c, tw_job_query_id(j), NULL, "unknown query type"), "respond");
            }
            break;
        case TW_JOB_CANCEL_WORKFLOW:
            h->cancel_jobs++;
            call_ok(tw_completion_cancel_workflow(c, NULL), "cancel workflow");
            break;
        case TW_JOB_REMOVE_FROM_CACHE:
            memset(g, 0, sizeof(*g));
            break;
        default:
            break;
        }
    }
    return c;
}

/* ---- hosts ---- */

static uint64_t host_tag(const host *h, int kind)
{
    return (uint64_t)kind * 1000 + (uint64_t)h->index;
}

static void host_poll(host *h)
{
    call_ok(tw_worker_poll_activation(h->w, cq, host_tag(h, HOST_POLL)), "poll activation");
    h->polling = true;
}

/* Starts a worker on task_queue (options: NULL for defaults) running variant v. */
static host *start_host(int index, const char *task_queue, variant v, const tw_worker_options *options)
{
    host *h = &hosts[index];
    memset(h, 0, sizeof(*h));
    h->index = index;
    h->v = v;
    tw_worker_options o;
    if (options)
        o = *options;
    else
        tw_worker_options_init(&o);
    o.task_queue = task_queue;
    call_ok(tw_worker_new(client, &o, &h->w), "tw_worker_new");
    host_poll(h);
    return h;
}

static void on_host_event(tw_event *ev)
{
    uint64_t tag = tw_event_tag(ev);
    host *h = &hosts[tag % 1000];
    int status = tw_event_status(ev);
    switch ((int)(tag / 1000)) {
    case HOST_POLL: {
        h->polling = false;
        if (status == TW_ECLOSED) {
            h->closed = true;
            return;
        }
        if (status == TW_ECANCELLED || !h->w)
            return; /* the worker was freed */
        cr_assert_eq(status, 0, "host %d: poll failed: %s: %s", h->index, tw_strerror(status),
                     tw_error_message(tw_event_error(ev)));
        tw_activation *a = tw_event_take_activation(ev);
        cr_assert_not_null(a);
        record_activation(h, a);
        tw_completion *c = run_workflow(h, a);
        tw_activation_free(a);
        call_ok(tw_worker_complete_activation(h->w, c, cq, host_tag(h, HOST_DONE)), "complete activation");
        h->pending_done++;
        host_poll(h);
        return;
    }
    case HOST_DONE:
        h->pending_done--;
        if (status)
            h->done_errors++;
        return;
    case HOST_SHUTDOWN:
        cr_assert_eq(status, 0, "host %d: shutdown failed: %s", h->index, tw_error_message(tw_event_error(ev)));
        h->shutdown_done = true;
        return;
    default:
        cr_assert_fail("unexpected event tag %llu", (unsigned long long)tag);
    }
}

typedef bool (*condition)(void *arg);

/*
 * Drains the queue, running activations, until cond(arg) holds (cond may be
 * NULL) or the event tagged want arrives (want 0: none), which is returned.
 */
static tw_event *pump(uint64_t want, condition cond, void *arg, const char *what)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (cond && cond(arg))
            return NULL;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t spent = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        cr_assert_lt(spent, WAIT_MS, "waited %d ms for %s", WAIT_MS, what);
        tw_event *ev = NULL;
        int rc = tw_cq_next(cq, WAIT_MS - spent, &ev);
        cr_assert_eq(rc, 0, "nothing happened for %d ms while waiting for %s", WAIT_MS, what);
        uint64_t tag = tw_event_tag(ev);
        if (want && tag == want)
            return ev;
        cr_assert_geq(tag, 1000, "unexpected event %llu while waiting for %s", (unsigned long long)tag, what);
        on_host_event(ev);
        tw_event_free(ev);
    }
}

/* Waits for the client call tagged tag and checks that it succeeded. */
static tw_event *wait_ok(uint64_t tag, const char *what)
{
    tw_event *ev = pump(tag, NULL, NULL, what);
    cr_assert_eq(tw_event_status(ev), 0, "%s failed: %s: %s", what, tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    return ev;
}

static bool host_closed(void *arg)
{
    host *h = arg;
    return h->shutdown_done && !h->polling;
}

/* Graceful shutdown: evictions delivered and completed, then the shutdown event; frees the worker. */
static void shutdown_host(host *h)
{
    call_ok(tw_worker_shutdown(h->w, cq, host_tag(h, HOST_SHUTDOWN)), "shutdown");
    pump(0, host_closed, h, "the worker's shutdown");
    cr_expect(h->closed, "polls after shutdown complete with TW_ECLOSED");
    tw_worker_free(h->w);
    h->w = NULL;
}

/* Frees the worker without shutdown: its polls complete with TW_ECANCELLED. */
static void abandon_host(host *h)
{
    tw_worker *w = h->w;
    h->w = NULL;
    tw_worker_free(w);
}

static bool not_polling(void *arg)
{
    return !((host *)arg)->polling;
}

typedef struct run_wait {
    host *h;
    const char *run_id;
} run_wait;

/* The timer of the run fired and every completion was answered by the server. */
static bool timer_fired_and_settled(void *arg)
{
    run_wait *rw = arg;
    greeting *g = find_state(rw->h, rw->run_id);
    return g && g->timer_fired && rw->h->pending_done == 0;
}

static bool salutation_changed_and_settled(void *arg)
{
    run_wait *rw = arg;
    greeting *g = find_state(rw->h, rw->run_id);
    return g && strcmp(g->salutation, "Hello") != 0 && rw->h->pending_done == 0;
}

static void wait_timer_fired(host *h, const char *run_id)
{
    run_wait rw = {h, run_id};
    pump(0, timer_fired_and_settled, &rw, "the timer to fire");
}

/* ---- client calls ---- */

/*
 * Starts a CGreeting for "World" (task_timeout_ms 0: the server's default),
 * asking for an eager start when eager is set; *was_eager (may be NULL) tells
 * whether the first task went to a local worker. Returns the run id (caller
 * frees).
 */
static char *start_greeting_with(const char *workflow_id, const char *task_queue, int64_t task_timeout_ms,
                                 bool eager, int *was_eager)
{
    tw_payloads *args = json_payloads("\"World\"");
    tw_start_workflow_options so;
    tw_start_workflow_options_init(&so);
    so.workflow_id = workflow_id;
    so.workflow_type = "CGreeting";
    so.task_queue = task_queue;
    so.args = args;
    so.execution_timeout_ms = 10 * 60 * 1000;
    so.task_timeout_ms = task_timeout_ms;
    so.request_eager_start = eager;
    call_ok(tw_client_start_workflow(client, &so, cq, TAG_START), "start");
    tw_payloads_free(args);
    tw_event *ev = wait_ok(TAG_START, "start");
    char *run_id = strdup(tw_event_run_id(ev));
    if (was_eager)
        *was_eager = tw_event_eager_start(ev);
    tw_event_free(ev);
    return run_id;
}

static char *start_greeting(const char *workflow_id, const char *task_queue, int64_t task_timeout_ms)
{
    return start_greeting_with(workflow_id, task_queue, task_timeout_ms, false, NULL);
}

static char *start_greeting_eager(const char *workflow_id, const char *task_queue, bool eager, int *was_eager)
{
    return start_greeting_with(workflow_id, task_queue, 0, eager, was_eager);
}

static void signal_workflow(const char *workflow_id, const char *name, const char *json)
{
    tw_payloads *args = json ? json_payloads(json) : NULL;
    tw_signal_options so;
    tw_signal_options_init(&so);
    so.workflow_id = workflow_id;
    so.signal_name = name;
    so.args = args;
    call_ok(tw_client_signal_workflow(client, &so, cq, TAG_SIGNAL), "signal");
    tw_payloads_free(args);
    tw_event_free(wait_ok(TAG_SIGNAL, "signal"));
}

static void query_greeting(const char *workflow_id, char *out, size_t len)
{
    tw_query_options qo;
    tw_query_options_init(&qo);
    qo.workflow_id = workflow_id;
    qo.query_type = "current_greeting";
    call_ok(tw_client_query_workflow(client, &qo, cq, TAG_QUERY), "query");
    tw_event *ev = wait_ok(TAG_QUERY, "query");
    first_string(tw_event_payloads(ev), out, len);
    tw_event_free(ev);
}

/* Waits for the workflow's result: returns the outcome, the first payload as a string in out. */
static int workflow_result(const char *workflow_id, char *out, size_t len)
{
    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = workflow_id;
    call_ok(tw_client_workflow_result(client, &ro, cq, TAG_RESULT), "result");
    tw_event *ev = wait_ok(TAG_RESULT, "the workflow result");
    int outcome = tw_event_outcome(ev);
    first_string(tw_event_payloads(ev), out, len);
    tw_event_free(ev);
    return outcome;
}

static void expect_result(const char *workflow_id, const char *want)
{
    char result[256];
    int outcome = workflow_result(workflow_id, result, sizeof(result));
    cr_expect_eq(outcome, TW_OUTCOME_COMPLETED, "outcome %d", outcome);
    cr_expect_str_eq(result, want);
}

static void terminate(const char *workflow_id)
{
    tw_close_options co;
    tw_close_options_init(&co);
    co.workflow_id = workflow_id;
    co.reason = "test over";
    call_ok(tw_client_terminate_workflow(client, &co, cq, TAG_TERMINATE), "terminate");
    tw_event_free(wait_ok(TAG_TERMINATE, "terminate"));
}

/* The whole history (one page) as JSON; caller frees with tw_free. */
static char *history_json(const char *workflow_id)
{
    tw_history_options ho;
    tw_history_options_init(&ho);
    ho.workflow_id = workflow_id;
    call_ok(tw_client_fetch_history(client, &ho, cq, TAG_HISTORY), "fetch history");
    tw_event *ev = wait_ok(TAG_HISTORY, "history");
    const uint8_t *token;
    size_t token_len;
    call_ok(tw_event_next_page_token(ev, &token, &token_len), "page token");
    cr_assert_eq(token_len, 0, "the history has more than one page");
    char *json = NULL;
    call_ok(tw_history_to_json(tw_event_history(ev), &json), "history to json");
    tw_event_free(ev);
    return json;
}

/* ---- fixtures ---- */

/* TW_TEST_LOG=1 prints the library's log (debug level) to stderr. */
static void log_to_stderr(int level, const char *message, void *user_data)
{
    (void)user_data;
    fprintf(stderr, "[tw %d] %s\n", level, message);
}

static void setup(void)
{
    const char *address = getenv("TW_TEST_ADDRESS");
    cr_assert(address && *address, "TW_TEST_ADDRESS is not set: integration tests need the host:port of a "
                                   "Temporal dev server (start one with `python3 scripts/devserver.py start`)");
    memset(hosts, 0, sizeof(hosts));
    tw_runtime_options ro;
    tw_runtime_options_init(&ro);
    if (getenv("TW_TEST_LOG")) {
        ro.log = log_to_stderr;
        ro.log_level = TW_LOG_DEBUG;
    }
    call_ok(tw_runtime_new(&ro, &rt), "runtime");
    call_ok(tw_cq_new(&cq), "cq");
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    call_ok(tw_client_new(rt, &o, &client), "client");
    call_ok(tw_client_connect(client, cq, TAG_CONNECT), "connect");
    tw_event *ev = NULL;
    call_ok(tw_cq_next(cq, WAIT_MS, &ev), "connect event");
    cr_assert_eq(tw_event_status(ev), 0, "connect: %s", tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
}

static void teardown(void)
{
    for (int i = 0; i < MAX_HOSTS; i++) {
        tw_worker_free(hosts[i].w);
        hosts[i].w = NULL;
    }
    tw_client_free(client);
    client = NULL;
    tw_cq_free(cq);
    cq = NULL;
    tw_runtime_free(rt);
    rt = NULL;
}

TestSuite(worker, .init = setup, .fini = teardown, .timeout = 90);

/* ---- tests ---- */

Test(worker, timer_query_signals_complete)
{
    char wf[64], tq[64], text[256];
    unique_id(wf, sizeof(wf), "c-wf-basic");
    unique_id(tq, sizeof(tq), "c-tq-basic");
    host *h = start_host(0, tq, GREETING, NULL);
    char *run_id = start_greeting(wf, tq, 0);
    wait_timer_fired(h, run_id);
    cr_expect(h->first_has_init && !h->first_replaying, "the first activation starts the workflow, live");

    query_greeting(wf, text, sizeof(text));
    cr_expect_str_eq(text, "Hello, World!");
    signal_workflow(wf, "update_salutation", "\"Hola\"");
    query_greeting(wf, text, sizeof(text));
    cr_expect_str_eq(text, "Hola, World!", "the query sees the signal");
    signal_workflow(wf, "complete", NULL);
    expect_result(wf, "Hola, World!");

    cr_expect_eq(h->inits, 1, "a cached run is never replayed");
    cr_expect_eq(h->done_errors, 0);
    shutdown_host(h);
    free(run_id);
}

/*
 * Eager start: the first workflow task comes back in the start's answer and
 * goes to the polling worker of the same client and task queue; without a
 * worker on that queue, or without the request, the start is an ordinary one.
 */
Test(worker, eager_start_hands_the_first_task_to_the_local_worker)
{
    char wf[64], wf2[64], wf3[64], tq[64], other_tq[64];
    unique_id(wf, sizeof(wf), "c-wf-eager");
    unique_id(wf2, sizeof(wf2), "c-wf-not-eager");
    unique_id(wf3, sizeof(wf3), "c-wf-eager-nobody");
    unique_id(tq, sizeof(tq), "c-tq-eager");
    unique_id(other_tq, sizeof(other_tq), "c-tq-eager-nobody");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.identity = "c-eager-worker"; /* unlike the client's, to tell who started each task */
    host *h = start_host(0, tq, GREETING, &o);

    int was_eager = -1;
    char *run_id = start_greeting_eager(wf, tq, true, &was_eager);
    cr_expect_eq(was_eager, 1, "the dev server answers with the first task, which the worker takes");
    wait_timer_fired(h, run_id);
    signal_workflow(wf, "complete", NULL);
    expect_result(wf, "Hello, World!");
    char *json = history_json(wf);
    /* The eagerly started task was started by the start request, under the client's identity. */
    char want[300];
    snprintf(want, sizeof(want), "\"workflowTaskStartedEventAttributes\":{\"scheduledEventId\":\"2\",\"identity\":\"%s\"",
             tw_client_identity(client));
    cr_expect(strstr(json, want) != NULL, "history: %s", json);
    tw_free(json);
    free(run_id);

    run_id = start_greeting_eager(wf2, tq, false, &was_eager);
    cr_expect_eq(was_eager, 0, "no request, no eager task");
    wait_timer_fired(h, run_id);
    signal_workflow(wf2, "complete", NULL);
    expect_result(wf2, "Hello, World!");
    json = history_json(wf2);
    cr_expect(strstr(json, want) == NULL &&
                  strstr(json, "\"workflowTaskStartedEventAttributes\":{\"scheduledEventId\":\"2\","
                               "\"identity\":\"c-eager-worker\"") != NULL,
              "history: %s", json);
    tw_free(json);
    free(run_id);

    run_id = start_greeting_eager(wf3, other_tq, true, &was_eager);
    cr_expect_eq(was_eager, 0, "no worker polls that task queue");
    terminate(wf3);
    free(run_id);

    cr_expect_eq(h->done_errors, 0);
    shutdown_host(h); /* would never finish if a reserved slot leaked */
}

/* A new worker (empty cache) takes over a running workflow: full replay, then completion. */
Test(worker, restart_replays_from_full_history)
{
    char wf[64], tq[64];
    unique_id(wf, sizeof(wf), "c-wf-restart");
    unique_id(tq, sizeof(tq), "c-tq-restart");
    host *a = start_host(0, tq, GREETING, NULL);
    char *run_id = start_greeting(wf, tq, 0);
    wait_timer_fired(a, run_id);
    signal_workflow(wf, "update_salutation", "\"Hola\"");
    run_wait rw = {a, run_id};
    pump(0, salutation_changed_and_settled, &rw, "the signal to be processed");
    shutdown_host(a);
    cr_expect_geq(a->evictions, 1);
    cr_expect_eq(a->eviction_reasons[0], TW_EVICTION_SHUTDOWN);

    host *b = start_host(1, tq, GREETING, NULL);
    signal_workflow(wf, "complete", NULL);
    expect_result(wf, "Hola, World!");
    cr_expect(b->first_seen, "the new worker got no activation");
    cr_expect(b->first_has_init, "the new worker's first activation does not initialize the workflow");
    cr_expect(b->first_replaying, "the new worker's first activation is not a replay");
    cr_expect_eq(b->inits, 1);
    shutdown_host(b);
    free(run_id);
}

/*
 * Worker A is freed without shutdown: its sticky queue stays registered,
 * the server sends the next task there, gives up after A's 1 s
 * schedule-to-start timeout, and worker B gets it from the normal queue
 * with the full history.
 */
Test(worker, sticky_timeout_falls_back_to_normal_queue)
{
    char wf[64], tq[64];
    unique_id(wf, sizeof(wf), "c-wf-sticky");
    unique_id(tq, sizeof(tq), "c-tq-sticky");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.sticky_schedule_to_start_timeout_ms = 1000;
    host *a = start_host(0, tq, GREETING, &o);
    char *run_id = start_greeting(wf, tq, 0);
    wait_timer_fired(a, run_id);
    abandon_host(a);
    pump(0, not_polling, a, "the freed worker's poll to be cancelled");

    host *b = start_host(1, tq, GREETING, NULL);
    signal_workflow(wf, "complete", NULL);
    expect_result(wf, "Hello, World!");
    cr_expect(b->first_has_init && b->first_replaying, "B did not replay the full history");

    char *json = history_json(wf);
    cr_expect(strstr(json, "EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT"), "no workflow task timed out on the sticky queue");
    cr_expect(strstr(json, "TIMEOUT_TYPE_SCHEDULE_TO_START"), "the timeout is not schedule-to-start");
    cr_expect(strstr(json, "TASK_QUEUE_KIND_STICKY"), "no task went to the sticky queue");
    tw_free(json);
    shutdown_host(b);
    free(run_id);
}

static bool evicted(void *arg)
{
    host *h = arg;
    return h->evictions > 0 && h->pending_done == 0;
}

/* Worker B runs changed code: its replay fails the task as non-deterministic. */
Test(worker, changed_code_fails_the_task_as_nondeterministic)
{
    char wf[64], tq[64];
    unique_id(wf, sizeof(wf), "c-wf-nondet");
    unique_id(tq, sizeof(tq), "c-tq-nondet");
    host *a = start_host(0, tq, GREETING, NULL);
    char *run_id = start_greeting(wf, tq, 0);
    wait_timer_fired(a, run_id);
    shutdown_host(a);

    host *b = start_host(1, tq, ACTIVITY_FIRST, NULL);
    signal_workflow(wf, "complete", NULL);
    pump(0, evicted, b, "the non-determinism eviction");
    cr_expect(b->first_has_init && b->first_replaying);
    cr_expect_eq(b->eviction_reasons[0], TW_EVICTION_NONDETERMINISM, "eviction reason %d: %s",
                 b->eviction_reasons[0], b->last_eviction_message);
    cr_expect(strstr(b->last_eviction_message, "history event 5"), "%s", b->last_eviction_message);

    char *json = history_json(wf);
    cr_expect(strstr(json, "EVENT_TYPE_WORKFLOW_TASK_FAILED"), "no WorkflowTaskFailed in %s", json);
    cr_expect(strstr(json, "WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR"), "wrong cause in %s", json);
    cr_expect(strstr(json, "history event 5 is TimerStarted"), "the failure does not name the event: %s", json);
    cr_expect(strstr(json, "ScheduleActivityTask"), "the failure does not name the command: %s", json);
    tw_free(json);
    terminate(wf);
    abandon_host(b);
    free(run_id);
}

Test(worker, cancellation)
{
    char wf[64], tq[64], result[256];
    unique_id(wf, sizeof(wf), "c-wf-cancel");
    unique_id(tq, sizeof(tq), "c-tq-cancel");
    host *h = start_host(0, tq, GREETING, NULL);
    char *run_id = start_greeting(wf, tq, 0);
    wait_timer_fired(h, run_id);
    tw_close_options co;
    tw_close_options_init(&co);
    co.workflow_id = wf;
    co.reason = "no longer needed";
    call_ok(tw_client_cancel_workflow(client, &co, cq, TAG_CANCEL), "cancel");
    tw_event_free(wait_ok(TAG_CANCEL, "cancel"));
    int outcome = workflow_result(wf, result, sizeof(result));
    cr_expect_eq(outcome, TW_OUTCOME_CANCELED, "outcome %d", outcome);
    cr_expect_eq(h->cancel_jobs, 1);
    shutdown_host(h);
    free(run_id);
}

/* A completion that fails the task; the server retries it, and fixed code on a new worker completes. */
Test(worker, failed_task_is_retried_by_fixed_code)
{
    char wf[64], tq[64];
    unique_id(wf, sizeof(wf), "c-wf-failtask");
    unique_id(tq, sizeof(tq), "c-tq-failtask");
    host *a = start_host(0, tq, FAIL_ON_COMPLETE, NULL);
    /* A 2 s task timeout: retries that A fails without reporting them (attempt > 1) time out fast. */
    char *run_id = start_greeting(wf, tq, 2000);
    wait_timer_fired(a, run_id);
    signal_workflow(wf, "complete", NULL);
    pump(0, evicted, a, "the task failure eviction");
    cr_expect_eq(a->eviction_reasons[0], TW_EVICTION_WORKFLOW_TASK_FAILED, "eviction reason %d: %s",
                 a->eviction_reasons[0], a->last_eviction_message);
    cr_expect_str_eq(a->last_eviction_message, FAIL_MESSAGE);

    char *json = history_json(wf);
    cr_expect(strstr(json, "EVENT_TYPE_WORKFLOW_TASK_FAILED"), "no WorkflowTaskFailed in %s", json);
    cr_expect(strstr(json, FAIL_MESSAGE), "the failure message is not in history: %s", json);
    cr_expect(strstr(json, "WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE"), "wrong cause: %s", json);
    tw_free(json);
    shutdown_host(a);

    host *b = start_host(1, tq, GREETING, NULL);
    expect_result(wf, "Hello, World!");
    cr_expect(b->first_has_init && b->first_replaying);
    shutdown_host(b);
    free(run_id);
}

static bool two_started_and_settled(void *arg)
{
    host *h = arg;
    return h->inits >= 2 && h->pending_done == 0;
}

/* A cache of one run with two workflows in flight: each task evicts the other run, which replays. */
Test(worker, cache_of_one_evicts_and_replays)
{
    char wf1[64], wf2[64], tq[64];
    unique_id(wf1, sizeof(wf1), "c-wf-cache1");
    unique_id(wf2, sizeof(wf2), "c-wf-cache2");
    unique_id(tq, sizeof(tq), "c-tq-cache");
    tw_worker_options o;
    tw_worker_options_init(&o);
    o.max_cached_workflows = 1;
    host *h = start_host(0, tq, GREETING, &o);
    char *run1 = start_greeting(wf1, tq, 0);
    char *run2 = start_greeting(wf2, tq, 0);
    pump(0, two_started_and_settled, h, "both workflows to start");
    signal_workflow(wf1, "update_salutation", "\"Hola\"");
    signal_workflow(wf2, "update_salutation", "\"Salut\"");
    signal_workflow(wf1, "complete", NULL);
    signal_workflow(wf2, "complete", NULL);
    expect_result(wf1, "Hola, World!");
    expect_result(wf2, "Salut, World!");

    int cache_full = 0;
    for (int i = 0; i < h->evictions && i < MAX_EVICTIONS; i++)
        cache_full += h->eviction_reasons[i] == TW_EVICTION_CACHE_FULL;
    cr_expect_geq(cache_full, 1, "no eviction for a full cache (%d evictions)", h->evictions);
    cr_expect_gt(h->replayed_inits, 0, "no evicted run was replayed");
    cr_expect_eq(h->done_errors, 0);
    shutdown_host(h);
    free(run1);
    free(run2);
}

Test(worker, bad_input)
{
    tw_worker_options o;
    tw_worker_options_init(&o);
    tw_worker *w = (tw_worker *)1;
    cr_expect_eq(tw_worker_new(client, &o, &w), TW_EINVAL);
    cr_expect_null(w);
    cr_expect(strstr(tw_error_message(tw_error_last()), "task_queue"), "%s", tw_error_message(tw_error_last()));
    o.task_queue = "";
    cr_expect_eq(tw_worker_new(client, &o, &w), TW_EINVAL);
    cr_expect(strstr(tw_error_message(tw_error_last()), "task_queue"), "%s", tw_error_message(tw_error_last()));
    cr_expect_eq(tw_worker_new(client, NULL, &w), TW_EINVAL);
    cr_expect_eq(tw_worker_new(client, &o, NULL), TW_EINVAL);

    char tq[64];
    unique_id(tq, sizeof(tq), "c-tq-bad");
    o.task_queue = tq;
    call_ok(tw_worker_new(client, &o, &w), "tw_worker_new");
    tw_completion *c = NULL;
    call_ok(tw_completion_new("no-such-run", &c), "completion");
    cr_expect_eq(tw_worker_complete_activation(w, c, cq, 1), TW_EINVAL);
    cr_expect(strstr(tw_error_message(tw_error_last()), "no-such-run"), "%s", tw_error_message(tw_error_last()));
    cr_expect_eq(tw_worker_complete_activation(w, NULL, cq, 1), TW_EINVAL);
    cr_expect_eq(tw_worker_poll_activation(w, NULL, 1), TW_EINVAL);
    cr_expect_eq(tw_cq_pending(cq), 0, "a rejected call must not expect an event");
    tw_worker_free(w);
}

/* ---- poll failures back off ---- */

static int failed_polls;
static pthread_mutex_t failed_polls_lock = PTHREAD_MUTEX_INITIALIZER;

static void count_failed_polls(int level, const char *message, void *user_data)
{
    (void)level, (void)user_data;
    if (strstr(message, "workflow task poll failed")) {
        pthread_mutex_lock(&failed_polls_lock);
        failed_polls++;
        pthread_mutex_unlock(&failed_polls_lock);
    }
}

Test(worker_backoff, failing_polls_back_off_instead_of_spinning)
{
    const char *address = getenv("TW_TEST_ADDRESS");
    cr_assert(address && *address, "TW_TEST_ADDRESS is not set: the integration tests need a Temporal server");
    tw_runtime_options ro;
    tw_runtime_options_init(&ro);
    ro.log = count_failed_polls;
    ro.log_level = TW_LOG_WARN;
    tw_runtime *brt = NULL;
    tw_cq *bcq = NULL;
    tw_client *bclient = NULL;
    tw_worker *bw = NULL;
    cr_assert_eq(tw_runtime_new(&ro, &brt), 0);
    cr_assert_eq(tw_cq_new(&bcq), 0);
    tw_client_options co;
    tw_client_options_init(&co);
    co.target = address;
    co.namespace_name = "no-such-namespace-for-backoff";
    cr_assert_eq(tw_client_new(brt, &co, &bclient), 0);
    tw_worker_options wo;
    tw_worker_options_init(&wo);
    wo.task_queue = "backoff-queue";
    wo.no_activities = 1;
    cr_assert_eq(tw_worker_new(bclient, &wo, &bw), 0);
    cr_assert_eq(tw_worker_poll_activation(bw, bcq, 1), 0);
    /* Every poll fails at once (unknown namespace). Without backoff the worker
     * would issue thousands of polls in 2 s; with 100 ms doubling, about a dozen. */
    struct timespec two_seconds = {2, 0};
    nanosleep(&two_seconds, NULL);
    pthread_mutex_lock(&failed_polls_lock);
    int seen = failed_polls;
    pthread_mutex_unlock(&failed_polls_lock);
    cr_expect_gt(seen, 0, "the polls should have failed (namespace does not exist)");
    cr_expect_lt(seen, 40, "%d failed polls in 2 s: polls are not backing off", seen);
    cr_assert_eq(tw_worker_shutdown(bw, bcq, 2), 0);
    for (;;) {
        tw_event *ev = NULL;
        cr_assert_eq(tw_cq_next(bcq, 30000, &ev), 0, "the worker did not shut down");
        uint64_t tag = tw_event_tag(ev);
        tw_event_free(ev);
        if (tag == 2)
            break;
    }
    tw_worker_free(bw);
    tw_client_free(bclient);
    tw_cq_free(bcq);
    tw_runtime_free(brt);
}
