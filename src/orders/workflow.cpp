#include "orders/workflow.h"

#include <algorithm>
#include <set>

#include "auth/permissions.h"
#include "core/input.h"
#include "orders/default_workflow.h"

namespace shouhou::orders::wf {

using nlohmann::json;

namespace {

bool valid_code(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

Result<std::string> code_field(const Input& in, const char* name) {
  std::string v = TRY(in.str(name, 40));
  if (!valid_code(v)) return Error::invalid(in.field(name) + " must be 1..40 of a-z, 0-9 and _", in.field(name));
  return v;
}

Result<std::vector<std::string>> code_list(const json& obj, const char* name, const std::string& field, bool required) {
  std::vector<std::string> out;
  if (!obj.contains(name) || obj[name].is_null()) {
    if (required) return Error::invalid(field + " is required", field);
    return out;
  }
  const json& a = obj[name];
  if (!a.is_array()) return Error::invalid(field + " must be an array of codes", field);
  if (a.size() > 50) return Error::invalid(field + " has more than 50 items", field);
  for (size_t i = 0; i < a.size(); ++i) {
    std::string f = field + "[" + std::to_string(i) + "]";
    if (!a[i].is_string() || !valid_code(a[i].get<std::string>()))
      return Error::invalid(f + " must be a code of a-z, 0-9 and _", f);
    if (std::find(out.begin(), out.end(), a[i].get<std::string>()) != out.end())
      return Error::invalid(f + " is listed twice", f);
    out.push_back(a[i].get<std::string>());
  }
  return out;
}

}  // namespace

Result<Definition> parse(const json& j, const std::vector<std::string>& known_order_types) {
  if (!j.is_object()) return Error::invalid("the workflow must be a JSON object", "body");
  Input in(j);
  Definition d;
  d.code = TRY(code_field(in, "code"));
  d.version = TRY(in.opt_integer("version", 1, 1'000'000)).value_or(1);
  d.name = TRY(in.opt_str("name", 100)).value_or(d.code);
  d.order_types = TRY(code_list(j, "order_types", "order_types", true));
  for (size_t i = 0; i < d.order_types.size(); ++i)
    if (std::find(known_order_types.begin(), known_order_types.end(), d.order_types[i]) == known_order_types.end())
      return Error::invalid("order_types[" + std::to_string(i) + "] is not an order type", "order_types[" + std::to_string(i) + "]");
  d.initial = TRY(code_field(in, "initial"));

  if (!j.contains("states") || !j["states"].is_array() || j["states"].empty())
    return Error::invalid("states must be a non-empty array", "states");
  if (j["states"].size() > 60) return Error::invalid("states has more than 60 items", "states");
  std::set<std::string> codes;
  for (size_t i = 0; i < j["states"].size(); ++i) {
    std::string f = "states[" + std::to_string(i) + "]";
    const json& s = j["states"][i];
    if (!s.is_object()) return Error::invalid(f + " must be an object", f);
    Input si(s, f);
    State st;
    st.code = TRY(code_field(si, "code"));
    if (!codes.insert(st.code).second) return Error::invalid(f + ".code " + st.code + " is listed twice", f + ".code");
    st.name = TRY(si.opt_str("name", 60)).value_or(st.code);
    st.name_en = TRY(si.opt_str("name_en", 60)).value_or(st.code);
    st.final = TRY(si.opt_boolean("final")).value_or(false);
    st.paused = TRY(si.opt_boolean("paused")).value_or(false);
    st.required_fields = TRY(code_list(s, "required_fields", f + ".required_fields", false));
    if (s.contains("timer") && !s["timer"].is_null()) {
      if (!s["timer"].is_object()) return Error::invalid(f + ".timer must be {minutes, action}", f + ".timer");
      Input ti(s["timer"], f + ".timer");
      st.timer_minutes = TRY(ti.integer("minutes", 1, 60 * 24 * 365));
      st.timer_action = TRY(code_field(ti, "action"));
    }
    d.states.push_back(std::move(st));
  }
  if (!codes.count(d.initial)) return Error::invalid("initial " + d.initial + " is not one of the states", "initial");

  if (!j.contains("transitions") || !j["transitions"].is_array())
    return Error::invalid("transitions must be an array", "transitions");
  if (j["transitions"].size() > 200) return Error::invalid("transitions has more than 200 items", "transitions");
  std::set<std::pair<std::string, std::string>> from_action;
  for (size_t i = 0; i < j["transitions"].size(); ++i) {
    std::string f = "transitions[" + std::to_string(i) + "]";
    const json& t = j["transitions"][i];
    if (!t.is_object()) return Error::invalid(f + " must be an object", f);
    Input ti(t, f);
    Transition tr;
    tr.action = TRY(code_field(ti, "action"));
    tr.name = TRY(ti.opt_str("name", 60)).value_or(tr.action);
    tr.name_en = TRY(ti.opt_str("name_en", 60)).value_or(tr.action);
    tr.from = TRY(code_list(t, "from", f + ".from", true));
    if (tr.from.empty()) return Error::invalid(f + ".from must list at least one state", f + ".from");
    for (size_t k = 0; k < tr.from.size(); ++k) {
      if (!codes.count(tr.from[k]))
        return Error::invalid(f + ".from[" + std::to_string(k) + "] " + tr.from[k] + " is not one of the states",
                              f + ".from[" + std::to_string(k) + "]");
      if (!from_action.insert({tr.from[k], tr.action}).second)
        return Error::invalid(f + ": action " + tr.action + " is already defined from state " + tr.from[k], f + ".action");
    }
    tr.to = TRY(code_field(ti, "to"));
    if (!codes.count(tr.to)) return Error::invalid(f + ".to " + tr.to + " is not one of the states", f + ".to");
    tr.permission = TRY(ti.str("permission", 60));
    if (!auth::is_permission(tr.permission))
      return Error::invalid(f + ".permission " + tr.permission + " is not a permission", f + ".permission");
    d.transitions.push_back(std::move(tr));
  }
  for (size_t i = 0; i < d.states.size(); ++i) {
    const State& st = d.states[i];
    if (!st.timer_action.empty() && !find_transition(d, st.code, st.timer_action))
      return Error::invalid("states[" + std::to_string(i) + "].timer.action " + st.timer_action +
                                " is not an action from state " + st.code, "states[" + std::to_string(i) + "].timer.action");
  }
  // Every state must be reachable from the initial one (a typo in a "to"
  // would otherwise strand orders).
  std::set<std::string> seen{d.initial};
  std::vector<std::string> todo{d.initial};
  while (!todo.empty()) {
    std::string s = todo.back();
    todo.pop_back();
    for (const auto* t : allowed(d, s))
      if (seen.insert(t->to).second) todo.push_back(t->to);
  }
  for (size_t i = 0; i < d.states.size(); ++i)
    if (!seen.count(d.states[i].code))
      return Error::invalid("state " + d.states[i].code + " cannot be reached from " + d.initial,
                            "states[" + std::to_string(i) + "].code");
  return d;
}

json to_json(const Definition& d) {
  json states = json::array(), trans = json::array();
  for (const auto& s : d.states) {
    json j{{"code", s.code}, {"name", s.name}, {"name_en", s.name_en}, {"final", s.final}, {"paused", s.paused},
           {"required_fields", s.required_fields}};
    j["timer"] = s.timer_minutes ? json{{"minutes", s.timer_minutes}, {"action", s.timer_action}} : json(nullptr);
    states.push_back(std::move(j));
  }
  for (const auto& t : d.transitions)
    trans.push_back(json{{"action", t.action}, {"name", t.name}, {"name_en", t.name_en}, {"from", t.from},
                         {"to", t.to}, {"permission", t.permission}});
  return json{{"code", d.code}, {"version", d.version}, {"name", d.name}, {"order_types", d.order_types},
              {"initial", d.initial}, {"states", states}, {"transitions", trans}};
}

const State* find_state(const Definition& d, std::string_view code) {
  for (const auto& s : d.states)
    if (s.code == code) return &s;
  return nullptr;
}

const Transition* find_transition(const Definition& d, std::string_view state, std::string_view action) {
  for (const auto& t : d.transitions)
    if (t.action == action && std::find(t.from.begin(), t.from.end(), state) != t.from.end()) return &t;
  return nullptr;
}

std::vector<const Transition*> allowed(const Definition& d, std::string_view state) {
  std::vector<const Transition*> out;
  for (const auto& t : d.transitions)
    if (std::find(t.from.begin(), t.from.end(), state) != t.from.end()) out.push_back(&t);
  return out;
}

std::vector<std::string> missing_fields(const State& st, const json& facts) {
  std::vector<std::string> out;
  for (const auto& f : st.required_fields) {
    auto it = facts.find(f);
    bool missing = it == facts.end() || it->is_null() || (it->is_string() && it->get<std::string>().empty()) ||
                   (it->is_array() && it->empty()) || (it->is_object() && it->empty()) ||
                   (it->is_number_integer() && it->get<int64_t>() == 0 && f.size() > 3 &&
                    f.compare(f.size() - 3, 3, "_id") == 0);
    if (missing) out.push_back(f);
  }
  return out;
}

const json& default_definitions() {
  static const json j = json::parse(kDefaultWorkflows);
  return j;
}

}  // namespace shouhou::orders::wf
