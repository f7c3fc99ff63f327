/*
 * Activations and their jobs: plain owned data, read through accessors.
 * Lists that the API promises never to be NULL fall back to one empty list
 * per activation.
 */
#include <stdlib.h>
#include <string.h>

#include "history/internal.h"

static const char empty_str[] = "";

static const char *str(const char *s)
{
    return s ? s : empty_str;
}

tw_activation *tw_activation_create(const char *run_id)
{
    tw_activation *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->run_id = tw_strdup_or_empty(run_id);
    if (!a->run_id || tw_payloads_new(&a->empty) != 0) {
        tw_activation_free(a);
        return NULL;
    }
    return a;
}

tw_job *tw_activation_add_job(tw_activation *a, int kind)
{
    if (a->job_count == a->job_cap) {
        size_t cap = a->job_cap ? a->job_cap * 2 : 4;
        tw_job **jobs = realloc(a->jobs, cap * sizeof(*jobs));
        if (!jobs)
            return NULL;
        a->jobs = jobs;
        a->job_cap = cap;
    }
    tw_job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->owner = a;
    j->kind = kind;
    a->jobs[a->job_count++] = j;
    return j;
}

static int job_rank(const tw_job *j)
{
    switch (j->kind) {
    case TW_JOB_INITIALIZE: return 0;
    case TW_JOB_NOTIFY_HAS_PATCH: return 1;
    case TW_JOB_UPDATE_RANDOM_SEED: return 2;
    case TW_JOB_SIGNAL: return 3;
    default: return 4;
    }
}

void tw_activation_sort_jobs(tw_activation *a)
{
    /* Insertion sort: stable, and activations hold a handful of jobs. */
    for (size_t i = 1; i < a->job_count; i++) {
        tw_job *j = a->jobs[i];
        size_t k = i;
        while (k > 0 && job_rank(a->jobs[k - 1]) > job_rank(j)) {
            a->jobs[k] = a->jobs[k - 1];
            k--;
        }
        a->jobs[k] = j;
    }
}

static void job_free(tw_job *j)
{
    free(j->name);
    tw_payloads_free(j->args);
    tw_payloads_free(j->headers);
    free(j->query_id);
    tw_payloads_free(j->result);
    tw_failure_destroy(j->failure);
    free(j->child_run_id);
    free(j->workflow_id);
    free(j->task_queue);
    free(j->first_execution_run_id);
    free(j->continued_from_run_id);
    free(j->parent_workflow_id);
    free(j->parent_run_id);
    free(j->parent_namespace);
    free(j->cron_schedule);
    tw_payloads_free(j->memo);
    tw_payloads_free(j->search_attributes);
    tw_payloads_free(j->last_completion_result);
    tw_failure_destroy(j->continued_failure);
    if (j->retry_policy)
        protobuf_c_message_free_unpacked(&j->retry_policy->base, NULL);
    if (j->priority)
        protobuf_c_message_free_unpacked(&j->priority->base, NULL);
    free(j);
}

void tw_activation_free(tw_activation *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->job_count; i++)
        job_free(a->jobs[i]);
    free(a->jobs);
    free(a->run_id);
    tw_payloads_free(a->empty);
    free(a);
}

/* ---- activations built outside a run's history ---- */

tw_activation *tw_activation_new_queries(const char *run_id, size_t n, const char *const *query_ids,
                                         const Temporal__Api__Query__V1__WorkflowQuery *const *queries)
{
    if (n && (!query_ids || !queries))
        return NULL;
    tw_activation *a = tw_activation_create(run_id);
    if (!a)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const Temporal__Api__Query__V1__WorkflowQuery *q = queries[i];
        tw_job *j = tw_activation_add_job(a, TW_JOB_QUERY);
        if (!j || !q)
            goto fail;
        const Temporal__Api__Common__V1__Payloads *args = q->query_args;
        const Temporal__Api__Common__V1__Header *h = q->header;
        j->query_id = tw_strdup_or_empty(query_ids[i]);
        j->name = tw_strdup_or_empty(q->query_type);
        j->args = tw_payloads_from_pb(args ? args->n_payloads : 0, args ? args->payloads : NULL);
        j->headers = tw_payloads_from_pb_map(h ? h->n_fields : 0, h ? (void *const *)h->fields : NULL);
        if (!j->query_id || !j->name || !j->args || !j->headers)
            goto fail;
    }
    return a;
fail:
    tw_activation_free(a);
    return NULL;
}

tw_activation *tw_activation_new_eviction(const char *run_id, int reason, const char *message)
{
    tw_activation *a = tw_activation_create(run_id);
    if (!a)
        return NULL;
    tw_job *j = tw_activation_add_job(a, TW_JOB_REMOVE_FROM_CACHE);
    if (!j || !(j->name = tw_strdup_or_empty(message))) {
        tw_activation_free(a);
        return NULL;
    }
    j->eviction_reason = reason;
    return a;
}

bool tw_activation_is_eviction(const tw_activation *a)
{
    return a && a->job_count == 1 && a->jobs[0]->kind == TW_JOB_REMOVE_FROM_CACHE;
}

/* ---- activation accessors ---- */

const char *tw_activation_run_id(const tw_activation *a)
{
    return a ? a->run_id : empty_str;
}

int64_t tw_activation_timestamp(const tw_activation *a)
{
    return a ? a->timestamp : 0;
}

int tw_activation_is_replaying(const tw_activation *a)
{
    return a ? a->replaying : 0;
}

int64_t tw_activation_history_length(const tw_activation *a)
{
    return a ? a->history_length : 0;
}

size_t tw_activation_job_count(const tw_activation *a)
{
    return a ? a->job_count : 0;
}

const tw_job *tw_activation_job(const tw_activation *a, size_t index)
{
    if (!a || index >= a->job_count) {
        tw_set_error(TW_EINVAL, "tw_activation_job: %s", a ? "index out of range" : "a is NULL");
        return NULL;
    }
    return a->jobs[index];
}

/* ---- job accessors ---- */

static const tw_payloads *list_or_empty(const tw_job *j, const tw_payloads *list)
{
    if (!j)
        return NULL;
    return list ? list : j->owner->empty;
}

int tw_job_kind_of(const tw_job *j) { return j ? j->kind : 0; }
uint32_t tw_job_seq(const tw_job *j) { return j ? j->seq : 0; }
const char *tw_job_name(const tw_job *j) { return j ? str(j->name) : empty_str; }
const tw_payloads *tw_job_args(const tw_job *j) { return list_or_empty(j, j ? j->args : NULL); }
const tw_payloads *tw_job_headers(const tw_job *j) { return list_or_empty(j, j ? j->headers : NULL); }
const char *tw_job_query_id(const tw_job *j) { return j ? str(j->query_id) : empty_str; }
int tw_job_resolution(const tw_job *j) { return j ? j->resolution : 0; }

const tw_payloads *tw_job_result(const tw_job *j)
{
    if (!j || j->resolution != TW_RESOLUTION_COMPLETED ||
        (j->kind != TW_JOB_RESOLVE_ACTIVITY && j->kind != TW_JOB_RESOLVE_LOCAL_ACTIVITY &&
         j->kind != TW_JOB_RESOLVE_CHILD))
        return NULL;
    return list_or_empty(j, j->result);
}

const tw_failure *tw_job_failure(const tw_job *j) { return j ? j->failure : NULL; }
uint64_t tw_job_random_seed(const tw_job *j) { return j ? j->random_seed : 0; }
int tw_job_eviction_reason(const tw_job *j) { return j ? j->eviction_reason : 0; }
const char *tw_job_child_run_id(const tw_job *j) { return j ? str(j->child_run_id) : empty_str; }
int tw_job_start_failed_cause(const tw_job *j) { return j ? j->start_failed_cause : 0; }
int64_t tw_job_backoff_ms(const tw_job *j) { return j ? j->backoff_ms : 0; }
int64_t tw_job_original_schedule_time(const tw_job *j) { return j ? j->original_schedule_time : 0; }

const char *tw_job_workflow_id(const tw_job *j) { return j ? str(j->workflow_id) : empty_str; }
const char *tw_job_task_queue(const tw_job *j) { return j ? str(j->task_queue) : empty_str; }
int32_t tw_job_attempt(const tw_job *j) { return j ? j->attempt : 0; }
const char *tw_job_first_execution_run_id(const tw_job *j) { return j ? str(j->first_execution_run_id) : empty_str; }
const char *tw_job_continued_from_run_id(const tw_job *j) { return j ? str(j->continued_from_run_id) : empty_str; }
const char *tw_job_parent_workflow_id(const tw_job *j) { return j ? str(j->parent_workflow_id) : empty_str; }
const char *tw_job_parent_run_id(const tw_job *j) { return j ? str(j->parent_run_id) : empty_str; }
const char *tw_job_parent_namespace(const tw_job *j) { return j ? str(j->parent_namespace) : empty_str; }
const char *tw_job_cron_schedule(const tw_job *j) { return j ? str(j->cron_schedule) : empty_str; }
int64_t tw_job_execution_timeout_ms(const tw_job *j) { return j ? j->execution_timeout_ms : 0; }
int64_t tw_job_run_timeout_ms(const tw_job *j) { return j ? j->run_timeout_ms : 0; }
int64_t tw_job_task_timeout_ms(const tw_job *j) { return j ? j->task_timeout_ms : 0; }
int64_t tw_job_start_time(const tw_job *j) { return j ? j->start_time : 0; }

const tw_payloads *tw_job_memo(const tw_job *j)
{
    if (!j || j->kind != TW_JOB_INITIALIZE)
        return NULL;
    return list_or_empty(j, j->memo);
}

const tw_payloads *tw_job_search_attributes(const tw_job *j)
{
    if (!j || j->kind != TW_JOB_INITIALIZE)
        return NULL;
    return list_or_empty(j, j->search_attributes);
}

const tw_payloads *tw_job_last_completion_result(const tw_job *j) { return j ? j->last_completion_result : NULL; }
const tw_failure *tw_job_continued_failure(const tw_job *j) { return j ? j->continued_failure : NULL; }

static int64_t duration_to_ms(const Google__Protobuf__Duration *d)
{
    return d ? d->seconds * 1000 + d->nanos / 1000000 : 0;
}

int tw_job_has_retry_policy(const tw_job *j) { return j && j->retry_policy; }
int64_t tw_job_retry_initial_interval_ms(const tw_job *j)
{
    return j && j->retry_policy ? duration_to_ms(j->retry_policy->initial_interval) : 0;
}
double tw_job_retry_backoff_coefficient(const tw_job *j)
{
    return j && j->retry_policy ? j->retry_policy->backoff_coefficient : 0;
}
int64_t tw_job_retry_maximum_interval_ms(const tw_job *j)
{
    return j && j->retry_policy ? duration_to_ms(j->retry_policy->maximum_interval) : 0;
}
int32_t tw_job_retry_maximum_attempts(const tw_job *j)
{
    return j && j->retry_policy ? j->retry_policy->maximum_attempts : 0;
}
size_t tw_job_retry_non_retryable_error_type_count(const tw_job *j)
{
    return j && j->retry_policy ? j->retry_policy->n_non_retryable_error_types : 0;
}
const char *tw_job_retry_non_retryable_error_type(const tw_job *j, size_t index)
{
    return index < tw_job_retry_non_retryable_error_type_count(j) ? j->retry_policy->non_retryable_error_types[index]
                                                                   : NULL;
}

int tw_job_priority(const tw_job *j, tw_priority *out)
{
    if (!j)
        return tw_set_error(TW_EINVAL, "tw_job_priority: j is NULL");
    return tw_priority_read("tw_job_priority", j->priority, out);
}
