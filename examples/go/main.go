// A Go program on libtemporal-workflow through cgo: the C ABI used from
// another language. It runs a workflow ("GoTimerActivity": a 100 ms durable
// timer, then an activity, then completes with the activity's result) on
// the workflow runtime, executes the activity itself on the same worker,
// and starts the workflow and awaits its result with the C client.
//
//	go build -o go_ffi_example . && ./go_ffi_example HOST:PORT
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../build/lib -ltemporal-workflow -Wl,-rpath,${SRCDIR}/../../build/lib
#include <stdlib.h>
#include <tw/tw.h>

extern const tw_wf_callbacks *go_callbacks(void);
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"
)

const (
	opTimer    = 1
	opActivity = 2
)

const (
	tagPoll = iota + 1
	tagDone
	tagActivityPoll
	tagActivityDone
	tagConnect
	tagStart
	tagResult
	tagShutdown
)

// Workflow state per instance, keyed by the instance's C address.
type run struct {
	name string
}

var runs = map[uintptr]*run{}

func check(rc C.int, what string) {
	if rc != 0 {
		fmt.Fprintf(os.Stderr, "%s: %s: %s\n", what, C.GoString(C.tw_strerror(rc)),
			C.GoString(C.tw_error_message(C.tw_error_last())))
		os.Exit(1)
	}
}

func jsonPayloads(v any) *C.tw_payloads {
	b, _ := json.Marshal(v)
	var p *C.tw_payloads
	check(C.tw_payloads_new(&p), "payloads")
	s := C.CString(string(b))
	defer C.free(unsafe.Pointer(s))
	check(C.tw_payloads_add_json(p, s, nil), "payload")
	return p
}

func firstJSON(p *C.tw_payloads, out any) {
	var s *C.char
	if C.tw_payloads_count(p) == 0 || C.tw_payloads_data_string(p, 0, &s) != 0 {
		return
	}
	defer C.tw_free(unsafe.Pointer(s))
	_ = json.Unmarshal([]byte(C.GoString(s)), out)
}

//export goStart
func goStart(wf *C.tw_wf_instance, typ *C.char, args *C.tw_payloads) {
	r := &run{}
	firstJSON(args, &r.name)
	runs[uintptr(unsafe.Pointer(wf))] = r
	check(C.tw_wf_start_timer(wf, nil, 100, opTimer, nil), "timer")
}

//export goResolved
func goResolved(wf *C.tw_wf_instance, tag C.uint64_t, resolution C.int, result *C.tw_payloads, failure *C.tw_failure) {
	r := runs[uintptr(unsafe.Pointer(wf))]
	switch tag {
	case opTimer:
		var o C.tw_activity_options
		C.tw_activity_options_init(&o)
		typ := C.CString("go_greet")
		defer C.free(unsafe.Pointer(typ))
		args := jsonPayloads(r.name)
		defer C.tw_payloads_free(args)
		o.activity_type = typ
		o.args = args
		o.start_to_close_timeout_ms = 10000
		check(C.tw_wf_start_activity(wf, nil, &o, opActivity, nil), "activity")
	case opActivity:
		if resolution != C.TW_RESOLUTION_COMPLETED {
			msg := C.CString("activity failed: " + C.GoString(C.tw_failure_message(failure)))
			defer C.free(unsafe.Pointer(msg))
			check(C.tw_wf_fail(wf, msg, nil, 0, nil), "fail")
			return
		}
		check(C.tw_wf_complete(wf, result), "complete")
	}
}

// The activity, in Go.
func greet(name string) string { return "Hello from Go, " + name + "!" }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: go_ffi_example HOST:PORT")
		os.Exit(2)
	}
	stamp := time.Now().UnixNano()
	workflowID := C.CString(fmt.Sprintf("go-ffi-%d", stamp))
	queue := C.CString(fmt.Sprintf("go-ffi-%d", stamp))
	target := C.CString(os.Args[1])
	wfType := C.CString("GoTimerActivity")

	var rt *C.tw_runtime
	var cq *C.tw_cq
	var client *C.tw_client
	var worker *C.tw_worker
	check(C.tw_runtime_new(nil, &rt), "runtime")
	check(C.tw_cq_new(&cq), "cq")
	var co C.tw_client_options
	C.tw_client_options_init(&co)
	co.target = target
	check(C.tw_client_new(rt, &co, &client), "client")
	var wo C.tw_worker_options
	C.tw_worker_options_init(&wo)
	wo.task_queue = queue
	check(C.tw_worker_new(client, &wo, &worker), "worker")
	check(C.tw_client_connect(client, cq, tagConnect), "connect")
	check(C.tw_worker_poll_activation(worker, cq, tagPoll), "poll")
	check(C.tw_worker_poll_activity_task(worker, cq, tagActivityPoll), "poll activity")

	instances := map[string]*C.tw_wf_instance{}
	exit := 1
	for done := false; !done; {
		var ev *C.tw_event
		if C.tw_cq_next(cq, 60000, &ev) != 0 {
			fmt.Fprintln(os.Stderr, "nothing happened for 60 s")
			os.Exit(1)
		}
		tag := C.tw_event_tag(ev)
		if st := C.tw_event_status(ev); st != 0 {
			if (tag == tagPoll || tag == tagActivityPoll) && st == C.TW_ECLOSED {
				C.tw_event_free(ev)
				continue
			}
			fmt.Fprintf(os.Stderr, "event %d failed: %s\n", tag, C.GoString(C.tw_error_message(C.tw_event_error(ev))))
			os.Exit(1)
		}
		switch tag {
		case tagConnect:
			args := jsonPayloads("Gopher")
			var so C.tw_start_workflow_options
			C.tw_start_workflow_options_init(&so)
			so.workflow_id = workflowID
			so.workflow_type = wfType
			so.task_queue = queue
			so.args = args
			check(C.tw_client_start_workflow(client, &so, cq, tagStart), "start")
			C.tw_payloads_free(args)
		case tagStart:
			var ro C.tw_result_options
			C.tw_result_options_init(&ro)
			ro.workflow_id = workflowID
			check(C.tw_client_workflow_result(client, &ro, cq, tagResult), "result")
		case tagPoll:
			a := C.tw_event_take_activation(ev)
			runID := C.GoString(C.tw_activation_run_id(a))
			wf := instances[runID]
			if wf == nil {
				check(C.tw_wf_instance_new(C.go_callbacks(), nil, &wf), "instance")
				instances[runID] = wf
			}
			var c *C.tw_completion
			check(C.tw_wf_instance_activate(wf, a, &c), "activate")
			evicted := C.tw_activation_job_count(a) == 1 &&
				C.tw_job_kind_of(C.tw_activation_job(a, 0)) == C.TW_JOB_REMOVE_FROM_CACHE
			C.tw_activation_free(a)
			if evicted {
				delete(runs, uintptr(unsafe.Pointer(wf)))
				delete(instances, runID)
				C.tw_wf_instance_free(wf)
			}
			check(C.tw_worker_complete_activation(worker, c, cq, tagDone), "complete activation")
			check(C.tw_worker_poll_activation(worker, cq, tagPoll), "poll")
		case tagActivityPoll:
			t := C.tw_event_take_activity_task(ev)
			if C.tw_activity_task_kind_of(t) == C.TW_ACTIVITY_TASK_START {
				var name string
				firstJSON(C.tw_activity_task_args(t), &name)
				result := jsonPayloads(greet(name))
				var token *C.uint8_t
				var n C.size_t
				C.tw_activity_task_token(t, &token, &n)
				check(C.tw_worker_complete_activity_task(worker, token, n, result, cq, tagActivityDone), "complete activity")
				C.tw_payloads_free(result)
			}
			C.tw_activity_task_free(t)
			check(C.tw_worker_poll_activity_task(worker, cq, tagActivityPoll), "poll activity")
		case tagResult:
			var got string
			firstJSON(C.tw_event_payloads(ev), &got)
			fmt.Printf("GoTimerActivity result: %s\n", got)
			if strings.Contains(got, "Hello from Go, Gopher!") {
				exit = 0
			}
			check(C.tw_worker_shutdown(worker, cq, tagShutdown), "shutdown")
		case tagShutdown:
			done = true
		}
		C.tw_event_free(ev)
	}
	for _, wf := range instances {
		C.tw_wf_instance_free(wf)
	}
	C.tw_worker_free(worker)
	C.tw_client_free(client)
	C.tw_cq_free(cq)
	C.tw_runtime_free(rt)
	os.Exit(exit)
}
