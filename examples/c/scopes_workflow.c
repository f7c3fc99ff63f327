/*
 * scopes_workflow: workflows written in C on the workflow runtime
 * (tw/workflow.h) rather than on raw activations, run by a tw_worker and
 * driven by the C client against a Temporal server.
 *
 * "CGreetingRuntime" is the seed's GreetingWorkflow in C: it waits 100 ms
 * (a durable timer) before computing its greeting, answers the query
 * "current_greeting", changes its salutation on signal "update_salutation"
 * and completes with the greeting on signal "complete".
 *
 * "CCleanup" shows cancellation scopes: its main work is a 1-hour timer in a
 * scope with a 300 ms timeout, so the scope times out and the timer is
 * cancelled; it then waits for a long timer in the root scope. When the
 * workflow is cancelled, a cleanup timer started in a detached scope still
 * runs to completion before the workflow reports itself cancelled.
 *
 *   scopes_workflow HOST:PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tw/tw.h>

#define MAX_RUNS 8

enum { OP_DELAY = 1, OP_MAIN_WORK, OP_WAIT, OP_CLEANUP };

typedef struct run {
    char run_id[64];
    tw_wf_instance *wf;
    char type[32];
    /* greeting */
    char name[64], salutation[64], greeting[160];
    int ready, complete_requested;
    /* cleanup */
    tw_scope *work_scope, *cleanup_scope;
    int work_timed_out, cancel_requested, cleanup_done;
    char log[256];
} run;

static run runs[MAX_RUNS];

static void note(run *r, const char *what)
{
    size_t n = strlen(r->log);
    snprintf(r->log + n, sizeof(r->log) - n, "%s%s", n ? "," : "", what);
}

static void unquote(const tw_payloads *p, char *out, size_t len)
{
    char *raw = NULL;
    out[0] = '\0';
    if (tw_payloads_count(p) == 0 || tw_payloads_data_string(p, 0, &raw) != 0)
        return;
    size_t n = strlen(raw);
    if (n >= 2 && raw[0] == '"')
        raw[n - 1] = '\0';
    snprintf(out, len, "%s", raw[0] == '"' ? raw + 1 : raw);
    tw_free(raw);
}

static void complete_with_string(tw_wf_instance *wf, const char *text)
{
    char json[256];
    snprintf(json, sizeof(json), "\"%s\"", text);
    tw_payloads *p = NULL;
    tw_payloads_new(&p);
    tw_payloads_add_json(p, json, NULL);
    tw_wf_complete(wf, p);
    tw_payloads_free(p);
}

/* ---- callbacks ---- */

static void on_start(tw_wf_instance *wf, const char *type, const tw_payloads *args, void *ud)
{
    run *r = ud;
    snprintf(r->type, sizeof(r->type), "%s", type);
    if (strcmp(type, "CGreetingRuntime") == 0) {
        unquote(args, r->name, sizeof(r->name));
        snprintf(r->salutation, sizeof(r->salutation), "Hello");
        tw_wf_start_timer(wf, NULL, 100, OP_DELAY, NULL);
    } else {
        tw_wf_scope_new(wf, NULL, 0, 300, 1, &r->work_scope);
        tw_wf_start_timer(wf, r->work_scope, 3600 * 1000, OP_MAIN_WORK, NULL);
        tw_wf_start_timer(wf, NULL, 3600 * 1000, OP_WAIT, NULL);
    }
}

static int on_signal(tw_wf_instance *wf, const char *name, const tw_payloads *args, const tw_payloads *headers,
                     void *ud)
{
    (void)wf, (void)headers;
    run *r = ud;
    if (strcmp(name, "update_salutation") == 0)
        unquote(args, r->salutation, sizeof(r->salutation));
    else if (strcmp(name, "complete") == 0)
        r->complete_requested = 1;
    else
        return 0; /* no handler: the runtime keeps it */
    return 1;
}

static void on_query(tw_wf_instance *wf, const char *name, const tw_payloads *args, const tw_payloads *headers,
                     tw_payloads *result, const char **error, void *ud)
{
    (void)wf, (void)args, (void)headers;
    run *r = ud;
    char json[sizeof(r->log) + 2];
    if (strcmp(name, "current_greeting") == 0)
        snprintf(json, sizeof(json), "\"%s\"", r->greeting);
    else if (strcmp(name, "log") == 0)
        snprintf(json, sizeof(json), "\"%s\"", r->log);
    else {
        *error = "unknown query";
        return;
    }
    tw_payloads_add_json(result, json, NULL);
}

static void on_cancel_requested(tw_wf_instance *wf, const char *reason, void *ud)
{
    (void)reason;
    run *r = ud;
    r->cancel_requested = 1;
    note(r, "cancel-requested");
    /* Cleanup that must survive the cancellation runs in a detached scope. */
    tw_wf_scope_new(wf, NULL, 1, 0, 2, &r->cleanup_scope);
    tw_wf_start_timer(wf, r->cleanup_scope, 200, OP_CLEANUP, NULL);
}

static void on_resolved(tw_wf_instance *wf, tw_op *op, uint64_t tag, int resolution, const tw_payloads *result,
                        const tw_failure *failure, void *ud)
{
    (void)wf, (void)op, (void)result, (void)failure;
    run *r = ud;
    const char *how = resolution == TW_RESOLUTION_COMPLETED ? "fired" : "cancelled";
    char what[48];
    switch (tag) {
    case OP_DELAY:
        r->ready = 1;
        break;
    case OP_MAIN_WORK:
        snprintf(what, sizeof(what), "work-%s", how);
        note(r, what);
        break;
    case OP_WAIT:
        snprintf(what, sizeof(what), "wait-%s", how);
        note(r, what);
        break;
    case OP_CLEANUP:
        snprintf(what, sizeof(what), "cleanup-%s", how);
        note(r, what);
        r->cleanup_done = 1;
        break;
    }
}

static void on_scope_cancelled(tw_wf_instance *wf, tw_scope *scope, uint64_t tag, void *ud)
{
    (void)wf, (void)scope;
    run *r = ud;
    if (tag == 1 && !r->cancel_requested) {
        r->work_timed_out = 1;
        note(r, "work-scope-timed-out");
    }
}

/* The workflow's main line, re-evaluated whenever something happened. */
static void on_drain(tw_wf_instance *wf, void *ud)
{
    run *r = ud;
    if (tw_wf_is_done(wf))
        return;
    if (strcmp(r->type, "CGreetingRuntime") == 0) {
        if (r->ready)
            snprintf(r->greeting, sizeof(r->greeting), "%s, %s!", r->salutation, r->name);
        if (r->ready && r->complete_requested)
            complete_with_string(wf, r->greeting);
    } else if (r->cleanup_done) {
        tw_wf_cancel(wf, NULL);
    }
}

static void on_evict(tw_wf_instance *wf, int reason, const char *message, void *ud)
{
    (void)wf, (void)reason, (void)message, (void)ud;
}

static const tw_wf_callbacks callbacks = {
    .size = sizeof(tw_wf_callbacks), .start = on_start, .signal = on_signal, .query = on_query,
    .cancel_requested = on_cancel_requested, .resolved = on_resolved, .scope_cancelled = on_scope_cancelled,
    .drain = on_drain, .evict = on_evict,
};

static run *run_for(const char *run_id)
{
    run *slot = NULL;
    for (int i = 0; i < MAX_RUNS; i++) {
        if (strcmp(runs[i].run_id, run_id) == 0)
            return &runs[i];
        if (!slot && !runs[i].run_id[0])
            slot = &runs[i];
    }
    if (!slot)
        return NULL;
    memset(slot, 0, sizeof(*slot));
    snprintf(slot->run_id, sizeof(slot->run_id), "%s", run_id);
    tw_wf_instance_new(&callbacks, slot, &slot->wf);
    return slot;
}

/* ---- the driver ---- */

enum { TAG_POLL = 1, TAG_DONE, TAG_CONNECT, TAG_START1, TAG_START2, TAG_QUERY, TAG_SIGNAL1, TAG_SIGNAL2,
       TAG_RESULT1, TAG_CANCEL, TAG_RESULT2, TAG_LOG, TAG_SHUTDOWN };

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", what, tw_strerror(rc), tw_error_message(tw_error_last()));
        exit(1);
    }
}

static tw_payloads *json(const char *text)
{
    tw_payloads *p = NULL;
    tw_payloads_new(&p);
    tw_payloads_add_json(p, text, NULL);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
        return 2;
    }
    long now = (long)time(NULL);
    char greet_id[64], cleanup_id[64], queue[64];
    snprintf(greet_id, sizeof(greet_id), "c-greeting-rt-%ld", now);
    snprintf(cleanup_id, sizeof(cleanup_id), "c-cleanup-%ld", now);
    snprintf(queue, sizeof(queue), "c-runtime-%ld", now);

    tw_runtime *rt;
    tw_cq *cq;
    tw_client *client;
    tw_worker *worker;
    check(tw_runtime_new(NULL, &rt), "runtime");
    check(tw_cq_new(&cq), "cq");
    tw_client_options co;
    tw_client_options_init(&co);
    co.target = argv[1];
    check(tw_client_new(rt, &co, &client), "client");
    tw_worker_options wo;
    tw_worker_options_init(&wo);
    wo.task_queue = queue;
    check(tw_worker_new(client, &wo, &worker), "worker");
    check(tw_client_connect(client, cq, TAG_CONNECT), "connect");
    check(tw_worker_poll_activation(worker, cq, TAG_POLL), "poll");

    int failures = 0, queried = 0, cancel_sent = 0, finished = 0, shutting_down = 0;
    while (!finished) {
        tw_event *ev = NULL;
        if (tw_cq_next(cq, 60000, &ev) != 0) {
            fprintf(stderr, "nothing happened for 60 s\n");
            return 1;
        }
        uint64_t tag = tw_event_tag(ev);
        if (tw_event_status(ev) && !(tag == TAG_POLL && shutting_down)) {
            fprintf(stderr, "event %llu failed: %s\n", (unsigned long long)tag, tw_error_message(tw_event_error(ev)));
            return 1;
        }
        tw_start_workflow_options so;
        tw_signal_options sg;
        tw_result_options ro;
        tw_query_options qo;
        switch (tag) {
        case TAG_CONNECT: {
            tw_payloads *name = json("\"John\"");
            tw_start_workflow_options_init(&so);
            so.workflow_id = greet_id;
            so.workflow_type = "CGreetingRuntime";
            so.task_queue = queue;
            so.args = name;
            check(tw_client_start_workflow(client, &so, cq, TAG_START1), "start greeting");
            so.workflow_id = cleanup_id;
            so.workflow_type = "CCleanup";
            so.args = NULL;
            check(tw_client_start_workflow(client, &so, cq, TAG_START2), "start cleanup");
            tw_payloads_free(name);
            break;
        }
        case TAG_POLL: {
            if (tw_event_status(ev))
                break;
            tw_activation *a = tw_event_take_activation(ev);
            run *r = run_for(tw_activation_run_id(a));
            tw_completion *c = NULL;
            check(tw_wf_instance_activate(r->wf, a, &c), "activate");
            int evicted = tw_activation_job_count(a) == 1 &&
                          tw_job_kind_of(tw_activation_job(a, 0)) == TW_JOB_REMOVE_FROM_CACHE;
            tw_activation_free(a);
            if (evicted) {
                /* The run left the cache: its next activation starts from a fresh instance. */
                tw_wf_instance_free(r->wf);
                memset(r, 0, sizeof(*r));
            }
            check(tw_worker_complete_activation(worker, c, cq, TAG_DONE), "complete");
            check(tw_worker_poll_activation(worker, cq, TAG_POLL), "poll");
            if (evicted)
                break;
            if (strcmp(r->type, "CGreetingRuntime") == 0 && r->ready && !queried) {
                queried = 1;
                tw_query_options_init(&qo);
                qo.workflow_id = greet_id;
                qo.query_type = "current_greeting";
                check(tw_client_query_workflow(client, &qo, cq, TAG_QUERY), "query");
            }
            if (strcmp(r->type, "CCleanup") == 0 && r->work_timed_out && !cancel_sent) {
                cancel_sent = 1;
                tw_close_options cl;
                tw_close_options_init(&cl);
                cl.workflow_id = cleanup_id;
                check(tw_client_cancel_workflow(client, &cl, cq, TAG_CANCEL), "cancel");
            }
            break;
        }
        case TAG_QUERY: {
            char answer[160];
            unquote(tw_event_payloads(ev), answer, sizeof(answer));
            printf("CGreetingRuntime query current_greeting: %s\n", answer);
            failures += strcmp(answer, "Hello, John!") != 0;
            tw_payloads *hola = json("\"Hola\"");
            tw_signal_options_init(&sg);
            sg.workflow_id = greet_id;
            sg.signal_name = "update_salutation";
            sg.args = hola;
            check(tw_client_signal_workflow(client, &sg, cq, TAG_SIGNAL1), "signal");
            tw_payloads_free(hola);
            break;
        }
        case TAG_SIGNAL1:
            tw_signal_options_init(&sg);
            sg.workflow_id = greet_id;
            sg.signal_name = "complete";
            check(tw_client_signal_workflow(client, &sg, cq, TAG_SIGNAL2), "signal");
            break;
        case TAG_SIGNAL2:
            tw_result_options_init(&ro);
            ro.workflow_id = greet_id;
            check(tw_client_workflow_result(client, &ro, cq, TAG_RESULT1), "result");
            break;
        case TAG_RESULT1: {
            char result[160];
            unquote(tw_event_payloads(ev), result, sizeof(result));
            printf("CGreetingRuntime result: %s\n", result);
            failures += strcmp(result, "Hola, John!") != 0;
            break;
        }
        case TAG_CANCEL:
            tw_result_options_init(&ro);
            ro.workflow_id = cleanup_id;
            check(tw_client_workflow_result(client, &ro, cq, TAG_RESULT2), "result");
            break;
        case TAG_RESULT2:
            printf("CCleanup outcome: %s\n", tw_event_outcome(ev) == TW_OUTCOME_CANCELED ? "cancelled" : "other");
            failures += tw_event_outcome(ev) != TW_OUTCOME_CANCELED;
            tw_query_options_init(&qo);
            qo.workflow_id = cleanup_id;
            qo.query_type = "log";
            check(tw_client_query_workflow(client, &qo, cq, TAG_LOG), "query log");
            break;
        case TAG_LOG: {
            char log[256];
            unquote(tw_event_payloads(ev), log, sizeof(log));
            printf("CCleanup log: %s\n", log);
            failures += strcmp(log, "work-scope-timed-out,work-cancelled,cancel-requested,wait-cancelled,"
                                    "cleanup-fired") != 0;
            shutting_down = 1;
            check(tw_worker_shutdown(worker, cq, TAG_SHUTDOWN), "shutdown");
            break;
        }
        case TAG_SHUTDOWN:
            finished = 1;
            break;
        default:
            break;
        }
        tw_event_free(ev);
    }
    for (int i = 0; i < MAX_RUNS; i++)
        tw_wf_instance_free(runs[i].wf);
    tw_worker_free(worker);
    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
    printf(failures ? "FAILED\n" : "ok\n");
    return failures ? 1 : 0;
}
