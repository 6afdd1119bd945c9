// Test harness: runs a real `shouhou serve` process on a fresh database
// (SQLite temp file, or a fresh PostgreSQL database when SHOUHOU_TEST_PG is
// set) and talks to it over real HTTP.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "core/util.h"
#include "http/http.h"

namespace shouhou::test {

using nlohmann::json;

inline std::string env(const char* n, const char* def = "") {
  const char* v = std::getenv(n);
  return v && *v ? v : def;
}

// The log of the server process started last: quoted when a request fails at the transport level.
inline std::string last_server_log;

inline bool on_postgres() { return !env("SHOUHOU_TEST_PG").empty(); }

// A database URL for one test: a new SQLite file or a new PostgreSQL database.
inline std::string fresh_database() {
  static int n = 0;
  std::string tag = std::to_string(getpid()) + "_" + std::to_string(++n) + "_" + random_hex(3);
  if (!on_postgres()) {
    std::string dir = env("SHOUHOU_TEST_TMP", "/tmp");
    return dir + "/api_" + tag + ".db";
  }
  std::string admin = env("SHOUHOU_TEST_PG");
  PGconn* c = PQconnectdb(admin.c_str());
  std::string name = "api_" + tag;
  PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string err = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("CREATE DATABASE failed: " + err);
  auto slash = admin.rfind('/');
  return admin.substr(0, slash + 1) + name;
}

class ServerProcess {
 public:
  explicit ServerProcess(std::string db_url = fresh_database()) : db_(std::move(db_url)) { start(); }
  ~ServerProcess() { stop(); }

  void start() {
    static int n = 0;
    port_file_ = env("SHOUHOU_TEST_TMP", "/tmp") + "/port_" + std::to_string(getpid()) + "_" + std::to_string(++n);
    std::filesystem::remove(port_file_);
    log_ = port_file_ + ".log";
    last_server_log = log_;
    std::string bin = env("SHOUHOU_BINARY", SHOUHOU_BINARY);
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) { dup2(fd, 1); dup2(fd, 2); }
      execl(bin.c_str(), bin.c_str(), "--db", db_.c_str(), "serve", "--port", "0", "--address", "127.0.0.1",
            "--port-file", port_file_.c_str(), "--web", "/nonexistent", "--demo", (char*)nullptr);
      _exit(127);
    }
    for (int i = 0; i < 600; ++i) {
      std::ifstream f(port_file_);
      if (f >> port_) return;
      int st;
      if (waitpid(pid_, &st, WNOHANG) == pid_) { pid_ = -1; break; }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::ifstream lf(log_);
    std::string log((std::istreambuf_iterator<char>(lf)), {});
    throw std::runtime_error("server did not start: " + log);
  }
  // Graceful stop; returns the exit status.
  int stop(int sig = SIGTERM) {
    if (pid_ <= 0) return 0;
    kill(pid_, sig);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  void kill9() { stop(SIGKILL); }
  uint16_t port() const { return port_; }
  const std::string& db() const { return db_; }
  std::string log() const {
    std::ifstream lf(log_);
    return std::string((std::istreambuf_iterator<char>(lf)), {});
  }

 private:
  std::string db_;
  std::string port_file_, log_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// One user's HTTP conversation: keeps the session cookie and CSRF token.
class Session {
 public:
  explicit Session(uint16_t port) : client_("127.0.0.1", port) {}

  http::ClientResponse login(const std::string& user, const std::string& password = "shouhou") {
    auto r = call("POST", "/api/v1/auth/login", json{{"username", user}, {"password", password}}.dump());
    if (r.status == 200) {
      auto c = r.headers.get("set-cookie");
      if (c) cookie_ = c->substr(0, c->find(';'));
      csrf_ = r.json_body()["csrf_token"].get<std::string>();
    }
    return r;
  }
  http::ClientResponse call(const std::string& method, const std::string& target, const std::string& body = {},
                            http::Headers extra = {}) {
    http::Headers h = extra;
    if (!cookie_.empty()) h.set("cookie", cookie_);
    if (!csrf_.empty() && method != "GET" && !h.get("x-csrf-token")) h.set("x-csrf-token", csrf_);
    if (!bearer_.empty()) h.set("authorization", "Bearer " + bearer_);
    if (!body.empty() && !h.get("content-type")) h.set("content-type", "application/json");
    auto r = client_.request(method, target, body, h);
    if (!r && tolerate_transport_errors_) return http::ClientResponse{};  // status 0: the connection died
    if (!r) {
      // A failed test, not an exception: one broken connection must not abort every later suite.
      std::ifstream lf(last_server_log);
      std::string log((std::istreambuf_iterator<char>(lf)), {});
      if (log.size() > 4000) log = "..." + log.substr(log.size() - 4000);
      ADD_FAILURE() << "request failed: " << method << " " << target << ": " << r.error().message
                    << "\nserver log (" << last_server_log << "):\n" << log;
      http::ClientResponse failed;
      failed.body = "{}";
      return failed;
    }
    return *r;
  }
  http::ClientResponse get(const std::string& t) { return call("GET", t); }
  http::ClientResponse post(const std::string& t, const json& b, http::Headers h = {}) { return call("POST", t, b.dump(), h); }
  http::ClientResponse patch(const std::string& t, const json& b) { return call("PATCH", t, b.dump()); }
  // For tests that kill the server: a dead connection answers status 0 instead of failing the test.
  void tolerate_transport_errors() { tolerate_transport_errors_ = true; }
  void use_bearer(std::string token) { bearer_ = std::move(token); cookie_.clear(); csrf_.clear(); }
  void drop_csrf() { csrf_.clear(); }
  // "sid=..." once logged in (for a WebSocket upgrade as this user).
  const std::string& cookie() const { return cookie_; }

 private:
  http::Client client_;
  bool tolerate_transport_errors_ = false;
  std::string cookie_, csrf_, bearer_;
};

inline json body(const http::ClientResponse& r) { return json::parse(r.body, nullptr, false); }
// By value: `for (auto& x : body(r)["items"])` would iterate a destroyed temporary.
inline json items(const http::ClientResponse& r) { return body(r)["items"]; }

// A live-event WebSocket (/api/v1/ws) as a logged-in session, subscribed to topics.
struct LiveSocket {
  http::WsClient ws;
  LiveSocket(uint16_t port, const Session& as, const std::vector<std::string>& topics = {"dispatch"}) {
    http::Headers h;
    h.add("Cookie", as.cookie());
    auto c = ws.connect("127.0.0.1", port, "/api/v1/ws", h);
    EXPECT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(ws.send(json{{"subscribe", topics}}.dump()).ok());
    auto ack = ws.receive();
    EXPECT_TRUE(ack.ok()) << ack.error().message;
    if (ack) {
      EXPECT_EQ(json::parse(*ack)["subscribed"], json(topics)) << *ack;
    }
  }
  // The next message ({"topic", "data"} or {"resync", "reason"}); null when none comes within `wait`.
  json next(std::chrono::milliseconds wait = std::chrono::milliseconds(10000)) {
    if (wait <= std::chrono::milliseconds(0)) return nullptr;
    auto m = ws.receive(wait);
    return m ? json::parse(*m, nullptr, false) : json(nullptr);
  }
};

}  // namespace shouhou::test
