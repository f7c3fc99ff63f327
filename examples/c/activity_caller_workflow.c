/* The "ActivityCaller" workflow (see activity_caller_workflow.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "activity_caller_workflow.h"

#define MAX_RUNS 256
#define ACTIVITY_SEQ 1
#define TIMER_SEQ 1
#define BACKOFF_TIMER_SEQ 2

typedef struct caller {
    char run_id[64];
    int cancel_requested; /* the workflow was asked to cancel */
    int resolved;         /* the activity's outcome arrived */
    int cancel_sent;      /* its cancellation was requested */
    int local;            /* it is a local activity */
    /*
     * A local activity whose retry waits on BACKOFF_TIMER_SEQ
     * (TW_RESOLUTION_BACKOFF): it is scheduled again from the input, as
     * seq, with attempt and original_schedule_time, when the timer fires.
     */
    int backing_off;
    uint32_t seq;
    int32_t attempt;
    int64_t original_schedule_time;
    char *input;          /* the start input (JSON), for those retries */
} caller;

static caller runs[MAX_RUNS];

static caller *state_of(const char *run_id)
{
    caller *free_slot = NULL;
    for (int i = 0; i < MAX_RUNS; i++) {
        if (strcmp(runs[i].run_id, run_id) == 0)
            return &runs[i];
        if (!free_slot && !runs[i].run_id[0])
            free_slot = &runs[i];
    }
    if (!free_slot)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    snprintf(free_slot->run_id, sizeof(free_slot->run_id), "%s", run_id);
    return free_slot;
}

static void bad_input(tw_completion *c, const char *why)
{
    char message[256];
    snprintf(message, sizeof(message), "ActivityCaller: bad input: %s", why);
    tw_completion_fail_workflow(c, message, "BadInput", 1, NULL);
}

static int64_t number(const cJSON *obj, const char *key, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : fallback;
}

/* Fills the retry policy of o from the "retry" object; types[] gets the non-retryable types. */
static void read_retry(const cJSON *retry, tw_activity_options *o, const char **types, size_t max_types)
{
    o->retry_maximum_attempts = (int32_t)number(retry, "max_attempts", 1);
    o->retry_initial_interval_ms = number(retry, "initial_interval_ms", 0);
    o->retry_maximum_interval_ms = number(retry, "max_interval_ms", 0);
    const cJSON *backoff = cJSON_GetObjectItemCaseSensitive(retry, "backoff");
    if (cJSON_IsNumber(backoff))
        o->retry_backoff_coefficient = backoff->valuedouble;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(retry, "non_retryable");
    size_t n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        if (cJSON_IsString(item) && n + 1 < max_types)
            types[n++] = item->valuestring;
    }
    types[n] = NULL;
    if (n)
        o->retry_non_retryable_error_types = types;
}

/* Schedules the activity st->input describes, as st->seq; on the first schedule also the cancel timer. */
static void start(tw_completion *c, caller *st, int first)
{
    cJSON *in = cJSON_Parse(st->input);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(in, "activity_type");
    if (!cJSON_IsObject(in) || !cJSON_IsString(type) || !type->valuestring[0]) {
        bad_input(c, "the input must be a JSON object with a non-empty \"activity_type\"");
        cJSON_Delete(in);
        return;
    }
    tw_payloads *args = NULL;
    tw_payloads_new(&args);
    const cJSON *arg;
    cJSON_ArrayForEach(arg, cJSON_GetObjectItemCaseSensitive(in, "args"))
    {
        char *json = cJSON_PrintUnformatted(arg);
        if (json)
            tw_payloads_add_json(args, json, NULL);
        free(json);
    }
    tw_activity_options o;
    tw_activity_options_init(&o);
    o.activity_type = type->valuestring;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(in, "activity_id");
    o.activity_id = cJSON_IsString(id) ? id->valuestring : NULL;
    const cJSON *queue = cJSON_GetObjectItemCaseSensitive(in, "task_queue");
    o.task_queue = cJSON_IsString(queue) ? queue->valuestring : NULL;
    o.args = args;
    o.schedule_to_close_timeout_ms = number(in, "schedule_to_close_ms", 0);
    o.start_to_close_timeout_ms = number(in, "start_to_close_ms", o.schedule_to_close_timeout_ms ? 0 : 30000);
    o.heartbeat_timeout_ms = number(in, "heartbeat_timeout_ms", 0);
    const char *types[16];
    cJSON *no_retry = cJSON_CreateObject();
    const cJSON *retry = cJSON_GetObjectItemCaseSensitive(in, "retry");
    read_retry(cJSON_IsObject(retry) ? retry : no_retry, &o, types, sizeof(types) / sizeof(types[0]));
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(in, "cancellation_type");
    const char *ct_name = cJSON_IsString(ct) ? ct->valuestring : "wait";
    o.cancellation_type = strcmp(ct_name, "try") == 0       ? TW_ACTIVITY_CANCEL_TRY
                          : strcmp(ct_name, "abandon") == 0 ? TW_ACTIVITY_CANCEL_ABANDON
                                                            : TW_ACTIVITY_CANCEL_WAIT;
    o.no_eager_execution = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "no_eager"));
    const cJSON *local = cJSON_GetObjectItemCaseSensitive(in, "local");
    int rc;
    if (cJSON_IsTrue(local)) {
        /* A local activity: the same options, minus what local activities do not have. */
        tw_local_activity_options lo;
        tw_local_activity_options_init(&lo);
        lo.activity_id = o.activity_id;
        lo.activity_type = o.activity_type;
        lo.args = o.args;
        lo.schedule_to_close_timeout_ms = o.schedule_to_close_timeout_ms;
        lo.start_to_close_timeout_ms = o.start_to_close_timeout_ms;
        lo.schedule_to_start_timeout_ms = number(in, "schedule_to_start_ms", 0);
        lo.retry_initial_interval_ms = o.retry_initial_interval_ms;
        lo.retry_backoff_coefficient = o.retry_backoff_coefficient;
        lo.retry_maximum_interval_ms = o.retry_maximum_interval_ms;
        lo.retry_maximum_attempts = o.retry_maximum_attempts;
        lo.retry_non_retryable_error_types = o.retry_non_retryable_error_types;
        lo.local_retry_threshold_ms = number(in, "local_retry_threshold_ms", 0);
        lo.attempt = st->attempt;
        lo.original_schedule_time = st->original_schedule_time;
        st->local = 1;
        rc = tw_completion_schedule_local_activity(c, st->seq, &lo);
    } else {
        rc = tw_completion_schedule_activity(c, st->seq, &o);
    }
    if (rc != 0) {
        bad_input(c, tw_error_message(tw_error_last()));
    } else if (first) {
        int64_t cancel_after = number(in, "cancel_after_ms", 0);
        if (cancel_after > 0)
            tw_completion_start_timer(c, TIMER_SEQ, cancel_after);
    }
    cJSON_Delete(no_retry);
    tw_payloads_free(args);
    cJSON_Delete(in);
}

/* Ends the workflow with the activity's outcome. */
static void finish(tw_completion *c, const caller *st, const tw_job *j)
{
    if (tw_job_resolution(j) == TW_RESOLUTION_COMPLETED) {
        tw_completion_complete_workflow(c, tw_job_result(j));
        return;
    }
    if (tw_job_resolution(j) == TW_RESOLUTION_CANCELLED && st->cancel_requested) {
        tw_completion_cancel_workflow(c, NULL);
        return;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (tw_failure_encode(tw_job_failure(j), &bytes, &len) == 0 && len > 0)
        tw_completion_fail_workflow_encoded(c, bytes, len);
    else
        tw_completion_fail_workflow(c, "the activity failed", NULL, 0, NULL);
    tw_free(bytes);
}

static void cancel_activity(tw_completion *c, caller *st)
{
    if (st->resolved || st->cancel_sent)
        return;
    st->cancel_sent = 1;
    if (st->backing_off) {
        /* Nothing runs while the retry waits: dropping the timer is the cancellation. */
        st->backing_off = 0;
        st->resolved = 1;
        tw_completion_cancel_timer(c, BACKOFF_TIMER_SEQ);
        if (st->cancel_requested)
            tw_completion_cancel_workflow(c, NULL);
        else
            tw_completion_fail_workflow(c, "the local activity was cancelled while waiting to retry", "Cancelled",
                                        1, NULL);
    } else if (st->local) {
        tw_completion_request_cancel_local_activity(c, st->seq);
    } else {
        tw_completion_request_cancel_activity(c, st->seq);
    }
}

/* The local activity's attempt failed and its retry is due after a backoff too long to wait in the worker. */
static void back_off(tw_completion *c, caller *st, const tw_job *j)
{
    st->backing_off = 1;
    st->seq++; /* the retry is a new local activity */
    st->attempt = tw_job_attempt(j);
    st->original_schedule_time = tw_job_original_schedule_time(j);
    tw_completion_start_timer(c, BACKOFF_TIMER_SEQ, tw_job_backoff_ms(j));
}

tw_completion *activity_caller_activate(const tw_activation *a)
{
    const char *run_id = tw_activation_run_id(a);
    tw_completion *c = NULL;
    if (tw_completion_new(run_id, &c) != 0)
        return NULL;
    caller *st = state_of(run_id);
    if (!st) {
        tw_completion_fail_task(c, "ActivityCaller: too many runs cached", NULL);
        return c;
    }
    for (size_t i = 0; i < tw_activation_job_count(a); i++) {
        const tw_job *j = tw_activation_job(a, i);
        switch (tw_job_kind_of(j)) {
        case TW_JOB_INITIALIZE:
            if (strcmp(tw_job_name(j), ACTIVITY_CALLER_TYPE) == 0) {
                char *text = NULL;
                if (tw_payloads_count(tw_job_args(j)) == 0 || tw_payloads_data_string(tw_job_args(j), 0, &text) != 0) {
                    bad_input(c, "expected one JSON object argument");
                    break;
                }
                free(st->input);
                st->input = strdup(text);
                tw_free(text);
                if (!st->input) {
                    tw_completion_fail_task(c, "ActivityCaller: out of memory", NULL);
                    break;
                }
                st->seq = ACTIVITY_SEQ;
                start(c, st, 1);
            } else {
                tw_completion_fail_task(c, "ActivityCaller: unknown workflow type", NULL);
            }
            break;
        case TW_JOB_FIRE_TIMER:
            if (tw_job_seq(j) == BACKOFF_TIMER_SEQ) {
                st->backing_off = 0;
                start(c, st, 0);
            } else {
                cancel_activity(c, st);
            }
            break;
        case TW_JOB_CANCEL_WORKFLOW:
            st->cancel_requested = 1;
            cancel_activity(c, st);
            break;
        case TW_JOB_RESOLVE_LOCAL_ACTIVITY:
            if (tw_job_resolution(j) == TW_RESOLUTION_BACKOFF) {
                back_off(c, st, j);
                break;
            }
            /* fall through */
        case TW_JOB_RESOLVE_ACTIVITY:
            st->resolved = 1;
            finish(c, st, j);
            break;
        case TW_JOB_REMOVE_FROM_CACHE:
            free(st->input);
            memset(st, 0, sizeof(*st));
            break;
        default:
            break;
        }
    }
    return c;
}
