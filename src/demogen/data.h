// Reference tables for the demo generator: where the maker sells, what it
// sells, and the words people's names and addresses are made of.
#pragma once

#include <cstdint>

namespace shouhou::demogen::data {

// A city the maker serves, with its telephone area code and a weight (share
// of customers). `region` is the regional centre's code; RC-EAST and
// RC-NORTH exist in the fixed demo, the others are created.
struct City {
  const char* region;
  const char* province;  // GB/T 2260 province code
  const char* name;      // as in the division table ("济南市"; municipalities: "北京市")
  const char* area;      // telephone area code
  int weight;
};
extern const City kCities[];
extern const int kCityCount;

struct Region {
  const char* code;
  const char* name;
  const char* division;  // province of the centre's seat
};
extern const Region kRegions[];
extern const int kRegionCount;

// A model in the catalogue. line: AC, WH, SWH, UPS. price in fen. `business`:
// sold mostly to organisations. `fault` is the model's relative fault rate.
struct Model {
  const char* line;
  const char* code;
  const char* name;
  const char* serial_prefix;
  int64_t price_fen;
  bool business;
  int weight;
  double fault;
};
extern const Model kModels[];
extern const int kModelCount;

// Components of a product line's models: position (位号), name, part code
// suffix, key part category (nullptr = not a key part), relative fault share.
struct Component {
  const char* line;
  const char* position;
  const char* name;
  const char* part;
  const char* key_category;
  int fault_share;
};
extern const Component kComponents[];
extern const int kComponentCount;

// Fault codes by product line (E-xx), with the component position they
// usually point at and the problem area shown on orders.
struct Fault {
  const char* line;
  const char* code;
  const char* text;
  const char* position;
};
extern const Fault kFaults[];
extern const int kFaultCount;

extern const char* const kSurnames[];
extern const int kSurnameCount;
extern const char* const kGivenChars[];
extern const int kGivenCharCount;
extern const char* const kStreets[];
extern const int kStreetCount;
extern const char* const kEstates[];
extern const int kEstateCount;
extern const char* const kCompanyWords[];
extern const int kCompanyWordCount;
extern const char* const kIndustries[];
extern const int kIndustryCount;
extern const char* const kInstitutions[];  // "人民医院", "第一中学", ...
extern const int kInstitutionCount;
extern const char* const kMobilePrefixes[];
extern const int kMobilePrefixCount;
extern const char* const kProviderSuffixes[];
extern const int kProviderSuffixCount;
extern const char* const kDealerSuffixes[];
extern const int kDealerSuffixCount;
extern const char* const kProblemTexts[];  // customer's words, by line index 0..3
extern const int kProblemTextCount;

}  // namespace shouhou::demogen::data
