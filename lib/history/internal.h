/*
 * lib/history/internal.h - what run.c, activation.c and completion.c share
 * inside the history module. Nothing outside lib/history includes it:
 * the rest of the library goes through history.h.
 */
#ifndef TW_LIB_HISTORY_INTERNAL_H
#define TW_LIB_HISTORY_INTERNAL_H

#include "common/pbbuild.h"
#include "history/history.h"

/* ---- activations (activation.c) ---- */

struct tw_job {
    const tw_activation *owner;   /* for the shared empty list */
    int kind;
    uint32_t seq;
    char *name;
    tw_payloads *args;
    tw_payloads *headers;
    char *query_id;
    int resolution;
    tw_payloads *result;
    tw_failure *failure;
    uint64_t random_seed;
    int eviction_reason;
    char *child_run_id;           /* TW_JOB_RESOLVE_CHILD_START, COMPLETED */
    int start_failed_cause;       /* TW_JOB_RESOLVE_CHILD_START, FAILED */
    int64_t backoff_ms;           /* TW_JOB_RESOLVE_LOCAL_ACTIVITY, BACKOFF */
    int64_t original_schedule_time; /* TW_JOB_RESOLVE_LOCAL_ACTIVITY, BACKOFF (ns) */
    /* TW_JOB_INITIALIZE details (workflow_id also for a child that could not start) */
    char *workflow_id;
    char *task_queue;
    int32_t attempt;
    char *first_execution_run_id;
    char *continued_from_run_id;
    char *parent_workflow_id;
    char *parent_run_id;
    char *parent_namespace;
    char *cron_schedule;
    int64_t execution_timeout_ms;
    int64_t run_timeout_ms;
    int64_t task_timeout_ms;
    int64_t start_time;
    tw_payloads *memo;
    tw_payloads *search_attributes;
    tw_payloads *last_completion_result;
    tw_failure *continued_failure;
    Temporal__Api__Common__V1__RetryPolicy *retry_policy; /* NULL: none */
    Temporal__Api__Common__V1__Priority *priority;        /* NULL: none */
};

struct tw_activation {
    char *run_id;
    int64_t timestamp;
    bool replaying;
    int64_t history_length;
    tw_job **jobs;
    size_t job_count;
    size_t job_cap;
    tw_payloads *empty;           /* returned where a list is absent but never NULL */
};

/* An activation with no jobs; NULL when out of memory. */
tw_activation *tw_activation_create(const char *run_id);
/* Appends a zeroed job of kind (owned by a); NULL when out of memory. */
tw_job *tw_activation_add_job(tw_activation *a, int kind);
/* Orders jobs as sdk-core does: initialize, patch notifications, random seed, signals, then the rest (stable). */
void tw_activation_sort_jobs(tw_activation *a);

/* ---- completions (completion.c) ---- */

/* What a command of a completion stands for, where its protobuf type alone does not say. */
enum tw_cmd_op {
    TW_CMD_PLAIN = 0,
    TW_CMD_CANCEL_CHILD,          /* pb: a RequestCancelExternalWorkflowExecution the run completes, or drops */
    TW_CMD_CANCEL_SIGNAL,         /* no pb: cancels signal seq */
    TW_CMD_PATCH                  /* pb: the core_patch RecordMarker of patch_id */
};

/* One command of a completion, with what the run needs to track it. */
typedef struct tw_cmd {
    tw_pb_command *pb;            /* NULL only for TW_CMD_CANCEL_SIGNAL */
    uint32_t seq;                 /* timers, activities, children, signals, cancellation requests */
    int cancellation_type;        /* tw_activity_cancellation_type, or tw_child_cancellation_type */
    bool local;                   /* a local activity: ScheduleActivityTask / RequestCancelActivityTask carry it */
    int op;                       /* enum tw_cmd_op */
    char *patch_id;               /* TW_CMD_PATCH (owned) */
    bool deprecated;              /* TW_CMD_PATCH */
    /* local activity schedules: what the ScheduleActivityTask protobuf has no field for */
    int32_t la_attempt;           /* the first attempt to run (>= 1) */
    int64_t la_original_schedule_ns; /* 0: when the worker takes it */
    int64_t la_retry_threshold_ms;   /* longer backoffs resolve TW_RESOLUTION_BACKOFF; -1: never */
} tw_cmd;

struct tw_completion {
    char *run_id;
    tw_cmd *cmds;
    size_t cmd_count;
    size_t cmd_cap;
    bool terminal;                /* a terminal command was added: later ones are dropped */
    bool task_failed;
    char *task_failure;
    char *task_failure_stack;
    char **query_ids;
    tw_payloads **query_results;
    char **query_failures;
    size_t query_count;
    size_t query_cap;
};

/* Whether a command type ends the run (complete, fail, cancel, continue-as-new). */
bool tw_command_is_terminal(int command_type);
/* Moves the query answers and the task failure of c into out (c keeps its commands). */
void tw_completion_move_answers(tw_completion *c, tw_run_output *out);

/* ---- markers (completion.c) ---- */

#define TW_LA_MARKER "core_local_activity"
#define TW_PATCH_MARKER "core_patch"
#define TW_PATCH_DETAILS_KEY "patch-data"   /* sdk-core's key for the patch marker's JSON data */

/* What this engine reads of a core_local_activity marker's "data". */
typedef struct tw_la_marker_info {
    uint32_t seq;
    int32_t attempt;              /* 1 when absent */
    bool has_complete_time;
    int64_t complete_time_ns;     /* {"seconds", "nanos"} (sdk-core) or an RFC 3339 string (earlier builds) */
    int64_t backoff_ms;           /* > 0: the attempt failed and the retry waits on a timer (TW_RESOLUTION_BACKOFF) */
    int64_t original_schedule_ns; /* 0 when absent */
} tw_la_marker_info;

/* Reads a core_local_activity marker's data; false when it has no readable seq. */
bool tw_la_marker_read(const Temporal__Api__History__V1__MarkerRecordedEventAttributes *m, tw_la_marker_info *out);

/* Appends s as a JSON string literal to buf (n: length so far, kept NUL-terminated; truncates). */
void tw_json_append_str(char *buf, size_t size, size_t *n, const char *s);
/* A Payloads holding one json/plain payload of json (copied); NULL with b->oom on failure. */
Temporal__Api__Common__V1__Payloads *tw_json_payloads(pb_build *b, const char *json);

#endif
