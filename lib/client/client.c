/* tw_client: creation, options, connect, and the op plumbing every call uses. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"

void tw_client_options_init(tw_client_options *o)
{
    if (!o)
        return;
    *o = (tw_client_options){.size = sizeof(*o), .namespace_name = "default", .rpc_timeout_ms = 10000,
                             .connect_timeout_ms = 10000};
}

int check_required(const char *fn, const char *field, const char *value)
{
    if (tw_str_empty(value))
        return tw_set_error(TW_EINVAL, "%s: %s is required and must not be empty", fn, field);
    return check_utf8(fn, field, value);
}

int check_utf8(const char *fn, const char *field, const char *value)
{
    if (value && !tw_utf8_valid(value, strlen(value)))
        return tw_set_error(TW_EINVAL, "%s: %s is not valid UTF-8", fn, field);
    return 0;
}

static char *default_identity(void)
{
    char host[256] = "unknown-host";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    return tw_sprintf("%d@%s", (int)getpid(), host);
}

int tw_client_new(tw_runtime *rt, const tw_client_options *options, tw_client **out)
{
    static const char fn[] = "tw_client_new";
    if (!out)
        return tw_set_error(TW_EINVAL, "%s: out must not be NULL", fn);
    *out = NULL;
    if (!rt || !options)
        return tw_set_error(TW_EINVAL, "%s: rt and options must not be NULL", fn);
    if (options->size < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: options->size is %zu; call tw_client_options_init first", fn,
                            options->size);
    tw_client_options o;
    tw_client_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    int rc = check_required(fn, "target", o.target);
    if (!rc)
        rc = check_required(fn, "namespace_name", o.namespace_name);
    if (!rc)
        rc = check_utf8(fn, "identity", o.identity);
    if (rc)
        return rc;
    if (o.rpc_timeout_ms < 0 || o.connect_timeout_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: timeouts must not be negative", fn);
    tw_client *c = calloc(1, sizeof(*c));
    if (!c)
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    bool tls = o.tls || o.tls_root_ca_pem || o.tls_client_cert_pem || o.tls_client_key_pem || o.tls_server_name;
    tw_rpc_channel_config cfg = {
        .target = o.target, .tls = tls, .tls_root_ca_pem = o.tls_root_ca_pem,
        .tls_client_cert_pem = o.tls_client_cert_pem, .tls_client_key_pem = o.tls_client_key_pem,
        .tls_server_name = o.tls_server_name, .namespace_name = o.namespace_name, .api_key = o.api_key,
        .metadata = o.metadata,
    };
    rc = tw_rpc_channel_new(rt->loop, &cfg, &c->ch);
    if (rc) {
        free(c);
        return rc;
    }
    c->namespace_name = tw_strdup(o.namespace_name);
    c->identity = tw_str_empty(o.identity) ? default_identity() : tw_strdup(o.identity);
    c->rpc_timeout_ms = o.rpc_timeout_ms ? o.rpc_timeout_ms : 10000;
    c->connect_timeout_ms = o.connect_timeout_ms ? o.connect_timeout_ms : 10000;
    c->rt = rt;
    tw_runtime_ref(rt);
    c->eager = eager_registry_new();
    if (!c->namespace_name || !c->identity || !c->eager) {
        tw_client_free(c);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    *out = c;
    return 0;
}

void tw_client_free(tw_client *client)
{
    if (!client)
        return;
    if (client->derived)
        tw_rpc_channel_unref(client->ch); /* its calls in flight go on; the parent owns the connection */
    else
        tw_rpc_channel_close(client->ch);
    tw_rpc_metadata_unref(client->call_md);
    tw_runtime_unref(client->rt);
    eager_registry_unref(client->eager);
    free(client->namespace_name);
    free(client->identity);
    free(client);
}

const char *tw_client_namespace(const tw_client *client)
{
    return client ? client->namespace_name : "";
}

const char *tw_client_identity(const tw_client *client)
{
    return client ? client->identity : "";
}

int tw_client_set_api_key(tw_client *client, const char *api_key)
{
    if (!client)
        return tw_set_error(TW_EINVAL, "tw_client_set_api_key: client must not be NULL");
    int rc = check_utf8("tw_client_set_api_key", "api_key", api_key);
    return rc ? rc : tw_rpc_channel_set_api_key(client->ch, api_key);
}

/* ---- per-call options and cancellation ---- */

void tw_call_options_init(tw_call_options *o)
{
    if (o)
        *o = (tw_call_options){.size = sizeof(*o)};
}

int tw_client_with_call_options(tw_client *client, const tw_call_options *options, tw_client **out)
{
    static const char fn[] = "tw_client_with_call_options";
    if (!out)
        return tw_set_error(TW_EINVAL, "%s: out must not be NULL", fn);
    *out = NULL;
    if (!client || !options)
        return tw_set_error(TW_EINVAL, "%s: client and options must not be NULL", fn);
    if (options->size < sizeof(size_t) * 2)
        return tw_set_error(TW_EINVAL, "%s: options->size is %zu; call tw_call_options_init first", fn,
                            options->size);
    tw_call_options o;
    tw_call_options_init(&o);
    tw_copy_options(&o, sizeof(o), options);
    if (o.rpc_timeout_ms < 0)
        return tw_set_error(TW_EINVAL, "%s: tw_call_options.rpc_timeout_ms must not be negative, got %lld", fn,
                            (long long)o.rpc_timeout_ms);
    tw_rpc_metadata *md = NULL;
    int rc = tw_rpc_metadata_new("tw_call_options.metadata", client->call_md, o.metadata, &md);
    if (rc)
        return rc;
    tw_client *c = calloc(1, sizeof(*c));
    if (c) {
        c->namespace_name = tw_strdup(client->namespace_name);
        c->identity = tw_strdup(client->identity);
    }
    if (!c || !c->namespace_name || !c->identity) {
        if (c) {
            free(c->namespace_name);
            free(c->identity);
            free(c);
        }
        tw_rpc_metadata_unref(md);
        return tw_set_error(TW_ENOMEM, "%s: out of memory", fn);
    }
    c->rt = client->rt;
    tw_runtime_ref(c->rt);
    c->ch = client->ch;
    tw_rpc_channel_ref(c->ch);
    c->derived = true;
    c->eager = eager_registry_ref(client->eager);
    c->call_md = md;
    c->rpc_timeout_ms = o.rpc_timeout_ms ? o.rpc_timeout_ms : client->rpc_timeout_ms;
    c->connect_timeout_ms = client->connect_timeout_ms;
    c->long_poll_timeout_ms = o.rpc_timeout_ms ? o.rpc_timeout_ms : client->long_poll_timeout_ms;
    *out = c;
    return 0;
}

int tw_client_cancel_call(tw_client *client, tw_cq *cq, uint64_t tag)
{
    if (!client || !cq)
        return tw_set_error(TW_EINVAL, "tw_client_cancel_call: client and cq must not be NULL");
    tw_rpc_cancel_keyed(client->ch, cq, tag);
    return 0;
}

/* ---- ops ---- */

client_op *client_op_new(tw_client *client, int kind, tw_cq *cq, uint64_t tag, client_step_fn step)
{
    client_op *op = calloc(1, sizeof(*op));
    if (op) {
        op->ev = tw_event_create(kind, tag);
        op->namespace_name = tw_strdup(client->namespace_name);
    }
    if (!op || !op->ev || !op->namespace_name) {
        if (op) {
            tw_event_free(op->ev);
            free(op->namespace_name);
            free(op);
        }
        tw_set_error(TW_ENOMEM, "out of memory");
        return NULL;
    }
    op->ch = client->ch;
    op->cq = cq;
    op->tag = tag;
    op->step = step;
    op->timeout_ms = client->rpc_timeout_ms;
    op->long_poll_timeout_ms = client->long_poll_timeout_ms;
    op->budget_ms = 10000;
    op->md = tw_rpc_metadata_ref(client->call_md);
    return op;
}

static void op_free(client_op *op)
{
    if (op->eager)
        op->eager->deliver(op->eager, NULL); /* no task came: the slot goes back */
    tw_rpc_metadata_unref(op->md);
    free(op->namespace_name);
    free(op->workflow_id);
    free(op->run_id);
    free(op->token);
    free(op);
}

static void on_reply(tw_rpc_reply *reply, void *arg)
{
    client_op *op = arg;
    op->step(op, reply);
    tw_rpc_reply_clear(reply);
}

int client_op_call(client_op *op, const char *method, const ProtobufCMessage *req,
                   const ProtobufCMessageDescriptor *resp, int retry)
{
    tw_rpc_request r = {
        .method = method, .message = req, .response_type = resp, .retry = retry,
        .timeout_ms = retry != TW_RPC_LONG_POLL ? op->timeout_ms
                      : op->long_poll_timeout_ms > 0 ? op->long_poll_timeout_ms : 70000,
        .budget_ms = op->budget_ms, .done = on_reply, .arg = op, .deadline_is_final = op->deadline_is_final,
        .metadata = op->md, .cancel_key = op->cq, .cancel_tag = op->tag,
    };
    return tw_rpc_start(op->ch, &r);
}

void client_op_finish(client_op *op, const tw_error *err)
{
    if (err)
        tw_event_fail(op->ev, err);
    tw_cq_push(op->cq, op->ev);
    op_free(op);
}

void client_op_abort(client_op *op)
{
    tw_event_free(op->ev);
    op_free(op);
}

/* ---- connect: GetSystemInfo, then DescribeNamespace ---- */

static void connect_described(client_op *op, tw_rpc_reply *reply)
{
    tw_error *err = reply->error;
    if (err && err->code == TW_ENOTFOUND) {
        tw_error *nf = tw_error_create(TW_ENOTFOUND, err->grpc_status, "namespace \"%s\" does not exist",
                                       op->namespace_name);
        client_op_finish(op, nf ? nf : err);
        tw_error_destroy(nf);
        return;
    }
    client_op_finish(op, err);
}

static void connect_checked(client_op *op, tw_rpc_reply *reply)
{
    if (reply->error) {
        tw_error *err = reply->error;
        if (err->code == TW_EUNAVAILABLE || err->code == TW_ETIMEDOUT) {
            tw_error *un = tw_error_create(TW_EUNAVAILABLE, err->grpc_status,
                                           "cannot reach the Temporal server: %s", err->message);
            client_op_finish(op, un ? un : err);
            tw_error_destroy(un);
        } else {
            client_op_finish(op, err);
        }
        return;
    }
    Temporal__Api__Workflowservice__V1__DescribeNamespaceRequest req =
        TEMPORAL__API__WORKFLOWSERVICE__V1__DESCRIBE_NAMESPACE_REQUEST__INIT;
    req.namespace_ = op->namespace_name;
    op->step = connect_described;
    if (client_op_call(op, "DescribeNamespace", &req.base,
                       &temporal__api__workflowservice__v1__describe_namespace_response__descriptor,
                       TW_RPC_RETRY) != 0)
        client_op_finish(op, tw_error_last());
}

int tw_client_connect(tw_client *client, tw_cq *cq, uint64_t tag)
{
    if (!client || !cq)
        return tw_set_error(TW_EINVAL, "tw_client_connect: client and cq must not be NULL");
    client_op *op = client_op_new(client, TW_EVENT_CONNECT, cq, tag, connect_checked);
    if (!op)
        return TW_ENOMEM;
    op->budget_ms = client->connect_timeout_ms;
    op->timeout_ms = client->connect_timeout_ms < client->rpc_timeout_ms ? client->connect_timeout_ms
                                                                         : client->rpc_timeout_ms;
    Temporal__Api__Workflowservice__V1__GetSystemInfoRequest req =
        TEMPORAL__API__WORKFLOWSERVICE__V1__GET_SYSTEM_INFO_REQUEST__INIT;
    return client_op_start(op, "GetSystemInfo", &req.base,
                           &temporal__api__workflowservice__v1__get_system_info_response__descriptor, TW_RPC_RETRY);
}

int client_op_start(client_op *op, const char *method, const ProtobufCMessage *req,
                    const ProtobufCMessageDescriptor *resp, int retry)
{
    tw_cq *cq = op->cq;
    tw_cq_expect(cq);
    int rc = client_op_call(op, method, req, resp, retry);
    if (rc) {
        tw_cq_push(cq, NULL); /* withdraws the expectation */
        client_op_abort(op);
    }
    return rc;
}
