/* lib/runtime - tw_wf_instance, the per-run workflow runtime. Private to the library. */
#ifndef TW_LIB_RUNTIME_H
#define TW_LIB_RUNTIME_H

#include "common/common.h"
#include "tw/workflow.h"

#endif
