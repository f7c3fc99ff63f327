"""Generates the cffi extension source (API mode, out of line) from the public headers.

The cdef is the headers themselves with comments, preprocessor lines and
the TW_API / TW_BEGIN_DECLS / TW_END_DECLS markers removed, so it cannot
drift from the C declarations.

usage: gen_ffi.py INCLUDE_TW_DIR OUT_C
"""
import re
import sys
from pathlib import Path

import cffi

# Dependency order: each header only uses types declared before it.
HEADERS = ["common.h", "errors.h", "payload.h", "failure.h", "cq.h", "runtime.h", "client.h", "activation.h", "worker.h", "workflow.h", "activity.h", "replay.h"]
# Callbacks of tw_wf_callbacks implemented in Python (temporalio/_workflow_instance.py,
# @ffi.def_extern): they dispatch on the integer in user_data, never on a pointer.
EXTERN_PYTHON = """
extern "Python" void _tw_py_wf_start(tw_wf_instance *, const char *, const tw_payloads *, void *);
extern "Python" int _tw_py_wf_signal(tw_wf_instance *, const char *, const tw_payloads *, const tw_payloads *, void *);
extern "Python" void _tw_py_wf_query(tw_wf_instance *, const char *, const tw_payloads *, const tw_payloads *,
                                     tw_payloads *, const char **, void *);
extern "Python" void _tw_py_wf_cancel_requested(tw_wf_instance *, const char *, void *);
extern "Python" void _tw_py_wf_resolved(tw_wf_instance *, tw_op *, uint64_t, int, const tw_payloads *,
                                        const tw_failure *, void *);
extern "Python" void _tw_py_wf_scope_cancelled(tw_wf_instance *, tw_scope *, uint64_t, void *);
extern "Python" void _tw_py_wf_drain(tw_wf_instance *, void *);
extern "Python" void _tw_py_wf_evict(tw_wf_instance *, int, const char *, void *);
extern "Python" void _tw_py_wf_child_started(tw_wf_instance *, tw_op *, uint64_t, const char *, void *);
"""
MARKERS = re.compile(r"\b(TW_API|TW_BEGIN_DECLS|TW_END_DECLS)\b")


def cdef_of(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return MARKERS.sub("", "\n".join(lines))


def main() -> None:
    include_dir, out = Path(sys.argv[1]), sys.argv[2]
    ffi = cffi.FFI()
    ffi.cdef("\n".join(cdef_of((include_dir / h).read_text()) for h in HEADERS) + EXTERN_PYTHON)
    ffi.set_source("temporalio._tw", "#include <tw/tw.h>")
    ffi.emit_c_code(out)


if __name__ == "__main__":
    main()
