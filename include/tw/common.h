/*
 * tw/common.h - shared macros, version and memory helpers of libtemporal-workflow.
 *
 * Every public header includes this one. Declarations sit between
 * TW_BEGIN_DECLS and TW_END_DECLS and carry TW_API; the Python binding's
 * cdef is produced from the headers by dropping preprocessor lines and
 * those three macros, so declarations use no other macros.
 */
#ifndef TW_COMMON_H
#define TW_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(TW_BUILDING_LIBRARY) && defined(__GNUC__)
#define TW_API __attribute__((visibility("default")))
#else
#define TW_API
#endif

#ifdef __cplusplus
#define TW_BEGIN_DECLS extern "C" {
#define TW_END_DECLS }
#else
#define TW_BEGIN_DECLS
#define TW_END_DECLS
#endif

/* Version of the headers; tw_version() reports the library's at run time. */
#define TW_VERSION_MAJOR 0
#define TW_VERSION_MINOR 1
#define TW_VERSION_PATCH 0

TW_BEGIN_DECLS

/* Returns the library version as "MAJOR.MINOR.PATCH". Static string; any thread. */
TW_API const char *tw_version(void);

/*
 * Frees a string or byte buffer that a tw_* function documented as
 * "owned by the caller, free with tw_free". NULL is a no-op. Any thread.
 */
TW_API void tw_free(void *ptr);

/*
 * Priority of a workflow, an activity or a child workflow
 * (temporal.api.common.v1.Priority): how the server orders their tasks when
 * a task queue has a backlog. Lower priority keys go first; within a key,
 * tasks of different fairness keys are dispatched in proportion to their
 * weights. A field left unset (0, NULL or "") is inherited from the
 * workflow that starts the activity or child, else the server's default
 * applies (key: the middle of 1..maximum, 3 with the default maximum of 5;
 * weight 1.0). Taken by tw_start_workflow_options, tw_activity_options and
 * tw_child_workflow_options; read back with tw_job_priority, tw_wf_priority,
 * tw_execution_priority. Options that take one reject, with TW_EINVAL
 * naming the field, a negative priority_key, a fairness_key longer than 64
 * bytes or not UTF-8, and a fairness_weight that is negative or not finite.
 */
typedef struct tw_priority {
    size_t size;
    int32_t priority_key;      /* 1 is the most urgent; 0: unset */
    const char *fairness_key;  /* a tenant, say; at most 64 bytes; NULL or "": unset */
    float fairness_weight;     /* > 0 (the server clamps it to 0.001..1000); 0: unset */
} tw_priority;

/* Fills p with size and the unset values. Any thread. */
TW_API void tw_priority_init(tw_priority *p);

TW_END_DECLS

#endif
