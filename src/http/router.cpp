// Transport-independent parts of the HTTP surface: headers, request helpers,
// responses, error mapping, routing and URL decoding. No Beast/Asio here, so
// modules' tests can use all of this without a socket.
#include "http/http.h"

#include <array>
#include <cstring>

namespace shouhou::http {

namespace {

char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}

std::string lowered(std::string s) {
  for (char& c : s) c = lower_ascii(c);
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_param(std::string_view seg) { return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}'; }

// Routes never have more segments than this; longer paths simply match nothing.
constexpr size_t kMaxSegments = 32;

// Splits "/a/b/c" into {"a","b","c"}; empty segments ("//", trailing "/") are
// skipped so "/x/" and "/x" route alike. Returns SIZE_MAX when too deep.
size_t split_path(std::string_view path, std::array<std::string_view, kMaxSegments>& out) {
  size_t n = 0;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (n == kMaxSegments) return SIZE_MAX;
    out[n++] = path.substr(i, j - i);
    i = j;
  }
  return n;
}

// JSON nested deeper than this is refused before parsing: handlers dump and
// walk bodies recursively, and a body of 100k '[' would blow the stack.
constexpr int kMaxJsonDepth = 128;

bool json_too_deep(std::string_view s) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : s) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) return true;
    } else if (c == '}' || c == ']') --depth;
  }
  return false;
}

}  // namespace

// ---- Headers ---------------------------------------------------------------

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& [k, v] : items)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

void Headers::set(std::string name, std::string value) {
  name = lowered(std::move(name));
  bool placed = false;
  for (auto it = items.begin(); it != items.end();) {
    if (it->first == name) {
      if (placed) {
        it = items.erase(it);
        continue;
      }
      it->second = std::move(value);
      placed = true;
    }
    ++it;
  }
  if (!placed) items.emplace_back(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) { items.emplace_back(lowered(std::move(name)), std::move(value)); }

// ---- Request ---------------------------------------------------------------

std::optional<std::string> Request::cookie(std::string_view name) const {
  for (const auto& [k, v] : headers.items) {
    if (k != "cookie") continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || trim(pair.substr(0, eq)) != name) continue;
      std::string_view val = trim(pair.substr(eq + 1));
      if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
      return std::string(val);
    }
  }
  return std::nullopt;
}

std::optional<std::string> Request::q(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Result<json> Request::json_body() const {
  if (body.empty()) return Error::invalid("request body must be a JSON object", "body");
  if (!valid_utf8(body)) return Error::invalid("body is not valid UTF-8", "body");
  if (json_too_deep(body)) return Error::invalid("body nests too deeply", "body");
  json j;
  try {
    j = json::parse(body);
  } catch (const json::parse_error& e) {
    return Error::invalid("body is not valid JSON (syntax error at byte " + std::to_string(e.byte) + ")", "body");
  } catch (const json::exception&) {
    return Error::invalid("body is not valid JSON", "body");
  }
  if (!j.is_object()) return Error::invalid("request body must be a JSON object", "body");
  return j;
}

// ---- Response --------------------------------------------------------------

Response Response::make_json(const json& j, int status) {
  Response r;
  r.status = status;
  // replace, not throw: a stray invalid byte in stored data must not turn a
  // read into a 500.
  r.body = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

Response Response::error(const Error& e) {
  json err{{"code", code_name(e.code)}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  return make_json(json{{"error", std::move(err)}}, status_for(e.code));
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

int status_for(Error::Code c) {
  switch (c) {
    case Error::Code::invalid: return 400;
    case Error::Code::unauthorized: return 401;
    case Error::Code::forbidden: return 403;
    case Error::Code::not_found: return 404;
    case Error::Code::conflict: return 409;
    case Error::Code::too_large: return 413;
    case Error::Code::unsupported: return 415;
    case Error::Code::rate_limited: return 429;
    case Error::Code::unavailable: return 503;
    case Error::Code::internal: return 500;
  }
  return 500;
}

// ---- Router ----------------------------------------------------------------

Route& Router::add(std::string method, std::string pattern, Handler h, RouteDoc doc) {
  auto r = std::make_unique<Route>();
  r->method = std::move(method);
  r->pattern = std::move(pattern);
  r->handler = std::move(h);
  r->doc = std::move(doc);
  std::array<std::string_view, kMaxSegments> segs;
  size_t n = split_path(r->pattern, segs);
  if (n == SIZE_MAX) n = 0;  // absurd pattern: matches only "/"; never happens in practice
  r->segments.assign(segs.begin(), segs.begin() + static_cast<std::ptrdiff_t>(n));
  routes_.push_back(std::move(r));
  return *routes_.back();
}

size_t Router::max_route_body() const {
  size_t m = 0;
  for (const auto& r : routes_) m = std::max(m, r->max_body_bytes);
  return m;
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
  Match m;
  std::array<std::string_view, kMaxSegments> segs;
  size_t n = split_path(path, segs);
  if (n == SIZE_MAX) return m;
  // A linear scan is fine for a few hundred routes: the segment-count check
  // rejects most at once and nothing here allocates. Specificity is a bit
  // string with the first segment most significant, so "/orders/new" beats
  // "/orders/{id}" but only among routes with the request's method.
  const Route* best = nullptr;
  uint64_t best_score = 0;
  for (const auto& rp : routes_) {
    const Route& r = *rp;
    if (r.segments.size() != n) continue;
    uint64_t score = 0;
    bool ok = true;
    for (size_t i = 0; i < n; ++i) {
      const std::string& ps = r.segments[i];
      if (is_param(ps)) {
        score <<= 1;
      } else if (ps == segs[i]) {
        score = (score << 1) | 1;
      } else {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    m.path_known = true;
    if (r.method != method) continue;
    if (!best || score > best_score) {
      best = &r;
      best_score = score;
    }
  }
  if (best) {
    m.route = best;
    for (size_t i = 0; i < n; ++i) {
      const std::string& ps = best->segments[i];
      if (is_param(ps)) m.params.emplace(ps.substr(1, ps.size() - 2), std::string(segs[i]));
    }
  }
  return m;
}

std::vector<std::string> Router::allowed_methods(std::string_view path) const {
  std::vector<std::string> out;
  std::array<std::string_view, kMaxSegments> segs;
  size_t n = split_path(path, segs);
  if (n == SIZE_MAX) return out;
  auto add_unique = [&](const std::string& m) {
    for (const auto& x : out)
      if (x == m) return;
    out.push_back(m);
  };
  for (const auto& rp : routes_) {
    const Route& r = *rp;
    if (r.segments.size() != n) continue;
    bool ok = true;
    for (size_t i = 0; i < n && ok; ++i) ok = is_param(r.segments[i]) || r.segments[i] == segs[i];
    if (!ok) continue;
    add_unique(r.method);
    if (r.method == "GET") add_unique("HEAD");  // the server answers HEAD for every GET route
  }
  return out;
}

namespace {
// One link of the middleware chain. Captures two words so std::function keeps
// it in its small buffer: dispatch allocates nothing per request.
struct Chain {
  const std::vector<Router::Middleware>* mw;
  const Route* route;
};
}  // namespace

Response Router::dispatch(Request& req, const Route& route) const {
  if (middleware_.empty()) return route.handler(req);
  Chain chain{&middleware_, &route};
  // next(i) runs middleware i, or the handler once they are all done.
  struct Next {
    const Chain* c;
    size_t i;
    Response operator()(Request& r) const {
      if (i == c->mw->size()) return c->route->handler(r);
      Handler next = Next{c, i + 1};
      return (*c->mw)[i](r, *c->route, next);
    }
  };
  return Next{&chain, 0}(req);
}

// ---- URL helpers -----------------------------------------------------------

std::string url_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    // A '%' not followed by two hex digits is kept literally, as browsers do.
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view q) {
  std::map<std::string, std::string> out;
  if (!q.empty() && q.front() == '?') q.remove_prefix(1);
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    if (key.empty()) continue;
    std::string val = eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
    // First occurrence wins: a later duplicate cannot override what a proxy
    // or an earlier check already looked at.
    out.emplace(std::move(key), std::move(val));
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII fast path, eight bytes at a time.
    if (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0) lo = 0xA0;        // overlong
      else if (c == 0xED) hi = 0x9F;   // UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0) lo = 0x90;        // overlong
      else if (c == 0xF4) hi = 0x8F;   // > U+10FFFF
    } else {
      return false;  // continuation byte, C0/C1 overlongs, F5..FF
    }
    if (static_cast<size_t>(end - p) <= need) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (size_t k = 2; k <= need; ++k)
      if ((p[k] & 0xC0) != 0x80) return false;
    p += need + 1;
  }
  return true;
}

}  // namespace shouhou::http
