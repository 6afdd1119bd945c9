// Private to src/demogen: the generated world and the per-entity plans.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "demogen/data.h"
#include "demogen/demogen.h"
#include "divisions/divisions.h"

namespace shouhou::demogen {

struct World;

// One random stream per (seed, entity kind, index).
class Rng {
 public:
  Rng(uint64_t seed, uint64_t stream, uint64_t index);
  uint64_t next();
  int64_t range(int64_t lo, int64_t hi);  // inclusive
  double unit();                          // [0, 1)
  bool chance(double p) { return unit() < p; }

 private:
  uint64_t s_;
};

uint64_t mix(uint64_t x);
int64_t days_from_civil(int y, unsigned m, unsigned d);
std::string date_of(int64_t days);  // days since 1970-01-01 -> "YYYY-MM-DD"

struct CityInfo {
  const data::City* city = nullptr;
  std::string city_code, short_name;
  std::vector<const divisions::Division*> counties;
  int64_t branch_id = 0;
  std::string branch_path;
  std::vector<size_t> providers;  // indexes into World::providers
  std::vector<int64_t> dealers;   // unit ids
};

struct ProviderInfo {
  size_t city = 0;
  int64_t unit_id = 0, staff_user_id = 0;
  std::string path, county, grade;
  std::vector<int64_t> engineers;  // user ids
  std::vector<std::string> engineer_usernames;
};

struct Batch {
  std::string code;
  int64_t day = 0;
  int64_t id = 0;
  double defect = 1.0;  // fault-rate multiplier
};

struct ModelInfo {
  const data::Model* m = nullptr;
  int64_t id = 0, line_id = 0;
  double fault = 1.0;
  std::vector<std::string> positions;
  std::vector<int> faults;  // indexes into data::kFaults that fit the model
  std::vector<Batch> batches;
};

struct World {
  uint64_t seed = 1;
  Counts counts;
  int64_t start_day = 0, end_day = 0;  // days since the epoch
  int64_t hq_id = 0;
  std::string hq_path;
  std::vector<int64_t> agents, dispatchers;  // call-centre user ids at HQ (usernames ccNN, ddNN)
  std::vector<CityInfo> cities;
  std::vector<double> city_cum;
  std::vector<ProviderInfo> providers;
  std::vector<ModelInfo> models;
  std::vector<double> model_cum_home, model_cum_business;
  std::vector<int64_t> customer_ids, asset_ids;  // by plan index
};

struct CustomerPlan {
  bool organisation = false;
  size_t city = 0;
  std::string county, name, type, detail, contact, contact_title, contact_phone;
  std::vector<std::string> phones;
};

struct AssetPlan {
  int64_t customer = 0;  // plan index of the owner
  size_t model = 0, batch = 0;
  int64_t production_day = 0, sale_day = 0, install_day = 0;
  bool in_stock = false, installed = false;
  int64_t amount_fen = 0, serial_seq = 0;
  uint64_t engineer_pick = 0, provider_pick = 0, dealer_pick = 0;
};

CustomerPlan plan_customer(const World& w, int64_t i);
bool plan_is_organisation(const World& w, int64_t i);
AssetPlan plan_asset(const World& w, int64_t k);
int64_t plan_owner(const World& w, int64_t k);
std::string serial_of(const World& w, const AssetPlan& a);
std::string address_prefix(const World& w, const CustomerPlan& cp);  // "济南市历下区"

void report(const Options& o, std::string_view phase, int64_t done, int64_t total);

Result<World> build_world(api::Platform& p, const Options& o, Summary& sum);
Result<void> write_customers_and_assets(api::Platform& p, const Options& o, World& w, Summary& sum);
// Service orders through orders::create / orders::transition (orders_gen.cpp).
Result<void> write_orders(api::Platform& p, const Options& o, World& w, Summary& sum);

}  // namespace shouhou::demogen
