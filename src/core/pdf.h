// A small PDF 1.4 writer for printable documents (service reports,
// statements): A4 pages with text, lines and grey boxes; no dependency.
//
// Text uses the standard CJK font STSong-Light with the UniGB-UCS2-H
// encoding (Adobe-GB1): PDF readers supply the font, nothing is embedded, so
// Chinese prints and files stay small. Strings are written as UTF-16BE hex
// (<4E2D6587>); characters outside the BMP become '?'. Content streams are
// not compressed, so tests can find text by its hex form.
//
// Coordinates are points (1/72 inch) from the page's top-left corner; y grows
// downwards (the writer flips to PDF's bottom-left origin).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace shouhou::pdf {

inline constexpr double kPageWidth = 595.28, kPageHeight = 841.89;  // A4

class Writer {
 public:
  // Starts a new page; drawing goes to the last page started.
  void new_page();
  size_t page_count() const { return pages_.size(); }
  // Draws on an earlier page from now on (e.g. "page 1 of n" footers).
  void go_to_page(size_t index) { current_ = index < pages_.size() ? index : current_; }
  // Text with its baseline at y.
  void text(double x, double y, double size, std::string_view utf8);
  void line(double x1, double y1, double x2, double y2, double width = 0.5);
  // A filled rectangle, gray 0 (black) .. 1 (white).
  void fill_rect(double x, double y, double w, double h, double gray);
  // The whole file: header, objects, cross-reference table with the byte
  // offset of every object, trailer. title goes into the document info.
  std::string finish(std::string_view title) const;

 private:
  std::string& page();
  std::vector<std::string> pages_;  // content streams
  size_t current_ = 0;
};

// Width of the text in STSong-Light at this size (proportional Latin,
// full-width CJK).
double text_width(std::string_view utf8, double size);
// The text broken into lines no wider than max_width (at any character,
// preferring spaces; explicit newlines kept). Never empty.
std::vector<std::string> wrap(std::string_view utf8, double size, double max_width);
// Checks a file's skeleton the way a reader finds its objects: the header,
// startxref pointing at the xref table, each in-use entry's byte offset at
// "<n> 0 obj", the trailer and %%EOF. Returns the number of objects; the
// error names what is wrong. For tests and diagnostics.
Result<size_t> check_structure(std::string_view file);
// "<...>": the text as a UTF-16BE hex string for UniGB-UCS2-H.
std::string hex_string(std::string_view utf8);

}  // namespace shouhou::pdf
