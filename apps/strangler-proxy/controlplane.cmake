# Control plane of the strangler proxy (issue 5): response diffing, auto-fallback,
# mismatch ring, durable replay log, config write-back, audit log, embedded
# dashboard. Included from this folder's CMakeLists.txt; owned separately so
# the forwarding core and the control plane can change independently.
# Targets (link what you wire in main.cc):
#   ficus_proxy_cp_domain      json_diff, fallback_detector, mismatch_ring (no I/O)
#   ficus_proxy_cp_model       replay_log, config_writer (files)
#   ficus_proxy_cp_service     audit_log
#   ficus_proxy_dashboard      embedded dashboard assets (FindEmbeddedAsset)
set(FICUS_CP_DIR ${CMAKE_CURRENT_LIST_DIR})
set(FICUS_CP_SRC ${FICUS_CP_DIR}/src)

find_package(Boost 1.81 REQUIRED COMPONENTS json)
find_package(yaml-cpp REQUIRED)
find_package(Threads REQUIRED)

add_library(ficus_proxy_cp_domain STATIC
  ${FICUS_CP_SRC}/domain/json_diff.cc
  ${FICUS_CP_SRC}/domain/fallback_detector.cc
  ${FICUS_CP_SRC}/domain/mismatch_ring.cc)
target_include_directories(ficus_proxy_cp_domain PUBLIC ${FICUS_CP_SRC})
target_link_libraries(ficus_proxy_cp_domain PUBLIC ficus::common Boost::json Threads::Threads)

ficus_gtest(strangler_proxy_cp_domain_test
  SOURCES ${FICUS_CP_SRC}/domain/json_diff_test.cc
          ${FICUS_CP_SRC}/domain/fallback_detector_test.cc
          ${FICUS_CP_SRC}/domain/mismatch_ring_test.cc
  LIBS ficus_proxy_cp_domain)

# model: durable replay log, atomic config write-back.
add_library(ficus_proxy_cp_model STATIC
  ${FICUS_CP_SRC}/model/replay_log.cc
  ${FICUS_CP_SRC}/model/config_writer.cc)
target_include_directories(ficus_proxy_cp_model PUBLIC ${FICUS_CP_SRC})
target_link_libraries(ficus_proxy_cp_model PUBLIC ficus::common yaml-cpp Threads::Threads)

ficus_gtest(strangler_proxy_cp_model_test
  SOURCES ${FICUS_CP_SRC}/model/replay_log_test.cc
          ${FICUS_CP_SRC}/model/config_writer_test.cc
  LIBS ficus_proxy_cp_model)

# service: audit log.
add_library(ficus_proxy_cp_service STATIC ${FICUS_CP_SRC}/service/audit_log.cc)
target_include_directories(ficus_proxy_cp_service PUBLIC ${FICUS_CP_SRC})
target_link_libraries(ficus_proxy_cp_service PUBLIC ficus::common Boost::json)

ficus_gtest(strangler_proxy_cp_service_test
  SOURCES ${FICUS_CP_SRC}/service/audit_log_test.cc
  LIBS ficus_proxy_cp_service)
