#include "app/demo.h"

#include <map>

#include "auth/auth.h"
#include "customers/customers.h"
#include "network/demo.h"
#include "org/org.h"
#include "orders/orders.h"
#include "warranty/warranty.h"

namespace shouhou::app {

namespace {
struct UnitSpec {
  const char* code;
  const char* name;
  const char* type;
  const char* parent;  // code, or "" for the root
  const char* division;
  const char* grade;
};
// HQ -> regional centres -> branches -> providers / dealers, in real GB/T 2260 divisions.
const UnitSpec kUnits[] = {
    {"HQ", "总部", "hq", "", "110105", nullptr},
    {"RC-EAST", "华东区域服务中心", "region", "HQ", "310000", nullptr},
    {"RC-NORTH", "华北区域服务中心", "region", "HQ", "110000", nullptr},
    {"BR-SH", "上海分公司", "branch", "RC-EAST", "310100", nullptr},
    {"BR-JN", "济南分公司", "branch", "RC-EAST", "370100", nullptr},
    {"BR-BJ", "北京分公司", "branch", "RC-NORTH", "110100", nullptr},
    {"SP-SH-XH", "上海徐汇家电服务部", "provider", "BR-SH", "310104", "A"},
    {"SP-JN-LX", "济南历下家电服务站", "provider", "BR-JN", "370102", "B"},
    {"SP-BJ-CY", "北京朝阳售后服务网点", "provider", "BR-BJ", "110105", "A"},
    {"DL-SH-01", "上海浦东家电城", "dealer", "BR-SH", "310115", nullptr},
    {"DL-JN-01", "济南泉城电器商行", "dealer", "BR-JN", "370102", nullptr},
};
struct UserSpec {
  const char* username;
  const char* display;
  const char* unit;
  const char* role;
};
const UserSpec kUsers[] = {
    {"admin", "系统管理员", "HQ", "admin"},
    {"agent", "呼叫中心坐席 王芳", "HQ", "agent"},
    {"dispatcher", "调度员 李强", "HQ", "dispatcher"},
    {"provider1", "徐汇服务部 张经理", "SP-SH-XH", "provider"},
    {"provider2", "历下服务站 刘经理", "SP-JN-LX", "provider"},
    {"provider3", "朝阳网点 赵经理", "SP-BJ-CY", "provider"},
    {"engineer1", "工程师 陈明", "SP-SH-XH", "engineer"},
    {"engineer2", "工程师 周涛", "SP-JN-LX", "engineer"},
    {"engineer3", "工程师 吴磊", "SP-BJ-CY", "engineer"},
    {"parts", "备件管理员 孙丽", "RC-EAST", "parts_admin"},
    {"settlement", "结算专员 郑敏", "HQ", "settlement"},
    {"quality", "质量工程师 黄伟", "HQ", "quality"},
    {"manager", "华东区域经理 何静", "RC-EAST", "manager"},
    {"dealer1", "浦东家电城 林先生", "DL-SH-01", "dealer"},
};
}  // namespace

Result<std::vector<DemoLogin>> seed_demo(api::Platform& p) {
  store::Database& db = p.db;
  std::vector<DemoLogin> logins;
  for (const auto& u : kUsers) logins.push_back({u.username, u.role, u.unit});
  bool empty = TRY(db.read_as([](store::Conn& c) -> Result<bool> {
    auto row = TRY(c.one("SELECT COUNT(*) FROM users"));
    return row->i(0) == 0;
  }));
  if (!empty) return logins;
  // One hash for every demo user: they share the published demo password
  // anyway, and it keeps seeding fast (argon2id is ~80 ms a hash).
  std::string hash = TRY(auth::hash_password(kDemoPassword));
  TRY_VOID(db.write([&](store::Conn& c) -> Result<void> {
    std::map<std::string, int64_t> ids;
    for (const auto& u : kUnits) {
      org::NewUnit nu{u.code, u.name, u.type, std::nullopt, std::string(u.division), std::nullopt, std::nullopt, std::nullopt};
      if (*u.parent) nu.parent_id = ids.at(u.parent);
      if (u.grade) nu.grade = std::string(u.grade);
      ids[u.code] = TRY(org::insert_unit(c, nu));
    }
    for (const auto& u : kUsers) {
      org::NewUser nu;
      nu.username = u.username;
      nu.display_name = u.display;
      nu.password_hash = hash;
      nu.org_unit_id = ids.at(u.unit);
      nu.roles = {u.role};
      TRY(org::insert_user(c, nu));
    }
    TRY_VOID(customers::seed_demo(c, ids));
    TRY_VOID(warranty::seed_demo(c, ids));  // products, install base, policies, contracts
    api::WriteTx tx(c, nullptr, "demo");
    TRY_VOID(orders::seed_demo(tx, ids));  // seed 001's sample order, open orders
    TRY_VOID(network::seed_demo(c, ids));   // outlet areas, capacities, engineer skills
    return {};
  }));
  return logins;
}

}  // namespace shouhou::app
