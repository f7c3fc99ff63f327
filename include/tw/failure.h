/*
 * tw/failure.h - read-only view of a Temporal failure (temporal.api.failure.v1.Failure).
 *
 * Failures come out of events (a failed workflow result) and later out of
 * activations. They are borrowed from their owner. Causes form a chain:
 * tw_failure_cause() returns the next failure or NULL.
 */
#ifndef TW_FAILURE_H
#define TW_FAILURE_H

#include "common.h"
#include "payload.h"

TW_BEGIN_DECLS

typedef struct tw_failure tw_failure;

/* Which failure_info the failure carries. */
typedef enum tw_failure_kind {
    TW_FAILURE_GENERIC = 0,        /* no failure_info */
    TW_FAILURE_APPLICATION = 1,
    TW_FAILURE_TIMEOUT = 2,
    TW_FAILURE_CANCELED = 3,
    TW_FAILURE_TERMINATED = 4,
    TW_FAILURE_SERVER = 5,
    TW_FAILURE_RESET_WORKFLOW = 6,
    TW_FAILURE_ACTIVITY = 7,
    TW_FAILURE_CHILD_WORKFLOW = 8
} tw_failure_kind;

TW_API int tw_failure_kind_of(const tw_failure *f);
TW_API const char *tw_failure_message(const tw_failure *f);
TW_API const char *tw_failure_source(const tw_failure *f);
TW_API const char *tw_failure_stack_trace(const tw_failure *f);
/* The next failure in the cause chain, or NULL. */
TW_API const tw_failure *tw_failure_cause(const tw_failure *f);
/* encoded_attributes (one payload) or NULL. */
TW_API const tw_payloads *tw_failure_encoded_attributes(const tw_failure *f);

/* Application failures: error type, non-retryable flag, details, next retry delay (ms, -1 unset). */
TW_API const char *tw_failure_application_type(const tw_failure *f);
TW_API int tw_failure_non_retryable(const tw_failure *f);
/* Details of application, canceled and server-less kinds; for timeout and
 * reset kinds the last heartbeat details. NULL when none. */
TW_API const tw_payloads *tw_failure_details(const tw_failure *f);
TW_API int64_t tw_failure_next_retry_delay_ms(const tw_failure *f);

/* Timeout failures: temporal.api.enums.v1.TimeoutType value. */
TW_API int tw_failure_timeout_type(const tw_failure *f);
/* Activity and child-workflow failures: temporal.api.enums.v1.RetryState value. */
TW_API int tw_failure_retry_state(const tw_failure *f);

/* Activity failures. */
TW_API const char *tw_failure_activity_type(const tw_failure *f);
TW_API const char *tw_failure_activity_id(const tw_failure *f);
TW_API const char *tw_failure_identity(const tw_failure *f);
TW_API int64_t tw_failure_scheduled_event_id(const tw_failure *f);
TW_API int64_t tw_failure_started_event_id(const tw_failure *f);

/*
 * Serializes f and its causes as a temporal.api.failure.v1.Failure, the
 * form the *_encoded calls take (e.g. to fail a workflow with the failure
 * of an activity it ran). *out is owned by the caller: free with tw_free.
 */
TW_API int tw_failure_encode(const tw_failure *f, uint8_t **out, size_t *len);

/* Child workflow failures. */
TW_API const char *tw_failure_namespace(const tw_failure *f);
TW_API const char *tw_failure_workflow_id(const tw_failure *f);
TW_API const char *tw_failure_run_id(const tw_failure *f);
TW_API const char *tw_failure_workflow_type(const tw_failure *f);
TW_API int64_t tw_failure_initiated_event_id(const tw_failure *f);

TW_END_DECLS

#endif
