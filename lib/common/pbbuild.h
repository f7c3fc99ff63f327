/*
 * lib/common/pbbuild.h - builders for heap protobuf messages, shared by
 * the modules that send messages (client, history, worker). Every string
 * is copied and every sub-message allocated, so one
 * protobuf_c_message_free_unpacked frees a whole message. A builder
 * remembers whether any allocation failed: check b.oom once at the end.
 * Kept apart from common.h so that its short pb_* names do not reach
 * every file of the library.
 */
#ifndef TW_LIB_COMMON_PBBUILD_H
#define TW_LIB_COMMON_PBBUILD_H

#include "common/common.h"

typedef struct pb_build {
    bool oom;
} pb_build;

void *pb_new(pb_build *b, const ProtobufCMessageDescriptor *desc);
char *pb_str(pb_build *b, const char *s);                               /* NULL for NULL */
ProtobufCBinaryData pb_bytes(pb_build *b, const uint8_t *data, size_t len);
Google__Protobuf__Duration *pb_duration_ms(pb_build *b, int64_t ms);    /* NULL when ms <= 0 */
Temporal__Api__Common__V1__Payloads *pb_payloads(pb_build *b, const tw_payloads *list);  /* NULL for NULL */
/* Maps of named entries; NULL for an empty list. */
Temporal__Api__Common__V1__Header *pb_header(pb_build *b, const tw_payloads *list);
Temporal__Api__Common__V1__Memo *pb_memo(pb_build *b, const tw_payloads *list);
Temporal__Api__Common__V1__SearchAttributes *pb_search_attributes(pb_build *b, const tw_payloads *list);
/* A checked priority (tw_priority_take); NULL when every field is unset. */
Temporal__Api__Common__V1__Priority *pb_priority(pb_build *b, const tw_priority *p);
/* The first payload of each list (tw_metadata_payload_check); NULL when both are NULL or empty. */
Temporal__Api__Sdk__V1__UserMetadata *pb_user_metadata(pb_build *b, const tw_payloads *summary,
                                                       const tw_payloads *details);

#endif
