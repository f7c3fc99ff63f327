/*
 * lib/rpc - gRPC transport: one completion thread per tw_runtime, channels
 * with TLS / API key / namespace metadata, unary calls with deadlines and
 * retries. Private to the library.
 */
#ifndef TW_LIB_RPC_H
#define TW_LIB_RPC_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "common/common.h"
#include "common/log.h"

typedef struct tw_rpc_loop tw_rpc_loop;
typedef struct tw_rpc_channel tw_rpc_channel;

/* Starts the completion thread. */
int tw_rpc_loop_start(const tw_logger *log, tw_rpc_loop **out);
/* Cancels every live call (their callbacks run with TW_ECANCELLED), joins the thread, frees. */
void tw_rpc_loop_stop(tw_rpc_loop *loop);

typedef struct tw_rpc_channel_config {
    const char *target;
    bool tls;
    const char *tls_root_ca_pem;
    const char *tls_client_cert_pem;
    const char *tls_client_key_pem;
    const char *tls_server_name;
    const char *namespace_name;
    const char *api_key;
    const char *const *metadata; /* NULL-terminated key/value pairs */
} tw_rpc_channel_config;

/* Creates a channel; validates the config (TW_EINVAL naming the bad field). */
int tw_rpc_channel_new(tw_rpc_loop *loop, const tw_rpc_channel_config *config, tw_rpc_channel **out);
/* Cancels the channel's live calls and drops the caller's reference. */
void tw_rpc_channel_close(tw_rpc_channel *ch);
/*
 * Another reference on ch, for an object that may outlive the client that
 * made the channel (a worker): the memory stays valid until the last
 * tw_rpc_channel_unref, though calls fail with TW_ECLOSED once it is closed.
 */
void tw_rpc_channel_ref(tw_rpc_channel *ch);
void tw_rpc_channel_unref(tw_rpc_channel *ch);
int tw_rpc_channel_set_api_key(tw_rpc_channel *ch, const char *api_key);

/*
 * Extra headers of some calls (per-call metadata, tw_call_options): an
 * immutable, reference-counted list of key/value pairs, safe to share
 * between threads. At most TW_RPC_MAX_USER_METADATA pairs, like the
 * channel's own list.
 */
#define TW_RPC_MAX_USER_METADATA 28
typedef struct tw_rpc_metadata tw_rpc_metadata;

/*
 * Validates md (NULL-terminated key, value, ...; `what` names it in
 * messages, e.g. "tw_call_options.metadata") like a channel's metadata and
 * makes a list holding base's pairs (base may be NULL) with md's added: a
 * key of md replaces the same key of base. TW_EINVAL naming the bad key,
 * TW_ENOMEM. *out is NULL when the result is empty.
 */
int tw_rpc_metadata_new(const char *what, const tw_rpc_metadata *base, const char *const *md,
                        tw_rpc_metadata **out);
tw_rpc_metadata *tw_rpc_metadata_ref(tw_rpc_metadata *md); /* NULL-safe; returns md */
void tw_rpc_metadata_unref(tw_rpc_metadata *md);             /* NULL-safe */
/* Number of pairs (0 for NULL) and pair i (borrowed). */
size_t tw_rpc_metadata_count(const tw_rpc_metadata *md);
void tw_rpc_metadata_at(const tw_rpc_metadata *md, size_t i, const char **key, const char **value);

typedef enum tw_rpc_retry {
    TW_RPC_NO_RETRY = 0,
    TW_RPC_RETRY = 1,      /* transient codes, backoff 100 ms x1.7 up to 5 s, within a budget */
    TW_RPC_LONG_POLL = 2   /* deadline and transient codes, forever, 200 ms x2 up to 10 s */
} tw_rpc_retry;

/* Outcome of a call, handed to the callback which owns its contents. */
typedef struct tw_rpc_reply {
    tw_error *error;             /* NULL on success */
    ProtobufCMessage *response;  /* NULL on failure; free with protobuf_c_message_free_unpacked */
} tw_rpc_reply;

/* Runs on the completion thread; may start further calls. */
typedef void (*tw_rpc_done_fn)(tw_rpc_reply *reply, void *arg);

typedef struct tw_rpc_request {
    const char *method;                          /* WorkflowService method, e.g. "StartWorkflowExecution" */
    const ProtobufCMessage *message;             /* packed during tw_rpc_start */
    const ProtobufCMessageDescriptor *response_type;
    int retry;                                   /* tw_rpc_retry */
    int64_t timeout_ms;                          /* deadline of each try */
    int64_t budget_ms;                           /* TW_RPC_RETRY: total time for retries (0: 10 s) */
    tw_rpc_done_fn done;
    void *arg;
    const void *owner;                           /* optional: groups calls for tw_rpc_cancel_owner */
    bool deadline_is_final;                      /* do not retry DEADLINE_EXCEEDED (queries: waiting
                                                    longer cannot help a worker that is not there) */
    const tw_rpc_metadata *metadata;             /* optional: headers of this call (the call takes a
                                                    reference); a key here replaces the channel's
                                                    header of that name (authorization included) */
    const void *cancel_key;                      /* optional: with cancel_tag, names the call for
                                                    tw_rpc_cancel_keyed (a client call: its cq, tag) */
    uint64_t cancel_tag;
} tw_rpc_request;

/*
 * Starts a call. On 0 the callback runs exactly once, later, on the
 * completion thread. On error (TW_ECLOSED, TW_ENOMEM) it never runs.
 */
int tw_rpc_start(tw_rpc_channel *ch, const tw_rpc_request *req);

/*
 * Starts a timer on the completion thread: done runs once, after delay_ms
 * (reply->error NULL, no response), or with TW_ECANCELLED when cancelled
 * first like a call (tw_rpc_cancel_owner, closing ch, stopping the loop;
 * a cancelled timer ends within the loop's 200 ms tick). Same guarantees
 * as tw_rpc_start: on error (TW_ECLOSED, TW_ENOMEM) done never runs.
 */
int tw_rpc_timer_start(tw_rpc_channel *ch, int64_t delay_ms, tw_rpc_done_fn done, void *arg, const void *owner);

/* Cancels the live calls of ch started with this owner (their callbacks see TW_ECANCELLED). */
void tw_rpc_cancel_owner(tw_rpc_channel *ch, const void *owner);

/*
 * Cancels the live calls of ch started with this (cancel_key, cancel_tag)
 * (their callbacks see TW_ECANCELLED). Multi-step operations are covered:
 * when the cancel lands while the callback of such a call is running on the
 * completion thread, a call that callback starts with the same key is
 * cancelled as it starts. Returns how many calls it reached (0: none live,
 * e.g. unknown or already finished). Any thread.
 */
size_t tw_rpc_cancel_keyed(tw_rpc_channel *ch, const void *cancel_key, uint64_t cancel_tag);

/* Frees the contents of a reply. */
void tw_rpc_reply_clear(tw_rpc_reply *reply);

/* Maps a gRPC status and its google.rpc.Status details to a TW_E* error. Exposed for tests. */
tw_error *tw_rpc_error_from_status(int grpc_status, const char *message, const uint8_t *details,
                                   size_t details_len);

/* Backoff before retry number `attempt` (1-based) of a call, before jitter. Exposed for tests. */
int64_t tw_rpc_backoff_ms(int retry, int grpc_status, int attempt);

#endif
