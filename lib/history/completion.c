/*
 * Completions: the language's answer to an activation. Each command is
 * built at once as the heap protobuf Command the worker will send, with
 * the seq (and, for activities, the cancellation type) beside it; the run
 * (run.c) fills in what only it knows (default task queue, scheduled event
 * ids) and matches the commands against history.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/internal.h"
#include "client/build.h" /* pb_retry_policy, check_retry_policy, pb_execution */

typedef Temporal__Api__Command__V1__Command pb_command;
typedef Temporal__Api__Failure__V1__Failure pb_failure;

#define CMD(name) TEMPORAL__API__ENUMS__V1__COMMAND_TYPE__COMMAND_TYPE_##name
#define ATTR(name) TEMPORAL__API__COMMAND__V1__COMMAND__ATTRIBUTES_##name##_COMMAND_ATTRIBUTES
#define CANCEL_EXTERNAL_ATTRS_DESC \
    temporal__api__command__v1__request_cancel_external_workflow_execution_command_attributes__descriptor

bool tw_command_is_terminal(int command_type)
{
    return command_type == CMD(COMPLETE_WORKFLOW_EXECUTION) || command_type == CMD(FAIL_WORKFLOW_EXECUTION) ||
           command_type == CMD(CANCEL_WORKFLOW_EXECUTION) || command_type == CMD(CONTINUE_AS_NEW_WORKFLOW_EXECUTION);
}

/* ---- lifetime ---- */

int tw_completion_new(const char *run_id, tw_completion **out)
{
    if (!out)
        return tw_set_error(TW_EINVAL, "tw_completion_new: out is NULL");
    *out = NULL;
    if (tw_str_empty(run_id))
        return tw_set_error(TW_EINVAL, "tw_completion_new: run_id is %s", run_id ? "empty" : "NULL");
    tw_completion *c = calloc(1, sizeof(*c));
    if (!c || !(c->run_id = tw_strdup(run_id))) {
        free(c);
        return tw_set_error(TW_ENOMEM, "tw_completion_new: out of memory");
    }
    *out = c;
    return 0;
}

static void free_commands(tw_completion *c)
{
    for (size_t i = 0; i < c->cmd_count; i++) {
        if (c->cmds[i].pb)
            protobuf_c_message_free_unpacked(&c->cmds[i].pb->base, NULL);
        free(c->cmds[i].patch_id);
    }
    free(c->cmds);
    c->cmds = NULL;
    c->cmd_count = c->cmd_cap = 0;
}

void tw_completion_free(tw_completion *c)
{
    if (!c)
        return;
    free_commands(c);
    for (size_t i = 0; i < c->query_count; i++) {
        free(c->query_ids[i]);
        tw_payloads_free(c->query_results[i]);
        free(c->query_failures[i]);
    }
    free(c->query_ids);
    free(c->query_results);
    free(c->query_failures);
    free(c->task_failure);
    free(c->task_failure_stack);
    free(c->run_id);
    free(c);
}

const char *tw_completion_run_id(const tw_completion *c)
{
    return c ? c->run_id : "";
}

/* ---- option structs ---- */

void tw_activity_options_init(tw_activity_options *options)
{
    if (options)
        *options = (tw_activity_options){.size = sizeof(*options), .cancellation_type = TW_ACTIVITY_CANCEL_TRY};
}

void tw_continue_as_new_options_init(tw_continue_as_new_options *options)
{
    if (options)
        *options = (tw_continue_as_new_options){.size = sizeof(*options)};
}

void tw_child_workflow_options_init(tw_child_workflow_options *options)
{
    if (options)
        *options = (tw_child_workflow_options){.size = sizeof(*options),
                                               .cancellation_type = TW_CHILD_CANCEL_WAIT_COMPLETED};
}

void tw_signal_external_options_init(tw_signal_external_options *options)
{
    if (options)
        *options = (tw_signal_external_options){.size = sizeof(*options)};
}

/* ---- helpers ---- */

static int check_handle(const char *fn, const tw_completion *c)
{
    if (!c)
        return tw_set_error(TW_EINVAL, "%s: c is NULL", fn);
    return 0;
}

/*
 * The preamble of the tw_completion_* calls that take an options struct:
 * c and options must be set, and options->size filled in (by init_fn, which
 * the message names). Then the caller's fields are copied over the defaults
 * the caller already put in *copy (copy_size bytes): fields newer than the
 * caller's struct keep them.
 */
static int take_options(const char *fn, const char *init_fn, const tw_completion *c, const void *options,
                        void *copy, size_t copy_size)
{
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (!options)
        return tw_set_error(TW_EINVAL, "%s: options is NULL", fn);
    size_t size = *(const size_t *)options;
    if (size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: options->size is %zu; call %s first", fn, size, init_fn);
    tw_copy_options(copy, copy_size, options);
    return 0;
}

static int check_text(const char *fn, const char *what, const char *s)
{
    if (s && !tw_utf8_valid(s, strlen(s)))
        return tw_set_error(TW_EINVAL, "%s: %s is not valid UTF-8", fn, what);
    return 0;
}

static int check_not_negative(const char *fn, const char *what, int64_t v)
{
    if (v < 0)
        return tw_set_error(TW_EINVAL, "%s: %s must not be negative, got %lld", fn, what, (long long)v);
    return 0;
}

/*
 * Whether seq names a command of this completion that is still open: a
 * start (timer, activity) not followed by its cancellation in the same
 * completion.
 */
static bool seq_open_here(const tw_completion *c, int start_type, int cancel_type, uint32_t seq)
{
    bool open = false;
    for (size_t i = 0; i < c->cmd_count; i++) {
        if (c->cmds[i].seq != seq || !c->cmds[i].pb || c->cmds[i].op != TW_CMD_PLAIN)
            continue;
        if ((int)c->cmds[i].pb->command_type == start_type)
            open = true;
        else if ((int)c->cmds[i].pb->command_type == cancel_type)
            open = false;
    }
    return open;
}

static char *seq_string(pb_build *b, uint32_t seq)
{
    char buf[16];
    snprintf(buf, sizeof(buf), "%u", seq);
    return pb_str(b, buf);
}

static pb_command *new_command(pb_build *b, int type)
{
    pb_command *cmd = pb_new(b, &temporal__api__command__v1__command__descriptor);
    if (cmd)
        cmd->command_type = (Temporal__Api__Enums__V1__CommandType)type;
    return cmd;
}

/*
 * Adds a built command (takes ownership of cmd; NULL for a command with no
 * protobuf of its own). Commands after a terminal one, or after the task
 * was failed, are dropped as sdk-core drops them.
 */
static int add_command(const char *fn, tw_completion *c, pb_build *b, pb_command *cmd, uint32_t seq,
                       int cancellation_type)
{
    if (b->oom) {
        if (cmd)
            protobuf_c_message_free_unpacked(&cmd->base, NULL);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    if (c->terminal || c->task_failed) {
        if (cmd)
            protobuf_c_message_free_unpacked(&cmd->base, NULL);
        return 0;
    }
    if (c->cmd_count == c->cmd_cap) {
        size_t cap = c->cmd_cap ? c->cmd_cap * 2 : 4;
        tw_cmd *cmds = realloc(c->cmds, cap * sizeof(*cmds));
        if (!cmds) {
            if (cmd)
                protobuf_c_message_free_unpacked(&cmd->base, NULL);
            return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
        }
        c->cmds = cmds;
        c->cmd_cap = cap;
    }
    c->cmds[c->cmd_count++] = (tw_cmd){.pb = cmd, .seq = seq, .cancellation_type = cancellation_type};
    if (cmd && tw_command_is_terminal((int)cmd->command_type))
        c->terminal = true;
    return 0;
}

/* The command add_command just added for cmd, or NULL when it was dropped. */
static tw_cmd *last_added(tw_completion *c, const pb_command *cmd)
{
    return c->cmd_count && c->cmds[c->cmd_count - 1].pb == cmd ? &c->cmds[c->cmd_count - 1] : NULL;
}

/* ---- timers ---- */

void tw_timer_options_init(tw_timer_options *options)
{
    if (options)
        *options = (tw_timer_options){.size = sizeof(*options)};
}

static int start_timer(const char *fn, tw_completion *c, uint32_t seq, const tw_timer_options *o)
{
    int rc;
    if (o->duration_ms <= 0)
        return tw_set_error(TW_EINVAL, "%s: duration_ms must be positive, got %lld", fn, (long long)o->duration_ms);
    if ((rc = tw_metadata_payload_check(fn, "options->summary", o->summary)))
        return rc;
    if (seq_open_here(c, CMD(START_TIMER), CMD(CANCEL_TIMER), seq))
        return tw_set_error(TW_EINVAL, "%s: seq %u is already used by a timer started in this completion", fn, seq);
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(START_TIMER));
    Temporal__Api__Command__V1__StartTimerCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__start_timer_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(START_TIMER);
        cmd->start_timer_command_attributes = a;
        cmd->user_metadata = pb_user_metadata(&b, o->summary, NULL);
        a->timer_id = seq_string(&b, seq);
        a->start_to_fire_timeout = pb_duration_ms(&b, o->duration_ms);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, seq, 0);
}

int tw_completion_start_timer(tw_completion *c, uint32_t seq, int64_t duration_ms)
{
    static const char fn[] = "tw_completion_start_timer";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    tw_timer_options o;
    tw_timer_options_init(&o);
    o.duration_ms = duration_ms;
    return start_timer(fn, c, seq, &o);
}

int tw_completion_start_timer_with_options(tw_completion *c, uint32_t seq, const tw_timer_options *options)
{
    static const char fn[] = "tw_completion_start_timer_with_options";
    tw_timer_options o;
    tw_timer_options_init(&o);
    int rc = take_options(fn, "tw_timer_options_init", c, options, &o, sizeof(o));
    return rc ? rc : start_timer(fn, c, seq, &o);
}

int tw_completion_cancel_timer(tw_completion *c, uint32_t seq)
{
    static const char fn[] = "tw_completion_cancel_timer";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(CANCEL_TIMER));
    Temporal__Api__Command__V1__CancelTimerCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__cancel_timer_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(CANCEL_TIMER);
        cmd->cancel_timer_command_attributes = a;
        a->timer_id = seq_string(&b, seq);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, seq, 0);
}

/* ---- activities ---- */

static int check_activity_options(const char *fn, const tw_activity_options *o, tw_priority *priority)
{
    int rc;
    if (tw_str_empty(o->activity_type))
        return tw_set_error(TW_EINVAL, "%s: options->activity_type is %s", fn, o->activity_type ? "empty" : "NULL");
    if ((rc = check_text(fn, "options->activity_type", o->activity_type)) ||
        (rc = check_text(fn, "options->activity_id", o->activity_id)) ||
        (rc = check_text(fn, "options->task_queue", o->task_queue)) ||
        (rc = check_not_negative(fn, "options->schedule_to_close_timeout_ms", o->schedule_to_close_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->schedule_to_start_timeout_ms", o->schedule_to_start_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->start_to_close_timeout_ms", o->start_to_close_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->heartbeat_timeout_ms", o->heartbeat_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->retry_initial_interval_ms", o->retry_initial_interval_ms)) ||
        (rc = check_not_negative(fn, "options->retry_maximum_interval_ms", o->retry_maximum_interval_ms)) ||
        (rc = check_not_negative(fn, "options->retry_maximum_attempts", o->retry_maximum_attempts)))
        return rc;
    if (o->start_to_close_timeout_ms == 0 && o->schedule_to_close_timeout_ms == 0)
        return tw_set_error(TW_EINVAL,
                            "%s: options needs start_to_close_timeout_ms or schedule_to_close_timeout_ms (both are 0)",
                            fn);
    if (o->retry_backoff_coefficient != 0 && !(o->retry_backoff_coefficient >= 1))
        return tw_set_error(TW_EINVAL, "%s: options->retry_backoff_coefficient must be >= 1, got %g", fn,
                            o->retry_backoff_coefficient);
    if (o->retry_maximum_interval_ms && o->retry_initial_interval_ms &&
        o->retry_maximum_interval_ms < o->retry_initial_interval_ms)
        return tw_set_error(TW_EINVAL, "%s: options->retry_maximum_interval_ms is below retry_initial_interval_ms",
                            fn);
    for (size_t i = 0; o->retry_non_retryable_error_types && o->retry_non_retryable_error_types[i]; i++) {
        if ((rc = check_text(fn, "options->retry_non_retryable_error_types", o->retry_non_retryable_error_types[i])))
            return rc;
    }
    if (o->cancellation_type < TW_ACTIVITY_CANCEL_TRY || o->cancellation_type > TW_ACTIVITY_CANCEL_ABANDON)
        return tw_set_error(TW_EINVAL, "%s: options->cancellation_type %d is not a tw_activity_cancellation_type",
                            fn, o->cancellation_type);
    if ((rc = tw_priority_take(fn, "options->priority", o->priority, priority)) ||
        (rc = tw_metadata_payload_check(fn, "options->summary", o->summary)))
        return rc;
    return tw_payloads_validate(o->headers, "tw_completion_schedule_activity: options->headers", true);
}

/* The retry policy given as flat activity options; NULL when every field is unset (server default). */
static Temporal__Api__Common__V1__RetryPolicy *activity_retry_policy(pb_build *b, const tw_activity_options *o)
{
    tw_retry_policy rp;
    tw_retry_policy_init(&rp);
    rp.initial_interval_ms = o->retry_initial_interval_ms;
    rp.backoff_coefficient = o->retry_backoff_coefficient;
    rp.maximum_interval_ms = o->retry_maximum_interval_ms;
    rp.maximum_attempts = o->retry_maximum_attempts;
    rp.non_retryable_error_types = o->retry_non_retryable_error_types;
    bool unset = !rp.initial_interval_ms && rp.backoff_coefficient == 0 && !rp.maximum_interval_ms &&
                 !rp.maximum_attempts && !(rp.non_retryable_error_types && rp.non_retryable_error_types[0]);
    return unset ? NULL : pb_retry_policy(b, &rp);
}

static Temporal__Api__Taskqueue__V1__TaskQueue *task_queue(pb_build *b, const char *name)
{
    if (tw_str_empty(name))
        return NULL;
    Temporal__Api__Taskqueue__V1__TaskQueue *q = pb_new(b, &temporal__api__taskqueue__v1__task_queue__descriptor);
    if (q) {
        q->name = pb_str(b, name);
        q->kind = TEMPORAL__API__ENUMS__V1__TASK_QUEUE_KIND__TASK_QUEUE_KIND_NORMAL;
    }
    return q;
}

int tw_completion_schedule_activity(tw_completion *c, uint32_t seq, const tw_activity_options *options)
{
    static const char fn[] = "tw_completion_schedule_activity";
    tw_activity_options o;
    tw_activity_options_init(&o);
    int rc = take_options(fn, "tw_activity_options_init", c, options, &o, sizeof(o));
    if (rc)
        return rc;
    tw_priority priority;
    if ((rc = check_activity_options(fn, &o, &priority)))
        return rc;
    if (seq_open_here(c, CMD(SCHEDULE_ACTIVITY_TASK), CMD(REQUEST_CANCEL_ACTIVITY_TASK), seq))
        return tw_set_error(TW_EINVAL, "%s: seq %u is already used by an activity scheduled in this completion", fn,
                            seq);

    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(SCHEDULE_ACTIVITY_TASK));
    Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__schedule_activity_task_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(SCHEDULE_ACTIVITY_TASK);
        cmd->schedule_activity_task_command_attributes = a;
        cmd->user_metadata = pb_user_metadata(&b, o.summary, NULL);
        a->activity_id = tw_str_empty(o.activity_id) ? seq_string(&b, seq) : pb_str(&b, o.activity_id);
        a->activity_type = pb_new(&b, &temporal__api__common__v1__activity_type__descriptor);
        if (a->activity_type)
            a->activity_type->name = pb_str(&b, o.activity_type);
        a->task_queue = task_queue(&b, o.task_queue);
        a->header = pb_header(&b, o.headers);
        a->input = pb_payloads(&b, o.args);
        a->schedule_to_close_timeout = pb_duration_ms(&b, o.schedule_to_close_timeout_ms);
        a->schedule_to_start_timeout = pb_duration_ms(&b, o.schedule_to_start_timeout_ms);
        a->start_to_close_timeout = pb_duration_ms(&b, o.start_to_close_timeout_ms);
        a->heartbeat_timeout = pb_duration_ms(&b, o.heartbeat_timeout_ms);
        a->retry_policy = activity_retry_policy(&b, &o);
        /* A wish: the worker keeps it only when it can run the activity itself (worker.c). */
        a->request_eager_execution = !o.no_eager_execution;
        a->priority = pb_priority(&b, &priority);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, seq, o.cancellation_type);
}

/* ---- local activities (carried as ScheduleActivityTask / RequestCancelActivityTask marked local) ---- */

void tw_local_activity_options_init(tw_local_activity_options *options)
{
    if (options)
        *options = (tw_local_activity_options){.size = sizeof(*options), .cancellation_type = TW_ACTIVITY_CANCEL_TRY};
}

#define DEFAULT_LOCAL_RETRY_THRESHOLD_MS 60000

/*
 * The threshold of lo (copied from options): a caller whose struct ends
 * before the field cannot handle TW_RESOLUTION_BACKOFF, so its retries all
 * stay in the worker (-1).
 */
static int64_t local_retry_threshold(const tw_local_activity_options *options, const tw_local_activity_options *lo)
{
    if (options->size < offsetof(tw_local_activity_options, local_retry_threshold_ms) + sizeof(int64_t))
        return -1;
    return lo->local_retry_threshold_ms > 0 ? lo->local_retry_threshold_ms : DEFAULT_LOCAL_RETRY_THRESHOLD_MS;
}

int tw_completion_schedule_local_activity(tw_completion *c, uint32_t seq, const tw_local_activity_options *options)
{
    static const char fn[] = "tw_completion_schedule_local_activity";
    tw_local_activity_options lo;
    tw_local_activity_options_init(&lo);
    int rc = take_options(fn, "tw_local_activity_options_init", c, options, &lo, sizeof(lo));
    if (rc)
        return rc;
    tw_activity_options o;
    tw_activity_options_init(&o);
    o.activity_id = lo.activity_id;
    o.activity_type = lo.activity_type;
    o.args = lo.args;
    o.headers = lo.headers;
    o.schedule_to_close_timeout_ms = lo.schedule_to_close_timeout_ms;
    o.schedule_to_start_timeout_ms = lo.schedule_to_start_timeout_ms;
    o.start_to_close_timeout_ms = lo.start_to_close_timeout_ms;
    o.retry_initial_interval_ms = lo.retry_initial_interval_ms;
    o.retry_backoff_coefficient = lo.retry_backoff_coefficient;
    o.retry_maximum_interval_ms = lo.retry_maximum_interval_ms;
    o.retry_maximum_attempts = lo.retry_maximum_attempts;
    o.retry_non_retryable_error_types = lo.retry_non_retryable_error_types;
    o.cancellation_type = lo.cancellation_type;
    o.summary = lo.summary;
    tw_priority unused;
    if ((rc = check_activity_options(fn, &o, &unused)) ||
        (rc = check_not_negative(fn, "options->local_retry_threshold_ms", lo.local_retry_threshold_ms)) ||
        (rc = check_not_negative(fn, "options->attempt", lo.attempt)) ||
        (rc = check_not_negative(fn, "options->original_schedule_time", lo.original_schedule_time)))
        return rc;
    for (size_t i = 0; i < c->cmd_count; i++) {
        if (c->cmds[i].local && c->cmds[i].seq == seq &&
            (int)c->cmds[i].pb->command_type == CMD(SCHEDULE_ACTIVITY_TASK))
            return tw_set_error(TW_EINVAL, "%s: seq %u is already used by a local activity scheduled in this "
                                           "completion", fn, seq);
    }
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(SCHEDULE_ACTIVITY_TASK));
    Temporal__Api__Command__V1__ScheduleActivityTaskCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__schedule_activity_task_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(SCHEDULE_ACTIVITY_TASK);
        cmd->schedule_activity_task_command_attributes = a;
        /* Not sent: the run moves it to the marker of the outcome. */
        cmd->user_metadata = pb_user_metadata(&b, o.summary, NULL);
        a->activity_id = tw_str_empty(o.activity_id) ? seq_string(&b, seq) : pb_str(&b, o.activity_id);
        a->activity_type = pb_new(&b, &temporal__api__common__v1__activity_type__descriptor);
        if (a->activity_type)
            a->activity_type->name = pb_str(&b, o.activity_type);
        a->header = pb_header(&b, o.headers);
        a->input = pb_payloads(&b, o.args);
        a->schedule_to_close_timeout = pb_duration_ms(&b, o.schedule_to_close_timeout_ms);
        a->schedule_to_start_timeout = pb_duration_ms(&b, o.schedule_to_start_timeout_ms);
        a->start_to_close_timeout = pb_duration_ms(&b, o.start_to_close_timeout_ms);
        a->retry_policy = activity_retry_policy(&b, &o);
    } else {
        free(a);
    }
    rc = add_command(fn, c, &b, cmd, seq, o.cancellation_type);
    tw_cmd *added = rc ? NULL : last_added(c, cmd);
    if (added) {
        added->local = true;
        added->la_attempt = lo.attempt > 0 ? lo.attempt : 1;
        added->la_original_schedule_ns = lo.original_schedule_time;
        added->la_retry_threshold_ms = local_retry_threshold(options, &lo);
    }
    return rc;
}

int tw_completion_request_cancel_local_activity(tw_completion *c, uint32_t seq)
{
    static const char fn[] = "tw_completion_request_cancel_local_activity";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(REQUEST_CANCEL_ACTIVITY_TASK));
    Temporal__Api__Command__V1__RequestCancelActivityTaskCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__request_cancel_activity_task_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(REQUEST_CANCEL_ACTIVITY_TASK);
        cmd->request_cancel_activity_task_command_attributes = a;
    } else {
        free(a);
    }
    rc = add_command(fn, c, &b, cmd, seq, 0);
    if (!rc && c->cmd_count && c->cmds[c->cmd_count - 1].pb == cmd)
        c->cmds[c->cmd_count - 1].local = true;
    return rc;
}

int tw_completion_request_cancel_activity(tw_completion *c, uint32_t seq)
{
    static const char fn[] = "tw_completion_request_cancel_activity";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(REQUEST_CANCEL_ACTIVITY_TASK));
    Temporal__Api__Command__V1__RequestCancelActivityTaskCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__request_cancel_activity_task_command_attributes__descriptor);
    if (cmd && a) {
        /* scheduled_event_id is filled in by the run, which knows it. */
        cmd->attributes_case = ATTR(REQUEST_CANCEL_ACTIVITY_TASK);
        cmd->request_cancel_activity_task_command_attributes = a;
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, seq, 0);
}

/* ---- closing the workflow ---- */

int tw_completion_complete_workflow(tw_completion *c, const tw_payloads *result)
{
    static const char fn[] = "tw_completion_complete_workflow";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(COMPLETE_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__CompleteWorkflowExecutionCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__complete_workflow_execution_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(COMPLETE_WORKFLOW_EXECUTION);
        cmd->complete_workflow_execution_command_attributes = a;
        a->result = pb_payloads(&b, result);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, 0, 0);
}

/* Adds a FailWorkflowExecution command carrying failure (takes ownership of it). */
static int add_fail_command(const char *fn, tw_completion *c, pb_build *b, pb_failure *failure)
{
    pb_command *cmd = new_command(b, CMD(FAIL_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__FailWorkflowExecutionCommandAttributes *a =
        pb_new(b, &temporal__api__command__v1__fail_workflow_execution_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(FAIL_WORKFLOW_EXECUTION);
        cmd->fail_workflow_execution_command_attributes = a;
        a->failure = failure;
    } else {
        free(a);
        if (failure)
            protobuf_c_message_free_unpacked(&failure->base, NULL);
    }
    return add_command(fn, c, b, cmd, 0, 0);
}

int tw_completion_fail_workflow(tw_completion *c, const char *message, const char *type, int non_retryable,
                                const tw_payloads *details)
{
    static const char fn[] = "tw_completion_fail_workflow";
    int rc = check_handle(fn, c);
    if (rc || (rc = check_text(fn, "message", message)) || (rc = check_text(fn, "type", type)))
        return rc;
    pb_build b = {false};
    pb_failure *f = pb_new(&b, &temporal__api__failure__v1__failure__descriptor);
    Temporal__Api__Failure__V1__ApplicationFailureInfo *info =
        pb_new(&b, &temporal__api__failure__v1__application_failure_info__descriptor);
    if (f && info) {
        f->message = pb_str(&b, message ? message : "");
        f->failure_info_case = TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_APPLICATION_FAILURE_INFO;
        f->application_failure_info = info;
        if (!tw_str_empty(type))
            info->type = pb_str(&b, type);
        info->non_retryable = non_retryable != 0;
        info->details = pb_payloads(&b, details);
    } else {
        free(info);
    }
    return add_fail_command(fn, c, &b, f);
}

int tw_completion_fail_workflow_encoded(tw_completion *c, const uint8_t *failure, size_t len)
{
    static const char fn[] = "tw_completion_fail_workflow_encoded";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (!failure || !len)
        return tw_set_error(TW_EINVAL, "%s: failure is %s", fn, failure ? "empty (len is 0)" : "NULL");
    pb_failure *f = temporal__api__failure__v1__failure__unpack(NULL, len, failure);
    if (!f)
        return tw_set_error(TW_EPROTO, "%s: failure (%zu bytes) is not a serialized Failure", fn, len);
    pb_build b = {false};
    return add_fail_command(fn, c, &b, f);
}

int tw_completion_cancel_workflow(tw_completion *c, const tw_payloads *details)
{
    static const char fn[] = "tw_completion_cancel_workflow";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(CANCEL_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__CancelWorkflowExecutionCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__cancel_workflow_execution_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(CANCEL_WORKFLOW_EXECUTION);
        cmd->cancel_workflow_execution_command_attributes = a;
        a->details = pb_payloads(&b, details);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, 0, 0);
}

/*
 * A retry policy given as flat option fields (children, continue-as-new):
 * checked, and *has_retry set when any field is set (otherwise the command
 * carries none).
 */
static int flat_retry_policy(const char *fn, int64_t initial_ms, double coefficient, int64_t maximum_ms,
                             int32_t attempts, const char *const *non_retryable, tw_retry_policy *rp, bool *has_retry)
{
    int rc;
    tw_retry_policy_init(rp);
    rp->initial_interval_ms = initial_ms;
    rp->backoff_coefficient = coefficient;
    rp->maximum_interval_ms = maximum_ms;
    rp->maximum_attempts = attempts;
    rp->non_retryable_error_types = non_retryable;
    *has_retry = initial_ms || coefficient != 0 || maximum_ms || attempts || (non_retryable && non_retryable[0]);
    if ((rc = check_retry_policy(fn, rp)))
        return rc;
    if (!(coefficient == 0 || coefficient >= 1)) /* NaN */
        return tw_set_error(TW_EINVAL, "%s: retry_policy.backoff_coefficient must be >= 1", fn);
    for (size_t i = 0; non_retryable && non_retryable[i]; i++)
        if ((rc = check_text(fn, "options->retry_non_retryable_error_types", non_retryable[i])))
            return rc;
    return 0;
}

static int check_continue_as_new(const char *fn, const tw_continue_as_new_options *o, tw_retry_policy *rp,
                                 bool *has_retry)
{
    int rc;
    if ((rc = flat_retry_policy(fn, o->retry_initial_interval_ms, o->retry_backoff_coefficient,
                                o->retry_maximum_interval_ms, o->retry_maximum_attempts,
                                o->retry_non_retryable_error_types, rp, has_retry)) ||
        (rc = check_text(fn, "options->workflow_type", o->workflow_type)) ||
        (rc = check_text(fn, "options->task_queue", o->task_queue)) ||
        (rc = check_not_negative(fn, "options->run_timeout_ms", o->run_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->task_timeout_ms", o->task_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->backoff_start_interval_ms", o->backoff_start_interval_ms)) ||
        (rc = tw_payloads_validate(o->memo, "tw_completion_continue_as_new: options->memo", true)) ||
        (rc = tw_payloads_validate(o->search_attributes, "tw_completion_continue_as_new: options->search_attributes",
                                   true)) ||
        (rc = tw_payloads_validate(o->headers, "tw_completion_continue_as_new: options->headers", true)))
        return rc;
    return 0;
}

int tw_completion_continue_as_new(tw_completion *c, const tw_continue_as_new_options *options)
{
    static const char fn[] = "tw_completion_continue_as_new";
    tw_continue_as_new_options o;
    tw_continue_as_new_options_init(&o);
    int rc = take_options(fn, "tw_continue_as_new_options_init", c, options, &o, sizeof(o));
    if (rc)
        return rc;
    tw_retry_policy rp;
    bool has_retry;
    if ((rc = check_continue_as_new(fn, &o, &rp, &has_retry)))
        return rc;

    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(CONTINUE_AS_NEW_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__ContinueAsNewWorkflowExecutionCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__continue_as_new_workflow_execution_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(CONTINUE_AS_NEW_WORKFLOW_EXECUTION);
        cmd->continue_as_new_workflow_execution_command_attributes = a;
        /* An empty type or queue is filled in by the run with its own. */
        if (!tw_str_empty(o.workflow_type)) {
            a->workflow_type = pb_new(&b, &temporal__api__common__v1__workflow_type__descriptor);
            if (a->workflow_type)
                a->workflow_type->name = pb_str(&b, o.workflow_type);
        }
        a->task_queue = task_queue(&b, o.task_queue);
        a->input = pb_payloads(&b, o.args);
        a->workflow_run_timeout = pb_duration_ms(&b, o.run_timeout_ms);
        a->workflow_task_timeout = pb_duration_ms(&b, o.task_timeout_ms);
        a->backoff_start_interval = pb_duration_ms(&b, o.backoff_start_interval_ms);
        a->memo = pb_memo(&b, o.memo);
        a->search_attributes = pb_search_attributes(&b, o.search_attributes);
        a->header = pb_header(&b, o.headers);
        a->retry_policy = has_retry ? pb_retry_policy(&b, &rp) : NULL;
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, 0, 0);
}

/* ---- workflow properties ---- */

int tw_completion_upsert_search_attributes(tw_completion *c, const tw_payloads *attrs)
{
    static const char fn[] = "tw_completion_upsert_search_attributes";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (!attrs)
        return tw_set_error(TW_EINVAL, "%s: attrs is NULL", fn);
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES));
    Temporal__Api__Command__V1__UpsertWorkflowSearchAttributesCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__upsert_workflow_search_attributes_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
        cmd->upsert_workflow_search_attributes_command_attributes = a;
        a->search_attributes = pb_search_attributes(&b, attrs);
        if (!a->search_attributes)
            a->search_attributes = pb_new(&b, &temporal__api__common__v1__search_attributes__descriptor);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, 0, 0);
}

int tw_completion_modify_memo(tw_completion *c, const tw_payloads *memo)
{
    static const char fn[] = "tw_completion_modify_memo";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (!memo)
        return tw_set_error(TW_EINVAL, "%s: memo is NULL", fn);
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(MODIFY_WORKFLOW_PROPERTIES));
    Temporal__Api__Command__V1__ModifyWorkflowPropertiesCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__modify_workflow_properties_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(MODIFY_WORKFLOW_PROPERTIES);
        cmd->modify_workflow_properties_command_attributes = a;
        a->upserted_memo = pb_memo(&b, memo);
        if (!a->upserted_memo)
            a->upserted_memo = pb_new(&b, &temporal__api__common__v1__memo__descriptor);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, 0, 0);
}

/* ---- child workflows ---- */

static int check_child_options(const char *fn, const tw_child_workflow_options *o, tw_retry_policy *rp,
                               bool *has_retry, tw_priority *priority)
{
    int rc;
    if (tw_str_empty(o->workflow_id))
        return tw_set_error(TW_EINVAL, "%s: options->workflow_id is %s", fn, o->workflow_id ? "empty" : "NULL");
    if (tw_str_empty(o->workflow_type))
        return tw_set_error(TW_EINVAL, "%s: options->workflow_type is %s", fn, o->workflow_type ? "empty" : "NULL");
    if ((rc = check_text(fn, "options->namespace_", o->namespace_)) ||
        (rc = check_text(fn, "options->workflow_id", o->workflow_id)) ||
        (rc = check_text(fn, "options->workflow_type", o->workflow_type)) ||
        (rc = check_text(fn, "options->task_queue", o->task_queue)) ||
        (rc = check_text(fn, "options->cron_schedule", o->cron_schedule)) ||
        (rc = check_not_negative(fn, "options->execution_timeout_ms", o->execution_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->run_timeout_ms", o->run_timeout_ms)) ||
        (rc = check_not_negative(fn, "options->task_timeout_ms", o->task_timeout_ms)))
        return rc;
    if (o->parent_close_policy < TW_PARENT_CLOSE_UNSPECIFIED || o->parent_close_policy > TW_PARENT_CLOSE_REQUEST_CANCEL)
        return tw_set_error(TW_EINVAL, "%s: options->parent_close_policy %d is not a tw_parent_close_policy", fn,
                            o->parent_close_policy);
    if (o->id_reuse_policy < TW_ID_REUSE_UNSPECIFIED || o->id_reuse_policy > TW_ID_REUSE_TERMINATE_IF_RUNNING)
        return tw_set_error(TW_EINVAL, "%s: options->id_reuse_policy %d is not a tw_id_reuse_policy", fn,
                            o->id_reuse_policy);
    if (o->cancellation_type < TW_CHILD_CANCEL_ABANDON || o->cancellation_type > TW_CHILD_CANCEL_WAIT_REQUESTED)
        return tw_set_error(TW_EINVAL, "%s: options->cancellation_type %d is not a tw_child_cancellation_type", fn,
                            o->cancellation_type);
    if ((rc = flat_retry_policy(fn, o->retry_initial_interval_ms, o->retry_backoff_coefficient,
                                o->retry_maximum_interval_ms, o->retry_maximum_attempts,
                                o->retry_non_retryable_error_types, rp, has_retry)))
        return rc;
    if ((rc = tw_payloads_validate(o->headers, "tw_completion_start_child_workflow: options->headers", true)) ||
        (rc = tw_payloads_validate(o->memo, "tw_completion_start_child_workflow: options->memo", true)) ||
        (rc = tw_payloads_validate(o->search_attributes,
                                   "tw_completion_start_child_workflow: options->search_attributes", true)) ||
        (rc = tw_priority_take(fn, "options->priority", o->priority, priority)) ||
        (rc = tw_metadata_payload_check(fn, "options->static_summary", o->static_summary)) ||
        (rc = tw_metadata_payload_check(fn, "options->static_details", o->static_details)))
        return rc;
    return 0;
}

/* Whether seq names a child started in this completion and not cancelled after. */
static bool child_open_here(const tw_completion *c, uint32_t seq)
{
    bool open = false;
    for (size_t i = 0; i < c->cmd_count; i++) {
        const tw_cmd *cmd = &c->cmds[i];
        if (cmd->seq != seq || !cmd->pb)
            continue;
        if (cmd->op == TW_CMD_PLAIN && (int)cmd->pb->command_type == CMD(START_CHILD_WORKFLOW_EXECUTION))
            open = true;
        else if (cmd->op == TW_CMD_CANCEL_CHILD)
            open = false;
    }
    return open;
}

int tw_completion_start_child_workflow(tw_completion *c, uint32_t seq, const tw_child_workflow_options *options)
{
    static const char fn[] = "tw_completion_start_child_workflow";
    tw_child_workflow_options o;
    tw_child_workflow_options_init(&o);
    int rc = take_options(fn, "tw_child_workflow_options_init", c, options, &o, sizeof(o));
    if (rc)
        return rc;
    tw_retry_policy rp;
    bool has_retry = false;
    tw_priority priority;
    if ((rc = check_child_options(fn, &o, &rp, &has_retry, &priority)))
        return rc;
    if (child_open_here(c, seq))
        return tw_set_error(TW_EINVAL, "%s: seq %u is already used by a child workflow started in this completion",
                            fn, seq);

    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(START_CHILD_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__StartChildWorkflowExecutionCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__start_child_workflow_execution_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(START_CHILD_WORKFLOW_EXECUTION);
        cmd->start_child_workflow_execution_command_attributes = a;
        a->namespace_ = pb_str(&b, o.namespace_ ? o.namespace_ : "");
        a->workflow_id = pb_str(&b, o.workflow_id);
        a->workflow_type = pb_new(&b, &temporal__api__common__v1__workflow_type__descriptor);
        if (a->workflow_type)
            a->workflow_type->name = pb_str(&b, o.workflow_type);
        /* An empty queue is filled in by the run with its own. */
        a->task_queue = task_queue(&b, o.task_queue);
        a->input = pb_payloads(&b, o.args);
        a->workflow_execution_timeout = pb_duration_ms(&b, o.execution_timeout_ms);
        a->workflow_run_timeout = pb_duration_ms(&b, o.run_timeout_ms);
        a->workflow_task_timeout = pb_duration_ms(&b, o.task_timeout_ms);
        a->parent_close_policy = (Temporal__Api__Enums__V1__ParentClosePolicy)o.parent_close_policy;
        a->workflow_id_reuse_policy = (Temporal__Api__Enums__V1__WorkflowIdReusePolicy)o.id_reuse_policy;
        a->retry_policy = has_retry ? pb_retry_policy(&b, &rp) : NULL;
        if (!tw_str_empty(o.cron_schedule))
            a->cron_schedule = pb_str(&b, o.cron_schedule);
        a->header = pb_header(&b, o.headers);
        a->memo = pb_memo(&b, o.memo);
        a->search_attributes = pb_search_attributes(&b, o.search_attributes);
        a->priority = pb_priority(&b, &priority);
        cmd->user_metadata = pb_user_metadata(&b, o.static_summary, o.static_details);
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, seq, o.cancellation_type);
}

int tw_completion_cancel_child_workflow(tw_completion *c, uint32_t seq)
{
    static const char fn[] = "tw_completion_cancel_child_workflow";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__RequestCancelExternalWorkflowExecutionCommandAttributes *a =
        pb_new(&b, &CANCEL_EXTERNAL_ATTRS_DESC);
    if (cmd && a) {
        /* The run fills in the child's namespace, workflow id and run id, or drops the request. */
        cmd->attributes_case = ATTR(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION);
        cmd->request_cancel_external_workflow_execution_command_attributes = a;
        a->child_workflow_only = true;
    } else {
        free(a);
    }
    rc = add_command(fn, c, &b, cmd, seq, 0);
    tw_cmd *added = rc ? NULL : last_added(c, cmd);
    if (added)
        added->op = TW_CMD_CANCEL_CHILD;
    return rc;
}

/* ---- other workflows ---- */

int tw_completion_signal_external_workflow(tw_completion *c, uint32_t seq, const tw_signal_external_options *options)
{
    static const char fn[] = "tw_completion_signal_external_workflow";
    tw_signal_external_options o;
    tw_signal_external_options_init(&o);
    int rc = take_options(fn, "tw_signal_external_options_init", c, options, &o, sizeof(o));
    if (rc)
        return rc;
    if (tw_str_empty(o.workflow_id))
        return tw_set_error(TW_EINVAL, "%s: options->workflow_id is %s", fn, o.workflow_id ? "empty" : "NULL");
    if (tw_str_empty(o.signal_name))
        return tw_set_error(TW_EINVAL, "%s: options->signal_name is %s", fn, o.signal_name ? "empty" : "NULL");
    if ((rc = check_text(fn, "options->namespace_", o.namespace_)) ||
        (rc = check_text(fn, "options->workflow_id", o.workflow_id)) ||
        (rc = check_text(fn, "options->run_id", o.run_id)) ||
        (rc = check_text(fn, "options->signal_name", o.signal_name)) ||
        (rc = tw_payloads_validate(o.headers, "tw_completion_signal_external_workflow: options->headers", true)))
        return rc;
    if (seq_open_here(c, CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION), -1, seq))
        return tw_set_error(TW_EINVAL, "%s: seq %u is already used by a signal sent in this completion", fn, seq);

    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__SignalExternalWorkflowExecutionCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__signal_external_workflow_execution_command_attributes__descriptor);
    if (cmd && a) {
        cmd->attributes_case = ATTR(SIGNAL_EXTERNAL_WORKFLOW_EXECUTION);
        cmd->signal_external_workflow_execution_command_attributes = a;
        a->namespace_ = pb_str(&b, o.namespace_ ? o.namespace_ : "");
        a->execution = pb_execution(&b, o.workflow_id, o.run_id ? o.run_id : "");
        a->signal_name = pb_str(&b, o.signal_name);
        a->input = pb_payloads(&b, o.args);
        a->header = pb_header(&b, o.headers);
        a->child_workflow_only = o.child_workflow_only != 0;
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, seq, 0);
}

int tw_completion_cancel_signal_external(tw_completion *c, uint32_t seq)
{
    static const char fn[] = "tw_completion_cancel_signal_external";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    pb_build b = {false};
    rc = add_command(fn, c, &b, NULL, seq, 0);
    tw_cmd *added = rc ? NULL : last_added(c, NULL);
    if (added)
        added->op = TW_CMD_CANCEL_SIGNAL;
    return rc;
}

int tw_completion_request_cancel_external_workflow(tw_completion *c, uint32_t seq, const char *namespace_,
                                                   const char *workflow_id, const char *run_id)
{
    static const char fn[] = "tw_completion_request_cancel_external_workflow";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (tw_str_empty(workflow_id))
        return tw_set_error(TW_EINVAL, "%s: workflow_id is %s", fn, workflow_id ? "empty" : "NULL");
    if ((rc = check_text(fn, "namespace_", namespace_)) || (rc = check_text(fn, "workflow_id", workflow_id)) ||
        (rc = check_text(fn, "run_id", run_id)))
        return rc;
    for (size_t i = 0; i < c->cmd_count; i++) {
        const tw_cmd *cmd = &c->cmds[i];
        if (cmd->seq == seq && cmd->op == TW_CMD_PLAIN && cmd->pb &&
            (int)cmd->pb->command_type == CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION))
            return tw_set_error(TW_EINVAL, "%s: seq %u is already used by a cancellation request of this completion",
                                fn, seq);
    }
    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION));
    Temporal__Api__Command__V1__RequestCancelExternalWorkflowExecutionCommandAttributes *a =
        pb_new(&b, &CANCEL_EXTERNAL_ATTRS_DESC);
    if (cmd && a) {
        cmd->attributes_case = ATTR(REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION);
        cmd->request_cancel_external_workflow_execution_command_attributes = a;
        a->namespace_ = pb_str(&b, namespace_ ? namespace_ : "");
        a->workflow_id = pb_str(&b, workflow_id);
        a->run_id = pb_str(&b, run_id ? run_id : "");
    } else {
        free(a);
    }
    return add_command(fn, c, &b, cmd, seq, 0);
}

/* ---- markers ---- */

void tw_json_append_str(char *buf, size_t size, size_t *n, const char *s)
{
    if (*n + 1 < size)
        buf[(*n)++] = '"';
    for (; *s && *n + 8 < size; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            buf[(*n)++] = '\\';
            buf[(*n)++] = (char)ch;
        } else if (ch < 0x20) {
            *n += (size_t)snprintf(buf + *n, size - *n, "\\u%04x", ch);
        } else {
            buf[(*n)++] = (char)ch;
        }
    }
    if (*n + 1 < size)
        buf[(*n)++] = '"';
    buf[*n] = '\0';
}

Temporal__Api__Common__V1__Payloads *tw_json_payloads(pb_build *b, const char *json)
{
    Temporal__Api__Common__V1__Payloads *ps = pb_new(b, &temporal__api__common__v1__payloads__descriptor);
    Temporal__Api__Common__V1__Payload *p = pb_new(b, &temporal__api__common__v1__payload__descriptor);
    Temporal__Api__Common__V1__Payload__MetadataEntry *m =
        pb_new(b, &temporal__api__common__v1__payload__metadata_entry__descriptor);
    if (!ps || !p || !m) {
        free(ps);
        free(p);
        free(m);
        return NULL;
    }
    ps->payloads = calloc(1, sizeof(*ps->payloads));
    p->metadata = calloc(1, sizeof(*p->metadata));
    if (!ps->payloads || !p->metadata) {
        b->oom = true;
        free(m);
        protobuf_c_message_free_unpacked(&p->base, NULL);
        return ps;
    }
    m->key = pb_str(b, "encoding");
    m->value = pb_bytes(b, (const uint8_t *)"json/plain", 10);
    p->metadata[0] = m;
    p->n_metadata = 1;
    p->data = pb_bytes(b, (const uint8_t *)json, strlen(json));
    ps->payloads[0] = p;
    ps->n_payloads = 1;
    return ps;
}

int tw_completion_set_patch_marker(tw_completion *c, const char *patch_id, int deprecated)
{
    static const char fn[] = "tw_completion_set_patch_marker";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (tw_str_empty(patch_id))
        return tw_set_error(TW_EINVAL, "%s: patch_id is %s", fn, patch_id ? "empty" : "NULL");
    if ((rc = check_text(fn, "patch_id", patch_id)))
        return rc;
    /* sdk-core's layout: details {"patch-data": [json/plain {"id": ..., "deprecated": ...}]}. */
    size_t size = strlen(patch_id) * 6 + 48;
    char *json = malloc(size);
    char *id = tw_strdup(patch_id);
    if (!json || !id) {
        free(json);
        free(id);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    size_t n = (size_t)snprintf(json, size, "{\"id\":");
    tw_json_append_str(json, size, &n, patch_id);
    snprintf(json + n, size - n, ",\"deprecated\":%s}", deprecated ? "true" : "false");

    pb_build b = {false};
    pb_command *cmd = new_command(&b, CMD(RECORD_MARKER));
    Temporal__Api__Command__V1__RecordMarkerCommandAttributes *a =
        pb_new(&b, &temporal__api__command__v1__record_marker_command_attributes__descriptor);
    Temporal__Api__Command__V1__RecordMarkerCommandAttributes__DetailsEntry *e =
        pb_new(&b, &temporal__api__command__v1__record_marker_command_attributes__details_entry__descriptor);
    if (cmd && a && e && (a->details = calloc(1, sizeof(*a->details)))) {
        cmd->attributes_case = ATTR(RECORD_MARKER);
        cmd->record_marker_command_attributes = a;
        a->marker_name = pb_str(&b, TW_PATCH_MARKER);
        e->key = pb_str(&b, TW_PATCH_DETAILS_KEY);
        e->value = tw_json_payloads(&b, json);
        if (!e->value)
            b.oom = true;
        a->details[0] = e;
        a->n_details = 1;
    } else {
        b.oom = true;
        free(a);
        free(e);
    }
    free(json);
    rc = add_command(fn, c, &b, cmd, 0, 0);
    tw_cmd *added = rc ? NULL : last_added(c, cmd);
    if (added) {
        added->op = TW_CMD_PATCH;
        added->patch_id = id;
        added->deprecated = deprecated != 0;
    } else {
        free(id);
    }
    return rc;
}

/* ---- queries and task failure ---- */

static bool grow_queries(tw_completion *c)
{
    if (c->query_count < c->query_cap)
        return true;
    size_t cap = c->query_cap ? c->query_cap * 2 : 2;
    char **ids = realloc(c->query_ids, cap * sizeof(*ids));
    if (ids)
        c->query_ids = ids;
    tw_payloads **results = realloc(c->query_results, cap * sizeof(*results));
    if (results)
        c->query_results = results;
    char **failures = realloc(c->query_failures, cap * sizeof(*failures));
    if (failures)
        c->query_failures = failures;
    if (!ids || !results || !failures)
        return false;
    c->query_cap = cap;
    return true;
}

int tw_completion_respond_query(tw_completion *c, const char *query_id, const tw_payloads *result,
                                const char *failure_message)
{
    static const char fn[] = "tw_completion_respond_query";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (tw_str_empty(query_id))
        return tw_set_error(TW_EINVAL, "%s: query_id is %s", fn, query_id ? "empty" : "NULL");
    if ((rc = check_text(fn, "failure_message", failure_message)))
        return rc;
    char *id = tw_strdup(query_id);
    char *failure = tw_strdup(failure_message);
    tw_payloads *copy = failure_message ? NULL : tw_payloads_copy(result);
    if (!id || (failure_message && !failure) || (!failure_message && !copy) || !grow_queries(c)) {
        free(id);
        free(failure);
        tw_payloads_free(copy);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    c->query_ids[c->query_count] = id;
    c->query_results[c->query_count] = copy;
    c->query_failures[c->query_count] = failure;
    c->query_count++;
    return 0;
}

int tw_completion_fail_task(tw_completion *c, const char *message, const char *stack_trace)
{
    static const char fn[] = "tw_completion_fail_task";
    int rc = check_handle(fn, c);
    if (rc)
        return rc;
    if (!message)
        return tw_set_error(TW_EINVAL, "%s: message is NULL", fn);
    if ((rc = check_text(fn, "message", message)) || (rc = check_text(fn, "stack_trace", stack_trace)))
        return rc;
    char *m = tw_strdup(message);
    char *s = tw_strdup(stack_trace);
    if (!m || (stack_trace && !s)) {
        free(m);
        free(s);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    free(c->task_failure);
    free(c->task_failure_stack);
    c->task_failure = m;
    c->task_failure_stack = s;
    c->task_failed = true;
    free_commands(c);
    return 0;
}

/* ---- output ---- */

void tw_completion_move_answers(tw_completion *c, tw_run_output *out)
{
    out->query_ids = c->query_ids;
    out->query_results = c->query_results;
    out->query_failures = c->query_failures;
    out->query_count = c->query_count;
    c->query_ids = NULL;
    c->query_results = NULL;
    c->query_failures = NULL;
    c->query_count = c->query_cap = 0;
    if (c->task_failed) {
        out->task_failure = c->task_failure;
        out->task_failure_stack = c->task_failure_stack;
        c->task_failure = c->task_failure_stack = NULL;
    }
}

/*
 * Query and eviction activations involve no run: their completions carry
 * only answers (a query must add no command, so commands are dropped).
 */
int tw_completion_take_output(tw_completion *c, tw_run_output *out)
{
    if (!out) {
        tw_completion_free(c);
        return tw_set_error(TW_EINVAL, "tw_completion_take_output: out is NULL");
    }
    memset(out, 0, sizeof(*out));
    if (!c)
        return tw_set_error(TW_EINVAL, "tw_completion_take_output: c is NULL");
    tw_completion_move_answers(c, out);
    tw_completion_free(c);
    return 0;
}

void tw_run_output_clear(tw_run_output *out)
{
    if (!out)
        return;
    for (size_t i = 0; i < out->command_count; i++)
        protobuf_c_message_free_unpacked(&out->commands[i]->base, NULL);
    free(out->commands);
    free(out->task_failure);
    free(out->task_failure_stack);
    for (size_t i = 0; i < out->query_count; i++) {
        free(out->query_ids[i]);
        tw_payloads_free(out->query_results[i]);
        free(out->query_failures[i]);
    }
    free(out->query_ids);
    free(out->query_results);
    free(out->query_failures);
    memset(out, 0, sizeof(*out));
}
