/* Results carried by client events: accessors, executions, history pages. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "client/client.h"
#include "convert/pbjson.h"

typedef Temporal__Api__Workflow__V1__WorkflowExecutionInfo pb_info;

struct tw_execution {
    pb_info *pb;
    tw_payloads *memo;
    tw_payloads *search_attributes;
    tw_payloads *static_summary;   /* describe's user metadata: one payload or none */
    tw_payloads *static_details;
};

struct tw_history {
    Temporal__Api__History__V1__History *pb;
};

static const char empty[] = "";

static const char *str(const char *s)
{
    return s ? s : empty;
}

/* ---- event accessors ---- */

const char *tw_event_run_id(const tw_event *ev)
{
    return ev && ev->run_id ? ev->run_id : empty;
}

int tw_event_eager_start(const tw_event *ev)
{
    return ev && ev->eager ? 1 : 0;
}

const tw_payloads *tw_event_payloads(const tw_event *ev)
{
    return ev ? ev->payloads : NULL;
}

const tw_failure *tw_event_failure(const tw_event *ev)
{
    return ev ? ev->failure : NULL;
}

int tw_event_outcome(const tw_event *ev)
{
    return ev ? ev->outcome : 0;
}

int tw_event_workflow_status(const tw_event *ev)
{
    return ev ? ev->workflow_status : 0;
}

int64_t tw_event_count(const tw_event *ev)
{
    return ev ? ev->count : 0;
}

size_t tw_event_execution_count(const tw_event *ev)
{
    return ev ? ev->execution_count : 0;
}

const tw_execution *tw_event_execution(const tw_event *ev, size_t index)
{
    return ev && index < ev->execution_count ? ev->executions[index] : NULL;
}

const tw_history *tw_event_history(const tw_event *ev)
{
    return ev ? ev->history : NULL;
}

int tw_event_next_page_token(const tw_event *ev, const uint8_t **token, size_t *len)
{
    if (!ev || !token || !len)
        return tw_set_error(TW_EINVAL, "tw_event_next_page_token: ev, token and len must not be NULL");
    *token = ev->token;
    *len = ev->token_len;
    return 0;
}

/* ---- executions ---- */

/* A list of the one payload p, or an empty list when p is NULL. */
static tw_payloads *single_payload(Temporal__Api__Common__V1__Payload *p)
{
    return tw_payloads_from_pb(p ? 1 : 0, p ? &p : NULL);
}

tw_execution *tw_execution_from_pb(const pb_info *info, const Temporal__Api__Sdk__V1__UserMetadata *user_metadata)
{
    tw_execution *ex = calloc(1, sizeof(*ex));
    if (!ex)
        return NULL;
    ex->pb = (pb_info *)tw_pb_copy(&info->base);
    if (ex->pb) {
        const Temporal__Api__Common__V1__Memo *m = ex->pb->memo;
        const Temporal__Api__Common__V1__SearchAttributes *sa = ex->pb->search_attributes;
        ex->memo = tw_payloads_from_pb_map(m ? m->n_fields : 0, m ? (void *const *)m->fields : NULL);
        ex->search_attributes =
            tw_payloads_from_pb_map(sa ? sa->n_indexed_fields : 0, sa ? (void *const *)sa->indexed_fields : NULL);
    }
    ex->static_summary = single_payload(user_metadata ? user_metadata->summary : NULL);
    ex->static_details = single_payload(user_metadata ? user_metadata->details : NULL);
    if (!ex->pb || !ex->memo || !ex->search_attributes || !ex->static_summary || !ex->static_details) {
        tw_execution_destroy(ex);
        return NULL;
    }
    return ex;
}

void tw_execution_destroy(tw_execution *ex)
{
    if (!ex)
        return;
    if (ex->pb)
        temporal__api__workflow__v1__workflow_execution_info__free_unpacked(ex->pb, NULL);
    tw_payloads_free(ex->memo);
    tw_payloads_free(ex->search_attributes);
    tw_payloads_free(ex->static_summary);
    tw_payloads_free(ex->static_details);
    free(ex);
}

const char *tw_execution_workflow_id(const tw_execution *ex)
{
    return ex && ex->pb->execution ? str(ex->pb->execution->workflow_id) : empty;
}

const char *tw_execution_run_id(const tw_execution *ex)
{
    return ex && ex->pb->execution ? str(ex->pb->execution->run_id) : empty;
}

const char *tw_execution_workflow_type(const tw_execution *ex)
{
    return ex && ex->pb->type ? str(ex->pb->type->name) : empty;
}

const char *tw_execution_task_queue(const tw_execution *ex)
{
    return ex ? str(ex->pb->task_queue) : empty;
}

int tw_execution_status(const tw_execution *ex)
{
    return ex ? (int)ex->pb->status : 0;
}

int64_t tw_execution_start_time(const tw_execution *ex)
{
    return ex ? tw_timestamp_to_ns(ex->pb->start_time) : 0;
}

int64_t tw_execution_execution_time(const tw_execution *ex)
{
    return ex ? tw_timestamp_to_ns(ex->pb->execution_time) : 0;
}

int64_t tw_execution_close_time(const tw_execution *ex)
{
    return ex ? tw_timestamp_to_ns(ex->pb->close_time) : 0;
}

int64_t tw_execution_history_length(const tw_execution *ex)
{
    return ex ? ex->pb->history_length : 0;
}

const char *tw_execution_parent_workflow_id(const tw_execution *ex)
{
    return ex && ex->pb->parent_execution ? str(ex->pb->parent_execution->workflow_id) : empty;
}

const char *tw_execution_parent_run_id(const tw_execution *ex)
{
    return ex && ex->pb->parent_execution ? str(ex->pb->parent_execution->run_id) : empty;
}

const tw_payloads *tw_execution_memo(const tw_execution *ex)
{
    return ex ? ex->memo : NULL;
}

const tw_payloads *tw_execution_search_attributes(const tw_execution *ex)
{
    return ex ? ex->search_attributes : NULL;
}

int tw_execution_priority(const tw_execution *ex, tw_priority *out)
{
    if (!ex)
        return tw_set_error(TW_EINVAL, "tw_execution_priority: ex is NULL");
    return tw_priority_read("tw_execution_priority", ex->pb->priority, out);
}

const tw_payloads *tw_execution_static_summary(const tw_execution *ex)
{
    return ex ? ex->static_summary : NULL;
}

const tw_payloads *tw_execution_static_details(const tw_execution *ex)
{
    return ex ? ex->static_details : NULL;
}

static int message_to_json(const ProtobufCMessage *msg, char **json, const char *fn)
{
    if (!json)
        return tw_set_error(TW_EINVAL, "%s: json must not be NULL", fn);
    *json = NULL;
    cJSON *tree = tw_pbjson_encode(msg);
    char *text = tree ? cJSON_PrintUnformatted(tree) : NULL;
    cJSON_Delete(tree);
    if (!text)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    /* cJSON allocates with malloc by default, so tw_free releases it. */
    *json = text;
    return 0;
}

int tw_execution_to_json(const tw_execution *ex, char **json)
{
    if (!ex)
        return tw_set_error(TW_EINVAL, "tw_execution_to_json: ex must not be NULL");
    return message_to_json(&ex->pb->base, json, "tw_execution_to_json");
}

/* ---- history pages ---- */

tw_history *tw_history_take(Temporal__Api__History__V1__History *pb)
{
    tw_history *h = malloc(sizeof(*h));
    if (!h) {
        temporal__api__history__v1__history__free_unpacked(pb, NULL);
        return NULL;
    }
    h->pb = pb;
    return h;
}

void tw_history_destroy(tw_history *h)
{
    if (!h)
        return;
    temporal__api__history__v1__history__free_unpacked(h->pb, NULL);
    free(h);
}

size_t tw_history_event_count(const tw_history *h)
{
    return h ? h->pb->n_events : 0;
}

int tw_history_to_json(const tw_history *h, char **json)
{
    if (!h)
        return tw_set_error(TW_EINVAL, "tw_history_to_json: h must not be NULL");
    return message_to_json(&h->pb->base, json, "tw_history_to_json");
}
