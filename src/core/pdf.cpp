#include "core/pdf.h"

#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace shouhou::pdf {

namespace {

// Advance widths (1/1000 em) of STSong-Light's proportional Latin glyphs,
// U+0020..U+007E (Adobe-GB1 CIDs 1..95, where UniGB-UCS2-H maps ASCII).
// Everything else is full width (the CIDFont's DW 1000).
constexpr int kAsciiWidths[95] = {
    207, 270, 342, 467, 462, 797, 710, 239, 374, 374, 423, 605, 238, 375, 238, 334,  // space .. /
    462, 462, 462, 462, 462, 462, 462, 462, 462, 462,                                // 0 .. 9
    238, 238, 605, 605, 605, 344, 748,                                               // : .. @
    684, 560, 695, 739, 563, 511, 729, 793, 318, 312, 666, 526, 896, 758, 772, 544,  // A .. P
    772, 628, 465, 607, 753, 711, 972, 647, 620, 607,                                // Q .. Z
    374, 333, 374, 606, 500, 239,                                                    // [ .. `
    417, 503, 427, 529, 415, 264, 444, 518, 241, 230, 495, 228, 793, 527, 524, 524,  // a .. p
    504, 338, 336, 277, 517, 450, 652, 466, 452, 407,                                // q .. z
    370, 258, 370, 605};                                                             // { .. ~

// Code points of UTF-8 text; malformed bytes and non-BMP characters become
// '?' (UCS-2 has no room for them), control characters a space.
std::vector<char16_t> ucs2(std::string_view s) {
  std::vector<char16_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0;
    size_t n = 0;
    if (b < 0x80) cp = b, n = 1;
    else if ((b & 0xE0) == 0xC0) cp = b & 0x1F, n = 2;
    else if ((b & 0xF0) == 0xE0) cp = b & 0x0F, n = 3;
    else if ((b & 0xF8) == 0xF0) cp = b & 0x07, n = 4;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {
      out.push_back(u'?');
      ++i;
      continue;
    }
    i += n;
    if (cp > 0xFFFF || (cp >= 0xD800 && cp <= 0xDFFF)) out.push_back(u'?');
    else if (cp < 0x20 && cp != '\n') out.push_back(u' ');
    else out.push_back(static_cast<char16_t>(cp));
  }
  return out;
}

double width_of(char16_t c) { return c >= 0x20 && c <= 0x7E ? kAsciiWidths[c - 0x20] : 1000; }

std::string encode_utf8(const std::vector<char16_t>& cs, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    char16_t c = cs[i];
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

std::string hex_string(std::string_view utf8) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out = "<";
  for (char16_t c : ucs2(utf8)) {
    if (c == u'\n') c = u' ';
    for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(c >> shift) & 0xF];
  }
  return out + ">";
}

double text_width(std::string_view utf8, double size) {
  double w = 0;
  for (char16_t c : ucs2(utf8)) w += width_of(c);
  return w * size / 1000;
}

std::vector<std::string> wrap(std::string_view utf8, double size, double max_width) {
  auto cs = ucs2(utf8);
  std::vector<std::string> lines;
  double limit = max_width * 1000 / size;
  size_t start = 0;
  while (start < cs.size()) {
    double w = 0;
    size_t i = start, last_space = std::string::npos;
    for (; i < cs.size() && cs[i] != u'\n'; ++i) {
      if (w + width_of(cs[i]) > limit && i > start) break;
      w += width_of(cs[i]);
      if (cs[i] == u' ') last_space = i;
    }
    size_t end = i, next = i;
    if (i < cs.size() && (cs[i] == u'\n' || cs[i] == u' ')) {
      next = i + 1;
    } else if (i < cs.size() && last_space != std::string::npos && last_space > start &&
               cs[i] < 0x80 && cs[i - 1] < 0x80) {
      // Breaking inside a Latin word: break at its space instead.
      end = last_space;
      next = last_space + 1;
    }
    lines.push_back(encode_utf8(cs, start, end));
    start = next;
  }
  if (lines.empty()) lines.emplace_back();
  return lines;
}

std::string& Writer::page() {
  if (pages_.empty()) new_page();
  return pages_[current_];
}

void Writer::new_page() {
  pages_.emplace_back();
  current_ = pages_.size() - 1;
}

void Writer::text(double x, double y, double size, std::string_view utf8) {
  if (utf8.empty()) return;
  page() += "BT /F1 " + num(size) + " Tf " + num(x) + " " + num(kPageHeight - y) + " Td " + hex_string(utf8) + " Tj ET\n";
}

void Writer::line(double x1, double y1, double x2, double y2, double width) {
  page() += num(width) + " w " + num(x1) + " " + num(kPageHeight - y1) + " m " + num(x2) + " " + num(kPageHeight - y2) +
            " l S\n";
}

void Writer::fill_rect(double x, double y, double w, double h, double gray) {
  page() += num(gray) + " g " + num(x) + " " + num(kPageHeight - y - h) + " " + num(w) + " " + num(h) + " re f 0 g\n";
}

std::string Writer::finish(std::string_view title) const {
  std::vector<std::string> pages = pages_;
  if (pages.empty()) pages.emplace_back();
  // Objects: 1 catalog, 2 page tree, 3 Type0 font, 4 CIDFont, 5 descriptor,
  // 6 info, then each page and its content stream.
  std::vector<std::string> objs;
  std::string kids;
  for (size_t i = 0; i < pages.size(); ++i) kids += std::to_string(7 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages.size()) + " >>");
  objs.push_back("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
                 "/DescendantFonts [4 0 R] >>");
  std::string widths;
  for (int w : kAsciiWidths) widths += std::to_string(w) + " ";
  objs.push_back("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
                 "/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
                 "/FontDescriptor 5 0 R /DW 1000 /W [1 [" + widths + "]] >>");
  objs.push_back("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
                 "/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>");
  objs.push_back("<< /Title " + hex_string(title).insert(1, "FEFF") + " /Producer (Shouhou) >>");
  for (size_t i = 0; i < pages.size(); ++i) {
    objs.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + num(kPageWidth) + " " + num(kPageHeight) +
                   "] /Resources << /Font << /F1 3 0 R >> >> /Contents " + std::to_string(8 + 2 * i) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(pages[i].size()) + " >>\nstream\n" + pages[i] + "endstream");
  }
  // A binary comment line after the header tells transfer tools the file is binary.
  std::string out = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%010zu 00000 n \n", off);
    out += buf;
  }
  out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R /Info 6 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return out;
}

namespace {
Result<size_t> check_skeleton(std::string_view f) {
  auto bad = [](const std::string& what) { return Error::invalid("not a well-formed PDF: " + what, "pdf"); };
  if (f.substr(0, 7) != "%PDF-1.") return bad("no %PDF-1.x header");
  size_t eof = f.rfind("%%EOF");
  if (eof == std::string_view::npos || f.size() - eof > 7) return bad("no %%EOF at the end");
  size_t sx = f.rfind("startxref\n", eof);
  if (sx == std::string_view::npos) return bad("no startxref");
  size_t xref = 0;
  try {
    xref = std::stoul(std::string(f.substr(sx + 10, eof - sx - 10)));
  } catch (...) {
    return bad("startxref is not a number");
  }
  if (f.substr(xref, 5) != "xref\n") return bad("startxref does not point at the xref table");
  size_t pos = xref + 5, eol = f.find('\n', pos);
  unsigned first = 0, count = 0;
  if (eol == std::string_view::npos ||
      std::sscanf(std::string(f.substr(pos, eol - pos)).c_str(), "%u %u", &first, &count) != 2 || first != 0 || count < 2)
    return bad("bad xref subsection header");
  pos = eol + 1;
  for (unsigned n = 0; n < count; ++n, pos += 20) {
    if (pos + 20 > f.size()) return bad("xref table is cut short");
    std::string entry(f.substr(pos, 20));
    if (entry[10] != ' ' || entry[16] != ' ' || entry[18] != ' ' || entry[19] != '\n') return bad("bad xref entry " + std::to_string(n));
    if (entry[17] == 'f') continue;
    if (entry[17] != 'n') return bad("bad xref entry " + std::to_string(n));
    size_t off = std::stoul(entry.substr(0, 10));
    std::string head = std::to_string(n) + " 0 obj";
    if (off >= xref || f.substr(off, head.size()) != head) return bad("xref offset of object " + std::to_string(n) + " is wrong");
  }
  if (f.substr(pos, 7) != "trailer") return bad("no trailer after the xref table");
  size_t size_at = f.find("/Size ", pos);
  if (size_at == std::string_view::npos || std::stoul(std::string(f.substr(size_at + 6, 10))) != count)
    return bad("trailer /Size does not match the xref table");
  if (f.find("/Root ", pos) == std::string_view::npos) return bad("trailer has no /Root");
  return static_cast<size_t>(count - 1);
}
}  // namespace

Result<size_t> check_structure(std::string_view file) {
  try {
    return check_skeleton(file);
  } catch (const std::exception&) {  // std::stoul on garbage
    return Error::invalid("not a well-formed PDF: unreadable number", "pdf");
  }
}

}  // namespace shouhou::pdf
