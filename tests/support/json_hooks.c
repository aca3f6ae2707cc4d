/* json_hooks — built into every test executable by cmake/tests.cmake: a
 * constructor routes cJSON's allocations through xmalloc before main()
 * runs, as the coordhub executable's main() does, so the tests exercise
 * the allocation path the hub uses. */
#include "base/json.h"

__attribute__((constructor)) static void test_json_hooks(void)
{
    json_use_xmalloc();
}
