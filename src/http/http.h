// The small HTTP surface that modules see. Transport (Boost.Beast/Asio) lives
// only in src/http/*.cpp; modules register handlers on a Router and deal in
// Request/Response values.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace shouhou::http {

using json = nlohmann::json;

// Case-insensitive header map (keys stored lower-case).
struct Headers {
  std::vector<std::pair<std::string, std::string>> items;
  std::optional<std::string> get(std::string_view name) const;
  void set(std::string name, std::string value);
  void add(std::string name, std::string value);
};

struct Principal;  // defined by auth; opaque here

struct Request {
  std::string method;   // "GET", "POST", ...
  std::string target;   // raw target: path + query
  std::string path;     // decoded path without query
  std::map<std::string, std::string> query;   // decoded query parameters
  std::map<std::string, std::string> params;  // path parameters from the route pattern
  Headers headers;
  std::string body;
  std::string client_addr;
  std::string request_id;
  // Set by the auth middleware for authenticated requests.
  std::shared_ptr<const Principal> principal;

  std::optional<std::string> header(std::string_view name) const { return headers.get(name); }
  std::optional<std::string> cookie(std::string_view name) const;
  std::optional<std::string> q(const std::string& name) const;
  // Parses the body as a JSON object; Error names "body" when it is not one.
  Result<json> json_body() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::string content_type = "application/json";
  // Serve this file instead of body (static assets).
  std::string file_path;

  static Response make_json(const json& j, int status = 200);
  static Response error(const Error& e);
  static Response no_content();
};

// Maps an Error to its HTTP status (the one place that does).
int status_for(Error::Code c);

using Handler = std::function<Response(Request&)>;

// What the OpenAPI document says of a route.
struct RouteDoc {
  std::string summary;
  std::string tag;
  std::string permission;       // action permission required, "" = any authenticated / public
  bool public_route = false;    // no authentication needed
  json request_schema;          // optional JSON schema of the body
  json response_schema;         // optional JSON schema of the 2xx body
  std::vector<std::string> query_params;
};

struct Route {
  std::string method;
  std::string pattern;          // e.g. "/api/v1/org-units/{id}"
  Handler handler;
  RouteDoc doc;
  // Cheap handlers (no blocking I/O) may run on the I/O thread.
  bool inline_ok = false;
  // Larger body than ServerOptions::max_body_bytes for this route only (uploads); 0 = the server's.
  size_t max_body_bytes = 0;
  std::vector<std::string> segments;  // split pattern
};

class Router {
 public:
  Route& add(std::string method, std::string pattern, Handler h, RouteDoc doc = {});
  Route& get(std::string p, Handler h, RouteDoc d = {}) { return add("GET", std::move(p), std::move(h), std::move(d)); }
  Route& post(std::string p, Handler h, RouteDoc d = {}) { return add("POST", std::move(p), std::move(h), std::move(d)); }
  Route& put(std::string p, Handler h, RouteDoc d = {}) { return add("PUT", std::move(p), std::move(h), std::move(d)); }
  Route& patch(std::string p, Handler h, RouteDoc d = {}) { return add("PATCH", std::move(p), std::move(h), std::move(d)); }
  Route& del(std::string p, Handler h, RouteDoc d = {}) { return add("DELETE", std::move(p), std::move(h), std::move(d)); }

  struct Match {
    const Route* route = nullptr;
    bool path_known = false;  // some route has this path, with another method -> 405
    std::map<std::string, std::string> params;
  };
  Match match(std::string_view method, std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }
  // The largest per-route body limit (0 when no route sets one).
  size_t max_route_body() const;

  // Runs around every routed request (auth, idempotency, metrics...).
  using Middleware = std::function<Response(Request&, const Route&, const Handler& next)>;
  void use(Middleware m) { middleware_.push_back(std::move(m)); }
  Response dispatch(Request& req, const Route& route) const;
  // Methods that have a route for this path (GET implies HEAD); the Allow
  // header of a 405.
  std::vector<std::string> allowed_methods(std::string_view path) const;

  // Fallback for requests that match no route (static files, SPA).
  void set_fallback(Handler h) { fallback_ = std::move(h); }
  const Handler& fallback() const { return fallback_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<Middleware> middleware_;
  Handler fallback_;
};

// Live events pushed to WebSocket clients (/api/v1/ws). A client subscribes
// to topics; publish() is thread-safe and never blocks on slow clients.
//
// Data scope: an event names the org paths of the records it is about
// (`scopes`, e.g. an order's path before and after a reassignment) and
// reaches only the clients whose scope (an org path prefix fixed when the
// client connected, see WsAuthorizer) is a prefix of one of them. An event
// with no paths is about nothing scoped and reaches every subscriber.
class EventHub {
 public:
  virtual ~EventHub() = default;
  virtual void publish(const std::string& topic, const json& payload, const std::vector<std::string>& scopes) = 0;
  void publish(const std::string& topic, const json& payload) { publish(topic, payload, {}); }
  // Tells every connected client that events may have been lost (e.g. this
  // server's link to the other servers was down): the message
  // {"resync": true, "reason": ...}, whatever its topics and scope.
  virtual void resync(const std::string& reason) = 0;
  virtual size_t clients() const = 0;
};

struct ServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8080;
  int io_threads = 2;
  int worker_threads = 8;
  size_t max_body_bytes = 8 * 1024 * 1024;
  std::chrono::seconds request_timeout{30};
  std::chrono::seconds idle_timeout{60};
};

// Authorises a WebSocket upgrade request: the client's data scope (an org
// path prefix; "" reaches every event), or nullopt to refuse it.
using WsAuthorizer = std::function<std::optional<std::string>(Request&)>;

class Server {
 public:
  Server(const Router& router, ServerOptions opts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the threads; returns the bound port (0 = pick a free one).
  Result<uint16_t> start();
  // Stops accepting, lets in-flight requests finish (up to `grace`), then stops.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));
  // Blocks until SIGINT/SIGTERM, then stop().
  void wait_for_signal();
  EventHub& events();
  void set_ws_authorizer(WsAuthorizer a);
  json metrics_snapshot() const;
  std::string prometheus_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding and query parsing, exposed for tests.
std::string url_decode(std::string_view s, bool plus_as_space = true);
std::map<std::string, std::string> parse_query(std::string_view q);
bool valid_utf8(std::string_view s);

// A small blocking HTTP/1.1 client (for tests, webhooks and tools).
struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
  json json_body() const { return json::parse(body, nullptr, false); }
};
class Client {
 public:
  Client(std::string host, uint16_t port);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  // Reuses one keep-alive connection (reconnecting once if the server closed
  // it); Error::unavailable when the server cannot be reached or times out.
  Result<ClientResponse> request(const std::string& method, const std::string& target,
                                 const std::string& body = {}, const Headers& headers = {});
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A small blocking WebSocket client (tests of live updates, tools).
class WsClient {
 public:
  WsClient();
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;
  // Error::unauthorized when the server answers the upgrade with 401/403,
  // Error::unavailable for other failures.
  Result<void> connect(const std::string& host, uint16_t port, const std::string& target,
                       const Headers& headers = {});
  Result<void> send(const std::string& text);
  // Next text message; Error::unavailable on timeout (the read stays pending,
  // so a later receive() still gets the message) or when the connection ends.
  Result<std::string> receive(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  void close();
 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shouhou::http
