// Every case of packages/api-contract/vectors.json, against the real
// profile-writer binary over HTTP at /api/v2 (format: top of gen_vectors.py).
// One CTest test per case: ContractVectorsV2/WriterContract.Case/<name>.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "writer_process.h"

namespace ficus::writer::testing {
namespace {

namespace json = boost::json;

std::string SourceDir() {
  const char* s = std::getenv("FICUS_SOURCE_DIR");
  return s ? s : FICUS_SOURCE_DIR_FALLBACK;
}

json::array LoadCases() {
  std::ifstream in(SourceDir() + "/packages/api-contract/vectors.json");
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value doc = json::parse(ss.str(), ec);
  if (ec || !doc.is_object()) return {};
  return doc.at("cases").as_array();
}

// Placeholder values fixed for one case run.
class Placeholders {
 public:
  std::string Apply(std::string s) {
    for (std::size_t pos = 0; (pos = s.find('{', pos)) != std::string::npos;) {
      std::size_t end = s.find('}', pos);
      if (end == std::string::npos) break;
      std::string token = s.substr(pos + 1, end - pos - 1);
      std::optional<std::string> value;
      if (token == "v") {
        value = "v2";
      } else if (token.rfind("uuid:", 0) == 0) {
        value = Uuid(token.substr(5));
      } else if (token.rfind("UUID:", 0) == 0) {
        value = Uuid(token.substr(5));
        for (auto& c : *value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      } else if (token.rfind("ikey:", 0) == 0) {
        auto& k = ikeys_[token.substr(5)];
        if (k.empty()) k = "ikey-" + RandomHex(24);
        value = k;
      }
      if (!value) {
        ++pos;  // not a placeholder (e.g. a JSON object's brace)
        continue;
      }
      s.replace(pos, end - pos + 1, *value);
      pos += value->size();
    }
    return s;
  }

  json::value Apply(const json::value& v) {
    if (v.is_string()) {
      std::string s(v.get_string());
      if (s == "{any}") return v;
      return json::string(Apply(s));
    }
    if (v.is_array()) {
      json::array a;
      for (const auto& e : v.get_array()) a.push_back(Apply(e));
      return a;
    }
    if (v.is_object()) {
      json::object o;
      for (const auto& kv : v.get_object()) o[Apply(std::string(kv.key()))] = Apply(kv.value());
      return o;
    }
    return v;
  }

 private:
  std::string RandomHex(int n) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(hex[rng_() % 16]);
    return s;
  }
  std::string Uuid(const std::string& name) {
    auto& u = uuids_[name];
    if (u.empty()) {
      std::string h = RandomHex(32);
      u = h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) +
          "-" + h.substr(20, 12);
    }
    return u;
  }
  std::mt19937_64 rng_{std::random_device{}()};
  std::map<std::string, std::string> uuids_, ikeys_;
};

// Subset match (objects: listed keys must match; "{any}" matches anything).
bool Matches(const json::value& want, const json::value& got, const std::string& path,
             std::string* why) {
  if (want.is_string() && want.get_string() == "{any}") return true;
  if (want.is_object()) {
    if (!got.is_object()) {
      *why = path + ": want object, got " + json::serialize(got);
      return false;
    }
    for (const auto& kv : want.get_object()) {
      const json::value* g = got.get_object().if_contains(kv.key());
      if (g == nullptr) {
        *why = path + "." + std::string(kv.key()) + ": missing";
        return false;
      }
      if (!Matches(kv.value(), *g, path + "." + std::string(kv.key()), why)) return false;
    }
    return true;
  }
  if (want != got) {
    *why = path + ": want " + json::serialize(want) + ", got " + json::serialize(got);
    return false;
  }
  return true;
}

std::string FromHex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

class WriterContract : public ::testing::TestWithParam<json::value> {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    writer_ = std::make_unique<WriterProcess>(dir_->path());
  }
  static void TearDownTestSuite() {
    writer_.reset();
    dir_.reset();
  }
  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<WriterProcess> writer_;
};
std::unique_ptr<TempDir> WriterContract::dir_;
std::unique_ptr<WriterProcess> WriterContract::writer_;

TEST_P(WriterContract, Case) {
  ASSERT_TRUE(writer_->started()) << "writer did not start; log: " << writer_->log_path();
  const json::object& c = GetParam().as_object();
  Placeholders ph;
  std::vector<std::string> bodies;
  const json::array& steps = c.at("steps").as_array();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    SCOPED_TRACE("case '" + std::string(c.at("name").as_string()) + "' step " + std::to_string(i));
    const json::object& req = steps[i].at("request").as_object();
    const json::object& exp = steps[i].at("expect").as_object();
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& kv : req.at("headers").as_object()) {
      headers.emplace_back(std::string(kv.key()), ph.Apply(std::string(kv.value().as_string())));
    }
    std::string body;
    if (const auto* b = req.if_contains("body")) body = ph.Apply(std::string(b->as_string()));
    if (const auto* b = req.if_contains("body_json")) body = ph.Apply(json::serialize(*b));
    if (const auto* b = req.if_contains("body_hex"))
      body = ph.Apply(FromHex(std::string(b->as_string())));
    std::string method(req.at("method").as_string());
    HttpResult r = Http(writer_->port(), method, ph.Apply(std::string(req.at("path").as_string())),
                        headers, body);
    bodies.push_back(r.body);
    int want_status = static_cast<int>(exp.at("status").to_number<std::int64_t>());
    ASSERT_EQ(r.status, want_status) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json; charset=utf-8");
    boost::system::error_code ec;
    json::value got = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << r.body;
    ASSERT_TRUE(got.is_object()) << r.body;
    // Envelope: keys ret, data, msg in this order.
    ASSERT_EQ(r.body.rfind("{\"ret\":" + std::to_string(want_status) + ",\"data\":", 0), 0u)
        << r.body;
    EXPECT_EQ(got.at("msg"), json::value(exp.at("msg"))) << r.body;
    std::string why;
    EXPECT_TRUE(Matches(ph.Apply(exp.at("data")), got.at("data"), "data", &why)) << why << "\n"
                                                                                 << r.body;
    if (const auto* hs = exp.if_contains("headers")) {
      for (const auto& kv : hs->as_object()) {
        std::string name(kv.key());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        EXPECT_EQ(r.headers[name], std::string(kv.value().as_string())) << "header " << kv.key();
      }
    }
    if (const auto* same = exp.if_contains("same_body_as_step")) {
      std::size_t j = static_cast<std::size_t>(same->to_number<std::int64_t>());
      ASSERT_LT(j, i);
      EXPECT_EQ(r.body, bodies[j]) << "must be byte-identical to step " << j;
    }
  }
}

std::string CaseName(const ::testing::TestParamInfo<json::value>& info) {
  std::string name(info.param.at("name").as_string());
  std::string out;
  for (char ch : name) out.push_back(std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_');
  return out;
}

INSTANTIATE_TEST_SUITE_P(ContractVectorsV2, WriterContract, ::testing::ValuesIn(LoadCases()),
                         CaseName);

TEST(WriterContractFile, HasCases) {
  EXPECT_GT(LoadCases().size(), 40u);
}

}  // namespace
}  // namespace ficus::writer::testing
