// Fuzz target of the proxy's request path, without sockets: the bytes a
// client sends go through exactly the code the proxy runs before it talks
// to a backend:
//   RequestParser (packages/http: strict head checks, Beast body decoding)
//   -> Match (route table) -> PlanRoute (the proxy's one cohort rule:
//      X-Canary-User, mode gate, header/query/JSON key, bucket, Decide)
//   -> PrepareUpstreamHeaders -> AppendRequestHead (the bytes sent upstream).
//
// Invariants checked (abort = finding):
//   - the parser either rejects with a 4xx status or yields a request whose
//     consumed length is within the input;
//   - a found cohort key is non-empty with a bucket < 10000; a mirror goes
//     to the other side; an unrouted request goes out untouched, unmirrored;
//   - planned from the head alone (as the proxy does before it decides to
//     stream a body), a plan that says the body is not needed is the plan
//     the whole request gets (with and without a body-keeping sink);
//   - the upstream head the proxy would send parses back with our own strict
//     parser as ONE request with the same method, the routed target and the
//     same body length: the proxy can never turn a request it accepted into
//     an ambiguous or smuggled one for the backend;
//   - X-Ficus-Timestamp reaches the backend only as the proxy's own stamp.
//
// Built two ways (tests/fuzz/CMakeLists.txt): with clang + libFuzzer
// (-fsanitize=fuzzer,address,undefined), and with any compiler against
// replay_main.cc, which replays the seed corpus plus deterministic
// mutations of it (what `make test` runs under g++).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "api/forward.h"
#include "domain/cohort.h"
#include "domain/config.h"
#include "domain/route_plan.h"
#include "domain/routing.h"
#include "ficus/http/request_parser.h"

namespace ficus::proxy {
namespace {

constexpr const char* kYaml = R"(
backends:
  legacy: {url: http://127.0.0.1:8081}
  modern: {url: http://127.0.0.1:8082}
cohorts:
  profiles: {key: [header:X-User-Id, query:user_id, json:user_id], salt: "ficus-1"}
routes:
  - name: profile-update
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {modern: /api/v2/profile/update}
    cohort: profiles
    mode: canary
    percent: 50
  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    rewrite: {modern: /api/v2/profile/get}
    cohort: profiles
    mode: shadow
  - name: profile-paused
    match: {method: POST, path: /api/v1/profile/paused}
    cohort: profiles
    mode: canary
    percent: 100
    paused: true
  - name: things
    match: {prefix: /api/v1/things/}
    rewrite: {modern: /api/v2/things/}
    mode: full
)";

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
  }
}

const Config& TheConfig() {
  static const std::shared_ptr<const Config> cfg = [] {
    auto c = ParseConfig(kYaml);
    Check(c.has_value(), "fuzz config parses");
    return *c;
  }();
  return *cfg;
}

http::ParserLimits FuzzLimits() {
  http::ParserLimits l;
  l.max_header_bytes = std::size_t{8} * 1024;
  l.max_uri_bytes = std::size_t{2} * 1024;
  l.max_body_bytes = std::size_t{64} * 1024;
  return l;
}

int RunOne(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto limits = FuzzLimits();
  http::Request req;
  http::Rejection rej;
  std::size_t consumed = 0;
  const auto st = http::ParseRequest(input, limits, &req, &rej, &consumed);
  if (st == http::RequestParser::Status::kRejected) {
    Check(rej.status >= 400 && rej.status < 500, "rejection is a 4xx");
    Check(!rej.message.empty(), "rejection has a message");
    return 0;
  }
  if (st != http::RequestParser::Status::kDone) return 0;
  Check(consumed <= size, "consumed within input");
  Check(req.body.size() <= limits.max_body_bytes, "body within limit");

  const Config& cfg = TheConfig();
  const auto path = req.Path();
  const auto query = req.Query();
  const Route* route = Match(cfg, req.method, path);
  const Cohort* cohort = route ? cfg.FindCohort(route->cohort) : nullptr;
  RequestFacts facts;
  facts.method = req.method;
  facts.target = req.target;
  facts.path = path;
  facts.query = query;
  facts.header = [&req](std::string_view n) { return req.headers.Get(n); };
  std::string target;
  for (const bool want_bodies : {false, true}) {
    facts.body = std::nullopt;
    const RoutePlan from_head = PlanRoute(route, cohort, facts, want_bodies);
    facts.body = req.body;
    const RoutePlan plan = PlanRoute(route, cohort, facts, want_bodies);
    if (!from_head.needs_whole_body) {
      Check(from_head.cohort == plan.cohort && from_head.cohort_key == plan.cohort_key &&
                from_head.primary_role == plan.primary_role &&
                from_head.primary_target == plan.primary_target && !plan.mirror,
            "a body the plan does not need does not change the plan");
    }
    if (!plan.cohort_key.empty()) {
      Check(cohort != nullptr, "a cohort key only from the route's cohort");
      Check(CohortBucket(cohort->salt, plan.cohort_key) < 10000, "bucket < 10000");
    }
    if (plan.mirror) Check(plan.mirror->role != plan.primary_role, "mirror goes to the other side");
    if (!route) {
      Check(plan.primary_target == req.target && !plan.mirror && !plan.needs_whole_body,
            "an unrouted request goes out untouched");
    }
    if (!want_bodies) target = plan.primary_target;
  }

  const int64_t ts = route && IsWrite(req.method) ? 1700000000000000 : 0;
  http::Headers h = req.headers;
  const auto id = PrepareUpstreamHeaders(h, ForwardFacts{"127.0.0.1", "generated-id", ts});
  Check(ValidRequestId(id), "request id in force is valid");
  std::string head;
  AppendRequestHead(head, req.method, target, h, req.body.size(), "127.0.0.1:8081");

  // What the backend receives must parse back as exactly this request.
  const std::string wire = head + req.body;
  http::ParserLimits back_limits;
  back_limits.max_header_bytes = 1 << 20;
  back_limits.max_uri_bytes = 1 << 20;
  back_limits.max_body_bytes = 1 << 20;
  http::Request back;
  http::Rejection back_rej;
  std::size_t back_consumed = 0;
  const auto back_st = http::ParseRequest(wire, back_limits, &back, &back_rej, &back_consumed);
  if (back_st != http::RequestParser::Status::kDone) {
    std::fprintf(stderr, "upstream head does not parse (%u %s):\n%s\n", back_rej.status,
                 back_rej.message.c_str(), head.c_str());
  }
  Check(back_st == http::RequestParser::Status::kDone, "upstream request parses");
  Check(back_consumed == wire.size(), "upstream request is exactly one request");
  Check(back.method == req.method, "method kept");
  Check(back.headers.Count("host") == 1, "exactly one Host upstream");
  Check(back.target == target, "target is the routed one");
  Check(back.body == req.body, "body kept");
  Check(back.headers.Count("transfer-encoding") == 0, "no Transfer-Encoding upstream");
  Check(back.headers.Count("x-ficus-timestamp") == (ts ? 1u : 0u), "timestamp only from proxy");
  if (ts) {
    Check(*back.headers.Get("x-ficus-timestamp") == "1700000000000000", "timestamp is ours");
  }
  return 0;
}

}  // namespace
}  // namespace ficus::proxy

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return ficus::proxy::RunOne(data, size);
}
