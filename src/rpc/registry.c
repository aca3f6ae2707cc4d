/* registry — the tools of every provider, indexed by name (registry.h).
 *
 * The catalog is an array of entries in listing order (providers in the
 * order they were added, each in its own list's order) plus a name map
 * over it; both are rebuilt whenever a provider comes, goes or reports
 * that its list changed, never on a call. */
#include <stdlib.h>

#include "rpc/registry.h"

#include "base/err.h"
#include "base/log.h"
#include "base/map.h"
#include "base/xmalloc.h"

struct tool_provider {
    const struct tool_provider_ops *ops;
    void *self;
};

struct tool_entry {
    const struct tool_def *def; /* borrowed from its provider */
    struct tool_provider *provider;
};

struct tool_registry {
    struct tool_provider *providers; /* in the order added */
    size_t nproviders;
    struct tool_entry *entries; /* the catalog, in listing order */
    size_t nentries;
    struct map by_name; /* def->name -> struct tool_entry * */
    void (*changed)(void *arg);
    void *changed_arg;
};

struct tool_registry *tool_registry_new(void (*changed)(void *arg), void *arg)
{
    struct tool_registry *r = xcalloc(1, sizeof(*r));
    map_init(&r->by_name);
    r->changed = changed;
    r->changed_arg = arg;
    return r;
}

void tool_registry_free(struct tool_registry *r)
{
    if (!r)
        return;
    map_deinit(&r->by_name);
    free(r->entries);
    free(r->providers);
    free(r);
}

static bool tool_registry_taken(const struct tool_registry *r, const char *name)
{
    return map_get(&r->by_name, name) != NULL;
}

/* Rebuild the catalog from the providers' lists. A name already taken by
 * an earlier provider keeps its first owner; the later tool is dropped. */
static void tool_registry_rebuild(struct tool_registry *r)
{
    size_t total = 0;
    for (size_t i = 0; i < r->nproviders; i++) {
        size_t n = 0;
        (void)r->providers[i].ops->list(r->providers[i].self, &n);
        total += n;
    }
    free(r->entries);
    r->entries = xcalloc(total ? total : 1, sizeof(*r->entries));
    r->nentries = 0;
    map_deinit(&r->by_name);
    map_init(&r->by_name);
    for (size_t i = 0; i < r->nproviders; i++) {
        struct tool_provider *p = &r->providers[i];
        size_t n = 0;
        const struct tool_def *const *defs = p->ops->list(p->self, &n);
        for (size_t k = 0; k < n && r->nentries < total; k++) {
            /* entries does not move while it fills: index as it goes. */
            if (tool_registry_taken(r, defs[k]->name)) {
                log_warn("tool provider %s: tool %s is already served; dropped", p->ops->name,
                         defs[k]->name);
                continue;
            }
            struct tool_entry *e = &r->entries[r->nentries++];
            e->def = defs[k];
            e->provider = p;
            map_put(&r->by_name, e->def->name, e);
        }
    }
}

static void tool_registry_notify(struct tool_registry *r)
{
    if (r->changed)
        r->changed(r->changed_arg);
}

int tool_registry_add(struct tool_registry *r, const struct tool_provider_ops *ops, void *self)
{
    size_t n = 0;
    const struct tool_def *const *defs = ops->list(self, &n);
    for (size_t k = 0; k < n; k++) {
        if (tool_registry_taken(r, defs[k]->name))
            return -ERR_CONFLICT;
    }
    r->providers = xrealloc(r->providers, (r->nproviders + 1) * sizeof(*r->providers));
    r->providers[r->nproviders].ops = ops;
    r->providers[r->nproviders].self = self;
    r->nproviders++;
    tool_registry_rebuild(r);
    tool_registry_notify(r);
    return 0;
}

void tool_registry_remove(struct tool_registry *r, void *self)
{
    size_t k = 0;
    for (size_t i = 0; i < r->nproviders; i++)
        if (r->providers[i].self != self)
            r->providers[k++] = r->providers[i];
    if (k == r->nproviders)
        return;
    r->nproviders = k;
    tool_registry_rebuild(r);
    tool_registry_notify(r);
}

void tool_registry_changed(struct tool_registry *r, void *self)
{
    (void)self; /* every list is re-read: a freed name may now be another's */
    tool_registry_rebuild(r);
    tool_registry_notify(r);
}

static const struct tool_entry *tool_registry_entry(const struct tool_registry *r, const char *name)
{
    return map_get(&r->by_name, name);
}

const struct tool_def *tool_registry_find(const struct tool_registry *r, const char *name)
{
    const struct tool_entry *e = tool_registry_entry(r, name);
    return e ? e->def : NULL;
}

size_t tool_registry_count(const struct tool_registry *r)
{
    return r->nentries;
}

const struct tool_def *tool_registry_at(const struct tool_registry *r, size_t i)
{
    return i < r->nentries ? r->entries[i].def : NULL;
}

int tool_registry_call(struct tool_registry *r, struct tool_call *call, const char *name,
                       const cJSON *args)
{
    const struct tool_entry *e = tool_registry_entry(r, name);
    if (!e)
        return -ERR_NOT_FOUND;
    /* The call may change the catalog (a provider reporting a change):
     * nothing of the entry is read after it starts. */
    struct tool_provider p = *e->provider;
    p.ops->call(p.self, call, e->def, args);
    return 0;
}

bool tool_registry_cancel(struct tool_registry *r, uint64_t session, uint64_t call_id)
{
    for (size_t i = 0; i < r->nproviders; i++) {
        const struct tool_provider *p = &r->providers[i];
        if (p->ops->cancel && p->ops->cancel(p->self, session, call_id))
            return true;
    }
    return false;
}
