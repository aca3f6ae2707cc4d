/* fuzz_sign — libFuzzer driver for the X-Coordhub-Signature parser and
 * verifier (auth/sign.h).
 *
 * The input up to the first newline is the header value; the rest is the
 * body. The header is parsed, then verified against a fixed key at the
 * time it names (when it parses) and at a fixed time, twice each, through
 * a replay cache of two entries.
 *
 * Invariants checked (abort() = a finding):
 *   - a parse that fails says why, and one that succeeds gives t of at
 *     most 12 digits;
 *   - every refusal says why;
 *   - a signature accepted once is never accepted again (replay);
 *   - the cache never holds more than its cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned char key[32] = {1, 2, 3, 4, 5, 6, 7, 8};
    const uint8_t *nl = memchr(data, '\n', size);
    size_t hlen = nl ? (size_t)(nl - data) : size;
    char *header = malloc(hlen + 1);
    if (!header)
        abort();
    memcpy(header, data, hlen);
    header[hlen] = '\0';
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t blen = nl ? size - hlen - 1 : 0;
    int64_t t = 0;
    unsigned char v1[SIGN_MAC_LEN];
    const char *why = NULL;
    int rc = sign_header_parse(header, &t, v1, &why);
    if ((rc != 0) != (why != NULL) || (rc == 0 && (t < 0 || t > 999999999999LL)))
        abort();
    struct sign_replay *r = sign_replay_new(2, 0);
    int64_t times[2] = {rc == 0 ? t : 0, 1700000000};
    for (int i = 0; i < 2; i++) {
        bool accepted = false;
        for (int round = 0; round < 2; round++) {
            why = NULL;
            enum sign_result res = sign_verify(r, "fuzz", key, header, body, blen, times[i], &why);
            if (res != SIGN_OK && !why)
                abort();
            if (res == SIGN_OK && accepted)
                abort(); /* a replay got through */
            accepted = accepted || res == SIGN_OK;
            if (sign_replay_len(r) > 2)
                abort();
        }
    }
    sign_replay_free(r);
    free(header);
    return 0;
}
