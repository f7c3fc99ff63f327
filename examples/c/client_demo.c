/*
 * client_demo: the C client end to end against a Temporal server.
 *
 * Starts a workflow (no worker needs to run it), describes it, signals it,
 * requests cancellation, terminates it, then prints its history as JSON:
 * the signal, cancel request and termination are all in there.
 *
 *   client_demo HOST:PORT [WORKFLOW_ID]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tw/tw.h>

static int fail(const char *what, int rc, const tw_error *err)
{
    fprintf(stderr, "%s failed: %s: %s\n", what, tw_strerror(rc), tw_error_message(err));
    return 1;
}

/* Waits for the event of the call just started and checks it succeeded. */
static tw_event *wait_for(tw_cq *cq, const char *what)
{
    tw_event *ev = NULL;
    int rc = tw_cq_next(cq, 60000, &ev);
    if (rc) {
        fprintf(stderr, "%s: no completion: %s\n", what, tw_strerror(rc));
        return NULL;
    }
    if (tw_event_status(ev)) {
        fail(what, tw_event_status(ev), tw_event_error(ev));
        tw_event_free(ev);
        return NULL;
    }
    return ev;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s HOST:PORT [WORKFLOW_ID]\n", argv[0]);
        return 2;
    }
    char workflow_id[64];
    if (argc > 2)
        snprintf(workflow_id, sizeof(workflow_id), "%s", argv[2]);
    else
        snprintf(workflow_id, sizeof(workflow_id), "c-demo-%ld", (long)time(NULL));

    tw_runtime *rt = NULL;
    tw_cq *cq = NULL;
    tw_client *client = NULL;
    int rc = tw_runtime_new(NULL, &rt);
    if (!rc)
        rc = tw_cq_new(&cq);
    tw_client_options co;
    tw_client_options_init(&co);
    co.target = argv[1];
    if (!rc)
        rc = tw_client_new(rt, &co, &client);
    if (!rc)
        rc = tw_client_connect(client, cq, 1);
    if (rc)
        return fail("setup", rc, tw_error_last());
    tw_event *ev = wait_for(cq, "connect");
    if (!ev)
        return 1;
    tw_event_free(ev);
    printf("connected to %s, namespace %s\n", argv[1], tw_client_namespace(client));

    /* start */
    tw_payloads *args = NULL;
    tw_payloads_new(&args);
    tw_payloads_add_json(args, "\"Temporal\"", NULL);
    tw_start_workflow_options so;
    tw_start_workflow_options_init(&so);
    so.workflow_id = workflow_id;
    so.workflow_type = "SomeWorkflowType";
    so.task_queue = "c-demo-queue";
    so.args = args;
    so.execution_timeout_ms = 3600 * 1000;
    if ((rc = tw_client_start_workflow(client, &so, cq, 2)))
        return fail("start", rc, tw_error_last());
    tw_payloads_free(args);
    if (!(ev = wait_for(cq, "start")))
        return 1;
    char run_id[64];
    snprintf(run_id, sizeof(run_id), "%s", tw_event_run_id(ev));
    tw_event_free(ev);
    printf("started %s run %s\n", workflow_id, run_id);

    /* describe */
    if ((rc = tw_client_describe_workflow(client, workflow_id, run_id, cq, 3)))
        return fail("describe", rc, tw_error_last());
    if (!(ev = wait_for(cq, "describe")))
        return 1;
    const tw_execution *ex = tw_event_execution(ev, 0);
    printf("described: type %s, task queue %s, status %d\n", tw_execution_workflow_type(ex),
           tw_execution_task_queue(ex), tw_execution_status(ex));
    tw_event_free(ev);

    /* signal, cancel, terminate */
    tw_payloads *sig = NULL;
    tw_payloads_new(&sig);
    tw_payloads_add_json(sig, "{\"salutation\": \"Hola\"}", NULL);
    tw_signal_options sg;
    tw_signal_options_init(&sg);
    sg.workflow_id = workflow_id;
    sg.signal_name = "update_salutation";
    sg.args = sig;
    if ((rc = tw_client_signal_workflow(client, &sg, cq, 4)))
        return fail("signal", rc, tw_error_last());
    tw_payloads_free(sig);
    if (!(ev = wait_for(cq, "signal")))
        return 1;
    tw_event_free(ev);
    tw_close_options cl;
    tw_close_options_init(&cl);
    cl.workflow_id = workflow_id;
    cl.reason = "demo cancel";
    if ((rc = tw_client_cancel_workflow(client, &cl, cq, 5)))
        return fail("cancel", rc, tw_error_last());
    if (!(ev = wait_for(cq, "cancel")))
        return 1;
    tw_event_free(ev);
    cl.reason = "demo over";
    if ((rc = tw_client_terminate_workflow(client, &cl, cq, 6)))
        return fail("terminate", rc, tw_error_last());
    if (!(ev = wait_for(cq, "terminate")))
        return 1;
    tw_event_free(ev);
    printf("signalled, cancel requested, terminated\n");

    /* result: terminated */
    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = workflow_id;
    if ((rc = tw_client_workflow_result(client, &ro, cq, 7)))
        return fail("result", rc, tw_error_last());
    if (!(ev = wait_for(cq, "result")))
        return 1;
    printf("outcome %d (terminated is %d): %s\n", tw_event_outcome(ev), TW_OUTCOME_TERMINATED,
           tw_failure_message(tw_event_failure(ev)));
    tw_event_free(ev);

    /* history */
    tw_history_options ho;
    tw_history_options_init(&ho);
    ho.workflow_id = workflow_id;
    if ((rc = tw_client_fetch_history(client, &ho, cq, 8)))
        return fail("history", rc, tw_error_last());
    if (!(ev = wait_for(cq, "history")))
        return 1;
    char *json = NULL;
    if ((rc = tw_history_to_json(tw_event_history(ev), &json)))
        return fail("history json", rc, tw_error_last());
    printf("history (%zu events): %s\n", tw_history_event_count(tw_event_history(ev)), json);
    tw_free(json);
    tw_event_free(ev);

    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
    return 0;
}
