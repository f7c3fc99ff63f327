/* Completion queues: order, accessors, timeouts, the eventfd, threads, late completions. */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "common/common.h"

static tw_cq *cq;

static void setup(void)
{
    cr_assert_eq(tw_cq_new(&cq), 0);
}

static void teardown(void)
{
    tw_cq_free(cq);
    cq = NULL;
}

TestSuite(cq, .init = setup, .fini = teardown);

/* Delivers an event as an operation does: expect, then push. */
static void deliver(tw_cq *q, int kind, uint64_t tag, int status)
{
    tw_event *ev = tw_event_create(kind, tag);
    cr_assert_not_null(ev);
    if (status) {
        tw_error *err = tw_error_create(status, 14, "failed with %d", status);
        tw_event_fail(ev, err);
        tw_error_destroy(err);
    }
    tw_cq_expect(q);
    tw_cq_push(q, ev);
}

static bool fd_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 0);
    cr_assert_geq(n, 0);
    return n == 1 && (p.revents & POLLIN);
}

Test(cq, new_and_free_null)
{
    cr_assert_eq(tw_cq_new(NULL), TW_EINVAL);
    tw_cq_free(NULL);
    cr_assert_eq(tw_cq_fd(NULL), -1);
    cr_assert_eq(tw_cq_pending(NULL), 0);
    cr_assert_geq(tw_cq_fd(cq), 0);
    cr_assert_eq(tw_cq_pending(cq), 0);
}

Test(cq, events_come_out_in_fifo_order)
{
    for (uint64_t i = 1; i <= 50; i++)
        deliver(cq, TW_EVENT_SIGNAL_WORKFLOW, i * 1000, 0);
    for (uint64_t i = 1; i <= 50; i++) {
        tw_event *ev = NULL;
        cr_assert_eq(tw_cq_next(cq, 0, &ev), 0);
        cr_assert_eq(tw_event_tag(ev), i * 1000);
        tw_event_free(ev);
    }
    tw_event *ev = (tw_event *)1;
    cr_assert_eq(tw_cq_next(cq, 0, &ev), TW_EAGAIN);
    cr_assert_null(ev);
}

Test(cq, event_accessors)
{
    deliver(cq, TW_EVENT_DESCRIBE_WORKFLOW, UINT64_MAX, 0);
    deliver(cq, TW_EVENT_CONNECT, 7, TW_EUNAVAILABLE);
    tw_event *ok = NULL, *bad = NULL;
    cr_assert_eq(tw_cq_next(cq, 0, &ok), 0);
    cr_assert_eq(tw_cq_next(cq, 0, &bad), 0);

    cr_assert_eq(tw_event_tag(ok), UINT64_MAX);
    cr_assert_eq(tw_event_kind_of(ok), TW_EVENT_DESCRIBE_WORKFLOW);
    cr_assert_eq(tw_event_status(ok), 0);
    cr_assert_not_null(tw_event_error(ok), "never NULL");
    cr_assert_eq(tw_error_code(tw_event_error(ok)), 0);
    cr_assert_str_eq(tw_error_message(tw_event_error(ok)), "");

    cr_assert_eq(tw_event_tag(bad), 7);
    cr_assert_eq(tw_event_kind_of(bad), TW_EVENT_CONNECT);
    cr_assert_eq(tw_event_status(bad), TW_EUNAVAILABLE);
    cr_assert_eq(tw_error_code(tw_event_error(bad)), TW_EUNAVAILABLE);
    cr_assert_eq(tw_error_grpc_status(tw_event_error(bad)), 14);
    cr_assert_str_eq(tw_error_message(tw_event_error(bad)), "failed with -12");

    cr_assert_eq(tw_event_tag(NULL), 0);
    cr_assert_eq(tw_event_kind_of(NULL), 0);
    cr_assert_eq(tw_event_status(NULL), TW_EINVAL);
    tw_event_free(ok);
    tw_event_free(bad);
    tw_event_free(NULL);
}

Test(cq, event_fail_without_error_is_out_of_memory)
{
    tw_event *ev = tw_event_create(TW_EVENT_CONNECT, 1);
    tw_event_fail(ev, NULL);
    cr_assert_eq(tw_event_status(ev), TW_ENOMEM);
    tw_event_free(ev);
}

Test(cq, next_argument_checks)
{
    tw_event *ev;
    cr_assert_eq(tw_cq_next(NULL, 0, &ev), TW_EINVAL);
    cr_assert_eq(tw_cq_next(cq, 0, NULL), TW_EINVAL);
}

Test(cq, empty_queue_times_out)
{
    tw_event *ev = (tw_event *)1;
    int64_t t0 = tw_now_ms();
    cr_assert_eq(tw_cq_next(cq, 150, &ev), TW_ETIMEDOUT);
    int64_t waited = tw_now_ms() - t0;
    cr_assert_null(ev);
    cr_assert_geq(waited, 140, "returned after %lld ms", (long long)waited);
    cr_assert_lt(waited, 2000);
}

Test(cq, non_blocking_poll_returns_eagain)
{
    tw_event *ev;
    int64_t t0 = tw_now_ms();
    cr_assert_eq(tw_cq_next(cq, 0, &ev), TW_EAGAIN);
    cr_assert_lt(tw_now_ms() - t0, 100);
    deliver(cq, TW_EVENT_CONNECT, 1, 0);
    cr_assert_eq(tw_cq_next(cq, 0, &ev), 0);
    tw_event_free(ev);
    cr_assert_eq(tw_cq_next(cq, 0, &ev), TW_EAGAIN);
}

Test(cq, eventfd_readable_exactly_while_events_are_queued)
{
    int fd = tw_cq_fd(cq);
    cr_assert(!fd_readable(fd), "empty queue: not readable");
    deliver(cq, TW_EVENT_CONNECT, 1, 0);
    cr_assert(fd_readable(fd));
    deliver(cq, TW_EVENT_CONNECT, 2, 0);
    deliver(cq, TW_EVENT_CONNECT, 3, 0);
    cr_assert(fd_readable(fd));

    tw_event *ev;
    cr_assert_eq(tw_cq_next(cq, 0, &ev), 0);
    tw_event_free(ev);
    cr_assert(fd_readable(fd), "two events left");
    cr_assert_eq(tw_cq_next(cq, 0, &ev), 0);
    tw_event_free(ev);
    cr_assert(fd_readable(fd), "one event left");
    cr_assert_eq(tw_cq_next(cq, 0, &ev), 0);
    tw_event_free(ev);
    cr_assert(!fd_readable(fd), "drained: not readable");

    /* A second round works the same (the counter was reset, not left negative). */
    deliver(cq, TW_EVENT_CONNECT, 4, 0);
    cr_assert(fd_readable(fd));
    cr_assert_eq(tw_cq_next(cq, -1, &ev), 0);
    tw_event_free(ev);
    cr_assert(!fd_readable(fd));
    cr_assert_eq(tw_cq_next(cq, 0, &ev), TW_EAGAIN);
    cr_assert(!fd_readable(fd));
}

Test(cq, pending_counts_operations_in_flight)
{
    tw_cq_expect(cq);
    tw_cq_expect(cq);
    cr_assert_eq(tw_cq_pending(cq), 2);
    tw_cq_push(cq, tw_event_create(TW_EVENT_CONNECT, 1));
    cr_assert_eq(tw_cq_pending(cq), 1);
    tw_cq_push(cq, NULL); /* a withdrawn operation */
    cr_assert_eq(tw_cq_pending(cq), 0);
    tw_event *ev;
    cr_assert_eq(tw_cq_next(cq, 0, &ev), 0);
    tw_event_free(ev);
    cr_assert_eq(tw_cq_next(cq, 0, &ev), TW_EAGAIN, "the withdrawn operation delivered nothing");
}

typedef struct pusher {
    tw_cq *cq;
    int delay_ms;
    uint64_t tag;
} pusher;

static void *push_later(void *arg)
{
    pusher *p = arg;
    struct timespec ts = {p->delay_ms / 1000, (long)(p->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    tw_cq_push(p->cq, tw_event_create(TW_EVENT_QUERY_WORKFLOW, p->tag));
    return NULL;
}

Test(cq, push_from_another_thread_wakes_a_blocked_next)
{
    pusher p = {cq, 200, 99};
    tw_cq_expect(cq);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, push_later, &p), 0);
    tw_event *ev = NULL;
    int64_t t0 = tw_now_ms();
    cr_assert_eq(tw_cq_next(cq, -1, &ev), 0);
    int64_t waited = tw_now_ms() - t0;
    cr_assert_eq(tw_event_tag(ev), 99);
    cr_assert_geq(waited, 150, "woke after %lld ms, before the push", (long long)waited);
    tw_event_free(ev);
    pthread_join(t, NULL);
}

Test(cq, push_from_another_thread_wakes_a_timed_next)
{
    pusher p = {cq, 100, 5};
    tw_cq_expect(cq);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, push_later, &p), 0);
    tw_event *ev = NULL;
    int64_t t0 = tw_now_ms();
    cr_assert_eq(tw_cq_next(cq, 10000, &ev), 0);
    cr_assert_lt(tw_now_ms() - t0, 5000);
    tw_event_free(ev);
    pthread_join(t, NULL);
}

Test(cq, many_threads_push_concurrently)
{
    enum { THREADS = 8 };
    pusher p[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        p[i] = (pusher){cq, 10 * (i % 3), (uint64_t)i};
        tw_cq_expect(cq);
    }
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, push_later, &p[i]), 0);
    unsigned seen = 0;
    for (int i = 0; i < THREADS; i++) {
        tw_event *ev = NULL;
        cr_assert_eq(tw_cq_next(cq, 5000, &ev), 0);
        seen |= 1u << tw_event_tag(ev);
        tw_event_free(ev);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(seen, (1u << THREADS) - 1);
    cr_assert_eq(tw_cq_pending(cq), 0);
}

/* An event that owns heap results, so a leak of it shows under LeakSanitizer. */
static tw_event *heavy_event(uint64_t tag)
{
    tw_event *ev = tw_event_create(TW_EVENT_WORKFLOW_RESULT, tag);
    ev->run_id = tw_strdup("run-with-results");
    cr_assert_eq(tw_payloads_new(&ev->payloads), 0);
    cr_assert_eq(tw_payloads_add_json(ev->payloads, "[1, 2, 3]", NULL), 0);
    ev->token = malloc(16);
    memset(ev->token, 1, 16);
    ev->token_len = 16;
    tw_error *err = tw_error_create(TW_ERPC, 2, "some failure");
    tw_event_fail(ev, err);
    tw_error_destroy(err);
    return ev;
}

Test(cq, free_with_pending_operations_drops_late_pushes)
{
    tw_cq *q = NULL;
    cr_assert_eq(tw_cq_new(&q), 0);
    tw_cq_expect(q);
    tw_cq_expect(q);
    tw_cq_push(q, heavy_event(1)); /* queued, never taken */
    tw_cq_free(q);                  /* returns at once; the queue lives on for the late op */
    tw_cq_push(q, heavy_event(2)); /* dropped and freed, and the queue with it */
    tw_cq_expect(cq);
    tw_cq_push(cq, heavy_event(3));
    /* The caller's other queue is unaffected. */
    tw_event *ev = NULL;
    cr_assert_eq(tw_cq_next(cq, 0, &ev), 0);
    cr_assert_eq(tw_event_tag(ev), 3);
    tw_event_free(ev);
}

Test(cq, late_push_from_another_thread_after_free)
{
    tw_cq *q = NULL;
    cr_assert_eq(tw_cq_new(&q), 0);
    tw_cq_expect(q);
    pusher p = {q, 50, 1};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, push_later, &p), 0);
    tw_cq_free(q);
    pthread_join(t, NULL);
}

Test(cq, free_with_queued_events_frees_them)
{
    tw_cq *q = NULL;
    cr_assert_eq(tw_cq_new(&q), 0);
    for (uint64_t i = 0; i < 5; i++) {
        tw_cq_expect(q);
        tw_cq_push(q, heavy_event(i));
    }
    tw_cq_free(q);
}
