/*
 * activity_caller: the "ActivityCaller" workflow (activity_caller_workflow.h)
 * served by a tw_worker, and an activity written in C on the activity API.
 *
 *   activity_caller HOST:PORT
 *       Demo: one worker runs the workflow and the C activity "Greet"
 *       (heartbeats once, returns "Hello, <name>!"); the client starts the
 *       workflow and prints its result. Exits 0 when the result is right.
 *
 *   activity_caller worker HOST:PORT TASK_QUEUE
 *       Serves ActivityCaller workflows (and no activities) on TASK_QUEUE
 *       until SIGINT or SIGTERM, then shuts down gracefully. Prints "ready"
 *       once connected. Activity workers in other processes (the Python
 *       tests) serve the activities the workflows schedule.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tw/tw.h>

#include "activity_caller_workflow.h"

enum { TAG_CONNECT = 1, TAG_POLL, TAG_DONE, TAG_ACT_POLL, TAG_ACT_DONE, TAG_START, TAG_RESULT, TAG_SHUTDOWN };

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "activity_caller: %s: %s: %s\n", what, tw_strerror(rc), tw_error_message(tw_error_last()));
        exit(1);
    }
}

/* Runs one workflow activation and answers it. */
static void run_activation(tw_worker *w, tw_cq *cq, tw_event *ev)
{
    tw_activation *a = tw_event_take_activation(ev);
    tw_completion *c = activity_caller_activate(a);
    tw_activation_free(a);
    check(c ? 0 : TW_ENOMEM, "activate");
    check(tw_worker_complete_activation(w, c, cq, TAG_DONE), "complete activation");
    check(tw_worker_poll_activation(w, cq, TAG_POLL), "poll activation");
}

/* The "Greet" activity: heartbeats once, then returns "Hello, <name>!". */
static void run_greet(tw_worker *w, tw_cq *cq, const tw_activity_task *t)
{
    const uint8_t *token;
    size_t len;
    tw_activity_task_token(t, &token, &len);
    char *name = NULL;
    if (tw_payloads_count(tw_activity_task_args(t)) != 1 ||
        tw_payloads_data_string(tw_activity_task_args(t), 0, &name) != 0) {
        tw_activity_failure f;
        tw_activity_failure_init(&f);
        f.message = "Greet takes one argument, the name";
        f.type = "BadArgument";
        f.non_retryable = 1;
        check(tw_worker_fail_activity_task(w, token, len, &f, cq, TAG_ACT_DONE), "fail activity");
        return;
    }
    check(tw_worker_heartbeat_activity_task(w, token, len, NULL), "heartbeat");
    size_t n = strlen(name);
    char result[300];
    snprintf(result, sizeof(result), "\"Hello, %.*s!\"", (int)(n >= 2 ? n - 2 : 0), n >= 2 ? name + 1 : "");
    tw_free(name);
    tw_payloads *p = NULL;
    tw_payloads_new(&p);
    tw_payloads_add_json(p, result, NULL);
    check(tw_worker_complete_activity_task(w, token, len, p, cq, TAG_ACT_DONE), "complete activity");
    tw_payloads_free(p);
}

static void on_activity_task(tw_worker *w, tw_cq *cq, tw_event *ev)
{
    tw_activity_task *t = tw_event_take_activity_task(ev);
    const uint8_t *token;
    size_t len;
    tw_activity_task_token(t, &token, &len);
    if (tw_activity_task_kind_of(t) == TW_ACTIVITY_TASK_START) {
        if (strcmp(tw_activity_task_activity_type(t), "Greet") == 0) {
            run_greet(w, cq, t);
        } else {
            tw_activity_failure f;
            tw_activity_failure_init(&f);
            f.message = "unknown activity type";
            f.type = "NotFoundError";
            check(tw_worker_fail_activity_task(w, token, len, &f, cq, TAG_ACT_DONE), "fail activity");
        }
    }
    /* Greet finishes at once, so a CANCEL (worker shutdown) never finds it running. */
    tw_activity_task_free(t);
    check(tw_worker_poll_activity_task(w, cq, TAG_ACT_POLL), "poll activity");
}

static int serve(const char *target, const char *task_queue)
{
    tw_runtime *rt;
    tw_cq *cq;
    tw_client *client;
    tw_worker *w;
    check(tw_runtime_new(NULL, &rt), "runtime");
    check(tw_cq_new(&cq), "cq");
    tw_client_options co;
    tw_client_options_init(&co);
    co.target = target;
    check(tw_client_new(rt, &co, &client), "client");
    tw_worker_options wo;
    tw_worker_options_init(&wo);
    wo.task_queue = task_queue;
    wo.no_activities = 1;
    check(tw_worker_new(client, &wo, &w), "worker");
    check(tw_client_connect(client, cq, TAG_CONNECT), "connect");
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int shutting_down = 0, code = 0;
    for (;;) {
        if (stop_requested && !shutting_down) {
            shutting_down = 1;
            check(tw_worker_shutdown(w, cq, TAG_SHUTDOWN), "shutdown");
        }
        tw_event *ev = NULL;
        if (tw_cq_next(cq, 100, &ev) != 0)
            continue;
        uint64_t tag = tw_event_tag(ev);
        int status = tw_event_status(ev);
        if (tag == TAG_CONNECT) {
            check(status, "connect");
            check(tw_worker_poll_activation(w, cq, TAG_POLL), "poll activation");
            printf("ready\n");
            fflush(stdout);
        } else if (tag == TAG_POLL && status == 0) {
            run_activation(w, cq, ev);
        } else if (tag == TAG_DONE && status) {
            fprintf(stderr, "activity_caller: completing an activation failed: %s\n",
                    tw_error_message(tw_event_error(ev)));
        } else if (tag == TAG_SHUTDOWN) {
            code = status ? 1 : 0;
            tw_event_free(ev);
            break;
        }
        tw_event_free(ev);
    }
    tw_worker_free(w);
    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
    return code;
}

static int demo(const char *target)
{
    char task_queue[64], workflow_id[64];
    snprintf(task_queue, sizeof(task_queue), "activity-caller-%ld", (long)time(NULL));
    snprintf(workflow_id, sizeof(workflow_id), "activity-caller-%ld", (long)time(NULL));
    tw_runtime *rt;
    tw_cq *cq;
    tw_client *client;
    tw_worker *w;
    check(tw_runtime_new(NULL, &rt), "runtime");
    check(tw_cq_new(&cq), "cq");
    tw_client_options co;
    tw_client_options_init(&co);
    co.target = target;
    check(tw_client_new(rt, &co, &client), "client");
    tw_worker_options wo;
    tw_worker_options_init(&wo);
    wo.task_queue = task_queue;
    check(tw_worker_new(client, &wo, &w), "worker");
    check(tw_client_connect(client, cq, TAG_CONNECT), "connect");
    int code = 1;
    for (;;) {
        tw_event *ev = NULL;
        if (tw_cq_next(cq, 60000, &ev) != 0) {
            fprintf(stderr, "activity_caller: nothing happened for 60 s\n");
            break;
        }
        uint64_t tag = tw_event_tag(ev);
        int status = tw_event_status(ev);
        if (status && tag != TAG_POLL && tag != TAG_ACT_POLL) {
            fprintf(stderr, "activity_caller: event %llu failed: %s\n", (unsigned long long)tag,
                    tw_error_message(tw_event_error(ev)));
            tw_event_free(ev);
            break;
        }
        switch (tag) {
        case TAG_CONNECT: {
            check(tw_worker_poll_activation(w, cq, TAG_POLL), "poll activation");
            check(tw_worker_poll_activity_task(w, cq, TAG_ACT_POLL), "poll activity");
            tw_payloads *args = NULL;
            tw_payloads_new(&args);
            tw_payloads_add_json(args, "{\"activity_type\": \"Greet\", \"args\": [\"World\"], "
                                       "\"heartbeat_timeout_ms\": 5000}", NULL);
            tw_start_workflow_options so;
            tw_start_workflow_options_init(&so);
            so.workflow_id = workflow_id;
            so.workflow_type = ACTIVITY_CALLER_TYPE;
            so.task_queue = task_queue;
            so.args = args;
            check(tw_client_start_workflow(client, &so, cq, TAG_START), "start");
            tw_payloads_free(args);
            break;
        }
        case TAG_START: {
            tw_result_options ro;
            tw_result_options_init(&ro);
            ro.workflow_id = workflow_id;
            check(tw_client_workflow_result(client, &ro, cq, TAG_RESULT), "result");
            break;
        }
        case TAG_POLL:
            if (status == 0)
                run_activation(w, cq, ev);
            break;
        case TAG_ACT_POLL:
            if (status == 0)
                on_activity_task(w, cq, ev);
            break;
        case TAG_RESULT: {
            char *result = NULL;
            if (tw_event_outcome(ev) == TW_OUTCOME_COMPLETED && tw_payloads_data_string(tw_event_payloads(ev), 0, &result) == 0) {
                printf("result: %s\n", result);
                code = strcmp(result, "\"Hello, World!\"") == 0 ? 0 : 1;
            } else {
                fprintf(stderr, "activity_caller: the workflow did not complete: %s\n",
                        tw_failure_message(tw_event_failure(ev)));
            }
            tw_free(result);
            check(tw_worker_shutdown(w, cq, TAG_SHUTDOWN), "shutdown");
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
    tw_worker_free(w);
    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
    return code;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "worker") == 0)
        return serve(argv[2], argv[3]);
    if (argc == 2)
        return demo(argv[1]);
    fprintf(stderr, "usage: %s HOST:PORT\n       %s worker HOST:PORT TASK_QUEUE\n", argv[0], argv[0]);
    return 2;
}
