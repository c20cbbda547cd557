// Client against a scripted raw-socket backend: exact bytes in, the
// parsed answer (or the error kind) out.
#include "ficus/http/client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ficus/http/blocking_client.h"

namespace ficus::http {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

// Accepts connections on 127.0.0.1:0; each one is handed to `script` on
// the backend thread (one connection at a time).
class ScriptedBackend {
 public:
  explicit ScriptedBackend(std::function<void(int fd)> script) : script_(std::move(script)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        ++accepted_;
        script_(c);
        ::close(c);
      }
    });
  }
  ~ScriptedBackend() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

  // Reads one request head (our requests here have no body).
  static std::string ReadHead(int fd) {
    std::string in;
    char buf[4096];
    while (in.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return in;
      in.append(buf, static_cast<std::size_t>(n));
    }
    return in;
  }
  static void Send(int fd, std::string_view s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

 private:
  std::function<void(int)> script_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> accepted_{0};
};

ClientTarget Target(uint16_t port, uint32_t timeout_ms = 2000) {
  ClientTarget t;
  t.name = "b";
  t.key = "b@" + std::to_string(port);
  t.endpoint = asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port);
  t.connect_timeout_ms = 500;
  t.response_timeout_ms = timeout_ms;
  t.max_idle = 4;
  return t;
}

const std::string kGet = "GET /x HTTP/1.1\r\nHost: b\r\n\r\n";

struct Loop {
  asio::io_context io{1};
  Client pool{io.get_executor()};
  ClientResult Run(const ClientTarget& t, std::string_view head = kGet, bool head_req = false,
                   uint64_t max = 1 << 20) {
    auto f = asio::co_spawn(io, pool.Exchange(t, head, {}, head_req, max), asio::use_future);
    io.restart();
    io.run();
    return f.get();
  }
};

TEST(Client, ContentLengthAnswerIsPooledAndReused) {
  ScriptedBackend b([](int fd) {
    for (int i = 0; i < 2; ++i) {
      if (ScriptedBackend::ReadHead(fd).empty()) return;
      ScriptedBackend::Send(fd, "HTTP/1.1 201 Created\r\nX-A: 1\r\nContent-Length: 5\r\n\r\nhello");
    }
  });
  Loop l;
  auto r = l.Run(Target(b.port()));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.response.result_int(), 201u);
  EXPECT_EQ(r.response.body(), "hello");
  EXPECT_EQ(r.response.headers.Get("X-A"), "1");
  EXPECT_FALSE(r.reused);
  EXPECT_EQ(l.pool.IdleCount(), 1u);
  auto r2 = l.Run(Target(b.port()));
  ASSERT_TRUE(r2.ok()) << r2.detail;
  EXPECT_TRUE(r2.reused);
  EXPECT_EQ(b.accepted(), 1);
}

TEST(Client, ChunkedAnswerIsDecoded) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd,
                          "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n");
    std::this_thread::sleep_for(20ms);  // the rest in a later segment
    ScriptedBackend::Send(fd, "2\r\nde\r\n0\r\nT: 1\r\n\r\n");
    ScriptedBackend::ReadHead(fd);  // keep the connection open until the client goes
  });
  Loop l;
  auto r = l.Run(Target(b.port()));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.response.body(), "abcde");
  EXPECT_EQ(l.pool.IdleCount(), 1u);
}

TEST(Client, LfOnlyHeadLinesAreAcceptedAsNginxDoes) {
  struct Case {
    const char* name;
    std::string answer;  // sent in two segments, split at `split`
    std::size_t split;
    unsigned status;
    const char* reason;
    const char* body;
  };
  const std::vector<Case> cases = {
      {"lf-only", "HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\nok", 9999, 200, "OK", "ok"},
      {"lf-only, head split", "HTTP/1.1 201 Created\nX-A: 1\nContent-Length: 2\n\nok", 20, 201,
       "Created", "ok"},
      {"mixed", "HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\nok", 9999, 200, "OK", "ok"},
      {"lf-only, no reason", "HTTP/1.1 422\nX-A: 1\nContent-Length: 2\n\nok", 9999, 422, "", "ok"},
      {"lf-only head, chunked body",
       "HTTP/1.1 200 OK\nX-A: 1\nTransfer-Encoding: chunked\n\n2\r\nok\r\n0\r\n\r\n", 9999, 200,
       "OK", "ok"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ScriptedBackend b([&](int fd) {
      for (int i = 0; i < 2; ++i) {  // twice: the connection is pooled and reused
        if (ScriptedBackend::ReadHead(fd).empty()) return;
        const std::string_view a = c.answer;
        ScriptedBackend::Send(fd, a.substr(0, std::min(c.split, a.size())));
        if (c.split < a.size()) {
          std::this_thread::sleep_for(20ms);
          ScriptedBackend::Send(fd, a.substr(c.split));
        }
      }
      ScriptedBackend::ReadHead(fd);
    });
    Loop l;
    for (int i = 0; i < 2; ++i) {
      auto r = l.Run(Target(b.port()));
      ASSERT_TRUE(r.ok()) << r.detail;
      EXPECT_EQ(r.response.status, c.status);
      EXPECT_EQ(r.response.reason, c.reason);
      EXPECT_EQ(r.response.headers.Get("X-A"), "1");
      EXPECT_EQ(r.response.body(), c.body);
    }
    EXPECT_EQ(b.accepted(), 1);
  }
}

TEST(Client, CloseDelimitedAnswerIsReadToEofAndNotPooled) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it");
  });
  Loop l;
  auto r = l.Run(Target(b.port()));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.response.body(), "all of it");
  EXPECT_EQ(l.pool.IdleCount(), 0u);
}

TEST(Client, ConnectionCloseIsNotPooled) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd,
                          "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
  });
  Loop l;
  auto r = l.Run(Target(b.port()));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(l.pool.IdleCount(), 0u);
}

TEST(Client, HeadAnswerHasNoBody) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");
    ScriptedBackend::ReadHead(fd);
  });
  Loop l;
  auto r = l.Run(Target(b.port()), "HEAD /x HTTP/1.1\r\nHost: b\r\n\r\n", true);
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.response.body(), "");
  EXPECT_FALSE(r.response.headers.Contains("Content-Length"));  // framing: consumed
}

// An interim answer never ends an exchange: the final answer that follows
// (here in a later segment) is the response, and the pooled connection then
// carries the next exchange's own answer.
TEST(Client, InterimAnswersAreSkippedAndNeverLeakIntoTheNextExchange) {
  ScriptedBackend b([](int fd) {
    for (int i = 0; i < 2; ++i) {
      if (ScriptedBackend::ReadHead(fd).empty()) return;
      ScriptedBackend::Send(fd, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
      std::this_thread::sleep_for(20ms);
      ScriptedBackend::Send(fd, "HTTP/1.1 102 Processing\r\n\r\n");
      std::this_thread::sleep_for(20ms);
      const std::string body = "answer" + std::to_string(i);
      ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: " +
                                    std::to_string(body.size()) + "\r\n\r\n" + body);
    }
    ScriptedBackend::ReadHead(fd);
  });
  Loop l;
  auto r = l.Run(Target(b.port()));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_EQ(r.response.result_int(), 200u);
  EXPECT_EQ(r.response.body(), "answer0");
  EXPECT_FALSE(r.response.headers.Contains("Link"));  // the interim's fields are dropped
  auto r2 = l.Run(Target(b.port()));
  ASSERT_TRUE(r2.ok()) << r2.detail;
  EXPECT_TRUE(r2.reused);
  EXPECT_EQ(r2.response.body(), "answer1");
}

TEST(Client, UnaskedSwitchingProtocolsIsAnIoErrorAndNotPooled) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw");
    ScriptedBackend::ReadHead(fd);
  });
  Loop l;
  auto r = l.Run(Target(b.port()));
  EXPECT_EQ(r.error, ClientErrorKind::kIo);
  EXPECT_EQ(l.pool.IdleCount(), 0u);
}

// Streamed: the head and first bytes come back at once, the rest through
// `rest`, read as asked; the connection is pooled once read to the end.
struct Streamed {
  ClientResult head;
  std::vector<std::string> pieces;
  std::optional<Error> error;
};

Streamed RunStreamed(Loop& l, const ClientTarget& t) {
  auto run = [&]() -> asio::awaitable<Streamed> {
    Streamed out;
    out.head = co_await l.pool.Exchange(t, kGet, {}, false, 1 << 20, 0, nullptr, true);
    if (!out.head.ok() || !out.head.response.rest) co_return out;
    for (;;) {
      auto piece = co_await out.head.response.rest->Read();
      if (!piece) {
        out.error = piece.error();
        break;
      }
      if (piece->empty()) break;
      out.pieces.emplace_back(*piece);
    }
    out.head.response.rest.reset();
    co_return out;
  };
  auto f = asio::co_spawn(l.io, run(), asio::use_future);
  l.io.restart();
  l.io.run();
  return f.get();
}

TEST(Client, StreamedAnswerIsReadAsAskedAndPooledAtTheEnd) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfirst");
    std::this_thread::sleep_for(30ms);
    ScriptedBackend::Send(fd, "-last");
    ScriptedBackend::ReadHead(fd);
  });
  Loop l;
  auto s = RunStreamed(l, Target(b.port()));
  ASSERT_TRUE(s.head.ok()) << s.head.detail;
  EXPECT_EQ(s.head.response.body(), "first");
  EXPECT_EQ(s.head.response.content_length, 10u);
  EXPECT_TRUE(s.head.response.length_framed);
  ASSERT_FALSE(s.error) << s.error->message;
  ASSERT_EQ(s.pieces.size(), 1u);
  EXPECT_EQ(s.pieces[0], "-last");
  EXPECT_EQ(l.pool.IdleCount(), 1u);
}

TEST(Client, StreamedChunkedAnswerDropsTrailers) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");
    std::this_thread::sleep_for(30ms);
    ScriptedBackend::Send(fd, "2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n");
    ScriptedBackend::ReadHead(fd);
  });
  Loop l;
  auto s = RunStreamed(l, Target(b.port()));
  ASSERT_TRUE(s.head.ok()) << s.head.detail;
  ASSERT_FALSE(s.error) << s.error->message;
  std::string all = s.head.response.body();
  for (const auto& p : s.pieces) all += p;
  EXPECT_EQ(all, "abcde");
  EXPECT_FALSE(s.head.response.length_framed);
  EXPECT_FALSE(s.head.response.headers.Contains("X-Trailer"));
  EXPECT_EQ(l.pool.IdleCount(), 1u);
}

TEST(Client, StreamedBodyCutByTheBackendIsAnErrorNotAnEnd) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    std::this_thread::sleep_for(30ms);
  });
  Loop l;
  auto s = RunStreamed(l, Target(b.port()));
  ASSERT_TRUE(s.head.ok()) << s.head.detail;
  ASSERT_TRUE(s.error);
  EXPECT_EQ(s.error->code, ErrorCode::kUnavailable);
  EXPECT_EQ(l.pool.IdleCount(), 0u);
}

TEST(Client, StalledStreamedBodyTimesOutAtTheIdleTimeout) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    std::this_thread::sleep_for(600ms);
  });
  Loop l;
  auto t = Target(b.port());
  t.idle_timeout_ms = 150;
  const auto t0 = std::chrono::steady_clock::now();
  auto s = RunStreamed(l, t);
  ASSERT_TRUE(s.error);
  EXPECT_EQ(s.error->code, ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);
}

TEST(Client, ResponseKeepsEndToEndFieldsOnly) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd,
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n"
                          "Keep-Alive: timeout=5\r\nX-A: 1\r\nUpgrade: h2c\r\n\r\na");
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd,
                          "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: X-Secret\r\n"
                          "X-Secret: s\r\n\r\nb");
  });
  Loop l;
  auto r = l.Run(Target(b.port()));
  ASSERT_TRUE(r.ok()) << r.detail;
  ASSERT_EQ(r.response.headers.size(), 1u);
  EXPECT_EQ(r.response.headers.Get("X-A"), "1");
  EXPECT_FALSE(r.response.connection_lists_fields);
  auto r2 = l.Run(Target(b.port()));
  ASSERT_TRUE(r2.ok()) << r2.detail;
  EXPECT_TRUE(r2.response.connection_lists_fields);  // the caller must strip X-Secret
  EXPECT_EQ(r2.response.headers.Get("Connection"), "X-Secret");
}

TEST(Client, StalePooledConnectionIsRetriedOnceOnANewOne) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na");
    // then close the keep-alive connection without answering the next one
  });
  Loop l;
  ASSERT_TRUE(l.Run(Target(b.port())).ok());
  ASSERT_EQ(l.pool.IdleCount(), 1u);
  std::this_thread::sleep_for(50ms);
  auto r = l.Run(Target(b.port()));
  ASSERT_TRUE(r.ok()) << r.detail;
  EXPECT_FALSE(r.reused);
  EXPECT_EQ(b.accepted(), 2);
}

TEST(Client, SlowAnswerTimesOutAtTheResponseTimeout) {
  ScriptedBackend b([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd,
                          "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal");  // never finished
    std::this_thread::sleep_for(800ms);
  });
  Loop l;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = l.Run(Target(b.port(), 200));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.error, ClientErrorKind::kTimeout) << r.detail;
  EXPECT_GE(took, 195ms);
  EXPECT_LT(took, 600ms);
  EXPECT_EQ(l.pool.IdleCount(), 0u);
}

TEST(Client, BackendThatStopsReadingTheRequestTimesOutAtTheSendTimeout) {
  ScriptedBackend b([](int fd) {
    std::this_thread::sleep_for(2500ms);  // accepts, never reads
    (void)fd;
  });
  Loop l;
  auto t = Target(b.port(), 5000);         // the answer may take 5 s...
  t.send_timeout_ms = 300;                 // ...but each write only 300 ms
  const std::string body(64u << 20, 'x');  // more than the socket buffers hold
  const std::string head =
      "POST /x HTTP/1.1\r\nHost: b\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  const auto t0 = std::chrono::steady_clock::now();
  auto f = asio::co_spawn(l.io, l.pool.Exchange(t, head, body, false, 1 << 20), asio::use_future);
  l.io.run();
  auto r = f.get();
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.error, ClientErrorKind::kTimeout) << r.detail;
  EXPECT_EQ(r.detail, "write: timeout");
  EXPECT_GE(took, 295ms);
  EXPECT_LT(took, 1500ms) << "the writes were not bounded by the send timeout";
}

TEST(Client, RefusedConnectIsAConnectError) {
  uint16_t port;
  {
    ScriptedBackend b([](int) {});
    port = b.port();
  }
  Loop l;
  auto r = l.Run(Target(port));
  EXPECT_EQ(r.error, ClientErrorKind::kConnect) << r.detail;
  EXPECT_FALSE(r.request_sent);
}

TEST(Client, AnErrorAfterTheRequestWasWrittenSaysItMayHaveReachedTheServer) {
  ScriptedBackend b([](int fd) { ScriptedBackend::ReadHead(fd); });  // reads, then closes
  Loop l;
  auto r = l.Run(Target(b.port()));
  EXPECT_EQ(r.error, ClientErrorKind::kIo) << r.detail;
  EXPECT_TRUE(r.request_sent);
}

TEST(Client, MakeClientTargetResolvesAndKeysTheTarget) {
  auto t = MakeClientTarget("writer", "localhost", 8082);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->name, "writer");
  EXPECT_EQ(t->endpoint, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 8082));
  EXPECT_EQ(t->key, "writer@127.0.0.1:8082");
  EXPECT_EQ(t->host, "localhost:8082");
  auto ip = MakeClientTarget("b", "127.0.0.2", 1);
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->key, "b@127.0.0.2:1");
  auto bad = MakeClientTarget("b", "", 1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "cannot resolve host ''");
}

// Reads one request whose body is framed by Content-Length (or absent).
std::string ReadRequest(int fd) {
  std::string in = ScriptedBackend::ReadHead(fd);
  const auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return in;
  std::size_t want = 0;
  if (auto p = in.find("Content-Length: "); p != std::string::npos && p < end) {
    want = std::stoul(in.substr(p + 16));
  }
  char buf[4096];
  while (in.size() < end + 4 + want) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

TEST(BlockingClient, SendsTheRequestAndKeepsTheConnectionAlive) {
  std::vector<std::string> seen;
  std::mutex mu;
  ScriptedBackend b([&](int fd) {
    for (;;) {
      std::string req = ReadRequest(fd);
      if (req.empty()) return;
      {
        std::lock_guard lock(mu);
        seen.push_back(req);
      }
      ScriptedBackend::Send(fd,
                            "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\n"
                            "Content-Length: 4\r\n\r\nbusy");
    }
  });
  auto t = MakeClientTarget("b", "127.0.0.1", b.port());
  ASSERT_TRUE(t);
  BlockingClient c(*t);
  Request req;
  req.method = "POST";
  req.target = "/api/v2/profile/update";
  req.headers.Add("Content-Type", "application/json");
  req.body = R"({"user_id":"u"})";
  for (int i = 0; i < 2; ++i) {
    auto r = c.Send(req);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 503u);  // not an error: the caller reads the status
    EXPECT_EQ(r->Header("retry-after"), "2");
    EXPECT_EQ(r->body, "busy");
  }
  EXPECT_EQ(b.accepted(), 1) << "the connection was not kept alive";
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0],
            "POST /api/v2/profile/update HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(b.port()) +
                "\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
                R"({"user_id":"u"})");
}

TEST(BlockingClient, ErrorsSayWhetherTheRequestWasSent) {
  uint16_t port;
  {
    ScriptedBackend gone([](int) {});
    port = gone.port();
  }
  auto t = MakeClientTarget("b", "127.0.0.1", port);
  ASSERT_TRUE(t);
  BlockingClient refused(*t);
  Request get;
  auto r = refused.Send(get);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("(not sent)"), std::string::npos) << r.error().message;

  ScriptedBackend mute([](int fd) { ScriptedBackend::ReadHead(fd); });  // reads, never answers
  auto mt = MakeClientTarget("b", "127.0.0.1", mute.port());
  ASSERT_TRUE(mt);
  BlockingClient cut(*mt);
  auto r2 = cut.Send(get);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r2.error().message.find("(not sent)"), std::string::npos) << r2.error().message;

  ScriptedBackend slow([](int fd) {
    ScriptedBackend::ReadHead(fd);
    std::this_thread::sleep_for(600ms);
  });
  auto st = MakeClientTarget("b", "127.0.0.1", slow.port());
  ASSERT_TRUE(st);
  st->response_timeout_ms = 200;
  BlockingClient late(*st);
  auto r3 = late.Send(get);
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error().code, ErrorCode::kTimeout) << r3.error().message;
}

TEST(BlockingClient, ReturnsAsSoonAsTheAnswerIsIn) {
  // Not at the next tick of the timeout watchdog (5 ms): 400 keep-alive
  // exchanges would then take 2 s or more.
  ScriptedBackend b([](int fd) {
    while (!ScriptedBackend::ReadHead(fd).empty()) {
      ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  auto t = MakeClientTarget("b", "127.0.0.1", b.port());
  ASSERT_TRUE(t);
  BlockingClient c(*t);
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 400; ++i) {
    auto r = c.Exchange(kGet, {});
    ASSERT_TRUE(r.ok()) << r.detail;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  EXPECT_EQ(b.accepted(), 1);
}

TEST(Client, OversizedOrGarbageAnswerIsAnIoError) {
  ScriptedBackend big([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(
        fd, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x'));
  });
  Loop l;
  EXPECT_EQ(l.Run(Target(big.port()), kGet, false, 1000).error, ClientErrorKind::kIo);
  ScriptedBackend garbage([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "SMTP ready\r\n\r\n");
  });
  EXPECT_EQ(l.Run(Target(garbage.port())).error, ClientErrorKind::kIo);
  ScriptedBackend cut([](int fd) {
    ScriptedBackend::ReadHead(fd);
    ScriptedBackend::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");  // then EOF
  });
  EXPECT_EQ(l.Run(Target(cut.port())).error, ClientErrorKind::kIo);
}

}  // namespace
}  // namespace ficus::http
