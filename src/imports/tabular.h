// Reading uploaded tables: CSV (RFC 4180: quoted fields, doubled quotes,
// embedded newlines, optional UTF-8 BOM, comma / semicolon / tab) and XLSX
// (a ZIP of XML: xl/sharedStrings.xml + the first worksheet, inflated with
// zlib and scanned by a small parser, no XML library).
//
// Row numbers are what a spreadsheet shows: the header is row 1, the first
// data row is row 2 (for CSV, a record with embedded newlines is one row).
// Text must be UTF-8; a file in GBK/GB18030 or another encoding is refused
// with an error naming the encoding, so nothing is imported garbled.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace shouhou::imports {

struct Record {
  int64_t row = 0;                 // spreadsheet row number (header = 1)
  std::vector<std::string> cells;  // trimmed of a trailing '\r' only
};

// A table read one record at a time; the first record is the header.
class Sheet {
 public:
  virtual ~Sheet() = default;
  // false at the end. Errors name the field "file".
  virtual Result<bool> next(Record& out) = 0;
  // Data rows (records after the header, blank ones included), known up front.
  virtual int64_t data_rows() const = 0;
};

// "csv" or "xlsx" from a filename's extension, or from the content (a ZIP
// starts with "PK\3\4"); errors name "filename".
Result<std::string> detect_format(std::string_view filename, std::string_view content);

// The CSV reader keeps a reference to `data`: it must outlive the Sheet.
Result<std::unique_ptr<Sheet>> open_csv(std::string_view data);
Result<std::unique_ptr<Sheet>> open_xlsx(std::string_view data);
Result<std::unique_ptr<Sheet>> open_sheet(std::string_view format, std::string_view data);

// Why text is not UTF-8: "" when it is valid UTF-8, else a guess such as
// "GBK/GB18030" or "Latin-1/Windows-1252" or "UTF-16".
std::string non_utf8_encoding(std::string_view s);

// Excel's serial date (days since 1899-12-30) as YYYY-MM-DD.
std::string excel_serial_date(int64_t days);

// Raw DEFLATE, for tests that build a tiny XLSX: compress / inflate.
std::string deflate_raw(std::string_view data);
Result<std::string> inflate_raw(std::string_view data, size_t expected_size, size_t max_size);

}  // namespace shouhou::imports
