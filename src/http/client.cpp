// Blocking HTTP/1.1 and WebSocket clients. They drive a private io_context
// with async operations so every step gets a deadline (Beast's synchronous
// calls have none).
#include "http/http.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <optional>

namespace shouhou::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTimeout = std::chrono::seconds(30);
constexpr uint64_t kMaxResponseBody = 256ull * 1024 * 1024;

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Runs the io_context until `done`; the operation's own deadline (tcp_stream
// expiry) guarantees that happens.
template <class Start>
beast::error_code run_op(asio::io_context& ioc, Start&& start) {
  std::optional<beast::error_code> result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  while (!result && ioc.run_one() > 0) {
  }
  return result.value_or(asio::error::operation_aborted);
}

}  // namespace

// ---- Client -----------------------------------------------------------------

struct Client::Impl {
  std::string host;
  uint16_t port;
  asio::io_context ioc{1};
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buf;

  void close() {
    if (!stream) return;
    beast::error_code ec;
    stream->socket().shutdown(tcp::socket::shutdown_both, ec);
    stream->close();
    stream.reset();
    buf.consume(buf.size());
  }

  Result<void> connect() {
    close();
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return Error::unavailable("resolve " + host + ": " + ec.message());
    stream.emplace(ioc);
    stream->expires_after(kTimeout);
    ec = run_op(ioc, [&](auto h) {
      stream->async_connect(results, [h](beast::error_code e, const tcp::endpoint&) mutable { h(e); });
    });
    if (ec) {
      stream.reset();
      return Error::unavailable("connect " + host + ":" + std::to_string(port) + ": " + ec.message());
    }
    beast::error_code ignore;
    stream->socket().set_option(tcp::no_delay(true), ignore);
    return {};
  }
};

Client::Client(std::string host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
}

Client::~Client() {
  if (impl_) impl_->close();
}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

Result<ClientResponse> Client::request(const std::string& method, const std::string& target, const std::string& body,
                                       const Headers& headers) {
  auto& d = *impl_;
  bhttp::request<bhttp::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(bhttp::field::host, d.host + ":" + std::to_string(d.port));
  req.set(bhttp::field::user_agent, "shouhou-client");
  bool has_type = false;
  for (const auto& [k, v] : headers.items) {
    has_type |= lowered(k) == "content-type";
    req.insert(k, v);
  }
  if (!body.empty() && !has_type) req.set(bhttp::field::content_type, "application/json");
  req.body() = body;
  req.keep_alive(true);
  req.prepare_payload();  // Content-Length (0 for a bodiless POST, none for GET)

  // A reused connection may have been closed by the server while idle; that
  // shows up as a failed write or an immediate EOF, and one retry on a fresh
  // connection is the standard remedy.
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = d.stream.has_value();
    if (!reused) {
      auto c = d.connect();
      if (!c) return std::move(c).error();
    }
    d.stream->expires_after(kTimeout);
    auto ec = run_op(d.ioc, [&](auto h) { bhttp::async_write(*d.stream, req, h); });
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxResponseBody);
    if (method == "HEAD") parser.skip(true);  // Content-Length describes a body that is not sent
    if (ec) {
      // The server may have answered early (413 for an oversized body) and
      // stopped reading; its response is still worth reading.
      bool early = false;
      if (ec != beast::error::timeout) {
        d.stream->expires_after(std::chrono::seconds(2));
        auto rec = run_op(d.ioc, [&](auto h) { bhttp::async_read(*d.stream, d.buf, parser, h); });
        early = !rec && parser.is_done();
      }
      if (!early) {
        d.close();
        if (reused && ec != beast::error::timeout) continue;
        return Error::unavailable("send " + method + " " + target + ": " + ec.message());
      }
      ec = {};
    } else {
      d.stream->expires_after(kTimeout);
      ec = run_op(d.ioc, [&](auto h) { bhttp::async_read(*d.stream, d.buf, parser, h); });
    }
    if (ec) {
      bool nothing_read = !parser.got_some();
      d.close();
      if (reused && nothing_read && ec != beast::error::timeout) continue;
      return Error::unavailable("read response to " + method + " " + target + ": " + ec.message());
    }
    auto res = parser.release();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.headers.add(std::string(f.name_string()), std::string(f.value()));
    out.body = std::move(res.body());
    if (!res.keep_alive()) d.close();
    return out;
  }
  return Error::unavailable("connection to " + d.host + " keeps closing");
}

// ---- WsClient ---------------------------------------------------------------

struct WsClient::Impl {
  asio::io_context ioc{1};
  std::optional<websocket::stream<beast::tcp_stream>> ws;
  beast::flat_buffer rbuf;
  // A receive() that timed out leaves its read pending; these hold its outcome.
  bool read_pending = false;
  std::optional<beast::error_code> read_result;

  void reset() {
    if (ws) {
      beast::error_code ec;
      beast::get_lowest_layer(*ws).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(*ws).close();
    }
    // Let aborted handlers run before the stream goes away.
    ioc.restart();
    ioc.poll();
    ws.reset();
    read_pending = false;
    read_result.reset();
    rbuf.consume(rbuf.size());
  }
};

WsClient::WsClient() : impl_(std::make_unique<Impl>()) {}

WsClient::~WsClient() {
  if (impl_) close();
}

Result<void> WsClient::connect(const std::string& host, uint16_t port, const std::string& target,
                               const Headers& headers) {
  auto& d = *impl_;
  d.reset();
  tcp::resolver resolver(d.ioc);
  beast::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec) return Error::unavailable("resolve " + host + ": " + ec.message());
  d.ws.emplace(d.ioc);
  auto& lowest = beast::get_lowest_layer(*d.ws);
  lowest.expires_after(kTimeout);
  ec = run_op(d.ioc, [&](auto h) {
    lowest.async_connect(results, [h](beast::error_code e, const tcp::endpoint&) mutable { h(e); });
  });
  if (ec) {
    d.ws.reset();
    return Error::unavailable("connect " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  lowest.expires_never();
  d.ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  std::vector<std::pair<std::string, std::string>> extra = headers.items;
  d.ws->set_option(websocket::stream_base::decorator([extra](websocket::request_type& req) {
    for (const auto& [k, v] : extra) req.set(k, v);
  }));
  websocket::response_type res;
  std::string host_header = host + ":" + std::to_string(port);
  ec = run_op(d.ioc, [&](auto h) { d.ws->async_handshake(res, host_header, target, h); });
  if (ec) {
    d.reset();
    auto st = res.result_int();
    if (st == 401 || st == 403) return Error::unauthorized("websocket upgrade refused with " + std::to_string(st));
    return Error::unavailable("websocket handshake: " + ec.message() + (st ? " (status " + std::to_string(st) + ")" : ""));
  }
  return {};
}

Result<void> WsClient::send(const std::string& text) {
  auto& d = *impl_;
  if (!d.ws) return Error::unavailable("websocket not connected");
  d.ws->text(true);
  std::optional<beast::error_code> done;
  d.ws->async_write(asio::buffer(text), [&done](beast::error_code ec, size_t) { done = ec; });
  d.ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + kTimeout;
  while (!done && std::chrono::steady_clock::now() < deadline) d.ioc.run_one_until(deadline);
  if (!done) {
    d.reset();
    return Error::unavailable("websocket send timed out");
  }
  if (*done) return Error::unavailable("websocket send: " + done->message());
  return {};
}

Result<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (!d.ws) return Error::unavailable("websocket not connected");
  if (!d.read_pending && !d.read_result) {
    d.read_pending = true;
    d.ws->async_read(d.rbuf, [&d](beast::error_code ec, size_t) {
      d.read_pending = false;
      d.read_result = ec;
    });
  }
  d.ioc.restart();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!d.read_result && std::chrono::steady_clock::now() < deadline) d.ioc.run_one_until(deadline);
  if (!d.read_result) return Error::unavailable("websocket receive timed out");
  auto ec = *d.read_result;
  d.read_result.reset();
  if (ec) return Error::unavailable("websocket receive: " + ec.message());
  std::string msg = beast::buffers_to_string(d.rbuf.data());
  d.rbuf.consume(d.rbuf.size());
  return msg;
}

void WsClient::close() {
  auto& d = *impl_;
  if (!d.ws) return;
  if (d.ws->is_open()) {
    std::optional<beast::error_code> done;
    d.ws->async_close(websocket::close_code::normal, [&done](beast::error_code ec) { done = ec; });
    d.ioc.restart();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    // A pending read completes too (with `closed`) once the server replies.
    while ((!done || d.read_pending) && std::chrono::steady_clock::now() < deadline) d.ioc.run_one_until(deadline);
  }
  d.reset();
}

}  // namespace shouhou::http
