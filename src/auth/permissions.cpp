#include "auth/permissions.h"

#include <algorithm>

namespace shouhou::auth {

const std::vector<PermissionInfo>& permission_catalogue() {
  static const std::vector<PermissionInfo> all = {
      {"org.read", "查看组织机构", "View org units"},
      {"org.write", "维护组织机构", "Edit org units"},
      {"user.read", "查看用户", "View users"},
      {"user.write", "维护用户", "Edit users"},
      {"role.read", "查看角色", "View roles"},
      {"role.write", "维护角色权限", "Edit role permissions"},
      {"audit.read", "查看审计日志", "View audit trail"},
      {"token.write", "管理接口令牌", "Manage API tokens"},
      {"customer.read", "查看客户", "View customers"},
      {"customer.write", "维护客户", "Edit customers"},
      {"customer.tiers", "设置客户等级标准", "Set customer tier thresholds"},
      {"product.read", "查看产品", "View products"},
      {"product.write", "维护产品与服务料号", "Edit products and service items"},
      {"asset.read", "查看安装点", "View install base"},
      {"asset.write", "维护安装点", "Edit install base"},
      {"contract.read", "查看服务合约", "View service contracts"},
      {"contract.write", "维护服务合约", "Edit service contracts"},
      {"import.run", "批量导入", "Run bulk imports"},
      {"order.read", "查看工单", "View service orders"},
      {"order.create", "创建工单", "Create service orders"},
      {"order.audit", "审核工单", "Audit service orders"},
      {"order.dispatch", "派单", "Dispatch service orders"},
      {"order.accept", "接单", "Accept service orders"},
      {"order.work", "上门服务", "Work on service orders"},
      {"order.complete", "完工", "Complete service orders"},
      {"order.revisit", "回访", "Revisit customers"},
      {"order.close", "关闭工单", "Close service orders"},
      {"order.cancel", "取消工单", "Cancel service orders"},
      {"claim.audit", "三包鉴定审核", "Audit warranty claims"},
      {"workflow.write", "配置流程与时效", "Configure workflows and SLAs"},
      {"pricelist.write", "维护价格表", "Edit price lists"},
      {"network.read", "查看服务网络", "View service network"},
      {"network.write", "维护服务网点", "Edit service outlets"},
      {"engineer.status", "更新工程师状态", "Update engineer status"},
      {"parts.read", "查看备件", "View spare parts"},
      {"parts.request", "备件申请", "Request spare parts"},
      {"parts.approve", "审批备件申请", "Approve requisitions"},
      {"parts.ship", "备件发货与库存", "Ship parts and manage stock"},
      {"complaint.read", "查看投诉", "View complaints"},
      {"complaint.write", "处理投诉", "Handle complaints"},
      {"settlement.read", "查看结算", "View settlement"},
      {"settlement.write", "编制结算单", "Prepare settlement"},
      {"settlement.approve", "审批结算", "Approve settlement"},
      {"quality.read", "质量分析", "Quality analytics"},
      {"report.read", "统计报表", "Reports and KPIs"},
      {"kb.read", "查看知识库", "Read knowledge base"},
      {"kb.write", "编写知识库", "Write knowledge base"},
      {"lead.write", "转销售线索", "Forward sales leads"},
      {"lead.read", "查看销售线索", "View sales leads"},
  };
  return all;
}

bool is_permission(std::string_view code) {
  const auto& all = permission_catalogue();
  return std::any_of(all.begin(), all.end(), [&](const PermissionInfo& p) { return code == p.code; });
}

const std::vector<RoleInfo>& builtin_roles() {
  static const std::vector<RoleInfo> roles = [] {
    std::vector<std::string> everything;
    for (const auto& p : permission_catalogue()) everything.push_back(p.code);
    return std::vector<RoleInfo>{
        {"admin", "系统管理员", "Administrator", everything},
        {"agent", "坐席", "Call-centre agent",
         {"customer.read", "customer.write", "product.read", "asset.read", "asset.write", "contract.read",
          "order.read", "order.create", "order.revisit", "order.cancel", "complaint.read", "complaint.write", "kb.read",
          "lead.write", "network.read"}},
        {"dispatcher", "调度", "Dispatcher",
         {"org.read", "customer.read", "product.read", "asset.read", "contract.read", "order.read", "order.create",
          "order.audit", "order.dispatch", "order.cancel", "order.close", "claim.audit", "network.read", "kb.read",
          "report.read"}},
        {"provider", "服务商", "Service provider",
         {"org.read", "user.read", "customer.read", "customer.write", "product.read", "asset.read", "asset.write", "order.read",
          "order.create", "order.accept", "order.dispatch", "order.work", "order.complete", "parts.read",
          "parts.request", "settlement.read", "kb.read", "kb.write", "lead.write", "engineer.status", "network.read"}},
        {"engineer", "工程师", "Engineer",
         {"customer.read", "product.read", "asset.read", "order.read", "order.accept", "order.work", "order.complete",
          "parts.read", "parts.request", "kb.read", "kb.write", "lead.write", "engineer.status"}},
        {"parts_admin", "备件管理员", "Parts administrator",
         {"org.read", "product.read", "parts.read", "parts.approve", "parts.ship", "order.read", "report.read"}},
        {"settlement", "结算", "Settlement clerk",
         {"org.read", "order.read", "settlement.read", "settlement.write", "pricelist.write", "report.read",
          "complaint.read"}},
        {"quality", "质量", "Quality engineer",
         {"org.read", "product.read", "asset.read", "order.read", "quality.read", "report.read", "kb.read",
          "kb.write"}},
        {"manager", "经理", "Manager",
         {"org.read", "user.read", "role.read", "audit.read", "customer.read", "product.read", "asset.read",
          "contract.read", "order.read", "complaint.read", "settlement.read", "settlement.approve", "quality.read",
          "report.read", "kb.read", "network.read", "lead.read"}},
        {"dealer", "经销商", "Dealer",
         {"customer.read", "customer.write", "product.read", "asset.read", "asset.write", "order.read", "order.create",
          "settlement.read", "import.run"}},
        {"consumer", "消费者", "Consumer", {"order.read", "order.create", "kb.read"}},
    };
  }();
  return roles;
}

}  // namespace shouhou::auth
