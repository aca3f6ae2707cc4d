# Test registration. One cmocka executable per module; every CTest entry
# has a TIMEOUT; every test and fuzz driver links only the layers it
# includes.

# Unit tests: tests/unit/test_<module>.c links the layers whose headers it
# includes, directly or through a fixture beside it, and nothing else
# (coordhub_link_included, cmake/layers.cmake): a test of core or rpc
# builds and runs without libevent, SQLite or hiredis. A new test needs no
# registration; an include that is neither a layer's header nor a file
# beside it fails the configure, naming the test.
#
# Every test executable also gets tests/support/json_hooks.c: cJSON
# allocates through xmalloc in tests as in the hub (base/json.h).
set(test_support ${PROJECT_SOURCE_DIR}/tests/support/json_hooks.c)
file(GLOB unit_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/unit/test_*.c)
foreach(src ${unit_tests})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} ${src} ${test_support})
  coordhub_link_included(${name} ${src} ${test_support})
  target_link_libraries(${name} PRIVATE PkgConfig::CMOCKA)
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES TIMEOUT 120 LABELS unit)
endforeach()

# Store contract suite: one source, run against every backend.
file(GLOB contract_srcs CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/contract/*.c)
if(contract_srcs)
  add_executable(test_store_contract ${contract_srcs} ${test_support})
  coordhub_link_included(test_store_contract ${contract_srcs} ${test_support})
  target_link_libraries(test_store_contract PRIVATE PkgConfig::CMOCKA)
  foreach(backend memory sqlite redis redis-cluster)
    add_test(NAME contract.${backend} COMMAND test_store_contract ${backend})
    set_tests_properties(contract.${backend} PROPERTIES TIMEOUT 120 LABELS contract)
  endforeach()
  # Crash safety: a child appends in a loop and is SIGKILLed at random
  # moments; every acknowledged seq must be in the reopened log.
  set(crash_src ${PROJECT_SOURCE_DIR}/tests/contract/crash/test_store_crash.c)
  add_executable(test_store_crash ${crash_src} ${test_support})
  coordhub_link_included(test_store_crash ${crash_src} ${test_support})
  add_test(NAME contract.sqlite_crash COMMAND test_store_crash sqlite)
  set_tests_properties(contract.sqlite_crash PROPERTIES TIMEOUT 120 LABELS contract)
endif()

# Fuzz corpus replay: each fuzz/fuzz_<parser>.c is built with a plain
# driver that feeds it every file under fuzz/corpus/<parser>/. With
# COORDHUB_FUZZ (the `fuzz` preset) it is also built as a libFuzzer target
# fuzz_<parser>: run `build/fuzz/fuzz_<parser> fuzz/corpus/<parser>`.
# Both get fuzz/driver_init.c (LLVMFuzzerInitialize: cJSON through xmalloc).
set(driver_init ${PROJECT_SOURCE_DIR}/fuzz/driver_init.c)
file(GLOB fuzzers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/fuzz/fuzz_*.c)
foreach(src ${fuzzers})
  get_filename_component(name ${src} NAME_WE)
  string(REPLACE "fuzz_" "" parser ${name})
  add_executable(${name}_replay ${src} ${driver_init} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.c)
  coordhub_link_included(${name}_replay ${src} ${driver_init})
  add_test(NAME fuzz.${parser} COMMAND ${name}_replay ${PROJECT_SOURCE_DIR}/fuzz/corpus/${parser})
  set_tests_properties(fuzz.${parser} PROPERTIES TIMEOUT 120 LABELS fuzz)
  if(COORDHUB_FUZZ)
    add_executable(${name} ${src} ${driver_init})
    coordhub_link_included(${name} ${src} ${driver_init})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  endif()
endforeach()

# Integration tests: shell/C drivers against the real binary.
file(GLOB integ_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/integration/test_*.sh)
foreach(src ${integ_tests})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME integration.${name} COMMAND bash ${src} $<TARGET_FILE:coordhub>)
  set_tests_properties(integration.${name} PROPERTIES TIMEOUT 300 LABELS integration)
endforeach()

# Load tests: hostile clients against the real binary (tests/load/README.md).
# Each is bounded in time and count and cleans up what it starts.
file(GLOB load_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/load/test_*.sh)
foreach(src ${load_tests})
  get_filename_component(name ${src} NAME_WE)
  add_test(NAME load.${name} COMMAND bash ${src} $<TARGET_FILE:coordhub>)
  set_tests_properties(load.${name} PROPERTIES TIMEOUT 300 LABELS load)
endforeach()

# The coordhub executable with a test-only tool provider plugged in
# (tests/provider/testprov.c): for the tests of tools that come and go at
# run time. Never installed; the product binary has none of it.
add_executable(coordhub_testprov ${PROJECT_SOURCE_DIR}/tests/provider/testprov.c)
target_link_libraries(coordhub_testprov PRIVATE ch_app)

# End-to-end tests with the official MCP TypeScript SDK (node).
if(EXISTS ${PROJECT_SOURCE_DIR}/tests/e2e/package.json)
  file(GLOB e2e_tests CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/e2e/*.test.mjs)
  foreach(src ${e2e_tests})
    get_filename_component(name ${src} NAME_WE)
    add_test(NAME e2e.${name} COMMAND node --test ${src})
    set_tests_properties(e2e.${name} PROPERTIES TIMEOUT 300 LABELS e2e
      ENVIRONMENT "COORDHUB_BIN=$<TARGET_FILE:coordhub>;COORDHUB_TESTPROV_BIN=$<TARGET_FILE:coordhub_testprov>")
  endforeach()
endif()
