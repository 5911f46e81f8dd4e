/* example.c: create a pool, append two messages, read one back, tail them. */
#include <plasmite.h>
#include <stdio.h>
#include <string.h>

static int fail(const char *what, plsm_error_t *err) {
    fprintf(stderr, "%s: %s (%s)\n", what, err->message, plsm_kind_name(err->kind));
    if (err->hint) fprintf(stderr, "hint: %s\n", err->hint);
    plsm_error_free(err);
    return 1;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "./data";
    plsm_client_t *client = NULL;
    plsm_pool_t *pool = NULL;
    plsm_error_t *err = NULL;

    if (plsm_client_new(dir, &client, &err) != PLSM_OK) return fail("client", err);
    int32_t rc = plsm_client_create_pool(client, PLSM_REF_NAME, "events", 1024 * 1024, &pool, &err);
    if (rc == PLSM_ERR_ALREADY_EXISTS) {
        plsm_error_free(err);
        rc = plsm_client_open_pool(client, PLSM_REF_NAME, "events", 0, &pool, &err);
    }
    if (rc != PLSM_OK) return fail("pool", err);

    const char *tags[] = {"sensor"};
    const char *data = "{\"sensor\": \"temp\", \"value\": 23.5}";
    plsm_message_t *msg = NULL;
    if (plsm_pool_append_json(pool, data, strlen(data), tags, 1, PLSM_DURABILITY_FAST, &msg, &err))
        return fail("append", err);
    uint64_t first = msg->seq;
    printf("appended seq %llu: %s\n", (unsigned long long)msg->seq, msg->data);
    plsm_message_free(msg);
    if (plsm_pool_append_json(pool, "[1,2,3]", 7, NULL, 0, PLSM_DURABILITY_FLUSH, NULL, &err))
        return fail("append", err);

    if (plsm_pool_get(pool, first, &msg, &err)) return fail("get", err);
    plsm_buf_t envelope = {0};
    if (plsm_message_envelope(msg, &envelope, &err)) return fail("envelope", err);
    printf("get: %s\n", envelope.data);
    plsm_buf_free(&envelope);
    plsm_message_free(msg);

    plsm_tail_options_t opts;
    memset(&opts, 0, sizeof opts);
    opts.struct_size = sizeof opts;
    opts.since_seq = first;
    opts.timeout_ms = 100;
    plsm_stream_t *stream = NULL;
    if (plsm_pool_tail(pool, &opts, &stream, &err)) return fail("tail", err);
    for (;;) {
        int32_t event = 0;
        const plsm_message_t *m = NULL;
        uint64_t lost = 0;
        if (plsm_stream_next(stream, &event, &m, &lost, &err)) return fail("next", err);
        if (event == PLSM_EVENT_MESSAGE) {
            printf("tail: seq %llu tags %zu data %s\n", (unsigned long long)m->seq, m->tag_count, m->data);
        } else if (event == PLSM_EVENT_LOST) {
            printf("tail: lost %llu\n", (unsigned long long)lost);
        } else {
            break; /* TIMEOUT: caught up for 100 ms */
        }
    }
    plsm_stream_free(stream);

    plsm_buf_t info = {0};
    if (plsm_pool_info(pool, &info, &err)) return fail("info", err);
    printf("info: %s\n", info.data);
    plsm_buf_free(&info);

    plsm_pool_free(pool);
    plsm_client_free(client);
    return 0;
}
