// A complete, valid proxy config used by the unit tests.
#pragma once

namespace ficus::proxy::testing {

inline constexpr const char* kValidYaml = R"(
listen: 127.0.0.1:8080
admin: {listen: 127.0.0.1:9901}
backends:
  legacy: {url: http://127.0.0.1:8081}
  modern: {url: http://127.0.0.1:8082, health: /healthz}
cohorts:
  profiles: {key: [header:X-User-Id, query:user_id, json:user_id], salt: "ficus-1"}
routes:
  - name: profile-update
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {modern: /api/v2/profile/update}
    cohort: profiles
    mode: shadow
    percent: 0
    compare: {ignore: [data.updated_at]}
    fallback: {error_rate: 0.05, window_s: 30, min_requests: 50}
  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    rewrite: {modern: /api/v2/profile/get}
    cohort: profiles
    mode: canary
    percent: 12.5
  - name: v1-prefix
    match: {prefix: /api/v1/things/}
    rewrite: {modern: /api/v2/things/}
    mode: full
)";

}  // namespace ficus::proxy::testing
