/* The tw_runtime handle as other modules see it. Private to the library. */
#ifndef TW_LIB_RUNTIME_H
#define TW_LIB_RUNTIME_H

#include <pthread.h>

#include "rpc/rpc.h"

struct tw_runtime {
    tw_rpc_loop *loop;
    tw_logger log;
    pthread_mutex_t lock;
    size_t refs;
};

void tw_runtime_ref(tw_runtime *rt);
void tw_runtime_unref(tw_runtime *rt);

#endif
