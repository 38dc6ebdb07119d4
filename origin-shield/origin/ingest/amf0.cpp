#include "origin-shield/origin/ingest/amf0.h"

#include <cstring>

namespace cdn::origin::ingest {

namespace {

constexpr int kMaxDepth = 16;
constexpr size_t kMaxElements = 4096;  // per container

enum Marker : uint8_t {
  kNumber = 0x00,
  kBoolean = 0x01,
  kString = 0x02,
  kObject = 0x03,
  kNull = 0x05,
  kUndefined = 0x06,
  kEcmaArray = 0x08,
  kObjectEnd = 0x09,
  kStrictArray = 0x0A,
  kDate = 0x0B,
  kLongString = 0x0C,
};

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool done() const { return pos_ >= d_.size(); }
  bool u8(uint8_t& v) {
    if (pos_ + 1 > d_.size()) return false;
    v = uint8_t(d_[pos_++]);
    return true;
  }
  bool be(size_t n, uint64_t& v) {
    if (pos_ + n > d_.size()) return false;
    v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | uint8_t(d_[pos_++]);
    return true;
  }
  bool bytes(size_t n, std::string& out) {
    if (pos_ + n > d_.size()) return false;
    out.assign(d_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool value(Amf0Value& v, int depth);
  bool members(Amf0Value& v, int depth);

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

bool Reader::members(Amf0Value& v, int depth) {
  for (;;) {
    uint64_t len;
    std::string key;
    if (!be(2, len) || !bytes(len, key)) return false;
    if (key.empty()) {
      uint8_t end;
      if (!u8(end)) return false;
      if (end == kObjectEnd) return true;
      --pos_;  // an empty key with a value (allowed, if odd)
    }
    if (v.object.size() >= kMaxElements) return false;
    Amf0Value member;
    if (!value(member, depth + 1)) return false;
    v.object.push_back(Amf0Member{std::move(key), std::move(member)});
  }
}

bool Reader::value(Amf0Value& v, int depth) {
  if (depth > kMaxDepth) return false;
  uint8_t marker;
  if (!u8(marker)) return false;
  uint64_t n;
  switch (marker) {
    case kNumber: {
      if (!be(8, n)) return false;
      v.type = Amf0Value::Type::Number;
      std::memcpy(&v.number, &n, sizeof n);
      return true;
    }
    case kBoolean: {
      uint8_t b;
      if (!u8(b)) return false;
      v.type = Amf0Value::Type::Boolean;
      v.boolean = b != 0;
      return true;
    }
    case kString:
    case kLongString:
      v.type = Amf0Value::Type::String;
      return be(marker == kString ? 2 : 4, n) && bytes(n, v.string);
    case kObject:
      v.type = Amf0Value::Type::Object;
      return members(v, depth);
    case kEcmaArray:
      v.type = Amf0Value::Type::Object;
      return be(4, n) && members(v, depth);  // the count is a hint; the end marker decides
    case kStrictArray: {
      if (!be(4, n) || n > kMaxElements) return false;
      v.type = Amf0Value::Type::Array;
      for (uint64_t i = 0; i < n; ++i) {
        Amf0Value item;
        if (!value(item, depth + 1)) return false;
        v.array.push_back(std::move(item));
      }
      return true;
    }
    case kDate:
      v.type = Amf0Value::Type::Number;
      return be(8, n) && be(2, n);  // ms since epoch + time zone: not needed by ingest
    case kNull:
      v.type = Amf0Value::Type::Null;
      return true;
    case kUndefined:
      v.type = Amf0Value::Type::Undefined;
      return true;
    default:
      return false;  // references, XML, typed objects, AMF3 switch: not used by publishers
  }
}

void put_be(std::string& out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(char((v >> (8 * i)) & 0xFF));
}

void put_key(std::string& out, const std::string& s) {
  put_be(out, s.size(), 2);
  out += s;
}

}  // namespace

Amf0Value Amf0Value::num(double v) {
  Amf0Value a;
  a.type = Type::Number;
  a.number = v;
  return a;
}

Amf0Value Amf0Value::str(std::string v) {
  Amf0Value a;
  a.type = Type::String;
  a.string = std::move(v);
  return a;
}

Amf0Value Amf0Value::null() {
  return Amf0Value{};
}

Amf0Value Amf0Value::obj(std::vector<Amf0Member> members) {
  Amf0Value a;
  a.type = Type::Object;
  a.object = std::move(members);
  return a;
}

const Amf0Value* Amf0Value::get(std::string_view key) const {
  for (auto& [k, v] : object)
    if (k == key) return &v;
  return nullptr;
}

std::optional<std::vector<Amf0Value>> amf0_decode(std::string_view data) {
  Reader r(data);
  std::vector<Amf0Value> out;
  while (!r.done()) {
    if (out.size() >= kMaxElements) return std::nullopt;
    Amf0Value v;
    if (!r.value(v, 0)) return std::nullopt;
    out.push_back(std::move(v));
  }
  return out;
}

void amf0_encode(const Amf0Value& v, std::string& out) {
  switch (v.type) {
    case Amf0Value::Type::Number: {
      uint64_t n;
      std::memcpy(&n, &v.number, sizeof n);
      out.push_back(char(kNumber));
      put_be(out, n, 8);
      return;
    }
    case Amf0Value::Type::Boolean:
      out.push_back(char(kBoolean));
      out.push_back(v.boolean ? 1 : 0);
      return;
    case Amf0Value::Type::String:
      if (v.string.size() > 0xFFFF) {
        out.push_back(char(kLongString));
        put_be(out, v.string.size(), 4);
      } else {
        out.push_back(char(kString));
        put_be(out, v.string.size(), 2);
      }
      out += v.string;
      return;
    case Amf0Value::Type::Object:
      out.push_back(char(kObject));
      for (auto& [k, m] : v.object) {
        put_key(out, k);
        amf0_encode(m, out);
      }
      out += std::string_view("\0\0\x09", 3);
      return;
    case Amf0Value::Type::Array:
      out.push_back(char(kStrictArray));
      put_be(out, v.array.size(), 4);
      for (auto& item : v.array) amf0_encode(item, out);
      return;
    case Amf0Value::Type::Null:
      out.push_back(char(kNull));
      return;
    case Amf0Value::Type::Undefined:
      out.push_back(char(kUndefined));
      return;
  }
}

}  // namespace cdn::origin::ingest
