/*
 * tw/replay.h - the replayer: runs recorded workflow histories through the
 * workflow engine with no server, to check that workflow code still makes
 * the decisions its histories recorded.
 *
 * Add one or many histories (the proto3 JSON that `temporal workflow show
 * --output json` prints, the tctl-era JSON, or a serialized
 * temporal.api.history.v1.History), then drive the replayer like a worker,
 * synchronously: tw_replayer_next_activation hands out the next activation,
 * the language runs the workflow code and answers with
 * tw_replayer_complete. Histories are replayed one after the other, in the
 * order they were added; one activation at a time is outstanding. Each
 * history ends with an eviction activation (TW_JOB_REMOVE_FROM_CACHE, to be
 * answered with an empty completion) so the language drops the run's
 * state, except when the history failed before its first activation. Its
 * reason is TW_EVICTION_REPLAY_FINISHED after a clean replay, else
 * TW_EVICTION_NONDETERMINISM, TW_EVICTION_WORKFLOW_TASK_FAILED or
 * TW_EVICTION_FATAL, with the result's message.
 *
 * Only workflow tasks that history records as started get an activation;
 * commands are matched against the command events that follow each
 * WorkflowTaskCompleted, exactly as a worker does on a cache miss. A
 * history whose last workflow task was started but not completed ends
 * with a non-replaying activation whose commands are not checked.
 *
 * Every history yields one result (tw_replayer_result_*), recorded when
 * its replay ends, before its eviction activation is handed out.
 *
 * A replayer has no lock: call its functions from one thread at a time.
 * Run ids come from each history's WorkflowExecutionStarted event
 * (original_execution_run_id), or are "replay-N" for the Nth history added
 * when that event records none.
 */
#ifndef TW_REPLAY_H
#define TW_REPLAY_H

#include "activation.h"
#include "common.h"

TW_BEGIN_DECLS

typedef struct tw_replayer tw_replayer;

/* How the replay of one history ended. */
typedef enum tw_replay_status {
    TW_REPLAY_OK = 1,               /* the workflow made the decisions history recorded */
    TW_REPLAY_NONDETERMINISTIC = 2, /* message: the event id, what history has, what the workflow produced */
    TW_REPLAY_FAILED = 3            /* the workflow failed its task (tw_completion_fail_task), the
                                       completion was invalid, or the engine could not process the
                                       history; message says which */
} tw_replay_status;

/* Creates an empty replayer. Returns 0, TW_EINVAL (out is NULL) or TW_ENOMEM. */
TW_API int tw_replayer_new(tw_replayer **out);

/* Frees the replayer, its histories and its results; activations handed out stay valid. NULL is a no-op. */
TW_API void tw_replayer_free(tw_replayer *r);

/*
 * Adds a history in proto3 JSON: a JSON object whose "events" member is the
 * array of HistoryEvent objects, as `temporal workflow show --output json`
 * prints it and tw_history_to_json makes. tctl-era files (enum values
 * written "WorkflowExecutionStarted", "Normal", ...) are read too; unknown
 * fields are ignored. json is len bytes, need not be NUL-terminated, and is
 * not kept.
 *
 * workflow_id is the workflow's id, reported in results and given to the
 * workflow in TW_JOB_INITIALIZE instead of the id the started event
 * records; NULL or "": the started event's (older servers recorded none:
 * then "").
 *
 * Returns 0; TW_EINVAL for a NULL r or json or len 0; TW_EPROTO when the
 * text is not a history, with a message saying what is wrong: "history is
 * not valid JSON (near byte N)", "history is not a JSON object", "history
 * has no 'events' array", the JSON path of a bad field
 * ("events[3].eventTime: not an RFC 3339 timestamp: ..."), "history has no
 * events", a first event that is not WorkflowExecutionStarted, or a gap in
 * event ids; TW_ENOMEM. On error nothing is added.
 */
TW_API int tw_replayer_add_history_json(tw_replayer *r, const char *workflow_id, const char *json, size_t len);

/*
 * Adds a history given as a serialized temporal.api.history.v1.History
 * (bytes is len bytes, not kept). workflow_id as for
 * tw_replayer_add_history_json. Returns 0; TW_EINVAL for a NULL r or
 * bytes; TW_EPROTO when bytes are not such a message, or for the history
 * errors listed above; TW_ENOMEM.
 */
TW_API int tw_replayer_add_history_binary(tw_replayer *r, const char *workflow_id, const uint8_t *bytes,
                                          size_t len);

/*
 * Hands out the next activation; the caller owns it (tw_activation_free)
 * and answers it with tw_replayer_complete. Returns 0 with *out set;
 * TW_EAGAIN when the last activation handed out awaits its completion;
 * TW_ECLOSED when every history added so far has been replayed (adding
 * another makes activations come again); TW_EINVAL for NULL arguments;
 * TW_ENOMEM.
 */
TW_API int tw_replayer_next_activation(tw_replayer *r, tw_activation **out);

/*
 * Answers the outstanding activation; takes ownership of c, also on
 * error. A completion that fails the task (tw_completion_fail_task) ends
 * the history's replay as TW_REPLAY_FAILED with the task failure's
 * message; commands that do not match history end it as
 * TW_REPLAY_NONDETERMINISTIC. Either way the call returns 0 and the next
 * activation is the history's eviction.
 *
 * Returns 0; TW_EINVAL for a NULL argument, when no activation is
 * outstanding, or when c is for another run than the outstanding
 * activation (the activation then stays outstanding); TW_ENOMEM.
 */
TW_API int tw_replayer_complete(tw_replayer *r, tw_completion *c);

/* Number of histories whose replay has ended (results, in the order histories were added). */
TW_API size_t tw_replayer_result_count(const tw_replayer *r);

/*
 * Result index (below tw_replayer_result_count): the workflow id, the run
 * id, the tw_replay_status, and the message ("" for TW_REPLAY_OK). Strings
 * are borrowed until tw_replayer_free. For a bad index or NULL r: NULL,
 * NULL, 0, NULL.
 */
TW_API const char *tw_replayer_result_workflow_id(const tw_replayer *r, size_t index);
TW_API const char *tw_replayer_result_run_id(const tw_replayer *r, size_t index);
TW_API int tw_replayer_result_status(const tw_replayer *r, size_t index);
TW_API const char *tw_replayer_result_message(const tw_replayer *r, size_t index);

TW_END_DECLS

#endif
