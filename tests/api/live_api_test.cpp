// Live events over WebSocket (/api/v1/ws) against real server processes: the
// dispatch board's topic carries an engineer's status change to a board
// connected to the same server (SQLite and PostgreSQL) and, with two server
// processes on one PostgreSQL database, to a board connected to the other
// server (relayed by LISTEN/NOTIFY), exactly once each.
#include <chrono>
#include <functional>
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

// A board: a WebSocket as a user subscribed to the "dispatch" topic.
struct Board : LiveSocket {
  Board(uint16_t port, const Session& as) : LiveSocket(port, as) {}
  // The first message within `wait` that `want` accepts (others skipped); null when none.
  json first(const std::function<bool(const json&)>& want, std::chrono::milliseconds wait = 10s) {
    auto until = std::chrono::steady_clock::now() + wait;
    for (;;) {
      json j = next(std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()));
      if (j.is_null() || want(j)) return j;
    }
  }
  // The next engineer.status event for user_id within `wait` (other events skipped).
  std::optional<json> status_event(int64_t user_id, std::chrono::milliseconds wait = 10s) {
    json j = first([&](const json& m) {
      return m["topic"] == "dispatch" && m["data"]["kind"] == "engineer.status" && m["data"]["user_id"] == user_id;
    }, wait);
    if (j.is_null()) return std::nullopt;
    return j["data"];
  }
};

// Two `shouhou serve` processes on one PostgreSQL database, the dispatcher
// logged in on each and engineer1 on the first.
// The engineer reports a status from the phone on the given server.
int64_t engineer_id(Session& engineer) {
  auto r = engineer.get("/api/v1/engineers/me");
  EXPECT_EQ(r.status, 200) << r.body;
  return body(r)["user_id"].get<int64_t>();
}

// Two servers on one PostgreSQL database, a dispatcher's board on each and
// the engineer (logged in on server 1) whose status changes they watch.
struct TwoBoards {
  std::string db = fresh_database();
  ServerProcess s1{db}, s2{db};
  LoggedIn dispatcher1{s1.port(), "dispatcher"}, dispatcher2{s2.port(), "dispatcher"}, engineer{s1.port(), "engineer1"};
  int64_t id = engineer_id(engineer);
  Board board1{s1.port(), dispatcher1}, board2{s2.port(), dispatcher2};
};
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
  TwoBoards t;
  auto &s1 = t.s1, &s2 = t.s2;
  auto &board1 = t.board1, &board2 = t.board2;
  auto& engineer = t.engineer;
  int64_t id = t.id;
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

// Issue 5: notifications sent while a server's LISTEN connection is down are
// lost, so once it listens again its boards are told to resync (the page
// reloads its data), and later events from the other server arrive again.
// The connections are cut from the database side (pg_terminate_backend on
// the notifiers' "shouhou-notify" connections of both servers).
TEST(LiveEvents, BoardsResyncAfterTheListenConnectionIsCut) {
  if (!on_postgres()) GTEST_SKIP() << "LISTEN/NOTIFY needs PostgreSQL (set SHOUHOU_TEST_PG)";
  TwoBoards t;
  auto &s1 = t.s1, &s2 = t.s2;
  auto &board1 = t.board1, &board2 = t.board2;
  auto& engineer = t.engineer;
  int64_t id = t.id;
  // Both relays are up: an event from server 1 reaches server 2's board.
  report(engineer, id, "travelling");
  ASSERT_TRUE(board2.status_event(id)) << s2.log();
  ASSERT_TRUE(board1.status_event(id));

  PGconn* c = PQconnectdb(t.db.c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK) << PQerrorMessage(c);
  PGresult* r = PQexec(c, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND application_name = 'shouhou-notify'");
  ASSERT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(c);
  EXPECT_EQ(std::string(PQgetvalue(r, 0, 0)), "2") << "one notifier connection per server";
  PQclear(r);
  PQfinish(c);

  auto resync = [](const json& m) { return m.is_object() && m["resync"] == true; };
  json r1 = board1.first(resync, 15s), r2 = board2.first(resync, 15s);
  ASSERT_FALSE(r1.is_null()) << "no resync on server 1's board\n" << s1.log();
  ASSERT_FALSE(r2.is_null()) << "no resync on server 2's board\n" << s2.log();
  EXPECT_TRUE(r2["reason"].is_string());
  // Listening again: events flow both ways as before, once each.
  report(engineer, id, "on_site");
  auto e2 = board2.status_event(id);
  ASSERT_TRUE(e2) << "server 2 does not hear server 1 after the reconnect\n" << s2.log();
  EXPECT_EQ((*e2)["status"], "on_site");
  LoggedIn engineer_on2(s2.port(), "engineer1");
  report(engineer_on2, id, "free");
  auto e1 = board1.status_event(id);
  auto again = board1.status_event(id);
  ASSERT_TRUE(e1 && again) << s1.log();
  EXPECT_EQ((*e1)["status"], "on_site");
  EXPECT_EQ((*again)["status"], "free");
  auto own = board2.status_event(id);
  ASSERT_TRUE(own);
  EXPECT_EQ((*own)["status"], "free");
  EXPECT_FALSE(board2.status_event(id, 300ms)) << "an event came twice";
  EXPECT_EQ(s1.stop(), 0) << s1.log();
  EXPECT_EQ(s2.stop(), 0) << s2.log();
}
