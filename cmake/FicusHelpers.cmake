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

# ficus_layer(<target> LAYER <layer> SRC <app src dir> [EXCLUDE <file names...>]
#             [PUBLIC <libs...>] [PRIVATE <libs...>])
# One static library per ADSM layer of an app (api, domain, model, service),
# built from every <SRC>/<layer>/**.cc except *_test.cc, *_fuzz.cc and the
# EXCLUDEd file names: a new file in the layer's folder is built without a
# CMake edit. Its headers are seen only through an include root that holds
# this layer alone (<binary dir>/include/<layer>/<layer> -> <SRC>/<layer>),
# so a target that does not link the layer cannot include it: a layer
# violation is a compile error (scripts/layer-check.sh says which rule).
# Sets <target>_TESTS in the caller's scope to the layer's *_test.cc files.
function(ficus_layer target)
  cmake_parse_arguments(ARG "" "LAYER;SRC" "EXCLUDE;PUBLIC;PRIVATE" ${ARGN})
  set(root ${CMAKE_CURRENT_BINARY_DIR}/include/${ARG_LAYER})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${ARG_SRC}/${ARG_LAYER} ${root}/${ARG_LAYER} SYMBOLIC)
  file(GLOB_RECURSE all CONFIGURE_DEPENDS ${ARG_SRC}/${ARG_LAYER}/*.cc)
  set(sources "")
  set(tests "")
  foreach(f IN LISTS all)
    get_filename_component(name ${f} NAME)
    if(name MATCHES "_test\\.cc$")
      list(APPEND tests ${f})
    elseif(NOT name MATCHES "_fuzz\\.cc$" AND NOT name IN_LIST ARG_EXCLUDE)
      list(APPEND sources ${f})
    endif()
  endforeach()
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} PUBLIC ${root})
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
  set(${target}_TESTS ${tests} PARENT_SCOPE)
endfunction()
