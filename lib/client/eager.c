/*
 * Eager workflow start: the registry through which a start call finds a
 * worker of the same client (or of a client derived from it) to take the
 * first workflow task straight from the server's answer.
 *
 * Lock order: registry, then whatever a target's reserve takes (the
 * worker's lock). deliver runs with no registry lock held.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

struct eager_registry {
    pthread_mutex_t lock;
    size_t refs;
    eager_target *head;
};

eager_registry *eager_registry_new(void)
{
    eager_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    pthread_mutex_init(&r->lock, NULL);
    r->refs = 1;
    return r;
}

eager_registry *eager_registry_ref(eager_registry *r)
{
    if (r) {
        pthread_mutex_lock(&r->lock);
        r->refs++;
        pthread_mutex_unlock(&r->lock);
    }
    return r;
}

void eager_registry_unref(eager_registry *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    bool last = --r->refs == 0;
    pthread_mutex_unlock(&r->lock);
    if (last) {
        pthread_mutex_destroy(&r->lock);
        free(r);
    }
}

void eager_registry_add(eager_registry *r, eager_target *t)
{
    pthread_mutex_lock(&r->lock);
    t->next = r->head;
    r->head = t;
    pthread_mutex_unlock(&r->lock);
}

void eager_registry_remove(eager_registry *r, eager_target *t)
{
    pthread_mutex_lock(&r->lock);
    for (eager_target **p = &r->head; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->next = NULL;
    pthread_mutex_unlock(&r->lock);
}

eager_target *eager_registry_reserve(eager_registry *r, const char *namespace_name, const char *task_queue)
{
    if (!r || !namespace_name || !task_queue)
        return NULL;
    eager_target *found = NULL;
    pthread_mutex_lock(&r->lock);
    for (eager_target *t = r->head; t && !found; t = t->next)
        if (strcmp(t->namespace_name, namespace_name) == 0 && strcmp(t->task_queue, task_queue) == 0 &&
            t->reserve(t))
            found = t;
    pthread_mutex_unlock(&r->lock);
    return found;
}
