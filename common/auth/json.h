#pragma once
// A small strict JSON reader/writer for JOSE headers, claims and JWKS. Input is hostile, so it is
// bounded (size, depth), rejects duplicate keys (RFC 8725 §3.7 / RFC 7515 §4) and invalid UTF-8.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/util/result.h"

namespace cdn::auth::json {

struct Member;
struct Value;
using Array = std::vector<Value>;
using Object = std::vector<Member>;  // keeps document order; keys are unique

struct Number {
  double d = 0;
  std::optional<int64_t> integer;  // set when written without fraction/exponent and in range
};

struct Value {
  std::variant<std::nullptr_t, bool, Number, std::string, Array, Object> v;

  bool is_null() const { return v.index() == 0; }
  const bool* as_bool() const { return std::get_if<bool>(&v); }
  const Number* as_number() const { return std::get_if<Number>(&v); }
  const std::string* as_string() const { return std::get_if<std::string>(&v); }
  const Array* as_array() const { return std::get_if<Array>(&v); }
  const Object* as_object() const { return std::get_if<Object>(&v); }
  Object* as_object() { return std::get_if<Object>(&v); }
  std::optional<int64_t> as_int() const;
  // Member lookup on an object; nullptr when absent or not an object.
  const Value* find(std::string_view key) const;
};

struct Member {
  std::string key;
  Value value;
};

struct Limits {
  size_t max_bytes = 64 * 1024;
  int max_depth = 16;
};

Result<Value> parse(std::string_view text, Limits limits = {});
std::string serialize(const Value& value);
std::string quote(std::string_view s);

// Replaces or appends `key` in an object value.
void set(Object& obj, std::string_view key, Value value);
void erase(Object& obj, std::string_view key);

}  // namespace cdn::auth::json
