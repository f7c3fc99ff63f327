/*
 * Priority and user metadata (summary / details) of workflow starts and
 * commands: the checks made where a caller hands them in, and the reading
 * back of a priority the server recorded (see tw/common.h).
 */
#include <math.h>
#include <string.h>

#include "common/common.h"

/* The server refuses longer fairness keys. */
#define FAIRNESS_KEY_MAX 64

void tw_priority_init(tw_priority *p)
{
    if (p)
        *p = (tw_priority){.size = sizeof(*p)};
}

int tw_priority_take(const char *fn, const char *what, const tw_priority *given, tw_priority *out)
{
    tw_priority_init(out);
    if (!given)
        return 0;
    if (given->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: %s->size is %zu; call tw_priority_init first", fn, what, given->size);
    tw_copy_options(out, sizeof(*out), given);
    if (out->priority_key < 0)
        return tw_set_error(TW_EINVAL, "%s: %s->priority_key must not be negative (1 is the most urgent, 0 unset), "
                                       "got %d", fn, what, (int)out->priority_key);
    if (out->fairness_key) {
        size_t len = strlen(out->fairness_key);
        if (len > FAIRNESS_KEY_MAX)
            return tw_set_error(TW_EINVAL, "%s: %s->fairness_key is %zu bytes long; at most %d are allowed", fn,
                                what, len, FAIRNESS_KEY_MAX);
        if (!tw_utf8_valid(out->fairness_key, len))
            return tw_set_error(TW_EINVAL, "%s: %s->fairness_key is not valid UTF-8", fn, what);
    }
    if (!isfinite(out->fairness_weight) || out->fairness_weight < 0)
        return tw_set_error(TW_EINVAL, "%s: %s->fairness_weight must be a positive finite number (0: unset), got %g",
                            fn, what, (double)out->fairness_weight);
    return 0;
}

int tw_priority_read(const char *fn, const Temporal__Api__Common__V1__Priority *pb, tw_priority *out)
{
    if (!out)
        return tw_set_error(TW_EINVAL, "%s: out is NULL", fn);
    if (out->size < sizeof(size_t))
        return tw_set_error(TW_EINVAL, "%s: out->size is %zu; call tw_priority_init first", fn, out->size);
    tw_priority p;
    tw_priority_init(&p);
    if (pb) {
        p.priority_key = pb->priority_key;
        p.fairness_key = tw_str_empty(pb->fairness_key) ? NULL : pb->fairness_key;
        p.fairness_weight = pb->fairness_weight;
    }
    size_t n = out->size < sizeof(p) ? out->size : sizeof(p);
    memcpy(out, &p, n);
    out->size = n;
    return 0;
}

int tw_metadata_payload_check(const char *fn, const char *what, const tw_payloads *list)
{
    if (!list)
        return 0;
    size_t n = tw_payloads_count(list);
    if (n != 1)
        return tw_set_error(TW_EINVAL, "%s: %s must hold exactly one payload (the encoded text), it holds %zu", fn,
                            what, n);
    return 0;
}
