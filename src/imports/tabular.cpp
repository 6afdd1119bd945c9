#include "imports/tabular.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace shouhou::imports {

namespace {

Error file_error(std::string msg) { return Error::invalid(std::move(msg), "file"); }

bool ends_with_ci(std::string_view s, std::string_view suf) {
  if (s.size() < suf.size()) return false;
  for (size_t i = 0; i < suf.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suf.size() + i])) != suf[i]) return false;
  return true;
}

// ---- CSV ------------------------------------------------------------------

class CsvSheet : public Sheet {
 public:
  CsvSheet(std::string_view data, char delim) : d_(data), delim_(delim) { total_ = count_records() - 1; }

  Result<bool> next(Record& out) override {
    out.cells.clear();
    if (pos_ >= d_.size()) return false;
    out.row = ++row_;
    std::string cell;
    bool quoted = false, was_quoted = false;
    while (pos_ < d_.size()) {
      char ch = d_[pos_++];
      if (quoted) {
        if (ch == '"') {
          if (pos_ < d_.size() && d_[pos_] == '"') {
            cell += '"';
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          cell += ch;
        }
        continue;
      }
      if (ch == '"' && !was_quoted && cell.empty()) {
        quoted = was_quoted = true;
      } else if (ch == delim_) {
        out.cells.push_back(std::move(cell));
        cell.clear();
        was_quoted = false;
      } else if (ch == '\n' || ch == '\r') {
        if (ch == '\r' && pos_ < d_.size() && d_[pos_] == '\n') ++pos_;
        out.cells.push_back(std::move(cell));
        return true;
      } else {
        cell += ch;
      }
    }
    if (quoted) return file_error("row " + std::to_string(out.row) + ": a quoted field is not closed before the end of the file");
    out.cells.push_back(std::move(cell));
    return true;
  }
  int64_t data_rows() const override { return std::max<int64_t>(total_, 0); }

 private:
  int64_t count_records() const {
    int64_t n = 0;
    bool quoted = false, any = false;
    for (size_t i = 0; i < d_.size(); ++i) {
      char ch = d_[i];
      any = true;
      if (ch == '"') quoted = !quoted;  // doubled quotes toggle twice
      else if (!quoted && (ch == '\n' || ch == '\r')) {
        if (ch == '\r' && i + 1 < d_.size() && d_[i + 1] == '\n') ++i;
        ++n;
        any = false;
      }
    }
    return n + (any ? 1 : 0);
  }
  std::string_view d_;
  char delim_;
  size_t pos_ = 0;
  int64_t row_ = 0, total_ = 0;
};

char sniff_delimiter(std::string_view d) {
  size_t comma = 0, semi = 0, tab = 0;
  bool quoted = false;
  for (char ch : d) {
    if (ch == '"') quoted = !quoted;
    if (quoted) continue;
    if (ch == '\n' || ch == '\r') break;
    comma += ch == ',';
    semi += ch == ';';
    tab += ch == '\t';
  }
  if (tab > comma && tab >= semi) return '\t';
  if (semi > comma) return ';';
  return ',';
}

// ---- ZIP ------------------------------------------------------------------

uint32_t u16(std::string_view d, size_t at) {
  return static_cast<unsigned char>(d[at]) | (static_cast<unsigned char>(d[at + 1]) << 8);
}
uint32_t u32(std::string_view d, size_t at) { return u16(d, at) | (u16(d, at + 2) << 16); }

constexpr size_t kMaxInflated = 512u << 20;  // one XML part of an upload

struct ZipEntry {
  uint32_t method = 0, csize = 0, usize = 0, local = 0;
};

Result<std::map<std::string, ZipEntry>> zip_directory(std::string_view d) {
  if (d.size() < 22) return file_error("not an XLSX file (too short for a ZIP archive)");
  size_t eocd = std::string_view::npos;
  size_t lowest = d.size() > 22 + 65535 ? d.size() - 22 - 65535 : 0;
  for (size_t i = d.size() - 22 + 1; i-- > lowest;)
    if (u32(d, i) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd == std::string_view::npos) return file_error("not an XLSX file (no ZIP directory)");
  uint32_t entries = u16(d, eocd + 10), cd_size = u32(d, eocd + 12), cd_off = u32(d, eocd + 16);
  if (cd_off == 0xffffffff || entries == 0xffff) return file_error("ZIP64 archives are not supported; save as a normal .xlsx");
  if (uint64_t(cd_off) + cd_size > d.size()) return file_error("damaged XLSX file (ZIP directory out of range)");
  std::map<std::string, ZipEntry> out;
  size_t p = cd_off;
  for (uint32_t k = 0; k < entries; ++k) {
    if (p + 46 > d.size() || u32(d, p) != 0x02014b50) return file_error("damaged XLSX file (ZIP directory entry)");
    ZipEntry e;
    e.method = u16(d, p + 10);
    e.csize = u32(d, p + 20);
    e.usize = u32(d, p + 24);
    uint32_t n = u16(d, p + 28), x = u16(d, p + 30), c = u16(d, p + 32);
    e.local = u32(d, p + 42);
    if (p + 46 + n > d.size()) return file_error("damaged XLSX file (ZIP entry name)");
    out[std::string(d.substr(p + 46, n))] = e;
    p += 46 + n + x + c;
  }
  return out;
}

Result<std::string> zip_read(std::string_view d, const ZipEntry& e, const std::string& name) {
  size_t p = e.local;
  if (p + 30 > d.size() || u32(d, p) != 0x04034b50) return file_error("damaged XLSX file (" + name + ")");
  size_t start = p + 30 + u16(d, p + 26) + u16(d, p + 28);
  if (start + e.csize > d.size()) return file_error("damaged XLSX file (" + name + " is cut short)");
  std::string_view raw = d.substr(start, e.csize);
  if (e.method == 0) return std::string(raw);
  if (e.method != 8) return file_error("XLSX part " + name + " uses an unsupported compression method");
  auto r = inflate_raw(raw, e.usize, kMaxInflated);
  if (!r) return file_error("damaged XLSX file (" + name + "): " + r.error().message);
  return std::move(*r);
}

// ---- XML scanning ---------------------------------------------------------

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x110000) {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void append_unescaped(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += '&';
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      uint32_t cp = 0;
      bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
      for (size_t k = hex ? 2 : 1; k < ent.size(); ++k) {
        char ch = ent[k];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : hex && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : hex && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (v < 0 || cp > 0x10FFFF) { cp = 0xFFFD; break; }
        cp = cp * (hex ? 16 : 10) + v;
      }
      append_utf8(out, cp);
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
}

// The value of attribute `name` in a start tag ("" if absent).
std::string_view attr(std::string_view tag, std::string_view name) {
  size_t at = 0;
  while ((at = tag.find(name, at)) != std::string_view::npos) {
    bool starts = at > 0 && (tag[at - 1] == ' ' || tag[at - 1] == '\t' || tag[at - 1] == '\n' || tag[at - 1] == '\r');
    size_t eq = at + name.size();
    if (starts && eq + 1 < tag.size() && tag[eq] == '=' && (tag[eq + 1] == '"' || tag[eq + 1] == '\'')) {
      char q = tag[eq + 1];
      size_t end = tag.find(q, eq + 2);
      if (end == std::string_view::npos) return {};
      return tag.substr(eq + 2, end - eq - 2);
    }
    at = eq;
  }
  return {};
}

// Text of every <t> element in s (rich-text runs concatenated), skipping
// phonetic guides (<rPh>).
std::string text_runs(std::string_view s) {
  std::string out;
  size_t p = 0;
  while ((p = s.find("<", p)) != std::string_view::npos) {
    if (s.compare(p, 4, "<rPh") == 0) {
      size_t e = s.find("</rPh>", p);
      if (e == std::string_view::npos) break;
      p = e + 6;
      continue;
    }
    if (s.compare(p, 2, "<t") == 0 && p + 2 < s.size() && (s[p + 2] == '>' || s[p + 2] == ' ')) {
      size_t gt = s.find('>', p);
      if (gt == std::string_view::npos) break;
      if (s[gt - 1] == '/') { p = gt + 1; continue; }
      size_t e = s.find("</t>", gt);
      if (e == std::string_view::npos) break;
      append_unescaped(out, s.substr(gt + 1, e - gt - 1));
      p = e + 4;
      continue;
    }
    ++p;
  }
  return out;
}

std::vector<std::string> shared_strings(std::string_view xml) {
  std::vector<std::string> out;
  size_t p = 0;
  while ((p = xml.find("<si", p)) != std::string_view::npos) {
    size_t gt = xml.find('>', p);
    if (gt == std::string_view::npos) break;
    if (xml[gt - 1] == '/') {
      out.emplace_back();
      p = gt + 1;
      continue;
    }
    size_t e = xml.find("</si>", gt);
    if (e == std::string_view::npos) break;
    out.push_back(text_runs(xml.substr(gt + 1, e - gt - 1)));
    p = e + 5;
  }
  return out;
}

// "BC12" -> column 54 (0-based), or -1.
int column_of(std::string_view ref) {
  int col = 0, n = 0;
  for (char ch : ref) {
    if (ch >= 'A' && ch <= 'Z') col = col * 26 + (ch - 'A' + 1), ++n;
    else if (ch >= 'a' && ch <= 'z') col = col * 26 + (ch - 'a' + 1), ++n;
    else break;
    if (col > 16384) return -1;
  }
  return n ? col - 1 : -1;
}

class XlsxSheet : public Sheet {
 public:
  std::vector<Record> rows;
  size_t at = 0;
  Result<bool> next(Record& out) override {
    if (at >= rows.size()) return false;
    out = std::move(rows[at++]);
    return true;
  }
  int64_t data_rows() const override {
    if (rows.empty()) return 0;
    return rows.back().row - rows.front().row;
  }
};

Result<void> parse_sheet(std::string_view xml, const std::vector<std::string>& sst, XlsxSheet& out) {
  size_t p = xml.find("<sheetData");
  if (p == std::string_view::npos) return {};
  int64_t next_row = 1;
  while ((p = xml.find("<row", p)) != std::string_view::npos) {
    if (p + 4 < xml.size() && xml[p + 4] != ' ' && xml[p + 4] != '>' && xml[p + 4] != '/') { p += 4; continue; }
    size_t gt = xml.find('>', p);
    if (gt == std::string_view::npos) return file_error("damaged worksheet XML (row tag)");
    std::string_view tag = xml.substr(p, gt - p);
    Record rec;
    auto r = attr(tag, "r");
    rec.row = r.empty() ? next_row : std::atoll(std::string(r).c_str());
    if (rec.row < next_row || rec.row > 10'000'000) return file_error("damaged worksheet XML (row number " + std::string(r) + ")");
    next_row = rec.row + 1;
    if (xml[gt - 1] == '/') {
      p = gt + 1;
      out.rows.push_back(std::move(rec));
      continue;
    }
    size_t end = xml.find("</row>", gt);
    if (end == std::string_view::npos) return file_error("damaged worksheet XML (row " + std::to_string(rec.row) + " not closed)");
    std::string_view body = xml.substr(gt + 1, end - gt - 1);
    size_t q = 0;
    int next_col = 0;
    while ((q = body.find("<c", q)) != std::string_view::npos) {
      if (q + 2 < body.size() && body[q + 2] != ' ' && body[q + 2] != '>' && body[q + 2] != '/') { q += 2; continue; }
      size_t cgt = body.find('>', q);
      if (cgt == std::string_view::npos) break;
      std::string_view ctag = body.substr(q, cgt - q);
      auto ref = attr(ctag, "r");
      int col = ref.empty() ? next_col : column_of(ref);
      if (col < 0 || col < next_col) return file_error("damaged worksheet XML (cell " + std::string(ref) + ")");
      next_col = col + 1;
      std::string value;
      if (body[cgt - 1] != '/') {
        size_t cend = body.find("</c>", cgt);
        if (cend == std::string_view::npos) return file_error("damaged worksheet XML (cell " + std::string(ref) + ")");
        std::string_view inner = body.substr(cgt + 1, cend - cgt - 1);
        auto type = attr(ctag, "t");
        if (type == "inlineStr") {
          value = text_runs(inner);
        } else {
          size_t v = inner.find("<v>");
          size_t ve = inner.find("</v>");
          std::string raw;
          if (v != std::string_view::npos && ve != std::string_view::npos && ve > v)
            append_unescaped(raw, inner.substr(v + 3, ve - v - 3));
          if (type == "s") {
            char* endp = nullptr;
            long idx = std::strtol(raw.c_str(), &endp, 10);
            if (raw.empty() || *endp || idx < 0 || static_cast<size_t>(idx) >= sst.size())
              return file_error("damaged XLSX file (cell " + std::string(ref) + " refers to a missing shared string)");
            value = sst[idx];
          } else if (type == "b") {
            value = raw == "1" ? "TRUE" : "FALSE";
          } else {
            value = std::move(raw);
          }
        }
        q = cend + 4;
      } else {
        q = cgt + 1;
      }
      if (rec.cells.size() < static_cast<size_t>(col)) rec.cells.resize(col);
      rec.cells.push_back(std::move(value));
    }
    out.rows.push_back(std::move(rec));
    p = end + 6;
  }
  return {};
}

}  // namespace

std::string deflate_raw(std::string_view data) {
  z_stream zs{};
  deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Result<std::string> inflate_raw(std::string_view data, size_t expected_size, size_t max_size) {
  if (expected_size > max_size) return Error{Error::Code::too_large, "an XLSX part inflates beyond the limit", "file"};
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return Error::internal("zlib inflateInit2 failed");
  std::string out;
  out.resize(expected_size ? expected_size : std::min<size_t>(data.size() * 4 + 1024, max_size));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (true) {
    if (zs.total_out >= out.size()) {
      if (out.size() >= max_size) {
        inflateEnd(&zs);
        return Error{Error::Code::too_large, "an XLSX part inflates beyond the limit", "file"};
      }
      out.resize(std::min(max_size, out.size() * 2));
    }
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + zs.total_out);
    zs.avail_out = static_cast<uInt>(out.size() - zs.total_out);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  size_t n = zs.total_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return Error::invalid("compressed data is damaged", "file");
  out.resize(n);
  return out;
}

std::string excel_serial_date(int64_t days) {
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  int64_t z = days - 25569 + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
  return buf;
}

std::string non_utf8_encoding(std::string_view s) {
  if (s.size() >= 2 && ((unsigned char)s[0] == 0xFF && (unsigned char)s[1] == 0xFE)) return "UTF-16LE";
  if (s.size() >= 2 && ((unsigned char)s[0] == 0xFE && (unsigned char)s[1] == 0xFF)) return "UTF-16BE";
  size_t i = 0, n = s.size();
  bool valid = true;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) { ++i; continue; }
    int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (!len || c == 0xC0 || c == 0xC1 || c > 0xF4 || i + len > n) { valid = false; break; }
    uint32_t cp = c & (0xFF >> (len + 1));
    for (int k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) { valid = false; break; }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!valid) break;
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      valid = false;
      break;
    }
    i += len;
  }
  if (valid) {
    if (s.find('\0') != std::string_view::npos) return "UTF-16";
    return "";
  }
  // GBK / GB18030: a lead byte 0x81-0xFE followed by 0x40-0xFE (not 0x7F),
  // or GB18030's four-byte form (lead, digit, lead, digit).
  bool gbk = true;
  for (size_t k = 0; k < n;) {
    unsigned char c = s[k];
    if (c < 0x80) { ++k; continue; }
    if (c == 0x80 || c == 0xFF || k + 1 >= n) { gbk = false; break; }
    unsigned char t = s[k + 1];
    if (t >= 0x30 && t <= 0x39 && k + 3 < n) { k += 4; continue; }
    if (t < 0x40 || t == 0x7F || t == 0xFF) { gbk = false; break; }
    k += 2;
  }
  return gbk ? "GBK/GB18030" : "Latin-1/Windows-1252";
}

Result<std::string> detect_format(std::string_view filename, std::string_view content) {
  if (ends_with_ci(filename, ".xlsx")) return std::string("xlsx");
  if (ends_with_ci(filename, ".csv") || ends_with_ci(filename, ".txt") || ends_with_ci(filename, ".tsv"))
    return std::string("csv");
  if (ends_with_ci(filename, ".xls"))
    return Error{Error::Code::unsupported, "old Excel .xls files are not supported: save as .xlsx or .csv", "filename"};
  if (content.size() >= 4 && content.substr(0, 4) == std::string_view("PK\3\4", 4)) return std::string("xlsx");
  if (!filename.empty() && filename.find('.') != std::string_view::npos)
    return Error{Error::Code::unsupported, "filename must end in .csv or .xlsx", "filename"};
  return std::string("csv");
}

Result<std::unique_ptr<Sheet>> open_csv(std::string_view data) {
  if (data.size() >= 3 && data.substr(0, 3) == "\xEF\xBB\xBF") data.remove_prefix(3);
  std::string enc = non_utf8_encoding(data);
  if (!enc.empty())
    return file_error("the file is not UTF-8 text (it looks like " + enc +
                      "); save it as \"CSV UTF-8\" (Excel: 另存为 CSV UTF-8) and upload again");
  if (data.find_first_not_of(" \t\r\n") == std::string_view::npos) return file_error("the file is empty");
  return std::unique_ptr<Sheet>(new CsvSheet(data, sniff_delimiter(data)));
}

Result<std::unique_ptr<Sheet>> open_xlsx(std::string_view data) {
  auto dir = TRY(zip_directory(data));
  std::vector<std::string> sst;
  if (auto it = dir.find("xl/sharedStrings.xml"); it != dir.end()) {
    std::string xml = TRY(zip_read(data, it->second, it->first));
    std::string enc = non_utf8_encoding(xml);
    if (!enc.empty()) return file_error("XLSX shared strings are not UTF-8 (" + enc + ")");
    sst = shared_strings(xml);
  }
  // The first worksheet: sheet1.xml, else the first one by name.
  auto it = dir.find("xl/worksheets/sheet1.xml");
  if (it == dir.end())
    for (auto i = dir.begin(); i != dir.end(); ++i)
      if (i->first.rfind("xl/worksheets/sheet", 0) == 0 && ends_with_ci(i->first, ".xml")) { it = i; break; }
  if (it == dir.end()) return file_error("not an XLSX workbook (no worksheet found)");
  std::string xml = TRY(zip_read(data, it->second, it->first));
  std::string enc = non_utf8_encoding(xml);
  if (!enc.empty()) return file_error("XLSX worksheet is not UTF-8 (" + enc + ")");
  auto sheet = std::make_unique<XlsxSheet>();
  TRY_VOID(parse_sheet(xml, sst, *sheet));
  if (sheet->rows.empty()) return file_error("the file is empty (the first worksheet has no rows)");
  return std::unique_ptr<Sheet>(std::move(sheet));
}

Result<std::unique_ptr<Sheet>> open_sheet(std::string_view format, std::string_view data) {
  if (format == "xlsx") return open_xlsx(data);
  return open_csv(data);
}

}  // namespace shouhou::imports
