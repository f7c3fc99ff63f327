/*
 * tw_wf_instance: operations, cancellation scopes, signal buffering and
 * query dispatch over one run's activations (see tw/workflow.h).
 *
 * Commands go straight into the activation's tw_completion as the code
 * issues them; the engine (lib/history) drops a start that is cancelled
 * before it was sent. Resolutions the runtime produces itself (timer
 * cancellation, zero-length timers) and scope-cancellation notices are
 * queued and delivered between drains, never re-entrantly from inside the
 * binding's own call.
 *
 * Local activity backoffs: when the engine resolves a local activity with
 * TW_RESOLUTION_BACKOFF (its retry is due later than its
 * local_retry_threshold_ms), the runtime does what the other SDKs leave to
 * the language: it starts a durable timer of the backoff and, when the
 * timer fires, schedules the local activity again under a new seq with the
 * next attempt number and the first attempt's schedule time (the op keeps a
 * copy of its options for that). The binding sees one op resolved once,
 * with the final outcome; cancelling it meanwhile cancels the timer. The
 * timer and the new seq come at the same points on replay, where the
 * engine brings the BACKOFF back from the attempt's marker.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

enum op_state { OP_PENDING = 0, OP_RESOLVED = 1 };

struct tw_op {
    tw_wf_instance *wf;
    tw_scope *scope;
    struct tw_op *next_all;
    int kind;
    uint32_t seq;
    uint64_t tag;
    int state;
    bool internal;         /* a scope's timeout timer or a backoff timer: never reported to the binding */
    bool cancel_requested;
    char *child_run_id;    /* TW_OP_CHILD_WORKFLOW, once started */
    int start_failed_cause;
    struct la_retry *la;   /* TW_OP_LOCAL_ACTIVITY until resolved: its options, to schedule a retry */
    struct tw_op *backoff_timer; /* TW_OP_LOCAL_ACTIVITY: the timer it waits on before its next attempt */
    struct tw_op *backoff_of;    /* a backoff timer: the local activity it delays */
};

/* A local activity's options, deep-copied: o's pointers point into the copies below. */
typedef struct la_retry {
    tw_local_activity_options o;
    char *activity_id, *activity_type;
    tw_payloads *args, *headers, *summary;
    char **non_retryable;  /* NULL-terminated */
} la_retry;

/*
 * Seq spaces: each command kind numbers its operations on its own (remote
 * and local activities share one, as the engine wants).
 */
enum seq_space { SPACE_TIMER, SPACE_ACTIVITY, SPACE_CHILD, SPACE_SIGNAL, SPACE_CANCEL_EXTERNAL, SPACE_COUNT };

typedef struct op_table {
    tw_op **ops;           /* by seq */
    size_t cap;
    uint32_t next_seq;
} op_table;

/* A patch id and what tw_wf_patched answered for it. */
typedef struct patch_rec {
    struct patch_rec *next;
    char *id;
    bool answer;
} patch_rec;

struct tw_scope {
    tw_wf_instance *wf;
    tw_scope *parent;
    tw_scope *first_child, *next_sibling;
    tw_scope *next_all;
    uint64_t tag;
    bool detached;
    bool cancelled;
    tw_op *timeout_timer;
};

typedef enum deferred_kind { DEFER_RESOLVE = 1, DEFER_SCOPE_CANCELLED = 2 } deferred_kind;

typedef struct deferred {
    struct deferred *next;
    int kind;
    tw_op *op;
    tw_scope *scope;
    int resolution;
    tw_failure *failure;
} deferred;

typedef struct buffered_signal {
    struct buffered_signal *next;
    char *name;
    tw_payloads *args;
    tw_payloads *headers;
} buffered_signal;

typedef struct info {
    char *workflow_id, *run_id, *workflow_type, *task_queue;
    char *parent_workflow_id, *parent_run_id, *parent_namespace, *continued_run_id, *cron_schedule;
    int32_t attempt;
    int64_t start_time, execution_timeout_ms, run_timeout_ms, task_timeout_ms;
    tw_payloads *memo, *search_attributes, *last_completion_result;
    tw_priority priority;  /* fairness_key points to fairness_key below */
    char *fairness_key;
} info;

struct tw_wf_instance {
    tw_wf_callbacks cb;
    void *ud;
    info info;
    tw_scope *root;
    tw_scope *all_scopes;
    tw_op *all_ops;
    op_table tables[SPACE_COUNT];
    patch_rec *patches;    /* answers given so far */
    patch_rec *notified;   /* patches the history says were taken (answer unused) */
    tw_completion *completion;  /* being built; non-NULL only inside activate */
    bool in_query;
    bool query_violation;
    bool done;
    int64_t now;
    bool replaying;
    uint64_t rng;
    deferred *deferred_head, *deferred_tail;
    buffered_signal *signals_head, *signals_tail;
};

static const char empty[] = "";

static const char *str(const char *s)
{
    return s ? s : empty;
}

/* ---- guards ---- */

static int require_activation(const tw_wf_instance *wf, const char *fn)
{
    if (!wf)
        return tw_set_error(TW_EINVAL, "%s: wf must not be NULL", fn);
    if (!wf->completion)
        return tw_set_error(TW_EINVAL, "%s: must be called from a workflow callback inside tw_wf_instance_activate",
                            fn);
    return 0;
}

/* Commands are refused while a query runs: queries must not change the workflow. */
static int require_command(tw_wf_instance *wf, const char *fn)
{
    int rc = require_activation(wf, fn);
    if (rc)
        return rc;
    if (wf->in_query) {
        wf->query_violation = true;
        return tw_set_error(TW_EINVAL, "%s: a query handler must not change the workflow", fn);
    }
    return 0;
}

/* ---- deferred notices ---- */

static void defer(tw_wf_instance *wf, deferred *d)
{
    if (wf->deferred_tail)
        wf->deferred_tail->next = d;
    else
        wf->deferred_head = d;
    wf->deferred_tail = d;
}

static tw_failure *cancelled_failure(const char *message)
{
    Temporal__Api__Failure__V1__Failure f = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    Temporal__Api__Failure__V1__CanceledFailureInfo info = TEMPORAL__API__FAILURE__V1__CANCELED_FAILURE_INFO__INIT;
    f.message = (char *)message;
    f.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO;
    f.canceled_failure_info = &info;
    return tw_failure_from_pb(&f);
}

/* Resolves op later with CANCELLED (timer cancellation) or COMPLETED (zero-length timer). */
static void defer_resolution(tw_wf_instance *wf, tw_op *op, int resolution)
{
    op->state = OP_RESOLVED;
    if (op->internal)
        return;
    deferred *d = calloc(1, sizeof(*d));
    if (!d)
        return;
    d->kind = DEFER_RESOLVE;
    d->op = op;
    d->resolution = resolution;
    if (resolution == TW_RESOLUTION_CANCELLED)
        d->failure = cancelled_failure("Timer cancelled");
    defer(wf, d);
}

/* Resolves op later with resolution and failure (taken). */
static void defer_failure(tw_wf_instance *wf, tw_op *op, int resolution, tw_failure *failure)
{
    op->state = OP_RESOLVED;
    deferred *d = calloc(1, sizeof(*d));
    if (!d) {
        tw_failure_destroy(failure);
        return;
    }
    d->kind = DEFER_RESOLVE;
    d->op = op;
    d->resolution = resolution;
    d->failure = failure;
    defer(wf, d);
}

/* Resolves op later as CANCELLED: it was started in a cancelled scope, so nothing was sent. */
static void defer_cancelled_before_start(tw_wf_instance *wf, tw_op *op)
{
    static const char *const messages[] = {
        [TW_OP_ACTIVITY] = "Activity cancelled before it was scheduled",
        [TW_OP_LOCAL_ACTIVITY] = "Local activity cancelled before it was scheduled",
        [TW_OP_CHILD_WORKFLOW] = "Child workflow cancelled before it was started",
        [TW_OP_SIGNAL_EXTERNAL] = "Signal cancelled before it was sent",
        [TW_OP_CANCEL_EXTERNAL] = "Cancellation request cancelled before it was sent",
    };
    defer_failure(wf, op, TW_RESOLUTION_CANCELLED, cancelled_failure(messages[op->kind]));
}

static bool deliver_deferred(tw_wf_instance *wf)
{
    bool any = false;
    while (wf->deferred_head) {
        deferred *d = wf->deferred_head;
        wf->deferred_head = d->next;
        if (!wf->deferred_head)
            wf->deferred_tail = NULL;
        any = true;
        if (d->kind == DEFER_RESOLVE && wf->cb.resolved)
            wf->cb.resolved(wf, d->op, d->op->tag, d->resolution, NULL, d->failure, wf->ud);
        else if (d->kind == DEFER_SCOPE_CANCELLED && wf->cb.scope_cancelled)
            wf->cb.scope_cancelled(wf, d->scope, d->scope->tag, wf->ud);
        tw_failure_destroy(d->failure);
        free(d);
    }
    return any;
}

/* ---- ops ---- */

static int space_of(int kind)
{
    switch (kind) {
    case TW_OP_TIMER: return SPACE_TIMER;
    case TW_OP_CHILD_WORKFLOW: return SPACE_CHILD;
    case TW_OP_SIGNAL_EXTERNAL: return SPACE_SIGNAL;
    case TW_OP_CANCEL_EXTERNAL: return SPACE_CANCEL_EXTERNAL;
    default: return SPACE_ACTIVITY;
    }
}

static tw_op **slot_for(tw_wf_instance *wf, int kind, uint32_t seq)
{
    op_table *t = &wf->tables[space_of(kind)];
    if (seq >= t->cap) {
        size_t n = t->cap ? t->cap * 2 : 16;
        while (n <= seq)
            n *= 2;
        tw_op **grown = realloc(t->ops, n * sizeof(*grown));
        if (!grown)
            return NULL;
        memset(grown + t->cap, 0, (n - t->cap) * sizeof(*grown));
        t->ops = grown;
        t->cap = n;
    }
    return &t->ops[seq];
}

static tw_op *op_new(tw_wf_instance *wf, tw_scope *scope, int kind, uint64_t tag)
{
    uint32_t seq = ++wf->tables[space_of(kind)].next_seq;
    tw_op **slot = slot_for(wf, kind, seq);
    tw_op *op = slot ? calloc(1, sizeof(*op)) : NULL;
    if (!op) {
        tw_set_error(TW_ENOMEM, "out of memory");
        return NULL;
    }
    *slot = op;
    op->wf = wf;
    op->scope = scope ? scope : wf->root;
    op->kind = kind;
    op->seq = seq;
    op->tag = tag;
    op->next_all = wf->all_ops;
    wf->all_ops = op;
    return op;
}

static tw_op *op_by_seq(tw_wf_instance *wf, int kind, uint32_t seq)
{
    const op_table *t = &wf->tables[space_of(kind)];
    return seq < t->cap ? t->ops[seq] : NULL;
}

static int start_timer(tw_wf_instance *wf, tw_scope *scope, const tw_timer_options *o, uint64_t tag, bool internal,
                       tw_op **out)
{
    tw_op *op = op_new(wf, scope, TW_OP_TIMER, tag);
    if (!op)
        return TW_ENOMEM;
    op->internal = internal;
    if (out)
        *out = op;
    if (op->scope->cancelled && !internal) {
        /* Work started in a cancelled scope is cancelled before it begins. */
        defer_resolution(wf, op, TW_RESOLUTION_CANCELLED);
        return 0;
    }
    if (o->duration_ms == 0) {
        /* The server rejects zero-length timers; such a timer simply fires now. */
        defer_resolution(wf, op, TW_RESOLUTION_COMPLETED);
        return 0;
    }
    int rc = tw_completion_start_timer_with_options(wf->completion, op->seq, o);
    if (rc)
        op->state = OP_RESOLVED;
    return rc;
}

/* A timer of the runtime's own (scope timeout, local activity backoff): a duration only. */
static int start_internal_timer(tw_wf_instance *wf, tw_scope *scope, int64_t duration_ms, tw_op **out)
{
    tw_timer_options o;
    tw_timer_options_init(&o);
    o.duration_ms = duration_ms;
    return start_timer(wf, scope, &o, 0, true, out);
}

static int start_user_timer(const char *fn, tw_wf_instance *wf, tw_scope *scope, const tw_timer_options *o,
                            uint64_t tag, tw_op **out)
{
    int rc = require_command(wf, fn);
    if (rc)
        return rc;
    if (o->duration_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: duration_ms must not be negative, got %lld", fn,
                            (long long)o->duration_ms);
    if (scope && scope->wf != wf)
        return tw_set_error(TW_EINVAL, "%s: scope belongs to another instance", fn);
    /* Checked here too: a zero-length timer sends no command that would check it. */
    if ((rc = tw_metadata_payload_check(fn, "options->summary", o->summary)))
        return rc;
    return start_timer(wf, scope, o, tag, false, out);
}

int tw_wf_start_timer(tw_wf_instance *wf, tw_scope *scope, int64_t duration_ms, uint64_t tag, tw_op **out)
{
    tw_timer_options o;
    tw_timer_options_init(&o);
    o.duration_ms = duration_ms;
    return start_user_timer("tw_wf_start_timer", wf, scope, &o, tag, out);
}

int tw_wf_start_timer_with_options(tw_wf_instance *wf, tw_scope *scope, const tw_timer_options *options,
                                   uint64_t tag, tw_op **out)
{
    static const char fn[] = "tw_wf_start_timer_with_options";
    if (!options || options->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: options is %s; call tw_timer_options_init first", fn,
                            options ? "not initialised" : "NULL");
    tw_timer_options o;
    tw_timer_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    return start_user_timer(fn, wf, scope, &o, tag, out);
}

typedef int (*schedule_fn)(tw_completion *c, uint32_t seq, const void *options);

static int schedule_remote(tw_completion *c, uint32_t seq, const void *options)
{
    return tw_completion_schedule_activity(c, seq, options);
}

static int schedule_local(tw_completion *c, uint32_t seq, const void *options)
{
    return tw_completion_schedule_local_activity(c, seq, options);
}

static int schedule_child(tw_completion *c, uint32_t seq, const void *options)
{
    return tw_completion_start_child_workflow(c, seq, options);
}

static int schedule_signal(tw_completion *c, uint32_t seq, const void *options)
{
    return tw_completion_signal_external_workflow(c, seq, options);
}

/* Target of a cancellation request (tw_wf_cancel_external). */
typedef struct cancel_target {
    const char *workflow_id;
    const char *run_id;
} cancel_target;

static int schedule_cancel_external(tw_completion *c, uint32_t seq, const void *options)
{
    const cancel_target *t = options;
    return tw_completion_request_cancel_external_workflow(c, seq, NULL, t->workflow_id, t->run_id);
}

/* Starts an op of kind whose command is issued by schedule (activities, children, externals). */
static int start_command_op(tw_wf_instance *wf, tw_scope *scope, int kind, schedule_fn schedule,
                            const void *options, uint64_t tag, tw_op **out, const char *fn)
{
    int rc = require_command(wf, fn);
    if (rc)
        return rc;
    if (scope && scope->wf != wf)
        return tw_set_error(TW_EINVAL, "%s: scope belongs to another instance", fn);
    tw_op *op = op_new(wf, scope, kind, tag);
    if (!op)
        return TW_ENOMEM;
    if (op->scope->cancelled) {
        /* Work started in a cancelled scope is cancelled before it begins. */
        if (out)
            *out = op;
        defer_cancelled_before_start(wf, op);
        return 0;
    }
    rc = schedule(wf->completion, op->seq, options);
    if (rc) {
        op->state = OP_RESOLVED;
        return rc;
    }
    if (out)
        *out = op;
    return 0;
}

int tw_wf_start_activity(tw_wf_instance *wf, tw_scope *scope, const tw_activity_options *options, uint64_t tag,
                         tw_op **out)
{
    return start_command_op(wf, scope, TW_OP_ACTIVITY, schedule_remote, options, tag, out, "tw_wf_start_activity");
}

static void la_retry_free(la_retry *r)
{
    if (!r)
        return;
    free(r->activity_id);
    free(r->activity_type);
    tw_payloads_free(r->args);
    tw_payloads_free(r->headers);
    tw_payloads_free(r->summary);
    for (size_t i = 0; r->non_retryable && r->non_retryable[i]; i++)
        free(r->non_retryable[i]);
    free(r->non_retryable);
    free(r);
}

/* A copy of o (a full-size struct) owning everything it points to; NULL when out of memory. */
static la_retry *la_retry_new(const tw_local_activity_options *o)
{
    la_retry *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->o = *o;
    size_t n = 0;
    while (o->retry_non_retryable_error_types && o->retry_non_retryable_error_types[n])
        n++;
    bool ok = (!o->activity_id || (r->activity_id = tw_strdup(o->activity_id))) &&
              (!o->activity_type || (r->activity_type = tw_strdup(o->activity_type))) &&
              (!o->args || (r->args = tw_payloads_copy(o->args))) &&
              (!o->headers || (r->headers = tw_payloads_copy(o->headers))) &&
              (!o->summary || (r->summary = tw_payloads_copy(o->summary))) &&
              (!n || (r->non_retryable = calloc(n + 1, sizeof(*r->non_retryable))));
    for (size_t i = 0; ok && i < n; i++)
        ok = (r->non_retryable[i] = tw_strdup(o->retry_non_retryable_error_types[i])) != NULL;
    if (!ok) {
        la_retry_free(r);
        return NULL;
    }
    r->o.activity_id = r->activity_id;
    r->o.activity_type = r->activity_type;
    r->o.args = r->args;
    r->o.headers = r->headers;
    r->o.summary = r->summary;
    r->o.retry_non_retryable_error_types = (const char *const *)r->non_retryable;
    return r;
}

int tw_wf_start_local_activity(tw_wf_instance *wf, tw_scope *scope, const tw_local_activity_options *options,
                               uint64_t tag, tw_op **out)
{
    static const char fn[] = "tw_wf_start_local_activity";
    if (!options || options->size < sizeof(size_t)) /* the completion says what is wrong */
        return start_command_op(wf, scope, TW_OP_LOCAL_ACTIVITY, schedule_local, options, tag, out, fn);
    /*
     * Scheduled from a full-size copy, kept for the retries after backoff
     * timers: a caller whose struct predates local_retry_threshold_ms gets
     * its default, since this runtime handles TW_RESOLUTION_BACKOFF itself.
     */
    tw_local_activity_options o;
    tw_local_activity_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    la_retry *copy = la_retry_new(&o);
    if (!copy)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    tw_op *op = NULL;
    int rc = start_command_op(wf, scope, TW_OP_LOCAL_ACTIVITY, schedule_local, &copy->o, tag, &op, fn);
    if (!rc && op && op->state != OP_RESOLVED)
        op->la = copy;
    else
        la_retry_free(copy);
    if (!rc && out)
        *out = op;
    return rc;
}

int tw_wf_start_child_workflow(tw_wf_instance *wf, tw_scope *scope, const tw_child_workflow_options *options,
                               uint64_t tag, tw_op **out)
{
    static const char fn[] = "tw_wf_start_child_workflow";
    if (options && options->size >= offsetof(tw_child_workflow_options, workflow_id) && options->namespace_ &&
        options->namespace_[0])
        return tw_set_error(TW_EINVAL, "%s: options->namespace_ must be NULL: a child runs in its parent's namespace",
                            fn);
    return start_command_op(wf, scope, TW_OP_CHILD_WORKFLOW, schedule_child, options, tag, out, fn);
}

const char *tw_op_child_run_id(const tw_op *op)
{
    return op ? str(op->child_run_id) : empty;
}

int tw_op_start_failed_cause(const tw_op *op)
{
    return op ? op->start_failed_cause : 0;
}

int tw_wf_signal_external(tw_wf_instance *wf, tw_scope *scope, const tw_signal_external_options *options,
                          uint64_t tag, tw_op **out)
{
    return start_command_op(wf, scope, TW_OP_SIGNAL_EXTERNAL, schedule_signal, options, tag, out,
                            "tw_wf_signal_external");
}

int tw_wf_cancel_external(tw_wf_instance *wf, tw_scope *scope, const char *workflow_id, const char *run_id,
                          uint64_t tag, tw_op **out)
{
    static const char fn[] = "tw_wf_cancel_external";
    if (!workflow_id || !workflow_id[0])
        return tw_set_error(TW_EINVAL, "%s: workflow_id must not be empty", fn);
    cancel_target target = {workflow_id, run_id};
    return start_command_op(wf, scope, TW_OP_CANCEL_EXTERNAL, schedule_cancel_external, &target, tag, out, fn);
}

/* ---- local activity backoffs (see the top of this file) ---- */

static void resolve(tw_wf_instance *wf, tw_op *op, int resolution, const tw_payloads *result,
                    const tw_failure *failure);

/* An application failure saying message (the runtime could not go on with a local activity). */
static tw_failure *runtime_failure(const char *message)
{
    Temporal__Api__Failure__V1__ApplicationFailureInfo info =
        TEMPORAL__API__FAILURE__V1__APPLICATION_FAILURE_INFO__INIT;
    Temporal__Api__Failure__V1__Failure f = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f.message = (char *)message;
    f.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO;
    f.application_failure_info = &info;
    return tw_failure_from_pb(&f);
}

/* Local activity op was cancelled while it waited to retry: worded as the engine words a cancellation. */
static tw_failure *backoff_cancelled_failure(const tw_op *op)
{
    char seq[16];
    snprintf(seq, sizeof(seq), "%u", op->seq);
    const la_retry *la = op->la;
    Temporal__Api__Common__V1__ActivityType type = TEMPORAL__API__COMMON__V1__ACTIVITY_TYPE__INIT;
    type.name = (char *)(la ? str(la->activity_type) : empty);
    Temporal__Api__Failure__V1__ActivityFailureInfo info = TEMPORAL__API__FAILURE__V1__ACTIVITY_FAILURE_INFO__INIT;
    info.activity_type = &type;
    info.activity_id = la && la->activity_id && la->activity_id[0] ? la->activity_id : seq;
    info.identity = (char *)empty;
    info.retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_CANCEL_REQUESTED;
    Temporal__Api__Failure__V1__CanceledFailureInfo canceled = TEMPORAL__API__FAILURE__V1__CANCELED_FAILURE_INFO__INIT;
    Temporal__Api__Failure__V1__Failure cause = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    cause.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_CANCELED_FAILURE_INFO;
    cause.canceled_failure_info = &canceled;
    Temporal__Api__Failure__V1__Failure f = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f.message = (char *)"Activity cancelled";
    f.failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_ACTIVITY_FAILURE_INFO;
    f.activity_failure_info = &info;
    f.cause = &cause;
    return tw_failure_from_pb(&f);
}

/* Cancels local activity op waiting on its backoff timer: the timer goes, op resolves CANCELLED at once. */
static int cancel_backoff(tw_wf_instance *wf, tw_op *op)
{
    tw_op *timer = op->backoff_timer;
    op->backoff_timer = NULL;
    timer->state = OP_RESOLVED;
    int rc = tw_completion_cancel_timer(wf->completion, timer->seq);
    defer_failure(wf, op, TW_RESOLUTION_CANCELLED, backoff_cancelled_failure(op));
    la_retry_free(op->la);
    op->la = NULL;
    return rc;
}

/*
 * TW_RESOLUTION_BACKOFF for local activity op (job j): a new seq for its
 * next attempt (the old one is over), and a timer of the backoff before it.
 */
static void la_backoff(tw_wf_instance *wf, tw_op *op, const tw_job *j)
{
    if (!op || op->state == OP_RESOLVED)
        return;
    if (op->cancel_requested) {
        /* Cancelled while its marker was awaited (replaying): it ends cancelled, not retried. */
        tw_failure *f = backoff_cancelled_failure(op);
        resolve(wf, op, TW_RESOLUTION_CANCELLED, NULL, f);
        tw_failure_destroy(f);
        return;
    }
    op_table *t = &wf->tables[SPACE_ACTIVITY];
    uint32_t seq = t->next_seq + 1;
    tw_op **slot = op->la ? slot_for(wf, TW_OP_LOCAL_ACTIVITY, seq) : NULL;
    tw_op *timer = slot ? op_new(wf, op->scope, TW_OP_TIMER, 0) : NULL;
    if (!timer) {
        tw_failure *f = runtime_failure("out of memory retrying a local activity after its backoff");
        resolve(wf, op, TW_RESOLUTION_FAILED, NULL, f ? f : tw_job_failure(j));
        tw_failure_destroy(f);
        return;
    }
    t->next_seq = seq;
    t->ops[op->seq] = NULL;
    t->ops[seq] = op;
    op->seq = seq;
    op->la->o.attempt = tw_job_attempt(j);
    op->la->o.original_schedule_time = tw_job_original_schedule_time(j);
    timer->internal = true;
    timer->backoff_of = op;
    op->backoff_timer = timer;
    int64_t backoff_ms = tw_job_backoff_ms(j);
    if (tw_completion_start_timer(wf->completion, timer->seq, backoff_ms > 0 ? backoff_ms : 1) != 0) {
        op->backoff_timer = NULL;
        timer->state = OP_RESOLVED;
        tw_failure *f = runtime_failure(tw_error_message(tw_error_last()));
        resolve(wf, op, TW_RESOLUTION_FAILED, NULL, f);
        tw_failure_destroy(f);
    }
}

/* The backoff timer of local activity op fired: its next attempt is scheduled. */
static void la_next_attempt(tw_wf_instance *wf, tw_op *op)
{
    op->backoff_timer = NULL;
    if (op->state == OP_RESOLVED || !op->la)
        return;
    if (tw_completion_schedule_local_activity(wf->completion, op->seq, &op->la->o) != 0) {
        tw_failure *f = runtime_failure(tw_error_message(tw_error_last()));
        resolve(wf, op, TW_RESOLUTION_FAILED, NULL, f);
        tw_failure_destroy(f);
    }
}

/* Cancels op on behalf of its scope or the binding. */
static int cancel_op(tw_op *op)
{
    tw_wf_instance *wf = op->wf;
    /* A backoff timer goes with its local activity (cancel_backoff). */
    if (op->state == OP_RESOLVED || op->cancel_requested || op->backoff_of)
        return 0;
    op->cancel_requested = true;
    if (op->backoff_timer)
        return cancel_backoff(wf, op);
    if (op->kind == TW_OP_TIMER) {
        int rc = tw_completion_cancel_timer(wf->completion, op->seq);
        defer_resolution(wf, op, TW_RESOLUTION_CANCELLED);
        return rc;
    }
    switch (op->kind) {
    case TW_OP_LOCAL_ACTIVITY: return tw_completion_request_cancel_local_activity(wf->completion, op->seq);
    /* The engine resolves children and signals as their state and cancellation type say. */
    case TW_OP_CHILD_WORKFLOW: return tw_completion_cancel_child_workflow(wf->completion, op->seq);
    case TW_OP_SIGNAL_EXTERNAL: return tw_completion_cancel_signal_external(wf->completion, op->seq);
    case TW_OP_CANCEL_EXTERNAL: return 0; /* a cancellation request cannot be taken back */
    default:
        /* The engine resolves the activity as its cancellation type says. */
        return tw_completion_request_cancel_activity(wf->completion, op->seq);
    }
}

int tw_op_cancel(tw_op *op)
{
    if (!op)
        return tw_set_error(TW_EINVAL, "tw_op_cancel: op must not be NULL");
    int rc = require_command(op->wf, "tw_op_cancel");
    return rc ? rc : cancel_op(op);
}

int tw_op_kind_of(const tw_op *op)
{
    return op ? op->kind : 0;
}

uint64_t tw_op_tag(const tw_op *op)
{
    return op ? op->tag : 0;
}

int tw_op_is_resolved(const tw_op *op)
{
    return op ? op->state == OP_RESOLVED : 1;
}

/* ---- scopes ---- */

static tw_scope *scope_new(tw_wf_instance *wf, tw_scope *parent, bool detached, uint64_t tag)
{
    tw_scope *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->wf = wf;
    s->parent = parent;
    s->detached = detached;
    s->tag = tag;
    s->next_all = wf->all_scopes;
    wf->all_scopes = s;
    if (parent) {
        s->next_sibling = parent->first_child;
        parent->first_child = s;
    }
    return s;
}

static void cancel_scope(tw_scope *s)
{
    tw_wf_instance *wf = s->wf;
    if (s->cancelled)
        return;
    s->cancelled = true;
    deferred *d = calloc(1, sizeof(*d));
    if (d) {
        d->kind = DEFER_SCOPE_CANCELLED;
        d->scope = s;
        defer(wf, d);
    }
    for (tw_op *op = wf->all_ops; op; op = op->next_all)
        if (op->scope == s)
            cancel_op(op);
    for (tw_scope *c = s->first_child; c; c = c->next_sibling)
        if (!c->detached)
            cancel_scope(c);
}

tw_scope *tw_wf_root_scope(tw_wf_instance *wf)
{
    return wf ? wf->root : NULL;
}

int tw_wf_scope_new(tw_wf_instance *wf, tw_scope *parent, int detached, int64_t timeout_ms, uint64_t tag,
                    tw_scope **out)
{
    static const char fn[] = "tw_wf_scope_new";
    if (!out)
        return tw_set_error(TW_EINVAL, "%s: out must not be NULL", fn);
    int rc = timeout_ms > 0 ? require_command(wf, fn) : (wf ? 0 : tw_set_error(TW_EINVAL, "%s: wf must not be NULL", fn));
    if (rc)
        return rc;
    if (timeout_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: timeout_ms must not be negative", fn);
    if (parent && parent->wf != wf)
        return tw_set_error(TW_EINVAL, "%s: parent belongs to another instance", fn);
    tw_scope *s = scope_new(wf, parent ? parent : wf->root, detached != 0, tag);
    if (!s)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    if (timeout_ms > 0 && (rc = start_internal_timer(wf, s, timeout_ms, &s->timeout_timer)) != 0)
        return rc;
    /* A scope made under a cancelled parent starts cancelled, as its parent's work would be. */
    if (s->parent && s->parent->cancelled && !s->detached && wf->completion)
        cancel_scope(s);
    *out = s;
    return 0;
}

int tw_scope_cancel(tw_scope *scope)
{
    if (!scope)
        return tw_set_error(TW_EINVAL, "tw_scope_cancel: scope must not be NULL");
    int rc = require_command(scope->wf, "tw_scope_cancel");
    if (rc)
        return rc;
    cancel_scope(scope);
    return 0;
}

int tw_scope_is_cancelled(const tw_scope *scope)
{
    return scope ? scope->cancelled : 0;
}

tw_scope *tw_scope_parent(const tw_scope *scope)
{
    return scope ? scope->parent : NULL;
}

/* ---- patches ---- */

static patch_rec *patch_find(patch_rec *list, const char *id)
{
    for (; list; list = list->next)
        if (strcmp(list->id, id) == 0)
            return list;
    return NULL;
}

static patch_rec *patch_add(patch_rec **list, const char *id, bool answer)
{
    patch_rec *p = calloc(1, sizeof(*p));
    if (!p || !(p->id = tw_strdup(id))) {
        free(p);
        return NULL;
    }
    p->answer = answer;
    p->next = *list;
    *list = p;
    return p;
}

static void patches_free(patch_rec *list)
{
    while (list) {
        patch_rec *next = list->next;
        free(list->id);
        free(list);
        list = next;
    }
}

/* Sets *answer to whether patch id applies (remembered); records its marker the first time the answer is yes. */
static int patch_decide(tw_wf_instance *wf, const char *id, bool deprecated, bool *answer, const char *fn)
{
    *answer = false;
    if (!wf)
        return tw_set_error(TW_EINVAL, "%s: wf must not be NULL", fn);
    if (!id || !id[0])
        return tw_set_error(TW_EINVAL, "%s: patch_id must not be empty", fn);
    /* Outside a callback even a remembered answer is refused (tw/workflow.h). */
    int rc = require_activation(wf, fn);
    if (rc)
        return rc;
    patch_rec *known = patch_find(wf->patches, id);
    if (known) {
        *answer = known->answer;
        return 0;
    }
    if (wf->in_query)
        return 0; /* a query may ask, but must not record anything */
    /* Deprecated: the old branch is gone, so the answer is yes whatever history says. */
    bool yes = deprecated || !wf->replaying || patch_find(wf->notified, id) != NULL;
    if (yes && (rc = tw_completion_set_patch_marker(wf->completion, id, deprecated)) != 0)
        return rc;
    if (!patch_add(&wf->patches, id, yes))
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    *answer = yes;
    return 0;
}

int tw_wf_patched(tw_wf_instance *wf, const char *patch_id)
{
    bool answer;
    return patch_decide(wf, patch_id, false, &answer, "tw_wf_patched") ? -1 : answer;
}

int tw_wf_deprecate_patch(tw_wf_instance *wf, const char *patch_id)
{
    bool answer;
    return patch_decide(wf, patch_id, true, &answer, "tw_wf_deprecate_patch");
}

/* ---- signals ---- */

static void buffer_signal(tw_wf_instance *wf, const char *name, const tw_payloads *args, const tw_payloads *headers)
{
    buffered_signal *b = calloc(1, sizeof(*b));
    if (!b)
        return;
    b->name = tw_strdup(name);
    b->args = tw_payloads_copy(args);
    b->headers = tw_payloads_copy(headers);
    if (wf->signals_tail)
        wf->signals_tail->next = b;
    else
        wf->signals_head = b;
    wf->signals_tail = b;
}

static void free_signal(buffered_signal *b)
{
    free(b->name);
    tw_payloads_free(b->args);
    tw_payloads_free(b->headers);
    free(b);
}

static void deliver_signal(tw_wf_instance *wf, const char *name, const tw_payloads *args,
                           const tw_payloads *headers)
{
    int handled = wf->cb.signal ? wf->cb.signal(wf, name, args, headers, wf->ud) : 1;
    if (!handled)
        buffer_signal(wf, name, args, headers);
}

int tw_wf_signal_handler_added(tw_wf_instance *wf, const char *name)
{
    int rc = require_command(wf, "tw_wf_signal_handler_added");
    if (rc)
        return rc;
    /* Take the matching signals out first: delivering may buffer them again. */
    buffered_signal *matched = NULL, **mtail = &matched, **link = &wf->signals_head;
    wf->signals_tail = NULL;
    while (*link) {
        buffered_signal *b = *link;
        if (!name || strcmp(b->name, name) == 0) {
            *link = b->next;
            b->next = NULL;
            *mtail = b;
            mtail = &b->next;
        } else {
            wf->signals_tail = b;
            link = &b->next;
        }
    }
    while (matched) {
        buffered_signal *b = matched;
        matched = b->next;
        deliver_signal(wf, b->name, b->args, b->headers);
        free_signal(b);
    }
    return 0;
}

/* ---- terminal commands ---- */

static int terminal(tw_wf_instance *wf, int rc)
{
    if (rc == 0)
        wf->done = true;
    return rc;
}

int tw_wf_complete(tw_wf_instance *wf, const tw_payloads *result)
{
    int rc = require_command(wf, "tw_wf_complete");
    return rc ? rc : terminal(wf, tw_completion_complete_workflow(wf->completion, result));
}

int tw_wf_fail(tw_wf_instance *wf, const char *message, const char *type, int non_retryable,
               const tw_payloads *details)
{
    int rc = require_command(wf, "tw_wf_fail");
    return rc ? rc
              : terminal(wf, tw_completion_fail_workflow(wf->completion, message, type, non_retryable, details));
}

int tw_wf_fail_encoded(tw_wf_instance *wf, const uint8_t *failure, size_t len)
{
    int rc = require_command(wf, "tw_wf_fail_encoded");
    return rc ? rc : terminal(wf, tw_completion_fail_workflow_encoded(wf->completion, failure, len));
}

int tw_wf_cancel(tw_wf_instance *wf, const tw_payloads *details)
{
    int rc = require_command(wf, "tw_wf_cancel");
    return rc ? rc : terminal(wf, tw_completion_cancel_workflow(wf->completion, details));
}

int tw_wf_continue_as_new(tw_wf_instance *wf, const tw_continue_as_new_options *options)
{
    int rc = require_command(wf, "tw_wf_continue_as_new");
    return rc ? rc : terminal(wf, tw_completion_continue_as_new(wf->completion, options));
}

/* ---- workflow properties ---- */

/* Appends a full copy of entry i of src (name and metadata included) to dst. */
static int copy_entry(tw_payloads *dst, const tw_payloads *src, size_t i)
{
    const uint8_t *data;
    size_t len, index;
    int rc = tw_payloads_data(src, i, &data, &len);
    if (!rc)
        rc = tw_payloads_add(dst, data, len, &index);
    if (!rc)
        rc = tw_payloads_set_name(dst, index, tw_payloads_name(src, i));
    for (size_t m = 0; !rc && m < tw_payloads_metadata_count(src, i); m++) {
        const char *key;
        const uint8_t *value;
        size_t vlen;
        rc = tw_payloads_metadata_at(src, i, m, &key, &value, &vlen);
        if (!rc)
            rc = tw_payloads_set_metadata(dst, index, key, value, vlen);
    }
    return rc;
}

static bool has_name(const tw_payloads *list, const char *name)
{
    for (size_t i = 0; i < tw_payloads_count(list); i++)
        if (strcmp(str(tw_payloads_name(list, i)), str(name)) == 0)
            return true;
    return false;
}

/* Replaces *current by *current with the named entries of updates upserted. */
static int merge_named(tw_payloads **current, const tw_payloads *updates)
{
    tw_payloads *merged;
    if (tw_payloads_new(&merged) != 0)
        return TW_ENOMEM;
    int rc = 0;
    for (size_t i = 0; !rc && i < tw_payloads_count(*current); i++)
        if (!has_name(updates, tw_payloads_name(*current, i)))
            rc = copy_entry(merged, *current, i);
    for (size_t i = 0; !rc && i < tw_payloads_count(updates); i++)
        rc = copy_entry(merged, updates, i);
    if (rc) {
        tw_payloads_free(merged);
        return rc;
    }
    tw_payloads_free(*current);
    *current = merged;
    return 0;
}

int tw_wf_upsert_search_attributes(tw_wf_instance *wf, const tw_payloads *attrs)
{
    static const char fn[] = "tw_wf_upsert_search_attributes";
    int rc = require_command(wf, fn);
    if (!rc)
        rc = tw_completion_upsert_search_attributes(wf->completion, attrs);
    if (!rc && merge_named(&wf->info.search_attributes, attrs) != 0)
        rc = tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    return rc;
}

int tw_wf_modify_memo(tw_wf_instance *wf, const tw_payloads *memo)
{
    static const char fn[] = "tw_wf_modify_memo";
    int rc = require_command(wf, fn);
    if (!rc)
        rc = tw_completion_modify_memo(wf->completion, memo);
    if (!rc && merge_named(&wf->info.memo, memo) != 0)
        rc = tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    return rc;
}

int tw_wf_fail_task(tw_wf_instance *wf, const char *message, const char *stack_trace)
{
    int rc = require_activation(wf, "tw_wf_fail_task");
    return rc ? rc : tw_completion_fail_task(wf->completion, message, stack_trace);
}

int tw_wf_is_done(const tw_wf_instance *wf)
{
    return wf ? wf->done : 0;
}

/* ---- jobs ---- */

static void copy_info(tw_wf_instance *wf, const tw_job *j)
{
    info *i = &wf->info;
    i->workflow_id = tw_strdup_or_empty(tw_job_workflow_id(j));
    i->workflow_type = tw_strdup_or_empty(tw_job_name(j));
    i->task_queue = tw_strdup_or_empty(tw_job_task_queue(j));
    i->parent_workflow_id = tw_strdup_or_empty(tw_job_parent_workflow_id(j));
    i->parent_run_id = tw_strdup_or_empty(tw_job_parent_run_id(j));
    i->parent_namespace = tw_strdup_or_empty(tw_job_parent_namespace(j));
    i->continued_run_id = tw_strdup_or_empty(tw_job_continued_from_run_id(j));
    i->cron_schedule = tw_strdup_or_empty(tw_job_cron_schedule(j));
    i->attempt = tw_job_attempt(j);
    i->start_time = tw_job_start_time(j);
    i->execution_timeout_ms = tw_job_execution_timeout_ms(j);
    i->run_timeout_ms = tw_job_run_timeout_ms(j);
    i->task_timeout_ms = tw_job_task_timeout_ms(j);
    i->memo = tw_payloads_copy(tw_job_memo(j));
    i->search_attributes = tw_payloads_copy(tw_job_search_attributes(j));
    i->last_completion_result =
        tw_job_last_completion_result(j) ? tw_payloads_copy(tw_job_last_completion_result(j)) : NULL;
    tw_priority_init(&i->priority);
    tw_job_priority(j, &i->priority);
    i->fairness_key = tw_strdup(i->priority.fairness_key);
    i->priority.fairness_key = i->fairness_key;
    wf->rng = tw_job_random_seed(j) | 1; /* xorshift needs a non-zero state */
}

static void run_query(tw_wf_instance *wf, const tw_job *j)
{
    tw_payloads *result = NULL;
    const char *error = NULL;
    if (tw_payloads_new(&result) != 0) {
        tw_completion_respond_query(wf->completion, tw_job_query_id(j), NULL, "out of memory");
        return;
    }
    wf->in_query = true;
    wf->query_violation = false;
    if (wf->cb.query)
        wf->cb.query(wf, tw_job_name(j), tw_job_args(j), tw_job_headers(j), result, &error, wf->ud);
    else
        error = "this workflow has no query handlers";
    wf->in_query = false;
    if (wf->query_violation && !error)
        error = "the query handler tried to change the workflow (queries are read-only)";
    tw_completion_respond_query(wf->completion, tw_job_query_id(j), error ? NULL : result, error);
    tw_payloads_free(result);
}

static void resolve(tw_wf_instance *wf, tw_op *op, int resolution, const tw_payloads *result,
                    const tw_failure *failure)
{
    if (!op || op->state == OP_RESOLVED)
        return;
    op->state = OP_RESOLVED;
    if (op->backoff_of) {
        la_next_attempt(wf, op->backoff_of);
        return;
    }
    la_retry_free(op->la);
    op->la = NULL;
    if (op->internal) {
        /* A scope's timeout fired: the scope is cancelled. */
        if (resolution == TW_RESOLUTION_COMPLETED)
            cancel_scope(op->scope);
        return;
    }
    if (wf->cb.resolved)
        wf->cb.resolved(wf, op, op->tag, resolution, result, failure, wf->ud);
}

/* A child workflow's start resolved: started (its outcome comes later), or failed / cancelled (final). */
static void child_start_resolved(tw_wf_instance *wf, const tw_job *j)
{
    tw_op *op = op_by_seq(wf, TW_OP_CHILD_WORKFLOW, tw_job_seq(j));
    if (!op || op->state == OP_RESOLVED)
        return;
    if (tw_job_resolution(j) != TW_RESOLUTION_COMPLETED) {
        op->start_failed_cause = tw_job_start_failed_cause(j);
        resolve(wf, op, tw_job_resolution(j), NULL, tw_job_failure(j));
        return;
    }
    free(op->child_run_id);
    op->child_run_id = tw_strdup(tw_job_child_run_id(j));
    if (wf->cb.child_started)
        wf->cb.child_started(wf, op, op->tag, str(op->child_run_id), wf->ud);
}

static void apply_job(tw_wf_instance *wf, const tw_job *j)
{
    switch (tw_job_kind_of(j)) {
    case TW_JOB_INITIALIZE:
        copy_info(wf, j);
        if (wf->cb.start)
            wf->cb.start(wf, tw_job_name(j), tw_job_args(j), wf->ud);
        break;
    case TW_JOB_FIRE_TIMER:
        resolve(wf, op_by_seq(wf, TW_OP_TIMER, tw_job_seq(j)), TW_RESOLUTION_COMPLETED, NULL, NULL);
        break;
    case TW_JOB_RESOLVE_LOCAL_ACTIVITY:
        if (tw_job_resolution(j) == TW_RESOLUTION_BACKOFF) {
            la_backoff(wf, op_by_seq(wf, TW_OP_LOCAL_ACTIVITY, tw_job_seq(j)), j);
            break;
        }
        /* fall through */
    case TW_JOB_RESOLVE_ACTIVITY:
        resolve(wf, op_by_seq(wf, TW_OP_ACTIVITY, tw_job_seq(j)), tw_job_resolution(j), tw_job_result(j),
                tw_job_failure(j));
        break;
    case TW_JOB_RESOLVE_CHILD_START:
        child_start_resolved(wf, j);
        break;
    case TW_JOB_RESOLVE_CHILD:
        resolve(wf, op_by_seq(wf, TW_OP_CHILD_WORKFLOW, tw_job_seq(j)), tw_job_resolution(j), tw_job_result(j),
                tw_job_failure(j));
        break;
    case TW_JOB_RESOLVE_SIGNAL_EXTERNAL:
        resolve(wf, op_by_seq(wf, TW_OP_SIGNAL_EXTERNAL, tw_job_seq(j)), tw_job_resolution(j), NULL,
                tw_job_failure(j));
        break;
    case TW_JOB_RESOLVE_CANCEL_EXTERNAL:
        resolve(wf, op_by_seq(wf, TW_OP_CANCEL_EXTERNAL, tw_job_seq(j)), tw_job_resolution(j), NULL,
                tw_job_failure(j));
        break;
    case TW_JOB_NOTIFY_HAS_PATCH:
        break; /* taken in before any job (tw_wf_instance_activate) */
    case TW_JOB_SIGNAL:
        deliver_signal(wf, tw_job_name(j), tw_job_args(j), tw_job_headers(j));
        break;
    case TW_JOB_QUERY:
        run_query(wf, j);
        break;
    case TW_JOB_CANCEL_WORKFLOW:
        if (wf->cb.cancel_requested)
            wf->cb.cancel_requested(wf, tw_job_name(j), wf->ud);
        cancel_scope(wf->root);
        break;
    case TW_JOB_UPDATE_RANDOM_SEED:
        wf->rng = tw_job_random_seed(j) | 1;
        break;
    case TW_JOB_REMOVE_FROM_CACHE:
        if (wf->cb.evict)
            wf->cb.evict(wf, tw_job_eviction_reason(j), tw_job_name(j), wf->ud);
        break;
    default:
        break;
    }
}

int tw_wf_instance_activate(tw_wf_instance *wf, const tw_activation *a, tw_completion **out)
{
    static const char fn[] = "tw_wf_instance_activate";
    if (!wf || !a || !out)
        return tw_set_error(TW_EINVAL, "%s: wf, activation and out must not be NULL", fn);
    *out = NULL;
    if (wf->completion)
        return tw_set_error(TW_EINVAL, "%s: called again from inside a callback", fn);
    const char *run_id = tw_activation_run_id(a);
    if (wf->info.run_id && strcmp(wf->info.run_id, run_id) != 0)
        return tw_set_error(TW_EINVAL, "%s: activation is for run %s, this instance runs %s", fn, run_id,
                            wf->info.run_id);
    if (!wf->info.run_id && !(wf->info.run_id = tw_strdup(run_id)))
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    int rc = tw_completion_new(run_id, &wf->completion);
    if (rc)
        return rc;
    /* An activation without jobs (a task whose events resolve nothing) is still a workflow task. */
    size_t job_count = tw_activation_job_count(a);
    bool queries_only = job_count > 0;
    for (size_t i = 0; i < job_count; i++) {
        const tw_job *j = tw_activation_job(a, i);
        int kind = tw_job_kind_of(j);
        if (kind != TW_JOB_QUERY && kind != TW_JOB_REMOVE_FROM_CACHE)
            queries_only = false;
        /*
         * Patch notifications come right after the initialize job, whose
         * start callback may already ask tw_wf_patched: take them in first.
         */
        if (kind == TW_JOB_NOTIFY_HAS_PATCH && !patch_find(wf->notified, tw_job_name(j)))
            patch_add(&wf->notified, tw_job_name(j), true);
    }
    /* Query and eviction activations carry no workflow time (timestamp 0): keep the last task's. */
    if (!queries_only) {
        wf->now = tw_activation_timestamp(a);
        wf->replaying = tw_activation_is_replaying(a) != 0;
    }
    for (size_t i = 0; i < tw_activation_job_count(a); i++)
        apply_job(wf, tw_activation_job(a, i));
    /* Run the workflow until it is blocked; resolutions made meanwhile wake it again. */
    if (!queries_only) {
        do {
            if (wf->cb.drain)
                wf->cb.drain(wf, wf->ud);
        } while (deliver_deferred(wf));
    }
    *out = wf->completion;
    wf->completion = NULL;
    return 0;
}

/* ---- lifetime ---- */

static const tw_wf_callbacks no_callbacks = {sizeof(tw_wf_callbacks), 0, 0, 0, 0, 0, 0, 0, 0, 0};

int tw_wf_instance_new(const tw_wf_callbacks *callbacks, void *user_data, tw_wf_instance **out)
{
    static const char fn[] = "tw_wf_instance_new";
    if (!out)
        return tw_set_error(TW_EINVAL, "%s: out must not be NULL", fn);
    *out = NULL;
    if (callbacks && callbacks->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: callbacks->size is %zu; set it to sizeof(tw_wf_callbacks)", fn,
                            callbacks->size);
    tw_wf_instance *wf = calloc(1, sizeof(*wf));
    if (!wf)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    wf->cb = no_callbacks;
    if (callbacks)
        tw_copy_options(&wf->cb, sizeof(wf->cb), callbacks);
    wf->ud = user_data;
    wf->rng = 0x9E3779B97F4A7C15ULL;
    if (!(wf->root = scope_new(wf, NULL, false, 0))) {
        free(wf);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    *out = wf;
    return 0;
}

void tw_wf_instance_free(tw_wf_instance *wf)
{
    if (!wf)
        return;
    tw_completion_free(wf->completion);
    for (tw_op *op = wf->all_ops; op;) {
        tw_op *next = op->next_all;
        free(op->child_run_id);
        la_retry_free(op->la);
        free(op);
        op = next;
    }
    for (tw_scope *s = wf->all_scopes; s;) {
        tw_scope *next = s->next_all;
        free(s);
        s = next;
    }
    while (wf->deferred_head) {
        deferred *d = wf->deferred_head;
        wf->deferred_head = d->next;
        tw_failure_destroy(d->failure);
        free(d);
    }
    while (wf->signals_head) {
        buffered_signal *b = wf->signals_head;
        wf->signals_head = b->next;
        free_signal(b);
    }
    info *i = &wf->info;
    char *strings[] = {i->workflow_id, i->run_id, i->workflow_type, i->task_queue, i->parent_workflow_id,
                       i->parent_run_id, i->parent_namespace, i->continued_run_id, i->cron_schedule,
                       i->fairness_key};
    for (size_t k = 0; k < sizeof(strings) / sizeof(strings[0]); k++)
        free(strings[k]);
    tw_payloads_free(i->memo);
    tw_payloads_free(i->search_attributes);
    tw_payloads_free(i->last_completion_result);
    for (size_t t = 0; t < SPACE_COUNT; t++)
        free(wf->tables[t].ops);
    patches_free(wf->patches);
    patches_free(wf->notified);
    free(wf);
}

/* ---- information ---- */

const char *tw_wf_workflow_id(const tw_wf_instance *wf) { return wf ? str(wf->info.workflow_id) : empty; }
const char *tw_wf_run_id(const tw_wf_instance *wf) { return wf ? str(wf->info.run_id) : empty; }
const char *tw_wf_workflow_type(const tw_wf_instance *wf) { return wf ? str(wf->info.workflow_type) : empty; }
const char *tw_wf_task_queue(const tw_wf_instance *wf) { return wf ? str(wf->info.task_queue) : empty; }
int32_t tw_wf_attempt(const tw_wf_instance *wf) { return wf ? wf->info.attempt : 0; }
int64_t tw_wf_start_time(const tw_wf_instance *wf) { return wf ? wf->info.start_time : 0; }
int64_t tw_wf_execution_timeout_ms(const tw_wf_instance *wf) { return wf ? wf->info.execution_timeout_ms : 0; }
int64_t tw_wf_run_timeout_ms(const tw_wf_instance *wf) { return wf ? wf->info.run_timeout_ms : 0; }
int64_t tw_wf_task_timeout_ms(const tw_wf_instance *wf) { return wf ? wf->info.task_timeout_ms : 0; }
const char *tw_wf_parent_workflow_id(const tw_wf_instance *wf) { return wf ? str(wf->info.parent_workflow_id) : empty; }
const char *tw_wf_parent_run_id(const tw_wf_instance *wf) { return wf ? str(wf->info.parent_run_id) : empty; }
const char *tw_wf_parent_namespace(const tw_wf_instance *wf) { return wf ? str(wf->info.parent_namespace) : empty; }
const char *tw_wf_continued_run_id(const tw_wf_instance *wf) { return wf ? str(wf->info.continued_run_id) : empty; }
const char *tw_wf_cron_schedule(const tw_wf_instance *wf) { return wf ? str(wf->info.cron_schedule) : empty; }
const tw_payloads *tw_wf_memo(const tw_wf_instance *wf) { return wf ? wf->info.memo : NULL; }
const tw_payloads *tw_wf_search_attributes(const tw_wf_instance *wf) { return wf ? wf->info.search_attributes : NULL; }
const tw_payloads *tw_wf_last_completion_result(const tw_wf_instance *wf)
{
    return wf ? wf->info.last_completion_result : NULL;
}
int tw_wf_priority(const tw_wf_instance *wf, tw_priority *out)
{
    static const char fn[] = "tw_wf_priority";
    if (!wf)
        return tw_set_error(TW_EINVAL, "%s: wf is NULL", fn);
    if (!out || out->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: out is %s; call tw_priority_init first", fn,
                            out ? "not initialised" : "NULL");
    size_t n = out->size < sizeof(wf->info.priority) ? out->size : sizeof(wf->info.priority);
    memcpy(out, &wf->info.priority, n);
    out->size = n;
    return 0;
}
int64_t tw_wf_now(const tw_wf_instance *wf) { return wf ? wf->now : 0; }
int tw_wf_is_replaying(const tw_wf_instance *wf) { return wf ? wf->replaying : 0; }

uint64_t tw_wf_random(tw_wf_instance *wf)
{
    if (!wf)
        return 0;
    /* xorshift64*: deterministic for a given seed, good enough for workflow ids and sampling. */
    uint64_t x = wf->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    wf->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}
