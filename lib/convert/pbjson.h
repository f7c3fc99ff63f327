/*
 * lib/convert/pbjson - proto3 JSON <-> protobuf-c messages, driven only by
 * protobuf-c's runtime descriptors, so one codec serves every generated type.
 * Used to print histories and other messages for language bindings and to
 * import history files written by `temporal workflow show --output json`.
 * Private to the library.
 *
 * Deviations from the proto3 JSON mapping are listed at the top of pbjson.c;
 * the one callers notice first: google.protobuf.Any is
 * {"@type": url, "value": "<base64 of the packed bytes>"} because we keep no
 * type registry to expand the packed message.
 */
#ifndef TW_LIB_CONVERT_PBJSON_H
#define TW_LIB_CONVERT_PBJSON_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

/*
 * Decode flag for tctl-era history files: an enum name that is not found as
 * given and looks PascalCase ("WorkflowExecutionStarted", "Normal") is
 * retried as PREFIX_UPPER_SNAKE ("EVENT_TYPE_WORKFLOW_EXECUTION_STARTED").
 */
enum { TW_PBJSON_LEGACY_ENUMS = 1u << 0 };

/*
 * Encodes msg as a proto3 JSON object (for the well-known types whose JSON
 * form is not an object - Timestamp, Duration, wrappers, FieldMask - that
 * form). Returns NULL only on out-of-memory (or when msg is NULL).
 * Caller frees with cJSON_Delete.
 */
cJSON *tw_pbjson_encode(const ProtobufCMessage *msg);

/*
 * Decodes json (must be an object, or the JSON form of a well-known type when
 * desc is one) into a new message of type desc, allocated with the protobuf-c
 * default allocator so protobuf_c_message_free_unpacked(msg, NULL) frees it.
 * Returns 0, or -1 with *out NULL and a message naming the JSON path in err,
 * e.g. "events[3].eventTime: not an RFC 3339 timestamp: \"abc\"".
 * Unknown fields are ignored; unknown enum names decode as 0.
 * flags: 0 or TW_PBJSON_LEGACY_ENUMS.
 */
int tw_pbjson_decode(const ProtobufCMessageDescriptor *desc, const cJSON *json, unsigned flags,
                     ProtobufCMessage **out, char *err, size_t errlen);

#endif
