/*
 * Heap-built request messages. Every string is copied and every
 * sub-message allocated, so one protobuf_c_message_free_unpacked frees a
 * whole request. A builder remembers whether any allocation failed.
 */
#ifndef TW_LIB_CLIENT_BUILD_H
#define TW_LIB_CLIENT_BUILD_H

#include "common/common.h"

typedef struct pb_build {
    bool oom;
} pb_build;

void *pb_new(pb_build *b, const ProtobufCMessageDescriptor *desc);
char *pb_str(pb_build *b, const char *s);
Google__Protobuf__Duration *pb_duration_ms(pb_build *b, int64_t ms);    /* NULL when ms <= 0 */
Temporal__Api__Common__V1__Payloads *pb_payloads(pb_build *b, const tw_payloads *list);  /* NULL for NULL */
Temporal__Api__Common__V1__WorkflowExecution *pb_execution(pb_build *b, const char *workflow_id,
                                                           const char *run_id);
Temporal__Api__Common__V1__Header *pb_header(pb_build *b, const tw_payloads *list);
Temporal__Api__Common__V1__Memo *pb_memo(pb_build *b, const tw_payloads *list);
Temporal__Api__Common__V1__SearchAttributes *pb_search_attributes(pb_build *b, const tw_payloads *list);
Temporal__Api__Common__V1__RetryPolicy *pb_retry_policy(pb_build *b, const tw_retry_policy *p);
ProtobufCBinaryData pb_bytes(pb_build *b, const uint8_t *data, size_t len);

/* Validates a retry policy given at the API edge. */
int check_retry_policy(const char *fn, const tw_retry_policy *p);

#endif
