/*
 * Heap-built request messages of the client. The generic builders
 * (pb_build, pb_new, pb_str, pb_payloads, ...) are in common/pbbuild.h.
 */
#ifndef TW_LIB_CLIENT_BUILD_H
#define TW_LIB_CLIENT_BUILD_H

#include "common/pbbuild.h"

Temporal__Api__Common__V1__WorkflowExecution *pb_execution(pb_build *b, const char *workflow_id,
                                                           const char *run_id);
Temporal__Api__Common__V1__RetryPolicy *pb_retry_policy(pb_build *b, const tw_retry_policy *p);

/* Validates a retry policy given at the API edge. */
int check_retry_policy(const char *fn, const tw_retry_policy *p);

#endif
