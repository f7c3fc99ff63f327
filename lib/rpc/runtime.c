/*
 * tw_runtime: the transport loop plus the log sink, reference counted so
 * that clients made from it keep it alive until they are freed.
 */
#include <pthread.h>
#include <stdlib.h>

#include "rpc/runtime.h"

void tw_runtime_options_init(tw_runtime_options *options)
{
    if (!options)
        return;
    *options = (tw_runtime_options){.size = sizeof(*options), .log_level = TW_LOG_INFO};
}

int tw_runtime_new(const tw_runtime_options *options, tw_runtime **out)
{
    if (!out)
        return tw_set_error(TW_EINVAL, "tw_runtime_new: out must not be NULL");
    *out = NULL;
    tw_runtime_options o;
    tw_runtime_options_init(&o);
    if (options) {
        if (options->size < sizeof(size_t))
            return tw_set_error(TW_EINVAL, "tw_runtime_new: options->size is %zu; call "
                                           "tw_runtime_options_init first", options->size);
        tw_copy_options(&o, sizeof(o), options);
    }
    if (o.log_level < TW_LOG_TRACE || o.log_level > TW_LOG_OFF)
        return tw_set_error(TW_EINVAL, "tw_runtime_new: log_level %d is not a tw_log_level", o.log_level);
    tw_runtime *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return tw_set_error(TW_ENOMEM, "tw_runtime_new: out of memory");
    rt->log = (tw_logger){o.log, o.log_user_data, o.log_level};
    rt->refs = 1;
    pthread_mutex_init(&rt->lock, NULL);
    int rc = tw_rpc_loop_start(&rt->log, &rt->loop);
    if (rc) {
        pthread_mutex_destroy(&rt->lock);
        free(rt);
        return rc;
    }
    *out = rt;
    return 0;
}

void tw_runtime_ref(tw_runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
    rt->refs++;
    pthread_mutex_unlock(&rt->lock);
}

void tw_runtime_unref(tw_runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
    bool last = --rt->refs == 0;
    pthread_mutex_unlock(&rt->lock);
    if (!last)
        return;
    tw_rpc_loop_stop(rt->loop);
    pthread_mutex_destroy(&rt->lock);
    free(rt);
}

void tw_runtime_free(tw_runtime *rt)
{
    if (rt)
        tw_runtime_unref(rt);
}
