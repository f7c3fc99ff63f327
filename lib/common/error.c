/* Error codes, thread-local last error, heap errors for events. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static _Thread_local tw_error last_error;
static const char empty[] = "";

static void error_clear(tw_error *err)
{
    free(err->message);
    free(err->detail_type);
    free(err->run_id);
    free(err->status_bytes);
    memset(err, 0, sizeof(*err));
}

/*
 * The last error's strings are heap memory that a thread-local cannot free
 * by itself: a thread that got an error and then exits (a caller's worker
 * thread, the transport thread) would leak them. The first error on a
 * thread registers it with a key whose destructor clears the error when the
 * thread exits. The key is deleted if the library is unloaded, so no
 * destructor can point into an unmapped library.
 */
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static bool exit_key_made;
static _Thread_local bool clears_on_exit;

static void clear_at_thread_exit(void *unused)
{
    (void)unused;
    error_clear(&last_error);
}

static void make_exit_key(void)
{
    exit_key_made = pthread_key_create(&exit_key, clear_at_thread_exit) == 0;
}

__attribute__((destructor)) static void delete_exit_key(void)
{
    if (exit_key_made)
        pthread_key_delete(exit_key);
}

static void clear_on_thread_exit(void)
{
    if (clears_on_exit)
        return;
    pthread_once(&exit_key_once, make_exit_key);
    /* Any non-NULL value makes the destructor run. */
    clears_on_exit = exit_key_made && pthread_setspecific(exit_key, &last_error) == 0;
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return NULL;
    char *buf = malloc((size_t)n + 1);
    if (buf)
        vsnprintf(buf, (size_t)n + 1, fmt, ap);
    return buf;
}

int tw_set_error(int code, const char *fmt, ...)
{
    clear_on_thread_exit();
    error_clear(&last_error);
    last_error.code = code;
    va_list ap;
    va_start(ap, fmt);
    last_error.message = vformat(fmt, ap);
    va_end(ap);
    return code;
}

static int copy_into(tw_error *dst, const tw_error *src)
{
    dst->code = src->code;
    dst->grpc_status = src->grpc_status;
    dst->message = tw_strdup(src->message);
    dst->detail_type = tw_strdup(src->detail_type);
    dst->run_id = tw_strdup(src->run_id);
    if (src->status_len) {
        dst->status_bytes = malloc(src->status_len);
        if (dst->status_bytes) {
            memcpy(dst->status_bytes, src->status_bytes, src->status_len);
            dst->status_len = src->status_len;
        }
    }
    return src->code;
}

int tw_set_error_from(const tw_error *err)
{
    clear_on_thread_exit();
    error_clear(&last_error);
    return copy_into(&last_error, err);
}

tw_error *tw_error_copy(const tw_error *src)
{
    tw_error *err = calloc(1, sizeof(*err));
    if (err)
        copy_into(err, src);
    return err;
}

tw_error *tw_error_create(int code, int grpc_status, const char *fmt, ...)
{
    tw_error *err = calloc(1, sizeof(*err));
    if (!err)
        return NULL;
    err->code = code;
    err->grpc_status = grpc_status;
    va_list ap;
    va_start(ap, fmt);
    err->message = vformat(fmt, ap);
    va_end(ap);
    return err;
}

void tw_error_destroy(tw_error *err)
{
    if (!err)
        return;
    error_clear(err);
    free(err);
}

const tw_error *tw_error_last(void)
{
    return &last_error;
}

int tw_error_code(const tw_error *err)
{
    return err ? err->code : TW_EINVAL;
}

const char *tw_error_message(const tw_error *err)
{
    return err && err->message ? err->message : empty;
}

int tw_error_grpc_status(const tw_error *err)
{
    return err ? err->grpc_status : 0;
}

const char *tw_error_detail_type(const tw_error *err)
{
    return err && err->detail_type ? err->detail_type : empty;
}

const char *tw_error_run_id(const tw_error *err)
{
    return err && err->run_id ? err->run_id : empty;
}

int tw_error_status_bytes(const tw_error *err, const uint8_t **data, size_t *len)
{
    if (!err || !data || !len)
        return tw_set_error(TW_EINVAL, "tw_error_status_bytes: err, data and len must not be NULL");
    *data = err->status_bytes;
    *len = err->status_len;
    return 0;
}

const char *tw_strerror(int code)
{
    switch (code) {
    case TW_OK: return "TW_OK";
    case TW_EINVAL: return "TW_EINVAL";
    case TW_ENOMEM: return "TW_ENOMEM";
    case TW_ERPC: return "TW_ERPC";
    case TW_ENOTFOUND: return "TW_ENOTFOUND";
    case TW_EALREADY_STARTED: return "TW_EALREADY_STARTED";
    case TW_ETIMEDOUT: return "TW_ETIMEDOUT";
    case TW_ECANCELLED: return "TW_ECANCELLED";
    case TW_ECLOSED: return "TW_ECLOSED";
    case TW_EPROTO: return "TW_EPROTO";
    case TW_EQUERY_REJECTED: return "TW_EQUERY_REJECTED";
    case TW_EQUERY_FAILED: return "TW_EQUERY_FAILED";
    case TW_EUNAVAILABLE: return "TW_EUNAVAILABLE";
    case TW_EAGAIN: return "TW_EAGAIN";
    case TW_EINTERNAL: return "TW_EINTERNAL";
    default: return "TW_E(unknown)";
    }
}
