/* Builders for heap request messages (see build.h). */
#include <stdlib.h>
#include <string.h>

#include "client/build.h"

Temporal__Api__Common__V1__WorkflowExecution *pb_execution(pb_build *b, const char *workflow_id,
                                                           const char *run_id)
{
    Temporal__Api__Common__V1__WorkflowExecution *e =
        pb_new(b, &temporal__api__common__v1__workflow_execution__descriptor);
    if (e) {
        e->workflow_id = pb_str(b, workflow_id);
        e->run_id = pb_str(b, run_id);
    }
    return e;
}

void tw_retry_policy_init(tw_retry_policy *p)
{
    if (p)
        *p = (tw_retry_policy){.size = sizeof(*p)};
}

int check_retry_policy(const char *fn, const tw_retry_policy *p)
{
    if (!p)
        return 0;
    if (p->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: retry_policy->size is %zu; call tw_retry_policy_init first", fn,
                            p->size);
    tw_retry_policy r;
    tw_retry_policy_init(&r);
    tw_copy_options(&r, sizeof(r), p);
    if (r.initial_interval_ms < 0 || r.maximum_interval_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: retry_policy intervals must not be negative", fn);
    if (r.backoff_coefficient != 0 && r.backoff_coefficient < 1)
        return tw_set_error(TW_EINVAL, "%s: retry_policy.backoff_coefficient must be >= 1, got %g", fn,
                            r.backoff_coefficient);
    if (r.maximum_attempts < 0)
        return tw_set_error(TW_EINVAL, "%s: retry_policy.maximum_attempts must not be negative", fn);
    if (r.maximum_interval_ms && r.initial_interval_ms && r.maximum_interval_ms < r.initial_interval_ms)
        return tw_set_error(TW_EINVAL, "%s: retry_policy.maximum_interval_ms is below initial_interval_ms", fn);
    return 0;
}

Temporal__Api__Common__V1__RetryPolicy *pb_retry_policy(pb_build *b, const tw_retry_policy *p)
{
    if (!p)
        return NULL;
    tw_retry_policy r;
    tw_retry_policy_init(&r);
    tw_copy_options(&r, sizeof(r), p);
    Temporal__Api__Common__V1__RetryPolicy *out = pb_new(b, &temporal__api__common__v1__retry_policy__descriptor);
    if (!out)
        return NULL;
    out->initial_interval = pb_duration_ms(b, r.initial_interval_ms);
    out->backoff_coefficient = r.backoff_coefficient;
    out->maximum_interval = pb_duration_ms(b, r.maximum_interval_ms);
    out->maximum_attempts = r.maximum_attempts;
    size_t n = 0;
    while (r.non_retryable_error_types && r.non_retryable_error_types[n])
        n++;
    if (n) {
        out->non_retryable_error_types = calloc(n, sizeof(char *));
        if (!out->non_retryable_error_types) {
            b->oom = true;
            return out;
        }
        for (size_t i = 0; i < n; i++) {
            out->non_retryable_error_types[i] = pb_str(b, r.non_retryable_error_types[i]);
            out->n_non_retryable_error_types = i + 1;
        }
    }
    return out;
}
