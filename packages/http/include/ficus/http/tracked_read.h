// AsyncReadSomeTracked: socket.async_read_some without the wasted syscall.
//
// Asio's epoll reactor tries every read speculatively (a recv() before
// waiting for epoll) unless the previous operation said the socket is
// drained, and its receive operation says so only at EOF. In a
// request/response exchange the read right after a response (or right after
// sending a request upstream) therefore fails with EAGAIN almost every time:
// one wasted recvfrom per request on each side (perf: 1.0 EAGAIN per
// proxied request). The non-speculative alternative, async_wait, costs an
// epoll_ctl per call instead.
//
// This operation is Asio's receive operation with one change: a read that
// returns fewer bytes than the buffer holds reports the socket drained
// ("done_and_exhausted"), so the reactor skips the next speculative recv and
// waits for the edge-triggered epoll event, which the kernel raises for any
// data arriving after that read. This is what nginx does (rev->ready = 0
// after a short read). The drained mark is set under the reactor's
// descriptor lock together with the read itself, so no event can be lost
// between them; an event that does arrive re-enables speculation as usual.
//
// The catch: a FIN (or more data) that arrived together with the bytes of a
// short read raises no new edge. A caller that reads again for the SAME
// message (a head or body cut across reads, a close-delimited body, a
// linger) passes `continuing`: that read re-arms the descriptor first (one
// epoll_ctl, as async_wait would), so pending data or EOF is reported at
// once. The read that starts a new message (the next request on a
// keep-alive connection, the response after a request was sent) passes
// false and costs no syscall until data arrives. Trade-off: a keep-alive
// client that half-closes right after a complete request is noticed at the
// idle timeout (or drain), not at once.
//
// It relies on Asio's epoll reactor internals (Boost 1.81, as shipped by
// Debian bookworm). Elsewhere it is plain async_read_some.
//
// Threads: as async_read_some (one outstanding read per socket).
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>
#include <cstddef>
#include <memory>

#if BOOST_VERSION == 108100 && defined(BOOST_ASIO_HAS_EPOLL) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && !defined(FICUS_NO_TRACKED_READ)
#define FICUS_TRACKED_READ 1
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/epoll_reactor.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/memory.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/detail/socket_ops.hpp>
#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#endif

namespace ficus::http {

// What a tracked read looks up once per socket (its reactor).
struct TrackedReadCache {
  void* reactor = nullptr;
};

#ifdef FICUS_TRACKED_READ
namespace tracked_read_detail {

namespace ad = boost::asio::detail;

// The socket's reactor state (basic_socket::impl_ is protected; a pointer to
// member formed in a derived class reads it legally).
struct SocketAccess : boost::asio::ip::tcp::socket {
  static auto& Impl(boost::asio::ip::tcp::socket& s) {
    return (s.*(&SocketAccess::impl_)).get_implementation();
  }
};

template <typename Handler, typename IoExecutor>
class RecvOp : public ad::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(RecvOp);

  RecvOp(int socket, boost::asio::mutable_buffer buffer, Handler& handler, const IoExecutor& io_ex)
      : ad::reactor_op(boost::system::error_code(), &RecvOp::DoPerform, &RecvOp::DoComplete),
        socket_(socket),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  static status DoPerform(ad::reactor_op* base) {
    auto* o = static_cast<RecvOp*>(base);
    if (!ad::socket_ops::non_blocking_recv1(o->socket_, o->buffer_.data(), o->buffer_.size(), 0,
                                            true, o->ec_, o->bytes_transferred_)) {
      return not_done;  // would block: wait for epoll
    }
    // A short read (or EOF) drained the socket: no speculative recv next time.
    return o->bytes_transferred_ < o->buffer_.size() ? done_and_exhausted : done;
  }

  static void DoComplete(void* owner, ad::operation* base, const boost::system::error_code&,
                         std::size_t) {
    auto* o = static_cast<RecvOp*>(base);
    ptr p = {std::addressof(o->handler_), o, o};
    ad::handler_work<Handler, IoExecutor> w(std::move(o->work_));
    // Copy the handler out so the operation's memory is freed before the upcall.
    ad::binder2<Handler, boost::system::error_code, std::size_t> handler(o->handler_, o->ec_,
                                                                         o->bytes_transferred_);
    p.h = std::addressof(handler.handler_);
    p.reset();
    if (owner) {
      ad::fenced_block b(ad::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  int socket_;
  boost::asio::mutable_buffer buffer_;
  Handler handler_;
  ad::handler_work<Handler, IoExecutor> work_;
};

struct Initiate {
  template <typename Handler>
  void operator()(Handler&& handler, boost::asio::ip::tcp::socket* s, TrackedReadCache* cache,
                  boost::asio::mutable_buffer buffer, bool continuing) const {
    using H = std::decay_t<Handler>;
    using IoEx = boost::asio::ip::tcp::socket::executor_type;
    using Op = RecvOp<H, IoEx>;
    H h(std::forward<Handler>(handler));
    auto& impl = SocketAccess::Impl(*s);
    // use_service() locks and walks the context's service registry: done
    // once per socket, kept in the caller's handle.
    if (!cache->reactor) {
      cache->reactor = &boost::asio::use_service<ad::epoll_reactor>(
          boost::asio::query(s->get_executor(), boost::asio::execution::context));
    }
    auto& reactor = *static_cast<ad::epoll_reactor*>(cache->reactor);
    const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(h);
    typename Op::ptr p = {std::addressof(h), Op::ptr::allocate(h), nullptr};
    p.p = new (p.v) Op(impl.socket_, buffer, h, s->get_executor());
    Op* op = p.p;
    p.v = p.p = nullptr;
    if (buffer.size() == 0) {  // as Asio: an empty read completes at once
      reactor.post_immediate_completion(op, is_continuation);
      return;
    }
    if ((impl.state_ & ad::socket_ops::non_blocking) ||
        ad::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_, true, op->ec_)) {
      // Not speculative when continuing: the reactor re-arms the descriptor
      // (EPOLL_CTL_MOD), which reports data or EOF already pending.
      reactor.start_op(ad::epoll_reactor::read_op, impl.socket_, impl.reactor_data_, op,
                       is_continuation, !continuing);
      return;
    }
    reactor.post_immediate_completion(op, is_continuation);
  }
};

}  // namespace tracked_read_detail

// async_read_some that marks the socket drained after a short read.
// `continuing`: this read continues a message a previous read began (above).
// `cache`: kept with the socket (same socket, same context, every call).
template <typename Token>
auto AsyncReadSomeTracked(boost::asio::ip::tcp::socket& s, TrackedReadCache& cache,
                          boost::asio::mutable_buffer buffer, bool continuing, Token&& token) {
  return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
      tracked_read_detail::Initiate{}, token, &s, &cache, buffer, continuing);
}

#else

template <typename Token>
auto AsyncReadSomeTracked(boost::asio::ip::tcp::socket& s, TrackedReadCache& /*cache*/,
                          boost::asio::mutable_buffer buffer, bool /*continuing*/, Token&& token) {
  return s.async_read_some(buffer, std::forward<Token>(token));
}

#endif

}  // namespace ficus::http
