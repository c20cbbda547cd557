# Sources of the request-path fuzz target, compiled straight into the fuzzer
# so that all of them carry libFuzzer's coverage instrumentation.
set(FICUS_FUZZ_ROOT ${CMAKE_CURRENT_LIST_DIR}/../../../..)
set(FICUS_PROXY_FUZZ_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/request_path_fuzz.cc
  ${FICUS_FUZZ_ROOT}/packages/http/src/request_parser.cc
  ${FICUS_FUZZ_ROOT}/packages/http/src/message.cc
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src/domain/config.cc
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src/domain/routing.cc
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src/domain/route_plan.cc
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src/domain/cohort.cc
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src/domain/forwarded.cc
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src/domain/autopilot_plan.cc
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src/api/forward.cc)
set(FICUS_PROXY_FUZZ_INCLUDES
  ${FICUS_FUZZ_ROOT}/packages/http/include
  ${FICUS_FUZZ_ROOT}/packages/common/include
  ${FICUS_FUZZ_ROOT}/apps/strangler-proxy/src)
set(FICUS_PROXY_FUZZ_FLAGS -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -g -O1)
