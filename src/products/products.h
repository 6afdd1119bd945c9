// Products (产品): product lines, models with production batches and
// components (位号, key parts with their category), and service items
// (服务料号) with a price per provider grade, maintained centrally.
//
// The catalogue is shared by the whole service network: every logged-in user
// with product.read sees all of it; only product.write changes it, and only
// pricelist.write changes service-item prices. org_path records the unit that
// maintains a row (normally HQ).
//
// Routes: /api/v1/product-lines, /api/v1/models (+ /{id}/batches,
// /{id}/components), /api/v1/service-items (+ PUT /{id}/prices).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.h"

namespace shouhou::products {

api::Module module();

// The price of a service item for a provider grade (A/B/C...), in fen;
// std::nullopt when the item is unknown, inactive or has no price for the
// grade. For the orders module's out-of-warranty charges.
Result<std::optional<int64_t>> service_item_price(store::Conn& c, int64_t service_item_id, std::string_view grade);

struct ServiceItemPrice {
  int64_t service_item_id = 0;
  std::string code, name, unit, grade;
  int64_t price_fen = 0;
};
// The same by service-item code (服务料号), with the item's name and unit.
Result<std::optional<ServiceItemPrice>> service_item_price_by_code(store::Conn& c, std::string_view code,
                                                                   std::string_view grade);

struct ComponentInfo {
  int64_t id = 0;
  std::string position;  // 位号
  std::string part_code, name;
  bool key_part = false;
  std::string key_part_category;
};
struct ModelInfo {
  int64_t id = 0;
  std::string code, name;
  int64_t product_line_id = 0;
  std::string product_line_code, product_line_name;
  std::vector<ComponentInfo> components;
};
// A model with its product line and components (std::nullopt when unknown).
Result<std::optional<ModelInfo>> model_info(store::Conn& c, int64_t model_id);

// Plain inserts for demo data and imports (no permission checks, no audit).
struct NewProductLine {
  std::string code, name;
  std::optional<std::string> name_en;
};
Result<int64_t> insert_product_line(store::Conn& c, const NewProductLine& p, const std::string& org_path);
struct NewModel {
  int64_t product_line_id = 0;
  std::string code, name;
  std::optional<std::string> description;
};
Result<int64_t> insert_model(store::Conn& c, const NewModel& m, const std::string& org_path);
struct NewBatch {
  std::string batch_code;
  std::optional<std::string> production_date;  // YYYY-MM-DD
  int64_t quantity = 0;
};
Result<int64_t> insert_batch(store::Conn& c, int64_t model_id, const NewBatch& b, const std::string& org_path);
struct NewComponent {
  std::string position, name;
  std::optional<std::string> part_code;
  int64_t quantity = 1;
  bool key_part = false;
  std::optional<std::string> key_part_category;
};
Result<int64_t> insert_component(store::Conn& c, int64_t model_id, const NewComponent& k, const std::string& org_path);
struct NewServiceItem {
  std::string code, name, unit;
  std::optional<int64_t> product_line_id;
  std::optional<std::string> description;
  std::vector<std::pair<std::string, int64_t>> prices;  // grade -> fen
};
Result<int64_t> insert_service_item(store::Conn& c, const NewServiceItem& s, const std::string& org_path);

}  // namespace shouhou::products
