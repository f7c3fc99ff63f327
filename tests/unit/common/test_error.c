/* Error codes, names and the thread-local last error. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/common.h"

Test(error, strerror_names_every_code)
{
    static const struct {
        int code;
        const char *name;
    } names[] = {
        {TW_OK, "TW_OK"},
        {TW_EINVAL, "TW_EINVAL"},
        {TW_ENOMEM, "TW_ENOMEM"},
        {TW_ERPC, "TW_ERPC"},
        {TW_ENOTFOUND, "TW_ENOTFOUND"},
        {TW_EALREADY_STARTED, "TW_EALREADY_STARTED"},
        {TW_ETIMEDOUT, "TW_ETIMEDOUT"},
        {TW_ECANCELLED, "TW_ECANCELLED"},
        {TW_ECLOSED, "TW_ECLOSED"},
        {TW_EPROTO, "TW_EPROTO"},
        {TW_EQUERY_REJECTED, "TW_EQUERY_REJECTED"},
        {TW_EQUERY_FAILED, "TW_EQUERY_FAILED"},
        {TW_EUNAVAILABLE, "TW_EUNAVAILABLE"},
        {TW_EAGAIN, "TW_EAGAIN"},
        {TW_EINTERNAL, "TW_EINTERNAL"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        cr_assert_str_eq(tw_strerror(names[i].code), names[i].name);
    cr_assert_str_eq(tw_strerror(-15), "TW_E(unknown)");
    cr_assert_str_eq(tw_strerror(1), "TW_E(unknown)");
    cr_assert_str_eq(tw_strerror(-1000000), "TW_E(unknown)");
}

Test(error, codes_are_stable)
{
    /* Part of the ABI: the values must never change. */
    cr_assert_eq(TW_EINVAL, -1);
    cr_assert_eq(TW_EPROTO, -9);
    cr_assert_eq(TW_EINTERNAL, -14);
}

Test(error, last_error_starts_empty)
{
    const tw_error *err = tw_error_last();
    cr_assert_not_null(err);
    cr_assert_eq(tw_error_code(err), 0);
    cr_assert_str_eq(tw_error_message(err), "");
    cr_assert_eq(tw_error_grpc_status(err), 0);
    cr_assert_str_eq(tw_error_detail_type(err), "");
    cr_assert_str_eq(tw_error_run_id(err), "");
    const uint8_t *data = (const uint8_t *)1;
    size_t len = 5;
    cr_assert_eq(tw_error_status_bytes(err, &data, &len), 0);
    cr_assert_null(data);
    cr_assert_eq(len, 0);
}

Test(error, failing_call_sets_code_and_message)
{
    int rc = tw_payloads_new(NULL);
    cr_assert_eq(rc, TW_EINVAL);
    const tw_error *err = tw_error_last();
    cr_assert_eq(tw_error_code(err), TW_EINVAL);
    cr_assert_str_eq(tw_error_message(err), "tw_payloads_new: out must not be NULL");

    tw_runtime_options o;
    tw_runtime_options_init(&o);
    o.log_level = 42;
    cr_assert_eq(tw_runtime_new(&o, &(tw_runtime *){NULL}), TW_EINVAL);
    cr_assert_eq(tw_error_code(tw_error_last()), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "log_level 42"), "message: %s",
              tw_error_message(tw_error_last()));
}

Test(error, set_error_formats_and_replaces)
{
    cr_assert_eq(tw_set_error(TW_ENOTFOUND, "thing %s number %d", "x", 3), TW_ENOTFOUND);
    cr_assert_str_eq(tw_error_message(tw_error_last()), "thing x number 3");
    cr_assert_eq(tw_set_error(TW_EPROTO, "second"), TW_EPROTO);
    cr_assert_eq(tw_error_code(tw_error_last()), TW_EPROTO);
    cr_assert_str_eq(tw_error_message(tw_error_last()), "second");
}

Test(error, set_error_from_copies_everything)
{
    tw_error *src = tw_error_create(TW_EALREADY_STARTED, 6, "already %s", "started");
    src->detail_type = tw_strdup("WorkflowExecutionAlreadyStartedFailure");
    src->run_id = tw_strdup("run-1");
    src->status_bytes = malloc(3);
    memcpy(src->status_bytes, "abc", 3);
    src->status_len = 3;
    cr_assert_eq(tw_set_error_from(src), TW_EALREADY_STARTED);
    tw_error *copy = tw_error_copy(src);
    tw_error_destroy(src);

    const tw_error *errs[] = {tw_error_last(), copy};
    for (int i = 0; i < 2; i++) {
        const tw_error *err = errs[i];
        cr_assert_eq(tw_error_code(err), TW_EALREADY_STARTED);
        cr_assert_eq(tw_error_grpc_status(err), 6);
        cr_assert_str_eq(tw_error_message(err), "already started");
        cr_assert_str_eq(tw_error_detail_type(err), "WorkflowExecutionAlreadyStartedFailure");
        cr_assert_str_eq(tw_error_run_id(err), "run-1");
        const uint8_t *data;
        size_t len;
        cr_assert_eq(tw_error_status_bytes(err, &data, &len), 0);
        cr_assert_eq(len, 3);
        cr_assert_eq(memcmp(data, "abc", 3), 0);
    }
    tw_error_destroy(copy);
    tw_error_destroy(NULL);
}

Test(error, accessors_on_null)
{
    cr_assert_eq(tw_error_code(NULL), TW_EINVAL);
    cr_assert_str_eq(tw_error_message(NULL), "");
    cr_assert_eq(tw_error_grpc_status(NULL), 0);
    cr_assert_str_eq(tw_error_detail_type(NULL), "");
    cr_assert_str_eq(tw_error_run_id(NULL), "");
    const uint8_t *data;
    size_t len;
    cr_assert_eq(tw_error_status_bytes(NULL, &data, &len), TW_EINVAL);
    cr_assert_eq(tw_error_status_bytes(tw_error_last(), NULL, &len), TW_EINVAL);
}

typedef struct thread_result {
    int code_at_start;
    char message_at_start[64];
    int code_after;
    char message_after[64];
} thread_result;

static void *other_thread(void *arg)
{
    thread_result *r = arg;
    r->code_at_start = tw_error_code(tw_error_last());
    snprintf(r->message_at_start, sizeof(r->message_at_start), "%s", tw_error_message(tw_error_last()));
    tw_set_error(TW_ECLOSED, "from the other thread");
    r->code_after = tw_error_code(tw_error_last());
    snprintf(r->message_after, sizeof(r->message_after), "%s", tw_error_message(tw_error_last()));
    return NULL;
}

Test(error, last_error_is_thread_local)
{
    tw_set_error(TW_EINVAL, "from the main thread");
    thread_result r;
    memset(&r, 0, sizeof(r));
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, other_thread, &r), 0);
    pthread_join(t, NULL);
    cr_assert_eq(r.code_at_start, 0, "a new thread has no last error");
    cr_assert_str_eq(r.message_at_start, "");
    cr_assert_eq(r.code_after, TW_ECLOSED);
    cr_assert_str_eq(r.message_after, "from the other thread");
    cr_assert_eq(tw_error_code(tw_error_last()), TW_EINVAL, "the other thread did not touch ours");
    cr_assert_str_eq(tw_error_message(tw_error_last()), "from the main thread");
}

static void *fail_and_exit(void *arg)
{
    (void)arg;
    tw_set_error(TW_EPROTO, "an error that the thread never reads: %0128d", 0);
    tw_error *detailed = tw_error_create(TW_EALREADY_STARTED, 6, "with details");
    detailed->run_id = tw_strdup("run");
    detailed->detail_type = tw_strdup("WorkflowExecutionAlreadyStartedFailure");
    tw_set_error_from(detailed);
    tw_error_destroy(detailed);
    return NULL;
}

/* A thread's last error is freed when the thread exits (LeakSanitizer in the
 * ASan build reports it otherwise: each exited thread leaked its message). */
Test(error, last_error_of_an_exited_thread_is_freed)
{
    for (int i = 0; i < 8; i++) {
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, fail_and_exit, NULL), 0);
        pthread_join(t, NULL);
    }
    cr_assert_eq(tw_error_code(tw_error_last()), 0, "the main thread's error is its own");
}
