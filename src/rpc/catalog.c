/* catalog — the tools/list catalog serialised once per change (catalog.h).
 *
 * One entry per tool: its definition (borrowed), the two texts of its Tool
 * object (tools_to_json, then without title and outputSchema for
 * 2025-03-26) and its inputSchema parsed once, or NULL when the schema
 * uses what schema_check does not implement. A name map over the entries
 * answers tools/call; both are rebuilt together. */
#include <stdlib.h>
#include <string.h>

#include "rpc/catalog.h"

#include "base/buf.h"
#include "base/json.h"
#include "base/map.h"
#include "base/xmalloc.h"
#include "rpc/registry.h"
#include "rpc/schema_check.h"

struct catalog_entry {
    const struct tool_def *def; /* borrowed from its provider */
    char *text;                 /* owned: the Tool object */
    char *legacy;               /* owned: the same without title, outputSchema */
    cJSON *schema;              /* owned: parsed inputSchema, NULL = unchecked */
    bool bad_schema;            /* the inputSchema is not JSON: calls refused */
};

struct tool_catalog {
    struct catalog_entry *entries;
    size_t n;
    struct map by_name; /* def->name -> struct catalog_entry * */
    uint64_t generation;
};

struct tool_catalog *tool_catalog_new(void)
{
    struct tool_catalog *c = xcalloc(1, sizeof(*c));
    map_init(&c->by_name);
    return c;
}

static void catalog_clear(struct tool_catalog *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->entries[i].text);
        free(c->entries[i].legacy);
        cJSON_Delete(c->entries[i].schema);
    }
    free(c->entries);
    c->entries = NULL;
    c->n = 0;
    map_deinit(&c->by_name);
    map_init(&c->by_name);
}

void tool_catalog_free(struct tool_catalog *c)
{
    if (!c)
        return;
    catalog_clear(c);
    map_deinit(&c->by_name);
    free(c);
}

/* Fill e from def: both texts and the schema used to validate calls. */
static void catalog_entry_fill(struct catalog_entry *e, const struct tool_def *def)
{
    e->def = def;
    cJSON *t = tools_to_json(def);
    e->text = json_print(t);
    cJSON_DeleteItemFromObjectCaseSensitive(t, "title");
    cJSON_DeleteItemFromObjectCaseSensitive(t, "outputSchema");
    e->legacy = json_print(t);
    cJSON_Delete(t);
    e->schema = def->input_schema ? cJSON_Parse(def->input_schema) : NULL;
    e->bad_schema = !e->schema;
    char *why = NULL;
    if (e->schema && !schema_check_supported(e->schema, &why)) {
        cJSON_Delete(e->schema);
        e->schema = NULL;
    }
    free(why);
}

void tool_catalog_build(struct tool_catalog *c, const struct tool_registry *r)
{
    catalog_clear(c);
    size_t n = tool_registry_count(r);
    c->entries = xcalloc(n ? n : 1, sizeof(*c->entries));
    for (size_t i = 0; i < n; i++) {
        struct catalog_entry *e = &c->entries[c->n++];
        catalog_entry_fill(e, tool_registry_at(r, i));
        map_put(&c->by_name, e->def->name, e);
    }
    c->generation++;
}

size_t tool_catalog_count(const struct tool_catalog *c)
{
    return c->n;
}

uint64_t tool_catalog_generation(const struct tool_catalog *c)
{
    return c->generation;
}

const struct tool_def *tool_catalog_find(const struct tool_catalog *c, const char *name)
{
    const struct catalog_entry *e = name ? map_get(&c->by_name, name) : NULL;
    return e ? e->def : NULL;
}

const char *tool_catalog_text(const struct tool_catalog *c, size_t i, bool legacy)
{
    if (i >= c->n)
        return NULL;
    return legacy ? c->entries[i].legacy : c->entries[i].text;
}

char *tool_catalog_page(const struct tool_catalog *c, size_t start, size_t end, bool legacy,
                        const char *next_cursor)
{
    if (end > c->n)
        end = c->n;
    struct buf b;
    buf_init(&b, 0);
    int rc = buf_append_str(&b, "{\"tools\":[");
    for (size_t i = start; i < end; i++) {
        if (i > start)
            rc |= buf_append(&b, ",", 1);
        rc |= buf_append_str(&b, tool_catalog_text(c, i, legacy));
    }
    rc |= buf_append(&b, "]", 1);
    if (next_cursor) {
        cJSON *s = cJSON_CreateString(next_cursor);
        char *q = json_print(s);
        cJSON_Delete(s);
        rc |= buf_append_str(&b, ",\"nextCursor\":");
        rc |= buf_append_str(&b, q);
        free(q);
    }
    rc |= buf_append(&b, "}", 1);
    (void)rc; /* uncapped buffer: cannot fail */
    return buf_take(&b);
}

bool tool_catalog_validate(const struct tool_catalog *c, const struct tool_def *def,
                           const cJSON *args, char **msg)
{
    const struct catalog_entry *e = map_get(&c->by_name, def->name);
    *msg = NULL;
    if (!e || e->bad_schema) {
        *msg = xstrdup("tool has no valid inputSchema");
        return false;
    }
    if (!e->schema)
        return true; /* a provider's schema beyond schema_check: passed on */
    return schema_check_args(e->schema, args, msg);
}
