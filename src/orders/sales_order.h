// The parts sales order (配件销售单) of a service order: the sales contract
// header the parts-and-labour lines hang under in seed 001's report
// (合同# CTRNBRG0020050223001, 签定日期, 审核状态, 简述, 类型, 状态, 单位,
// 联系人, 付款方式, 销售方式, 交货方式, 发货日期, 销售小组). At most one per
// service order; the lines stay in order_charges (PUT .../charges).
//
// Number: unique across the system, given (e.g. from the ERP) or generated as
// "CTRN" + China date + the day's sequence. Payment, sales and delivery
// methods come from an admin-maintained dictionary (sales_order_options,
// zh + en names). Approval (审核状态) starts pending and is decided by an
// auditor (order.audit); changing an approved header's terms sends it back
// to pending. Scope is the service order's: a record of an order the caller
// cannot see is 404, like an unknown id.
//
// Routes: GET/POST/PATCH /api/v1/service-orders/{id}/sales-order,
// POST /api/v1/service-orders/{id}/sales-order/approval,
// GET /api/v1/sales-order-options, PUT /api/v1/sales-order-options/{kind}/{code}.
#pragma once

#include "api/api.h"

namespace shouhou::orders::detail {

store::Migration sales_order_migration();
void sales_order_routes(http::Router& r, api::Platform& p);

// The order's sales order as the API shows it (with zh names of the coded
// fields), or null when it has none.
Result<nlohmann::json> sales_order_of(store::Conn& c, int64_t order_id);

// Creates the order's sales order from an API body (the same validation as
// POST; errors name the field). `order` is the service order's JSON.
Result<nlohmann::json> create_sales_order(api::WriteTx& tx, const nlohmann::json& order, const nlohmann::json& body);
// Records an approval decision ("approved" / "rejected") by `by`.
Result<nlohmann::json> decide_sales_order(api::WriteTx& tx, int64_t order_id, const std::string& decision,
                                          const std::string& by);

}  // namespace shouhou::orders::detail
