#pragma once
// AMF0 (Adobe Action Message Format 0), the encoding of RTMP commands: numbers, booleans,
// strings, objects / ECMA arrays, strict arrays, null and undefined. Decoding is bounded (nesting
// depth, element count) and never reads past its input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cdn::origin::ingest {

struct Amf0Member;

struct Amf0Value {
  enum class Type { Number, Boolean, String, Object, Null, Undefined, Array };
  Type type = Type::Null;
  double number = 0;
  bool boolean = false;
  std::string string;
  std::vector<Amf0Member> object;  // Object and ECMA array members
  std::vector<Amf0Value> array;    // strict array

  static Amf0Value num(double v);
  static Amf0Value str(std::string v);
  static Amf0Value null();
  static Amf0Value obj(std::vector<Amf0Member> members);
  // The member's value, or nullptr (objects only).
  const Amf0Value* get(std::string_view key) const;
};

struct Amf0Member {
  std::string key;
  Amf0Value value;
};

// Every value in `data`, in order; nullopt when any is malformed or limits are exceeded.
std::optional<std::vector<Amf0Value>> amf0_decode(std::string_view data);
// Appends the encoding of v to out.
void amf0_encode(const Amf0Value& v, std::string& out);

}  // namespace cdn::origin::ingest
