# Control plane of the strangler proxy: response diffing, auto-fallback,
# mismatch ring, durable replay log, config write-back, audit log, embedded
# dashboard. Included from this folder's CMakeLists.txt; owned separately so
# the forwarding core and the control plane can change independently.
# Targets (link what you wire in main.cc):
#   ficus_proxy_cp_domain      json_diff, fallback_detector, mismatch_ring, traffic_window,
#                              control_plane, mode_guard, follower_status (no I/O)
#   ficus_proxy_cp_model       replay_log (+ journal adapter, HTTP replayer), config_writer,
#                              yaml_route_store (files, HTTP)
#   ficus_proxy_cp_service     audit_log, metrics_scraper (binlog follower's /metrics)
#   ficus_proxy_cp_api         control-plane mirror sink, admin endpoints + dashboard
#   ficus_proxy_dashboard      embedded dashboard assets (FindEmbeddedAsset)
# ficus-proxy (defined in CMakeLists.txt) is linked with the control plane here.
set(FICUS_CP_DIR ${CMAKE_CURRENT_LIST_DIR})
set(FICUS_CP_SRC ${FICUS_CP_DIR}/src)

find_package(Boost 1.81 REQUIRED COMPONENTS json)
find_package(yaml-cpp REQUIRED)
find_package(Threads REQUIRED)

add_library(ficus_proxy_cp_domain STATIC
  ${FICUS_CP_SRC}/domain/json_diff.cc
  ${FICUS_CP_SRC}/domain/mirror_verdict.cc
  ${FICUS_CP_SRC}/domain/fallback_detector.cc
  ${FICUS_CP_SRC}/domain/mismatch_ring.cc
  ${FICUS_CP_SRC}/domain/traffic_window.cc
  ${FICUS_CP_SRC}/domain/control_plane.cc
  ${FICUS_CP_SRC}/domain/mode_guard.cc
  ${FICUS_CP_SRC}/domain/route_group.cc
  ${FICUS_CP_SRC}/domain/write_tracker.cc
  ${FICUS_CP_SRC}/domain/control_state.cc
  ${FICUS_CP_SRC}/domain/fleet_report.cc
  ${FICUS_CP_SRC}/domain/follower_status.cc
  ${FICUS_CP_SRC}/domain/autopilot.cc
  ${FICUS_CP_SRC}/domain/autopilot_state.cc
  ${FICUS_CP_SRC}/domain/recheck.cc)
target_include_directories(ficus_proxy_cp_domain PUBLIC ${FICUS_CP_SRC})
target_link_libraries(ficus_proxy_cp_domain PUBLIC ficus_proxy_domain ficus::common Boost::json
                                                   Threads::Threads)

ficus_gtest(strangler_proxy_cp_domain_test
  SOURCES ${FICUS_CP_SRC}/domain/json_diff_test.cc
          ${FICUS_CP_SRC}/domain/mirror_verdict_test.cc
          ${FICUS_CP_SRC}/domain/fallback_detector_test.cc
          ${FICUS_CP_SRC}/domain/mismatch_ring_test.cc
          ${FICUS_CP_SRC}/domain/traffic_window_test.cc
          ${FICUS_CP_SRC}/domain/control_plane_test.cc
          ${FICUS_CP_SRC}/domain/mode_guard_test.cc
          ${FICUS_CP_SRC}/domain/route_group_test.cc
          ${FICUS_CP_SRC}/domain/write_tracker_test.cc
          ${FICUS_CP_SRC}/domain/control_state_test.cc
          ${FICUS_CP_SRC}/domain/follower_status_test.cc
          ${FICUS_CP_SRC}/domain/autopilot_test.cc
          ${FICUS_CP_SRC}/domain/autopilot_state_test.cc
          ${FICUS_CP_SRC}/domain/recheck_test.cc
  LIBS ficus_proxy_cp_domain)

# model: durable replay log, atomic config write-back.
add_library(ficus_proxy_cp_model STATIC
  ${FICUS_CP_SRC}/model/replay_log.cc
  ${FICUS_CP_SRC}/model/replay_lanes.cc
  ${FICUS_CP_SRC}/model/replay_format.cc
  ${FICUS_CP_SRC}/model/intent_log.cc
  ${FICUS_CP_SRC}/model/replay_consumer.cc
  ${FICUS_CP_SRC}/model/config_writer.cc
  ${FICUS_CP_SRC}/model/replay_journal.cc
  ${FICUS_CP_SRC}/model/http_replay_sender.cc
  ${FICUS_CP_SRC}/model/yaml_route_store.cc
  ${FICUS_CP_SRC}/model/etcd_control_store.cc
  ${FICUS_CP_SRC}/model/autopilot_file_store.cc
  ${FICUS_CP_SRC}/model/etcd_autopilot_store.cc
  ${FICUS_CP_SRC}/model/etcd_client_options.cc)
target_include_directories(ficus_proxy_cp_model PUBLIC ${FICUS_CP_SRC})
target_link_libraries(ficus_proxy_cp_model PUBLIC ficus_proxy_cp_domain ficus_proxy_domain
                      ficus_proxy_service ficus::common ficus::etcd yaml-cpp Threads::Threads)

ficus_gtest(strangler_proxy_cp_model_test
  SOURCES ${FICUS_CP_SRC}/model/replay_log_test.cc
          ${FICUS_CP_SRC}/model/replay_format_test.cc
          ${FICUS_CP_SRC}/model/intent_log_test.cc
          ${FICUS_CP_SRC}/model/config_writer_test.cc
  LIBS ficus_proxy_cp_model)

# service: audit log, the periodic /metrics scraper (binlog follower).
add_library(ficus_proxy_cp_service STATIC ${FICUS_CP_SRC}/service/audit_log.cc
                                          ${FICUS_CP_SRC}/service/json_text.cc
                                          ${FICUS_CP_SRC}/service/metrics_scraper.cc
                                          ${FICUS_CP_SRC}/service/webhook.cc)
target_include_directories(ficus_proxy_cp_service PUBLIC ${FICUS_CP_SRC})
target_link_libraries(ficus_proxy_cp_service PUBLIC ficus::common ficus::http Boost::json
                                                    Threads::Threads spdlog::spdlog)

ficus_gtest(strangler_proxy_cp_service_test
  SOURCES ${FICUS_CP_SRC}/service/audit_log_test.cc ${FICUS_CP_SRC}/service/json_text_test.cc
          ${FICUS_CP_SRC}/service/metrics_scraper_test.cc
  LIBS ficus_proxy_cp_service)

# dashboard: uPlot from the npm registry (package-lock.json committed), page
# sources from dashboard/, all compiled into a generated .cc so the binary
# serves the page offline. `npm ci` runs only when node_modules is missing.
set(FICUS_DASH_DIR ${FICUS_CP_DIR}/dashboard)
set(FICUS_UPLOT_DIST ${FICUS_DASH_DIR}/node_modules/uplot/dist)
set(FICUS_DASH_STAMP ${CMAKE_CURRENT_BINARY_DIR}/dashboard-npm.stamp)
add_custom_command(
  OUTPUT ${FICUS_DASH_STAMP}
  COMMAND sh -c "test -f node_modules/uplot/dist/uPlot.iife.min.js || npm ci --offline --no-audit --no-fund || npm ci --no-audit --no-fund"
  COMMAND ${CMAKE_COMMAND} -E touch ${FICUS_DASH_STAMP}
  WORKING_DIRECTORY ${FICUS_DASH_DIR}
  DEPENDS ${FICUS_DASH_DIR}/package.json ${FICUS_DASH_DIR}/package-lock.json
  COMMENT "dashboard: npm ci (uPlot) if node_modules is missing"
  VERBATIM)
set(FICUS_DASH_ASSETS
  "index.html|${FICUS_DASH_DIR}/index.html"
  "app.js|${FICUS_DASH_DIR}/app.js"
  "style.css|${FICUS_DASH_DIR}/style.css"
  "uPlot.min.js|${FICUS_UPLOT_DIST}/uPlot.iife.min.js"
  "uPlot.min.css|${FICUS_UPLOT_DIST}/uPlot.min.css")
set(FICUS_DASH_CC ${CMAKE_CURRENT_BINARY_DIR}/dashboard_assets.cc)
add_custom_command(
  OUTPUT ${FICUS_DASH_CC}
  COMMAND ${CMAKE_COMMAND} -DOUT=${FICUS_DASH_CC} "-DASSETS=${FICUS_DASH_ASSETS}"
          -P ${FICUS_DASH_DIR}/embed_assets.cmake
  DEPENDS ${FICUS_DASH_STAMP} ${FICUS_DASH_DIR}/embed_assets.cmake
          ${FICUS_DASH_DIR}/index.html ${FICUS_DASH_DIR}/app.js ${FICUS_DASH_DIR}/style.css
  COMMENT "dashboard: embedding assets"
  VERBATIM)
add_library(ficus_proxy_dashboard STATIC ${FICUS_DASH_CC})
target_include_directories(ficus_proxy_dashboard PUBLIC ${FICUS_CP_DIR})

ficus_gtest(strangler_proxy_dashboard_test
  SOURCES ${FICUS_DASH_DIR}/embedded_assets_test.cc
  LIBS ficus_proxy_dashboard)

# api: the control plane's MirrorSink, admin endpoints and dashboard serving.
add_library(ficus_proxy_cp_api STATIC
  ${FICUS_CP_SRC}/api/control_plane_sink.cc
  ${FICUS_CP_SRC}/api/mismatch_recheck.cc
  ${FICUS_CP_SRC}/api/live_config.cc
  ${FICUS_CP_SRC}/api/fleet_admin.cc
  ${FICUS_CP_SRC}/api/admin_auth.cc
  ${FICUS_CP_SRC}/api/admin_request.cc
  ${FICUS_CP_SRC}/api/admin_reply.cc
  ${FICUS_CP_SRC}/api/admin_routes.cc
  ${FICUS_CP_SRC}/api/autopilot_driver.cc
  ${FICUS_CP_SRC}/api/admin_autopilot.cc
  ${FICUS_CP_SRC}/api/status_metrics.cc)
target_link_libraries(ficus_proxy_cp_api PUBLIC ficus_proxy_api ficus_proxy_cp_domain
                      ficus_proxy_cp_service ficus_proxy_dashboard)

ficus_gtest(strangler_proxy_cp_api_test
  SOURCES ${FICUS_CP_SRC}/api/admin_auth_test.cc
          ${FICUS_CP_SRC}/api/admin_request_test.cc
          ${FICUS_CP_SRC}/api/control_plane_sink_test.cc
          ${FICUS_CP_SRC}/api/mismatch_recheck_test.cc
          ${FICUS_CP_SRC}/api/live_config_test.cc
          ${FICUS_CP_SRC}/api/status_metrics_test.cc
  LIBS ficus_proxy_cp_api)

if(TARGET ficus-proxy)
  target_link_libraries(ficus-proxy PRIVATE ficus_proxy_cp_api ficus_proxy_cp_model)
endif()
foreach(t ficus_proxy_cp_api ficus_proxy_cp_model ficus_proxy_cp_service strangler_proxy_cp_service_test)
  target_compile_options(${t} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
endforeach()

# Black-box lifecycle (real MariaDB + php-fpm + nginx, profile-writer, ficus-proxy)
# and the dashboard browser test (headless Debian Chromium via playwright-core).
find_program(FICUS_PYTHON3 python3)
if(FICUS_PYTHON3 AND TARGET profile-writer AND TARGET ficus-proxy)
  add_test(NAME strangler_proxy_lifecycle_test
    COMMAND ${FICUS_PYTHON3} ${FICUS_CP_DIR}/tests/lifecycle/lifecycle_test.py
            --proxy $<TARGET_FILE:ficus-proxy> --writer $<TARGET_FILE:profile-writer>
            --repo ${PROJECT_SOURCE_DIR} --work ${CMAKE_CURRENT_BINARY_DIR}/lifecycle-work)
  set_tests_properties(strangler_proxy_lifecycle_test PROPERTIES LABELS blackbox TIMEOUT 900)
  # The whole migration under steady traffic with crashes injected.
  add_test(NAME strangler_proxy_faults_test
    COMMAND ${FICUS_PYTHON3} ${FICUS_CP_DIR}/tests/lifecycle/faults_test.py
            --proxy $<TARGET_FILE:ficus-proxy> --writer $<TARGET_FILE:profile-writer>
            --repo ${PROJECT_SOURCE_DIR} --work ${CMAKE_CURRENT_BINARY_DIR}/faults-work)
  set_tests_properties(strangler_proxy_faults_test PROPERTIES LABELS blackbox TIMEOUT 400)
  # Autopilot on the real stack (issue 15), one test per scenario (each well
  # under 3 minutes): the writer built with test fault injection.
  if(TARGET profile-writer-test-faults)
    foreach(scenario healthy failing wrong webhook)
      add_test(NAME strangler_proxy_autopilot_stack_${scenario}_test
        COMMAND ${FICUS_PYTHON3} ${FICUS_CP_DIR}/tests/lifecycle/autopilot_stack_test.py
                --proxy $<TARGET_FILE:ficus-proxy>
                --writer $<TARGET_FILE:profile-writer-test-faults>
                --prod-writer $<TARGET_FILE:profile-writer>
                --repo ${PROJECT_SOURCE_DIR} --scenario ${scenario}
                --work ${CMAKE_CURRENT_BINARY_DIR}/autopilot-${scenario}-work)
      set_tests_properties(strangler_proxy_autopilot_stack_${scenario}_test PROPERTIES
                           LABELS blackbox TIMEOUT 300)
    endforeach()
  endif()
  # With the binlog follower (its panel) when the migrator is built (a later
  # subdirectory: checked at generate time).
  set(FICUS_DASH_MIGRATOR
      "$<$<TARGET_EXISTS:profile-migrator>:$<TARGET_FILE:profile-migrator>>")
  add_test(NAME strangler_proxy_dashboard_browser_test
    COMMAND ${FICUS_CP_DIR}/tests/dashboard/run.sh $<TARGET_FILE:ficus-proxy>
            $<TARGET_FILE:profile-writer> ${PROJECT_SOURCE_DIR}
            ${CMAKE_CURRENT_BINARY_DIR}/dashboard-screenshot.png ${FICUS_DASH_MIGRATOR})
  set_tests_properties(strangler_proxy_dashboard_browser_test PROPERTIES LABELS blackbox
                       TIMEOUT 600)
endif()

# Fleet: three ficus-proxy replicas on one control state in real
# etcd (packages/etcd's harness starts the members), under load.
if(TARGET ficus-proxy AND TARGET ficus-test-upstream AND TARGET ficus_etcd_testing)
  ficus_gtest(strangler_proxy_fleet_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/tests/blackbox/harness.cc
            ${CMAKE_CURRENT_LIST_DIR}/tests/blackbox/fleet_test.cc
    LIBS ficus_proxy_domain ficus_etcd_testing Boost::json Threads::Threads
    LABELS blackbox
    TIMEOUT 300)
  target_compile_definitions(strangler_proxy_fleet_test PRIVATE
    FICUS_PROXY_BIN="$<TARGET_FILE:ficus-proxy>"
    FICUS_TEST_UPSTREAM_BIN="$<TARGET_FILE:ficus-test-upstream>")
  add_dependencies(strangler_proxy_fleet_test ficus-proxy ficus-test-upstream)
endif()

# Autopilot: plans walking a route group on the real proxy in
# front of real upstream processes, time-compressed.
if(TARGET ficus-proxy AND TARGET ficus-test-upstream)
  ficus_gtest(strangler_proxy_autopilot_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/tests/blackbox/harness.cc
            ${CMAKE_CURRENT_LIST_DIR}/tests/blackbox/autopilot_test.cc
    LIBS Boost::json Threads::Threads
    LABELS blackbox
    TIMEOUT 300)
  target_compile_definitions(strangler_proxy_autopilot_test PRIVATE
    FICUS_PROXY_BIN="$<TARGET_FILE:ficus-proxy>"
    FICUS_TEST_UPSTREAM_BIN="$<TARGET_FILE:ficus-test-upstream>")
  add_dependencies(strangler_proxy_autopilot_test ficus-proxy ficus-test-upstream)
endif()
