// Live events over WebSocket (/api/v1/ws) against real server processes: the
// dispatch board's topic carries an engineer's status change to a board
// connected to the same server (SQLite and PostgreSQL) and, with two server
// processes on one PostgreSQL database, to a board connected to the other
// server (relayed by LISTEN/NOTIFY), exactly once each.
#include <chrono>
#include <optional>

#include "harness.h"

using namespace shouhou;
using namespace shouhou::test;
using namespace std::chrono_literals;

namespace {

struct LoggedIn : Session {
  LoggedIn(uint16_t port, const std::string& user) : Session(port) {
    auto r = login(user);
    EXPECT_EQ(r.status, 200) << r.body;
  }
};

// A board: a WebSocket as `user` subscribed to the "dispatch" topic.
struct Board {
  http::WsClient ws;
  Board(uint16_t port, const Session& as) {
    http::Headers h;
    h.add("Cookie", as.cookie());
    auto c = ws.connect("127.0.0.1", port, "/api/v1/ws", h);
    EXPECT_TRUE(c.ok()) << c.error().message;
    EXPECT_TRUE(ws.send(R"({"subscribe":["dispatch"]})").ok());
    auto ack = ws.receive();
    EXPECT_TRUE(ack.ok()) << ack.error().message;
    if (ack) {
      EXPECT_EQ(json::parse(*ack)["subscribed"], json({"dispatch"})) << *ack;
    }
  }
  // The next engineer.status event for user_id within `wait` (other events skipped).
  std::optional<json> status_event(int64_t user_id, std::chrono::milliseconds wait = 10s) {
    auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      auto m = ws.receive(left);
      if (!m) return std::nullopt;
      auto j = json::parse(*m, nullptr, false);
      if (j["topic"] == "dispatch" && j["data"]["kind"] == "engineer.status" && j["data"]["user_id"] == user_id)
        return j["data"];
    }
  }
};

// The engineer reports a status from the phone on the given server.
int64_t engineer_id(Session& engineer) {
  auto r = engineer.get("/api/v1/engineers/me");
  EXPECT_EQ(r.status, 200) << r.body;
  return body(r)["user_id"].get<int64_t>();
}
void report(Session& engineer, int64_t id, const std::string& status) {
  auto r = engineer.post("/api/v1/engineers/" + std::to_string(id) + "/status", json{{"status", status}});
  EXPECT_EQ(r.status, 200) << r.body;
}

}  // namespace

TEST(LiveEvents, BoardSeesEngineerStatusChangeOnItsServer) {
  ServerProcess s;
  LoggedIn dispatcher(s.port(), "dispatcher");
  LoggedIn engineer(s.port(), "engineer1");
  int64_t id = engineer_id(engineer);
  Board board(s.port(), dispatcher);
  report(engineer, id, "travelling");
  auto e = board.status_event(id);
  ASSERT_TRUE(e) << "no engineer.status event on the board";
  EXPECT_EQ((*e)["status"], "travelling");
  EXPECT_FALSE(board.status_event(id, 300ms)) << "the event came twice";
  EXPECT_EQ(s.stop(), 0) << s.log();
}

// Issue 5 point 6 with two servers: a dispatcher's board on server 2 sees a
// status change reported through server 1, and each board gets it once.
TEST(LiveEvents, BoardOnOtherServerSeesStatusChange) {
  if (!on_postgres()) GTEST_SKIP() << "several server processes need PostgreSQL (set SHOUHOU_TEST_PG)";
  std::string db = fresh_database();
  ServerProcess s1(db);
  ServerProcess s2(db);
  LoggedIn dispatcher1(s1.port(), "dispatcher");
  LoggedIn dispatcher2(s2.port(), "dispatcher");
  LoggedIn engineer(s1.port(), "engineer1");
  int64_t id = engineer_id(engineer);
  Board board1(s1.port(), dispatcher1);
  Board board2(s2.port(), dispatcher2);
  report(engineer, id, "travelling");
  auto e2 = board2.status_event(id);
  ASSERT_TRUE(e2) << "server 2's board did not get the change made on server 1\n" << s2.log();
  EXPECT_EQ((*e2)["status"], "travelling");
  auto e1 = board1.status_event(id);
  ASSERT_TRUE(e1);
  EXPECT_EQ((*e1)["status"], "travelling");
  // And back the other way, in order.
  LoggedIn engineer_on2(s2.port(), "engineer1");
  report(engineer_on2, id, "on_site");
  report(engineer_on2, id, "free");
  for (auto* b : {&board1, &board2}) {
    auto a = b->status_event(id);
    auto c = b->status_event(id);
    ASSERT_TRUE(a && c);
    EXPECT_EQ((*a)["status"], "on_site");
    EXPECT_EQ((*c)["status"], "free");
    EXPECT_FALSE(b->status_event(id, 300ms)) << "an event came twice";
  }
  EXPECT_EQ(s1.stop(), 0) << s1.log();
  EXPECT_EQ(s2.stop(), 0) << s2.log();
}
