/*
 * Options structs: *_options_init sets size and the documented defaults;
 * the library reads only the caller's `size` bytes, so a binary built
 * against older (shorter) structs keeps the defaults of the newer fields.
 */
#include <stddef.h>
#include <string.h>

#include <criterion/criterion.h>

#include "common/common.h"

/* Fills a struct with garbage so init must set every field. */
#define SCRIBBLE(o) memset(&(o), 0xA5, sizeof(o))

Test(options, runtime_defaults)
{
    tw_runtime_options o;
    SCRIBBLE(o);
    tw_runtime_options_init(&o);
    cr_assert_eq(o.size, sizeof(o));
    cr_assert_null(o.log);
    cr_assert_null(o.log_user_data);
    cr_assert_eq(o.log_level, TW_LOG_INFO);
}

Test(options, client_defaults)
{
    tw_client_options o;
    SCRIBBLE(o);
    tw_client_options_init(&o);
    cr_assert_eq(o.size, sizeof(o));
    cr_assert_null(o.target);
    cr_assert_str_eq(o.namespace_name, "default");
    cr_assert_null(o.identity);
    cr_assert_null(o.api_key);
    cr_assert_eq(o.tls, 0);
    cr_assert_null(o.tls_root_ca_pem);
    cr_assert_null(o.tls_client_cert_pem);
    cr_assert_null(o.tls_client_key_pem);
    cr_assert_null(o.tls_server_name);
    cr_assert_null(o.metadata);
    cr_assert_eq(o.rpc_timeout_ms, 10000);
    cr_assert_eq(o.connect_timeout_ms, 10000);
}

Test(options, retry_policy_defaults)
{
    tw_retry_policy p;
    SCRIBBLE(p);
    tw_retry_policy_init(&p);
    cr_assert_eq(p.size, sizeof(p));
    cr_assert_eq(p.initial_interval_ms, 0);
    cr_assert_eq(p.backoff_coefficient, 0.0);
    cr_assert_eq(p.maximum_interval_ms, 0);
    cr_assert_eq(p.maximum_attempts, 0);
    cr_assert_null(p.non_retryable_error_types);
}

Test(options, start_workflow_defaults)
{
    tw_start_workflow_options o;
    SCRIBBLE(o);
    tw_start_workflow_options_init(&o);
    cr_assert_eq(o.size, sizeof(o));
    cr_assert_null(o.workflow_id);
    cr_assert_null(o.workflow_type);
    cr_assert_null(o.task_queue);
    cr_assert_null(o.args);
    cr_assert_eq(o.execution_timeout_ms, 0);
    cr_assert_eq(o.run_timeout_ms, 0);
    cr_assert_eq(o.task_timeout_ms, 0);
    cr_assert_eq(o.id_reuse_policy, TW_ID_REUSE_UNSPECIFIED);
    cr_assert_eq(o.id_conflict_policy, TW_ID_CONFLICT_UNSPECIFIED);
    cr_assert_null(o.retry_policy);
    cr_assert_null(o.cron_schedule);
    cr_assert_null(o.memo);
    cr_assert_null(o.search_attributes);
    cr_assert_null(o.headers);
    cr_assert_eq(o.start_delay_ms, 0);
    cr_assert_null(o.request_id);
    cr_assert_null(o.signal_name);
    cr_assert_null(o.signal_args);
}

Test(options, call_option_defaults)
{
    tw_signal_options s;
    SCRIBBLE(s);
    tw_signal_options_init(&s);
    cr_assert_eq(s.size, sizeof(s));
    cr_assert_null(s.workflow_id);
    cr_assert_null(s.run_id);
    cr_assert_null(s.signal_name);
    cr_assert_null(s.args);
    cr_assert_null(s.headers);
    cr_assert_null(s.request_id);

    tw_query_options q;
    SCRIBBLE(q);
    tw_query_options_init(&q);
    cr_assert_eq(q.size, sizeof(q));
    cr_assert_null(q.workflow_id);
    cr_assert_null(q.query_type);
    cr_assert_eq(q.reject_condition, TW_QUERY_REJECT_UNSPECIFIED);

    tw_close_options c;
    SCRIBBLE(c);
    tw_close_options_init(&c);
    cr_assert_eq(c.size, sizeof(c));
    cr_assert_null(c.workflow_id);
    cr_assert_null(c.run_id);
    cr_assert_null(c.first_execution_run_id);
    cr_assert_null(c.reason);
    cr_assert_null(c.details);
    cr_assert_null(c.request_id);

    tw_result_options r;
    SCRIBBLE(r);
    tw_result_options_init(&r);
    cr_assert_eq(r.size, sizeof(r));
    cr_assert_null(r.workflow_id);
    cr_assert_null(r.run_id);
    cr_assert_eq(r.follow_runs, 1, "results follow new runs by default");

    tw_history_options h;
    SCRIBBLE(h);
    tw_history_options_init(&h);
    cr_assert_eq(h.size, sizeof(h));
    cr_assert_null(h.workflow_id);
    cr_assert_null(h.next_page_token);
    cr_assert_eq(h.next_page_token_len, 0);
    cr_assert_eq(h.maximum_page_size, 0);
    cr_assert_eq(h.wait_new_event, 0);
    cr_assert_eq(h.close_event_only, 0);
    cr_assert_eq(h.skip_archival, 0);

    tw_list_options l;
    SCRIBBLE(l);
    tw_list_options_init(&l);
    cr_assert_eq(l.size, sizeof(l));
    cr_assert_null(l.query);
    cr_assert_null(l.next_page_token);
    cr_assert_eq(l.next_page_token_len, 0);
    cr_assert_eq(l.page_size, 0);
}

Test(options, init_null_is_harmless)
{
    tw_runtime_options_init(NULL);
    tw_client_options_init(NULL);
    tw_retry_policy_init(NULL);
    tw_start_workflow_options_init(NULL);
    tw_signal_options_init(NULL);
    tw_query_options_init(NULL);
    tw_close_options_init(NULL);
    tw_result_options_init(NULL);
    tw_history_options_init(NULL);
    tw_list_options_init(NULL);
}

Test(options, copy_reads_only_the_callers_size)
{
    /* An "old binary" knew tw_client_options only up to rpc_timeout_ms. */
    tw_client_options old;
    memset(&old, 0x5A, sizeof(old)); /* the bytes past its size are not its own */
    old.size = offsetof(tw_client_options, connect_timeout_ms);
    old.target = "old:7233";
    old.namespace_name = "ns";
    old.rpc_timeout_ms = 1234;

    tw_client_options o;
    tw_client_options_init(&o);
    tw_copy_options(&o, sizeof(o), &old);
    cr_assert_eq(o.size, sizeof(o), "the copy has the library's size");
    cr_assert_str_eq(o.target, "old:7233");
    cr_assert_str_eq(o.namespace_name, "ns");
    cr_assert_eq(o.rpc_timeout_ms, 1234);
    cr_assert_eq(o.connect_timeout_ms, 10000, "a field past the caller's size keeps its default");
}

Test(options, copy_from_a_shorter_result_options)
{
    tw_result_options old;
    memset(&old, 0, sizeof(old));
    old.size = offsetof(tw_result_options, follow_runs);
    old.workflow_id = "wf";
    old.follow_runs = 0; /* garbage beyond the old struct: must be ignored */

    tw_result_options o;
    tw_result_options_init(&o);
    tw_copy_options(&o, sizeof(o), &old);
    cr_assert_str_eq(o.workflow_id, "wf");
    cr_assert_null(o.run_id);
    cr_assert_eq(o.follow_runs, 1);
}

Test(options, copy_from_a_newer_larger_struct)
{
    /* A newer binary may pass a larger size: the library reads what it knows. */
    struct {
        tw_result_options known;
        int64_t future_field;
    } newer;
    memset(&newer, 0, sizeof(newer));
    tw_result_options_init(&newer.known);
    newer.known.size = sizeof(newer);
    newer.known.workflow_id = "wf";
    newer.known.follow_runs = 0;
    newer.future_field = 77;

    tw_result_options o;
    tw_result_options_init(&o);
    tw_copy_options(&o, sizeof(o), &newer);
    cr_assert_eq(o.size, sizeof(o));
    cr_assert_str_eq(o.workflow_id, "wf");
    cr_assert_eq(o.follow_runs, 0);
}

Test(options, runtime_new_with_old_sized_options)
{
    /* log_level lies past the old size: its garbage value must not be read. */
    tw_runtime_options old;
    tw_runtime_options_init(&old);
    old.size = offsetof(tw_runtime_options, log_level);
    old.log_level = 1000;
    tw_runtime *rt = NULL;
    cr_assert_eq(tw_runtime_new(&old, &rt), 0, "%s", tw_error_message(tw_error_last()));
    tw_runtime_free(rt);

    old.size = sizeof(old);
    cr_assert_eq(tw_runtime_new(&old, &rt), TW_EINVAL, "with the full size it is read and rejected");
    cr_assert_null(rt);
}

Test(options, size_too_small_is_rejected)
{
    tw_runtime_options o;
    tw_runtime_options_init(&o);
    o.size = 0;
    tw_runtime *rt = NULL;
    cr_assert_eq(tw_runtime_new(&o, &rt), TW_EINVAL);
    cr_assert(strstr(tw_error_message(tw_error_last()), "tw_runtime_options_init"));
}
