// The versioned default workflows (the "default file"). On start-up the
// orders module loads each definition whose (code, version) the workflows
// table lacks; bump "version" when changing a flow here. Admins change flows
// at run time through PUT /api/v1/workflows/{code} (a new version row); orders
// keep the version they started on.
#pragma once

namespace shouhou::orders {

inline constexpr const char* kDefaultWorkflows = R"json([
{
  "code": "repair", "version": 1, "name": "维修工单流程",
  "order_types": ["repair", "return_exchange"],
  "initial": "created",
  "states": [
    {"code": "created",    "name": "已创建", "name_en": "Created"},
    {"code": "audited",    "name": "已审核", "name_en": "Audited"},
    {"code": "dispatched", "name": "已派单", "name_en": "Dispatched", "required_fields": ["provider_unit_id"],
     "timer": {"minutes": 240, "action": "escalate"}},
    {"code": "accepted",   "name": "已接单", "name_en": "Accepted"},
    {"code": "on_site",    "name": "已上门", "name_en": "On site"},
    {"code": "completed",  "name": "已完工", "name_en": "Completed", "required_fields": ["fault_code", "resolution"]},
    {"code": "revisited",  "name": "已回访", "name_en": "Revisited", "required_fields": ["satisfaction"]},
    {"code": "closed",     "name": "已关闭", "name_en": "Closed", "final": true},
    {"code": "cancelled",  "name": "已取消", "name_en": "Cancelled", "final": true, "required_fields": ["cancel_reason"]},
    {"code": "reopened",   "name": "已重开", "name_en": "Reopened"},
    {"code": "escalated",  "name": "已升级", "name_en": "Escalated"}
  ],
  "transitions": [
    {"action": "audit",    "name": "审核", "name_en": "Audit",    "from": ["created"], "to": "audited", "permission": "order.audit"},
    {"action": "dispatch", "name": "派单", "name_en": "Dispatch", "from": ["audited", "escalated", "reopened"], "to": "dispatched", "permission": "order.dispatch"},
    {"action": "accept",   "name": "接单", "name_en": "Accept",   "from": ["dispatched"], "to": "accepted", "permission": "order.accept"},
    {"action": "reject",   "name": "退单", "name_en": "Reject",   "from": ["dispatched"], "to": "audited", "permission": "order.accept"},
    {"action": "arrive",   "name": "上门", "name_en": "Arrive on site", "from": ["accepted"], "to": "on_site", "permission": "order.work"},
    {"action": "complete", "name": "完工", "name_en": "Complete", "from": ["on_site"], "to": "completed", "permission": "order.complete"},
    {"action": "revisit",  "name": "回访", "name_en": "Revisit",  "from": ["completed"], "to": "revisited", "permission": "order.revisit"},
    {"action": "close",    "name": "结案", "name_en": "Close",    "from": ["revisited"], "to": "closed", "permission": "order.close"},
    {"action": "cancel",   "name": "取消", "name_en": "Cancel",   "from": ["created", "audited", "dispatched", "escalated"], "to": "cancelled", "permission": "order.cancel"},
    {"action": "escalate", "name": "升级", "name_en": "Escalate", "from": ["created", "audited", "dispatched", "accepted", "on_site"], "to": "escalated", "permission": "order.audit"},
    {"action": "reopen",   "name": "重开", "name_en": "Reopen",   "from": ["completed", "revisited", "closed"], "to": "reopened", "permission": "order.revisit"}
  ]
},
{
  "code": "default", "version": 1, "name": "通用工单流程",
  "order_types": ["installation", "delivery", "maintenance", "inspection", "startup", "complaint", "consultation"],
  "initial": "created",
  "states": [
    {"code": "created",    "name": "已创建", "name_en": "Created"},
    {"code": "audited",    "name": "已审核", "name_en": "Audited"},
    {"code": "dispatched", "name": "已派单", "name_en": "Dispatched", "required_fields": ["provider_unit_id"],
     "timer": {"minutes": 240, "action": "escalate"}},
    {"code": "accepted",   "name": "已接单", "name_en": "Accepted"},
    {"code": "on_site",    "name": "已上门", "name_en": "On site"},
    {"code": "completed",  "name": "已完工", "name_en": "Completed", "required_fields": ["resolution"]},
    {"code": "revisited",  "name": "已回访", "name_en": "Revisited", "required_fields": ["satisfaction"]},
    {"code": "closed",     "name": "已关闭", "name_en": "Closed", "final": true},
    {"code": "cancelled",  "name": "已取消", "name_en": "Cancelled", "final": true, "required_fields": ["cancel_reason"]},
    {"code": "reopened",   "name": "已重开", "name_en": "Reopened"},
    {"code": "escalated",  "name": "已升级", "name_en": "Escalated"}
  ],
  "transitions": [
    {"action": "audit",    "name": "审核", "name_en": "Audit",    "from": ["created"], "to": "audited", "permission": "order.audit"},
    {"action": "dispatch", "name": "派单", "name_en": "Dispatch", "from": ["created", "audited", "escalated", "reopened"], "to": "dispatched", "permission": "order.dispatch"},
    {"action": "accept",   "name": "接单", "name_en": "Accept",   "from": ["dispatched"], "to": "accepted", "permission": "order.accept"},
    {"action": "reject",   "name": "退单", "name_en": "Reject",   "from": ["dispatched"], "to": "audited", "permission": "order.accept"},
    {"action": "arrive",   "name": "上门", "name_en": "Arrive on site", "from": ["accepted"], "to": "on_site", "permission": "order.work"},
    {"action": "complete", "name": "完工", "name_en": "Complete", "from": ["on_site"], "to": "completed", "permission": "order.complete"},
    {"action": "revisit",  "name": "回访", "name_en": "Revisit",  "from": ["completed"], "to": "revisited", "permission": "order.revisit"},
    {"action": "close",    "name": "结案", "name_en": "Close",    "from": ["revisited", "audited"], "to": "closed", "permission": "order.close"},
    {"action": "cancel",   "name": "取消", "name_en": "Cancel",   "from": ["created", "audited", "dispatched", "escalated"], "to": "cancelled", "permission": "order.cancel"},
    {"action": "escalate", "name": "升级", "name_en": "Escalate", "from": ["created", "audited", "dispatched", "accepted", "on_site"], "to": "escalated", "permission": "order.audit"},
    {"action": "reopen",   "name": "重开", "name_en": "Reopen",   "from": ["completed", "revisited", "closed"], "to": "reopened", "permission": "order.revisit"}
  ]
}
])json";

}  // namespace shouhou::orders
