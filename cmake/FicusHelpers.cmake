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
