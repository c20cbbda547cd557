// The real profile-writer binary with --store scylla://... against
// ScriptedCqlPeer: a TEST DOUBLE speaking the CQL protocol on 127.0.0.1,
// scripted here to answer the store's statements. Not ScyllaDB: it checks
// the wiring (flag, background connect, /readyz following connectivity, a
// request flowing through the store), not data semantics (the live suite).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"
#include "model/scylla_statements.h"
#include "scripted_cql_peer.h"
#include "writer_process.h"

namespace ficus::writer {
namespace {

using cql::testing::PeerReply;
using cql::testing::PeerRequest;
using cql::testing::ScriptedCqlPeer;
using namespace std::chrono_literals;

const auto kTexts = ScyllaStatementTexts("ficus");

void DefineAll(ScriptedCqlPeer& peer) {
  const std::size_t markers[] = {6, 4, 4, 1, 7, 2, 2};
  const std::vector<std::uint16_t> pk[] = {{0}, {3}, {3}, {0}, {0, 1}, {0, 1}, {0}};
  for (std::size_t i = 0; i < kTexts.size(); ++i) {
    std::vector<cql::ColumnSpec> bind;
    for (std::size_t m = 0; m < markers[i]; ++m) {
      bind.push_back({"ficus", "t", "c" + std::to_string(m), {cql::type_id::kBlob}});
    }
    peer.DefineStatement(kTexts[i], bind, pk[i]);
  }
}

bool WaitStatus(int port, int want, std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (testing::Http(port, "GET", "/readyz").status == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

TEST(ScyllaWriterBlackbox, UpdateFlowsThroughTheStoreAndReadyzFollowsTheCluster) {
  ScriptedCqlPeer peer({});
  DefineAll(peer);
  const cql::Bytes select_id = cql::EncodeBigint(cql::Murmur3Hash(cql::AsBytes(kTexts[3])));
  peer.SetHandler([select_id](const PeerRequest& r) -> std::optional<PeerReply> {
    auto* e = std::get_if<cql::ExecuteRequest>(&r.request);
    if (!e || e->id != select_id) return std::nullopt;
    cql::RowsResult rows;
    rows.metadata.column_count = 2;
    rows.metadata.columns = {
        {"ficus",
         "profiles_current",
         "attributes",
         {cql::type_id::kMap, "", {{cql::type_id::kVarchar}, {cql::type_id::kVarchar}}}},
        {"ficus", "profiles_current", "updated_us", {cql::type_id::kBigint}}};
    rows.rows.push_back({cql::EncodeTextMap({{"plan", "pro"}, {"seen", "before"}}),
                         cql::EncodeBigint(1700000000000001)});
    PeerReply reply;
    reply.response = cql::ResultBody{rows};
    return reply;
  });
  testing::TempDir dir;
  std::string url = fmt::format("scylla://127.0.0.1:{}/ficus?timeout_ms=500", peer.port());
  testing::WriterProcess writer(dir.path(), {"--store", url});
  ASSERT_TRUE(writer.started()) << "see " << writer.log_path();

  auto r = testing::Http(
      writer.port(), "POST", "/api/v2/profile/update",
      {{"Content-Type", "application/json"}, {"X-Ficus-Timestamp", "1700000000000001"}},
      R"({"user_id":"6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11",)"
      R"("attributes":{"plan":"pro","nick":null}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("attributes":{"plan":"pro","seen":"before"})"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("updated_at":"2023-11-14T22:13:20.000001Z")"), std::string::npos)
      << r.body;
  auto batches = peer.Requests(cql::Opcode::kBatch);
  ASSERT_EQ(batches.size(), 1u);
  const auto& b = std::get<cql::BatchRequest>(batches[0].request);
  ASSERT_EQ(b.statements.size(), 3u);  // history, attributes +, attributes -
  EXPECT_EQ(b.statements[0].values[5].bytes, cql::EncodeBigint(1700000000000001));  // the stamp

  peer.SetRefuse(true);
  peer.DropConnections();
  EXPECT_TRUE(WaitStatus(writer.port(), 503, 5s)) << "readyz stayed up with the cluster gone";
  auto down = testing::Http(writer.port(), "POST", "/api/v2/profile/update",
                            {{"Content-Type", "application/json"}},
                            R"({"user_id":"6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11",)"
                            R"("attributes":{"plan":"free"}})");
  EXPECT_EQ(down.status, 503) << down.body;
  peer.SetRefuse(false);
  EXPECT_TRUE(WaitStatus(writer.port(), 200, 10s)) << "readyz did not recover";
}

TEST(ScyllaWriterBlackbox, BadStoreUrlIsRejectedNamingThePart) {
  testing::TempDir dir;
  testing::WriterProcess writer(dir.path(), {"--store", "scylla://h1/ks?local_dc="});
  EXPECT_FALSE(writer.started());
  EXPECT_EQ(writer.Wait(), 2);
}

}  // namespace
}  // namespace ficus::writer
