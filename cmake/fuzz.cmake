# imbal fuzz targets, one per tests/fuzz/fuzz_<name>.c (docs/reliability.md, "Fuzzing").
#   IMBAL_FUZZ=ON (clang only): libFuzzer executables build-dir/fuzz/fuzz_<name>, the library
#     built with -fsanitize=fuzzer-no-link,address,undefined (set in CMakeLists.txt).
#   Otherwise, with the tests: replay_fuzz_<name>, a plain driver (tests/fuzz/replay_main.c) that
#     ctest runs on the committed corpus and crash regressions of each target.
file(GLOB IMBAL_FUZZ_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
list(REMOVE_ITEM IMBAL_FUZZ_SOURCES ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_util.c) # shared helpers
# The command-line target parses options with the commands' own code: every src/cli file but main.
file(GLOB IMBAL_FUZZ_CLI_SOURCES CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/cli/*.c)
list(REMOVE_ITEM IMBAL_FUZZ_CLI_SOURCES ${PROJECT_SOURCE_DIR}/src/cli/main.c)

function(imbal_fuzz_executable exe src)
  get_filename_component(name ${src} NAME_WE)
  add_executable(${exe} ${src} ${PROJECT_SOURCE_DIR}/tests/fuzz/fuzz_util.c ${ARGN})
  if(name STREQUAL "fuzz_cli")
    target_sources(${exe} PRIVATE ${IMBAL_FUZZ_CLI_SOURCES})
    target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/src/cli)
  endif()
  target_include_directories(${exe} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests/fuzz)
  target_compile_definitions(${exe} PRIVATE ${IMBAL_DEFS})
  target_compile_options(${exe} PRIVATE ${IMBAL_C_WARNINGS} ${IMBAL_SAN_FLAGS})
  target_link_libraries(${exe} PRIVATE imbal_static)
endfunction()

if(IMBAL_FUZZ)
  foreach(src ${IMBAL_FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    imbal_fuzz_executable(${name} ${src})
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/fuzz)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  endforeach()
elseif(IMBAL_BUILD_TESTS)
  foreach(src ${IMBAL_FUZZ_SOURCES})
    get_filename_component(name ${src} NAME_WE)
    string(REGEX REPLACE "^fuzz_" "" target ${name})
    imbal_fuzz_executable(replay_${name} ${src} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
    add_test(NAME replay_${name} COMMAND replay_${name}
      ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${target}
      ${PROJECT_SOURCE_DIR}/tests/fuzz/regressions/${target})
    set_tests_properties(replay_${name} PROPERTIES TIMEOUT 120)
  endforeach()
endif()
