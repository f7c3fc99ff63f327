/*
 * The client against a real Temporal dev server, through the public API only.
 *
 * The server address comes from TW_TEST_ADDRESS (host:port); every test
 * fails, saying so, when it is unset. No worker runs: workflows are started,
 * signalled, cancelled, terminated and described, never executed. Each test
 * uses its own workflow ids (random suffix), so runs never collide.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include <tw/tw.h>

#define WAIT_MS 30000

static const char *address;
static tw_runtime *rt;
static tw_cq *cq;
static tw_client *client;

/* ---- helpers ---- */

static const char *server_address(void)
{
    const char *a = getenv("TW_TEST_ADDRESS");
    cr_assert(a && *a, "TW_TEST_ADDRESS is not set: integration tests need the host:port of a Temporal dev "
                       "server (start one with `python3 scripts/devserver.py start`)");
    return a;
}

static tw_client *new_client(const tw_client_options *o)
{
    tw_client *c = NULL;
    int rc = tw_client_new(rt, o, &c);
    cr_assert_eq(rc, 0, "tw_client_new: %s: %s", tw_strerror(rc), tw_error_message(tw_error_last()));
    return c;
}

/* Waits for the next event and checks its tag and kind. */
static tw_event *next_event(uint64_t tag, int kind)
{
    tw_event *ev = NULL;
    int rc = tw_cq_next(cq, WAIT_MS, &ev);
    cr_assert_eq(rc, 0, "no completion within %d ms: %s", WAIT_MS, tw_strerror(rc));
    cr_assert_eq(tw_event_tag(ev), tag);
    cr_assert_eq(tw_event_kind_of(ev), kind);
    return ev;
}

/* Waits for the next event and checks that it succeeded. */
static tw_event *next_ok(uint64_t tag, int kind)
{
    tw_event *ev = next_event(tag, kind);
    cr_assert_eq(tw_event_status(ev), 0, "event %d failed: %s: %s", kind, tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    return ev;
}

static void call_ok(int rc, const char *what)
{
    cr_assert_eq(rc, 0, "%s: %s: %s", what, tw_strerror(rc), tw_error_message(tw_error_last()));
}

static void unique_id(char *buf, size_t size, const char *prefix)
{
    uint8_t r[8];
    cr_assert_eq(getrandom(r, sizeof(r), 0), (ssize_t)sizeof(r));
    snprintf(buf, size, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, r[0], r[1], r[2], r[3], r[4], r[5], r[6],
             r[7]);
}

static void start_options(tw_start_workflow_options *so, const char *workflow_id)
{
    tw_start_workflow_options_init(so);
    so->workflow_id = workflow_id;
    so->workflow_type = "CTestWorkflow";
    so->task_queue = "c-test-queue-no-worker";
    so->execution_timeout_ms = 10 * 60 * 1000; /* nothing outlives the dev server for long */
}

/* Starts a workflow and returns its run id (caller frees). */
static char *start_workflow(const char *workflow_id)
{
    tw_start_workflow_options so;
    start_options(&so, workflow_id);
    call_ok(tw_client_start_workflow(client, &so, cq, 100), "start");
    tw_event *ev = next_ok(100, TW_EVENT_START_WORKFLOW);
    char *run_id = strdup(tw_event_run_id(ev));
    tw_event_free(ev);
    cr_assert_gt(strlen(run_id), 0, "start gave no run id");
    return run_id;
}

/* The workflow's first history page as JSON (caller frees with tw_free). */
static char *history_json(const char *workflow_id)
{
    tw_history_options ho;
    tw_history_options_init(&ho);
    ho.workflow_id = workflow_id;
    call_ok(tw_client_fetch_history(client, &ho, cq, 200), "fetch history");
    tw_event *ev = next_ok(200, TW_EVENT_FETCH_HISTORY);
    char *json = NULL;
    call_ok(tw_history_to_json(tw_event_history(ev), &json), "history to json");
    tw_event_free(ev);
    return json;
}

static void terminate(const char *workflow_id, const char *reason, const tw_payloads *details)
{
    tw_close_options co;
    tw_close_options_init(&co);
    co.workflow_id = workflow_id;
    co.reason = reason;
    co.details = details;
    call_ok(tw_client_terminate_workflow(client, &co, cq, 300), "terminate");
    tw_event_free(next_ok(300, TW_EVENT_TERMINATE_WORKFLOW));
}

static void assert_payload_text(const tw_payloads *list, size_t i, const char *want)
{
    char *s = NULL;
    call_ok(tw_payloads_data_string(list, i, &s), "payload data");
    cr_assert_str_eq(s, want);
    tw_free(s);
}

static void assert_metadata(const tw_payloads *list, size_t i, const char *key, const char *want)
{
    const uint8_t *v;
    size_t len;
    cr_assert_eq(tw_payloads_metadata_get(list, i, key, &v, &len), 0, "metadata %s missing", key);
    cr_assert_eq(len, strlen(want), "metadata %s: %.*s", key, (int)len, (const char *)v);
    cr_assert_eq(memcmp(v, want, len), 0);
}

/* Index of the entry named name, or -1. */
static long find_named(const tw_payloads *list, const char *name)
{
    for (size_t i = 0; i < tw_payloads_count(list); i++)
        if (tw_payloads_name(list, i) && strcmp(tw_payloads_name(list, i), name) == 0)
            return (long)i;
    return -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- fixtures ---- */

static void setup_runtime(void)
{
    address = server_address();
    cr_assert_eq(tw_runtime_new(NULL, &rt), 0, "tw_runtime_new: %s", tw_error_message(tw_error_last()));
    cr_assert_eq(tw_cq_new(&cq), 0);
}

static void setup_connected(void)
{
    setup_runtime();
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    client = new_client(&o);
    call_ok(tw_client_connect(client, cq, 1), "connect");
    tw_event_free(next_ok(1, TW_EVENT_CONNECT));
}

static void teardown(void)
{
    tw_client_free(client);
    client = NULL;
    tw_cq_free(cq);
    cq = NULL;
    tw_runtime_free(rt);
    rt = NULL;
}

TestSuite(connect, .init = setup_runtime, .fini = teardown, .timeout = 60);
TestSuite(client, .init = setup_connected, .fini = teardown, .timeout = 60);

/* ---- connect ---- */

Test(connect, succeeds)
{
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    o.identity = "c-integration-test";
    client = new_client(&o);
    cr_assert_str_eq(tw_client_namespace(client), "default");
    cr_assert_str_eq(tw_client_identity(client), "c-integration-test");
    call_ok(tw_client_connect(client, cq, 42), "connect");
    cr_assert_eq(tw_cq_pending(cq), 1);
    tw_event *ev = next_ok(42, TW_EVENT_CONNECT);
    cr_assert_eq(tw_cq_pending(cq), 0);
    tw_event_free(ev);
}

Test(connect, unknown_namespace_is_not_found)
{
    char ns[64];
    unique_id(ns, sizeof(ns), "no-such-namespace");
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    o.namespace_name = ns;
    client = new_client(&o);
    call_ok(tw_client_connect(client, cq, 2), "connect");
    tw_event *ev = next_event(2, TW_EVENT_CONNECT);
    cr_assert_eq(tw_event_status(ev), TW_ENOTFOUND, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    cr_assert_eq(tw_error_code(tw_event_error(ev)), TW_ENOTFOUND);
    cr_assert(strstr(tw_error_message(tw_event_error(ev)), ns), "message does not name the namespace: %s",
              tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
}

/* A loopback port nothing listens on (bound, then released). */
static int closed_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(s, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    close(s);
    return ntohs(a.sin_port);
}

static void assert_connect_unavailable(const tw_client_options *o)
{
    client = new_client(o);
    time_t t0 = time(NULL);
    call_ok(tw_client_connect(client, cq, 3), "connect");
    tw_event *ev = next_event(3, TW_EVENT_CONNECT);
    cr_assert_eq(tw_event_status(ev), TW_EUNAVAILABLE, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    cr_assert_gt(strlen(tw_error_message(tw_event_error(ev))), 0);
    cr_assert_leq(time(NULL) - t0, 10, "connect_timeout_ms 1500 was not honoured");
    tw_event_free(ev);
}

Test(connect, unreachable_host_is_unavailable)
{
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", closed_port());
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = target;
    o.connect_timeout_ms = 1500;
    assert_connect_unavailable(&o);
}

Test(connect, tls_against_plaintext_server_is_unavailable)
{
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    o.tls = 1;
    o.connect_timeout_ms = 1500;
    assert_connect_unavailable(&o);
}

Test(connect, uppercase_metadata_key_is_rejected)
{
    const char *const metadata[] = {"X-Custom-Header", "value", NULL};
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    o.metadata = metadata;
    tw_client *c = (tw_client *)1;
    cr_assert_eq(tw_client_new(rt, &o, &c), TW_EINVAL);
    cr_assert_null(c);
    cr_assert(strstr(tw_error_message(tw_error_last()), "X-Custom-Header"), "%s",
              tw_error_message(tw_error_last()));
    cr_assert_eq(tw_error_code(tw_error_last()), TW_EINVAL);
}

/* TW_EINVAL from tw_client_new, with a message naming want. */
static void assert_options_rejected(const tw_client_options *o, const char *want)
{
    tw_client *c = (tw_client *)1;
    cr_assert_eq(tw_client_new(rt, o, &c), TW_EINVAL, "expected TW_EINVAL for %s", want);
    cr_assert_null(c);
    cr_assert(strstr(tw_error_message(tw_error_last()), want), "%s", tw_error_message(tw_error_last()));
}

Test(connect, bad_header_values_and_pem_are_rejected)
{
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    /* gRPC would refuse every call: a text header value must be printable ASCII */
    const char *const newline[] = {"x-ok", "fine", "x-bad", "two\nlines", NULL};
    o.metadata = newline;
    assert_options_rejected(&o, "x-bad");
    const char *const binary[] = {"x-bad-bin", "\x01\xff", NULL}; /* -bin: any bytes */
    o.metadata = binary;
    tw_client *c = NULL;
    cr_assert_eq(tw_client_new(rt, &o, &c), 0);
    tw_client_free(c);
    /* more headers than a call carries: refused, not silently dropped */
    static char keys[29][16];
    const char *many[2 * 29 + 1] = {NULL};
    for (int i = 0; i < 29; i++) {
        snprintf(keys[i], sizeof(keys[i]), "x-h-%d", i);
        many[2 * i] = keys[i];
        many[2 * i + 1] = "v";
    }
    o.metadata = many;
    assert_options_rejected(&o, "at most 28");
    many[2 * 28] = NULL;
    cr_assert_eq(tw_client_new(rt, &o, &c), 0);
    tw_client_free(c);
    o.metadata = NULL;

    o.api_key = "key\r\n";
    assert_options_rejected(&o, "api_key");
    o.api_key = "good";
    cr_assert_eq(tw_client_new(rt, &o, &c), 0);
    cr_assert_eq(tw_client_set_api_key(c, "caf\xc3\xa9"), TW_EINVAL);
    cr_assert_eq(tw_client_set_api_key(c, "other"), 0);
    cr_assert_eq(tw_client_set_api_key(c, NULL), 0);
    tw_client_free(c);
    o.api_key = NULL;

    /* a file name where its contents belong */
    o.tls_root_ca_pem = "/etc/ssl/ca.pem";
    assert_options_rejected(&o, "tls_root_ca_pem");
    o.tls_root_ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    o.tls_client_cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    o.tls_client_key_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    assert_options_rejected(&o, "tls_client_key_pem");
    o.tls_client_key_pem = "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n";
    cr_assert_eq(tw_client_new(rt, &o, &c), 0); /* looks like PEM: the handshake judges the rest */
    tw_client_free(c);
}

Test(connect, valid_metadata_is_sent)
{
    const char *const metadata[] = {"x-custom-header", "value", NULL};
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    o.metadata = metadata;
    client = new_client(&o);
    call_ok(tw_client_connect(client, cq, 4), "connect");
    tw_event_free(next_ok(4, TW_EVENT_CONNECT));
}

Test(connect, runtime_freed_before_client_is_safe)
{
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    client = new_client(&o);
    tw_runtime_free(rt); /* the client keeps it alive */
    rt = NULL;
    call_ok(tw_client_connect(client, cq, 5), "connect after tw_runtime_free");
    tw_event_free(next_ok(5, TW_EVENT_CONNECT));
    char id[64];
    unique_id(id, sizeof(id), "c-rt-freed");
    tw_start_workflow_options so;
    start_options(&so, id);
    call_ok(tw_client_start_workflow(client, &so, cq, 6), "start after tw_runtime_free");
    tw_event_free(next_ok(6, TW_EVENT_START_WORKFLOW));
    terminate(id, "test over", NULL);
    tw_client_free(client); /* the last reference: the runtime goes with it */
    client = NULL;
}

/* ---- start and describe ---- */

Test(client, start_and_describe)
{
    char id[64];
    unique_id(id, sizeof(id), "c-describe");
    tw_payloads *args = NULL, *memo = NULL, *sa = NULL;
    cr_assert_eq(tw_payloads_new(&args), 0);
    cr_assert_eq(tw_payloads_add_json(args, "\"Temporal\"", NULL), 0);
    cr_assert_eq(tw_payloads_new(&memo), 0);
    cr_assert_eq(tw_payloads_add_json(memo, "{\"owner\": \"c-tests\"}", NULL), 0);
    cr_assert_eq(tw_payloads_set_name(memo, 0, "note"), 0);
    cr_assert_eq(tw_payloads_new(&sa), 0);
    cr_assert_eq(tw_payloads_add_json(sa, "\"abc\"", NULL), 0);
    cr_assert_eq(tw_payloads_set_name(sa, 0, "CustomKeywordField"), 0);
    cr_assert_eq(tw_payloads_set_metadata(sa, 0, "type", (const uint8_t *)"Keyword", 7), 0);

    tw_start_workflow_options so;
    start_options(&so, id);
    so.args = args;
    so.memo = memo;
    so.search_attributes = sa;
    call_ok(tw_client_start_workflow(client, &so, cq, 10), "start");
    /* Everything was copied during the call. */
    tw_payloads_free(args);
    tw_payloads_free(memo);
    tw_payloads_free(sa);
    tw_event *ev = next_ok(10, TW_EVENT_START_WORKFLOW);
    char run_id[64];
    snprintf(run_id, sizeof(run_id), "%s", tw_event_run_id(ev));
    cr_assert_gt(strlen(run_id), 0);
    tw_event_free(ev);

    call_ok(tw_client_describe_workflow(client, id, run_id, cq, 11), "describe");
    ev = next_ok(11, TW_EVENT_DESCRIBE_WORKFLOW);
    cr_assert_eq(tw_event_execution_count(ev), 1);
    const tw_execution *ex = tw_event_execution(ev, 0);
    cr_assert_not_null(ex);
    cr_assert_null(tw_event_execution(ev, 1));
    cr_assert_str_eq(tw_execution_workflow_id(ex), id);
    cr_assert_str_eq(tw_execution_run_id(ex), run_id);
    cr_assert_str_eq(tw_execution_workflow_type(ex), "CTestWorkflow");
    cr_assert_str_eq(tw_execution_task_queue(ex), "c-test-queue-no-worker");
    cr_assert_eq(tw_execution_status(ex), TW_WORKFLOW_STATUS_RUNNING);
    cr_assert_gt(tw_execution_start_time(ex), 1600000000LL * 1000000000LL);
    cr_assert_eq(tw_execution_close_time(ex), 0);
    cr_assert_geq(tw_execution_history_length(ex), 2);
    cr_assert_str_eq(tw_execution_parent_workflow_id(ex), "");

    const tw_payloads *m = tw_execution_memo(ex);
    long mi = find_named(m, "note");
    cr_assert_geq(mi, 0, "memo entry missing");
    assert_payload_text(m, (size_t)mi, "{\"owner\": \"c-tests\"}");
    assert_metadata(m, (size_t)mi, "encoding", "json/plain");

    const tw_payloads *s = tw_execution_search_attributes(ex);
    long si = find_named(s, "CustomKeywordField");
    cr_assert_geq(si, 0, "search attribute missing (%zu attributes)", tw_payloads_count(s));
    assert_payload_text(s, (size_t)si, "\"abc\"");
    assert_metadata(s, (size_t)si, "encoding", "json/plain");

    char *json = NULL;
    call_ok(tw_execution_to_json(ex, &json), "execution to json");
    cr_assert(strstr(json, id), "%s", json);
    cr_assert(strstr(json, "WORKFLOW_EXECUTION_STATUS_RUNNING"), "%s", json);
    tw_free(json);
    tw_event_free(ev);
    terminate(id, "test over", NULL);
}

Test(client, start_twice_is_already_started_with_the_first_run_id)
{
    char id[64];
    unique_id(id, sizeof(id), "c-twice");
    char *first = start_workflow(id);
    tw_start_workflow_options so;
    start_options(&so, id);
    call_ok(tw_client_start_workflow(client, &so, cq, 20), "second start");
    tw_event *ev = next_event(20, TW_EVENT_START_WORKFLOW);
    cr_assert_eq(tw_event_status(ev), TW_EALREADY_STARTED, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    const tw_error *err = tw_event_error(ev);
    cr_assert_str_eq(tw_error_run_id(err), first);
    cr_assert_str_eq(tw_error_detail_type(err), "WorkflowExecutionAlreadyStartedFailure");
    cr_assert_eq(tw_error_grpc_status(err), 6 /* ALREADY_EXISTS */);
    const uint8_t *bytes;
    size_t len;
    cr_assert_eq(tw_error_status_bytes(err, &bytes, &len), 0);
    cr_assert_gt(len, 0);
    cr_assert_str_eq(tw_event_run_id(ev), "");
    tw_event_free(ev);
    terminate(id, "test over", NULL);
    free(first);
}

Test(client, empty_workflow_id_is_rejected_before_sending)
{
    tw_start_workflow_options so;
    start_options(&so, "");
    cr_assert_eq(tw_client_start_workflow(client, &so, cq, 30), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "workflow_id"), "%s", tw_error_message(tw_error_last()));
    so.workflow_id = NULL;
    cr_assert_eq(tw_client_start_workflow(client, &so, cq, 31), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "workflow_id"));
    cr_assert_eq(tw_cq_pending(cq), 0, "nothing was sent");
    tw_event *ev = NULL;
    cr_assert_eq(tw_cq_next(cq, 500, &ev), TW_ETIMEDOUT, "no event may follow a synchronous error");
}

Test(client, bad_arguments_are_rejected_synchronously)
{
    tw_start_workflow_options so;
    start_options(&so, "some-id");
    so.task_queue = NULL;
    cr_assert_eq(tw_client_start_workflow(client, &so, cq, 1), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "task_queue"));
    start_options(&so, "some-id");
    so.workflow_type = "bad\xff";
    cr_assert_eq(tw_client_start_workflow(client, &so, cq, 1), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "UTF-8"));
    start_options(&so, "some-id");
    cr_assert_eq(tw_client_signal_with_start(client, &so, cq, 1), TW_EINVAL, "signal_name is required there");
    cr_assert(strstr(tw_error_message(tw_error_last()), "signal_name"));
    cr_assert_eq(tw_client_start_workflow(client, NULL, cq, 1), TW_EINVAL);
    cr_assert_eq(tw_client_start_workflow(client, &so, NULL, 1), TW_EINVAL);
    cr_assert_eq(tw_client_describe_workflow(client, "", NULL, cq, 1), TW_EINVAL);
    so.size = 0;
    cr_assert_eq(tw_client_start_workflow(client, &so, cq, 1), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "size"));
    cr_assert_eq(tw_cq_pending(cq), 0);
}

Test(client, map_payload_without_name_is_rejected)
{
    tw_payloads *memo = NULL;
    cr_assert_eq(tw_payloads_new(&memo), 0);
    cr_assert_eq(tw_payloads_add_json(memo, "1", NULL), 0);
    tw_start_workflow_options so;
    start_options(&so, "c-unnamed-memo");
    so.memo = memo;
    cr_assert_eq(tw_client_start_workflow(client, &so, cq, 40), TW_EINVAL);
    const char *msg = tw_error_message(tw_error_last());
    cr_assert(strstr(msg, "memo") && strstr(msg, "no name"), "%s", msg);
    so.memo = NULL;
    so.search_attributes = memo;
    cr_assert_eq(tw_client_start_workflow(client, &so, cq, 41), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "search_attributes"));
    cr_assert_eq(tw_cq_pending(cq), 0);
    tw_payloads_free(memo);
}

/* ---- priority and user metadata ---- */

/* Describes the workflow and checks the priority and static summary / details it reports. */
static void expect_described(const char *id, int32_t key, const char *fairness_key, float weight,
                             const char *summary, const char *details)
{
    call_ok(tw_client_describe_workflow(client, id, NULL, cq, 71), "describe");
    tw_event *ev = next_ok(71, TW_EVENT_DESCRIBE_WORKFLOW);
    const tw_execution *ex = tw_event_execution(ev, 0);
    tw_priority p;
    tw_priority_init(&p);
    call_ok(tw_execution_priority(ex, &p), "execution priority");
    cr_assert_eq(p.priority_key, key);
    if (fairness_key)
        cr_assert_str_eq(p.fairness_key, fairness_key);
    else
        cr_assert_null(p.fairness_key);
    cr_assert_float_eq(p.fairness_weight, weight, 1e-6);
    const tw_payloads *s = tw_execution_static_summary(ex), *d = tw_execution_static_details(ex);
    cr_assert_eq(tw_payloads_count(s), summary ? 1u : 0u);
    cr_assert_eq(tw_payloads_count(d), details ? 1u : 0u);
    if (summary) {
        assert_payload_text(s, 0, summary);
        assert_metadata(s, 0, "encoding", "json/plain");
    }
    if (details)
        assert_payload_text(d, 0, details);
    tw_event_free(ev);
}

Test(client, priority_and_static_metadata_are_recorded)
{
    char id[64];
    unique_id(id, sizeof(id), "c-priority");
    tw_payloads *summary = NULL, *details = NULL;
    cr_assert_eq(tw_payloads_new(&summary), 0);
    cr_assert_eq(tw_payloads_add_json(summary, "\"nightly report\"", NULL), 0);
    cr_assert_eq(tw_payloads_new(&details), 0);
    cr_assert_eq(tw_payloads_add_json(details, "\"for the **ops** team\"", NULL), 0);
    tw_priority prio;
    tw_priority_init(&prio);
    prio.priority_key = 2;
    prio.fairness_key = "tenant-c";
    prio.fairness_weight = 1.5f;
    tw_start_workflow_options so;
    start_options(&so, id);
    so.priority = &prio;
    so.static_summary = summary;
    so.static_details = details;
    call_ok(tw_client_start_workflow(client, &so, cq, 70), "start");
    tw_payloads_free(summary);
    tw_payloads_free(details);
    tw_event_free(next_ok(70, TW_EVENT_START_WORKFLOW));
    expect_described(id, 2, "tenant-c", 1.5f, "\"nightly report\"", "\"for the **ops** team\"");
    char *json = history_json(id);
    cr_assert(strstr(json, "\"priorityKey\":2"), "%s", json);
    cr_assert(strstr(json, "\"fairnessKey\":\"tenant-c\""), "%s", json);
    cr_assert(strstr(json, "\"userMetadata\":{\"summary\""), "%s", json);
    tw_free(json);
    terminate(id, "test over", NULL);

    /* Signal-with-start sends them too; a plain start has none. */
    unique_id(id, sizeof(id), "c-priority-sws");
    tw_priority_init(&prio);
    prio.priority_key = 4;
    cr_assert_eq(tw_payloads_new(&summary), 0);
    cr_assert_eq(tw_payloads_add_json(summary, "\"kicked\"", NULL), 0);
    start_options(&so, id);
    so.signal_name = "kick_off";
    so.priority = &prio;
    so.static_summary = summary;
    call_ok(tw_client_signal_with_start(client, &so, cq, 72), "signal with start");
    tw_payloads_free(summary);
    tw_event_free(next_ok(72, TW_EVENT_SIGNAL_WITH_START));
    expect_described(id, 4, NULL, 0, "\"kicked\"", NULL);
    terminate(id, "test over", NULL);

    unique_id(id, sizeof(id), "c-priority-none");
    free(start_workflow(id));
    expect_described(id, 0, NULL, 0, NULL, NULL);
    terminate(id, "test over", NULL);
}

/* A start with so is refused at once with an error naming want; nothing reaches the server. */
static void expect_start_refused(const tw_start_workflow_options *so, const char *want)
{
    cr_assert_eq(tw_client_start_workflow(client, so, cq, 73), TW_EINVAL);
    const char *msg = tw_error_message(tw_error_last());
    cr_assert(strstr(msg, want), "\"%s\" does not mention \"%s\"", msg, want);
    cr_assert_eq(tw_client_signal_with_start(client, so, cq, 74), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), want));
    cr_assert_eq(tw_cq_pending(cq), 0, "nothing was sent");
}

Test(client, bad_priority_and_metadata_are_rejected_before_sending)
{
    tw_start_workflow_options so;
    start_options(&so, "c-bad-priority");
    so.signal_name = "s";
    tw_priority prio;
    so.priority = &prio;
    tw_priority_init(&prio);
    prio.priority_key = -2;
    expect_start_refused(&so, "options->priority->priority_key must not be negative");
    tw_priority_init(&prio);
    prio.fairness_key = "0123456789012345678901234567890123456789012345678901234567890123456789";
    expect_start_refused(&so, "fairness_key is 70 bytes long; at most 64");
    tw_priority_init(&prio);
    prio.fairness_weight = -0.5f;
    expect_start_refused(&so, "fairness_weight must be a positive finite number");
    prio.size = 0;
    expect_start_refused(&so, "priority->size is 0; call tw_priority_init first");
    so.priority = NULL;

    tw_payloads *two = NULL;
    cr_assert_eq(tw_payloads_new(&two), 0);
    cr_assert_eq(tw_payloads_add_json(two, "\"a\"", NULL), 0);
    cr_assert_eq(tw_payloads_add_json(two, "\"b\"", NULL), 0);
    so.static_summary = two;
    expect_start_refused(&so, "options->static_summary must hold exactly one payload");
    so.static_summary = NULL;
    so.static_details = two;
    expect_start_refused(&so, "options->static_details");
    tw_payloads_free(two);
}

Test(client, start_options_from_before_priority_leave_it_unset)
{
    char id[64];
    unique_id(id, sizeof(id), "c-old-options");
    tw_start_workflow_options so;
    start_options(&so, id);
    /* Past the caller's size: never read (these would crash). */
    so.priority = (const tw_priority *)(uintptr_t)1;
    so.static_summary = (const tw_payloads *)(uintptr_t)1;
    so.static_details = (const tw_payloads *)(uintptr_t)1;
    so.size = offsetof(tw_start_workflow_options, priority);
    call_ok(tw_client_start_workflow(client, &so, cq, 75), "start");
    tw_event_free(next_ok(75, TW_EVENT_START_WORKFLOW));
    expect_described(id, 0, NULL, 0, NULL, NULL);
    terminate(id, "test over", NULL);
}

/* ---- signal, signal-with-start, cancel, terminate ---- */

Test(client, signal_shows_in_history)
{
    char id[64];
    unique_id(id, sizeof(id), "c-signal");
    char *run_id = start_workflow(id);
    tw_payloads *args = NULL;
    cr_assert_eq(tw_payloads_new(&args), 0);
    cr_assert_eq(tw_payloads_add_json(args, "{\"salutation\": \"Hola\"}", NULL), 0);
    tw_signal_options sg;
    tw_signal_options_init(&sg);
    sg.workflow_id = id;
    sg.run_id = run_id;
    sg.signal_name = "update_salutation";
    sg.args = args;
    call_ok(tw_client_signal_workflow(client, &sg, cq, 50), "signal");
    tw_payloads_free(args);
    tw_event_free(next_ok(50, TW_EVENT_SIGNAL_WORKFLOW));

    char *json = history_json(id);
    cr_assert(strstr(json, "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"), "%s", json);
    cr_assert(strstr(json, "update_salutation"), "%s", json);
    tw_free(json);
    terminate(id, "test over", NULL);
    free(run_id);
}

Test(client, signal_with_start_starts_and_records_the_signal)
{
    char id[64];
    unique_id(id, sizeof(id), "c-sws");
    tw_payloads *sig = NULL;
    cr_assert_eq(tw_payloads_new(&sig), 0);
    cr_assert_eq(tw_payloads_add_json(sig, "42", NULL), 0);
    tw_start_workflow_options so;
    start_options(&so, id);
    so.signal_name = "kick_off";
    so.signal_args = sig;
    call_ok(tw_client_signal_with_start(client, &so, cq, 60), "signal with start");
    tw_payloads_free(sig);
    tw_event *ev = next_ok(60, TW_EVENT_SIGNAL_WITH_START);
    char run_id[64];
    snprintf(run_id, sizeof(run_id), "%s", tw_event_run_id(ev));
    cr_assert_gt(strlen(run_id), 0, "signal-with-start gave no run id");
    tw_event_free(ev);

    call_ok(tw_client_describe_workflow(client, id, NULL, cq, 61), "describe");
    ev = next_ok(61, TW_EVENT_DESCRIBE_WORKFLOW);
    cr_assert_str_eq(tw_execution_run_id(tw_event_execution(ev, 0)), run_id);
    cr_assert_eq(tw_execution_status(tw_event_execution(ev, 0)), TW_WORKFLOW_STATUS_RUNNING);
    tw_event_free(ev);

    char *json = history_json(id);
    cr_assert(strstr(json, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"), "%s", json);
    cr_assert(strstr(json, "EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED"), "%s", json);
    cr_assert(strstr(json, "kick_off"), "%s", json);
    tw_free(json);
    terminate(id, "test over", NULL);
}

Test(client, cancel_is_requested_in_history)
{
    char id[64];
    unique_id(id, sizeof(id), "c-cancel");
    char *run_id = start_workflow(id);
    tw_close_options co;
    tw_close_options_init(&co);
    co.workflow_id = id;
    co.reason = "please stop";
    call_ok(tw_client_cancel_workflow(client, &co, cq, 70), "cancel");
    tw_event_free(next_ok(70, TW_EVENT_CANCEL_WORKFLOW));
    char *json = history_json(id);
    cr_assert(strstr(json, "EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED"), "%s", json);
    tw_free(json);
    terminate(id, "test over", NULL);
    free(run_id);
}

Test(client, terminate_gives_terminated_result)
{
    char id[64];
    unique_id(id, sizeof(id), "c-terminate");
    char *run_id = start_workflow(id);
    tw_payloads *details = NULL;
    cr_assert_eq(tw_payloads_new(&details), 0);
    cr_assert_eq(tw_payloads_add_json(details, "{\"why\": \"testing\"}", NULL), 0);
    cr_assert_eq(tw_payloads_add_json(details, "7", NULL), 0);
    terminate(id, "stopped by the C tests", details);
    tw_payloads_free(details);

    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = id;
    call_ok(tw_client_workflow_result(client, &ro, cq, 80), "result");
    tw_event *ev = next_ok(80, TW_EVENT_WORKFLOW_RESULT);
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_TERMINATED);
    cr_assert_str_eq(tw_event_run_id(ev), run_id);
    const tw_failure *f = tw_event_failure(ev);
    cr_assert_not_null(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_TERMINATED);
    cr_assert_str_eq(tw_failure_message(f), "stopped by the C tests");
    const tw_payloads *p = tw_event_payloads(ev);
    cr_assert_eq(tw_payloads_count(p), 2);
    assert_payload_text(p, 0, "{\"why\": \"testing\"}");
    assert_payload_text(p, 1, "7");
    assert_metadata(p, 0, "encoding", "json/plain");
    tw_event_free(ev);

    call_ok(tw_client_describe_workflow(client, id, run_id, cq, 81), "describe");
    ev = next_ok(81, TW_EVENT_DESCRIBE_WORKFLOW);
    cr_assert_eq(tw_execution_status(tw_event_execution(ev, 0)), TW_WORKFLOW_STATUS_TERMINATED);
    cr_assert_gt(tw_execution_close_time(tw_event_execution(ev, 0)), 0);
    tw_event_free(ev);
    free(run_id);
}

Test(client, describe_unknown_workflow_is_not_found)
{
    char id[64];
    unique_id(id, sizeof(id), "c-never-started");
    call_ok(tw_client_describe_workflow(client, id, NULL, cq, 90), "describe");
    tw_event *ev = next_event(90, TW_EVENT_DESCRIBE_WORKFLOW);
    cr_assert_eq(tw_event_status(ev), TW_ENOTFOUND, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    cr_assert_eq(tw_error_grpc_status(tw_event_error(ev)), 5 /* NOT_FOUND */);
    cr_assert_eq(tw_event_execution_count(ev), 0);
    tw_event_free(ev);
}

Test(client, query_without_worker_fails_instead_of_hanging)
{
    char id[64];
    unique_id(id, sizeof(id), "c-query");
    char *run_id = start_workflow(id);
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    o.rpc_timeout_ms = 2000;
    tw_client *quick = new_client(&o);
    tw_query_options qo;
    tw_query_options_init(&qo);
    qo.workflow_id = id;
    qo.query_type = "__stack_trace";
    time_t t0 = time(NULL);
    call_ok(tw_client_query_workflow(quick, &qo, cq, 95), "query");
    tw_event *ev = NULL;
    cr_assert_eq(tw_cq_next(cq, 45000, &ev), 0, "the query never completed");
    cr_assert_eq(tw_event_tag(ev), 95);
    int st = tw_event_status(ev);
    cr_assert(st == TW_ETIMEDOUT || st == TW_ERPC, "got %s: %s", tw_strerror(st),
              tw_error_message(tw_event_error(ev)));
    cr_assert_gt(strlen(tw_error_message(tw_event_error(ev))), 0);
    cr_assert_null(tw_event_payloads(ev));
    cr_log_info("query without worker: %s after %ld s: %s", tw_strerror(st), (long)(time(NULL) - t0),
                tw_error_message(tw_event_error(ev)));
    tw_event_free(ev);
    tw_client_free(quick);
    terminate(id, "test over", NULL);
    free(run_id);
}

Test(client, execution_timeout_gives_timed_out_result)
{
    char id[64];
    unique_id(id, sizeof(id), "c-timeout");
    tw_start_workflow_options so;
    start_options(&so, id);
    so.execution_timeout_ms = 1000;
    call_ok(tw_client_start_workflow(client, &so, cq, 110), "start");
    tw_event *ev = next_ok(110, TW_EVENT_START_WORKFLOW);
    char run_id[64];
    snprintf(run_id, sizeof(run_id), "%s", tw_event_run_id(ev));
    tw_event_free(ev);

    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = id;
    call_ok(tw_client_workflow_result(client, &ro, cq, 111), "result");
    ev = next_ok(111, TW_EVENT_WORKFLOW_RESULT); /* waits up to 30 s */
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_TIMED_OUT);
    cr_assert_str_eq(tw_event_run_id(ev), run_id);
    const tw_failure *f = tw_event_failure(ev);
    cr_assert_not_null(f);
    cr_assert_eq(tw_failure_kind_of(f), TW_FAILURE_TIMEOUT);
    cr_assert_gt(strlen(tw_failure_message(f)), 0);
    tw_event_free(ev);
}

Test(client, history_pages_walk_with_the_next_page_token)
{
    char id[64];
    unique_id(id, sizeof(id), "c-paging");
    char *run_id = start_workflow(id);
    for (int i = 0; i < 3; i++) {
        tw_signal_options sg;
        tw_signal_options_init(&sg);
        sg.workflow_id = id;
        sg.signal_name = "tick";
        call_ok(tw_client_signal_workflow(client, &sg, cq, 120), "signal");
        tw_event_free(next_ok(120, TW_EVENT_SIGNAL_WORKFLOW));
    }
    terminate(id, "test over", NULL);

    /* The whole history in one page, for reference. */
    tw_history_options ho;
    tw_history_options_init(&ho);
    ho.workflow_id = id;
    ho.run_id = run_id;
    call_ok(tw_client_fetch_history(client, &ho, cq, 121), "history");
    tw_event *ev = next_ok(121, TW_EVENT_FETCH_HISTORY);
    size_t total = tw_history_event_count(tw_event_history(ev));
    const uint8_t *token;
    size_t token_len;
    cr_assert_eq(tw_event_next_page_token(ev, &token, &token_len), 0);
    cr_assert_eq(token_len, 0, "a closed workflow's full history fits one page");
    tw_event_free(ev);
    cr_assert_geq(total, 6, "started, task scheduled, 3 signals, terminated");

    /* One event per page. */
    uint8_t *next = NULL;
    size_t next_len = 0, seen = 0;
    int pages = 0;
    do {
        tw_history_options_init(&ho);
        ho.workflow_id = id;
        ho.run_id = run_id;
        ho.maximum_page_size = 1;
        ho.next_page_token = next;
        ho.next_page_token_len = next_len;
        call_ok(tw_client_fetch_history(client, &ho, cq, 122), "history page");
        free(next); /* the call copied it */
        next = NULL;
        next_len = 0;
        ev = next_ok(122, TW_EVENT_FETCH_HISTORY);
        /* The server never splits an event batch (started + first task scheduled
         * come together), so a page may hold more than maximum_page_size. */
        seen += tw_history_event_count(tw_event_history(ev));
        pages++;
        if (pages == 1) {
            char *json = NULL;
            call_ok(tw_history_to_json(tw_event_history(ev), &json), "page json");
            cr_assert(strstr(json, "EVENT_TYPE_WORKFLOW_EXECUTION_STARTED"), "%s", json);
            tw_free(json);
        }
        cr_assert_eq(tw_event_next_page_token(ev, &token, &token_len), 0);
        if (token_len) {
            next = malloc(token_len);
            memcpy(next, token, token_len);
            next_len = token_len;
        }
        tw_event_free(ev);
        cr_assert_lt(pages, 100, "paging does not end");
    } while (next_len);
    cr_assert_eq(seen, total, "pages held %zu events, the history %zu", seen, total);
    cr_assert_geq(pages, 4, "%d pages for %zu events: maximum_page_size was not applied", pages, total);
    free(run_id);
}

Test(client, list_and_count_find_the_workflow)
{
    char id[64];
    unique_id(id, sizeof(id), "c-list");
    char *run_id = start_workflow(id);
    char query[128];
    snprintf(query, sizeof(query), "WorkflowId = '%s'", id);

    /* Visibility is eventually consistent: retry for up to 10 s. */
    bool found = false;
    for (int attempt = 0; attempt < 20 && !found; attempt++) {
        if (attempt)
            sleep_ms(500);
        tw_list_options lo;
        tw_list_options_init(&lo);
        lo.query = query;
        call_ok(tw_client_list_workflows(client, &lo, cq, 130), "list");
        tw_event *ev = next_ok(130, TW_EVENT_LIST_WORKFLOWS);
        for (size_t i = 0; i < tw_event_execution_count(ev); i++) {
            const tw_execution *ex = tw_event_execution(ev, i);
            if (strcmp(tw_execution_workflow_id(ex), id) == 0) {
                cr_assert_str_eq(tw_execution_run_id(ex), run_id);
                cr_assert_str_eq(tw_execution_workflow_type(ex), "CTestWorkflow");
                found = true;
            }
        }
        tw_event_free(ev);
    }
    cr_assert(found, "list_workflows did not find %s within 10 s", id);

    call_ok(tw_client_count_workflows(client, query, cq, 131), "count");
    tw_event *ev = next_ok(131, TW_EVENT_COUNT_WORKFLOWS);
    cr_assert_geq(tw_event_count(ev), 1);
    tw_event_free(ev);
    terminate(id, "test over", NULL);
    free(run_id);
}

Test(client, client_free_cancels_a_result_poll_in_flight)
{
    char id[64];
    unique_id(id, sizeof(id), "c-free-inflight");
    char *run_id = start_workflow(id);
    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = id;
    call_ok(tw_client_workflow_result(client, &ro, cq, 140), "result");
    sleep_ms(300); /* let the long poll reach the server */
    tw_event *ev = NULL;
    cr_assert_eq(tw_cq_next(cq, 0, &ev), TW_EAGAIN, "the workflow is still running");
    cr_assert_eq(tw_cq_pending(cq), 1);
    tw_client_free(client);
    client = NULL;
    ev = next_event(140, TW_EVENT_WORKFLOW_RESULT);
    cr_assert_eq(tw_event_status(ev), TW_ECANCELLED, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    cr_assert_eq(tw_cq_pending(cq), 0);
    tw_event_free(ev);

    /* Clean up with a fresh client. */
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    client = new_client(&o);
    terminate(id, "test over", NULL);
    free(run_id);
}

/* ---- per-call options (tw_client_with_call_options) and tw_client_cancel_call ---- */

/*
 * A plaintext TCP proxy in front of the dev server, in a thread of the test,
 * that keeps a copy of everything clients send. gRPC's HPACK encoder sends
 * user metadata as literal, never-indexed, non-Huffman headers, so a header
 * value shows up verbatim in the bytes of every call that carries it.
 */
#define PROXY_MAX_CONNS 8

typedef struct proxy {
    int listener;
    int port;
    int stop_pipe[2];
    pthread_t thread;
    pthread_mutex_t lock;
    char *sent;      /* client -> server bytes */
    size_t sent_len;
    size_t sent_cap;
    struct sockaddr_storage upstream;
    socklen_t upstream_len;
} proxy;

static void proxy_record(proxy *p, const char *data, size_t n)
{
    pthread_mutex_lock(&p->lock);
    if (p->sent_len + n > p->sent_cap) {
        size_t cap = (p->sent_len + n) * 2;
        p->sent = realloc(p->sent, cap);
        p->sent_cap = cap;
    }
    memcpy(p->sent + p->sent_len, data, n);
    p->sent_len += n;
    pthread_mutex_unlock(&p->lock);
}

/* Bytes sent so far (a mark for proxy_saw). */
static size_t proxy_mark(proxy *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->sent_len;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* True when the clients sent text after byte `from`. */
static bool proxy_saw(proxy *p, size_t from, const char *text)
{
    size_t len = strlen(text);
    bool found = false;
    pthread_mutex_lock(&p->lock);
    for (size_t i = from; !found && i + len <= p->sent_len; i++)
        found = memcmp(p->sent + i, text, len) == 0;
    pthread_mutex_unlock(&p->lock);
    return found;
}

static void *proxy_main(void *arg)
{
    proxy *p = arg;
    int down[PROXY_MAX_CONNS], up[PROXY_MAX_CONNS];
    size_t conns = 0;
    char buf[16384];
    for (;;) {
        struct pollfd fds[2 + 2 * PROXY_MAX_CONNS];
        size_t n = 0;
        fds[n++] = (struct pollfd){.fd = p->stop_pipe[0], .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = p->listener, .events = POLLIN};
        for (size_t i = 0; i < conns; i++) {
            fds[n++] = (struct pollfd){.fd = down[i], .events = POLLIN};
            fds[n++] = (struct pollfd){.fd = up[i], .events = POLLIN};
        }
        if (poll(fds, n, -1) < 0)
            continue;
        if (fds[0].revents)
            break;
        if ((fds[1].revents & POLLIN) && conns < PROXY_MAX_CONNS) {
            int c = accept(p->listener, NULL, NULL);
            int u = socket(p->upstream.ss_family, SOCK_STREAM, 0);
            if (c >= 0 && u >= 0 && connect(u, (struct sockaddr *)&p->upstream, p->upstream_len) == 0) {
                down[conns] = c;
                up[conns] = u;
                conns++;
            } else {
                if (c >= 0)
                    close(c);
                if (u >= 0)
                    close(u);
            }
            continue; /* the fds array no longer matches the connections */
        }
        for (size_t i = 0; i < conns; i++) {
            bool closed = false;
            for (int dir = 0; dir < 2 && !closed; dir++) {
                struct pollfd *f = &fds[2 + 2 * i + (size_t)dir];
                if (!f->revents)
                    continue;
                ssize_t r = read(f->fd, buf, sizeof(buf));
                if (r <= 0) {
                    closed = true;
                    break;
                }
                if (dir == 0)
                    proxy_record(p, buf, (size_t)r);
                int to = dir == 0 ? up[i] : down[i];
                for (ssize_t off = 0; off < r;) {
                    ssize_t w = write(to, buf + off, (size_t)(r - off));
                    if (w <= 0) {
                        closed = true;
                        break;
                    }
                    off += w;
                }
            }
            if (closed) {
                close(down[i]);
                close(up[i]);
                down[i] = down[conns - 1];
                up[i] = up[conns - 1];
                conns--;
                break; /* indexes moved: poll again */
            }
        }
    }
    for (size_t i = 0; i < conns; i++) {
        close(down[i]);
        close(up[i]);
    }
    return NULL;
}

static proxy *proxy_start(void)
{
    proxy *p = calloc(1, sizeof(*p));
    cr_assert_not_null(p);
    pthread_mutex_init(&p->lock, NULL);
    /* the dev server's address */
    char host[256];
    snprintf(host, sizeof(host), "%s", address);
    char *colon = strrchr(host, ':');
    cr_assert_not_null(colon, "TW_TEST_ADDRESS has no port: %s", address);
    *colon = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    cr_assert_eq(getaddrinfo(host, colon + 1, &hints, &res), 0, "cannot resolve %s", address);
    memcpy(&p->upstream, res->ai_addr, res->ai_addrlen);
    p->upstream_len = res->ai_addrlen;
    freeaddrinfo(res);
    p->listener = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(p->listener, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(p->listener, (struct sockaddr *)&a, sizeof(a)), 0);
    cr_assert_eq(listen(p->listener, 8), 0);
    socklen_t len = sizeof(a);
    cr_assert_eq(getsockname(p->listener, (struct sockaddr *)&a, &len), 0);
    p->port = ntohs(a.sin_port);
    cr_assert_eq(pipe(p->stop_pipe), 0);
    cr_assert_eq(pthread_create(&p->thread, NULL, proxy_main, p), 0);
    return p;
}

static void proxy_stop(proxy *p)
{
    ssize_t w = write(p->stop_pipe[1], "x", 1);
    (void)w;
    pthread_join(p->thread, NULL);
    close(p->stop_pipe[0]);
    close(p->stop_pipe[1]);
    close(p->listener);
    pthread_mutex_destroy(&p->lock);
    free(p->sent);
    free(p);
}

static tw_client *derive(tw_client *parent, const char *const *metadata, int64_t rpc_timeout_ms)
{
    tw_call_options co;
    tw_call_options_init(&co);
    co.metadata = metadata;
    co.rpc_timeout_ms = rpc_timeout_ms;
    tw_client *d = NULL;
    call_ok(tw_client_with_call_options(parent, &co, &d), "tw_client_with_call_options");
    cr_assert_not_null(d);
    return d;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts a result call into q (not cq, so that its event cannot overtake another test step's). */
static void start_result(tw_client *c, const char *workflow_id, tw_cq *q, uint64_t tag)
{
    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = workflow_id;
    call_ok(tw_client_workflow_result(c, &ro, q, tag), "result");
}

static tw_event *next_result(tw_cq *q, uint64_t tag)
{
    tw_event *ev = NULL;
    int rc = tw_cq_next(q, WAIT_MS, &ev);
    cr_assert_eq(rc, 0, "no result within %d ms: %s", WAIT_MS, tw_strerror(rc));
    cr_assert_eq(tw_event_tag(ev), tag);
    cr_assert_eq(tw_event_kind_of(ev), TW_EVENT_WORKFLOW_RESULT);
    return ev;
}

static tw_cq *new_cq(void)
{
    tw_cq *q = NULL;
    cr_assert_eq(tw_cq_new(&q), 0);
    return q;
}

Test(client, call_metadata_is_sent_with_that_call_only_and_overrides_the_clients)
{
    char id[64], conn_value[64], parent_value[64], call_value[64], over_value[64];
    unique_id(id, sizeof(id), "c-call-md");
    unique_id(conn_value, sizeof(conn_value), "conn");
    unique_id(parent_value, sizeof(parent_value), "parent");
    unique_id(call_value, sizeof(call_value), "call");
    unique_id(over_value, sizeof(over_value), "over");
    char *run_id = start_workflow(id);

    proxy *p = proxy_start();
    char target[64];
    snprintf(target, sizeof(target), "127.0.0.1:%d", p->port);
    const char *const conn_md[] = {"x-conn", conn_value, "x-over", parent_value, NULL};
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = target;
    o.metadata = conn_md;
    o.api_key = "parent-key";
    tw_client *parent = new_client(&o);

    /* The derived client's first call: its headers, and the parent's except those it replaces. */
    char bearer[96];
    snprintf(bearer, sizeof(bearer), "Bearer %s", over_value);
    const char *const call_md[] = {"x-call", call_value, "x-over", over_value, "authorization", bearer, NULL};
    tw_client *d = derive(parent, call_md, 0);
    size_t mark = proxy_mark(p);
    call_ok(tw_client_describe_workflow(d, id, run_id, cq, 160), "describe with call options");
    tw_event_free(next_ok(160, TW_EVENT_DESCRIBE_WORKFLOW)); /* the dev server ignores the bearer token */
    cr_assert(proxy_saw(p, mark, call_value), "the call's header was not sent");
    cr_assert(proxy_saw(p, mark, over_value), "the call's value of x-over was not sent");
    cr_assert(proxy_saw(p, mark, conn_value), "the client's own header was not sent");
    cr_assert(!proxy_saw(p, mark, parent_value), "x-over was sent with the client's value too");
    cr_assert(!proxy_saw(p, mark, "parent-key"), "the client's authorization was sent too");

    /* The derived client is freed: the parent's calls carry only the parent's headers. */
    tw_client_free(d);
    mark = proxy_mark(p);
    call_ok(tw_client_describe_workflow(parent, id, run_id, cq, 161), "describe");
    tw_event_free(next_ok(161, TW_EVENT_DESCRIBE_WORKFLOW));
    cr_assert(proxy_saw(p, mark, parent_value));
    cr_assert(proxy_saw(p, mark, "Bearer parent-key"));
    cr_assert(!proxy_saw(p, mark, call_value), "a call option leaked into the parent's calls");

    /* Derived from a derived client: the options add up, the later ones winning. */
    const char *const first[] = {"x-a", "first-a", "x-b", "first-b", NULL};
    const char *const second[] = {"x-b", "second-b", NULL};
    tw_client *d1 = derive(parent, first, 0);
    tw_client *d2 = derive(d1, second, 0);
    tw_client_free(d1); /* d2 stands alone */
    mark = proxy_mark(p);
    call_ok(tw_client_describe_workflow(d2, id, run_id, cq, 162), "describe from a derived derived client");
    tw_event_free(next_ok(162, TW_EVENT_DESCRIBE_WORKFLOW));
    cr_assert(proxy_saw(p, mark, "first-a"));
    cr_assert(proxy_saw(p, mark, "second-b"));
    cr_assert(!proxy_saw(p, mark, "first-b"));
    cr_assert_str_eq(tw_client_namespace(d2), "default");
    cr_assert_str_eq(tw_client_identity(d2), tw_client_identity(parent));
    tw_client_free(d2);

    tw_client_free(parent);
    proxy_stop(p);
    terminate(id, "test over", NULL);
    free(run_id);
}

Test(client, bad_call_options_are_rejected)
{
    tw_call_options co;
    tw_call_options_init(&co);
    cr_assert_eq(co.size, sizeof(co));
    cr_assert_null(co.metadata);
    cr_assert_eq(co.rpc_timeout_ms, 0);
    tw_client *d = (tw_client *)1;

    const char *const upper[] = {"X-Per-Call", "v", NULL};
    co.metadata = upper;
    cr_assert_eq(tw_client_with_call_options(client, &co, &d), TW_EINVAL);
    cr_assert_null(d);
    const char *msg = tw_error_message(tw_error_last());
    cr_assert(strstr(msg, "X-Per-Call") && strstr(msg, "tw_call_options.metadata"), "%s", msg);

    const char *const odd[] = {"x-lonely", NULL};
    co.metadata = odd;
    cr_assert_eq(tw_client_with_call_options(client, &co, &d), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "x-lonely"), "%s", tw_error_message(tw_error_last()));

    const char *const newline[] = {"x-bad", "two\nlines", NULL};
    co.metadata = newline;
    cr_assert_eq(tw_client_with_call_options(client, &co, &d), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "x-bad"), "%s", tw_error_message(tw_error_last()));

    /* 28 pairs at most, counting the ones inherited from a derived parent */
    static char keys[29][16];
    const char *many[2 * 29 + 1] = {NULL};
    for (int i = 0; i < 29; i++) {
        snprintf(keys[i], sizeof(keys[i]), "x-h-%d", i);
        many[2 * i] = keys[i];
        many[2 * i + 1] = "v";
    }
    co.metadata = many;
    cr_assert_eq(tw_client_with_call_options(client, &co, &d), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "at most 28"), "%s", tw_error_message(tw_error_last()));
    many[2 * 28] = NULL;
    tw_client *full = derive(client, many, 0);
    const char *const one_more[] = {"x-one-more", "v", NULL};
    co.metadata = one_more;
    cr_assert_eq(tw_client_with_call_options(full, &co, &d), TW_EINVAL);
    const char *const replacing[] = {"x-h-0", "w", NULL}; /* replaces one: still 28 */
    co.metadata = replacing;
    tw_client *still_full = derive(full, replacing, 0);
    tw_client_free(still_full);
    tw_client_free(full);

    co.metadata = NULL;
    co.rpc_timeout_ms = -1;
    cr_assert_eq(tw_client_with_call_options(client, &co, &d), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "rpc_timeout_ms"), "%s", tw_error_message(tw_error_last()));
    co.rpc_timeout_ms = 0;
    co.size = 0;
    cr_assert_eq(tw_client_with_call_options(client, &co, &d), TW_EINVAL);
    co.size = sizeof(co);
    cr_assert_eq(tw_client_with_call_options(NULL, &co, &d), TW_EINVAL);
    cr_assert_eq(tw_client_with_call_options(client, NULL, &d), TW_EINVAL);
    cr_assert_eq(tw_client_with_call_options(client, &co, NULL), TW_EINVAL);

    /* An older caller's smaller struct (no rpc_timeout_ms) is fine: the missing field keeps its default. */
    struct {
        size_t size;
        const char *const *metadata;
    } old = {sizeof(old), NULL};
    cr_assert_eq(tw_client_with_call_options(client, (const tw_call_options *)&old, &d), 0);
    tw_client_free(d);

    cr_assert_eq(tw_client_cancel_call(NULL, cq, 1), TW_EINVAL);
    cr_assert_eq(tw_client_cancel_call(client, NULL, 1), TW_EINVAL);
}

/* Queries a workflow nobody runs through c and returns how long the failure took (ms). */
static int64_t timed_out_query(tw_client *c, const char *workflow_id, uint64_t tag)
{
    tw_query_options qo;
    tw_query_options_init(&qo);
    qo.workflow_id = workflow_id;
    qo.query_type = "__stack_trace";
    int64_t t0 = now_ms();
    call_ok(tw_client_query_workflow(c, &qo, cq, tag), "query");
    tw_event *ev = next_event(tag, TW_EVENT_QUERY_WORKFLOW);
    int64_t took = now_ms() - t0;
    cr_assert_eq(tw_event_status(ev), TW_ETIMEDOUT, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    cr_assert_eq(tw_error_grpc_status(tw_event_error(ev)), 4 /* DEADLINE_EXCEEDED */);
    tw_event_free(ev);
    return took;
}

Test(client, call_rpc_timeout_bounds_a_query_and_the_client_default_stays)
{
    char id[64];
    unique_id(id, sizeof(id), "c-call-timeout");
    char *run_id = start_workflow(id);
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    o.rpc_timeout_ms = 4000;
    tw_client *parent = new_client(&o);
    tw_client *quick = derive(parent, NULL, 500);

    int64_t quick_ms = timed_out_query(quick, id, 170);
    cr_assert_lt(quick_ms, 2500, "the 500 ms call deadline was not used: %lld ms", (long long)quick_ms);
    int64_t default_ms = timed_out_query(parent, id, 171);
    cr_assert_geq(default_ms, 3500, "the parent's 4 s deadline was not used: %lld ms", (long long)default_ms);
    cr_log_info("query deadline: %lld ms with a 500 ms call option, %lld ms with the client's 4 s",
                (long long)quick_ms, (long long)default_ms);

    tw_client_free(quick);
    tw_client_free(parent);
    terminate(id, "test over", NULL);
    free(run_id);
}

Test(client, short_call_rpc_timeout_still_gets_a_result)
{
    char id[64];
    unique_id(id, sizeof(id), "c-call-timeout-result");
    char *run_id = start_workflow(id);
    tw_cq *rq = new_cq();
    tw_client *d = derive(client, NULL, 300); /* each long poll runs out after 300 ms and is polled again */
    start_result(d, id, rq, 175);
    tw_client_free(d); /* the call goes on */
    sleep_ms(1500);
    tw_event *ev = NULL;
    cr_assert_eq(tw_cq_next(rq, 0, &ev), TW_EAGAIN, "the result came before the workflow closed");
    cr_assert_eq(tw_cq_pending(rq), 1);
    terminate(id, "done", NULL);
    ev = next_result(rq, 175);
    cr_assert_eq(tw_event_status(ev), 0, "%s", tw_error_message(tw_event_error(ev)));
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_TERMINATED);
    cr_assert_str_eq(tw_event_run_id(ev), run_id);
    tw_event_free(ev);
    tw_cq_free(rq);
    free(run_id);
}

Test(client, cancel_call_stops_a_result_poll_and_nothing_else)
{
    char a[64], b[64];
    unique_id(a, sizeof(a), "c-cancel-call-a");
    unique_id(b, sizeof(b), "c-cancel-call-b");
    char *run_a = start_workflow(a);
    char *run_b = start_workflow(b);
    tw_cq *rq = new_cq();
    start_result(client, a, rq, 180);
    start_result(client, b, rq, 181);
    sleep_ms(300); /* let both long polls reach the server */
    cr_assert_eq(tw_cq_pending(rq), 2);

    /* unknown tags: no-ops */
    cr_assert_eq(tw_client_cancel_call(client, rq, 999), 0);
    cr_assert_eq(tw_client_cancel_call(client, cq, 180), 0, "the same tag on another queue is another call");
    tw_event *ev = NULL;
    cr_assert_eq(tw_cq_next(rq, 300, &ev), TW_ETIMEDOUT, "a cancel of an unknown call completed something");

    int64_t t0 = now_ms();
    cr_assert_eq(tw_client_cancel_call(client, rq, 180), 0);
    ev = next_result(rq, 180);
    int64_t took = now_ms() - t0;
    cr_assert_eq(tw_event_status(ev), TW_ECANCELLED, "got %s: %s", tw_strerror(tw_event_status(ev)),
                 tw_error_message(tw_event_error(ev)));
    cr_assert_lt(took, 1000, "cancel took %lld ms", (long long)took);
    tw_event_free(ev);
    cr_assert_eq(tw_cq_pending(rq), 1, "the other result poll is still waiting");

    /* The client goes on working, and the other poll sees its workflow close. */
    call_ok(tw_client_describe_workflow(client, a, run_a, cq, 182), "describe");
    tw_event_free(next_ok(182, TW_EVENT_DESCRIBE_WORKFLOW));
    terminate(b, "done", NULL);
    ev = next_result(rq, 181);
    cr_assert_eq(tw_event_status(ev), 0, "%s", tw_error_message(tw_event_error(ev)));
    cr_assert_eq(tw_event_outcome(ev), TW_OUTCOME_TERMINATED);
    tw_event_free(ev);
    /* cancelling calls that already completed: no-ops */
    cr_assert_eq(tw_client_cancel_call(client, rq, 180), 0);
    cr_assert_eq(tw_client_cancel_call(client, rq, 181), 0);
    cr_assert_eq(tw_cq_next(rq, 200, &ev), TW_ETIMEDOUT);
    cr_assert_eq(tw_cq_pending(rq), 0);

    /* through a derived client: cancelled by the parent's handle, or its own */
    tw_client *d = derive(client, NULL, 0);
    start_result(d, a, rq, 183);
    start_result(d, a, rq, 184);
    sleep_ms(200);
    cr_assert_eq(tw_client_cancel_call(client, rq, 183), 0);
    cr_assert_eq(tw_client_cancel_call(d, rq, 184), 0);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(tw_cq_next(rq, 5000, &ev), 0);
        cr_assert_eq(tw_event_status(ev), TW_ECANCELLED);
        tw_event_free(ev);
    }
    tw_client_free(d);
    tw_cq_free(rq);
    terminate(a, "test over", NULL);
    free(run_a);
    free(run_b);
}

Test(client, cancel_call_reaches_every_step_of_a_multi_rpc_call)
{
    char id[64];
    unique_id(id, sizeof(id), "c-cancel-steps");
    char *run_id = start_workflow(id);
    /*
     * Without a run id, a result first pins the latest run (DescribeWorkflowExecution), then
     * long-polls the history. Cancels at varying moments land before, during and between the
     * steps: every one must end the call with TW_ECANCELLED (a missed one would poll for 70 s).
     */
    for (int i = 0; i < 24; i++) {
        uint64_t tag = 1000 + (uint64_t)i;
        start_result(client, id, cq, tag);
        if (i % 4)
            sleep_ms((i * 3) % 17);
        cr_assert_eq(tw_client_cancel_call(client, cq, tag), 0);
        tw_event *ev = NULL;
        cr_assert_eq(tw_cq_next(cq, 5000, &ev), 0, "cancel %d did not end the call", i);
        cr_assert_eq(tw_event_tag(ev), tag);
        cr_assert_eq(tw_event_status(ev), TW_ECANCELLED, "cancel %d: got %s: %s", i,
                     tw_strerror(tw_event_status(ev)), tw_error_message(tw_event_error(ev)));
        tw_event_free(ev);
    }
    cr_assert_eq(tw_cq_pending(cq), 0);
    terminate(id, "test over", NULL);
    free(run_id);
}

Test(client, freeing_the_parent_cancels_the_calls_of_derived_clients)
{
    char id[64];
    unique_id(id, sizeof(id), "c-parent-freed");
    char *run_id = start_workflow(id);
    tw_client_options o;
    tw_client_options_init(&o);
    o.target = address;
    tw_client *parent = new_client(&o);
    tw_client *d = derive(parent, NULL, 0);
    start_result(d, id, cq, 190);
    sleep_ms(200);
    tw_client_free(parent);
    tw_event *ev = next_event(190, TW_EVENT_WORKFLOW_RESULT);
    cr_assert_eq(tw_event_status(ev), TW_ECANCELLED, "got %s", tw_strerror(tw_event_status(ev)));
    tw_event_free(ev);
    /* the derived client outlives its parent, but its connection is closed */
    tw_result_options ro;
    tw_result_options_init(&ro);
    ro.workflow_id = id;
    cr_assert_eq(tw_client_workflow_result(d, &ro, cq, 191), TW_ECLOSED);
    cr_assert_eq(tw_cq_pending(cq), 0);
    tw_client_free(d);
    terminate(id, "test over", NULL);
    free(run_id);
}
