/*
 * Transport policy without a server: the retry backoff schedule and the
 * mapping of gRPC statuses (with google.rpc.Status details built here with
 * the generated protobuf-c types) to TW_E* errors.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <grpc/status.h>

#include "rpc/rpc.h"

/* min(initial * factor^(attempt-1), max), computed independently of the library. */
static int64_t expected_backoff(double initial, double factor, double max, int attempt)
{
    double d = initial;
    for (int i = 1; i < attempt; i++)
        d *= factor;
    return (int64_t)(d < max ? d : max);
}

static void assert_close(int64_t got, int64_t want, int attempt)
{
    cr_assert(got >= want - 1 && got <= want + 1, "attempt %d: got %lld ms, want %lld ms", attempt,
              (long long)got, (long long)want);
}

Test(backoff, normal_calls_start_at_100ms_times_1_7_capped_at_5s)
{
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_UNAVAILABLE, 1), 100);
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_UNAVAILABLE, 2), 170);
    assert_close(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_UNAVAILABLE, 3), 289, 3);
    for (int attempt = 1; attempt <= 30; attempt++) {
        int64_t got = tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_UNAVAILABLE, attempt);
        assert_close(got, expected_backoff(100, 1.7, 5000, attempt), attempt);
        cr_assert_leq(got, 5000);
    }
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_UNAVAILABLE, 8), 4103);
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_UNAVAILABLE, 9), 5000);
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_UNAVAILABLE, 1000), 5000);
    /* Other transient codes follow the same schedule. */
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_DEADLINE_EXCEEDED, 2), 170);
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_INTERNAL, 1), 100);
}

Test(backoff, resource_exhausted_starts_at_1s)
{
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_RESOURCE_EXHAUSTED, 1), 1000);
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_RESOURCE_EXHAUSTED, 2), 1700);
    int64_t prev = 0;
    for (int attempt = 1; attempt <= 30; attempt++) {
        int64_t got = tw_rpc_backoff_ms(TW_RPC_RETRY, GRPC_STATUS_RESOURCE_EXHAUSTED, attempt);
        assert_close(got, expected_backoff(1000, 1.7, 10000, attempt), attempt);
        cr_assert_geq(got, prev, "never shrinks");
        prev = got;
    }
    cr_assert_eq(prev, 10000, "capped at 10 s");
}

Test(backoff, long_poll_starts_at_200ms_doubling_capped_at_10s)
{
    static const int64_t want[] = {200, 400, 800, 1600, 3200, 6400, 10000, 10000};
    for (int attempt = 1; attempt <= 8; attempt++)
        cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_LONG_POLL, GRPC_STATUS_UNAVAILABLE, attempt), want[attempt - 1],
                     "attempt %d", attempt);
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_LONG_POLL, GRPC_STATUS_RESOURCE_EXHAUSTED, 1), 200);
    cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_LONG_POLL, GRPC_STATUS_UNAVAILABLE, 500), 10000);
}

Test(backoff, long_poll_deadline_exceeded_polls_again_at_once)
{
    for (int attempt = 1; attempt <= 20; attempt++)
        cr_assert_eq(tw_rpc_backoff_ms(TW_RPC_LONG_POLL, GRPC_STATUS_DEADLINE_EXCEEDED, attempt), 0);
}

/* ---- status mapping ---- */

/* Serializes a google.rpc.Status carrying one Any detail; caller frees. */
static uint8_t *status_with_detail(int code, const char *type_url, const ProtobufCMessage *detail, size_t *len)
{
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    Google__Protobuf__Any *anys[] = {&any};
    uint8_t *packed = NULL;
    if (detail) {
        any.type_url = (char *)type_url;
        any.value.len = protobuf_c_message_get_packed_size(detail);
        packed = malloc(any.value.len + 1);
        protobuf_c_message_pack(detail, packed);
        any.value.data = packed;
    }
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = code;
    st.message = "from the server";
    st.n_details = detail ? 1 : 0;
    st.details = anys;
    *len = google__rpc__status__get_packed_size(&st);
    uint8_t *buf = malloc(*len + 1);
    google__rpc__status__pack(&st, buf);
    free(packed);
    return buf;
}

static void assert_status_bytes(const tw_error *err, const uint8_t *want, size_t want_len)
{
    const uint8_t *data;
    size_t len;
    cr_assert_eq(tw_error_status_bytes(err, &data, &len), 0);
    cr_assert_eq(len, want_len);
    if (want_len)
        cr_assert_eq(memcmp(data, want, len), 0);
}

Test(status, plain_codes)
{
    static const struct {
        int grpc;
        int tw;
        const char *name;
    } cases[] = {
        {GRPC_STATUS_NOT_FOUND, TW_ENOTFOUND, "NOT_FOUND"},
        {GRPC_STATUS_UNAVAILABLE, TW_EUNAVAILABLE, "UNAVAILABLE"},
        {GRPC_STATUS_DEADLINE_EXCEEDED, TW_ETIMEDOUT, "DEADLINE_EXCEEDED"},
        {GRPC_STATUS_CANCELLED, TW_ECANCELLED, "CANCELLED"},
        {GRPC_STATUS_ALREADY_EXISTS, TW_ERPC, "ALREADY_EXISTS"},
        {GRPC_STATUS_INVALID_ARGUMENT, TW_ERPC, "INVALID_ARGUMENT"},
        {GRPC_STATUS_PERMISSION_DENIED, TW_ERPC, "PERMISSION_DENIED"},
        {GRPC_STATUS_UNAUTHENTICATED, TW_ERPC, "UNAUTHENTICATED"},
        {GRPC_STATUS_INTERNAL, TW_ERPC, "INTERNAL"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tw_error *err = tw_rpc_error_from_status(cases[i].grpc, "it went wrong", NULL, 0);
        cr_assert_not_null(err);
        cr_assert_eq(tw_error_code(err), cases[i].tw, "%s -> %s", cases[i].name, tw_strerror(tw_error_code(err)));
        cr_assert_eq(tw_error_grpc_status(err), cases[i].grpc);
        cr_assert(strstr(tw_error_message(err), cases[i].name), "message %s", tw_error_message(err));
        cr_assert(strstr(tw_error_message(err), "it went wrong"));
        cr_assert_str_eq(tw_error_detail_type(err), "");
        cr_assert_str_eq(tw_error_run_id(err), "");
        assert_status_bytes(err, NULL, 0);
        tw_error_destroy(err);
    }
}

Test(status, empty_message_is_named)
{
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_NOT_FOUND, "", NULL, 0);
    cr_assert_str_eq(tw_error_message(err), "NOT_FOUND: (no message)");
    tw_error_destroy(err);
    err = tw_rpc_error_from_status(GRPC_STATUS_NOT_FOUND, NULL, NULL, 0);
    cr_assert_str_eq(tw_error_message(err), "NOT_FOUND: (no message)");
    tw_error_destroy(err);
}

Test(status, already_started_detail_carries_the_run_id)
{
    Temporal__Api__Errordetails__V1__WorkflowExecutionAlreadyStartedFailure f =
        TEMPORAL__API__ERRORDETAILS__V1__WORKFLOW_EXECUTION_ALREADY_STARTED_FAILURE__INIT;
    f.start_request_id = "req-1";
    f.run_id = "0190-first-run";
    size_t len;
    uint8_t *bytes = status_with_detail(
        GRPC_STATUS_ALREADY_EXISTS,
        "type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure", &f.base, &len);
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_ALREADY_EXISTS, "Workflow execution is already running",
                                             bytes, len);
    cr_assert_eq(tw_error_code(err), TW_EALREADY_STARTED);
    cr_assert_eq(tw_error_grpc_status(err), GRPC_STATUS_ALREADY_EXISTS);
    cr_assert_str_eq(tw_error_detail_type(err), "WorkflowExecutionAlreadyStartedFailure");
    cr_assert_str_eq(tw_error_run_id(err), "0190-first-run");
    cr_assert(strstr(tw_error_message(err), "already running"));
    assert_status_bytes(err, bytes, len);

    /* Copied into the thread's last error, everything survives. */
    cr_assert_eq(tw_set_error_from(err), TW_EALREADY_STARTED);
    tw_error_destroy(err);
    cr_assert_str_eq(tw_error_run_id(tw_error_last()), "0190-first-run");
    assert_status_bytes(tw_error_last(), bytes, len);
    free(bytes);
}

Test(status, query_failed_detail)
{
    Temporal__Api__Errordetails__V1__QueryFailedFailure f = TEMPORAL__API__ERRORDETAILS__V1__QUERY_FAILED_FAILURE__INIT;
    size_t len;
    uint8_t *bytes = status_with_detail(GRPC_STATUS_INVALID_ARGUMENT,
                                        "type.googleapis.com/temporal.api.errordetails.v1.QueryFailedFailure",
                                        &f.base, &len);
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_INVALID_ARGUMENT, "handler panicked", bytes, len);
    cr_assert_eq(tw_error_code(err), TW_EQUERY_FAILED);
    cr_assert_str_eq(tw_error_detail_type(err), "QueryFailedFailure");
    cr_assert_str_eq(tw_error_run_id(err), "");
    cr_assert(strstr(tw_error_message(err), "handler panicked"));
    tw_error_destroy(err);
    free(bytes);
}

Test(status, detail_must_match_the_status_code)
{
    /* A QueryFailedFailure detail on ALREADY_EXISTS is not an already-started error. */
    Temporal__Api__Errordetails__V1__QueryFailedFailure f = TEMPORAL__API__ERRORDETAILS__V1__QUERY_FAILED_FAILURE__INIT;
    size_t len;
    uint8_t *bytes = status_with_detail(GRPC_STATUS_ALREADY_EXISTS,
                                        "type.googleapis.com/temporal.api.errordetails.v1.QueryFailedFailure",
                                        &f.base, &len);
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_ALREADY_EXISTS, "x", bytes, len);
    cr_assert_eq(tw_error_code(err), TW_ERPC);
    tw_error_destroy(err);
    free(bytes);

    /* And an already-started detail on INVALID_ARGUMENT is no query failure. */
    Temporal__Api__Errordetails__V1__WorkflowExecutionAlreadyStartedFailure a =
        TEMPORAL__API__ERRORDETAILS__V1__WORKFLOW_EXECUTION_ALREADY_STARTED_FAILURE__INIT;
    bytes = status_with_detail(GRPC_STATUS_INVALID_ARGUMENT,
                               "type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure",
                               &a.base, &len);
    err = tw_rpc_error_from_status(GRPC_STATUS_INVALID_ARGUMENT, "x", bytes, len);
    cr_assert_eq(tw_error_code(err), TW_ERPC);
    tw_error_destroy(err);
    free(bytes);
}

Test(status, other_detail_types_are_named)
{
    Temporal__Api__Errordetails__V1__QueryFailedFailure f = TEMPORAL__API__ERRORDETAILS__V1__QUERY_FAILED_FAILURE__INIT;
    size_t len;
    uint8_t *bytes = status_with_detail(GRPC_STATUS_FAILED_PRECONDITION,
                                        "type.googleapis.com/temporal.api.errordetails.v1.NamespaceNotActiveFailure",
                                        &f.base, &len);
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_FAILED_PRECONDITION, "x", bytes, len);
    cr_assert_eq(tw_error_code(err), TW_ERPC);
    cr_assert_str_eq(tw_error_detail_type(err), "NamespaceNotActiveFailure");
    tw_error_destroy(err);
    free(bytes);
}

Test(status, status_without_details)
{
    size_t len;
    uint8_t *bytes = status_with_detail(GRPC_STATUS_ALREADY_EXISTS, NULL, NULL, &len);
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_ALREADY_EXISTS, "x", bytes, len);
    cr_assert_eq(tw_error_code(err), TW_ERPC);
    cr_assert_str_eq(tw_error_detail_type(err), "");
    assert_status_bytes(err, bytes, len);
    tw_error_destroy(err);
    free(bytes);
}

Test(status, garbage_details_are_kept_but_not_interpreted)
{
    static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x01};
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_ALREADY_EXISTS, "x", junk, sizeof(junk));
    cr_assert_not_null(err);
    cr_assert_eq(tw_error_code(err), TW_ERPC);
    cr_assert_str_eq(tw_error_detail_type(err), "");
    assert_status_bytes(err, junk, sizeof(junk));
    tw_error_destroy(err);
}

Test(status, run_id_of_a_malformed_already_started_detail_is_empty)
{
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    Google__Protobuf__Any *anys[] = {&any};
    static uint8_t junk[] = {0x0a, 0x7f, 0x01};
    any.type_url = "type.googleapis.com/temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure";
    any.value.data = junk;
    any.value.len = sizeof(junk);
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    st.code = GRPC_STATUS_ALREADY_EXISTS;
    st.n_details = 1;
    st.details = anys;
    size_t len = google__rpc__status__get_packed_size(&st);
    uint8_t *buf = malloc(len);
    google__rpc__status__pack(&st, buf);
    tw_error *err = tw_rpc_error_from_status(GRPC_STATUS_ALREADY_EXISTS, "x", buf, len);
    cr_assert_eq(tw_error_code(err), TW_EALREADY_STARTED);
    cr_assert_str_eq(tw_error_run_id(err), "");
    tw_error_destroy(err);
    free(buf);
}

/* ---- per-call metadata lists ---- */

static const char *md_value(const tw_rpc_metadata *md, const char *key)
{
    for (size_t i = 0; i < tw_rpc_metadata_count(md); i++) {
        const char *k, *v;
        tw_rpc_metadata_at(md, i, &k, &v);
        if (strcmp(k, key) == 0)
            return v;
    }
    return NULL;
}

Test(call_metadata, merges_over_a_base_and_later_keys_win)
{
    const char *const first[] = {"x-a", "1", "x-b", "2", NULL};
    const char *const second[] = {"x-b", "3", "x-c", "4", "x-c", "5", NULL};
    tw_rpc_metadata *base = NULL, *merged = NULL, *empty = (tw_rpc_metadata *)1;
    cr_assert_eq(tw_rpc_metadata_new("t", NULL, first, &base), 0);
    cr_assert_eq(tw_rpc_metadata_count(base), 2);
    cr_assert_eq(tw_rpc_metadata_new("t", base, second, &merged), 0);
    cr_assert_eq(tw_rpc_metadata_count(merged), 3);
    cr_assert_str_eq(md_value(merged, "x-a"), "1");
    cr_assert_str_eq(md_value(merged, "x-b"), "3");
    cr_assert_str_eq(md_value(merged, "x-c"), "5");
    cr_assert_str_eq(md_value(base, "x-b"), "2", "the base is not changed");
    cr_assert_eq(tw_rpc_metadata_new("t", NULL, NULL, &empty), 0);
    cr_assert_null(empty, "an empty list is NULL");
    cr_assert_eq(tw_rpc_metadata_count(NULL), 0);
    tw_rpc_metadata_unref(base); /* merged holds its own copies */
    cr_assert_eq(tw_rpc_metadata_ref(merged), merged);
    tw_rpc_metadata_unref(merged);
    cr_assert_str_eq(md_value(merged, "x-a"), "1");
    tw_rpc_metadata_unref(merged);
    tw_rpc_metadata_unref(NULL);
}

Test(call_metadata, is_validated_and_named)
{
    tw_rpc_metadata *md = (tw_rpc_metadata *)1;
    const char *const upper[] = {"X-Up", "v", NULL};
    cr_assert_eq(tw_rpc_metadata_new("tw_call_options.metadata", NULL, upper, &md), TW_EINVAL);
    cr_assert_null(md);
    cr_assert(strstr(tw_error_message(tw_error_last()), "tw_call_options.metadata: key \"X-Up\""), "%s",
              tw_error_message(tw_error_last()));
    const char *const ctl[] = {"x-v", "a\tb", NULL};
    cr_assert_eq(tw_rpc_metadata_new("w", NULL, ctl, &md), TW_EINVAL);
    const char *const bin[] = {"x-v-bin", "a\tb\xff", NULL};
    cr_assert_eq(tw_rpc_metadata_new("w", NULL, bin, &md), 0);
    tw_rpc_metadata_unref(md);
    const char *const empty_key[] = {"", "v", NULL};
    cr_assert_eq(tw_rpc_metadata_new("w", NULL, empty_key, &md), TW_EINVAL);
}

/* ---- cancelling by key ---- */

typedef struct keyed_run {
    tw_rpc_channel *ch;
    const void *key;
    bool cancel_in_callback;
    int step;
    size_t reached;
    int codes[2];
    pthread_mutex_t lock;
    pthread_cond_t done;
} keyed_run;

static Temporal__Api__Workflowservice__V1__GetSystemInfoRequest sysinfo_req =
    TEMPORAL__API__WORKFLOWSERVICE__V1__GET_SYSTEM_INFO_REQUEST__INIT;

static int start_keyed(keyed_run *r, tw_rpc_done_fn done)
{
    tw_rpc_request req = {
        .method = "GetSystemInfo", .message = &sysinfo_req.base,
        .response_type = &temporal__api__workflowservice__v1__get_system_info_response__descriptor,
        .retry = TW_RPC_NO_RETRY, .timeout_ms = 5000, .done = done, .arg = r,
        .cancel_key = r->key, .cancel_tag = 7,
    };
    return tw_rpc_start(r->ch, &req);
}

static void keyed_done(tw_rpc_reply *reply, void *arg)
{
    keyed_run *r = arg;
    int step = r->step++;
    r->codes[step] = reply->error ? reply->error->code : 0;
    tw_rpc_reply_clear(reply); /* the callback owns the reply */
    if (step == 0) {
        /* a cancel landing while this callback runs, then the operation's next step */
        if (r->cancel_in_callback)
            r->reached = tw_rpc_cancel_keyed(r->ch, r->key, 7);
        cr_assert_eq(start_keyed(r, keyed_done), 0);
        return;
    }
    pthread_mutex_lock(&r->lock);
    pthread_cond_signal(&r->done);
    pthread_mutex_unlock(&r->lock);
}

static void run_two_steps(bool cancel_in_callback, int codes[2], size_t *reached)
{
    static const tw_logger quiet = {NULL, NULL, 0};
    tw_rpc_loop *loop = NULL;
    cr_assert_eq(tw_rpc_loop_start(&quiet, &loop), 0);
    /* nothing listens on port 1: every call fails fast with UNAVAILABLE */
    tw_rpc_channel_config cfg = {.target = "127.0.0.1:1", .namespace_name = "default"};
    keyed_run r = {.key = &r, .cancel_in_callback = cancel_in_callback};
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.done, NULL);
    cr_assert_eq(tw_rpc_channel_new(loop, &cfg, &r.ch), 0);
    pthread_mutex_lock(&r.lock);
    cr_assert_eq(start_keyed(&r, keyed_done), 0);
    while (r.step < 2)
        pthread_cond_wait(&r.done, &r.lock);
    pthread_mutex_unlock(&r.lock);
    codes[0] = r.codes[0];
    codes[1] = r.codes[1];
    *reached = r.reached;
    tw_rpc_channel_close(r.ch);
    tw_rpc_loop_stop(loop);
    pthread_cond_destroy(&r.done);
    pthread_mutex_destroy(&r.lock);
}

Test(cancel_keyed, a_cancel_during_a_callback_reaches_the_next_step)
{
    int codes[2];
    size_t reached;
    run_two_steps(false, codes, &reached);
    cr_assert_eq(codes[0], TW_EUNAVAILABLE);
    cr_assert_eq(codes[1], TW_EUNAVAILABLE, "without a cancel the second step runs");
    run_two_steps(true, codes, &reached);
    cr_assert_eq(codes[0], TW_EUNAVAILABLE);
    cr_assert_eq(reached, 1, "the call whose callback runs counts as live");
    cr_assert_eq(codes[1], TW_ECANCELLED, "the step started after the cancel was not cancelled: %d", codes[1]);
}

Test(cancel_keyed, null_is_a_no_op)
{
    cr_assert_eq(tw_rpc_cancel_keyed(NULL, "k", 1), 0);
}
