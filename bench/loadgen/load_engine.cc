#include "load_engine.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <thread>

#include "response_framer.h"

namespace ficus::bench {
namespace {

std::uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

enum class ConnState { kDown, kConnecting, kIdle, kBusy };

struct Conn {
  int fd = -1;
  ConnState state = ConnState::kDown;
  std::uint64_t retry_at = 0;  // kDown: when to reconnect
  std::uint64_t intended = 0;  // kBusy: the request's schedule time
  std::uint64_t sent_at = 0;
  const std::string* request = nullptr;
  std::size_t written = 0;
  bool want_out = false;
  std::string rbuf;
  ResponseFramer framer;
};

class Worker {
 public:
  Worker(const LoadOptions& o, int index, int conns, double rate, std::uint64_t start_ns)
      : o_(o),
        conns_(static_cast<std::size_t>(conns)),
        schedule_(o.arrival, rate, o.seed * 7919 + static_cast<std::uint64_t>(index)),
        start_(start_ns),
        measure_start_(start_ns + static_cast<std::uint64_t>(o.warmup.count())),
        end_(measure_start_ + static_cast<std::uint64_t>(o.duration.count())),
        drain_end_(end_ + static_cast<std::uint64_t>(o.drain.count())),
        next_request_(o.requests->size() * static_cast<std::size_t>(index) /
                      static_cast<std::size_t>(std::max(1, o.threads))) {
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(o.port);
    inet_pton(AF_INET, o.host.c_str(), &addr_.sin_addr);
  }
  ~Worker() {
    for (auto& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    if (ep_ >= 0) close(ep_);
  }

  // Opens every connection (before the start time); false if none opened.
  bool Setup() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    std::size_t ok = 0;
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      Connect(i, NowNs());
      if (conns_[i].state != ConnState::kDown) ++ok;
    }
    // Wait (bounded) for the non-blocking connects to finish.
    const std::uint64_t until = NowNs() + 2'000'000'000ull;
    while (NowNs() < until && CountIn(ConnState::kConnecting) > 0) Poll(10'000'000);
    return CountIn(ConnState::kIdle) > 0;
  }

  LoadResult Run() {
    std::uint64_t next_due = start_ + schedule_.Next();
    std::uint64_t next_timeout_scan = 0;
    for (;;) {
      const std::uint64_t now = NowNs();
      while (next_due <= now && next_due < end_) {
        if (next_due >= measure_start_) ++r_.scheduled;
        if (backlog_.size() >= o_.max_backlog) {
          if (next_due >= measure_start_) Unfinished("client backlog full");
        } else {
          backlog_.push_back(next_due);
        }
        next_due = start_ + schedule_.Next();
      }
      r_.max_backlog_seen = std::max<std::uint64_t>(r_.max_backlog_seen, backlog_.size());
      Dispatch(now);
      if (now >= end_ && backlog_.empty() && CountIn(ConnState::kBusy) == 0) break;
      if (now >= drain_end_) {
        for (auto t : backlog_) {
          if (t >= measure_start_) Unfinished("not sent before the drain deadline");
        }
        for (auto& c : conns_) {
          if (c.state == ConnState::kBusy && c.intended >= measure_start_) {
            Unfinished("not answered before the drain deadline");
          }
        }
        break;
      }
      if (now >= next_timeout_scan) {
        ScanTimeouts(now);
        next_timeout_scan = now + 10'000'000;  // 10 ms
      }
      std::uint64_t wake = std::min(next_timeout_scan, drain_end_);
      if (next_due < end_) wake = std::min(wake, RoundUpToTick(next_due));
      if (!backlog_.empty() && !idle_.empty()) wake = now;
      Poll(wake > now ? wake - now : 0);
    }
    r_.duration_s = static_cast<double>(end_ - measure_start_) / 1e9;
    return std::move(r_);
  }

 private:
  // Wake-ups for due requests are batched on a `tick` grid: one epoll wait
  // per tick instead of one per request (at 40k/s and a 50 us tick, 4
  // requests per wake-up). The added send delay is at most one tick and is
  // counted in the latency (it runs from the intended time).
  std::uint64_t RoundUpToTick(std::uint64_t t) const {
    const auto tick = static_cast<std::uint64_t>(o_.tick.count());
    if (tick <= 1 || t <= start_) return t;
    return start_ + (t - start_ + tick - 1) / tick * tick;
  }

  void NoteTimeline(std::uint64_t intended, std::uint64_t done, std::uint64_t sent) {
    const auto every = static_cast<std::uint64_t>(o_.timeline.count());
    if (every == 0) return;
    const std::size_t at = (intended - measure_start_) / every;
    if (at >= r_.timeline.size()) r_.timeline.resize(at + 1);
    TimelineBucket& b = r_.timeline[at];
    ++b.count;
    b.max_latency = std::max(b.max_latency, done - intended);
    b.max_service = std::max(b.max_service, done - sent);
    b.max_send_lag = std::max(b.max_send_lag, sent - intended);
  }

  std::size_t CountIn(ConnState s) const {
    return static_cast<std::size_t>(
        std::count_if(conns_.begin(), conns_.end(), [s](const Conn& c) { return c.state == s; }));
  }

  void Note(const std::string& what) {
    if (r_.first_error.empty()) r_.first_error = what;
  }
  void Unfinished(const char* why) {
    ++r_.unfinished;
    Note(why);
  }

  void Connect(std::size_t i, std::uint64_t now) {
    Conn& c = conns_[i];
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.rbuf.clear();
    c.framer.Reset();
    c.want_out = true;
    const int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_);
    if (rc != 0 && errno != EINPROGRESS) {
      ++r_.connect_errors;
      Note(std::string("connect: ") + std::strerror(errno));
      close(c.fd);
      c.fd = -1;
      c.state = ConnState::kDown;
      c.retry_at = now + 100'000'000;
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
    c.state = ConnState::kConnecting;
  }

  // Drops the connection; its request (if any) failed with `why`.
  void Drop(std::size_t i, std::uint64_t now, const std::string& why, bool timeout = false) {
    Conn& c = conns_[i];
    if (c.state == ConnState::kBusy && c.intended >= measure_start_) {
      ++(timeout ? r_.timeouts : r_.io_errors);
      Note(why);
    }
    if (c.state == ConnState::kIdle) std::erase(idle_, i);
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
    c.state = ConnState::kDown;
    c.retry_at = now;  // reconnect at once (a failing connect backs off)
    ++r_.reconnects;
  }

  void SetWantOut(Conn& c, std::size_t i, bool want) {
    if (c.want_out == want) return;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    c.want_out = want;
  }

  void Dispatch(std::uint64_t now) {
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].state == ConnState::kDown && conns_[i].retry_at <= now) Connect(i, now);
    }
    while (!backlog_.empty() && !idle_.empty()) {
      const std::size_t i = idle_.back();
      idle_.pop_back();
      Conn& c = conns_[i];
      c.state = ConnState::kBusy;
      c.intended = backlog_.front();
      backlog_.pop_front();
      c.request = &(*o_.requests)[next_request_];
      next_request_ = (next_request_ + 1) % o_.requests->size();
      c.written = 0;
      c.sent_at = NowNs();
      if (c.intended >= measure_start_) r_.send_lag.Record(c.sent_at - c.intended);
      Write(i);
    }
  }

  void Write(std::size_t i) {
    Conn& c = conns_[i];
    while (c.written < c.request->size()) {
      const ssize_t n =
          send(c.fd, c.request->data() + c.written, c.request->size() - c.written, MSG_NOSIGNAL);
      if (n > 0) {
        c.written += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        SetWantOut(c, i, true);
        return;
      }
      Drop(i, NowNs(), std::string("send: ") + std::strerror(errno));
      return;
    }
    SetWantOut(c, i, false);
  }

  void Read(std::size_t i, std::uint64_t now) {
    Conn& c = conns_[i];
    char buf[65536];
    const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      const std::string why =
          n == 0 ? "connection closed by the server" : std::string("recv: ") + std::strerror(errno);
      Drop(i, now, why);
      return;
    }
    if (n < 0) return;
    if (c.state != ConnState::kBusy) {
      Drop(i, now, "bytes received with no request outstanding");
      return;
    }
    c.rbuf.append(buf, static_cast<std::size_t>(n));
    switch (c.framer.Feed(c.rbuf)) {
      case ResponseFramer::State::kNeedMore:
        return;
      case ResponseFramer::State::kError:
        Drop(i, now, "bad response: " + c.framer.error());
        return;
      case ResponseFramer::State::kComplete:
        break;
    }
    const std::uint64_t done = NowNs();
    if (c.intended >= measure_start_) {
      ++r_.completed;
      if (done < end_) ++r_.completed_in_window;
      r_.latency.Record(done - c.intended);
      r_.service.Record(done - c.sent_at);
      NoteTimeline(c.intended, done, c.sent_at);
      const unsigned s = c.framer.status();
      if (s >= 200 && s < 300) {
        ++r_.status_2xx;
      } else if (s >= 300 && s < 400) {
        ++r_.status_3xx;
      } else if (s >= 400 && s < 500) {
        ++r_.status_4xx;
      } else if (s >= 500 && s < 600) {
        ++r_.status_5xx;
      } else {
        ++r_.status_other;
      }
      if (s >= 400) Note("HTTP " + std::to_string(s));
    }
    const bool extra = c.framer.consumed() != c.rbuf.size();
    const bool keep = c.framer.keep_alive();
    c.rbuf.clear();
    c.framer.Reset();
    c.state = ConnState::kIdle;
    if (extra || !keep) {
      Drop(i, now, extra ? "bytes after a complete response" : "");
      return;
    }
    idle_.push_back(i);
  }

  void ScanTimeouts(std::uint64_t now) {
    const auto limit = static_cast<std::uint64_t>(o_.timeout.count());
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].state == ConnState::kBusy && now > conns_[i].sent_at &&
          now - conns_[i].sent_at > limit) {
        Drop(i, now, "request timed out", /*timeout=*/true);
      }
    }
  }

  void Poll(std::uint64_t wait_ns) {
    epoll_event events[256];
    timespec ts{static_cast<time_t>(wait_ns / 1'000'000'000ull),
                static_cast<long>(wait_ns % 1'000'000'000ull)};
    const int n = epoll_pwait2(ep_, events, 256, &ts, nullptr);
    if (n <= 0) return;
    const std::uint64_t now = NowNs();
    for (int k = 0; k < n; ++k) {
      const std::size_t i = events[k].data.u64;
      Conn& c = conns_[i];
      if (c.fd < 0) continue;
      if (c.state == ConnState::kConnecting) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events[k].events & (EPOLLERR | EPOLLHUP))) {
          ++r_.connect_errors;
          Note(std::string("connect: ") + std::strerror(err ? err : ECONNREFUSED));
          epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
          close(c.fd);
          c.fd = -1;
          c.state = ConnState::kDown;
          c.retry_at = now + 100'000'000;
          continue;
        }
        c.state = ConnState::kIdle;
        SetWantOut(c, i, false);
        idle_.push_back(i);
        continue;
      }
      if (events[k].events & EPOLLOUT && c.state == ConnState::kBusy) Write(i);
      if (c.fd >= 0 && events[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Read(i, now);
    }
  }

  const LoadOptions& o_;
  std::vector<Conn> conns_;
  std::vector<std::size_t> idle_;
  std::deque<std::uint64_t> backlog_;
  ArrivalSchedule schedule_;
  sockaddr_in addr_{};
  int ep_ = -1;
  std::uint64_t start_, measure_start_, end_, drain_end_;
  std::size_t next_request_;
  LoadResult r_;
};

}  // namespace

void TimelineBucket::Merge(const TimelineBucket& o) {
  count += o.count;
  max_latency = std::max(max_latency, o.max_latency);
  max_service = std::max(max_service, o.max_service);
  max_send_lag = std::max(max_send_lag, o.max_send_lag);
}

void LoadResult::Merge(const LoadResult& o) {
  if (timeline.size() < o.timeline.size()) timeline.resize(o.timeline.size());
  for (std::size_t i = 0; i < o.timeline.size(); ++i) timeline[i].Merge(o.timeline[i]);
  latency.Merge(o.latency);
  service.Merge(o.service);
  send_lag.Merge(o.send_lag);
  scheduled += o.scheduled;
  completed += o.completed;
  completed_in_window += o.completed_in_window;
  status_2xx += o.status_2xx;
  status_3xx += o.status_3xx;
  status_4xx += o.status_4xx;
  status_5xx += o.status_5xx;
  status_other += o.status_other;
  connect_errors += o.connect_errors;
  io_errors += o.io_errors;
  timeouts += o.timeouts;
  unfinished += o.unfinished;
  max_backlog_seen = std::max(max_backlog_seen, o.max_backlog_seen);
  reconnects += o.reconnects;
  duration_s = std::max(duration_s, o.duration_s);
  if (first_error.empty()) first_error = o.first_error;
}

Result<LoadResult> RunLoad(const LoadOptions& o) {
  auto bad = [](std::string m) { return MakeError(ErrorCode::kInvalidArgument, std::move(m)); };
  in_addr probe{};
  if (inet_pton(AF_INET, o.host.c_str(), &probe) != 1) {
    return bad("--host: an IPv4 address is needed, got '" + o.host + "'");
  }
  if (o.port == 0) return bad("--port: missing");
  if (!(o.rate > 0)) return bad("--rate: must be > 0");
  if (o.threads < 1) return bad("--threads: must be >= 1");
  if (o.connections < o.threads) return bad("--connections: must be >= --threads");
  if (o.duration.count() <= 0) return bad("--duration: must be > 0");
  if (o.timeline.count() < 0) return bad("--timeline-ms: must be >= 0");
  if (!o.requests || o.requests->empty()) return bad("requests: none built");

  const std::uint64_t start = NowNs() + 200'000'000;  // setup time for every thread
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    const int conns = o.connections / o.threads + (t < o.connections % o.threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(o, t, conns, o.rate / o.threads, start));
  }
  std::vector<LoadResult> results(workers.size());
  std::vector<char> setup_ok(workers.size(), 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < workers.size(); ++t) {
    threads.emplace_back([&, t] {
      setup_ok[t] = workers[t]->Setup() ? 1 : 0;
      if (!setup_ok[t]) return;
      const std::uint64_t now = NowNs();
      if (now < start) std::this_thread::sleep_for(std::chrono::nanoseconds(start - now));
      results[t] = workers[t]->Run();
    });
  }
  for (auto& th : threads) th.join();
  if (std::find(setup_ok.begin(), setup_ok.end(), 0) != setup_ok.end()) {
    return MakeError(ErrorCode::kUnavailable,
                     "could not connect to " + o.host + ":" + std::to_string(o.port));
  }
  LoadResult total = std::move(results[0]);
  for (std::size_t t = 1; t < results.size(); ++t) total.Merge(results[t]);
  return total;
}

}  // namespace ficus::bench
