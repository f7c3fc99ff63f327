/* Formats a log line and hands it to the runtime's sink. */
#include <stdarg.h>
#include <stdio.h>

#include "common/log.h"

void tw_log(const tw_logger *log, int level, const char *fmt, ...)
{
    if (!log || !log->fn || level < log->level)
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log->fn(level, buf, log->user_data);
}
