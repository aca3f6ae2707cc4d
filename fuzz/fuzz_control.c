/* fuzz_control — libFuzzer driver for the socket's control lines
 * (rpc/control.c).
 *
 * The input is one line as a peer would send it (without its newline).
 * It is parsed as a request and as a hub line; whatever parses is built
 * again and the built line parsed back.
 *
 * Invariants checked (abort() = a finding):
 *   - a refusal has a negative error and a non-empty message;
 *   - a parsed message builds to one line of JSON ending in its only
 *     newline, recognised by control_is_line;
 *   - that line parses back to the same kind (and, for an answer, the
 *     same kind answered and outcome), and building it again gives the
 *     same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_built(const struct control_msg *m, bool request)
{
    char *line = control_build(m);
    if (!line)
        abort();
    size_t n = strlen(line);
    if (n < 2 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) || !control_is_line(line, n - 1))
        abort();
    struct control_msg again;
    struct control_error e;
    int rc = request ? control_parse_request(line, n - 1, &again, &e)
                     : control_parse_reply(line, n - 1, &again, &e);
    /* A parsed request fits its bound; a built one may not only when a
     * member grew in printing (numbers), which the bound then refuses. */
    if (rc != 0 && !(rc == e.err && e.message[0]))
        abort();
    if (rc == 0) {
        if (again.kind != m->kind)
            abort();
        if (m->kind == CONTROL_ANSWER &&
            (again.u.answer.of != m->u.answer.of || again.u.answer.ok != m->u.answer.ok))
            abort();
        char *twice = control_build(&again);
        if (!twice || strcmp(twice, line) != 0)
            abort();
        control_line_free(twice);
    }
    control_msg_free(&again);
    control_line_free(line);
}

static void run(const char *p, size_t n, bool request)
{
    struct control_msg m;
    struct control_error e;
    int rc = request ? control_parse_request(p, n, &m, &e) : control_parse_reply(p, n, &m, &e);
    if (rc > 0 || (rc < 0 && (e.err != rc || !e.message[0])))
        abort();
    if (rc == 0)
        check_built(&m, request);
    control_msg_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    (void)control_is_line(p, size);
    run(p, size, true);
    run(p, size, false);
    return 0;
}
