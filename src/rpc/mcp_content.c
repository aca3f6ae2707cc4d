/* mcp_content — what coordhub tells agents about working together.
 *
 * Two texts say the same thing at two lengths: the instructions travel in
 * every initialize result and many clients put them in the model's system
 * prompt, so they are short and imperative; the coordination_protocol
 * prompt explains the why, refusals, fencing tokens and waiting. Both name
 * the tools exactly as tools.c does. The long text is kept as sections
 * joined at run time so no single literal passes the 4095-byte limit ISO C
 * guarantees. */
#include "rpc/mcp_content.h"

#include <string.h>

#include "base/buf.h"

static const char instructions[] =
    "coordhub coordinates the AI agents working in this repository. Follow this protocol:\n"
    "1. Call register_agent once at the start; get_coordination_status shows who is doing "
    "what.\n"
    "2. Before editing a file, call lock_file on it and edit only if success is true. If "
    "another agent holds it, do other work or call lock_file with waitMs. Never edit a file "
    "you could not lock.\n"
    "3. Call unlock_file as soon as you finish with a file; call renew_locks if your work "
    "outlasts the lease.\n"
    "4. Prefer tasks to picking files yourself: find_available_tasks, then claim_task (it "
    "leases the task's files atomically). When done, complete_task; if you stop early, "
    "release_task.\n"
    "5. Use wait_for_events (pass the previous lastId as since) to learn when files free up "
    "or tasks change, instead of polling.\n"
    "6. success:false is normal coordination, not a failure: read lockedBy and reason and "
    "adapt. Keep the token lock_file returns; check_lock tells you whether it is still "
    "valid.";

static const char *const prompt_sections[] = {
    "# Working in a shared repository with coordhub\n\n"
    "Several AI agents edit this repository at the same time. coordhub is the hub they share: "
    "it records who is working, which files are being edited (leases, also called locks) and "
    "which tasks are taken, and it tells everyone when that changes. It only works if every "
    "agent follows the same protocol; one agent editing without a lease can silently "
    "overwrite another's work, and nobody notices until the merge.\n",

    "\n## Why\n\n"
    "Two agents editing one file at once produce lost updates and broken builds. A lease makes "
    "the intent visible and exclusive before any byte changes. Tasks go one step further: "
    "claiming a task leases all of its files atomically, so two agents can never start the "
    "same work or half-overlap. Events let you react to others instead of guessing.\n",

    "\n## The workflow\n\n"
    "1. Start: call register_agent (optionally with your capabilities, such as rust or "
    "frontend). Then get_coordination_status to see the active agents, leased files and open "
    "tasks.\n"
    "2. Find work: call find_available_tasks and claim_task the best one. Claiming is all or "
    "nothing: either the task is yours and every file it lists is leased to you, or nothing "
    "changed and the answer lists the conflicts. Prefer this to choosing files yourself. To "
    "split a large job, create_task for each part (files, patterns, capabilities, dependsOn).\n"
    "3. Edit: for any file outside your task's leases, call lock_file first (give a reason: "
    "the others will read it). Use pattern for a whole area, such as src/api/**. Edit only "
    "files you hold. Use detect_conflicts to check a plan without locking anything.\n"
    "4. Finish: unlock_file each file as soon as you are done with it, then complete_task "
    "(with a short result). If you cannot finish, release_task with a reason (failed:true if "
    "it cannot be done); its leases are released so someone else can continue.\n"
    "5. Long work: leases expire after their ttl (default one hour). Call renew_locks before "
    "that, or you may lose the lease to someone else.\n",

    "\n## Handling refusals\n\n"
    "A refusal is an answer with success:false, not an error. lock_file tells you lockedBy "
    "and reason; claim_task lists the conflicting files. Do not retry in a tight loop and do "
    "not edit anyway. Choose another task, work on files you can lock, or wait for the file "
    "(see Waiting). If you think a lease is stale, ask the user; only an admin may force an "
    "unlock. Errors marked isError mean the call itself was malformed: the message names the "
    "argument to fix.\n",

    "\n## Fencing tokens\n\n"
    "Every granted lease carries a token: the sequence number of the event that granted it. "
    "Tokens for a file only grow. If your lease expired and someone else took the file, your "
    "old token is no longer current. Before a long-delayed write (after a pause, a slow build "
    "or a reconnect), call check_lock with the file and your token: valid:false means you "
    "lost the lease and must not write; lock the file again first.\n",

    "\n## Waiting\n\n"
    "To wait for a file, call lock_file with waitMs (up to 60000): you are queued in order and "
    "get the lease the moment it frees, or a refusal when the time is up. To follow what "
    "others do, call wait_for_events with types such as file:unlocked or task:completed; it "
    "returns as soon as matching events exist (or after timeoutMs). Pass the lastId it "
    "returns as since on the next call so no event is missed. Prefer this to polling "
    "list_locked_files.\n",

    "\n## Etiquette\n\n"
    "Keep leases narrow and short. Say what you are doing in reason. Set your status with "
    "set_agent_status (busy while deep in work, idle when free). Announce things others "
    "should know with publish_event (for example build:failed).\n",
};

static const struct mcp_content_resource resources[] = {
    {"coord://status", "status", "Coordination status",
     "Agents, leased files, active tasks and health at a glance (the GET /status object)."},
    {"coord://agents", "agents", "Agents",
     "Every registered agent with its status, capabilities and last activity."},
    {"coord://locks", "locks", "File leases",
     "Current leases: file, holder, reason, mode, fencing token and expiry."},
    {"coord://tasks", "tasks", "Task board",
     "Every task with its status, claimer, files and dependencies."},
    {"coord://health", "health", "Unified health",
     "Health of the hub, its store and every supervised MCP server."},
    {"coord://events/recent", "events-recent", "Recent events",
     "The most recent coordination events, oldest first."},
};

const char *mcp_content_instructions(void)
{
    return instructions;
}

const char *mcp_content_prompt_title(void)
{
    return "Coordination protocol";
}

const char *mcp_content_prompt_description(void)
{
    return "How to work alongside other agents through coordhub: leases before edits, tasks, "
           "refusals, fencing tokens and waiting.";
}

char *mcp_content_prompt_text(void)
{
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof(prompt_sections) / sizeof(prompt_sections[0]); i++) {
        int rc = buf_append_str(&b, prompt_sections[i]);
        (void)rc; /* uncapped buffer: cannot fail */
    }
    return buf_take(&b);
}

const struct mcp_content_resource *mcp_content_resources(size_t *n)
{
    *n = sizeof(resources) / sizeof(resources[0]);
    return resources;
}

int mcp_content_resource_index(const char *uri)
{
    if (!uri)
        return -1;
    for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
        if (strcmp(resources[i].uri, uri) == 0)
            return (int)i;
    return -1;
}
