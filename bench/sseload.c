/* sseload — the SSE benches' client side (see the header).
 *
 * Subscribers read with one read() per readiness report (level-triggered
 * epoll), decode the chunked stream in place (httpc_chunks) and split SSE
 * lines with memchr; only a line cut by a read boundary is copied. The
 * receive time of every frame in a read is the time that read returned.
 *
 * Events carry their own counter and stamp in their data:
 * `{"n":<0-based counter>,"t":<CLOCK_MONOTONIC ns when sent>}`; the clock
 * is system-wide, so the stamp of another process is comparable.
 *
 * Fan-out (as fast as possible): the publisher keeps `connections` POSTs of
 * `batch` events in flight but never more than `window` events ahead of
 * the slowest subscriber, so the hub's per-subscriber queues stay far
 * below its cut-off bound. The figure is the deliveries (frames parsed by
 * subscribers) between the moment every subscriber has the warm-up events
 * and the moment every subscriber has them all, over that time.
 *
 * Latency (paced): a timer ticks every batch/rate seconds; at each tick
 * the events due by then are posted on any free publisher connection.
 * Each event is stamped with the time it was due, not the time it could
 * be sent: when every connection is still waiting for the hub's answer,
 * that wait is the hub's doing and counts (no coordinated omission).
 * Every delivery of a counted event is a sample: due -> frame parsed by
 * the subscriber. */
#define _GNU_SOURCE
#include "sseload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "httpc.h"
#include "samples.h"
#include "ssewriter.h"

#define SSELOAD_READ (64 * 1024) /* bytes per subscriber read() */
#define SSELOAD_LINE 8192        /* longest SSE line carried across reads */
#define SSELOAD_PUB_BUF 16384    /* a POST /events answer */
#define SSELOAD_MAX_BATCH 100    /* the hub's cap per POST /events */
#define SSELOAD_TIMER_ID UINT32_MAX

struct sseload_sub {
    int fd;
    char *buf; /* owned: SSELOAD_READ bytes */
    size_t len;
    bool head_done;
    struct httpc_chunks ch;
    char *line; /* owned: a line cut by a read boundary */
    size_t line_len;
    bool framed;   /* the frame being read has an id, event or data line */
    bool tick;     /* ... and is a bench:tick */
    bool has_data; /* ... and its counter and stamp were read */
    long n;
    int64_t t;
    unsigned long long last_id;
    long received;
    long others;   /* frames of other types */
    uint8_t *seen; /* owned: one bit per event counter */
    unsigned long long bytes;
};

struct sseload_pub {
    int fd;
    char buf[SSELOAD_PUB_BUF];
    size_t len;
    bool busy;
    long events;     /* in the POST in flight */
    int64_t sent_ns; /* when it was sent */
};

struct sseload {
    const struct sseload_opts *o;
    const char *addr;
    char auth[320];
    struct sseload_sub *subs;
    struct sseload_pub *pubs;
    int npubs;
    int ep;
    int tfd;
    long total;         /* events published in all */
    long counted_from;  /* first counted event counter */
    long published;     /* events sent */
    int heads;          /* subscribers with their response head */
    int warm;           /* subscribers with every warm-up event */
    int complete;       /* subscribers with every event */
    long long received; /* deliveries so far, all subscribers */
    int64_t now;        /* when the last read returned */
    int64_t start;      /* publishing began */
    int64_t count_start, count_end;
    long long count_base;  /* deliveries at count_start */
    int64_t first_seen_ns; /* subscriber 0 got event counted_from */
    int64_t last_seen_ns;  /* subscriber 0 got the last event */
    long stalls;           /* ticks with events due and no free connection */
    struct samples lat;
    struct samples post; /* POST /events answer times */
    bool failed;
};

static int sseload_fail(struct sseload *L, const char *what, int i)
{
    if (!L->failed)
        fprintf(stderr, "sseload: %s %d: %s\n", i >= 0 ? "subscriber" : "publisher",
                i >= 0 ? i : -i - 1, what);
    L->failed = true;
    return -1;
}

/* ---- subscribers --------------------------------------------------------- */

static long sseload_digits(const char **p, const char *end)
{
    long v = 0;
    const char *s = *p;
    while (*p < end && **p >= '0' && **p <= '9')
        v = v * 10 + (*(*p)++ - '0');
    return *p > s ? v : -1;
}

static int sseload_dispatch(struct sseload *L, struct sseload_sub *s, int i)
{
    if (!s->tick) {
        s->others += s->framed; /* not the retry frame */
        s->framed = s->has_data = false;
        return 0;
    }
    if (!s->has_data || s->n < 0 || s->n >= L->total)
        return sseload_fail(L, "a bench:tick frame without a valid counter", i);
    uint8_t bit = (uint8_t)(1u << (s->n & 7));
    if (s->seen[s->n >> 3] & bit)
        return sseload_fail(L, "an event delivered twice", i);
    s->seen[s->n >> 3] |= bit;
    s->received++;
    L->received++;
    if (L->o->latency && s->n >= L->counted_from)
        samples_add(&L->lat, L->now - s->t);
    if (i == 0 && s->n == L->counted_from)
        L->first_seen_ns = L->now;
    if (i == 0 && s->n == L->total - 1)
        L->last_seen_ns = L->now;
    if (s->received == L->o->warmup && !L->o->latency && ++L->warm == L->o->subscribers) {
        L->count_start = L->now;
        L->count_base = L->received;
    }
    if (s->received == L->total && ++L->complete == L->o->subscribers)
        L->count_end = L->now;
    s->framed = s->tick = s->has_data = false;
    return 0;
}

static int sseload_line(struct sseload *L, struct sseload_sub *s, int i, const char *l, size_t n)
{
    const char *end = l + n;
    if (n == 0)
        return sseload_dispatch(L, s, i);
    s->framed |= l[0] != ':' && (l[0] != 'r' || n < 6 || memcmp(l, "retry:", 6) != 0);
    if (n > 6 && memcmp(l, "data: ", 6) == 0) {
        const char *p = memmem(l, n, "{\"n\":", 5);
        if (!p)
            return 0;
        p += 5;
        s->n = sseload_digits(&p, end);
        if (end - p < 5 || memcmp(p, ",\"t\":", 5) != 0)
            return sseload_fail(L, "a bench:tick without its stamp", i);
        p += 5;
        s->t = sseload_digits(&p, end);
        s->has_data = s->n >= 0 && s->t >= 0;
    } else if (n > 4 && memcmp(l, "id: ", 4) == 0) {
        const char *p = l + 4;
        long id = sseload_digits(&p, end);
        if (id < 0 || (unsigned long long)id <= s->last_id)
            return sseload_fail(L, "event ids not increasing", i);
        s->last_id = (unsigned long long)id;
    } else if (n > 7 && memcmp(l, "event: ", 7) == 0) {
        s->tick = n == 17 && memcmp(l + 7, "bench:tick", 10) == 0;
    }
    return 0;
}

static int sseload_sse(struct sseload *L, struct sseload_sub *s, int i, const char *p, size_t n)
{
    s->bytes += n;
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t ll = nl ? (size_t)(nl - p) : n;
        if (s->line_len || !nl) {
            if (s->line_len + ll > SSELOAD_LINE)
                return sseload_fail(L, "an SSE line longer than the bench accepts", i);
            memcpy(s->line + s->line_len, p, ll);
            s->line_len += ll;
            if (!nl)
                return 0;
            if (sseload_line(L, s, i, s->line, s->line_len) != 0)
                return -1;
            s->line_len = 0;
        } else if (sseload_line(L, s, i, p, ll) != 0) {
            return -1;
        }
        p += ll + 1;
        n -= ll + 1;
    }
    return 0;
}

static int sseload_sub_read(struct sseload *L, int i)
{
    struct sseload_sub *s = &L->subs[i];
    ssize_t r;
    do
        r = read(s->fd, s->buf + s->len, SSELOAD_READ - s->len);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EAGAIN)
        return 0;
    if (r <= 0)
        return sseload_fail(L, r == 0 ? "the stream ended (cut off?)" : strerror(errno), i);
    L->now = samples_now_ns();
    s->len += (size_t)r;
    size_t pos = 0;
    if (!s->head_done) {
        struct httpc_head h;
        int got = httpc_parse_head(s->buf, s->len, &h);
        if (got == 0 && s->len < SSELOAD_READ)
            return 0;
        if (got <= 0 || h.status != 200 || !h.chunked || !h.event_stream)
            return sseload_fail(L, "GET /events was not answered 200, chunked, event-stream", i);
        s->head_done = true;
        L->heads++;
        pos = h.head_len;
    }
    while (pos < s->len) {
        const char *run;
        size_t used;
        long long n = httpc_chunks_feed(&s->ch, s->buf + pos, s->len - pos, &run, &used);
        if (n < 0)
            return sseload_fail(L, "malformed chunked encoding", i);
        if (n > 0 && sseload_sse(L, s, i, run, (size_t)n) != 0)
            return -1;
        pos += used;
        if (s->ch.done)
            return sseload_fail(L, "the stream ended (cut off?)", i);
    }
    s->len = 0;
    return 0;
}

static int sseload_subscribe(struct sseload *L, int i)
{
    struct sseload_sub *s = &L->subs[i];
    s->fd = httpc_connect(L->addr);
    if (s->fd < 0) {
        int e = -s->fd;
        s->fd = -1;
        return sseload_fail(L, strerror(e), i);
    }
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "GET /events HTTP/1.1\r\nHost: %s\r\n%sAccept: text/event-stream\r\n\r\n",
                     L->addr, L->auth);
    if (n < 0 || (size_t)n >= sizeof(req) || httpc_write_all(s->fd, req, (size_t)n) != 0 ||
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK) != 0)
        return sseload_fail(L, "cannot send GET /events", i);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(L->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0)
        return sseload_fail(L, strerror(errno), i);
    return 0;
}

/* ---- publisher ----------------------------------------------------------- */

static int sseload_post(struct sseload *L, int k, long count)
{
    struct sseload_pub *p = &L->pubs[k];
    char body[SSELOAD_MAX_BATCH * 64 + 8], req[SSELOAD_MAX_BATCH * 64 + 1024];
    size_t bl = 0;
    int64_t t = samples_now_ns();
    body[bl++] = '[';
    for (long j = 0; j < count; j++) {
        long n = L->published + j;
        int64_t due = L->o->latency ? L->start + (int64_t)((double)n * 1e9 / L->o->rate) : t;
        int w = snprintf(body + bl, sizeof(body) - bl,
                         "%s{\"type\":\"bench:tick\",\"data\":{\"n\":%ld,\"t\":%lld}}",
                         j ? "," : "", n, (long long)(due < t ? due : t));
        if (w < 0 || (size_t)w >= sizeof(body) - bl)
            return sseload_fail(L, "batch too large", -k - 1);
        bl += (size_t)w;
    }
    body[bl++] = ']';
    int n = snprintf(req, sizeof(req),
                     "POST /events HTTP/1.1\r\nHost: %s\r\n%sContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%.*s",
                     L->addr, L->auth, bl, (int)bl, body);
    if (n < 0 || (size_t)n >= sizeof(req) || httpc_write_all(p->fd, req, (size_t)n) != 0)
        return sseload_fail(L, "cannot send POST /events", -k - 1);
    p->busy = true;
    p->events = count;
    p->sent_ns = t;
    L->published += count;
    return 0;
}

static long sseload_slowest(const struct sseload *L)
{
    long m = L->total;
    for (int i = 0; i < L->o->subscribers; i++)
        if (L->subs[i].received < m)
            m = L->subs[i].received;
    return m;
}

/* Post what may be posted now: up to `due` events (fan-out: within the
 * window), on free connections. */
static int sseload_pump(struct sseload *L, long due)
{
    long slowest = -1;
    for (int k = 0; k < L->npubs && L->published < due; k++) {
        if (L->pubs[k].busy)
            continue;
        long count = due - L->published;
        if (count > L->o->batch)
            count = L->o->batch;
        if (!L->o->latency) {
            if (slowest < 0)
                slowest = sseload_slowest(L);
            if (L->published + count - slowest > L->o->window)
                break;
        }
        if (sseload_post(L, k, count) != 0)
            return -1;
    }
    return 0;
}

static int sseload_pub_read(struct sseload *L, int k)
{
    struct sseload_pub *p = &L->pubs[k];
    ssize_t r;
    do
        r = read(p->fd, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno == EAGAIN)
        return 0;
    if (r <= 0)
        return sseload_fail(L, "the hub closed the connection", -k - 1);
    p->len += (size_t)r;
    p->buf[p->len] = '\0';
    struct httpc_head h;
    int got = httpc_parse_head(p->buf, p->len, &h);
    if (got == 0 && p->len < sizeof(p->buf) - 1)
        return 0;
    if (got <= 0 || h.content_length < 0)
        return sseload_fail(L, "malformed answer to POST /events", -k - 1);
    size_t whole = h.head_len + (size_t)h.content_length;
    if (p->len < whole)
        return whole < sizeof(p->buf) ? 0 : sseload_fail(L, "answer too long", -k - 1);
    if (!p->busy || h.status != 201) {
        fprintf(stderr, "sseload: POST /events answered %d: %.*s\n", h.status,
                (int)h.content_length, p->buf + h.head_len);
        return sseload_fail(L, "POST /events refused", -k - 1);
    }
    memmove(p->buf, p->buf + whole, p->len - whole);
    p->len -= whole;
    p->busy = false;
    samples_add(&L->post, samples_now_ns() - p->sent_ns);
    return 0;
}

/* Events due now at the fixed rate (all of them when unpaced). */
static long sseload_due(const struct sseload *L)
{
    if (!L->o->latency)
        return L->total;
    long due = (long)((double)(samples_now_ns() - L->start) * L->o->rate / 1e9) + 1;
    return due < L->total ? due : L->total;
}

static int sseload_publisher_open(struct sseload *L)
{
    L->npubs = L->o->connections;
    L->pubs = calloc((size_t)L->npubs, sizeof(*L->pubs));
    if (!L->pubs)
        abort();
    for (int k = 0; k < L->npubs; k++) {
        struct sseload_pub *p = &L->pubs[k];
        p->fd = httpc_connect(L->addr);
        if (p->fd < 0) {
            int e = -p->fd;
            p->fd = -1;
            return sseload_fail(L, strerror(e), -k - 1);
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)(L->o->subscribers + k)};
        if (fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK) != 0 ||
            epoll_ctl(L->ep, EPOLL_CTL_ADD, p->fd, &ev) != 0)
            return sseload_fail(L, strerror(errno), -k - 1);
    }
    if (!L->o->latency)
        return sseload_pump(L, L->total);
    L->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    long long period = (long long)(1e9 * L->o->batch / L->o->rate);
    struct itimerspec its = {.it_interval = {period / 1000000000, period % 1000000000},
                             .it_value = {0, 1000}};
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = SSELOAD_TIMER_ID};
    if (L->tfd < 0 || timerfd_settime(L->tfd, 0, &its, NULL) != 0 ||
        epoll_ctl(L->ep, EPOLL_CTL_ADD, L->tfd, &ev) != 0)
        return sseload_fail(L, "cannot arm the pacing timer", -1);
    return 0;
}

/* ---- the run ------------------------------------------------------------- */

static int sseload_loop(struct sseload *L, int64_t deadline, bool until_heads)
{
    int S = L->o->subscribers;
    while (!L->failed && (until_heads ? L->heads < S : L->complete < S)) {
        if (samples_now_ns() > deadline)
            return sseload_fail(
                L, until_heads ? "no response head in time" : "events missing at the deadline", 0);
        struct epoll_event evs[256];
        int n = epoll_wait(L->ep, evs, 256, 100);
        if (n < 0 && errno != EINTR)
            return sseload_fail(L, strerror(errno), -1);
        for (int k = 0; k < n && !L->failed; k++) {
            uint32_t id = evs[k].data.u32;
            if (id == SSELOAD_TIMER_ID) {
                uint64_t ticks;
                if (read(L->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                    return sseload_fail(L, "pacing timer", -1);
                long due = sseload_due(L);
                if (sseload_pump(L, due) != 0)
                    return -1;
                if (L->published < due)
                    L->stalls++;
            } else if (id < (uint32_t)S) {
                (void)sseload_sub_read(L, (int)id);
            } else if (sseload_pub_read(L, (int)(id - (uint32_t)S)) == 0 && L->pubs) {
                (void)sseload_pump(L, sseload_due(L));
            }
        }
        if (!until_heads && !L->o->latency && L->pubs && sseload_pump(L, L->total) != 0)
            return -1;
    }
    return L->failed ? -1 : 0;
}

static double sseload_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void sseload_report(struct sseload *L, double cpu_s)
{
    const struct sseload_opts *o = L->o;
    long long others = 0;
    unsigned long long bytes = 0;
    for (int i = 0; i < o->subscribers; i++) {
        others += L->subs[i].others;
        bytes += L->subs[i].bytes;
    }
    double frame = (double)bytes / (double)(L->received ? L->received : 1);
    if (!o->latency) {
        double secs = (double)(L->count_end - L->count_start) / 1e9;
        double wall = (double)(L->count_end - L->start) / 1e9;
        printf("RESULT %s subscribers=%d events=%ld deliveries=%lld deliveries_per_s=%.0f "
               "events_per_s=%.0f frame_bytes=%.0f other_frames=%lld client_cpu_pct=%.0f\n",
               o->label, o->subscribers, o->events, L->received - L->count_base,
               (double)(L->received - L->count_base) / secs,
               (double)(L->received - L->count_base) / secs / o->subscribers, frame, others,
               100.0 * cpu_s / wall);
    } else {
        double span = (double)(L->last_seen_ns - L->first_seen_ns) / 1e9;
        double wall = (double)(L->count_end - L->start) / 1e9;
        samples_sort(&L->lat);
        samples_sort(&L->post);
        printf("RESULT %s subscribers=%d rate=%.0f events=%ld samples=%zu lat_p50_us=%.1f "
               "lat_p90_us=%.1f lat_p99_us=%.1f lat_p999_us=%.1f lat_max_us=%.1f "
               "arrival_rate=%.0f stalls=%ld post_p50_us=%.1f post_p99_us=%.1f "
               "frame_bytes=%.0f other_frames=%lld client_cpu_pct=%.0f\n",
               o->label, o->subscribers, o->rate, L->total - L->counted_from, L->lat.n,
               samples_quantile_us(&L->lat, 0.50), samples_quantile_us(&L->lat, 0.90),
               samples_quantile_us(&L->lat, 0.99), samples_quantile_us(&L->lat, 0.999),
               samples_quantile_us(&L->lat, 1.0),
               span > 0 ? (double)(L->total - 1 - L->counted_from) / span : 0, L->stalls,
               samples_quantile_us(&L->post, 0.50), samples_quantile_us(&L->post, 0.99), frame,
               others, 100.0 * cpu_s / wall);
    }
    fflush(stdout);
}

int sseload_run(const struct sseload_opts *o)
{
    struct sseload L;
    memset(&L, 0, sizeof(L));
    L.o = o;
    L.tfd = -1;
    samples_init(&L.lat);
    samples_init(&L.post);
    int S = o->subscribers;
    if (o->latency) {
        L.counted_from = (long)(o->rate * o->warm_seconds);
        L.total = L.counted_from + (long)(o->rate * o->seconds);
    } else {
        L.counted_from = o->warmup;
        L.total = o->warmup + o->events;
    }
    struct ssewriter w = {.pid = -1, .go_fd = -1};
    L.ep = epoll_create1(EPOLL_CLOEXEC);
    L.subs = calloc((size_t)S, sizeof(*L.subs));
    if (!L.subs || L.ep < 0)
        abort();
    for (int i = 0; i < S; i++) {
        L.subs[i].fd = -1;
        L.subs[i].buf = malloc(SSELOAD_READ);
        L.subs[i].line = malloc(SSELOAD_LINE);
        L.subs[i].seen = calloc((size_t)(L.total + 7) / 8, 1);
        if (!L.subs[i].buf || !L.subs[i].line || !L.subs[i].seen)
            abort();
        httpc_chunks_init(&L.subs[i].ch);
    }
    int rc = -1;
    if (o->addr) {
        char token[256];
        int trc = httpc_read_line_file(o->token_file, token, sizeof(token));
        if (trc) {
            fprintf(stderr, "sseload: %s: %s\n", o->token_file, strerror(-trc));
            goto out;
        }
        snprintf(L.auth, sizeof(L.auth), "Authorization: Bearer %s\r\n", token);
        L.addr = o->addr;
    } else {
        struct ssewriter_opts wo = {.subscribers = S,
                                    .events = L.total,
                                    .rate = o->latency ? o->rate : 0,
                                    .frame_bytes = o->frame_bytes,
                                    .cpu = o->server_cpu};
        int wrc = ssewriter_start(&w, &wo);
        if (wrc) {
            fprintf(stderr, "sseload: cannot start the baseline writer: %s\n", strerror(-wrc));
            goto out;
        }
        L.addr = w.addr;
    }
    for (int i = 0; i < S; i++)
        if (sseload_subscribe(&L, i) != 0)
            goto out;
    if (sseload_loop(&L, samples_now_ns() + 10000000000LL, true) != 0)
        goto out;
    double cpu0 = sseload_cpu_s();
    L.start = samples_now_ns();
    if (o->addr ? sseload_publisher_open(&L) != 0 : ssewriter_go(&w) != 0)
        goto out;
    if (!o->latency && o->warmup == 0)
        L.count_start = L.start;
    double expect = o->latency ? o->warm_seconds + o->seconds : 0;
    if (sseload_loop(&L, L.start + (int64_t)((expect + 60) * 1e9), false) != 0)
        goto out;
    sseload_report(&L, sseload_cpu_s() - cpu0);
    rc = 0;
out:
    for (int i = 0; i < S; i++) {
        if (L.subs[i].fd >= 0)
            close(L.subs[i].fd);
        free(L.subs[i].buf);
        free(L.subs[i].line);
        free(L.subs[i].seen);
    }
    for (int k = 0; k < L.npubs; k++)
        if (L.pubs[k].fd >= 0)
            close(L.pubs[k].fd);
    free(L.pubs);
    free(L.subs);
    if (L.tfd >= 0)
        close(L.tfd);
    close(L.ep);
    samples_deinit(&L.lat);
    samples_deinit(&L.post);
    if (ssewriter_finish(&w) != 0 && rc == 0) {
        fprintf(stderr, "sseload: the baseline writer failed\n");
        rc = -1;
    }
    return rc;
}
