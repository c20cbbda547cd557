# The api layer and the binary need ficus::http (packages/http).
add_library(ficus_writer_api STATIC
  src/api/bulk_request.cc src/api/bulk_response.cc src/api/envelope.cc
  src/api/router.cc src/api/update_fields.cc src/api/update_request.cc)
target_include_directories(ficus_writer_api PUBLIC ${inc}/api)
target_link_libraries(ficus_writer_api PUBLIC ficus_writer_domain ficus_writer_service ficus::http
  Boost::json)
# GCC 12 reports a false -Wmismatched-new-delete inside Asio's coroutine
# frames (as for the proxy and packages/cql); it appeared in router.cc once
# http::Response gained its streaming member.
target_compile_options(ficus_writer_api PUBLIC $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)

add_executable(profile-writer src/main.cc src/config.cc src/store_factory.cc)
target_include_directories(profile-writer PRIVATE ${src})
target_link_libraries(profile-writer PRIVATE ficus_writer_api ficus_writer_model CLI11::CLI11)
ficus_link_tcmalloc(profile-writer)  # cmake/FicusHelpers.cmake

# The same writer with test fault injection (src/api/test_faults.h:
# POST /__test/faults makes it answer errors or wrong data), for the proxy's
# autopilot tests. A separate binary: the production one has no such code.
add_executable(profile-writer-test-faults src/main.cc src/config.cc src/store_factory.cc
                                          src/api/test_faults.cc)
target_include_directories(profile-writer-test-faults PRIVATE ${src})
target_compile_definitions(profile-writer-test-faults PRIVATE FICUS_WRITER_TEST_FAULTS=1)
target_link_libraries(profile-writer-test-faults PRIVATE ficus_writer_api ficus_writer_model
                                                         CLI11::CLI11)

ficus_gtest(profile_writer_api_test
  SOURCES src/api/update_request_test.cc src/api/envelope_test.cc src/api/bulk_request_test.cc
  LIBS ficus_writer_api)

# Black-box tests: the real binary on port 0 with a temp data dir.
ficus_gtest(profile_writer_blackbox_test
  SOURCES tests/writer_process.cc tests/contract_vectors_test.cc tests/writer_behaviour_test.cc
          tests/writer_lifecycle_test.cc tests/bulk_endpoints_test.cc
  LIBS Boost::json Threads::Threads
  LABELS blackbox
  TIMEOUT 120)
target_compile_definitions(profile_writer_blackbox_test PRIVATE
  FICUS_WRITER_BINARY="$<TARGET_FILE:profile-writer>"
  FICUS_SOURCE_DIR_FALLBACK="${PROJECT_SOURCE_DIR}")
add_dependencies(profile_writer_blackbox_test profile-writer)
