/*
 * gRPC transport over the gRPC C core.
 *
 * One completion thread per loop drives grpc_completion_queue_next. Calls
 * may be started from any thread (the C core is thread-safe for that);
 * completions, retries and callbacks all happen on the loop thread. A
 * retry waits in a timer list the loop thread scans between completions,
 * so no extra thread or alarm is needed.
 *
 * Lifetimes: the loop holds a list of live calls (in flight or waiting to
 * retry) under one mutex; each call holds a reference on its channel. A
 * closed channel or a stopping loop cancels its calls; their callbacks still
 * run exactly once, with TW_ECANCELLED.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/log.h>
#include <grpc/support/time.h>

#include "rpc/rpc.h"

#define SERVICE_PREFIX "/temporal.api.workflowservice.v1.WorkflowService/"
#define DEFAULT_BUDGET_MS 10000
#define MAX_NORMAL_ATTEMPTS 10
/* Headers every call sends besides the user's: temporal-namespace, client-name, client-version, authorization. */
#define OWN_METADATA 4
/* Headers a call sends: its own, the channel's and the call's. */
#define MAX_METADATA (OWN_METADATA + 2 * TW_RPC_MAX_USER_METADATA)
#define MAX_RECEIVE_BYTES (128 * 1024 * 1024)

typedef struct rpc_call rpc_call;

struct tw_rpc_loop {
    grpc_completion_queue *cq;
    pthread_t thread;
    pthread_mutex_t lock;
    rpc_call *live;          /* doubly linked */
    rpc_call *finishing;     /* a keyed call whose callback is running (unlinked, still allocated) */
    bool stopping;
    bool cq_shutdown;
    tw_logger log;
    uint64_t rng;
};

struct tw_rpc_channel {
    tw_rpc_loop *loop;
    grpc_channel *channel;
    pthread_mutex_t lock;    /* guards api_key and refs */
    size_t refs;
    bool closed;
    char *api_key;
    char *namespace_name;
    char **metadata;         /* key, value, ..., NULL */
};

struct rpc_call {
    rpc_call *prev, *next;
    tw_rpc_loop *loop;
    tw_rpc_channel *ch;
    grpc_call *call;         /* NULL while waiting to retry */
    grpc_slice method;
    grpc_slice request;
    const ProtobufCMessageDescriptor *response_type;
    int retry;
    int64_t timeout_ms;
    int64_t deadline_ms;     /* end of the retry budget (monotonic ms) */
    int attempt;
    int64_t fire_at_ms;      /* > 0 while waiting to retry */
    bool cancelled;
    tw_rpc_done_fn done;
    void *arg;
    const void *owner;
    bool deadline_is_final;
    bool timer_only;         /* a timer (tw_rpc_timer_start): no gRPC call, fires at fire_at_ms */
    tw_rpc_metadata *md;     /* headers of this call, or NULL */
    const void *cancel_key;  /* with cancel_tag: see tw_rpc_cancel_keyed */
    uint64_t cancel_tag;
    bool key_cancelled;      /* cancelled through tw_rpc_cancel_keyed */
    /* per attempt */
    grpc_metadata send_md[MAX_METADATA];
    size_t send_md_count;
    grpc_byte_buffer *send_bb;
    grpc_metadata_array recv_md;
    grpc_metadata_array trailing_md;
    grpc_byte_buffer *recv_bb;
    grpc_status_code status;
    grpc_slice status_details;
    const char *error_string;
};

struct tw_rpc_metadata {
    atomic_size_t refs;
    size_t count;            /* pairs */
    char **kv;               /* key, value, ... (2 * count) */
};

static int grpc_users;
static pthread_mutex_t grpc_users_lock = PTHREAD_MUTEX_INITIALIZER;

static void silence_grpc_log(gpr_log_func_args *args)
{
    (void)args; /* the core logs to stderr by default; the library never prints */
}

static void grpc_acquire(void)
{
    pthread_mutex_lock(&grpc_users_lock);
    if (grpc_users++ == 0) {
        gpr_set_log_function(silence_grpc_log);
        grpc_init();
    }
    pthread_mutex_unlock(&grpc_users_lock);
}

static void grpc_release(void)
{
    pthread_mutex_lock(&grpc_users_lock);
    if (--grpc_users == 0)
        grpc_shutdown();
    pthread_mutex_unlock(&grpc_users_lock);
}

static gpr_timespec after_ms(int64_t ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

/* ---- error mapping ---- */

static char *detail_short_name(const char *type_url)
{
    const char *dot = strrchr(type_url, '.');
    const char *slash = strrchr(type_url, '/');
    const char *start = dot ? dot + 1 : slash ? slash + 1 : type_url;
    return tw_strdup(start);
}

static void read_details(tw_error *err, const uint8_t *details, size_t len)
{
    Google__Rpc__Status *st = google__rpc__status__unpack(NULL, len, details);
    if (!st)
        return;
    if (st->n_details > 0 && st->details[0]->type_url) {
        Google__Protobuf__Any *any = st->details[0];
        err->detail_type = detail_short_name(any->type_url);
        if (err->detail_type && strcmp(err->detail_type, "WorkflowExecutionAlreadyStartedFailure") == 0) {
            Temporal__Api__Errordetails__V1__WorkflowExecutionAlreadyStartedFailure *f =
                temporal__api__errordetails__v1__workflow_execution_already_started_failure__unpack(
                    NULL, any->value.len, any->value.data);
            if (f) {
                err->run_id = tw_strdup(f->run_id);
                temporal__api__errordetails__v1__workflow_execution_already_started_failure__free_unpacked(f, NULL);
            }
        }
    }
    google__rpc__status__free_unpacked(st, NULL);
}

static int code_for(int grpc_status, const char *detail_type)
{
    bool has = detail_type != NULL;
    switch (grpc_status) {
    case GRPC_STATUS_OK: return 0;
    case GRPC_STATUS_NOT_FOUND: return TW_ENOTFOUND;
    case GRPC_STATUS_ALREADY_EXISTS:
        return has && strcmp(detail_type, "WorkflowExecutionAlreadyStartedFailure") == 0 ? TW_EALREADY_STARTED
                                                                                         : TW_ERPC;
    case GRPC_STATUS_INVALID_ARGUMENT:
        return has && strcmp(detail_type, "QueryFailedFailure") == 0 ? TW_EQUERY_FAILED : TW_ERPC;
    case GRPC_STATUS_UNAVAILABLE: return TW_EUNAVAILABLE;
    case GRPC_STATUS_DEADLINE_EXCEEDED: return TW_ETIMEDOUT;
    case GRPC_STATUS_CANCELLED: return TW_ECANCELLED;
    default: return TW_ERPC;
    }
}

static const char *status_name(int s)
{
    static const char *names[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
                                  "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                  "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
                                  "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};
    return s >= 0 && s <= 16 ? names[s] : "UNKNOWN_STATUS";
}

tw_error *tw_rpc_error_from_status(int grpc_status, const char *message, const uint8_t *details,
                                   size_t details_len)
{
    tw_error *err = tw_error_create(TW_ERPC, grpc_status, "%s: %s", status_name(grpc_status),
                                    message && *message ? message : "(no message)");
    if (!err)
        return NULL;
    if (details && details_len) {
        read_details(err, details, details_len);
        err->status_bytes = malloc(details_len);
        if (err->status_bytes) {
            memcpy(err->status_bytes, details, details_len);
            err->status_len = details_len;
        }
    }
    err->code = code_for(grpc_status, err->detail_type);
    return err;
}

/* ---- retry policy ---- */

static bool retryable(int retry, int status)
{
    switch (status) {
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_INTERNAL:
    case GRPC_STATUS_UNKNOWN:
    case GRPC_STATUS_ABORTED:
    case GRPC_STATUS_DATA_LOSS:
        return retry != TW_RPC_NO_RETRY;
    case GRPC_STATUS_CANCELLED:
        return retry == TW_RPC_LONG_POLL;
    default:
        return false;
    }
}

int64_t tw_rpc_backoff_ms(int retry, int grpc_status, int attempt)
{
    double initial = 100, factor = 1.7, max = 5000;
    if (retry == TW_RPC_LONG_POLL) {
        if (grpc_status == GRPC_STATUS_DEADLINE_EXCEEDED || grpc_status == GRPC_STATUS_CANCELLED)
            return 0; /* the long poll simply ran out: poll again at once */
        initial = 200, factor = 2.0, max = 10000;
    } else if (grpc_status == GRPC_STATUS_RESOURCE_EXHAUSTED) {
        initial = 1000, max = 10000;
    }
    double delay = initial;
    for (int i = 1; i < attempt && delay < max; i++)
        delay *= factor;
    return (int64_t)(delay < max ? delay : max);
}

static int64_t jitter(tw_rpc_loop *loop, int64_t ms)
{
    loop->rng = loop->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    double unit = (double)(loop->rng >> 11) / (double)(1ULL << 53); /* [0, 1) */
    return (int64_t)((double)ms * (0.8 + 0.4 * unit));
}

/* ---- calls ---- */

static void attempt_clear(rpc_call *c)
{
    for (size_t i = 0; i < c->send_md_count; i++) {
        grpc_slice_unref(c->send_md[i].key);
        grpc_slice_unref(c->send_md[i].value);
    }
    c->send_md_count = 0;
    if (c->send_bb)
        grpc_byte_buffer_destroy(c->send_bb);
    c->send_bb = NULL;
    /* destroy frees the arrays without resetting them: reset so a second clear is harmless */
    grpc_metadata_array_destroy(&c->recv_md);
    grpc_metadata_array_destroy(&c->trailing_md);
    memset(&c->recv_md, 0, sizeof(c->recv_md));
    memset(&c->trailing_md, 0, sizeof(c->trailing_md));
    if (c->recv_bb)
        grpc_byte_buffer_destroy(c->recv_bb);
    c->recv_bb = NULL;
    grpc_slice_unref(c->status_details);
    c->status_details = grpc_empty_slice();
    if (c->error_string)
        gpr_free((void *)c->error_string);
    c->error_string = NULL;
}

static void add_md(rpc_call *c, const char *key, const char *value)
{
    if (c->send_md_count == MAX_METADATA)
        return;
    grpc_metadata *md = &c->send_md[c->send_md_count++];
    memset(md, 0, sizeof(*md));
    md->key = grpc_slice_from_copied_string(key);
    md->value = grpc_slice_from_copied_string(value);
}

/* True when the call's own metadata has this key (it then replaces the channel's header). */
static bool call_overrides(const rpc_call *c, const char *key)
{
    for (size_t i = 0; c->md && i < c->md->count; i++)
        if (strcmp(c->md->kv[2 * i], key) == 0)
            return true;
    return false;
}

static void build_metadata(rpc_call *c)
{
    tw_rpc_channel *ch = c->ch;
    add_md(c, "temporal-namespace", ch->namespace_name);
    add_md(c, "client-name", "temporal-workflow-c");
    add_md(c, "client-version", TW_VERSION_STRING);
    pthread_mutex_lock(&ch->lock);
    if (ch->api_key && !call_overrides(c, "authorization")) {
        char *bearer = tw_sprintf("Bearer %s", ch->api_key);
        if (bearer) {
            add_md(c, "authorization", bearer);
            free(bearer);
        }
    }
    pthread_mutex_unlock(&ch->lock);
    for (char **kv = ch->metadata; kv && kv[0] && kv[1]; kv += 2)
        if (!call_overrides(c, kv[0]))
            add_md(c, kv[0], kv[1]);
    for (size_t i = 0; c->md && i < c->md->count; i++)
        add_md(c, c->md->kv[2 * i], c->md->kv[2 * i + 1]);
}

/* Starts one try; called with loop->lock held. Returns 0 or a TW_E* code. */
static int start_attempt_locked(rpc_call *c)
{
    c->attempt++;
    c->fire_at_ms = 0;
    grpc_metadata_array_init(&c->recv_md);
    grpc_metadata_array_init(&c->trailing_md);
    build_metadata(c);
    c->send_bb = grpc_raw_byte_buffer_create(&c->request, 1);
    c->call = grpc_channel_create_call(c->ch->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->loop->cq, c->method,
                                       NULL, after_ms(c->timeout_ms), NULL);
    if (!c->call)
        return TW_EINTERNAL;
    grpc_op ops[6];
    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = c->send_md_count;
    ops[0].data.send_initial_metadata.metadata = c->send_md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = c->send_bb;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->recv_md;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &c->recv_bb;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing_md;
    ops[5].data.recv_status_on_client.status = &c->status;
    ops[5].data.recv_status_on_client.status_details = &c->status_details;
    ops[5].data.recv_status_on_client.error_string = &c->error_string;
    if (grpc_call_start_batch(c->call, ops, 6, c, NULL) != GRPC_CALL_OK) {
        grpc_call_unref(c->call);
        c->call = NULL;
        return TW_EINTERNAL;
    }
    if (c->cancelled)
        grpc_call_cancel(c->call, NULL);
    return 0;
}

static void channel_unref(tw_rpc_channel *ch)
{
    pthread_mutex_lock(&ch->lock);
    bool last = --ch->refs == 0;
    pthread_mutex_unlock(&ch->lock);
    if (!last)
        return;
    grpc_channel_destroy(ch->channel);
    for (char **kv = ch->metadata; kv && *kv; kv++)
        free(*kv);
    free(ch->metadata);
    free(ch->api_key);
    free(ch->namespace_name);
    pthread_mutex_destroy(&ch->lock);
    free(ch);
    grpc_release();
}

static void unlink_locked(rpc_call *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->loop->live = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* Ends a call: runs its callback with reply and frees it. Loop thread, lock not held. */
static void finish(rpc_call *c, tw_rpc_reply *reply)
{
    tw_rpc_loop *loop = c->loop;
    pthread_mutex_lock(&loop->lock);
    unlink_locked(c);
    if (c->cancel_key)
        loop->finishing = c; /* a cancel by key during the callback still reaches its next call */
    pthread_mutex_unlock(&loop->lock);
    c->done(reply, c->arg);
    if (c->cancel_key) {
        pthread_mutex_lock(&loop->lock);
        loop->finishing = NULL;
        pthread_mutex_unlock(&loop->lock);
    }
    attempt_clear(c);
    tw_rpc_metadata_unref(c->md);
    grpc_slice_unref(c->method);
    grpc_slice_unref(c->request);
    channel_unref(c->ch);
    free(c);
}

static void finish_with(rpc_call *c, int code, const char *what)
{
    tw_rpc_reply reply = {tw_error_create(code, 0, "%s", what), NULL};
    finish(c, &reply);
}

static const grpc_slice *find_md(const grpc_metadata_array *md, const char *key)
{
    for (size_t i = 0; i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0)
            return &md->metadata[i].value;
    return NULL;
}

static ProtobufCMessage *unpack_response(rpc_call *c)
{
    if (!c->recv_bb)
        return NULL;
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, c->recv_bb))
        return NULL;
    grpc_slice all = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    ProtobufCMessage *msg =
        protobuf_c_message_unpack(c->response_type, NULL, GRPC_SLICE_LENGTH(all), GRPC_SLICE_START_PTR(all));
    grpc_slice_unref(all);
    return msg;
}

static tw_error *error_of_attempt(rpc_call *c)
{
    char *details = grpc_slice_to_c_string(c->status_details);
    const grpc_slice *bin = find_md(&c->trailing_md, "grpc-status-details-bin");
    tw_error *err = tw_rpc_error_from_status((int)c->status, details,
                                             bin ? GRPC_SLICE_START_PTR(*bin) : NULL,
                                             bin ? GRPC_SLICE_LENGTH(*bin) : 0);
    gpr_free(details);
    if (err && c->status == GRPC_STATUS_UNAVAILABLE && c->error_string && *c->error_string) {
        char *longer = tw_sprintf("%s (%s)", err->message, c->error_string);
        if (longer) {
            free(err->message);
            err->message = longer;
        }
    }
    return err;
}

/* Schedules the next try if the policy allows; returns true when it did. */
static bool schedule_retry(rpc_call *c)
{
    tw_rpc_loop *loop = c->loop;
    if (c->cancelled || !retryable(c->retry, (int)c->status))
        return false;
    if (c->deadline_is_final && c->status == GRPC_STATUS_DEADLINE_EXCEEDED)
        return false;
    int64_t now = tw_now_ms();
    if (c->retry == TW_RPC_RETRY && (c->attempt >= MAX_NORMAL_ATTEMPTS || now >= c->deadline_ms))
        return false;
    int64_t delay = jitter(loop, tw_rpc_backoff_ms(c->retry, (int)c->status, c->attempt));
    if (c->retry == TW_RPC_RETRY && now + delay > c->deadline_ms)
        return false;
    tw_log(&loop->log, TW_LOG_DEBUG, "rpc %.*s: %s on try %d, retrying in %lld ms",
           (int)GRPC_SLICE_LENGTH(c->method), (const char *)GRPC_SLICE_START_PTR(c->method),
           status_name((int)c->status), c->attempt, (long long)delay);
    c->fire_at_ms = now + (delay > 0 ? delay : 1);
    return true;
}

static void on_complete(rpc_call *c, int success)
{
    pthread_mutex_lock(&c->loop->lock);
    grpc_call_unref(c->call);
    c->call = NULL;
    pthread_mutex_unlock(&c->loop->lock);
    if (!success) {
        attempt_clear(c);
        finish_with(c, TW_EINTERNAL, "gRPC batch failed");
        return;
    }
    if (c->status == GRPC_STATUS_OK) {
        tw_rpc_reply reply = {NULL, unpack_response(c)};
        if (!reply.response)
            reply.error = tw_error_create(TW_EPROTO, 0, "could not decode the %s reply",
                                          c->response_type->short_name);
        finish(c, &reply);
        return;
    }
    if (schedule_retry(c)) {
        attempt_clear(c);
        return;
    }
    tw_rpc_reply reply = {error_of_attempt(c), NULL};
    if (c->cancelled && reply.error)
        reply.error->code = TW_ECANCELLED;
    finish(c, &reply);
}

static int64_t fire_timers(tw_rpc_loop *loop)
{
    int64_t now = tw_now_ms(), next = now + 200;
    for (;;) {
        rpc_call *due = NULL;
        pthread_mutex_lock(&loop->lock);
        for (rpc_call *c = loop->live; c; c = c->next) {
            if (c->fire_at_ms <= 0)
                continue;
            if (c->fire_at_ms <= now || c->cancelled) {
                due = c;
                break;
            }
            if (c->fire_at_ms < next)
                next = c->fire_at_ms;
        }
        bool fired = due && due->timer_only && !due->cancelled;
        int rc = due && !due->cancelled && !due->timer_only ? start_attempt_locked(due) : 0;
        if (due && (due->cancelled || fired))
            due->fire_at_ms = 0;
        pthread_mutex_unlock(&loop->lock);
        if (!due)
            return next;
        if (fired) {
            tw_rpc_reply reply = {NULL, NULL};
            finish(due, &reply);
        } else if (due->cancelled && !due->call) {
            finish_with(due, TW_ECANCELLED, "cancelled before the call completed");
        } else if (rc) {
            finish_with(due, rc, "could not start a gRPC call");
        }
    }
}

static void maybe_shutdown_cq(tw_rpc_loop *loop)
{
    pthread_mutex_lock(&loop->lock);
    bool now = loop->stopping && !loop->live && !loop->cq_shutdown;
    if (now)
        loop->cq_shutdown = true;
    pthread_mutex_unlock(&loop->lock);
    if (now)
        grpc_completion_queue_shutdown(loop->cq);
}

static void *loop_main(void *arg)
{
    tw_rpc_loop *loop = arg;
    int64_t next_timer = tw_now_ms() + 200;
    for (;;) {
        int64_t wait = next_timer - tw_now_ms();
        grpc_event ev = grpc_completion_queue_next(loop->cq, after_ms(wait > 0 ? wait : 0), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE)
            on_complete(ev.tag, ev.success);
        next_timer = fire_timers(loop);
        maybe_shutdown_cq(loop);
    }
    return NULL;
}

int tw_rpc_loop_start(const tw_logger *log, tw_rpc_loop **out)
{
    tw_rpc_loop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return tw_set_error(TW_ENOMEM, "tw_runtime_new: out of memory");
    grpc_acquire();
    loop->cq = grpc_completion_queue_create_for_next(NULL);
    loop->log = *log;
    loop->rng = (uint64_t)tw_now_ms() ^ (uint64_t)(uintptr_t)loop;
    pthread_mutex_init(&loop->lock, NULL);
    if (pthread_create(&loop->thread, NULL, loop_main, loop) != 0) {
        grpc_completion_queue_shutdown(loop->cq);
        grpc_completion_queue_destroy(loop->cq);
        pthread_mutex_destroy(&loop->lock);
        free(loop);
        grpc_release();
        return tw_set_error(TW_EINTERNAL, "tw_runtime_new: could not start the transport thread");
    }
    *out = loop;
    return 0;
}

static void cancel_calls_locked(tw_rpc_loop *loop, const tw_rpc_channel *only, const void *owner)
{
    for (rpc_call *c = loop->live; c; c = c->next) {
        if ((only && c->ch != only) || (owner && c->owner != owner))
            continue;
        c->cancelled = true;
        if (c->call)
            grpc_call_cancel(c->call, NULL);
    }
}

void tw_rpc_loop_stop(tw_rpc_loop *loop)
{
    if (!loop)
        return;
    pthread_mutex_lock(&loop->lock);
    loop->stopping = true;
    cancel_calls_locked(loop, NULL, NULL);
    pthread_mutex_unlock(&loop->lock);
    pthread_join(loop->thread, NULL);
    grpc_completion_queue_destroy(loop->cq);
    pthread_mutex_destroy(&loop->lock);
    free(loop);
    grpc_release();
}

int tw_rpc_start(tw_rpc_channel *ch, const tw_rpc_request *req)
{
    rpc_call *c = calloc(1, sizeof(*c));
    size_t len = protobuf_c_message_get_packed_size(req->message);
    uint8_t *buf = malloc(len ? len : 1);
    char *path = tw_sprintf(SERVICE_PREFIX "%s", req->method);
    if (!c || !buf || !path) {
        free(c);
        free(buf);
        free(path);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", req->method);
    }
    protobuf_c_message_pack(req->message, buf);
    c->request = grpc_slice_from_copied_buffer((const char *)buf, len);
    c->method = grpc_slice_from_copied_string(path);
    free(buf);
    free(path);
    c->status_details = grpc_empty_slice();
    c->loop = ch->loop;
    c->ch = ch;
    c->response_type = req->response_type;
    c->retry = req->retry;
    c->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : 10000;
    c->deadline_ms = tw_now_ms() + (req->budget_ms > 0 ? req->budget_ms : DEFAULT_BUDGET_MS);
    c->done = req->done;
    c->arg = req->arg;
    c->owner = req->owner;
    c->deadline_is_final = req->deadline_is_final;
    c->md = tw_rpc_metadata_ref((tw_rpc_metadata *)req->metadata);
    c->cancel_key = req->cancel_key;
    c->cancel_tag = req->cancel_tag;

    tw_rpc_loop *loop = ch->loop;
    pthread_mutex_lock(&loop->lock);
    pthread_mutex_lock(&ch->lock);
    bool closed = ch->closed || loop->stopping;
    if (!closed)
        ch->refs++;
    pthread_mutex_unlock(&ch->lock);
    int rc = closed ? TW_ECLOSED : 0;
    if (!closed) {
        /* The next step of an operation cancelled by key while its previous call's callback ran
           (same key, started from that callback, on the completion thread): cancelled at once. */
        rpc_call *f = loop->finishing;
        if (c->cancel_key && f && f->key_cancelled && f->ch == ch && f->cancel_key == c->cancel_key &&
            f->cancel_tag == c->cancel_tag && pthread_equal(pthread_self(), loop->thread)) {
            c->cancelled = true;
            c->key_cancelled = true;
        }
        c->next = loop->live;
        if (loop->live)
            loop->live->prev = c;
        loop->live = c;
        rc = start_attempt_locked(c);
        if (rc)
            unlink_locked(c);
    }
    pthread_mutex_unlock(&loop->lock);
    if (rc) {
        attempt_clear(c);
        tw_rpc_metadata_unref(c->md);
        grpc_slice_unref(c->method);
        grpc_slice_unref(c->request);
        if (!closed)
            channel_unref(ch);
        free(c);
        return tw_set_error(rc, "%s: %s", req->method,
                            closed ? "the client is closed" : "could not start the gRPC call");
    }
    return 0;
}

int tw_rpc_timer_start(tw_rpc_channel *ch, int64_t delay_ms, tw_rpc_done_fn done, void *arg, const void *owner)
{
    rpc_call *c = calloc(1, sizeof(*c));
    if (!c)
        return tw_set_error(TW_ENOMEM, "timer: out of memory");
    c->method = grpc_empty_slice();
    c->request = grpc_empty_slice();
    c->status_details = grpc_empty_slice();
    c->loop = ch->loop;
    c->ch = ch;
    c->timer_only = true;
    c->done = done;
    c->arg = arg;
    c->owner = owner;
    tw_rpc_loop *loop = ch->loop;
    pthread_mutex_lock(&loop->lock);
    pthread_mutex_lock(&ch->lock);
    bool closed = ch->closed || loop->stopping;
    if (!closed)
        ch->refs++;
    pthread_mutex_unlock(&ch->lock);
    if (!closed) {
        c->fire_at_ms = tw_now_ms() + (delay_ms > 0 ? delay_ms : 1);
        c->next = loop->live;
        if (loop->live)
            loop->live->prev = c;
        loop->live = c;
    }
    pthread_mutex_unlock(&loop->lock);
    if (closed) {
        free(c);
        return tw_set_error(TW_ECLOSED, "timer: the client is closed");
    }
    return 0;
}

void tw_rpc_reply_clear(tw_rpc_reply *reply)
{
    tw_error_destroy(reply->error);
    reply->error = NULL;
    if (reply->response)
        protobuf_c_message_free_unpacked(reply->response, NULL);
    reply->response = NULL;
}

/* ---- channels ---- */

static grpc_channel_credentials *make_credentials(const tw_rpc_channel_config *cfg)
{
    if (!cfg->tls)
        return grpc_insecure_credentials_create();
    grpc_ssl_pem_key_cert_pair pair = {cfg->tls_client_key_pem, cfg->tls_client_cert_pem};
    bool has_pair = cfg->tls_client_cert_pem && cfg->tls_client_key_pem;
    return grpc_ssl_credentials_create(cfg->tls_root_ca_pem, has_pair ? &pair : NULL, NULL, NULL);
}

/*
 * gRPC refuses to start a call whose text header value holds anything but
 * printable ASCII (every call would then fail); a "-bin" header's value is
 * sent base64-encoded and may hold any bytes.
 */
static bool header_value_ok(const char *key, const char *value)
{
    size_t n = strlen(key);
    if (n >= 4 && strcmp(key + n - 4, "-bin") == 0)
        return true;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return true;
}

static int check_api_key(const char *api_key)
{
    if (api_key && !header_value_ok("authorization", api_key))
        return tw_set_error(TW_EINVAL, "api_key: must be printable ASCII (it is sent as an "
                                       "\"authorization: Bearer\" header)");
    return 0;
}

/* 0 if pem is NULL or holds a "-----BEGIN ...label" line; catches a file name given for its contents. */
static int check_pem(const char *field, const char *pem, const char *label)
{
    if (!pem)
        return 0;
    size_t label_len = strlen(label);
    for (const char *p = strstr(pem, "-----BEGIN "); p; p = strstr(p + 1, "-----BEGIN ")) {
        size_t line = strcspn(p, "\r\n");
        if (line >= label_len && memcmp(p + line - label_len, label, label_len) == 0)
            return 0;
    }
    return tw_set_error(TW_EINVAL, "tw_client_options.%s: not PEM (no \"-----BEGIN ...%s\" block): "
                                   "pass the contents of the file, not its name", field, label);
}

/*
 * Checks a NULL-terminated key, value, ... list given as `what`: pairs, at
 * most TW_RPC_MAX_USER_METADATA of them, valid header names and values.
 * *strings: its length (2 x pairs).
 */
static int check_metadata(const char *what, const char *const *md, size_t *strings)
{
    size_t n = 0;
    while (md && md[n])
        n++;
    *strings = n;
    if (n % 2)
        return tw_set_error(TW_EINVAL, "%s: key \"%s\" has no value (the list must hold key, value pairs "
                                       "and end with NULL)", what, md[n - 1]);
    if (n / 2 > TW_RPC_MAX_USER_METADATA)
        return tw_set_error(TW_EINVAL, "%s: %zu headers, at most %d", what, n / 2, TW_RPC_MAX_USER_METADATA);
    for (size_t i = 0; i < n; i += 2) {
        const char *k = md[i];
        if (!*k)
            return tw_set_error(TW_EINVAL, "%s: empty key", what);
        for (const char *p = k; *p; p++) {
            bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
            if (!ok)
                return tw_set_error(TW_EINVAL, "%s: key \"%s\" is not a valid header name (lowercase letters, "
                                               "digits, - _ . only)", what, k);
        }
        if (!header_value_ok(k, md[i + 1]))
            return tw_set_error(TW_EINVAL, "%s: the value of \"%s\" must be printable ASCII (or use a key "
                                           "ending in -bin for binary values)", what, k);
    }
    return 0;
}

static int copy_metadata(tw_rpc_channel *ch, const char *const *md)
{
    size_t n;
    int rc = check_metadata("tw_client_options.metadata", md, &n);
    if (rc)
        return rc;
    ch->metadata = calloc(n + 1, sizeof(char *));
    if (!ch->metadata)
        return tw_set_error(TW_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (!(ch->metadata[i] = tw_strdup(md[i])))
            return tw_set_error(TW_ENOMEM, "out of memory");
    return 0;
}

/* ---- per-call metadata ---- */

static void metadata_free(tw_rpc_metadata *m)
{
    for (size_t i = 0; m->kv && i < 2 * m->count; i++)
        free(m->kv[i]);
    free(m->kv);
    free(m);
}

/* Index of key among md[0..n) keys (a key, value, ... list), or -1. Later duplicates win. */
static long find_key(const char *const *md, size_t strings, const char *key)
{
    long found = -1;
    for (size_t i = 0; i < strings; i += 2)
        if (strcmp(md[i], key) == 0)
            found = (long)i;
    return found;
}

int tw_rpc_metadata_new(const char *what, const tw_rpc_metadata *base, const char *const *md,
                        tw_rpc_metadata **out)
{
    *out = NULL;
    size_t n;
    int rc = check_metadata(what, md, &n);
    if (rc)
        return rc;
    size_t base_pairs = tw_rpc_metadata_count(base);
    tw_rpc_metadata *m = calloc(1, sizeof(*m));
    if (m)
        m->kv = calloc(2 * (base_pairs + n / 2) + 1, sizeof(char *));
    if (!m || !m->kv) {
        free(m);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", what);
    }
    atomic_init(&m->refs, 1);
    bool oom = false;
    /* base's pairs that md does not replace, then md's (the last of a repeated key wins) */
    for (size_t i = 0; i < base_pairs; i++) {
        const char *k = base->kv[2 * i], *v = base->kv[2 * i + 1];
        if (find_key(md, n, k) >= 0)
            continue;
        m->kv[2 * m->count] = tw_strdup(k);
        m->kv[2 * m->count + 1] = tw_strdup(v);
        oom |= !m->kv[2 * m->count] || !m->kv[2 * m->count + 1];
        m->count++;
    }
    for (size_t i = 0; i < n; i += 2) {
        if (find_key(md, n, md[i]) != (long)i)
            continue;
        m->kv[2 * m->count] = tw_strdup(md[i]);
        m->kv[2 * m->count + 1] = tw_strdup(md[i + 1]);
        oom |= !m->kv[2 * m->count] || !m->kv[2 * m->count + 1];
        m->count++;
    }
    if (oom) {
        metadata_free(m);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", what);
    }
    if (m->count > TW_RPC_MAX_USER_METADATA) {
        size_t count = m->count;
        metadata_free(m);
        return tw_set_error(TW_EINVAL, "%s: %zu headers with the inherited ones, at most %d", what, count,
                            TW_RPC_MAX_USER_METADATA);
    }
    if (m->count == 0) {
        metadata_free(m);
        return 0;
    }
    *out = m;
    return 0;
}

tw_rpc_metadata *tw_rpc_metadata_ref(tw_rpc_metadata *md)
{
    if (md)
        atomic_fetch_add(&md->refs, 1);
    return md;
}

void tw_rpc_metadata_unref(tw_rpc_metadata *md)
{
    if (md && atomic_fetch_sub(&md->refs, 1) == 1)
        metadata_free(md);
}

size_t tw_rpc_metadata_count(const tw_rpc_metadata *md)
{
    return md ? md->count : 0;
}

void tw_rpc_metadata_at(const tw_rpc_metadata *md, size_t i, const char **key, const char **value)
{
    *key = md->kv[2 * i];
    *value = md->kv[2 * i + 1];
}

int tw_rpc_channel_new(tw_rpc_loop *loop, const tw_rpc_channel_config *cfg, tw_rpc_channel **out)
{
    *out = NULL;
    if (tw_str_empty(cfg->target))
        return tw_set_error(TW_EINVAL, "tw_client_options.target: must be \"host:port\", got an empty value");
    if (!strchr(cfg->target, ':'))
        return tw_set_error(TW_EINVAL, "tw_client_options.target: \"%s\" has no port (expected \"host:port\")",
                            cfg->target);
    if (!cfg->tls_client_cert_pem != !cfg->tls_client_key_pem)
        return tw_set_error(TW_EINVAL, "tw_client_options: tls_client_cert_pem and tls_client_key_pem must be "
                                       "given together");
    int rc = check_api_key(cfg->api_key);
    if (!rc)
        rc = check_pem("tls_root_ca_pem", cfg->tls_root_ca_pem, "CERTIFICATE-----");
    if (!rc)
        rc = check_pem("tls_client_cert_pem", cfg->tls_client_cert_pem, "CERTIFICATE-----");
    if (!rc)
        rc = check_pem("tls_client_key_pem", cfg->tls_client_key_pem, "PRIVATE KEY-----");
    if (rc)
        return rc;
    tw_rpc_channel *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return tw_set_error(TW_ENOMEM, "out of memory");
    pthread_mutex_init(&ch->lock, NULL);
    ch->loop = loop;
    ch->refs = 1;
    ch->namespace_name = tw_strdup(cfg->namespace_name);
    ch->api_key = tw_strdup(cfg->api_key);
    rc = copy_metadata(ch, cfg->metadata);
    if (!rc && (!ch->namespace_name || (cfg->api_key && !ch->api_key)))
        rc = tw_set_error(TW_ENOMEM, "out of memory");
    if (rc) {
        for (char **kv = ch->metadata; kv && *kv; kv++)
            free(*kv);
        free(ch->metadata);
        free(ch->api_key);
        free(ch->namespace_name);
        pthread_mutex_destroy(&ch->lock);
        free(ch);
        return rc;
    }
    grpc_acquire();
    grpc_arg args[6];
    size_t nargs = 0;
    args[nargs++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
                               .value.integer = MAX_RECEIVE_BYTES};
    args[nargs++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                               .value.integer = 100};
    args[nargs++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                               .value.integer = 100};
    args[nargs++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                               .value.integer = 5000};
    args[nargs++] = (grpc_arg){.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_KEEPALIVE_TIME_MS,
                               .value.integer = 30000};
    if (cfg->tls && cfg->tls_server_name)
        args[nargs++] = (grpc_arg){.type = GRPC_ARG_STRING, .key = GRPC_SSL_TARGET_NAME_OVERRIDE_ARG,
                                   .value.string = (char *)cfg->tls_server_name};
    grpc_channel_args channel_args = {nargs, args};
    grpc_channel_credentials *creds = make_credentials(cfg);
    ch->channel = grpc_channel_create(cfg->target, creds, &channel_args);
    grpc_channel_credentials_release(creds);
    *out = ch;
    return 0;
}

void tw_rpc_channel_close(tw_rpc_channel *ch)
{
    if (!ch)
        return;
    pthread_mutex_lock(&ch->loop->lock);
    pthread_mutex_lock(&ch->lock);
    ch->closed = true;
    pthread_mutex_unlock(&ch->lock);
    cancel_calls_locked(ch->loop, ch, NULL);
    pthread_mutex_unlock(&ch->loop->lock);
    channel_unref(ch);
}

void tw_rpc_channel_ref(tw_rpc_channel *ch)
{
    pthread_mutex_lock(&ch->lock);
    ch->refs++;
    pthread_mutex_unlock(&ch->lock);
}

void tw_rpc_channel_unref(tw_rpc_channel *ch)
{
    channel_unref(ch);
}

void tw_rpc_cancel_owner(tw_rpc_channel *ch, const void *owner)
{
    pthread_mutex_lock(&ch->loop->lock);
    cancel_calls_locked(ch->loop, ch, owner);
    pthread_mutex_unlock(&ch->loop->lock);
}

static bool key_matches(const rpc_call *c, const tw_rpc_channel *ch, const void *key, uint64_t tag)
{
    return c->ch == ch && c->cancel_key == key && c->cancel_tag == tag;
}

size_t tw_rpc_cancel_keyed(tw_rpc_channel *ch, const void *cancel_key, uint64_t cancel_tag)
{
    if (!ch || !cancel_key)
        return 0;
    tw_rpc_loop *loop = ch->loop;
    size_t n = 0;
    pthread_mutex_lock(&loop->lock);
    for (rpc_call *c = loop->live; c; c = c->next) {
        if (!key_matches(c, ch, cancel_key, cancel_tag))
            continue;
        n++;
        c->cancelled = true;
        c->key_cancelled = true;
        if (c->call)
            grpc_call_cancel(c->call, NULL);
    }
    rpc_call *f = loop->finishing;
    if (f && key_matches(f, ch, cancel_key, cancel_tag)) {
        n++;
        f->cancelled = true;
        f->key_cancelled = true;
    }
    pthread_mutex_unlock(&loop->lock);
    return n;
}

int tw_rpc_channel_set_api_key(tw_rpc_channel *ch, const char *api_key)
{
    int rc = check_api_key(api_key);
    if (rc)
        return rc;
    char *copy = NULL;
    if (api_key && !(copy = tw_strdup(api_key)))
        return tw_set_error(TW_ENOMEM, "out of memory");
    pthread_mutex_lock(&ch->lock);
    free(ch->api_key);
    ch->api_key = copy;
    pthread_mutex_unlock(&ch->lock);
    return 0;
}
