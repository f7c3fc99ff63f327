/* lib/worker - the workflow worker behind tw_worker. Private to the library. */
#ifndef TW_LIB_WORKER_H
#define TW_LIB_WORKER_H

#include "common/common.h"

#endif
