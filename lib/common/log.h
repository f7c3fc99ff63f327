/* Logging to the sink a tw_runtime was given. Private to the library. */
#ifndef TW_LIB_LOG_H
#define TW_LIB_LOG_H

#include "tw/runtime.h"

typedef struct tw_logger {
    tw_log_fn fn;
    void *user_data;
    int level;
} tw_logger;

void tw_log(const tw_logger *log, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
