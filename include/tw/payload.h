/*
 * tw/payload.h - payload lists.
 *
 * A tw_payloads is an ordered list of Temporal payloads; each payload is a
 * metadata map (string -> bytes) plus data bytes. Encodings are metadata
 * ("encoding": "json/plain", "binary/plain", "binary/null",
 * "json/protobuf", "binary/protobuf"); converting values is the language's
 * job. Where the API needs a map of payloads (memo, search attributes,
 * headers) it takes a tw_payloads whose entries each carry a name: the map key.
 *
 * A tw_payloads is not thread-safe: use one from one thread at a time.
 * Lists handed to the library are copied; lists the library hands out are
 * borrowed from their owner (an event, an activation) and valid as long as it.
 */
#ifndef TW_PAYLOAD_H
#define TW_PAYLOAD_H

#include "common.h"

TW_BEGIN_DECLS

typedef struct tw_payloads tw_payloads;

/* Creates an empty list. Returns 0 or TW_EINVAL / TW_ENOMEM. */
TW_API int tw_payloads_new(tw_payloads **out);

/* Frees the list and everything in it. NULL is a no-op. */
TW_API void tw_payloads_free(tw_payloads *list);

/* Number of payloads in the list (0 for NULL). */
TW_API size_t tw_payloads_count(const tw_payloads *list);

/*
 * Appends a payload holding a copy of data[0..len) and no metadata; its
 * index is written to *index when index is not NULL.
 */
TW_API int tw_payloads_add(tw_payloads *list, const uint8_t *data, size_t len, size_t *index);

/*
 * Appends a json/plain payload holding a copy of the JSON text json
 * (checked to be valid JSON: TW_EPROTO otherwise). For C programs.
 */
TW_API int tw_payloads_add_json(tw_payloads *list, const char *json, size_t *index);

/* Sets (or replaces) metadata key of payload index to a copy of value[0..len). */
TW_API int tw_payloads_set_metadata(tw_payloads *list, size_t index, const char *key,
                                    const uint8_t *value, size_t len);

/* Sets the name (map key) of payload index; NULL clears it. */
TW_API int tw_payloads_set_name(tw_payloads *list, size_t index, const char *name);

/* Name of payload index, or NULL when it has none or index is out of range. */
TW_API const char *tw_payloads_name(const tw_payloads *list, size_t index);

/* Borrows the data of payload index. Returns TW_EINVAL for a bad index. */
TW_API int tw_payloads_data(const tw_payloads *list, size_t index, const uint8_t **data, size_t *len);

/* Number of metadata entries of payload index (0 for a bad index). */
TW_API size_t tw_payloads_metadata_count(const tw_payloads *list, size_t index);

/* Borrows metadata entry m of payload index. */
TW_API int tw_payloads_metadata_at(const tw_payloads *list, size_t index, size_t m,
                                   const char **key, const uint8_t **value, size_t *len);

/* Borrows the value of metadata key of payload index; TW_ENOTFOUND if absent. */
TW_API int tw_payloads_metadata_get(const tw_payloads *list, size_t index, const char *key,
                                    const uint8_t **value, size_t *len);

/*
 * Copies payload index as a NUL-terminated string into a new buffer owned
 * by the caller (free with tw_free): handy for json/plain results in C.
 */
TW_API int tw_payloads_data_string(const tw_payloads *list, size_t index, char **out);

TW_END_DECLS

#endif
