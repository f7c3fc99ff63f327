/*
 * The replayer (tw/replay.h): recorded histories through tw_run, one after
 * the other, with no server. Each history is decoded and appended to its
 * own tw_run when it is added, so a bad file is reported by the add call;
 * replaying it is then the worker's cache-miss path without the network:
 * activations from tw_run_next_activation, completions into
 * tw_run_complete, and an eviction at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert/pbjson.h"
#include "history/internal.h"

typedef Temporal__Api__History__V1__History pb_history;

typedef struct replay_history {
    struct replay_history *next;
    char *workflow_id;   /* the caller's, else the started event's ("" when neither) */
    bool override_id;    /* the caller named the workflow: TW_JOB_INITIALIZE gets that id */
    tw_run *run;
} replay_history;

typedef struct replay_result {
    char *workflow_id;
    char *run_id;
    int status;
    char *message;
} replay_result;

typedef enum outstanding { OUT_NONE = 0, OUT_RUN, OUT_EVICTION } outstanding;

struct tw_replayer {
    replay_history *queue_head, *queue_tail; /* added, not started */
    size_t added;                            /* histories ever added: numbers fallback run ids */
    replay_history *current;
    bool lang_knows;                         /* an activation of current was handed out */
    bool finished;                           /* current's result is recorded; its eviction is due */
    int evict_reason;
    outstanding out;
    replay_result *results;
    size_t result_count, result_cap;
};

static void history_free(replay_history *h)
{
    if (!h)
        return;
    tw_run_free(h->run);
    free(h->workflow_id);
    free(h);
}

int tw_replayer_new(tw_replayer **out)
{
    if (!out)
        return tw_set_error(TW_EINVAL, "tw_replayer_new: out must not be NULL");
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : tw_set_error(TW_ENOMEM, "tw_replayer_new: out of memory");
}

void tw_replayer_free(tw_replayer *r)
{
    if (!r)
        return;
    while (r->queue_head) {
        replay_history *h = r->queue_head;
        r->queue_head = h->next;
        history_free(h);
    }
    history_free(r->current);
    for (size_t i = 0; i < r->result_count; i++) {
        free(r->results[i].workflow_id);
        free(r->results[i].run_id);
        free(r->results[i].message);
    }
    free(r->results);
    free(r);
}

/* ---- adding histories ---- */

static const char *event_type_name(int type)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&temporal__api__enums__v1__event_type__descriptor, type);
    return v ? v->name : "an unknown event type";
}

/* Makes room for one more result than there are histories, so that recording one needs no allocation. */
static bool reserve_result(tw_replayer *r)
{
    if (r->result_cap > r->added)
        return true;
    size_t cap = r->result_cap ? r->result_cap * 2 : 8;
    replay_result *more = realloc(r->results, cap * sizeof(*more));
    if (!more)
        return false;
    r->results = more;
    r->result_cap = cap;
    return true;
}

/*
 * Checks the start of a decoded history, makes its run and appends the
 * history (taken in all cases). The run id is the started event's
 * original_execution_run_id, or "replay-N" for the Nth history added when
 * the event records none.
 */
static int add_history(tw_replayer *r, const char *fn, const char *workflow_id, pb_history *page)
{
    if (page->n_events == 0 || !page->events[0]) {
        protobuf_c_message_free_unpacked(&page->base, NULL);
        return tw_set_error(TW_EPROTO, "%s: history has no events", fn);
    }
    const tw_pb_event *first = page->events[0];
    int rc = 0;
    if (first->event_type != TEMPORAL__API__ENUMS__V1__EVENT_TYPE__EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
        rc = tw_set_error(TW_EPROTO, "%s: the first history event (id %" PRId64 ") is %s, "
                          "not EVENT_TYPE_WORKFLOW_EXECUTION_STARTED",
                          fn, first->event_id, event_type_name((int)first->event_type));
    else if (first->attributes_case !=
             TEMPORAL__API__HISTORY__V1__HISTORY_EVENT__ATTRIBUTES_WORKFLOW_EXECUTION_STARTED_EVENT_ATTRIBUTES)
        rc = tw_set_error(TW_EPROTO, "%s: the first history event (id %" PRId64 ") has no "
                          "workflowExecutionStartedEventAttributes", fn, first->event_id);
    if (rc) {
        protobuf_c_message_free_unpacked(&page->base, NULL);
        return rc;
    }
    const Temporal__Api__History__V1__WorkflowExecutionStartedEventAttributes *s =
        first->workflow_execution_started_event_attributes;
    bool override_id = !tw_str_empty(workflow_id);
    char *id = tw_strdup_or_empty(override_id ? workflow_id : s->workflow_id);
    char *run_id = tw_str_empty(s->original_execution_run_id) ? tw_sprintf("replay-%zu", r->added + 1)
                                                              : tw_strdup(s->original_execution_run_id);
    replay_history *h = calloc(1, sizeof(*h));
    tw_run *run = NULL;
    rc = id && run_id && h && reserve_result(r) ? tw_run_new(run_id, &run)
                                                 : tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    free(run_id);
    if (rc)
        protobuf_c_message_free_unpacked(&page->base, NULL);
    if (!rc && (rc = tw_run_append(run, page))) {
        char why[512];
        snprintf(why, sizeof(why), "%s", tw_error_message(tw_error_last()));
        rc = tw_set_error(rc, "%s: %s", fn, why);
    }
    if (rc) {
        tw_run_free(run);
        free(id);
        free(h);
        return rc;
    }
    h->workflow_id = id;
    h->override_id = override_id;
    h->run = run;
    if (r->queue_tail)
        r->queue_tail->next = h;
    else
        r->queue_head = h;
    r->queue_tail = h;
    r->added++;
    return 0;
}

/* Whether only blanks follow end in text of len bytes. */
static bool only_space_after(const char *text, size_t len, const char *end)
{
    for (size_t i = (size_t)(end - text); i < len; i++)
        if (!strchr(" \t\r\n", text[i]))
            return false;
    return true;
}

int tw_replayer_add_history_json(tw_replayer *r, const char *workflow_id, const char *json, size_t len)
{
    static const char fn[] = "tw_replayer_add_history_json";
    if (!r || !json)
        return tw_set_error(TW_EINVAL, "%s: %s must not be NULL", fn, !r ? "r" : "json");
    if (len == 0)
        return tw_set_error(TW_EINVAL, "%s: json is empty (len is 0)", fn);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (!root) {
        size_t offset = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
        return tw_set_error(TW_EPROTO, "%s: history is not valid JSON (error near byte %zu)", fn, offset);
    }
    int rc;
    const cJSON *events = cJSON_GetObjectItemCaseSensitive(root, "events");
    if (!only_space_after(json, len, end)) {
        rc = tw_set_error(TW_EPROTO, "%s: history is not valid JSON (unexpected text after the value at byte %zu)",
                          fn, (size_t)(end - json));
    } else if (!cJSON_IsObject(root)) {
        rc = tw_set_error(TW_EPROTO, "%s: history is not a JSON object", fn);
    } else if (!cJSON_IsArray(events)) {
        rc = tw_set_error(TW_EPROTO, "%s: history has no 'events' array", fn);
    } else {
        char err[512];
        ProtobufCMessage *msg = NULL;
        /* Legacy enum spellings are only tried for names that are not found as given. */
        if (tw_pbjson_decode(&temporal__api__history__v1__history__descriptor, root, TW_PBJSON_LEGACY_ENUMS, &msg,
                             err, sizeof(err)) != 0)
            rc = tw_set_error(TW_EPROTO, "%s: invalid history: %s", fn, err);
        else if (!msg)
            rc = tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
        else
            rc = add_history(r, fn, workflow_id, (pb_history *)msg);
    }
    cJSON_Delete(root);
    return rc;
}

int tw_replayer_add_history_binary(tw_replayer *r, const char *workflow_id, const uint8_t *bytes, size_t len)
{
    static const char fn[] = "tw_replayer_add_history_binary";
    if (!r || !bytes)
        return tw_set_error(TW_EINVAL, "%s: %s must not be NULL", fn, !r ? "r" : "bytes");
    pb_history *page = temporal__api__history__v1__history__unpack(NULL, len, bytes);
    if (!page)
        return tw_set_error(TW_EPROTO, "%s: the %zu bytes are not a serialized temporal.api.history.v1.History", fn,
                            len);
    return add_history(r, fn, workflow_id, page);
}

/* ---- replaying ---- */

/*
 * Ends the current history's replay with status. Room for the result was
 * reserved when the history was added; should its text not fit in memory,
 * the result is kept without it (so a replay never stalls on an ended
 * history) and TW_ENOMEM returned.
 */
static int finish_current(tw_replayer *r, int status, int evict_reason, const char *message)
{
    r->finished = true;
    r->evict_reason = evict_reason;
    replay_result res = {tw_strdup(r->current->workflow_id), tw_strdup(tw_run_id(r->current->run)), status,
                         tw_strdup(message)};
    r->results[r->result_count++] = res;
    if (res.workflow_id && res.run_id && res.message)
        return 0;
    return tw_set_error(TW_ENOMEM, "out of memory recording the result of a replay");
}

/* Ends the current history after the engine reported err (code rc). */
static int finish_with_error(tw_replayer *r, int rc, const tw_error *err)
{
    const char *message = err ? err->message : tw_error_message(tw_error_last());
    if (rc == TW_EPROTO && strstr(message, "non-deterministic"))
        return finish_current(r, TW_REPLAY_NONDETERMINISTIC, TW_EVICTION_NONDETERMINISM, message);
    return finish_current(r, TW_REPLAY_FAILED, TW_EVICTION_FATAL, message);
}

static void drop_current(tw_replayer *r)
{
    history_free(r->current);
    r->current = NULL;
    r->finished = false;
    r->lang_knows = false;
}

/* The caller named the workflow: the workflow sees that id, as it would have on the server. */
static int apply_workflow_id(const replay_history *h, tw_activation *a)
{
    if (!h->override_id)
        return 0;
    for (size_t i = 0; i < a->job_count; i++) {
        tw_job *j = a->jobs[i];
        if (j->kind != TW_JOB_INITIALIZE)
            continue;
        char *id = tw_strdup(h->workflow_id);
        if (!id)
            return TW_ENOMEM;
        free(j->workflow_id);
        j->workflow_id = id;
    }
    return 0;
}

static const char *eviction_message(int reason)
{
    return reason == TW_EVICTION_REPLAY_FINISHED ? "the replay of this history is finished" : "";
}

int tw_replayer_next_activation(tw_replayer *r, tw_activation **out)
{
    static const char fn[] = "tw_replayer_next_activation";
    if (out)
        *out = NULL;
    if (!r || !out)
        return tw_set_error(TW_EINVAL, "%s: %s must not be NULL", fn, !r ? "r" : "out");
    if (r->out != OUT_NONE)
        return tw_set_error(TW_EAGAIN, "%s: the activation of run %s awaits tw_replayer_complete", fn,
                            tw_run_id(r->current->run));
    for (;;) {
        if (!r->current) {
            if (!(r->current = r->queue_head))
                return tw_set_error(TW_ECLOSED, "%s: every history has been replayed", fn);
            if (!(r->queue_head = r->current->next))
                r->queue_tail = NULL;
            r->current->next = NULL;
        }
        replay_history *h = r->current;
        if (r->finished) {
            if (!r->lang_knows) {
                drop_current(r);
                continue;
            }
            const char *message = r->result_count ? r->results[r->result_count - 1].message : NULL;
            tw_activation *a = tw_activation_new_eviction(
                tw_run_id(h->run), r->evict_reason, message && *message ? message : eviction_message(r->evict_reason));
            if (!a)
                return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
            r->out = OUT_EVICTION;
            *out = a;
            return 0;
        }
        if (!tw_run_has_next_activation(h->run)) {
            int rc = finish_current(r, TW_REPLAY_OK, TW_EVICTION_REPLAY_FINISHED, "");
            if (rc)
                return rc;
            continue;
        }
        tw_activation *a = NULL;
        tw_error *err = NULL;
        bool live = false;
        int rc = tw_run_next_activation(h->run, &a, &live, &err);
        if (!rc && !a)
            continue; /* a workflow task with nothing for the workflow (after a heartbeat): the run went past it */
        if (!rc && apply_workflow_id(h, a) != 0) {
            tw_activation_free(a);
            rc = tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
        }
        if (rc) {
            /* The run cannot go on (tw_run_next_activation leaves it unusable): its replay ends here. */
            rc = finish_with_error(r, rc, err);
            tw_error_destroy(err);
            if (rc)
                return rc;
            continue;
        }
        r->out = OUT_RUN;
        r->lang_knows = true;
        *out = a;
        return 0;
    }
}

int tw_replayer_complete(tw_replayer *r, tw_completion *c)
{
    static const char fn[] = "tw_replayer_complete";
    if (!r || !c) {
        tw_completion_free(c);
        return tw_set_error(TW_EINVAL, "%s: %s must not be NULL", fn, !r ? "r" : "c");
    }
    if (r->out == OUT_NONE) {
        tw_completion_free(c);
        return tw_set_error(TW_EINVAL, "%s: no activation is outstanding", fn);
    }
    const char *run_id = tw_run_id(r->current->run);
    if (strcmp(tw_completion_run_id(c), run_id) != 0) {
        int rc = tw_set_error(TW_EINVAL, "%s: the completion is for run %s, but the outstanding activation is "
                              "for run %s", fn, tw_completion_run_id(c), run_id);
        tw_completion_free(c);
        return rc;
    }
    outstanding was = r->out;
    r->out = OUT_NONE;
    if (was == OUT_EVICTION) {
        tw_completion_free(c);
        drop_current(r);
        return 0;
    }
    tw_run_output output;
    tw_error *err = NULL;
    int rc = tw_run_complete(r->current->run, c, &output, &err);
    if (rc == 0 && output.task_failure)
        rc = finish_current(r, TW_REPLAY_FAILED, TW_EVICTION_WORKFLOW_TASK_FAILED, output.task_failure);
    else if (rc == TW_ENOMEM)
        finish_current(r, TW_REPLAY_FAILED, TW_EVICTION_FATAL, "out of memory");
    else if (rc)
        rc = finish_with_error(r, rc, err);
    /* Commands of a history's last, never completed, workflow task have nothing to match. */
    tw_run_output_clear(&output);
    tw_error_destroy(err);
    return rc;
}

/* ---- results ---- */

size_t tw_replayer_result_count(const tw_replayer *r)
{
    return r ? r->result_count : 0;
}

static const replay_result *result_at(const tw_replayer *r, size_t index)
{
    return r && index < r->result_count ? &r->results[index] : NULL;
}

const char *tw_replayer_result_workflow_id(const tw_replayer *r, size_t index)
{
    const replay_result *res = result_at(r, index);
    return res ? (res->workflow_id ? res->workflow_id : "") : NULL;
}

const char *tw_replayer_result_run_id(const tw_replayer *r, size_t index)
{
    const replay_result *res = result_at(r, index);
    return res ? (res->run_id ? res->run_id : "") : NULL;
}

int tw_replayer_result_status(const tw_replayer *r, size_t index)
{
    const replay_result *res = result_at(r, index);
    return res ? res->status : 0;
}

const char *tw_replayer_result_message(const tw_replayer *r, size_t index)
{
    const replay_result *res = result_at(r, index);
    return res ? (res->message ? res->message : "") : NULL;
}
