/* tw/tw.h - umbrella header of libtemporal-workflow. */
#ifndef TW_TW_H
#define TW_TW_H

#include "common.h"
#include "errors.h"
#include "payload.h"
#include "failure.h"
#include "cq.h"
#include "runtime.h"
#include "client.h"
#include "activation.h"
#include "worker.h"
#include "activity.h"
#include "replay.h"
#include "workflow.h"

#endif
