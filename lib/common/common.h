/*
 * lib/common - what every module shares: error details, completion queues
 * and their events, payload lists, failures, small string helpers.
 * Private to the library.
 */
#ifndef TW_LIB_COMMON_H
#define TW_LIB_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tw/tw.h"
#include "tw_proto.h"

/* ---- errors ---- */

struct tw_error {
    int code;
    int grpc_status;
    char *message;
    char *detail_type;
    char *run_id;
    uint8_t *status_bytes;
    size_t status_len;
};

/* Sets the calling thread's last error and returns code. */
int tw_set_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies err into the calling thread's last error and returns its code. */
int tw_set_error_from(const tw_error *err);
/* A heap error for events; NULL only when out of memory. */
tw_error *tw_error_create(int code, int grpc_status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
tw_error *tw_error_copy(const tw_error *err);
void tw_error_destroy(tw_error *err);

/* ---- memory and strings ---- */

char *tw_strdup(const char *s);            /* NULL -> NULL */
char *tw_strdup_or_empty(const char *s);   /* NULL -> "" copy */
char *tw_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool tw_str_empty(const char *s);
/* Non-zero when s is valid UTF-8. */
bool tw_utf8_valid(const char *s, size_t len);
/* Fills out with a random version-4 UUID string (37 bytes with NUL). */
void tw_uuid4(char out[37]);
/* Monotonic clock in milliseconds. */
int64_t tw_now_ms(void);
/* Reads min(size, sizeof_struct) bytes of a caller's options struct over defaults. */
void tw_copy_options(void *dst, size_t dst_size, const void *src);

/* ---- events and completion queues ---- */

struct tw_event {
    struct tw_event *next;
    uint64_t tag;
    int kind;
    int status;
    tw_error *error;
    char *run_id;
    tw_payloads *payloads;
    tw_failure *failure;
    int outcome;
    int workflow_status;
    int64_t count;
    tw_execution **executions;
    size_t execution_count;
    tw_history *history;
    uint8_t *token;
    size_t token_len;
    struct tw_activation *activation; /* TW_EVENT_ACTIVATION, owned until taken */
    struct tw_activity_task *activity_task; /* TW_EVENT_ACTIVITY_TASK, owned until taken */
    int activity_flags;               /* TW_EVENT_ACTIVITY_HEARTBEAT: TW_HEARTBEAT_* bits */
    bool eager;                       /* TW_EVENT_START_WORKFLOW: the first task went to a local worker */
};

/* What the server answered a heartbeat (tw_event.activity_flags). */
enum { TW_HEARTBEAT_CANCEL_REQUESTED = 1, TW_HEARTBEAT_PAUSED = 2, TW_HEARTBEAT_RESET = 4 };

/* A new event of kind with tag, status 0. NULL when out of memory. */
tw_event *tw_event_create(int kind, uint64_t tag);
/* Marks ev failed with a copy of err (or a generic message when err is NULL). */
void tw_event_fail(tw_event *ev, const tw_error *err);
/* Registers one more operation that will complete into cq. */
void tw_cq_expect(tw_cq *cq);
/* Delivers ev (takes ownership) for an operation registered with tw_cq_expect. */
void tw_cq_push(tw_cq *cq, tw_event *ev);

/* Destructors of event results owned by the client module. */
void tw_execution_destroy(tw_execution *ex);
void tw_history_destroy(tw_history *h);

/* ---- payloads ---- */

/* Copies a protobuf Payloads (NULL allowed: empty list). NULL on ENOMEM. */
tw_payloads *tw_payloads_from_pb(size_t n, Temporal__Api__Common__V1__Payload *const *items);
/*
 * Every protobuf-c map<string, Payload> entry (memo, header, search
 * attributes) has this layout; the descriptor tells them apart.
 */
typedef struct tw_pb_payload_entry {
    ProtobufCMessage base;
    char *key;
    Temporal__Api__Common__V1__Payload *value;
} tw_pb_payload_entry;

/* Named entries from a protobuf map<string, Payload> (entries of any such map type). */
tw_payloads *tw_payloads_from_pb_map(size_t n, void *const *entries);
/* Copies list into freshly allocated protobuf Payload messages (array of n). */
int tw_payloads_to_pb(const tw_payloads *list, Temporal__Api__Common__V1__Payload ***items, size_t *n);
/* Copies named entries into new map entries of type entry_desc; every entry must have a name. */
int tw_payloads_to_pb_map(const tw_payloads *list, const ProtobufCMessageDescriptor *entry_desc,
                          void ***entries, size_t *n);
/* Frees what tw_payloads_to_pb / _to_pb_map allocated. */
void tw_pb_payloads_free(Temporal__Api__Common__V1__Payload **items, size_t n);
void tw_pb_payload_map_free(void **entries, size_t n);
/* A deep copy of list (NULL -> empty list); NULL only when out of memory. */
tw_payloads *tw_payloads_copy(const tw_payloads *list);
/* Checks names/metadata; returns 0 or TW_EINVAL naming `what`. */
int tw_payloads_validate(const tw_payloads *list, const char *what, bool need_names);

/* ---- failures ---- */

tw_failure *tw_failure_from_pb(const Temporal__Api__Failure__V1__Failure *pb);
void tw_failure_destroy(tw_failure *f);

/* A deep copy of msg made by packing and unpacking it; NULL on ENOMEM. */
ProtobufCMessage *tw_pb_copy(const ProtobufCMessage *msg);

/* ---- priority and user metadata (metadata.c) ---- */

/*
 * Copies the caller's priority (NULL: all unset) into out, a full-size
 * struct, and checks it: TW_EINVAL naming fn and what (the option's name).
 */
int tw_priority_take(const char *fn, const char *what, const tw_priority *given, tw_priority *out);
/*
 * Fills the caller's out (up to its size) from pb (NULL: all unset);
 * out->fairness_key is borrowed from pb. TW_EINVAL for a NULL out or one
 * whose size was never set.
 */
int tw_priority_read(const char *fn, const Temporal__Api__Common__V1__Priority *pb, tw_priority *out);
/* A summary or details list must be NULL or hold exactly one payload: TW_EINVAL naming fn and what. */
int tw_metadata_payload_check(const char *fn, const char *what, const tw_payloads *list);

/* ---- time ---- */

int64_t tw_timestamp_to_ns(const Google__Protobuf__Timestamp *ts);

#endif
