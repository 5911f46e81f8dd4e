/* test_abi.c — libplasmite from C: every exported function, each error kind a caller can cause, NULL
 * arguments, and threads (4 appenders while a 5th tails and a 6th cancels). Built by
 * bindings/c/tests/run.sh with -Wall -Wextra -Werror -fsanitize=address,undefined.
 * Usage: test_abi DIR (an empty scratch directory). */
#define _GNU_SOURCE
#include "plasmite.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

/* Layouts the Rust side asserts too (bindings/c/tests/abi.rs, struct_layouts_match_the_header). */
_Static_assert(sizeof(plsm_tail_options_t) == 48, "plsm_tail_options_t layout");
_Static_assert(sizeof(plsm_message_t) == 48, "plsm_message_t layout");
_Static_assert(sizeof(plsm_error_t) == 48, "plsm_error_t layout");
_Static_assert(sizeof(plsm_buf_t) == 16, "plsm_buf_t layout");
_Static_assert(offsetof(plsm_error_t, message) == 8, "plsm_error_t.message");
_Static_assert(offsetof(plsm_error_t, seq) == 32, "plsm_error_t.seq");
_Static_assert(offsetof(plsm_message_t, tags) == 32, "plsm_message_t.tags");
_Static_assert(offsetof(plsm_tail_options_t, tags) == 32, "plsm_tail_options_t.tags");

static int failures;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

static const char *dir;
static char path_buf[4096];

static const char *pool_file(const char *name) {
    snprintf(path_buf, sizeof path_buf, "%s/%s.plasmite", dir, name);
    return path_buf;
}

/* Checks a failed call: status, kind, and the has-flags (-1: not checked). */
#define expect_err(rc, e, kind, has_path, has_seq) expect_err_at(__LINE__, rc, &(e), kind, has_path, has_seq)
static void expect_err_at(int line, int32_t rc, plsm_error_t **ep, int32_t kind, int has_path, int has_seq) {
    int before = failures;
    plsm_error_t *e = *ep;
    *ep = NULL;
    CHECK(rc == kind);
    CHECK(e != NULL);
    if (e == NULL) return;
    CHECK(e->kind == kind);
    CHECK(e->message != NULL && e->message[0] != '\0');
    CHECK(e->has_path == (e->path != NULL));
    if (has_path >= 0) CHECK(e->has_path == (has_path != 0));
    if (has_seq >= 0) CHECK(e->has_seq == (has_seq != 0));
    if (failures != before)
        fprintf(stderr, "  (expect_err at line %d: rc %d, kind %d, message %s)\n", line, rc, e->kind, e->message);
    plsm_error_free(e);
}

static void test_versions_and_names(void) {
    CHECK(plsm_abi_version() == PLSM_ABI_VERSION);
    CHECK((plsm_abi_version() >> 16) == PLSM_ABI_VERSION_MAJOR);
    CHECK(strlen(plsm_version()) > 0);
    static const char *names[] = {"Ok", "Usage", "NotFound", "AlreadyExists", "Busy",
                                  "Permission", "Corrupt", "Io", "Internal", "RetentionGap"};
    for (int32_t k = 0; k <= PLSM_ERR_RETENTION_GAP; k++) CHECK(strcmp(plsm_kind_name(k), names[k]) == 0);
    CHECK(strcmp(plsm_kind_name(99), "Unknown") == 0);
    CHECK(strcmp(plsm_kind_name(-1), "Unknown") == 0);
}

static void test_null_arguments(plsm_client_t *c, plsm_pool_t *p) {
    plsm_error_t *e = NULL;
    plsm_client_t *c2 = NULL;
    plsm_pool_t *p2 = NULL;
    plsm_message_t *m = NULL;
    plsm_stream_t *s = NULL;
    plsm_buf_t b = {0};
    int32_t ev = 0;

    expect_err(plsm_client_new(NULL, &c2, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_new(dir, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_new("", &c2, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_create_pool(NULL, PLSM_REF_NAME, "x", 65536, &p2, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_create_pool(c, PLSM_REF_NAME, NULL, 65536, &p2, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_create_pool(c, 42, "x", 65536, &p2, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_open_pool(c, PLSM_REF_NAME, "events", 0, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_open_pool(c, PLSM_REF_NAME, "events", 0x80, &p2, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_pool_info(c, PLSM_REF_NAME, "events", NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_list_pools(NULL, &b, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_list_pools(c, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_delete_pool(c, PLSM_REF_NAME, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_info(NULL, &b, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_info(p, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_append_json(NULL, "1", 1, NULL, 0, 0, &m, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_append_json(p, NULL, 1, NULL, 0, 0, &m, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_append_json(p, "1", 1, NULL, 2, 0, &m, &e), e, PLSM_ERR_USAGE, 0, 0);
    const char *bad_tags[] = {"ok", NULL};
    expect_err(plsm_pool_append_json(p, "1", 1, bad_tags, 2, 0, &m, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_append_json(p, "1", 1, NULL, 0, 7, &m, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_get(NULL, 1, &m, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_get(p, 1, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_tail(NULL, NULL, &s, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_pool_tail(p, NULL, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    plsm_tail_options_t o;
    memset(&o, 0, sizeof o);
    o.struct_size = 8; /* too small */
    expect_err(plsm_pool_tail(p, &o, &s, &e), e, PLSM_ERR_USAGE, 0, 0);
    o.struct_size = sizeof o;
    o.flags = 1; /* unknown */
    expect_err(plsm_pool_tail(p, &o, &s, &e), e, PLSM_ERR_USAGE, 0, 0);
    o.flags = 0;
    o.tag_count = 1; /* tags NULL */
    expect_err(plsm_pool_tail(p, &o, &s, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_stream_next(NULL, &ev, NULL, NULL, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_message_clone(NULL, &m, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_message_envelope(NULL, &b, &e), e, PLSM_ERR_USAGE, 0, 0);
    /* err itself may be NULL: the status still says what happened. */
    CHECK(plsm_pool_get(NULL, 1, &m, NULL) == PLSM_ERR_USAGE);
    CHECK(plsm_pool_path(NULL) == NULL);
    /* Every free function accepts NULL. */
    plsm_client_free(NULL);
    plsm_pool_free(NULL);
    plsm_stream_free(NULL);
    plsm_stream_cancel(NULL);
    plsm_message_free(NULL);
    plsm_error_free(NULL);
    plsm_buf_free(NULL);
    plsm_buf_free(&b);
}

static void test_pool_operations(plsm_client_t *c, plsm_pool_t *p) {
    plsm_error_t *e = (plsm_error_t *)1; /* overwritten with NULL on success */
    plsm_message_t *m = NULL, *copy = NULL;
    plsm_buf_t b = {0};
    const char *tags[] = {"red", "blue"};

    CHECK(plsm_pool_append_json(p, " {\"a\" : [1, 2]} ", 16, tags, 2, PLSM_DURABILITY_FLUSH, &m, &e) == PLSM_OK);
    CHECK(e == NULL);
    CHECK(m != NULL && m->seq == 1 && m->time_ns > 0);
    CHECK(m != NULL && strcmp(m->data, "{\"a\":[1,2]}") == 0 && m->data_len == 11);
    CHECK(m != NULL && m->tag_count == 2 && strcmp(m->tags[0], "red") == 0 && strcmp(m->tags[1], "blue") == 0);
    CHECK(plsm_message_clone(m, &copy, &e) == PLSM_OK);
    plsm_message_free(m);
    CHECK(copy->seq == 1 && strcmp(copy->tags[1], "blue") == 0);
    CHECK(plsm_message_envelope(copy, &b, &e) == PLSM_OK);
    CHECK(strncmp(b.data, "{\"seq\":1,\"time\":\"", 17) == 0);
    CHECK(strstr(b.data, "\"meta\":{\"tags\":[\"red\",\"blue\"]},\"data\":{\"a\":[1,2]}}") != NULL);
    CHECK(strlen(b.data) == b.len);
    plsm_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);
    plsm_message_free(copy);

    CHECK(plsm_pool_append_json(p, "2", 1, NULL, 0, PLSM_DURABILITY_FAST, NULL, &e) == PLSM_OK);
    CHECK(plsm_pool_get(p, 2, &m, &e) == PLSM_OK && m->seq == 2 && m->tag_count == 0 && strcmp(m->data, "2") == 0);
    plsm_message_free(m);

    CHECK(strstr(plsm_pool_path(p), "events.plasmite") != NULL);
    CHECK(plsm_pool_info(p, &b, &e) == PLSM_OK);
    CHECK(strstr(b.data, "\"name\":\"events\"") != NULL);
    CHECK(strstr(b.data, "\"message_count\":2") != NULL);
    plsm_buf_free(&b);
    CHECK(plsm_client_pool_info(c, PLSM_REF_AUTO, "events.plasmite", &b, &e) == PLSM_OK);
    CHECK(strstr(b.data, "\"bounds\":{\"newest\":2,\"oldest\":1}") != NULL);
    plsm_buf_free(&b);
    CHECK(plsm_client_pool_info(c, PLSM_REF_PATH, pool_file("events"), &b, &e) == PLSM_OK);
    plsm_buf_free(&b);

    plsm_pool_t *other = NULL;
    CHECK(plsm_client_create_pool(c, PLSM_REF_NAME, "other", 65536, NULL, &e) == PLSM_OK);
    CHECK(plsm_client_open_pool(c, PLSM_REF_NAME, "other", 0, &other, &e) == PLSM_OK);
    plsm_pool_free(other);
    CHECK(plsm_client_list_pools(c, &b, &e) == PLSM_OK);
    CHECK(b.data[0] == '[' && strstr(b.data, "\"name\":\"events\"") < strstr(b.data, "\"name\":\"other\""));
    plsm_buf_free(&b);
    CHECK(plsm_client_delete_pool(c, PLSM_REF_NAME, "other", &e) == PLSM_OK);
}

static void test_error_kinds(plsm_client_t *c, plsm_pool_t *p) {
    plsm_error_t *e = NULL;
    plsm_pool_t *q = NULL;
    plsm_message_t *m = NULL;

    expect_err(plsm_client_open_pool(c, PLSM_REF_URI, "tcp://127.0.0.1:9700/pool/x", 0, &q, &e), e, PLSM_ERR_USAGE, 0, 0);
    expect_err(plsm_client_create_pool(c, PLSM_REF_NAME, "../up", 65536, &q, &e), e, PLSM_ERR_USAGE, -1, 0);
    expect_err(plsm_client_create_pool(c, PLSM_REF_NAME, "tiny", 10, &q, &e), e, PLSM_ERR_USAGE, -1, 0);
    expect_err(plsm_pool_append_json(p, "{nope", 5, NULL, 0, 0, &m, &e), e, PLSM_ERR_USAGE, -1, 0);
    expect_err(plsm_client_open_pool(c, PLSM_REF_NAME, "missing", 0, &q, &e), e, PLSM_ERR_NOT_FOUND, 1, 0);
    expect_err(plsm_pool_get(p, 999, &m, &e), e, PLSM_ERR_NOT_FOUND, 1, 1);
    expect_err(plsm_client_create_pool(c, PLSM_REF_NAME, "events", 65536, &q, &e), e, PLSM_ERR_ALREADY_EXISTS, 1, 0);

    /* Busy: another open file description holds the writer lock (as a writer mid-append does). */
    int fd = open(pool_file("events"), O_RDONLY);
    CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
    expect_err(plsm_client_delete_pool(c, PLSM_REF_NAME, "events", &e), e, PLSM_ERR_BUSY, 1, 0);
    close(fd);

    /* Permission: a read-only handle asked to append. */
    CHECK(plsm_client_open_pool(c, PLSM_REF_NAME, "events", PLSM_OPEN_READ_ONLY, &q, &e) == PLSM_OK);
    expect_err(plsm_pool_append_json(q, "1", 1, NULL, 0, 0, &m, &e), e, PLSM_ERR_PERMISSION, 1, 0);
    plsm_pool_free(q);

    /* Io: a pool path under a regular file (ENOTDIR). */
    char under[4200];
    snprintf(under, sizeof under, "%s/inner.plasmite", pool_file("events"));
    expect_err(plsm_client_open_pool(c, PLSM_REF_PATH, under, 0, &q, &e), e, PLSM_ERR_IO, 1, 0);

    /* Corrupt: a bad magic. */
    CHECK(plsm_client_create_pool(c, PLSM_REF_NAME, "broken", 65536, NULL, &e) == PLSM_OK);
    int wfd = open(pool_file("broken"), O_WRONLY);
    CHECK(wfd >= 0 && pwrite(wfd, "XXXX", 4, 0) == 4);
    close(wfd);
    CHECK(plsm_client_open_pool(c, PLSM_REF_NAME, "broken", 0, &q, &e) == PLSM_ERR_CORRUPT);
    CHECK(e != NULL && e->has_offset && e->offset == 0 && e->has_path);
    plsm_error_free(e);
    unlink(pool_file("broken"));
    /* Internal cannot be caused from outside; its code and name are checked in test_versions_and_names. */
}

/* ---- threads: 4 appenders, 1 tailer, 1 canceller ---------------------------------------------- */

#define WRITERS 4
#define PER_WRITER 500

struct writer_arg { plsm_client_t *client; plsm_pool_t *pool; int id; int ok; };
struct tail_arg { plsm_stream_t *stream; uint64_t got; uint64_t last_seq; int ordered; int ended_cancelled; };

static void *writer(void *p) {
    struct writer_arg *a = p;
    char buf[64];
    const char *tags[] = {"w"};
    a->ok = 1;
    for (int i = 0; i < PER_WRITER; i++) {
        if (i % 100 == 0) { /* the shared client, from every writer thread */
            plsm_buf_t b = {0};
            if (plsm_client_pool_info(a->client, PLSM_REF_NAME, "threads", &b, NULL) != PLSM_OK) a->ok = 0;
            plsm_buf_free(&b);
        }
        int n = snprintf(buf, sizeof buf, "{\"w\":%d,\"i\":%d}", a->id, i);
        if (plsm_pool_append_json(a->pool, buf, (size_t)n, tags, 1, PLSM_DURABILITY_FAST, NULL, NULL) != PLSM_OK)
            a->ok = 0;
    }
    return NULL;
}

static void *tailer(void *p) {
    struct tail_arg *a = p;
    a->ordered = 1;
    for (;;) {
        int32_t ev = 0;
        const plsm_message_t *m = NULL;
        uint64_t lost = 0;
        if (plsm_stream_next(a->stream, &ev, &m, &lost, NULL) != PLSM_OK) continue;
        if (ev == PLSM_EVENT_MESSAGE) {
            if (a->last_seq != 0 && m->seq != a->last_seq + 1) a->ordered = 0;
            a->last_seq = m->seq;
            a->got++;
        } else if (ev == PLSM_EVENT_CANCELLED) {
            a->ended_cancelled = 1;
            return NULL;
        } else if (ev == PLSM_EVENT_LOST) {
            a->ordered = 0;
        }
    }
}

struct cancel_arg { plsm_stream_t *stream; struct tail_arg *watch; uint64_t target; };

static void *canceller(void *p) {
    struct cancel_arg *a = p;
    /* Eventually the tailer has seen everything; then cancel (generous bound: 60 s). */
    for (int i = 0; i < 60000 && __atomic_load_n(&a->watch->got, __ATOMIC_SEQ_CST) < a->target; i++) usleep(1000);
    plsm_stream_cancel(a->stream);
    plsm_stream_cancel(a->stream); /* twice is fine */
    return NULL;
}

static void test_threads(plsm_client_t *c) {
    plsm_error_t *e = NULL;
    plsm_pool_t *p = NULL;
    CHECK(plsm_client_create_pool(c, PLSM_REF_NAME, "threads", 8 << 20, &p, &e) == PLSM_OK);
    plsm_tail_options_t o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.since_seq = 1;
    const char *want[] = {"w"};
    o.tags = want;
    o.tag_count = 1;
    plsm_stream_t *s = NULL;
    CHECK(plsm_pool_tail(p, &o, &s, &e) == PLSM_OK);

    struct tail_arg ta = {s, 0, 0, 0, 0};
    struct cancel_arg ca = {s, &ta, WRITERS * PER_WRITER};
    struct writer_arg wa[WRITERS];
    pthread_t wt[WRITERS], tt, ct;
    pthread_create(&tt, NULL, tailer, &ta);
    pthread_create(&ct, NULL, canceller, &ca);
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (struct writer_arg){c, p, i, 0};
        pthread_create(&wt[i], NULL, writer, &wa[i]);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(wt[i], NULL);
        CHECK(wa[i].ok);
    }
    pthread_join(ct, NULL);
    pthread_join(tt, NULL);
    CHECK(ta.got == WRITERS * PER_WRITER);
    CHECK(ta.ordered);
    CHECK(ta.last_seq == WRITERS * PER_WRITER);
    CHECK(ta.ended_cancelled);

    /* After cancellation nothing more is delivered, even with new messages. */
    CHECK(plsm_pool_append_json(p, "1", 1, want, 1, 0, NULL, &e) == PLSM_OK);
    int32_t ev = 0;
    const plsm_message_t *m = (const plsm_message_t *)1;
    CHECK(plsm_stream_next(s, &ev, &m, NULL, &e) == PLSM_OK && ev == PLSM_EVENT_CANCELLED && m == NULL);
    plsm_stream_free(s);

    /* A blocked next (no timeout) returns promptly when cancelled from another thread. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    CHECK(plsm_pool_tail(p, &o, &s, &e) == PLSM_OK);
    struct tail_arg tb = {s, 0, 0, 0, 0};
    pthread_create(&tt, NULL, tailer, &tb);
    usleep(50000);
    plsm_stream_cancel(s);
    pthread_join(tt, NULL);
    CHECK(tb.ended_cancelled && tb.got == 0);
    plsm_stream_free(s);

    /* max and timeout. */
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.since_seq = 1;
    o.max = 2;
    CHECK(plsm_pool_tail(p, &o, &s, &e) == PLSM_OK);
    uint64_t seqs[3] = {0};
    for (int i = 0; i < 3; i++) {
        CHECK(plsm_stream_next(s, &ev, &m, NULL, &e) == PLSM_OK);
        seqs[i] = ev == PLSM_EVENT_MESSAGE ? m->seq : (uint64_t)ev * 1000;
    }
    CHECK(seqs[0] == 1 && seqs[1] == 2 && seqs[2] == PLSM_EVENT_END * 1000);
    plsm_stream_free(s);
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    o.timeout_ms = 30;
    CHECK(plsm_pool_tail(p, &o, &s, &e) == PLSM_OK);
    CHECK(plsm_stream_next(s, &ev, &m, NULL, &e) == PLSM_OK && ev == PLSM_EVENT_TIMEOUT);
    CHECK(plsm_pool_append_json(p, "\"after\"", 7, NULL, 0, 0, NULL, &e) == PLSM_OK);
    CHECK(plsm_stream_next(s, &ev, &m, NULL, &e) == PLSM_OK && ev == PLSM_EVENT_MESSAGE && strcmp(m->data, "\"after\"") == 0);
    plsm_stream_free(s);
    plsm_pool_free(p);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s EMPTY_DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    plsm_client_t *c = NULL;
    plsm_pool_t *p = NULL;
    plsm_error_t *e = NULL;
    test_versions_and_names();
    CHECK(plsm_client_new(dir, &c, &e) == PLSM_OK && e == NULL);
    CHECK(plsm_client_create_pool(c, PLSM_REF_NAME, "events", 1 << 20, &p, &e) == PLSM_OK);
    test_null_arguments(c, p);
    test_pool_operations(c, p);
    test_error_kinds(c, p);
    test_threads(c);
    plsm_pool_free(p);
    plsm_client_free(c);
    if (failures) {
        fprintf(stderr, "test_abi: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_abi: ok\n");
    return 0;
}
