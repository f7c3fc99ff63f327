/*
 * Transport policy without a server: the retry backoff schedule and the
 * mapping of gRPC statuses (with google.rpc.Status details built here with
 * the generated protobuf-c types) to TW_E* errors.
 */
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
