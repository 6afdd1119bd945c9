// Warranty claim auto-audit (三包鉴定, M4, seeds 000 and 004).
//
// A repair order that is not out of warranty is a claim on the maker. When
// such an order is created and again when it is completed, the claim is
// checked against the install base and earlier claims:
//   serial_missing     the order names no serial
//   serial_unknown     the serial is not in the install base
//   owner_mismatch     the asset belongs to another customer (a customer's
//                      sites and parent count as the same customer)
//   not_sold           the asset has no sale date (never sold)
//   sale_after_claim   the sale date is after the claim date
//   open_order         another open order exists for the serial
//   repeat_fault       a claim for the same serial and fault within
//                      repeat_window_days (default 30)
//   far_region         the asset was installed in another province than the
//                      order's site, and the provider has at least
//                      far_min_claims such claims within far_window_days
//   near_warranty_end  the claim is within near_end_days of the warranty's
//                      end, and the provider has at least near_end_min_claims
//                      such claims within near_end_window_days
// A clean claim passes on its own: claim_status "passed" and, on creation,
// the workflow's "audit" action applied as the system (for orders written by
// a user; imports and demo data bring their own history). A flagged claim gets
// claim_status "flagged" and waits in the manual audit queue with every
// reason; an auditor (claim.audit) approves or rejects it with a comment.
//
// Tables: claim_audits (one row per audit run), claim_settings (one row).
// Routes: GET /api/v1/claims/queue, GET /api/v1/claims/{order_id},
// POST /api/v1/claims/{order_id}/decision, GET/PUT /api/v1/claims/settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/api.h"

namespace shouhou::claims {

api::Module module();

struct Settings {
  std::vector<std::string> claim_types{"repair"};
  int repeat_window_days = 30;
  int far_min_claims = 3, far_window_days = 30;
  int near_end_days = 15, near_end_min_claims = 3, near_end_window_days = 30;
  int64_t version = 1;
};

// What the audit knows about one claim (loaded from the order, the install
// base, the warranty check and earlier audits).
struct Facts {
  std::string claim_day;                  // YYYY-MM-DD, China date of the claim
  std::string serial;                     // "" = none on the order
  bool asset_known = false;
  bool owner_matches = false;
  std::optional<std::string> sale_date;   // YYYY-MM-DD
  std::vector<std::string> open_orders;   // numbers of other open orders for the serial
  std::vector<std::string> repeat_claims; // numbers of earlier claims, same serial and fault, in the window
  bool far = false;                       // asset province != site province
  int far_claims = 0;                     // provider's far claims in the window, this one included
  std::optional<int> days_to_end;         // days from the claim to the warranty's last day
  int near_end_claims = 0;                // provider's near-end claims in the window, this one included
};

struct Reason {
  std::string code;
  std::string message;  // zh-CN, for the queue
};
// Every rule the claim trips, in the order listed above (empty: clean).
std::vector<Reason> audit(const Facts& f, const Settings& s);

}  // namespace shouhou::claims
