/*
 * C side of the Go example: the workflow runtime calls these functions,
 * which forward to the Go functions main.go exports (cgo cannot take the
 * address of a Go function directly, and its exports drop `const`).
 */
#include <tw/tw.h>

#include "_cgo_export.h"

static void on_start(tw_wf_instance *wf, const char *type, const tw_payloads *args, void *ud)
{
    (void)ud;
    goStart(wf, (char *)type, (tw_payloads *)args);
}

static void on_resolved(tw_wf_instance *wf, tw_op *op, uint64_t tag, int resolution, const tw_payloads *result,
                        const tw_failure *failure, void *ud)
{
    (void)op, (void)ud;
    goResolved(wf, tag, resolution, (tw_payloads *)result, (tw_failure *)failure);
}

static const tw_wf_callbacks callbacks = {
    .size = sizeof(tw_wf_callbacks),
    .start = on_start,
    .resolved = on_resolved,
};

const tw_wf_callbacks *go_callbacks(void)
{
    return &callbacks;
}
