/*
 * The replayer (tw/replay.h): histories recorded from a real server
 * (tests/fixtures, see its README) replayed through the public API by a
 * C workflow that is the greeting example's, in JSON, binary and
 * tctl-era form; changed workflow code (non-determinism), a workflow that
 * fails its task, several histories in one replayer, and bad input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include <tw/tw.h>

#define FIXTURE(name) TW_FIXTURES_DIR "/" name
#define GREETING_RUN_ID "01a210bd-4bfa-7891-abcb-e75d915e4135"
#define GREETING_WORKFLOW_ID "c-greeting-1795577170"

/* ---- helpers ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void call_ok(int rc, const char *what)
{
    cr_assert_eq(rc, 0, "%s: %s: %s", what, tw_strerror(rc), tw_error_message(tw_error_last()));
}

static void add_json_file(tw_replayer *r, const char *workflow_id, const char *path)
{
    size_t len;
    char *json = read_file(path, &len);
    call_ok(tw_replayer_add_history_json(r, workflow_id, json, len), path);
    free(json);
}

static void add_binary_file(tw_replayer *r, const char *workflow_id, const char *path)
{
    size_t len;
    char *bytes = read_file(path, &len);
    call_ok(tw_replayer_add_history_binary(r, workflow_id, (const uint8_t *)bytes, len), path);
    free(bytes);
}

/* Adds json (NUL-terminated) and expects code with a message containing want. */
static void expect_json_error(const char *json, int code, const char *want)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    int rc = tw_replayer_add_history_json(r, NULL, json, strlen(json));
    cr_expect_eq(rc, code, "%s: got %s (%s)", json, tw_strerror(rc), tw_error_message(tw_error_last()));
    cr_expect(strstr(tw_error_message(tw_error_last()), want), "%s: message \"%s\" does not contain \"%s\"", json,
              tw_error_message(tw_error_last()), want);
    tw_activation *a = NULL;
    cr_expect_eq(tw_replayer_next_activation(r, &a), TW_ECLOSED, "a rejected history must not be added");
    tw_replayer_free(r);
}

/* ---- the workflow: examples/c/greeting_worker.c's, with variants ---- */

typedef enum variant {
    GREETING,          /* as recorded */
    ACTIVITY_FIRST,    /* changed code: schedules an activity where history has the timer */
    FAIL_ON_COMPLETE,  /* fails the workflow task on signal "complete" */
    NO_TIMER           /* changed code: starts no timer at all */
} variant;

typedef struct greeting {
    char run_id[64];
    char name[128];
    char salutation[64];
    char text[256];
    int timer_fired;
    int completed;
} greeting;

/* What the test saw while driving a replayer. */
typedef struct drive_log {
    int activations;           /* not counting evictions */
    int evictions;
    int eviction_reasons[8];
    char eviction_messages[8][512];
    int initializes;
    char init_workflow_id[64];
    int replaying;             /* activations with is_replaying set */
    int completed_ok;          /* workflows that completed with "Hola, World!" */
} drive_log;

static greeting state;

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

static tw_completion *run_workflow(const tw_activation *a, variant v, drive_log *log)
{
    const char *run_id = tw_activation_run_id(a);
    tw_completion *c = NULL;
    call_ok(tw_completion_new(run_id, &c), "completion");
    greeting *g = &state;
    if (strcmp(g->run_id, run_id) != 0) {
        cr_assert_eq(g->run_id[0], '\0', "activation for run %s while run %s is still held", run_id, g->run_id);
        memset(g, 0, sizeof(*g));
        snprintf(g->run_id, sizeof(g->run_id), "%s", run_id);
        snprintf(g->salutation, sizeof(g->salutation), "Hello");
    }
    for (size_t i = 0; i < tw_activation_job_count(a); i++) {
        const tw_job *j = tw_activation_job(a, i);
        switch (tw_job_kind_of(j)) {
        case TW_JOB_INITIALIZE:
            log->initializes++;
            snprintf(log->init_workflow_id, sizeof(log->init_workflow_id), "%s", tw_job_workflow_id(j));
            cr_expect_str_eq(tw_job_name(j), "CGreeting");
            first_string(tw_job_args(j), g->name, sizeof(g->name));
            update_greeting(g);
            if (v == ACTIVITY_FIRST) {
                tw_activity_options o;
                tw_activity_options_init(&o);
                o.activity_type = "compose_greeting";
                o.start_to_close_timeout_ms = 5000;
                call_ok(tw_completion_schedule_activity(c, 1, &o), "schedule activity");
            } else if (v != NO_TIMER) {
                call_ok(tw_completion_start_timer(c, 1, 200), "start timer");
            }
            break;
        case TW_JOB_FIRE_TIMER:
            cr_expect_eq(tw_job_seq(j), 1u);
            g->timer_fired = 1;
            update_greeting(g);
            break;
        case TW_JOB_SIGNAL:
            if (strcmp(tw_job_name(j), "update_salutation") == 0) {
                first_string(tw_job_args(j), g->salutation, sizeof(g->salutation));
                update_greeting(g);
            } else if (strcmp(tw_job_name(j), "complete") == 0) {
                if (v == FAIL_ON_COMPLETE) {
                    call_ok(tw_completion_fail_task(c, "greeting: the salutation is not allowed", NULL), "fail task");
                    break;
                }
                tw_payloads *result = NULL;
                call_ok(tw_payloads_new(&result), "payloads");
                call_ok(tw_payloads_add_json(result, g->text, NULL), "result");
                call_ok(tw_completion_complete_workflow(c, result), "complete workflow");
                tw_payloads_free(result);
                if (g->timer_fired && strcmp(g->text, "\"Hola, World!\"") == 0)
                    log->completed_ok++;
            }
            break;
        case TW_JOB_REMOVE_FROM_CACHE:
            memset(g, 0, sizeof(*g));
            break;
        default:
            cr_expect_fail("unexpected job kind %d", tw_job_kind_of(j));
        }
    }
    return c;
}

/* Drives r until every history is replayed. */
static drive_log drive(tw_replayer *r, variant v)
{
    drive_log log;
    memset(&log, 0, sizeof(log));
    memset(&state, 0, sizeof(state));
    for (int guard = 0; guard < 100; guard++) {
        tw_activation *a = NULL;
        int rc = tw_replayer_next_activation(r, &a);
        if (rc == TW_ECLOSED) {
            cr_expect_eq(state.run_id[0], '\0', "the last run got no eviction");
            return log;
        }
        call_ok(rc, "next activation");
        cr_assert_not_null(a);
        size_t n = tw_activation_job_count(a);
        const tw_job *first = tw_activation_job(a, 0);
        if (n == 1 && tw_job_kind_of(first) == TW_JOB_REMOVE_FROM_CACHE) {
            if (log.evictions < 8) {
                log.eviction_reasons[log.evictions] = tw_job_eviction_reason(first);
                snprintf(log.eviction_messages[log.evictions], sizeof(log.eviction_messages[0]), "%s",
                         tw_job_name(first));
            }
            log.evictions++;
        } else {
            log.activations++;
            log.replaying += tw_activation_is_replaying(a) != 0;
        }
        tw_completion *c = run_workflow(a, v, &log);
        tw_activation_free(a);
        call_ok(tw_replayer_complete(r, c), "complete");
    }
    cr_assert_fail("the replay did not end");
    return log;
}

static void expect_result(const tw_replayer *r, size_t i, const char *workflow_id, const char *run_id, int status)
{
    cr_assert_lt(i, tw_replayer_result_count(r));
    cr_expect_str_eq(tw_replayer_result_workflow_id(r, i), workflow_id);
    cr_expect_str_eq(tw_replayer_result_run_id(r, i), run_id);
    cr_expect_eq(tw_replayer_result_status(r, i), status, "result %zu: status %d, message: %s", i,
                 tw_replayer_result_status(r, i), tw_replayer_result_message(r, i));
    if (status == TW_REPLAY_OK)
        cr_expect_str_eq(tw_replayer_result_message(r, i), "");
}

/* A one-run replay of the greeting history in JSON, as the CLI prints it. */
static void expect_clean_greeting(const drive_log *log)
{
    /* Workflow tasks: start, timer fired, signal, signal. */
    cr_expect_eq(log->activations, 4);
    cr_expect_eq(log->replaying, 4, "every activation of a closed history is a replay");
    cr_expect_eq(log->initializes, 1);
    cr_expect_eq(log->completed_ok, 1, "the workflow did not reach its result");
    cr_expect_eq(log->evictions, 1);
    cr_expect_eq(log->eviction_reasons[0], TW_EVICTION_REPLAY_FINISHED);
}

/* ---- replays that succeed ---- */

Test(replay, json_from_the_cli)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, NULL, FIXTURE("greeting.json"));
    drive_log log = drive(r, GREETING);
    expect_clean_greeting(&log);
    cr_expect_str_eq(log.init_workflow_id, GREETING_WORKFLOW_ID);
    cr_assert_eq(tw_replayer_result_count(r), 1);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_OK);
    tw_replayer_free(r);
}

Test(replay, binary)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_binary_file(r, NULL, FIXTURE("greeting.binpb"));
    drive_log log = drive(r, GREETING);
    expect_clean_greeting(&log);
    cr_assert_eq(tw_replayer_result_count(r), 1);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_OK);
    tw_replayer_free(r);
}

Test(replay, legacy_json_with_caller_workflow_id)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, "legacy-greeting", FIXTURE("greeting_legacy.json"));
    drive_log log = drive(r, GREETING);
    expect_clean_greeting(&log);
    cr_expect_str_eq(log.init_workflow_id, "legacy-greeting", "the caller's workflow id reaches the workflow");
    expect_result(r, 0, "legacy-greeting", GREETING_RUN_ID, TW_REPLAY_OK);
    tw_replayer_free(r);
}

Test(replay, legacy_json_without_workflow_id)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, NULL, FIXTURE("greeting_legacy.json"));
    drive_log log = drive(r, GREETING);
    expect_clean_greeting(&log);
    cr_expect_str_eq(log.init_workflow_id, "");
    expect_result(r, 0, "", GREETING_RUN_ID, TW_REPLAY_OK);
    tw_replayer_free(r);
}

Test(replay, caller_workflow_id_overrides_the_recorded_one)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, "renamed", FIXTURE("greeting.json"));
    drive_log log = drive(r, GREETING);
    cr_expect_str_eq(log.init_workflow_id, "renamed");
    expect_result(r, 0, "renamed", GREETING_RUN_ID, TW_REPLAY_OK);
    tw_replayer_free(r);
}

/*
 * A workflow still running: the history ends with a workflow task started
 * and not completed (the one for signal "complete"). That last activation
 * is live, and its commands have nothing to match.
 */
Test(replay, running_history_ends_with_a_live_activation)
{
    size_t len;
    char *text = read_file(FIXTURE("greeting.json"), &len);
    cJSON *h = cJSON_Parse(text);
    free(text);
    cr_assert_not_null(h);
    cJSON *events = cJSON_GetObjectItem(h, "events");
    cr_assert_eq(cJSON_GetArraySize(events), 18);
    cJSON_DeleteItemFromArray(events, 17); /* WorkflowExecutionCompleted */
    cJSON_DeleteItemFromArray(events, 16); /* WorkflowTaskCompleted */
    char *json = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    call_ok(tw_replayer_add_history_json(r, NULL, json, strlen(json)), "add");
    cJSON_free(json);
    drive_log log = drive(r, GREETING);
    cr_expect_eq(log.activations, 4);
    cr_expect_eq(log.replaying, 3, "the last workflow task is live");
    cr_expect_eq(log.completed_ok, 1);
    cr_expect_eq(log.eviction_reasons[0], TW_EVICTION_REPLAY_FINISHED);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_OK);
    tw_replayer_free(r);
}

/* ---- replays that fail ---- */

Test(replay, changed_code_is_nondeterministic)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, NULL, FIXTURE("greeting.json"));
    drive_log log = drive(r, ACTIVITY_FIRST);
    cr_assert_eq(tw_replayer_result_count(r), 1);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_NONDETERMINISTIC);
    const char *msg = tw_replayer_result_message(r, 0);
    cr_expect(strstr(msg, "non-deterministic"), "%s", msg);
    cr_expect(strstr(msg, "history event 5"), "the message names the event: %s", msg);
    cr_expect(strstr(msg, "TimerStarted"), "the message names what history has: %s", msg);
    cr_expect(strstr(msg, "ScheduleActivityTask"), "the message names what the workflow produced: %s", msg);
    cr_expect(strstr(msg, "compose_greeting"), "%s", msg);
    cr_expect_eq(log.activations, 1, "the replay stops at the first mismatch");
    cr_expect_eq(log.evictions, 1);
    cr_expect_eq(log.eviction_reasons[0], TW_EVICTION_NONDETERMINISM);
    cr_expect_str_eq(log.eviction_messages[0], msg);
    tw_replayer_free(r);
}

Test(replay, missing_command_is_nondeterministic)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_binary_file(r, NULL, FIXTURE("greeting.binpb"));
    drive(r, NO_TIMER);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_NONDETERMINISTIC);
    const char *msg = tw_replayer_result_message(r, 0);
    cr_expect(strstr(msg, "history event 5") && strstr(msg, "TimerStarted") && strstr(msg, "no command"), "%s", msg);
    tw_replayer_free(r);
}

Test(replay, task_failure_fails_the_run)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, NULL, FIXTURE("greeting.json"));
    drive_log log = drive(r, FAIL_ON_COMPLETE);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_FAILED);
    cr_expect_str_eq(tw_replayer_result_message(r, 0), "greeting: the salutation is not allowed");
    cr_expect_eq(log.activations, 4);
    cr_expect_eq(log.evictions, 1);
    cr_expect_eq(log.eviction_reasons[0], TW_EVICTION_WORKFLOW_TASK_FAILED);
    tw_replayer_free(r);
}

/* An event the engine cannot process before the first workflow task: no activation, so no eviction. */
Test(replay, unsupported_history_fails_without_activation)
{
    static const char json[] =
        "{\"events\": ["
        "{\"eventId\": \"1\", \"eventType\": \"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\","
        " \"workflowExecutionStartedEventAttributes\": {\"workflowType\": {\"name\": \"CGreeting\"},"
        " \"originalExecutionRunId\": \"run-x\", \"workflowId\": \"wf-x\"}},"
        "{\"eventId\": \"2\", \"eventType\": 999},"
        "{\"eventId\": \"3\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\","
        " \"workflowTaskScheduledEventAttributes\": {}},"
        "{\"eventId\": \"4\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_STARTED\","
        " \"workflowTaskStartedEventAttributes\": {\"scheduledEventId\": \"3\"}}]}";
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    call_ok(tw_replayer_add_history_json(r, NULL, json, sizeof(json) - 1), "add");
    drive_log log = drive(r, GREETING);
    cr_expect_eq(log.activations, 0);
    cr_expect_eq(log.evictions, 0);
    expect_result(r, 0, "wf-x", "run-x", TW_REPLAY_FAILED);
    cr_expect(strstr(tw_replayer_result_message(r, 0), "history event 2"), "%s", tw_replayer_result_message(r, 0));
    tw_replayer_free(r);
}

/* ---- many histories ---- */

Test(replay, many_histories_in_order)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, NULL, FIXTURE("greeting.json"));
    add_binary_file(r, "second", FIXTURE("greeting.binpb"));
    add_json_file(r, "third", FIXTURE("greeting_legacy.json"));
    drive_log log = drive(r, GREETING);
    cr_expect_eq(log.activations, 12);
    cr_expect_eq(log.completed_ok, 3);
    cr_expect_eq(log.evictions, 3);
    cr_assert_eq(tw_replayer_result_count(r), 3);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_OK);
    expect_result(r, 1, "second", GREETING_RUN_ID, TW_REPLAY_OK);
    expect_result(r, 2, "third", GREETING_RUN_ID, TW_REPLAY_OK);

    /* Done, until another history comes. */
    tw_activation *a = NULL;
    cr_expect_eq(tw_replayer_next_activation(r, &a), TW_ECLOSED);
    cr_expect_null(a);
    add_json_file(r, "fourth", FIXTURE("greeting.json"));
    log = drive(r, ACTIVITY_FIRST);
    cr_assert_eq(tw_replayer_result_count(r), 4);
    expect_result(r, 3, "fourth", GREETING_RUN_ID, TW_REPLAY_NONDETERMINISTIC);
    tw_replayer_free(r);
}

Test(replay, free_in_the_middle)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    add_json_file(r, NULL, FIXTURE("greeting.json"));
    add_json_file(r, NULL, FIXTURE("greeting.json"));
    tw_activation *a = NULL;
    call_ok(tw_replayer_next_activation(r, &a), "next");
    tw_replayer_free(r);
    cr_expect_str_eq(tw_activation_run_id(a), GREETING_RUN_ID, "activations outlive the replayer");
    tw_activation_free(a);
    tw_replayer_free(NULL);
}

/* ---- misuse ---- */

Test(replay, driving_out_of_order)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    tw_completion *c = NULL;
    call_ok(tw_completion_new(GREETING_RUN_ID, &c), "completion");
    cr_expect_eq(tw_replayer_complete(r, c), TW_EINVAL, "nothing is outstanding");
    cr_expect(strstr(tw_error_message(tw_error_last()), "no activation is outstanding"));

    add_json_file(r, NULL, FIXTURE("greeting.json"));
    tw_activation *a = NULL, *b = NULL;
    call_ok(tw_replayer_next_activation(r, &a), "next");
    cr_expect_eq(tw_replayer_next_activation(r, &b), TW_EAGAIN);
    cr_expect_null(b);
    cr_expect(strstr(tw_error_message(tw_error_last()), GREETING_RUN_ID));

    call_ok(tw_completion_new("another-run", &c), "completion");
    cr_expect_eq(tw_replayer_complete(r, c), TW_EINVAL);
    cr_expect(strstr(tw_error_message(tw_error_last()), "another-run"), "%s", tw_error_message(tw_error_last()));
    /* Still outstanding: the right completion goes through. */
    drive_log log;
    memset(&log, 0, sizeof(log));
    memset(&state, 0, sizeof(state));
    c = run_workflow(a, GREETING, &log);
    tw_activation_free(a);
    call_ok(tw_replayer_complete(r, c), "complete");
    log = drive(r, GREETING);
    cr_expect_eq(log.activations, 3);
    expect_result(r, 0, GREETING_WORKFLOW_ID, GREETING_RUN_ID, TW_REPLAY_OK);
    tw_replayer_free(r);
}

Test(replay, null_arguments)
{
    tw_replayer *r;
    tw_activation *a;
    cr_expect_eq(tw_replayer_new(NULL), TW_EINVAL);
    call_ok(tw_replayer_new(&r), "new");
    cr_expect_eq(tw_replayer_add_history_json(NULL, NULL, "{}", 2), TW_EINVAL);
    cr_expect_eq(tw_replayer_add_history_json(r, NULL, NULL, 2), TW_EINVAL);
    cr_expect(strstr(tw_error_message(tw_error_last()), "json"));
    cr_expect_eq(tw_replayer_add_history_json(r, NULL, "{}", 0), TW_EINVAL);
    cr_expect(strstr(tw_error_message(tw_error_last()), "len is 0"));
    cr_expect_eq(tw_replayer_add_history_binary(r, NULL, NULL, 0), TW_EINVAL);
    cr_expect_eq(tw_replayer_next_activation(NULL, &a), TW_EINVAL);
    cr_expect_eq(tw_replayer_next_activation(r, NULL), TW_EINVAL);
    cr_expect_eq(tw_replayer_complete(r, NULL), TW_EINVAL);
    cr_expect_eq(tw_replayer_result_count(NULL), 0);
    cr_expect_eq(tw_replayer_result_count(r), 0);
    cr_expect_null(tw_replayer_result_workflow_id(r, 0));
    cr_expect_null(tw_replayer_result_run_id(r, 0));
    cr_expect_null(tw_replayer_result_message(NULL, 0));
    cr_expect_eq(tw_replayer_result_status(r, 0), 0);
    cr_expect_eq(tw_replayer_next_activation(r, &a), TW_ECLOSED);
    tw_replayer_free(r);
}

/* ---- bad input ---- */

#define STARTED_EVENT                                                                                        \
    "{\"eventId\": \"1\", \"eventType\": \"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\","                        \
    " \"workflowExecutionStartedEventAttributes\": {}}"

Test(replay_input, not_json)
{
    expect_json_error("{\"events\": [", TW_EPROTO, "history is not valid JSON");
    expect_json_error("events", TW_EPROTO, "history is not valid JSON");
    expect_json_error("{\"events\": []} x", TW_EPROTO, "unexpected text after the value");
}

Test(replay_input, top_level_not_an_object)
{
    expect_json_error("[{\"events\": []}]", TW_EPROTO, "history is not a JSON object");
    expect_json_error("\"events\"", TW_EPROTO, "history is not a JSON object");
}

Test(replay_input, missing_events)
{
    expect_json_error("{}", TW_EPROTO, "history has no 'events' array");
    expect_json_error("{\"history\": {\"events\": []}}", TW_EPROTO, "history has no 'events' array");
    expect_json_error("{\"events\": {}}", TW_EPROTO, "history has no 'events' array");
    expect_json_error("{\"events\": []}", TW_EPROTO, "history has no events");
}

Test(replay_input, wrong_field_types_name_their_path)
{
    expect_json_error("{\"events\": [1]}", TW_EPROTO, "events[0]");
    expect_json_error("{\"events\": [" STARTED_EVENT ", {\"eventId\": \"2\", \"eventTime\": 5}]}", TW_EPROTO,
                      "events[1].eventTime");
    expect_json_error("{\"events\": [{\"eventId\": \"1\", \"eventType\": \"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\","
                      " \"workflowExecutionStartedEventAttributes\": {\"taskQueue\": {\"name\": 7}}}]}",
                      TW_EPROTO, "events[0].workflowExecutionStartedEventAttributes.taskQueue.name");
    expect_json_error("{\"events\": [{\"eventId\": true}]}", TW_EPROTO, "events[0].eventId");
}

Test(replay_input, history_that_cannot_start)
{
    expect_json_error("{\"events\": [{\"eventId\": \"1\", \"eventType\": \"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\"}]}",
                      TW_EPROTO, "is EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, not EVENT_TYPE_WORKFLOW_EXECUTION_STARTED");
    expect_json_error("{\"events\": [{\"eventId\": \"1\", \"eventType\": \"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\"}]}",
                      TW_EPROTO, "has no workflowExecutionStartedEventAttributes");
    expect_json_error("{\"events\": [" STARTED_EVENT ", {\"eventId\": \"3\", \"eventType\": "
                      "\"EVENT_TYPE_WORKFLOW_TASK_SCHEDULED\"}]}",
                      TW_EPROTO, "history gap");
    expect_json_error("{\"events\": [{\"eventId\": \"2\", \"eventType\": \"EVENT_TYPE_WORKFLOW_EXECUTION_STARTED\","
                      " \"workflowExecutionStartedEventAttributes\": {}}]}",
                      TW_EPROTO, "does not start at event 1");
}

Test(replay_input, binary_garbage)
{
    tw_replayer *r;
    call_ok(tw_replayer_new(&r), "new");
    static const uint8_t garbage[] = "this is not a protobuf message";
    int rc = tw_replayer_add_history_binary(r, NULL, garbage, sizeof(garbage) - 1);
    cr_expect_eq(rc, TW_EPROTO);
    cr_expect(strstr(tw_error_message(tw_error_last()), "temporal.api.history.v1.History"), "%s",
              tw_error_message(tw_error_last()));
    /* Truncated: the last event is cut in the middle. */
    size_t len;
    char *bytes = read_file(FIXTURE("greeting.binpb"), &len);
    cr_expect_eq(tw_replayer_add_history_binary(r, NULL, (const uint8_t *)bytes, len - 3), TW_EPROTO);
    free(bytes);
    /* Zero bytes are a valid, empty History: no events. */
    cr_expect_eq(tw_replayer_add_history_binary(r, NULL, garbage, 0), TW_EPROTO);
    cr_expect(strstr(tw_error_message(tw_error_last()), "history has no events"));
    tw_activation *a = NULL;
    cr_expect_eq(tw_replayer_next_activation(r, &a), TW_ECLOSED);
    tw_replayer_free(r);
}
