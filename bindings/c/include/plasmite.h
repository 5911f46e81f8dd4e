/*
 * plasmite.h — the C ABI of plasmite (libplasmite), v0.
 *
 * Persistent JSON message pools in plain files. See spec/c-api.md for ownership, threading, error
 * codes and the versioning rules; this header is the reference for signatures.
 *
 * Conventions
 * - Every fallible function returns an int32_t status: PLSM_OK (0) or the error kind's code
 *   (PLSM_ERR_*). When `err` is not NULL, *err receives a new plsm_error_t on failure (free it with
 *   plsm_error_free) and NULL on success.
 * - Every pointer argument is checked: a NULL where a value is required is a PLSM_ERR_USAGE, never a
 *   crash. No panic crosses the boundary: a bug is reported as PLSM_ERR_INTERNAL.
 * - Strings passed in are NUL-terminated UTF-8 unless a length is given. Strings handed out are
 *   NUL-terminated UTF-8.
 * - Objects handed out are owned by the caller and freed by their one free function
 *   (plsm_client_free, plsm_pool_free, plsm_stream_free, plsm_message_free, plsm_buf_free,
 *   plsm_error_free); each free function accepts NULL. The one exception is the message returned by
 *   plsm_stream_next, which the stream owns (see there).
 * - Within ABI v0 changes are additive only: new functions, new constants, new fields at the end of
 *   library-allocated structs and of option structs (which carry struct_size first).
 */
#ifndef PLASMITE_H
#define PLASMITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versions ---------------------------------------------------------------------------------- */

#define PLSM_ABI_VERSION_MAJOR 0
#define PLSM_ABI_VERSION_MINOR 1
/* (major << 16) | minor: what plsm_abi_version() returns for the library this header describes. */
#define PLSM_ABI_VERSION ((PLSM_ABI_VERSION_MAJOR << 16) | PLSM_ABI_VERSION_MINOR)

/* The ABI version of the loaded library: (major << 16) | minor. A program built against minor M runs
 * against any library with the same major and a minor >= M. */
uint32_t plsm_abi_version(void);

/* The library's version string (e.g. "0.1.0"); static, never freed. */
const char *plsm_version(void);

/* ---- status codes: 0, then the stable error kinds in the contract's order ---------------------- */

#define PLSM_OK 0
#define PLSM_ERR_USAGE 1          /* bad input: arguments, JSON, names, sizes, URI refs */
#define PLSM_ERR_NOT_FOUND 2      /* the pool or the message does not exist */
#define PLSM_ERR_ALREADY_EXISTS 3 /* the pool already exists */
#define PLSM_ERR_BUSY 4           /* in use (e.g. deleting a pool a writer holds) */
#define PLSM_ERR_PERMISSION 5     /* the OS refused access, or the handle is read-only */
#define PLSM_ERR_CORRUPT 6        /* bytes on disk do not match the format */
#define PLSM_ERR_IO 7             /* any other operating-system error */
#define PLSM_ERR_INTERNAL 8       /* a bug in plasmite (including a caught panic) */
#define PLSM_ERR_RETENTION_GAP 9  /* a stream refusing gaps was lapped (seq = first missing); v0 addition */

/* The stable name of a status code ("Ok", "Usage", ..., "Internal"); "Unknown" for other values.
 * Static, never freed. */
const char *plsm_kind_name(int32_t kind);

/* ---- errors ------------------------------------------------------------------------------------ */

/* An error, allocated by the library; read its fields, free it with plsm_error_free. Fields may be
 * added at the end within v0: never allocate, copy by value or embed this struct. */
typedef struct plsm_error {
    int32_t kind;        /* PLSM_ERR_* */
    bool has_path;       /* path is set */
    bool has_seq;        /* seq is meaningful */
    bool has_offset;     /* offset is meaningful */
    const char *message; /* human message, never NULL */
    const char *hint;    /* what to do about it, or NULL */
    const char *path;    /* the file concerned, or NULL when !has_path */
    uint64_t seq;        /* the message concerned (when has_seq) */
    uint64_t offset;     /* byte offset in the pool file (when has_offset) */
} plsm_error_t;

void plsm_error_free(plsm_error_t *err);

/* ---- byte buffers ------------------------------------------------------------------------------ */

/* Bytes handed out by the library (JSON text): `len` bytes at `data`, followed by a NUL. Declare one
 * (e.g. `plsm_buf_t b = {0};`), pass its address, free its contents with plsm_buf_free. */
typedef struct plsm_buf {
    char *data;
    size_t len;
} plsm_buf_t;

/* Frees buf->data and resets *buf to {NULL, 0}. NULL and an empty buffer are fine. */
void plsm_buf_free(plsm_buf_t *buf);

/* ---- handles ----------------------------------------------------------------------------------- */

typedef struct plsm_client plsm_client_t; /* a pool directory; share between threads freely */
typedef struct plsm_pool plsm_pool_t;     /* an open pool; share between threads freely */
typedef struct plsm_stream plsm_stream_t; /* a tail; one thread calls next, any thread cancels */
typedef struct plsm_message plsm_message_t; /* a message (defined below) */

/* ---- pool refs --------------------------------------------------------------------------------- */

#define PLSM_REF_AUTO 0 /* the CLI rule: "scheme://..." URI, contains '/' path, "NAME.plasmite" name */
#define PLSM_REF_NAME 1 /* a name inside the client's directory: DIR/NAME.plasmite */
#define PLSM_REF_PATH 2 /* a path to a pool file */
#define PLSM_REF_URI 3  /* e.g. "tcp://host:9700/pool/chat": refused by the local client (Usage) */

/* ---- client ------------------------------------------------------------------------------------ */

/* A client over `pool_dir` (created, with parents, by the first create). */
int32_t plsm_client_new(const char *pool_dir, plsm_client_t **out, plsm_error_t **err);
void plsm_client_free(plsm_client_t *client);

/* Creates a pool of `size_bytes` (parent directories created as needed); AlreadyExists if it exists.
 * `out` may be NULL: the new pool is then closed. */
int32_t plsm_client_create_pool(const plsm_client_t *client, int32_t ref_kind, const char *ref,
                                uint64_t size_bytes, plsm_pool_t **out, plsm_error_t **err);

#define PLSM_OPEN_READ_ONLY 1u /* open read-only even when writing is permitted */

/* Opens an existing pool (NotFound when missing): read-write when permitted, else read-only. */
int32_t plsm_client_open_pool(const plsm_client_t *client, int32_t ref_kind, const char *ref,
                              uint32_t flags, plsm_pool_t **out, plsm_error_t **err);

/* The pool's info as a JSON object: the fields of `plasmite pool info --json` (name, path,
 * file_size, ring_size, bounds {oldest, newest} or {}, message_count, ...). */
int32_t plsm_client_pool_info(const plsm_client_t *client, int32_t ref_kind, const char *ref,
                              plsm_buf_t *out_json, plsm_error_t **err);

/* The pools of the directory as a JSON array sorted by name: each an info object, or
 * {"name", "path", "error": {...}} for a pool that could not be read. */
int32_t plsm_client_list_pools(const plsm_client_t *client, plsm_buf_t *out_json,
                               plsm_error_t **err);

/* Deletes a pool: NotFound when missing, Busy while a writer holds it. */
int32_t plsm_client_delete_pool(const plsm_client_t *client, int32_t ref_kind, const char *ref,
                                plsm_error_t **err);

/* ---- pool -------------------------------------------------------------------------------------- */

void plsm_pool_free(plsm_pool_t *pool);

/* The pool file's path as opened; valid until plsm_pool_free. NULL if pool is NULL. */
const char *plsm_pool_path(const plsm_pool_t *pool);

/* As plsm_client_pool_info, through this handle. */
int32_t plsm_pool_info(const plsm_pool_t *pool, plsm_buf_t *out_json, plsm_error_t **err);

#define PLSM_DURABILITY_FAST 0  /* in the page cache: survives the process, not a power cut */
#define PLSM_DURABILITY_FLUSH 1 /* synced to disk before returning */

/* Appends one JSON value (`json_len` bytes at `json`, validated, stored compact) with `tag_count`
 * tags. On success *out_msg (when out_msg is not NULL) receives the committed message. */
int32_t plsm_pool_append_json(const plsm_pool_t *pool, const char *json, size_t json_len,
                              const char *const *tags, size_t tag_count, int32_t durability,
                              plsm_message_t **out_msg, plsm_error_t **err);

/* The message `seq`; NotFound (has_seq) when it was never written or was evicted. */
int32_t plsm_pool_get(const plsm_pool_t *pool, uint64_t seq, plsm_message_t **out,
                      plsm_error_t **err);

/* ---- messages ---------------------------------------------------------------------------------- */

/* A message, allocated by the library. Read its fields; never allocate, copy by value or write it.
 * Private fields follow these ones. */
struct plsm_message {
    uint64_t seq;             /* position in the pool, from 1, without gaps */
    uint64_t time_ns;         /* commit time, ns since the Unix epoch */
    const char *data;         /* compact JSON text of the data, NUL-terminated */
    size_t data_len;          /* bytes at data, without the NUL */
    const char *const *tags;  /* tag_count NUL-terminated tags, in append order */
    size_t tag_count;
};

/* Frees a message from plsm_pool_append_json, plsm_pool_get or plsm_message_clone (never one that
 * plsm_stream_next returned). */
void plsm_message_free(plsm_message_t *msg);

/* An owned copy (e.g. to keep a message a stream returned). */
int32_t plsm_message_clone(const plsm_message_t *msg, plsm_message_t **out, plsm_error_t **err);

/* The envelope {"seq":N,"time":"RFC 3339 UTC","meta":{"tags":[...]},"data":...} as compact JSON. */
int32_t plsm_message_envelope(const plsm_message_t *msg, plsm_buf_t *out_json, plsm_error_t **err);

/* ---- tails ------------------------------------------------------------------------------------- */

/* Options of plsm_pool_tail. Zero-initialize, set struct_size = sizeof(plsm_tail_options_t), then the
 * fields you need: all zeros mean "from the live edge, unlimited, wait forever, every message". */
typedef struct plsm_tail_options {
    uint32_t struct_size;    /* sizeof(plsm_tail_options_t) as the caller compiled it */
    uint32_t flags;          /* reserved: 0 */
    uint64_t since_seq;      /* 0: only messages appended from now on; N: from seq N inclusive */
    uint64_t max;            /* 0: no limit; N: END after N delivered messages */
    uint64_t timeout_ms;     /* 0: next waits indefinitely; T: next returns TIMEOUT after T ms
                              * without a message (the stream stays usable) */
    const char *const *tags; /* only messages carrying every one of these tags */
    size_t tag_count;
} plsm_tail_options_t;

/* Starts a tail. `opts` may be NULL (all defaults). */
int32_t plsm_pool_tail(const plsm_pool_t *pool, const plsm_tail_options_t *opts,
                       plsm_stream_t **out, plsm_error_t **err);

#define PLSM_EVENT_MESSAGE 1   /* *out_msg is the next message (owned by the stream) */
#define PLSM_EVENT_LOST 2      /* *out_lost messages were overwritten before this reader got them */
#define PLSM_EVENT_TIMEOUT 3   /* timeout_ms passed without a message; next may be called again */
#define PLSM_EVENT_END 4       /* `max` messages were delivered; every later next returns END */
#define PLSM_EVENT_CANCELLED 5 /* plsm_stream_cancel was observed; every later next returns it */

/* Waits for the next event. On PLSM_OK, *out_event is a PLSM_EVENT_*; for MESSAGE *out_msg points to a
 * message owned by the stream, valid until the next call on this stream (plsm_message_clone keeps it);
 * for LOST *out_lost is the count. out_msg and out_lost may be NULL. A failure (e.g. Corrupt for a
 * damaged message) does not end the stream: the next call carries on after the damage.
 * Call it from one thread at a time (plsm_stream_cancel may come from any thread). */
int32_t plsm_stream_next(plsm_stream_t *stream, int32_t *out_event,
                         const plsm_message_t **out_msg, uint64_t *out_lost, plsm_error_t **err);

/* Cancels the stream from any thread: a blocked next returns CANCELLED promptly, and no message is
 * delivered after that. Safe to call concurrently with next and more than once; not after (or
 * concurrently with) plsm_stream_free. */
void plsm_stream_cancel(plsm_stream_t *stream);

void plsm_stream_free(plsm_stream_t *stream);

#ifdef __cplusplus
}
#endif

#endif /* PLASMITE_H */
