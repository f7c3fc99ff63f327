/*
 * c_activities: the Python benchmarks' workloads through the C worker alone.
 *
 * First one workflow ("CBenchActivities") runs N no-op activities one after
 * the other on the workflow runtime, and the same process executes them on
 * the activity side of the same worker; then 100 one-activity workflows
 * ("CBenchOne") are started at once and awaited, twice: as ordinary starts,
 * then with request_eager_start. Prints one JSON line per
 * benchmark like the Python scripts, so bench/run.py can put them beside the
 * Python numbers: they show how far the Python layer is from the engine, and
 * the engine from the server.
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

enum { CONCURRENT = 100 };

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", what, tw_strerror(rc), tw_error_message(tw_error_last()));
        exit(1);
    }
}

/* Instances by run id (the sequential run, then the concurrent ones). */
static struct {
    char run_id[64];
    tw_wf_instance *wf;
} runs[2 * CONCURRENT + 1];

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
    (void)args, (void)ud;
    if (strcmp(type, "CBenchOne") == 0) {
        tw_activity_options o;
        tw_activity_options_init(&o);
        o.activity_type = "noop";
        o.start_to_close_timeout_ms = 30000;
        tw_wf_start_activity(wf, NULL, &o, (uint64_t)total, NULL); /* the last tag: completes */
        return;
    }
    started = 0;
    start_next(wf);
}

static void on_resolved(tw_wf_instance *wf, tw_op *op, uint64_t tag, int resolution, const tw_payloads *result,
                        const tw_failure *failure, void *ud);

/* The instance of the activation's run (created on first use; freed on eviction). */
static tw_wf_instance *instance_for(const tw_activation *a, int *slot)
{
    static const tw_wf_callbacks cbs = {.size = sizeof(tw_wf_callbacks), .start = on_start, .resolved = on_resolved};
    const char *run_id = tw_activation_run_id(a);
    int free_slot = -1;
    for (int i = 0; i <= 2 * CONCURRENT; i++) {
        if (runs[i].wf && strcmp(runs[i].run_id, run_id) == 0) {
            *slot = i;
            return runs[i].wf;
        }
        if (!runs[i].wf && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0) {
        fprintf(stderr, "more runs cached than expected\n");
        exit(1);
    }
    snprintf(runs[free_slot].run_id, sizeof(runs[free_slot].run_id), "%s", run_id);
    check(tw_wf_instance_new(&cbs, NULL, &runs[free_slot].wf), "instance");
    *slot = free_slot;
    return runs[free_slot].wf;
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

enum { TAG_POLL = 1, TAG_DONE, TAG_APOLL, TAG_ADONE, TAG_CONNECT, TAG_START, TAG_RESULT, TAG_SHUTDOWN,
       TAG_START_MANY = 1000, TAG_RESULT_MANY = 2000 };

static void start_and_await(tw_client *client, tw_cq *cq, const char *id, const char *type, const char *queue,
                            uint64_t tag, int eager)
{
    tw_start_workflow_options so;
    tw_start_workflow_options_init(&so);
    so.workflow_id = id;
    so.workflow_type = type;
    so.task_queue = queue;
    so.request_eager_start = eager;
    check(tw_client_start_workflow(client, &so, cq, tag), "start");
}

static void await_result(tw_client *client, tw_cq *cq, const char *id, uint64_t tag)
{
    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = id;
    check(tw_client_workflow_result(client, &ro, cq, tag), "result");
}

/* The throughput run: CONCURRENT one-activity workflows started at once (round 1: eagerly). */
static void start_many(tw_client *client, tw_cq *cq, const char *id, char (*many_id)[80], int round, double *wall0,
                       double *cpu0)
{
    *wall0 = now_s();
    *cpu0 = cpu_s();
    for (int i = 0; i < CONCURRENT; i++) {
        int k = round * CONCURRENT + i;
        snprintf(many_id[k], 80, "%s-r%d-t%d", id, round, i);
        start_and_await(client, cq, many_id[k], "CBenchOne", id, TAG_START_MANY + (uint64_t)k, round);
    }
}

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
    wo.task_queue = id;
    wo.workflow_pollers = 1; /* the Python Worker's (and the official SDKs') default split of five polls */
    wo.sticky_pollers = 4;
    check(tw_worker_new(client, &wo, &worker), "worker");
    check(tw_client_connect(client, cq, TAG_CONNECT), "connect");
    check(tw_worker_poll_activation(worker, cq, TAG_POLL), "poll");
    check(tw_worker_poll_activity_task(worker, cq, TAG_APOLL), "poll activity");
    double wall0 = 0, cpu0 = 0, wall = 0, cpu = 0, many_wall[2] = {0}, many_cpu[2] = {0};
    int many_done = 0, round = 0;
    char many_id[2 * CONCURRENT][80];
    for (int done = 0; !done;) {
        tw_event *ev = NULL;
        check(tw_cq_next(cq, 120000, &ev), "wait");
        uint64_t tag = tw_event_tag(ev);
        if (tag >= TAG_START_MANY && tag < TAG_START_MANY + 2 * CONCURRENT && !tw_event_status(ev)) {
            int i = (int)(tag - TAG_START_MANY);
            await_result(client, cq, many_id[i], TAG_RESULT_MANY + (uint64_t)i);
            tw_event_free(ev);
            continue;
        }
        if (tag >= TAG_RESULT_MANY && tag < TAG_RESULT_MANY + 2 * CONCURRENT && !tw_event_status(ev)) {
            if (tw_event_outcome(ev) != TW_OUTCOME_COMPLETED) {
                fprintf(stderr, "a throughput workflow did not complete\n");
                return 1;
            }
            if (++many_done == CONCURRENT) {
                many_wall[round] = now_s() - wall0;
                many_cpu[round] = cpu_s() - cpu0;
                many_done = 0;
                if (++round == 2)
                    check(tw_worker_shutdown(worker, cq, TAG_SHUTDOWN), "shutdown");
                else
                    start_many(client, cq, id, many_id, round, &wall0, &cpu0);
            }
            tw_event_free(ev);
            continue;
        }
        if (tw_event_status(ev) && tw_event_status(ev) != TW_ECLOSED) {
            fprintf(stderr, "event %llu: %s\n", (unsigned long long)tag, tw_error_message(tw_event_error(ev)));
            return 1;
        }
        if (tw_event_status(ev)) {
            tw_event_free(ev);
            continue;
        }
        switch (tag) {
        case TAG_CONNECT:
            wall0 = now_s();
            cpu0 = cpu_s();
            start_and_await(client, cq, id, "CBenchActivities", id, TAG_START, 0);
            break;
        case TAG_START:
            await_result(client, cq, id, TAG_RESULT);
            break;
        case TAG_POLL: {
            tw_activation *a = tw_event_take_activation(ev);
            int evicted = tw_activation_job_count(a) == 1 &&
                          tw_job_kind_of(tw_activation_job(a, 0)) == TW_JOB_REMOVE_FROM_CACHE;
            int slot;
            tw_wf_instance *wf = instance_for(a, &slot);
            tw_completion *c = NULL;
            check(tw_wf_instance_activate(wf, a, &c), "activate");
            tw_activation_free(a);
            if (evicted) {
                tw_wf_instance_free(wf);
                runs[slot].wf = NULL;
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
            start_many(client, cq, id, many_id, round, &wall0, &cpu0);
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
    printf("{\"benchmark\": \"workflow_throughput\", \"per_second\": %.3f, \"cpu_ms_per_workflow\": %.4f, "
           "\"sdk\": \"c\"}\n", CONCURRENT / many_wall[0], 1000.0 * many_cpu[0] / CONCURRENT);
    printf("{\"benchmark\": \"workflow_throughput_eager\", \"per_second\": %.3f, \"cpu_ms_per_workflow\": %.4f, "
           "\"sdk\": \"c\"}\n", CONCURRENT / many_wall[1], 1000.0 * many_cpu[1] / CONCURRENT);
    for (int i = 0; i <= 2 * CONCURRENT; i++)
        tw_wf_instance_free(runs[i].wf);
    tw_worker_free(worker);
    tw_client_free(client);
    tw_cq_free(cq);
    tw_runtime_free(rt);
    return 0;
}
