#pragma once
// RFC 8216 §4.2 attribute lists: NAME=VALUE pairs separated by commas, where a quoted-string may
// itself contain commas. Shared by the parser and the URI rewriter so both agree on the grammar.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace cdn::hls {

struct Attribute {
  std::string_view name;
  std::string_view value;  // without the quotes when quoted
  bool quoted = false;
  size_t value_offset = 0;  // where value starts inside the scanned text
};

// Walks an attribute list one attribute at a time; no allocation.
class AttributeReader {
 public:
  explicit AttributeReader(std::string_view text) : text_(text) {}
  // False at the end or on malformed input (then malformed() says which).
  bool next(Attribute& out);
  bool malformed() const { return malformed_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  bool malformed_ = false;
};

std::optional<double> parse_decimal(std::string_view s);
std::optional<uint64_t> parse_unsigned(std::string_view s);

// Shortest text that parses back to the same value at millisecond precision ("2", "2.5", "6.006").
std::string format_decimal(double v);

}  // namespace cdn::hls
