/* lib/client - WorkflowService calls behind tw_client. Private to the library. */
#ifndef TW_LIB_CLIENT_H
#define TW_LIB_CLIENT_H

#include "common/common.h"
#include "rpc/runtime.h"

typedef struct eager_registry eager_registry;

struct tw_client {
    tw_runtime *rt;
    tw_rpc_channel *ch;
    char *namespace_name;
    char *identity;
    int64_t rpc_timeout_ms;
    int64_t connect_timeout_ms;
    /* tw_client_with_call_options */
    bool derived;                  /* shares ch with the client it came from: holds a reference, never closes it */
    tw_rpc_metadata *call_md;      /* headers added to every call of this client, or NULL */
    int64_t long_poll_timeout_ms;  /* deadline of each long-poll try; 0: 70 s */
    eager_registry *eager;         /* workers that take eagerly started workflows; shared with derived clients */
};

/*
 * Eager workflow start (eager.c). A worker that runs workflows registers an
 * eager_target with its client's registry. A start call with
 * request_eager_start asks the registry for a target with the same
 * namespace and task queue whose reserve succeeds (it takes a free
 * workflow-task slot and keeps the target alive), asks the server to answer
 * with the first workflow task, and ends the reservation with exactly one
 * deliver: the task (ownership passes), or NULL when none came.
 */
typedef struct eager_target eager_target;
struct eager_target {
    const char *namespace_name;
    const char *task_queue;
    bool (*reserve)(eager_target *t);
    void (*deliver)(eager_target *t, Temporal__Api__Workflowservice__V1__PollWorkflowTaskQueueResponse *task);
    eager_target *next;            /* registry's list */
};

eager_registry *eager_registry_new(void);
eager_registry *eager_registry_ref(eager_registry *r);
void eager_registry_unref(eager_registry *r);
void eager_registry_add(eager_registry *r, eager_target *t);
/* After it returns no reserve of t runs or will run. */
void eager_registry_remove(eager_registry *r, eager_target *t);
/* A target that reserved a slot, or NULL. */
eager_target *eager_registry_reserve(eager_registry *r, const char *namespace_name, const char *task_queue);

/*
 * One asynchronous client operation: the event it will deliver, the queue
 * it goes to, and whatever a multi-step operation (connect, result) needs
 * to issue its next call. Lives until the event is pushed.
 */
typedef struct client_op client_op;
typedef void (*client_step_fn)(client_op *op, tw_rpc_reply *reply);

struct client_op {
    tw_rpc_channel *ch;
    tw_cq *cq;
    tw_event *ev;
    client_step_fn step;
    char *namespace_name;
    char *workflow_id;
    char *run_id;
    int64_t timeout_ms;
    int64_t budget_ms;
    bool follow_runs;
    uint8_t *token;
    size_t token_len;
    bool deadline_is_final;    /* see tw_rpc_request */
    tw_rpc_metadata *md;       /* the client's call metadata (a reference), or NULL */
    int64_t long_poll_timeout_ms;
    uint64_t tag;              /* with cq: the cancel key of every call of the op (tw_client_cancel_call) */
    eager_target *eager;       /* start with request_eager_start: the reserved target, until delivered */
};

/* Makes an op for client that will complete into cq; NULL on ENOMEM (error set). */
client_op *client_op_new(tw_client *client, int kind, tw_cq *cq, uint64_t tag, client_step_fn step);
/* Starts a call for op; on failure the op is NOT consumed and the error is set. */
int client_op_call(client_op *op, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *resp, int retry);
/*
 * First call of an op: registers it with its queue and starts the call. On
 * failure the op is freed and the error set; on success it completes later.
 */
int client_op_start(client_op *op, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp, int retry);
/* Delivers op's event (failed with err when err is not NULL) and frees op. */
void client_op_finish(client_op *op, const tw_error *err);
/* Frees an op whose call never started. */
void client_op_abort(client_op *op);

/* Result builders (results.c). */
/* user_metadata: describe's execution_config.user_metadata (NULL for listed executions). */
tw_execution *tw_execution_from_pb(const Temporal__Api__Workflow__V1__WorkflowExecutionInfo *info,
                                   const Temporal__Api__Sdk__V1__UserMetadata *user_metadata);
tw_history *tw_history_take(Temporal__Api__History__V1__History *pb);

/* Shared argument checks: TW_EINVAL naming fn and field. */
int check_required(const char *fn, const char *field, const char *value);
int check_utf8(const char *fn, const char *field, const char *value);

#endif
