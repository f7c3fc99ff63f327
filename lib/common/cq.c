/*
 * Completion queues: a mutex-protected FIFO of events plus an eventfd that
 * is readable exactly while the FIFO is non-empty (written on push, drained
 * when the last event is taken, both under the lock), so level-triggered
 * event loops never spin and never miss an event.
 *
 * The queue is reference counted: the owner holds one reference and every
 * operation in flight holds one, so tw_cq_free can return at once while
 * late completions land in a closed queue and are dropped.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

struct tw_cq {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    tw_event *head;
    tw_event *tail;
    int fd;
    bool closed;
    size_t refs;      /* owner + operations in flight */
    size_t pending;   /* operations in flight */
};

int tw_cq_new(tw_cq **out)
{
    if (!out)
        return tw_set_error(TW_EINVAL, "tw_cq_new: out must not be NULL");
    *out = NULL;
    tw_cq *cq = calloc(1, sizeof(*cq));
    if (!cq)
        return tw_set_error(TW_ENOMEM, "tw_cq_new: out of memory");
    cq->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (cq->fd < 0) {
        free(cq);
        return tw_set_error(TW_EINTERNAL, "tw_cq_new: eventfd failed (errno %d)", errno);
    }
    pthread_mutex_init(&cq->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cq->ready, &attr);
    pthread_condattr_destroy(&attr);
    cq->refs = 1;
    *out = cq;
    return 0;
}

static void cq_destroy(tw_cq *cq)
{
    tw_event *ev = cq->head;
    while (ev) {
        tw_event *next = ev->next;
        tw_event_free(ev);
        ev = next;
    }
    close(cq->fd);
    pthread_cond_destroy(&cq->ready);
    pthread_mutex_destroy(&cq->lock);
    free(cq);
}

/* Drops one reference; called with the lock held, releases it. */
static void cq_unref_locked(tw_cq *cq)
{
    bool last = --cq->refs == 0;
    pthread_mutex_unlock(&cq->lock);
    if (last)
        cq_destroy(cq);
}

void tw_cq_free(tw_cq *cq)
{
    if (!cq)
        return;
    pthread_mutex_lock(&cq->lock);
    cq->closed = true;
    tw_event *ev = cq->head;
    cq->head = cq->tail = NULL;
    while (ev) {
        tw_event *next = ev->next;
        tw_event_free(ev);
        ev = next;
    }
    cq_unref_locked(cq);
}

int tw_cq_fd(const tw_cq *cq)
{
    return cq ? cq->fd : -1;
}

size_t tw_cq_pending(const tw_cq *cq)
{
    if (!cq)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&cq->lock);
    size_t n = cq->pending;
    pthread_mutex_unlock((pthread_mutex_t *)&cq->lock);
    return n;
}

void tw_cq_expect(tw_cq *cq)
{
    pthread_mutex_lock(&cq->lock);
    cq->refs++;
    cq->pending++;
    pthread_mutex_unlock(&cq->lock);
}

void tw_cq_push(tw_cq *cq, tw_event *ev)
{
    pthread_mutex_lock(&cq->lock);
    cq->pending--;
    if (cq->closed || !ev) {
        tw_event_free(ev);
    } else {
        ev->next = NULL;
        if (cq->tail)
            cq->tail->next = ev;
        else
            cq->head = ev;
        cq->tail = ev;
        uint64_t one = 1;
        ssize_t w = write(cq->fd, &one, sizeof(one));
        (void)w; /* cannot fail short of counter overflow, which draining prevents */
        pthread_cond_signal(&cq->ready);
    }
    cq_unref_locked(cq);
}

static tw_event *take_locked(tw_cq *cq)
{
    tw_event *ev = cq->head;
    cq->head = ev->next;
    if (!cq->head) {
        cq->tail = NULL;
        uint64_t count;
        ssize_t r = read(cq->fd, &count, sizeof(count));
        (void)r; /* EAGAIN just means it was already drained */
    }
    ev->next = NULL;
    return ev;
}

int tw_cq_next(tw_cq *cq, int64_t timeout_ms, tw_event **out)
{
    if (!cq || !out)
        return tw_set_error(TW_EINVAL, "tw_cq_next: cq and out must not be NULL");
    *out = NULL;
    pthread_mutex_lock(&cq->lock);
    if (!cq->head && timeout_ms != 0) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        if (timeout_ms > 0) {
            deadline.tv_sec += timeout_ms / 1000;
            deadline.tv_nsec += (timeout_ms % 1000) * 1000000;
            if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
            }
        }
        while (!cq->head) {
            if (timeout_ms < 0) {
                pthread_cond_wait(&cq->ready, &cq->lock);
            } else if (pthread_cond_timedwait(&cq->ready, &cq->lock, &deadline) == ETIMEDOUT) {
                break;
            }
        }
    }
    if (!cq->head) {
        pthread_mutex_unlock(&cq->lock);
        return timeout_ms == 0 ? TW_EAGAIN : TW_ETIMEDOUT;
    }
    *out = take_locked(cq);
    pthread_mutex_unlock(&cq->lock);
    return 0;
}
