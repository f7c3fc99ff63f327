/*
 * Activity outcome messages, shared by the client's async completion calls
 * (lib/client/activity_calls.c) and the worker's activity side
 * (lib/worker/activity.c). Private to the library.
 */
#ifndef TW_LIB_CLIENT_ACTIVITY_H
#define TW_LIB_CLIENT_ACTIVITY_H

#include "common/pbbuild.h"

typedef Temporal__Api__Failure__V1__Failure tw_pb_failure;

/*
 * Checks a tw_activity_failure given to fn at the API edge and copies it
 * (over defaults, up to the caller's size) into *out: TW_EINVAL naming
 * the bad field.
 */
int check_activity_failure(const char *fn, const tw_activity_failure *f, tw_activity_failure *out);

/* An application Failure built from a checked tw_activity_failure. */
tw_pb_failure *pb_activity_failure(pb_build *b, const tw_activity_failure *f);

/*
 * Parses failure[0..len), a serialized Failure given to fn: TW_EINVAL for
 * NULL or empty, TW_EPROTO when it does not parse. *out is heap-allocated
 * like pb_* messages (freed with the message it is attached to).
 */
int decode_failure_arg(const char *fn, const uint8_t *failure, size_t len, tw_pb_failure **out);

/* The failure reported for an activity that accepted a worker-shutdown cancellation. */
tw_pb_failure *pb_worker_shutdown_failure(pb_build *b);

#endif
