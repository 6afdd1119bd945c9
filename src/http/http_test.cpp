#include "http/http.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

using namespace shouhou;
using namespace shouhou::http;
namespace fs = std::filesystem;

namespace {

// ---- router & helpers (no sockets) ------------------------------------------

Handler text(std::string s) {
  return [s](Request&) {
    Response r;
    r.body = s;
    return r;
  };
}

TEST(HttpRouter, MatchesLiteralsAndParams) {
  Router r;
  r.get("/api/v1/orders", text("list"));
  r.get("/api/v1/orders/{id}", text("one"));
  r.get("/api/v1/orders/{id}/items/{item}", text("item"));
  auto m = r.match("GET", "/api/v1/orders/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/orders/{id}");
  EXPECT_EQ(m.params.at("id"), "42");
  m = r.match("GET", "/api/v1/orders/42/items/x-1");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("id"), "42");
  EXPECT_EQ(m.params.at("item"), "x-1");
  m = r.match("GET", "/api/v1/orders/");  // trailing slash routes like none
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/orders");
  m = r.match("GET", "/api/v1/nope");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(m.path_known);
  m = r.match("GET", "/api/v1/orders/1/items");
  EXPECT_EQ(m.route, nullptr);
}

TEST(HttpRouter, LiteralSegmentsWinOverParams) {
  Router r;
  r.get("/orders/{id}", text("param"));
  r.get("/orders/new", text("literal"));
  r.get("/{a}/{b}", text("both"));
  r.get("/x/{b}", text("x"));
  EXPECT_EQ(r.match("GET", "/orders/new").route->pattern, "/orders/new");
  EXPECT_EQ(r.match("GET", "/orders/7").route->pattern, "/orders/{id}");
  EXPECT_EQ(r.match("GET", "/x/orders").route->pattern, "/x/{b}");
  EXPECT_EQ(r.match("GET", "/y/z").route->pattern, "/{a}/{b}");
  // Literal only wins among routes with the request's method.
  Router r2;
  r2.get("/orders/{id}", text("param"));
  r2.post("/orders/new", text("literal"));
  auto m = r2.match("GET", "/orders/new");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/orders/{id}");
}

TEST(HttpRouter, PathKnownGives405Info) {
  Router r;
  r.get("/things", text("a"));
  r.post("/things", text("b"));
  r.del("/things/{id}", text("c"));
  auto m = r.match("PUT", "/things");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  auto allowed = r.allowed_methods("/things");
  EXPECT_EQ(allowed, (std::vector<std::string>{"GET", "HEAD", "POST"}));
  EXPECT_EQ(r.allowed_methods("/things/9"), (std::vector<std::string>{"DELETE"}));
  EXPECT_FALSE(r.match("PUT", "/other").path_known);
}

TEST(HttpRouter, DispatchRunsMiddlewareInOrder) {
  Router r;
  std::vector<std::string> trace;
  r.use([&](Request& q, const Route& route, const Handler& next) {
    trace.push_back("mw1:" + route.pattern);
    q.headers.set("X-Seen", "1");
    return next(q);
  });
  r.use([&](Request& q, const Route&, const Handler& next) {
    trace.push_back("mw2");
    if (q.path == "/blocked") return Response::error(Error::forbidden("no"));
    auto res = next(q);
    res.headers.set("x-after", "yes");
    return res;
  });
  r.get("/ok", [&](Request& q) {
    trace.push_back("handler");
    EXPECT_EQ(q.header("x-seen"), "1");
    return Response::make_json({{"ok", true}});
  });
  r.get("/blocked", [&](Request&) {
    trace.push_back("never");
    return Response{};
  });
  Request q;
  q.path = "/ok";
  auto res = r.dispatch(q, *r.match("GET", "/ok").route);
  EXPECT_EQ(trace, (std::vector<std::string>{"mw1:/ok", "mw2", "handler"}));
  EXPECT_EQ(res.headers.get("X-After"), "yes");
  trace.clear();
  Request b;
  b.path = "/blocked";
  res = r.dispatch(b, *r.match("GET", "/blocked").route);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(trace, (std::vector<std::string>{"mw1:/blocked", "mw2"}));
}

TEST(HttpHeaders, CaseInsensitive) {
  Headers h;
  h.add("Content-Type", "text/plain");
  h.add("X-Multi", "1");
  h.add("x-multi", "2");
  EXPECT_EQ(h.get("content-type"), "text/plain");
  EXPECT_EQ(h.get("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(h.items[0].first, "content-type");
  h.set("X-MULTI", "3");
  EXPECT_EQ(h.get("x-multi"), "3");
  size_t n = 0;
  for (auto& [k, v] : h.items) n += k == "x-multi";
  EXPECT_EQ(n, 1u);
  EXPECT_FALSE(h.get("missing"));
}

TEST(HttpUrl, Decode) {
  EXPECT_EQ(url_decode("a%20b+c"), "a b c");
  EXPECT_EQ(url_decode("a%20b+c", false), "a b+c");
  EXPECT_EQ(url_decode("%E4%B8%AD"), "\xE4\xB8\xAD");
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%zz%4"), "%zz%4");
  EXPECT_EQ(url_decode("%2f%2F"), "//");
  EXPECT_EQ(url_decode(""), "");
}

TEST(HttpUrl, ParseQuery) {
  auto q = parse_query("a=1&b=two+words&c=%26%3D&empty=&flag&&=x&a=2");
  EXPECT_EQ(q.at("a"), "1");  // first wins
  EXPECT_EQ(q.at("b"), "two words");
  EXPECT_EQ(q.at("c"), "&=");
  EXPECT_EQ(q.at("empty"), "");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(parse_query("?x=1").at("x"), "1");
  EXPECT_TRUE(parse_query("").empty());
}

TEST(HttpUrl, ValidUtf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(valid_utf8("售后服务"));
  EXPECT_TRUE(valid_utf8("\xC2\x80"));
  EXPECT_TRUE(valid_utf8("\xED\x9F\xBF"));          // U+D7FF
  EXPECT_TRUE(valid_utf8("\xEE\x80\x80"));          // U+E000
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));      // emoji
  EXPECT_TRUE(valid_utf8("\xF4\x8F\xBF\xBF"));      // U+10FFFF
  EXPECT_FALSE(valid_utf8("\x80"));                 // lone continuation
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));             // overlong '/'
  EXPECT_FALSE(valid_utf8("\xC1\xBF"));
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));         // overlong
  EXPECT_FALSE(valid_utf8("\xF0\x80\x80\xAF"));     // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));         // surrogate U+D800
  EXPECT_FALSE(valid_utf8("\xED\xBF\xBF"));         // surrogate U+DFFF
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));     // > U+10FFFF
  EXPECT_FALSE(valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_FALSE(valid_utf8("abc\xE4\xB8"));          // truncated
  EXPECT_FALSE(valid_utf8("abcdefgh\xE4\xB8zz"));   // bad continuation after fast path
}

TEST(HttpRequest, JsonBodyErrors) {
  Request q;
  auto r = q.json_body();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Error::Code::invalid);
  EXPECT_EQ(r.error().field, "body");
  EXPECT_EQ(r.error().message, "request body must be a JSON object");

  q.body = "{\"a\": 1,";
  r = q.json_body();
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("byte"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().field, "body");

  q.body = "[1,2]";
  r = q.json_body();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "request body must be a JSON object");

  q.body = "{\"a\":\"\xC0\xAF\"}";
  r = q.json_body();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "body is not valid UTF-8");

  q.body = std::string(10000, '[') + std::string(10000, ']');
  r = q.json_body();
  ASSERT_FALSE(r);

  q.body = "{\"a\":[1,{\"b\":\"[[[\"}]}";
  r = q.json_body();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["a"][1]["b"], "[[[");
}

TEST(HttpRequest, CookieAndQuery) {
  Request q;
  q.headers.add("Cookie", "a=1; sid=\"abc\";  other = x ");
  EXPECT_EQ(q.cookie("sid"), "abc");
  EXPECT_EQ(q.cookie("a"), "1");
  EXPECT_EQ(q.cookie("other"), "x");
  EXPECT_FALSE(q.cookie("s"));
  q.query["page"] = "2";
  EXPECT_EQ(q.q("page"), "2");
  EXPECT_FALSE(q.q("size"));
}

TEST(HttpResponse, ErrorShapeAndStatuses) {
  auto r = Response::error(Error::invalid("bad name", "name"));
  EXPECT_EQ(r.status, 400);
  auto j = json::parse(r.body);
  EXPECT_EQ(j["error"]["code"], "invalid");
  EXPECT_EQ(j["error"]["message"], "bad name");
  EXPECT_EQ(j["error"]["field"], "name");
  r = Response::error(Error::not_found("gone"));
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(json::parse(r.body)["error"].contains("field"));
  EXPECT_EQ(status_for(Error::Code::unauthorized), 401);
  EXPECT_EQ(status_for(Error::Code::forbidden), 403);
  EXPECT_EQ(status_for(Error::Code::conflict), 409);
  EXPECT_EQ(status_for(Error::Code::too_large), 413);
  EXPECT_EQ(status_for(Error::Code::unsupported), 415);
  EXPECT_EQ(status_for(Error::Code::rate_limited), 429);
  EXPECT_EQ(status_for(Error::Code::unavailable), 503);
  EXPECT_EQ(status_for(Error::Code::internal), 500);
  EXPECT_STREQ(code_name(Error::Code::rate_limited), "rate_limited");
  EXPECT_EQ(Response::no_content().status, 204);
  // Invalid UTF-8 in data is replaced, never thrown.
  EXPECT_NO_THROW(Response::make_json({{"x", std::string("\xFF")}}));
}

// ---- live server --------------------------------------------------------------

// Captures the "access" logger so the tests neither spam stdout nor race on it.
class CaptureSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lk(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (lines_.size() < 2000) lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

std::string thread_tag() {
  std::ostringstream os;
  os << std::this_thread::get_id();
  return os.str();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink = std::make_shared<CaptureSink>();
    spdlog::drop("access");
    spdlog::register_logger(std::make_shared<spdlog::logger>("access", sink));

    root = fs::temp_directory_path() / ("shouhou_http_test_" + std::to_string(std::random_device{}()));
    fs::create_directories(root / "assets");
    write(root / "index.html", "<!doctype html><title>x</title>");
    write(root / "assets" / "app.js", "console.log(1)");
    write(root / "assets" / "app.js.map", "{}");
    write(root / "style.css", "body{}");
    write(root / "logo.svg", "<svg/>");
    write(root / "icon.png", "\x89PNG");
    write(root / "favicon.ico", "ico");
    write(root / "data.json", "{\"a\":1}");
    write(root / "font.woff2", "wOF2");
    write(root / "robots.txt", "User-agent: *");

    router.get("/healthz", [](Request&) { return Response::make_json({{"status", "ok"}}); }).inline_ok = true;
    router.get("/thread/inline", [](Request&) { return Response::make_json({{"t", thread_tag()}}); }).inline_ok = true;
    router.get("/thread/worker", [](Request&) { return Response::make_json({{"t", thread_tag()}}); });
    router.get("/items/{id}", [](Request& q) {
      return Response::make_json({{"id", q.params.at("id")}, {"rid", q.request_id}, {"client", q.client_addr}});
    });
    router.post("/items", [](Request& q) {
      auto b = q.json_body();
      if (!b) return Response::error(b.error());
      return Response::make_json({{"got", *b}}, 201);
    });
    router.post("/uploads", [](Request& q) {
      return Response::make_json({{"bytes", q.body.size()}}, 201);
    }).max_body_bytes = 64 * 1024;
    router.del("/items/{id}", [](Request&) { return Response::no_content(); });
    router.get("/query", [](Request& q) {
      json j = json::object();
      for (auto& [k, v] : q.query) j[k] = v;
      j["path"] = q.path;
      return Response::make_json(j);
    });
    router.get("/boom", [](Request&) -> Response { throw std::runtime_error("kaboom"); });
    router.get("/boom-inline", [](Request&) -> Response { throw 42; }).inline_ok = true;
    router.get("/slow", [this](Request&) {
      slow_started = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return Response::make_json({{"slow", true}});
    });
    router.get("/headers", [](Request&) {
      Response r = Response::make_json({{"ok", true}});
      r.headers.set("X-Custom", "v");
      r.headers.set("X-Evil", "a\r\nInjected: 1");
      return r;
    });
    router.set_fallback([this](Request& q) {
      if (q.path.rfind("/api/", 0) == 0) return Response::error(Error::not_found("no such endpoint"));
      fs::path f = (root / q.path.substr(1)).lexically_normal();
      Response r;
      std::error_code ec;
      r.file_path = fs::is_regular_file(f, ec) ? f.string() : (root / "index.html").string();
      return r;
    });
  }

  void TearDown() override {
    server.reset();
    spdlog::drop("access");
    std::error_code ec;
    fs::remove_all(root, ec);
  }

  static void write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

  uint16_t start(ServerOptions o = {}) {
    o.address = "127.0.0.1";
    o.port = 0;
    if (o.max_body_bytes == ServerOptions{}.max_body_bytes) o.max_body_bytes = 1024;
    server = std::make_unique<Server>(router, o);
    auto p = server->start();
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    port = p ? *p : 0;
    return port;
  }

  Router router;
  std::unique_ptr<Server> server;
  uint16_t port = 0;
  fs::path root;
  std::shared_ptr<CaptureSink> sink;
  std::atomic<bool> slow_started{false};
};

TEST_F(HttpServerTest, HttpKeepAliveManyRequestsOnOneClient) {
  start();
  Client c("127.0.0.1", port);
  std::set<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    auto r = c.request("GET", i % 2 ? "/healthz" : "/items/" + std::to_string(i));
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->status, 200);
    auto rid = r->headers.get("x-request-id");
    ASSERT_TRUE(rid);
    ids.insert(*rid);
    if (i % 2 == 0) {
      EXPECT_EQ(r->json_body()["id"], std::to_string(i));
      EXPECT_EQ(r->json_body()["rid"], *rid);
      EXPECT_EQ(r->json_body()["client"], "127.0.0.1");
    }
    EXPECT_EQ(r->headers.get("content-type"), "application/json");
  }
  EXPECT_EQ(ids.size(), 300u);  // fresh id per request
}

TEST_F(HttpServerTest, HttpRequestIdHonouredWhenSane) {
  start();
  Client c("127.0.0.1", port);
  Headers h;
  h.add("X-Request-Id", "trace-abc.123");
  auto r = c.request("GET", "/healthz", "", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers.get("x-request-id"), "trace-abc.123");
  Headers bad;
  bad.add("X-Request-Id", "has space\"quote");
  r = c.request("GET", "/healthz", "", bad);
  ASSERT_TRUE(r);
  EXPECT_NE(r->headers.get("x-request-id"), "has space\"quote");
  EXPECT_EQ(r->headers.get("x-request-id")->size(), 16u);
}

TEST_F(HttpServerTest, HttpNotFoundAndMethodNotAllowedAreJson) {
  router.set_fallback(nullptr);
  start();
  Client c("127.0.0.1", port);
  auto r = c.request("GET", "/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->json_body()["error"]["code"], "not_found");
  EXPECT_TRUE(r->json_body()["error"]["message"].is_string());

  r = c.request("PUT", "/items/5", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->json_body()["error"]["code"], "method_not_allowed");
  EXPECT_EQ(r->headers.get("allow"), "GET, HEAD, DELETE");

  r = c.request("DELETE", "/items/5");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_TRUE(r->body.empty());
  EXPECT_FALSE(r->headers.get("content-length"));
}

TEST_F(HttpServerTest, HttpPostJsonAndBodyErrors) {
  start();
  Client c("127.0.0.1", port);
  auto r = c.request("POST", "/items", R"({"name":"售后"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->json_body()["got"]["name"], "售后");
  r = c.request("POST", "/items", "{oops");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->json_body()["error"]["field"], "body");
  r = c.request("POST", "/items");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(HttpServerTest, HttpBodyOverLimitIs413) {
  start();
  Client c("127.0.0.1", port);
  std::string big = "{\"x\":\"" + std::string(4096, 'a') + "\"}";
  auto r = c.request("POST", "/items", big);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->json_body()["error"]["code"], "too_large");
  // The client reconnects and the server keeps serving.
  r = c.request("POST", "/items", R"({"small":1})");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 201);
}

TEST_F(HttpServerTest, HttpRouteWithItsOwnBodyLimit) {
  start();
  Client c("127.0.0.1", port);
  // Over the server's 1 KiB default, under the route's 64 KiB.
  auto r = c.request("POST", "/uploads?kind=x", std::string(20000, 'a'), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->json_body()["bytes"], 20000);
  // Over the route's limit, and over the default on another route.
  r = c.request("POST", "/uploads", std::string(70000, 'a'), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->json_body()["error"]["message"].get<std::string>().find("65536"), std::string::npos) << r->body;
  r = c.request("POST", "/items", std::string(20000, 'a'));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 413);
}

TEST_F(HttpServerTest, HttpHandlerExceptionIs500AndServerSurvives) {
  start();
  Client c("127.0.0.1", port);
  for (const char* path : {"/boom", "/boom-inline"}) {
    auto r = c.request("GET", path);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(r->json_body()["error"]["code"], "internal");
    EXPECT_EQ(r->json_body()["error"]["message"].get<std::string>().find("kaboom"), std::string::npos);
    r = c.request("GET", "/healthz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(server->metrics_snapshot()["errors_total"], 2);
}

TEST_F(HttpServerTest, HttpInlineRoutesRunOnIoThreadOthersOnWorkers) {
  ServerOptions o;
  o.io_threads = 1;
  o.worker_threads = 3;
  start(o);
  Client c("127.0.0.1", port);
  std::set<std::string> inline_threads, worker_threads;
  for (int i = 0; i < 40; ++i) {
    auto a = c.request("GET", "/thread/inline");
    auto b = c.request("GET", "/thread/worker");
    ASSERT_TRUE(a && b);
    inline_threads.insert(a->json_body()["t"].get<std::string>());
    worker_threads.insert(b->json_body()["t"].get<std::string>());
  }
  EXPECT_EQ(inline_threads.size(), 1u);  // the single I/O thread
  for (const auto& t : worker_threads) EXPECT_EQ(inline_threads.count(t), 0u);
  EXPECT_NE(*inline_threads.begin(), thread_tag());
}

TEST_F(HttpServerTest, HttpConcurrentClients) {
  ServerOptions o;
  o.io_threads = 2;
  o.worker_threads = 4;
  start(o);
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&, t] {
      Client c("127.0.0.1", port);
      for (int i = 0; i < 200; ++i) {
        auto r = c.request("GET", (i + t) % 2 ? "/healthz" : "/items/" + std::to_string(i));
        if (r && r->status == 200) ++ok;
        else ++bad;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 1600);
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(HttpServerTest, HttpGracefulStopFinishesInflightRequest) {
  start();
  std::optional<Result<ClientResponse>> slow;
  std::thread t([&] {
    Client c("127.0.0.1", port);
    slow.emplace(c.request("GET", "/slow"));
  });
  while (!slow_started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto t0 = std::chrono::steady_clock::now();
  server->stop(std::chrono::seconds(5));
  auto took = std::chrono::steady_clock::now() - t0;
  t.join();
  ASSERT_TRUE(slow && *slow) << (slow && !*slow ? slow->error().message : "no result");
  EXPECT_EQ((*slow)->status, 200);
  EXPECT_EQ((*slow)->json_body()["slow"], true);
  EXPECT_LT(took, std::chrono::seconds(3));
  // No longer accepting.
  Client c2("127.0.0.1", port);
  auto r = c2.request("GET", "/healthz");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Error::Code::unavailable);
  server->stop();  // idempotent
}

TEST_F(HttpServerTest, HttpStaticFiles) {
  start();
  Client c("127.0.0.1", port);
  struct Case {
    const char* path;
    const char* type;
    const char* cache;
  };
  const Case cases[] = {
      {"/", "text/html; charset=utf-8", "no-cache"},
      {"/index.html", "text/html; charset=utf-8", "no-cache"},
      {"/some/spa/route", "text/html; charset=utf-8", "no-cache"},
      {"/assets/app.js", "text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
      {"/assets/app.js.map", "application/json", "public, max-age=31536000, immutable"},
      {"/style.css", "text/css; charset=utf-8", nullptr},
      {"/logo.svg", "image/svg+xml", nullptr},
      {"/icon.png", "image/png", nullptr},
      {"/favicon.ico", "image/x-icon", nullptr},
      {"/data.json", "application/json", nullptr},
      {"/font.woff2", "font/woff2", nullptr},
      {"/robots.txt", "text/plain; charset=utf-8", nullptr},
  };
  for (const auto& k : cases) {
    auto r = c.request("GET", k.path);
    ASSERT_TRUE(r) << k.path << ": " << r.error().message;
    EXPECT_EQ(r->status, 200) << k.path;
    EXPECT_EQ(r->headers.get("content-type"), k.type) << k.path;
    if (k.cache) {
      EXPECT_EQ(r->headers.get("cache-control"), k.cache) << k.path;
    }
    EXPECT_TRUE(r->headers.get("x-request-id")) << k.path;
  }
  auto r = c.request("GET", "/assets/app.js");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "console.log(1)");
  auto etag = r->headers.get("etag");
  ASSERT_TRUE(etag);
  Headers h;
  h.add("If-None-Match", *etag);
  r = c.request("GET", "/assets/app.js", "", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_TRUE(r->body.empty());
  r = c.request("HEAD", "/assets/app.js");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers.get("content-length"), "14");
  EXPECT_TRUE(r->body.empty());
  // Still in sync after HEAD.
  r = c.request("GET", "/api/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(HttpServerTest, HttpHeadOnJsonRoute) {
  start();
  Client c("127.0.0.1", port);
  auto g = c.request("GET", "/healthz");
  auto h = c.request("HEAD", "/healthz");
  ASSERT_TRUE(g && h);
  EXPECT_EQ(h->status, 200);
  EXPECT_TRUE(h->body.empty());
  EXPECT_EQ(h->headers.get("content-length"), std::to_string(g->body.size()));
  auto again = c.request("GET", "/healthz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body, g->body);
}

TEST_F(HttpServerTest, HttpQueryPathDecodingAndUtf8) {
  start();
  Client c("127.0.0.1", port);
  auto r = c.request("GET", "/query?q=%E5%94%AE%E5%90%8E&x=a+b");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->json_body()["q"], "售后");
  EXPECT_EQ(r->json_body()["x"], "a b");
  r = c.request("GET", "/items/%E5%94%AE");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->json_body()["id"], "售");
  r = c.request("GET", "/items/%C0%AF");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->json_body()["error"]["field"], "path");
  r = c.request("GET", "/query?q=%FF");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  r = c.request("GET", "/headers");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->headers.get("x-custom"), "v");
  EXPECT_FALSE(r->headers.get("x-evil"));
  EXPECT_FALSE(r->headers.get("injected"));
}

// Raw socket: two pipelined requests in one write get two ordered responses.
TEST_F(HttpServerTest, HttpPipelinedRequests) {
  start();
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  std::string reqs =
      "GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /items HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}"
      "GET /items/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  boost::asio::write(s, boost::asio::buffer(reqs));
  boost::beast::flat_buffer buf;
  std::vector<int> statuses;
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i) {
    boost::beast::http::response<boost::beast::http::string_body> res;
    boost::beast::http::read(s, buf, res);
    statuses.push_back(res.result_int());
    bodies.push_back(res.body());
  }
  EXPECT_EQ(statuses, (std::vector<int>{200, 201, 200}));
  EXPECT_EQ(json::parse(bodies[0])["id"], "1");
  EXPECT_EQ(json::parse(bodies[1])["got"]["a"], 1);
  EXPECT_EQ(json::parse(bodies[2])["id"], "3");
  boost::beast::error_code ec;
  char c;
  s.read_some(boost::asio::buffer(&c, 1), ec);  // server closes after Connection: close
  EXPECT_EQ(ec, boost::asio::error::eof);
}

TEST_F(HttpServerTest, HttpMalformedRequestIs400) {
  start();
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(s, boost::asio::buffer(std::string("GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n")));
  boost::beast::flat_buffer buf;
  boost::beast::http::response<boost::beast::http::string_body> res;
  boost::beast::http::read(s, buf, res);
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(json::parse(res.body())["error"]["code"], "invalid");
}

TEST_F(HttpServerTest, HttpIdleConnectionIsClosed) {
  ServerOptions o;
  o.idle_timeout = std::chrono::seconds(1);
  start(o);
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket s(ioc);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  char c;
  boost::beast::error_code result = boost::asio::error::would_block;
  s.async_read_some(boost::asio::buffer(&c, 1), [&](boost::beast::error_code ec, size_t) { result = ec; });
  auto t0 = std::chrono::steady_clock::now();
  ioc.run_for(std::chrono::seconds(5));
  EXPECT_NE(result, boost::asio::error::would_block);  // closed by the server
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(HttpServerTest, HttpWebSocketSubscribeAndPublish) {
  start();
  std::atomic<int> authorised{0};
  server->set_ws_authorizer([&](Request& q) -> std::optional<std::string> {
    ++authorised;
    if (q.cookie("sid") != "good") return std::nullopt;
    return "";
  });
  WsClient ws;
  Headers h;
  h.add("Cookie", "sid=good");
  auto c = ws.connect("127.0.0.1", port, "/api/v1/ws", h);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(authorised.load(), 1);
  ASSERT_TRUE(ws.send(R"({"subscribe":["board","orders"]})"));
  auto ack = ws.receive();
  ASSERT_TRUE(ack) << ack.error().message;
  EXPECT_EQ(json::parse(*ack)["subscribed"], json({"board", "orders"}));
  EXPECT_EQ(server->events().clients(), 1u);

  server->events().publish("other", {{"x", 0}});
  server->events().publish("board", {{"order", 7}});
  auto m = ws.receive();
  ASSERT_TRUE(m) << m.error().message;
  auto j = json::parse(*m);
  EXPECT_EQ(j["topic"], "board");
  EXPECT_EQ(j["data"]["order"], 7);

  ASSERT_TRUE(ws.send(R"({"unsubscribe":["board"]})"));
  ack = ws.receive();
  ASSERT_TRUE(ack);
  EXPECT_EQ(json::parse(*ack)["subscribed"], json({"orders"}));
  server->events().publish("board", {{"order", 8}});
  EXPECT_FALSE(ws.receive(std::chrono::milliseconds(200)));  // times out; read stays pending
  server->events().publish("orders", {{"order", 9}});
  m = ws.receive();
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(json::parse(*m)["data"]["order"], 9);

  ASSERT_TRUE(ws.send("not json"));
  m = ws.receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(*m)["error"]["code"], "invalid");

  auto text = server->prometheus_text();
  EXPECT_NE(text.find("shouhou_ws_clients 1"), std::string::npos) << text;

  // Refused without the cookie.
  WsClient anon;
  auto refused = anon.connect("127.0.0.1", port, "/api/v1/ws");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Error::Code::unauthorized);

  // Shutdown sends a close frame; a reading client sees a clean close and the
  // server does not have to wait for its grace period.
  auto t0 = std::chrono::steady_clock::now();
  std::thread stopper([&] { server->stop(std::chrono::seconds(5)); });
  auto after = ws.receive(std::chrono::milliseconds(3000));
  stopper.join();
  ASSERT_FALSE(after);
  EXPECT_NE(after.error().message.find("closed"), std::string::npos) << after.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1500));
}

// Data scope on the hub: the authorizer fixes each client's org path prefix;
// an event naming paths reaches the clients whose prefix matches one of them,
// an event without paths everyone; resync reaches every client.
TEST_F(HttpServerTest, HttpWebSocketEventsFollowTheClientsScope) {
  start();
  server->set_ws_authorizer([](Request& q) -> std::optional<std::string> {
    auto sid = q.cookie("scope");
    if (!sid) return std::nullopt;
    return *sid == "all" ? std::string() : *sid;
  });
  auto connect = [&](WsClient& ws, const std::string& scope) {
    Headers h;
    h.add("Cookie", "scope=" + scope);
    ASSERT_TRUE(ws.connect("127.0.0.1", port, "/api/v1/ws", h));
    ASSERT_TRUE(ws.send(R"({"subscribe":["board"]})"));
    ASSERT_TRUE(ws.receive());
  };
  WsClient hq, a, b;
  connect(hq, "/1/");
  connect(a, "/1/2/5/");
  connect(b, "/1/2/6/");
  auto next = [](WsClient& ws) {
    auto m = ws.receive(std::chrono::milliseconds(3000));
    return m ? json::parse(*m) : json(nullptr);
  };
  server->events().publish("board", {{"n", 1}}, {"/1/2/5/"});          // A's record
  server->events().publish("board", {{"n", 2}}, {"/1/2/"});            // the branch's: neither outlet
  server->events().publish("board", {{"n", 3}}, {"/1/2/5/", "/1/2/6/"});  // moved from A to B
  server->events().publish("board", {{"n", 4}}, {"/1/2/55/"});         // a sibling whose path starts alike
  server->events().publish("board", {{"n", 5}});                       // about nothing scoped
  server->events().resync("test");
  // The n of each event received (0 for the resync), in order.
  auto collect = [&](WsClient& ws, int n) {
    std::vector<int> got;
    for (int i = 0; i < n; ++i) {
      json j = next(ws);
      if (j.is_object() && j.contains("resync")) got.push_back(0);
      else if (j.is_object()) got.push_back(j["data"]["n"].get<int>());
    }
    return got;
  };
  EXPECT_EQ(collect(hq, 6), (std::vector<int>{1, 2, 3, 4, 5, 0}));
  EXPECT_EQ(collect(a, 4), (std::vector<int>{1, 3, 5, 0}));
  EXPECT_EQ(collect(b, 3), (std::vector<int>{3, 5, 0}));
  for (auto* ws : {&hq, &a, &b}) EXPECT_FALSE(ws->receive(std::chrono::milliseconds(100)));
}

TEST_F(HttpServerTest, HttpWebSocketSlowClientIsDropped) {
  start();
  WsClient slow, fast;
  ASSERT_TRUE(slow.connect("127.0.0.1", port, "/api/v1/ws"));
  ASSERT_TRUE(fast.connect("127.0.0.1", port, "/api/v1/ws"));
  for (auto* c : {&slow, &fast}) {
    ASSERT_TRUE(c->send(R"({"subscribe":["board"]})"));
    ASSERT_TRUE(c->receive());
  }
  // The slow client never reads: once the socket buffers are full its queue
  // overflows and it is dropped; publish() itself never blocks.
  std::string blob(64 * 1024, 'x');
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 1500 && server->events().clients() == 2; ++i) {
    server->events().publish("board", {{"i", i}, {"blob", blob}});
    // The fast client keeps up.
    auto m = fast.receive();
    ASSERT_TRUE(m) << m.error().message;
  }
  for (int i = 0; i < 400 && server->events().clients() != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(server->events().clients(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  server->events().publish("board", {{"still", "here"}});
  auto m = fast.receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(json::parse(*m)["data"]["still"], "here");
}

TEST_F(HttpServerTest, HttpMetricsAndAccessLog) {
  start();
  Client c("127.0.0.1", port);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.request("GET", "/healthz"));
  ASSERT_TRUE(c.request("GET", "/items/1"));
  ASSERT_TRUE(c.request("GET", "/boom"));
  ASSERT_TRUE(c.request("HEAD", "/healthz"));
  auto text = server->prometheus_text();
  EXPECT_NE(text.find("# TYPE shouhou_http_requests_total counter"), std::string::npos);
  EXPECT_NE(text.find("shouhou_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"2xx\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("shouhou_http_requests_total{method=\"GET\",route=\"/items/{id}\",status=\"2xx\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("shouhou_http_requests_total{method=\"GET\",route=\"/boom\",status=\"5xx\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("shouhou_http_requests_total{method=\"HEAD\",route=\"/healthz\",status=\"2xx\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("shouhou_http_errors_total 1"), std::string::npos);
  EXPECT_NE(text.find("# TYPE shouhou_http_request_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("shouhou_http_request_duration_seconds_bucket{le=\"+Inf\"} 8"), std::string::npos) << text;
  EXPECT_NE(text.find("shouhou_http_request_duration_seconds_count 8"), std::string::npos);
  EXPECT_NE(text.find("shouhou_http_request_duration_seconds_sum "), std::string::npos);
  // The gauge drops once the last response's bytes are written, just after
  // the client has them.
  for (int i = 0; i < 200 && text.find("shouhou_http_inflight 0") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    text = server->prometheus_text();
  }
  EXPECT_NE(text.find("shouhou_http_inflight 0"), std::string::npos);
  EXPECT_NE(text.find("shouhou_ws_clients 0"), std::string::npos);
  auto snap = server->metrics_snapshot();
  EXPECT_EQ(snap["duration_seconds"]["count"], 8);
  EXPECT_EQ(snap["errors_total"], 1);

  auto lines = sink->lines();  // logged before each response is sent
  ASSERT_EQ(lines.size(), 8u);
  auto j = json::parse(lines[5]);
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/items/1");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["client"], "127.0.0.1");
  EXPECT_EQ(j["request_id"].get<std::string>().size(), 16u);
  EXPECT_TRUE(j["bytes"].is_number());
  EXPECT_TRUE(j["duration_us"].is_number());
  EXPECT_TRUE(j["ts"].is_string());
}

TEST(HttpClient, ConnectFailureIsUnavailable) {
  // Bind-and-release a port so nothing listens there.
  uint16_t p;
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    p = a.local_endpoint().port();
  }
  Client c("127.0.0.1", p);
  auto r = c.request("GET", "/");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Error::Code::unavailable);
}

TEST(HttpServer, StartFailsOnBusyPortAndBadAddress) {
  Router r;
  ServerOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  Server a(r, o);
  auto p = a.start();
  ASSERT_TRUE(p);
  o.port = *p;
  Server b(r, o);
  auto q = b.start();
  // SO_REUSEADDR does not allow two listeners on one port on Linux.
  ASSERT_FALSE(q);
  EXPECT_EQ(q.error().code, Error::Code::unavailable);
  o.address = "not-an-address";
  Server c(r, o);
  EXPECT_FALSE(c.start());
}

}  // namespace
