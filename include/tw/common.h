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

TW_END_DECLS

#endif
