/*
 * tw/runtime.h - the library runtime: transport threads and logging.
 *
 * One tw_runtime owns the gRPC completion thread that drives every RPC of
 * the clients made from it. Make one per process (more work, but cost
 * threads). Free it after the clients made from it.
 */
#ifndef TW_RUNTIME_H
#define TW_RUNTIME_H

#include "common.h"

TW_BEGIN_DECLS

typedef struct tw_runtime tw_runtime;

typedef enum tw_log_level {
    TW_LOG_TRACE = 0,
    TW_LOG_DEBUG = 1,
    TW_LOG_INFO = 2,
    TW_LOG_WARN = 3,
    TW_LOG_ERROR = 4,
    TW_LOG_OFF = 5
} tw_log_level;

/*
 * Log sink. Called on library threads (never while a library lock that a
 * tw_* call could need is held): it must be thread-safe and must not call
 * back into the library. message is valid only during the call.
 */
typedef void (*tw_log_fn)(int level, const char *message, void *user_data);

typedef struct tw_runtime_options {
    size_t size;          /* sizeof(tw_runtime_options), set by tw_runtime_options_init */
    tw_log_fn log;        /* NULL: discard logs */
    void *log_user_data;
    int log_level;        /* lowest level passed to log; default TW_LOG_INFO */
} tw_runtime_options;

/* Fills options with defaults (and size). */
TW_API void tw_runtime_options_init(tw_runtime_options *options);

/* Starts a runtime. options may be NULL for defaults. */
TW_API int tw_runtime_new(const tw_runtime_options *options, tw_runtime **out);

/*
 * Cancels everything still in flight (their events complete with
 * TW_ECANCELLED), joins the library's threads and frees the runtime.
 * NULL is a no-op. Must not be called from a log callback.
 */
TW_API void tw_runtime_free(tw_runtime *rt);

TW_END_DECLS

#endif
