# GTest is found here (root scope) so every app and package sees GTest::* targets.
find_package(GTest REQUIRED)
# ficus_gtest(<name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>] [TIMEOUT s])
# One GoogleTest binary; every TEST() becomes its own CTest test (discovered
# when the tests run, so building never executes test binaries).
function(ficus_gtest name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT}
               ENVIRONMENT "FICUS_SOURCE_DIR=${PROJECT_SOURCE_DIR};FICUS_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# ficus_link_tcmalloc(<target>): links tcmalloc (gperftools, Debian
# libgoogle-perftools-dev, installed by scripts/install-deps.sh build) into a
# server binary. Measured for the proxy with callgrind (2026-12-01): 20.8k ->
# 18.7k user-space instructions per proxied request against glibc malloc
# (coroutine frames and header buffers of every request). Not with the
# sanitizers (they bring their own allocator); a missing library is a warning.
function(ficus_link_tcmalloc target)
  if(FICUS_SANITIZE)
    return()
  endif()
  find_library(FICUS_TCMALLOC_MINIMAL tcmalloc_minimal)
  if(FICUS_TCMALLOC_MINIMAL)
    target_link_libraries(${target} PRIVATE -Wl,--no-as-needed ${FICUS_TCMALLOC_MINIMAL}
                                            -Wl,--as-needed)
  else()
    message(WARNING "tcmalloc_minimal not found (scripts/install-deps.sh build): "
                    "${target} uses glibc malloc")
  endif()
endfunction()
