/*
 * greeting_worker: a workflow written in C directly on activations, run by
 * a tw_worker and driven by the C client, against a Temporal server.
 *
 * The workflow ("CGreeting", argument: a JSON string name):
 *   - starts a 200 ms timer, and when it fires sets its greeting to
 *     "<salutation>, <name>!";
 *   - signal "update_salutation" (a JSON string) changes the salutation and
 *     the greeting;
 *   - query "current_greeting" answers the greeting;
 *   - signal "complete" completes the workflow with the greeting;
 *   - a cancellation request cancels it.
 * The client starts it, queries it, signals it and waits for its result,
 * all through one completion queue.
 *
 *   greeting_worker HOST:PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tw/tw.h>

#define MAX_RUNS 16

/* Workflow state, one per cached run. */
typedef struct greeting {
    char run_id[64];
    char name[128];
    char salutation[64];
    char text[256];      /* the greeting, as JSON */
    int timer_fired;
} greeting;

static greeting runs[MAX_RUNS];

static greeting *state_of(const char *run_id, int create)
{
    greeting *free_slot = NULL;
    for (int i = 0; i < MAX_RUNS; i++) {
        if (strcmp(runs[i].run_id, run_id) == 0)
            return &runs[i];
        if (!free_slot && !runs[i].run_id[0])
            free_slot = &runs[i];
    }
    if (!create || !free_slot)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    snprintf(free_slot->run_id, sizeof(free_slot->run_id), "%s", run_id);
    snprintf(free_slot->salutation, sizeof(free_slot->salutation), "Hello");
    return free_slot;
}

/* The first payload of a list as a string without its JSON quotes (good enough for names). */
static void first_string(const tw_payloads *p, char *out, size_t len)
{
    char *raw = NULL;
    out[0] = '\0';
    if (tw_payloads_count(p) == 0 || tw_payloads_data_string(p, 0, &raw) != 0)
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

static void update_greeting(greeting *g)
{
    snprintf(g->text, sizeof(g->text), "\"%s, %s!\"", g->salutation, g->name);
}

static tw_payloads *json_payloads(const char *json)
{
    tw_payloads *p = NULL;
    tw_payloads_new(&p);
    tw_payloads_add_json(p, json, NULL);
    return p;
}

/* Runs the workflow code for one activation and builds its completion. */
static tw_completion *run_workflow(const tw_activation *a)
{
    const char *run_id = tw_activation_run_id(a);
    tw_completion *c = NULL;
    tw_completion_new(run_id, &c);
    greeting *g = state_of(run_id, 1);
    for (size_t i = 0; i < tw_activation_job_count(a); i++) {
        const tw_job *j = tw_activation_job(a, i);
        switch (tw_job_kind_of(j)) {
        case TW_JOB_INITIALIZE:
            first_string(tw_job_args(j), g->name, sizeof(g->name));
            update_greeting(g);
            tw_completion_start_timer(c, 1, 200);
            break;
        case TW_JOB_FIRE_TIMER:
            g->timer_fired = 1;
            update_greeting(g);
            break;
        case TW_JOB_SIGNAL:
            if (strcmp(tw_job_name(j), "update_salutation") == 0) {
                first_string(tw_job_args(j), g->salutation, sizeof(g->salutation));
                update_greeting(g);
            } else if (strcmp(tw_job_name(j), "complete") == 0) {
                tw_payloads *result = json_payloads(g->text);
                tw_completion_complete_workflow(c, result);
                tw_payloads_free(result);
            }
            break;
        case TW_JOB_QUERY: {
            if (strcmp(tw_job_name(j), "current_greeting") == 0) {
                tw_payloads *answer = json_payloads(g->text);
                tw_completion_respond_query(c, tw_job_query_id(j), answer, NULL);
                tw_payloads_free(answer);
            } else {
                tw_completion_respond_query(c, tw_job_query_id(j), NULL, "unknown query type");
            }
            break;
        }
        case TW_JOB_CANCEL_WORKFLOW:
            tw_completion_cancel_workflow(c, NULL);
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

enum { TAG_POLL = 1, TAG_DONE, TAG_CONNECT, TAG_START, TAG_QUERY, TAG_SIGNAL1, TAG_SIGNAL2, TAG_RESULT, TAG_SHUTDOWN };

static int check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", what, tw_strerror(rc), tw_error_message(tw_error_last()));
        exit(1);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
        return 2;
    }
    char workflow_id[64], task_queue[64];
    snprintf(workflow_id, sizeof(workflow_id), "c-greeting-%ld", (long)time(NULL));
    snprintf(task_queue, sizeof(task_queue), "c-greeting-%ld", (long)time(NULL));

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
    wo.task_queue = task_queue;
    check(tw_worker_new(client, &wo, &worker), "worker");

    check(tw_client_connect(client, cq, TAG_CONNECT), "connect");
    check(tw_worker_poll_activation(worker, cq, TAG_POLL), "poll");
    int queried = 0, shutting_down = 0, exit_code = 1;
    for (;;) {
        tw_event *ev = NULL;
        if (tw_cq_next(cq, 60000, &ev) != 0) {
            fprintf(stderr, "nothing happened for 60 s\n");
            break;
        }
        int status = tw_event_status(ev);
        uint64_t tag = tw_event_tag(ev);
        if (status && !(tag == TAG_POLL && shutting_down)) {
            fprintf(stderr, "event %llu failed: %s\n", (unsigned long long)tag,
                    tw_error_message(tw_event_error(ev)));
            tw_event_free(ev);
            break;
        }
        switch (tag) {
        case TAG_CONNECT: {
            tw_payloads *args = json_payloads("\"World\"");
            tw_start_workflow_options so;
            tw_start_workflow_options_init(&so);
            so.workflow_id = workflow_id;
            so.workflow_type = "CGreeting";
            so.task_queue = task_queue;
            so.args = args;
            check(tw_client_start_workflow(client, &so, cq, TAG_START), "start");
            tw_payloads_free(args);
            break;
        }
        case TAG_START:
            printf("started %s\n", workflow_id);
            break;
        case TAG_POLL: {
            if (status) /* TW_ECLOSED after shutdown */
                break;
            tw_activation *a = tw_event_take_activation(ev);
            tw_completion *c = run_workflow(a);
            greeting *g = state_of(tw_activation_run_id(a), 0);
            int fired = g && g->timer_fired;
            tw_activation_free(a);
            check(tw_worker_complete_activation(worker, c, cq, TAG_DONE), "complete");
            check(tw_worker_poll_activation(worker, cq, TAG_POLL), "poll");
            if (fired && !queried) {
                queried = 1;
                tw_query_options qo;
                tw_query_options_init(&qo);
                qo.workflow_id = workflow_id;
                qo.query_type = "current_greeting";
                check(tw_client_query_workflow(client, &qo, cq, TAG_QUERY), "query");
            }
            break;
        }
        case TAG_DONE:
            break;
        case TAG_QUERY: {
            char answer[256];
            first_string(tw_event_payloads(ev), answer, sizeof(answer));
            printf("query current_greeting: %s\n", answer);
            tw_payloads *args = json_payloads("\"Hola\"");
            tw_signal_options so;
            tw_signal_options_init(&so);
            so.workflow_id = workflow_id;
            so.signal_name = "update_salutation";
            so.args = args;
            check(tw_client_signal_workflow(client, &so, cq, TAG_SIGNAL1), "signal");
            tw_payloads_free(args);
            break;
        }
        case TAG_SIGNAL1: {
            tw_signal_options so;
            tw_signal_options_init(&so);
            so.workflow_id = workflow_id;
            so.signal_name = "complete";
            check(tw_client_signal_workflow(client, &so, cq, TAG_SIGNAL2), "signal");
            break;
        }
        case TAG_SIGNAL2: {
            tw_result_options ro;
            tw_result_options_init(&ro);
            ro.workflow_id = workflow_id;
            check(tw_client_workflow_result(client, &ro, cq, TAG_RESULT), "result");
            break;
        }
        case TAG_RESULT: {
            char result[256];
            first_string(tw_event_payloads(ev), result, sizeof(result));
            printf("result: %s\n", result);
            exit_code = strcmp(result, "Hola, World!") == 0 ? 0 : 1;
            shutting_down = 1;
            check(tw_worker_shutdown(worker, cq, TAG_SHUTDOWN), "shutdown");
            break;
        }
        default:
            break;
        }
        tw_event_free(ev);
        if (tag == TAG_SHUTDOWN) {
            printf("worker shut down\n");
            break;
        }
    }
    tw_worker_free(worker);
    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
    return exit_code;
}
