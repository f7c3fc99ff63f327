/*
 * tw/errors.h - error codes and error details.
 *
 * Functions return 0 or a negative TW_E* code. The thread that got the code
 * can read the details with tw_error_last(); asynchronous operations carry
 * their own error on the completion event (tw_event_error in tw/cq.h).
 */
#ifndef TW_ERRORS_H
#define TW_ERRORS_H

#include "common.h"

TW_BEGIN_DECLS

typedef enum tw_errcode {
    TW_OK = 0,
    TW_EINVAL = -1,            /* bad argument at the API edge; message names it */
    TW_ENOMEM = -2,            /* out of memory */
    TW_ERPC = -3,              /* the server or transport answered a gRPC error */
    TW_ENOTFOUND = -4,         /* workflow, run or namespace does not exist */
    TW_EALREADY_STARTED = -5,  /* a workflow with this id is already running */
    TW_ETIMEDOUT = -6,         /* deadline passed, or tw_cq_next timed out */
    TW_ECANCELLED = -7,        /* the operation was cancelled (handle freed, shutdown) */
    TW_ECLOSED = -8,           /* the handle was closed or is shutting down */
    TW_EPROTO = -9,            /* malformed data: protobuf, JSON, payload, history */
    TW_EQUERY_REJECTED = -10,  /* the query's reject condition matched */
    TW_EQUERY_FAILED = -11,    /* the workflow's query handler failed */
    TW_EUNAVAILABLE = -12,     /* server unreachable, TLS handshake failed */
    TW_EAGAIN = -13,           /* nothing ready yet (non-blocking poll) */
    TW_EINTERNAL = -14         /* a bug in the library: please report it */
} tw_errcode;

/* Details of a failure. Opaque; read with the accessors below. */
typedef struct tw_error tw_error;

/* Static name of a TW_E* code, e.g. "TW_EINVAL". Any thread. */
TW_API const char *tw_strerror(int code);

/*
 * The last error set on the calling thread by a tw_* function that returned
 * a negative code. Never NULL (code 0, empty message when there was none).
 * Valid until the next tw_* call on this thread.
 */
TW_API const tw_error *tw_error_last(void);

/* TW_E* code of this error. */
TW_API int tw_error_code(const tw_error *err);

/* Human-readable message saying what was wrong. Never NULL. */
TW_API const char *tw_error_message(const tw_error *err);

/* gRPC status code (0..16) when the error came from an RPC, else 0. */
TW_API int tw_error_grpc_status(const tw_error *err);

/*
 * Short name of the first detail the server attached (the message name of
 * the google.protobuf.Any in grpc-status-details-bin, e.g.
 * "WorkflowExecutionAlreadyStartedFailure"), or "" when none.
 */
TW_API const char *tw_error_detail_type(const tw_error *err);

/* Run id named by the detail (already-started workflow), or "". */
TW_API const char *tw_error_run_id(const tw_error *err);

/*
 * The raw serialized google.rpc.Status the server sent, if any. *data is
 * borrowed for the error's lifetime. Returns 0.
 */
TW_API int tw_error_status_bytes(const tw_error *err, const uint8_t **data, size_t *len);

TW_END_DECLS

#endif
