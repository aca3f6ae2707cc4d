/* launch — how the workspace's hub was started, and how the next one is
 * (docs/configuration.md "How the hub is started").
 *
 * Every hub records in <state-dir>/hub.json the settings it was started
 * with: its store URL with the password replaced by "***" (and whether
 * there was one), the workspace name, the HTTP address asked for (or
 * no-HTTP), the TLS files and --retain-events when given. A hub that a
 * bridge or a client command starts in the background uses that record,
 * so a hub started by hand on Redis is replaced by one on the same Redis
 * workspace, never by one on the default SQLite store (which would split
 * the machine's agents off the shared workspace). A recorded password is
 * taken from COORDHUB_STORE (the same URL with the password); without it
 * the start is refused. A hub started by hand on another store than the
 * record's needs --store on its command line.
 *
 * The decisions are pure (record and options in, a store or a refusal
 * out); loading and saving the file are the only I/O. */
#ifndef COORDHUB_APP_LAUNCH_H
#define COORDHUB_APP_LAUNCH_H

#include <stdbool.h>

#include <cjson/cJSON.h>

struct options;

struct launch_record {
    char *store;     /* owned: store URL, its password replaced by "***" */
    bool secret;     /* the URL had a password, which is not recorded */
    char *workspace; /* owned */
    char *http;      /* owned, NULL: the default address */
    bool no_http;
    char *tls_cert; /* owned, NULL: none */
    char *tls_key;  /* owned, NULL: none */
    char *retain;   /* owned, NULL: the default retention */
};

/* The record of a hub started with o (resolved). r is overwritten. */
void launch_record_from_options(const struct options *o, struct launch_record *r);
/* The record as the JSON object hub.json holds (caller frees). */
cJSON *launch_record_json(const struct launch_record *r);
/* Read a record from j into r (overwritten). 0, or -ERR_INVALID with
 * *errmsg (caller frees) naming the bad field; r then holds nothing. */
int launch_record_parse(const cJSON *j, struct launch_record *r, char **errmsg);
void launch_record_deinit(struct launch_record *r);

/* Load <state-dir>/hub.json. 0; -ENOENT when there is none; another
 * error with *errmsg (caller frees) when it cannot be read or parsed. */
int launch_record_load(const char *path, struct launch_record *r, char **errmsg);
/* Write it atomically (temp file + rename, mode 0600). 0 or -errno. */
int launch_record_save(const char *path, const struct launch_record *r);

/* The store an automatic start uses. rec: the record (NULL: none);
 * given: the store URL the starter was given (--store or COORDHUB_STORE),
 * NULL when none. Without a record: given (NULL: the hub's default).
 * With one: its URL, or given when given is that URL with its password
 * (the recorded URL has "***" in its place). Sets *store (caller frees,
 * NULL: the default) and returns 0, or returns -ERR_STATE with *errmsg
 * (caller frees) saying why not and what to do: the record needs a
 * password that was not given, or given is another store. record_path
 * is named in the message. */
int launch_autostart_store(const struct launch_record *rec, const char *given,
                           const char *record_path, char **store, char **errmsg);

/* May `coordhub serve` with o start on o->store_url? 0, or -ERR_STATE
 * with *errmsg (caller frees) when the record names another store and
 * --store was not on the command line (o->store_arg). */
int launch_serve_check(const struct launch_record *rec, const struct options *o,
                       const char *record_path, char **errmsg);

#endif
