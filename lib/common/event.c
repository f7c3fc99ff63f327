/* Events: the result of one asynchronous operation. */
#include <stdlib.h>

#include "common/common.h"

tw_event *tw_event_create(int kind, uint64_t tag)
{
    tw_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return NULL;
    ev->kind = kind;
    ev->tag = tag;
    return ev;
}

void tw_event_fail(tw_event *ev, const tw_error *err)
{
    tw_error_destroy(ev->error);
    ev->error = err ? tw_error_copy(err) : NULL;
    if (ev->error) {
        ev->status = err->code;
    } else {
        ev->error = tw_error_create(TW_ENOMEM, 0, "out of memory");
        ev->status = TW_ENOMEM;
    }
}

void tw_event_free(tw_event *ev)
{
    if (!ev)
        return;
    tw_error_destroy(ev->error);
    free(ev->run_id);
    tw_payloads_free(ev->payloads);
    tw_failure_destroy(ev->failure);
    for (size_t i = 0; i < ev->execution_count; i++)
        tw_execution_destroy(ev->executions[i]);
    free(ev->executions);
    tw_history_destroy(ev->history);
    free(ev->token);
    tw_activation_free(ev->activation);
    tw_activity_task_free(ev->activity_task);
    free(ev);
}

uint64_t tw_event_tag(const tw_event *ev)
{
    return ev ? ev->tag : 0;
}

int tw_event_kind_of(const tw_event *ev)
{
    return ev ? ev->kind : 0;
}

int tw_event_status(const tw_event *ev)
{
    return ev ? ev->status : TW_EINVAL;
}

const tw_error *tw_event_error(const tw_event *ev)
{
    static const tw_error none = {0};
    return ev && ev->error ? ev->error : &none;
}
