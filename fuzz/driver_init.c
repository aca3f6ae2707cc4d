/* driver_init — built into every fuzz driver, the libFuzzer target and the
 * corpus replay alike (cmake/tests.cmake): libFuzzer calls
 * LLVMFuzzerInitialize once before the first input, replay_main.c does
 * the same, and it routes cJSON's allocations through xmalloc as the
 * coordhub executable does. */
#include "base/json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    json_use_xmalloc();
    return 0;
}
