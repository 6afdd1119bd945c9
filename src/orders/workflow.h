// Workflows as data (工单流程): a definition lists states (with the fields an
// order needs to enter them, a timer, final/paused flags) and transitions
// (action, from states, target state, the permission needed). Pure code: no
// database; the module stores definitions in the workflows tables, one row
// per version, and orders keep the version they started on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace shouhou::orders::wf {

struct State {
  std::string code, name, name_en;
  bool final = false;
  bool paused = false;  // the SLA clock stops here (read by the SLA module)
  std::vector<std::string> required_fields;
  int64_t timer_minutes = 0;  // 0 = no timer
  std::string timer_action;   // applied by the system when the timer runs out
};

struct Transition {
  std::string action, name, name_en;
  std::vector<std::string> from;
  std::string to;
  std::string permission;
};

struct Definition {
  std::string code;
  int64_t version = 1;
  std::string name;
  std::vector<std::string> order_types;
  std::string initial;
  std::vector<State> states;
  std::vector<Transition> transitions;
};

// Checks a definition: codes are [a-z0-9_] (1..40), states unique, initial
// and every transition end are states, each action leads from a state to one
// target only, permissions are catalogued (`is_permission`), timer actions
// exist from their state, every non-final state is reachable. Errors name the
// JSON path ("states[2].code", "transitions[0].to").
Result<Definition> parse(const nlohmann::json& j, const std::vector<std::string>& known_order_types);
nlohmann::json to_json(const Definition& d);

const State* find_state(const Definition& d, std::string_view code);
// The transition for `action` out of `state`, or nullptr.
const Transition* find_transition(const Definition& d, std::string_view state, std::string_view action);
// Actions possible from `state`, in definition order.
std::vector<const Transition*> allowed(const Definition& d, std::string_view state);

// The required fields of `st` that `facts` lacks (null, "", [] or {} count as missing).
std::vector<std::string> missing_fields(const State& st, const nlohmann::json& facts);

// The built-in default flows, an array of definitions (see default_workflow.h).
const nlohmann::json& default_definitions();

}  // namespace shouhou::orders::wf
