/*
 * c_activities: activities per second through the C worker alone.
 *
 * One workflow ("CBenchActivities") runs N no-op activities one after the
 * other on the workflow runtime, and the same process executes them on the
 * activity side of the same worker. Prints one JSON line like the Python
 * benchmarks, so bench/run.py can put it beside the Python numbers: it shows
 * how far the Python layer is from the engine, and the engine from the server.
 *
 *   c_activities HOST:PORT [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <tw/tw.h>

static int total = 200;
static int started;

static void start_next(tw_wf_instance *wf)
{
    tw_activity_options o;
    tw_activity_options_init(&o);
    o.activity_type = "noop";
    o.start_to_close_timeout_ms = 30000;
    tw_wf_start_activity(wf, NULL, &o, (uint64_t)++started, NULL);
}

static void on_start(tw_wf_instance *wf, const char *type, const tw_payloads *args, void *ud)
{
    (void)type, (void)args, (void)ud;
    started = 0;
    start_next(wf);
}

static void on_resolved(tw_wf_instance *wf, tw_op *op, uint64_t tag, int resolution, const tw_payloads *result,
                        const tw_failure *failure, void *ud)
{
    (void)op, (void)result, (void)failure, (void)ud;
    if (resolution != TW_RESOLUTION_COMPLETED)
        tw_wf_fail(wf, "activity failed", NULL, 1, NULL);
    else if ((int)tag < total)
        start_next(wf);
    else
        tw_wf_complete(wf, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 + (double)r.ru_stime.tv_sec +
           (double)r.ru_stime.tv_usec / 1e6;
}

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", what, tw_strerror(rc), tw_error_message(tw_error_last()));
        exit(1);
    }
}

enum { TAG_POLL = 1, TAG_DONE, TAG_APOLL, TAG_ADONE, TAG_CONNECT, TAG_START, TAG_RESULT, TAG_SHUTDOWN };

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s HOST:PORT [N]\n", argv[0]);
        return 2;
    }
    if (argc > 2)
        total = atoi(argv[2]);
    char id[64];
    snprintf(id, sizeof(id), "c-bench-%ld", (long)time(NULL));
    static const tw_wf_callbacks cbs = {.size = sizeof(tw_wf_callbacks), .start = on_start, .resolved = on_resolved};
    tw_runtime *rt;
    tw_cq *cq;
    tw_client *client;
    tw_worker *worker;
    tw_wf_instance *wf = NULL;
    check(tw_runtime_new(NULL, &rt), "runtime");
    check(tw_cq_new(&cq), "cq");
    tw_client_options co;
    tw_client_options_init(&co);
    co.target = argv[1];
    check(tw_client_new(rt, &co, &client), "client");
    tw_worker_options wo;
    tw_worker_options_init(&wo);
    wo.task_queue = id;
    check(tw_worker_new(client, &wo, &worker), "worker");
    check(tw_client_connect(client, cq, TAG_CONNECT), "connect");
    check(tw_worker_poll_activation(worker, cq, TAG_POLL), "poll");
    check(tw_worker_poll_activity_task(worker, cq, TAG_APOLL), "poll activity");
    double wall0 = 0, cpu0 = 0, wall = 0, cpu = 0;
    for (int done = 0; !done;) {
        tw_event *ev = NULL;
        check(tw_cq_next(cq, 120000, &ev), "wait");
        uint64_t tag = tw_event_tag(ev);
        if (tw_event_status(ev) && tw_event_status(ev) != TW_ECLOSED) {
            fprintf(stderr, "event %llu: %s\n", (unsigned long long)tag, tw_error_message(tw_event_error(ev)));
            return 1;
        }
        if (tw_event_status(ev)) {
            tw_event_free(ev);
            continue;
        }
        switch (tag) {
        case TAG_CONNECT: {
            tw_start_workflow_options so;
            tw_start_workflow_options_init(&so);
            so.workflow_id = id;
            so.workflow_type = "CBenchActivities";
            so.task_queue = id;
            wall0 = now_s();
            cpu0 = cpu_s();
            check(tw_client_start_workflow(client, &so, cq, TAG_START), "start");
            break;
        }
        case TAG_START: {
            tw_result_options ro;
            tw_result_options_init(&ro);
            ro.workflow_id = id;
            check(tw_client_workflow_result(client, &ro, cq, TAG_RESULT), "result");
            break;
        }
        case TAG_POLL: {
            tw_activation *a = tw_event_take_activation(ev);
            int evicted = tw_activation_job_count(a) == 1 &&
                          tw_job_kind_of(tw_activation_job(a, 0)) == TW_JOB_REMOVE_FROM_CACHE;
            if (!wf)
                check(tw_wf_instance_new(&cbs, NULL, &wf), "instance");
            tw_completion *c = NULL;
            check(tw_wf_instance_activate(wf, a, &c), "activate");
            tw_activation_free(a);
            if (evicted) {
                tw_wf_instance_free(wf);
                wf = NULL;
            }
            check(tw_worker_complete_activation(worker, c, cq, TAG_DONE), "complete");
            check(tw_worker_poll_activation(worker, cq, TAG_POLL), "poll");
            break;
        }
        case TAG_APOLL: {
            tw_activity_task *t = tw_event_take_activity_task(ev);
            if (tw_activity_task_kind_of(t) == TW_ACTIVITY_TASK_START) {
                const uint8_t *token;
                size_t len;
                tw_activity_task_token(t, &token, &len);
                check(tw_worker_complete_activity_task(worker, token, len, NULL, cq, TAG_ADONE), "complete activity");
            }
            tw_activity_task_free(t);
            check(tw_worker_poll_activity_task(worker, cq, TAG_APOLL), "poll activity");
            break;
        }
        case TAG_RESULT:
            wall = now_s() - wall0;
            cpu = cpu_s() - cpu0;
            if (tw_event_outcome(ev) != TW_OUTCOME_COMPLETED) {
                fprintf(stderr, "the benchmark workflow did not complete\n");
                return 1;
            }
            check(tw_worker_shutdown(worker, cq, TAG_SHUTDOWN), "shutdown");
            break;
        case TAG_SHUTDOWN:
            done = 1;
            break;
        default:
            break;
        }
        tw_event_free(ev);
    }
    printf("{\"benchmark\": \"sequential_activities\", \"per_second\": %.3f, \"cpu_ms_per_activity\": %.4f, "
           "\"sdk\": \"c\"}\n", total / wall, 1000.0 * cpu / total);
    tw_wf_instance_free(wf);
    tw_worker_free(worker);
    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
    return 0;
}
