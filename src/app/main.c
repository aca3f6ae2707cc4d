/* main — the coordhub executable: routes cJSON's allocations through
 * xmalloc before anything parses or builds JSON, then hands argv to the
 * CLI dispatcher. */
#include "app/cli.h"
#include "base/json.h"

int main(int argc, char **argv)
{
    json_use_xmalloc();
    return cli_main(argc, argv);
}
