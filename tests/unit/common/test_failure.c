/*
 * Failure views: a chain of every failure_info kind built with the
 * generated protobuf-c types, read back through every accessor.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "common/common.h"

typedef Temporal__Api__Failure__V1__Failure failure_pb;
typedef Temporal__Api__Common__V1__Payload payload_pb;
typedef Temporal__Api__Common__V1__Payloads payloads_pb;

#define KIND(name) TEMPORAL__API__FAILURE__V1__FAILURE__FAILURE_INFO_##name

/* Strings in writable buffers: the test scribbles over them after making the
 * view, which must have kept its own copy. */
static char outer_message[] = "activity failed";
static char app_type[] = "MyAppError";
static char detail_json[] = "\"detail\"";

static void json_payload(payload_pb *p, Temporal__Api__Common__V1__Payload__MetadataEntry *enc,
                         Temporal__Api__Common__V1__Payload__MetadataEntry **meta, char *json)
{
    temporal__api__common__v1__payload__init(p);
    temporal__api__common__v1__payload__metadata_entry__init(enc);
    enc->key = "encoding";
    enc->value.data = (uint8_t *)"json/plain";
    enc->value.len = 10;
    meta[0] = enc;
    p->n_metadata = 1;
    p->metadata = meta;
    p->data.data = (uint8_t *)json;
    p->data.len = strlen(json);
}

static void assert_json_payload(const tw_payloads *list, size_t i, const char *json)
{
    cr_assert_not_null(list);
    const uint8_t *data;
    size_t len;
    cr_assert_eq(tw_payloads_data(list, i, &data, &len), 0);
    cr_assert_eq(len, strlen(json));
    cr_assert_eq(memcmp(data, json, len), 0);
    const uint8_t *enc;
    size_t enc_len;
    cr_assert_eq(tw_payloads_metadata_get(list, i, "encoding", &enc, &enc_len), 0);
    cr_assert_eq(enc_len, 10);
    cr_assert_eq(memcmp(enc, "json/plain", 10), 0);
}

/* Accessors that belong to other kinds answer their defaults. */
static void assert_no_activity_or_child_fields(const tw_failure *f)
{
    cr_assert_str_eq(tw_failure_activity_type(f), "");
    cr_assert_str_eq(tw_failure_activity_id(f), "");
    cr_assert_str_eq(tw_failure_identity(f), "");
    cr_assert_eq(tw_failure_scheduled_event_id(f), 0);
    cr_assert_eq(tw_failure_started_event_id(f), 0);
    cr_assert_str_eq(tw_failure_namespace(f), "");
    cr_assert_str_eq(tw_failure_workflow_id(f), "");
    cr_assert_str_eq(tw_failure_run_id(f), "");
    cr_assert_str_eq(tw_failure_workflow_type(f), "");
    cr_assert_eq(tw_failure_initiated_event_id(f), 0);
}

Test(failure, chain_with_every_kind)
{
    Temporal__Api__Common__V1__Payload__MetadataEntry enc[3], *meta[3][1];
    payload_pb detail, heartbeat, encoded;
    payload_pb *detail_list[] = {&detail}, *heartbeat_list[] = {&heartbeat};
    json_payload(&detail, &enc[0], meta[0], detail_json);
    json_payload(&heartbeat, &enc[1], meta[1], "{\"progress\": 3}");
    json_payload(&encoded, &enc[2], meta[2], "{\"message\": \"encoded\"}");
    payloads_pb details = TEMPORAL__API__COMMON__V1__PAYLOADS__INIT;
    details.n_payloads = 1;
    details.payloads = detail_list;
    payloads_pb heartbeat_details = TEMPORAL__API__COMMON__V1__PAYLOADS__INIT;
    heartbeat_details.n_payloads = 1;
    heartbeat_details.payloads = heartbeat_list;

    /* 1: application */
    Google__Protobuf__Duration delay = GOOGLE__PROTOBUF__DURATION__INIT;
    delay.seconds = 2;
    delay.nanos = 500000000;
    Temporal__Api__Failure__V1__ApplicationFailureInfo app = TEMPORAL__API__FAILURE__V1__APPLICATION_FAILURE_INFO__INIT;
    app.type = app_type;
    app.non_retryable = 1;
    app.details = &details;
    app.next_retry_delay = &delay;
    failure_pb f_app = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_app.message = outer_message;
    f_app.source = "CSDK";
    f_app.stack_trace = "at main.c:1";
    f_app.encoded_attributes = &encoded;
    f_app.failure_info_case = KIND(APPLICATION_FAILURE_INFO);
    f_app.application_failure_info = &app;

    /* 2: activity */
    Temporal__Api__Common__V1__ActivityType atype = TEMPORAL__API__COMMON__V1__ACTIVITY_TYPE__INIT;
    atype.name = "SendEmail";
    Temporal__Api__Failure__V1__ActivityFailureInfo act = TEMPORAL__API__FAILURE__V1__ACTIVITY_FAILURE_INFO__INIT;
    act.scheduled_event_id = 5;
    act.started_event_id = 6;
    act.identity = "worker-1";
    act.activity_type = &atype;
    act.activity_id = "act-7";
    act.retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED;
    failure_pb f_act = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_act.message = "activity task failed";
    f_act.failure_info_case = KIND(ACTIVITY_FAILURE_INFO);
    f_act.activity_failure_info = &act;
    f_app.cause = &f_act;

    /* 3: child workflow */
    Temporal__Api__Common__V1__WorkflowExecution wex = TEMPORAL__API__COMMON__V1__WORKFLOW_EXECUTION__INIT;
    wex.workflow_id = "child-wf";
    wex.run_id = "child-run";
    Temporal__Api__Common__V1__WorkflowType wtype = TEMPORAL__API__COMMON__V1__WORKFLOW_TYPE__INIT;
    wtype.name = "ChildType";
    Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo child =
        TEMPORAL__API__FAILURE__V1__CHILD_WORKFLOW_EXECUTION_FAILURE_INFO__INIT;
    child.namespace_ = "child-ns";
    child.workflow_execution = &wex;
    child.workflow_type = &wtype;
    child.initiated_event_id = 11;
    child.started_event_id = 12;
    child.retry_state = TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE;
    failure_pb f_child = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_child.message = "child failed";
    f_child.failure_info_case = KIND(CHILD_WORKFLOW_EXECUTION_FAILURE_INFO);
    f_child.child_workflow_execution_failure_info = &child;
    f_act.cause = &f_child;

    /* 4: timeout with heartbeat details */
    Temporal__Api__Failure__V1__TimeoutFailureInfo timeout = TEMPORAL__API__FAILURE__V1__TIMEOUT_FAILURE_INFO__INIT;
    timeout.timeout_type = TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_HEARTBEAT;
    timeout.last_heartbeat_details = &heartbeat_details;
    failure_pb f_timeout = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_timeout.message = "heartbeat timeout";
    f_timeout.failure_info_case = KIND(TIMEOUT_FAILURE_INFO);
    f_timeout.timeout_failure_info = &timeout;
    f_child.cause = &f_timeout;

    /* 5: canceled with details */
    Temporal__Api__Failure__V1__CanceledFailureInfo canceled = TEMPORAL__API__FAILURE__V1__CANCELED_FAILURE_INFO__INIT;
    canceled.details = &details;
    failure_pb f_canceled = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_canceled.message = "canceled";
    f_canceled.failure_info_case = KIND(CANCELED_FAILURE_INFO);
    f_canceled.canceled_failure_info = &canceled;
    f_timeout.cause = &f_canceled;

    /* 6: server */
    Temporal__Api__Failure__V1__ServerFailureInfo server = TEMPORAL__API__FAILURE__V1__SERVER_FAILURE_INFO__INIT;
    server.non_retryable = 1;
    failure_pb f_server = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_server.message = "server said no";
    f_server.failure_info_case = KIND(SERVER_FAILURE_INFO);
    f_server.server_failure_info = &server;
    f_canceled.cause = &f_server;

    /* 7: terminated */
    Temporal__Api__Failure__V1__TerminatedFailureInfo term = TEMPORAL__API__FAILURE__V1__TERMINATED_FAILURE_INFO__INIT;
    failure_pb f_term = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_term.message = "terminated";
    f_term.failure_info_case = KIND(TERMINATED_FAILURE_INFO);
    f_term.terminated_failure_info = &term;
    f_server.cause = &f_term;

    /* 8: reset workflow */
    Temporal__Api__Failure__V1__ResetWorkflowFailureInfo reset = TEMPORAL__API__FAILURE__V1__RESET_WORKFLOW_FAILURE_INFO__INIT;
    reset.last_heartbeat_details = &heartbeat_details;
    failure_pb f_reset = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_reset.message = "reset";
    f_reset.failure_info_case = KIND(RESET_WORKFLOW_FAILURE_INFO);
    f_reset.reset_workflow_failure_info = &reset;
    f_term.cause = &f_reset;

    /* 9: generic, end of the chain */
    failure_pb f_generic = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f_generic.message = "root cause";
    f_reset.cause = &f_generic;

    tw_failure *view = tw_failure_from_pb(&f_app);
    cr_assert_not_null(view);
    /* The view owns a deep copy: changing the source afterwards changes nothing. */
    memset(outer_message, 'X', sizeof(outer_message) - 1);
    memset(app_type, 'X', sizeof(app_type) - 1);
    memset(detail_json, 'X', sizeof(detail_json) - 1);
    delay.seconds = 99;

    const tw_failure *f = view;
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_APPLICATION);
    cr_assert_str_eq(tw_failure_message(f), "activity failed");
    cr_assert_str_eq(tw_failure_source(f), "CSDK");
    cr_assert_str_eq(tw_failure_stack_trace(f), "at main.c:1");
    cr_assert_str_eq(tw_failure_application_type(f), "MyAppError");
    cr_assert_eq(tw_failure_non_retryable(f), 1);
    cr_assert_eq(tw_failure_next_retry_delay_ms(f), 2500);
    cr_assert_eq(tw_payloads_count(tw_failure_details(f)), 1);
    assert_json_payload(tw_failure_details(f), 0, "\"detail\"");
    cr_assert_eq(tw_payloads_count(tw_failure_encoded_attributes(f)), 1);
    assert_json_payload(tw_failure_encoded_attributes(f), 0, "{\"message\": \"encoded\"}");
    cr_assert_eq(tw_failure_timeout_type(f), 0);
    cr_assert_eq(tw_failure_retry_state(f), 0);
    assert_no_activity_or_child_fields(f);

    f = tw_failure_cause(f);
    cr_assert_not_null(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_ACTIVITY);
    cr_assert_str_eq(tw_failure_message(f), "activity task failed");
    cr_assert_str_eq(tw_failure_source(f), "");
    cr_assert_str_eq(tw_failure_stack_trace(f), "");
    cr_assert_null(tw_failure_encoded_attributes(f));
    cr_assert_null(tw_failure_details(f));
    cr_assert_str_eq(tw_failure_activity_type(f), "SendEmail");
    cr_assert_str_eq(tw_failure_activity_id(f), "act-7");
    cr_assert_str_eq(tw_failure_identity(f), "worker-1");
    cr_assert_eq(tw_failure_scheduled_event_id(f), 5);
    cr_assert_eq(tw_failure_started_event_id(f), 6);
    cr_assert_eq(tw_failure_retry_state(f), TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
    cr_assert_str_eq(tw_failure_application_type(f), "");
    cr_assert_eq(tw_failure_non_retryable(f), 0);
    cr_assert_eq(tw_failure_next_retry_delay_ms(f), -1);
    cr_assert_str_eq(tw_failure_namespace(f), "");
    cr_assert_eq(tw_failure_initiated_event_id(f), 0);

    f = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_CHILD_WORKFLOW);
    cr_assert_str_eq(tw_failure_message(f), "child failed");
    cr_assert_str_eq(tw_failure_namespace(f), "child-ns");
    cr_assert_str_eq(tw_failure_workflow_id(f), "child-wf");
    cr_assert_str_eq(tw_failure_run_id(f), "child-run");
    cr_assert_str_eq(tw_failure_workflow_type(f), "ChildType");
    cr_assert_eq(tw_failure_initiated_event_id(f), 11);
    cr_assert_eq(tw_failure_started_event_id(f), 12);
    cr_assert_eq(tw_failure_retry_state(f), TEMPORAL__API__ENUMS__V1__RETRY_STATE__RETRY_STATE_NON_RETRYABLE_FAILURE);
    cr_assert_str_eq(tw_failure_activity_id(f), "");
    cr_assert_eq(tw_failure_scheduled_event_id(f), 0);

    f = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_TIMEOUT);
    cr_assert_str_eq(tw_failure_message(f), "heartbeat timeout");
    cr_assert_eq(tw_failure_timeout_type(f), TEMPORAL__API__ENUMS__V1__TIMEOUT_TYPE__TIMEOUT_TYPE_HEARTBEAT);
    assert_json_payload(tw_failure_details(f), 0, "{\"progress\": 3}");
    cr_assert_eq(tw_failure_retry_state(f), 0);
    assert_no_activity_or_child_fields(f);

    f = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_CANCELED);
    cr_assert_str_eq(tw_failure_message(f), "canceled");
    assert_json_payload(tw_failure_details(f), 0, "\"detail\"");
    cr_assert_eq(tw_failure_timeout_type(f), 0);

    f = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_SERVER);
    cr_assert_str_eq(tw_failure_message(f), "server said no");
    cr_assert_eq(tw_failure_non_retryable(f), 1);
    cr_assert_null(tw_failure_details(f));
    cr_assert_str_eq(tw_failure_application_type(f), "");

    f = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_TERMINATED);
    cr_assert_str_eq(tw_failure_message(f), "terminated");
    cr_assert_null(tw_failure_details(f));
    cr_assert_eq(tw_failure_non_retryable(f), 0);

    f = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_RESET_WORKFLOW);
    cr_assert_str_eq(tw_failure_message(f), "reset");
    assert_json_payload(tw_failure_details(f), 0, "{\"progress\": 3}");

    f = tw_failure_cause(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_GENERIC);
    cr_assert_str_eq(tw_failure_message(f), "root cause");
    cr_assert_null(tw_failure_details(f));
    cr_assert_eq(tw_failure_next_retry_delay_ms(f), -1);
    assert_no_activity_or_child_fields(f);
    cr_assert_null(tw_failure_cause(f));

    tw_failure_destroy(view);
}

Test(failure, application_without_optional_parts)
{
    Temporal__Api__Failure__V1__ApplicationFailureInfo app = TEMPORAL__API__FAILURE__V1__APPLICATION_FAILURE_INFO__INIT;
    failure_pb f = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f.failure_info_case = KIND(APPLICATION_FAILURE_INFO);
    f.application_failure_info = &app;
    tw_failure *view = tw_failure_from_pb(&f);
    cr_assert_not_null(view);
    cr_assert_eq(tw_failure_kind_of(view), TW_FAILURE_APPLICATION);
    cr_assert_str_eq(tw_failure_message(view), "");
    cr_assert_str_eq(tw_failure_application_type(view), "");
    cr_assert_eq(tw_failure_non_retryable(view), 0);
    cr_assert_eq(tw_failure_next_retry_delay_ms(view), -1);
    cr_assert_null(tw_failure_details(view));
    cr_assert_null(tw_failure_encoded_attributes(view));
    cr_assert_null(tw_failure_cause(view));
    tw_failure_destroy(view);
}

Test(failure, child_without_execution_or_type)
{
    Temporal__Api__Failure__V1__ChildWorkflowExecutionFailureInfo child =
        TEMPORAL__API__FAILURE__V1__CHILD_WORKFLOW_EXECUTION_FAILURE_INFO__INIT;
    failure_pb f = TEMPORAL__API__FAILURE__V1__FAILURE__INIT;
    f.failure_info_case = KIND(CHILD_WORKFLOW_EXECUTION_FAILURE_INFO);
    f.child_workflow_execution_failure_info = &child;
    tw_failure *view = tw_failure_from_pb(&f);
    cr_assert_str_eq(tw_failure_workflow_id(view), "");
    cr_assert_str_eq(tw_failure_run_id(view), "");
    cr_assert_str_eq(tw_failure_workflow_type(view), "");
    tw_failure_destroy(view);
}

Test(failure, null_view)
{
    cr_assert_null(tw_failure_from_pb(NULL));
    tw_failure_destroy(NULL);
    cr_assert_eq(tw_failure_kind_of(NULL), TW_FAILURE_GENERIC);
    cr_assert_str_eq(tw_failure_message(NULL), "");
    cr_assert_str_eq(tw_failure_source(NULL), "");
    cr_assert_str_eq(tw_failure_stack_trace(NULL), "");
    cr_assert_null(tw_failure_cause(NULL));
    cr_assert_null(tw_failure_encoded_attributes(NULL));
    cr_assert_null(tw_failure_details(NULL));
    cr_assert_str_eq(tw_failure_application_type(NULL), "");
    cr_assert_eq(tw_failure_non_retryable(NULL), 0);
    cr_assert_eq(tw_failure_next_retry_delay_ms(NULL), -1);
    cr_assert_eq(tw_failure_timeout_type(NULL), 0);
    cr_assert_eq(tw_failure_retry_state(NULL), 0);
    assert_no_activity_or_child_fields(NULL);
}
