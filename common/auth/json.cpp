#include "common/auth/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cdn::auth::json {

std::optional<int64_t> Value::as_int() const {
  const Number* n = as_number();
  if (!n) return std::nullopt;
  return n->integer;
}

const Value* Value::find(std::string_view key) const {
  const Object* o = as_object();
  if (!o) return nullptr;
  for (const auto& m : *o)
    if (m.key == key) return &m.value;
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, Limits limits) : s_(text), limits_(limits) {}

  Result<Value> run() {
    if (s_.size() > limits_.max_bytes) return make_error("json: document too large");
    Value v;
    if (!value(v, 0)) return make_error("json: " + err_ + " at offset " + std::to_string(pos_));
    ws();
    if (pos_ != s_.size()) return make_error("json: trailing data at offset " + std::to_string(pos_));
    return v;
  }

 private:
  bool fail(const char* why) {
    if (err_.empty()) err_ = why;
    return false;
  }
  void ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail("bad literal");
    pos_ += word.size();
    return true;
  }

  bool value(Value& out, int depth) {
    if (depth > limits_.max_depth) return fail("nesting too deep");
    ws();
    if (pos_ >= s_.size()) return fail("unexpected end");
    char c = s_[pos_];
    switch (c) {
      case '{': return object(out, depth);
      case '[': return array(out, depth);
      case '"': {
        std::string str;
        if (!string(str)) return false;
        out.v = std::move(str);
        return true;
      }
      case 't': out.v = true; return literal("true");
      case 'f': out.v = false; return literal("false");
      case 'n': out.v = nullptr; return literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number(out);
        return fail("unexpected character");
    }
  }

  bool object(Value& out, int depth) {
    ++pos_;
    Object obj;
    ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      out.v = std::move(obj);
      return true;
    }
    while (true) {
      ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected key");
      std::string key;
      if (!string(key)) return false;
      for (const auto& m : obj)
        if (m.key == key) return fail("duplicate key");
      ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      Value v;
      if (!value(v, depth + 1)) return false;
      obj.push_back(Member{std::move(key), std::move(v)});
      ws();
      if (pos_ >= s_.size()) return fail("unexpected end");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == '}') { ++pos_; break; }
      return fail("expected ',' or '}'");
    }
    out.v = std::move(obj);
    return true;
  }

  bool array(Value& out, int depth) {
    ++pos_;
    Array arr;
    ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      out.v = std::move(arr);
      return true;
    }
    while (true) {
      Value v;
      if (!value(v, depth + 1)) return false;
      arr.push_back(std::move(v));
      ws();
      if (pos_ >= s_.size()) return fail("unexpected end");
      if (s_[pos_] == ',') { ++pos_; continue; }
      if (s_[pos_] == ']') { ++pos_; break; }
      return fail("expected ',' or ']'");
    }
    out.v = std::move(arr);
    return true;
  }

  bool number(Value& out) {
    size_t start = pos_;
    bool integral = true;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) return fail("bad number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && isdigit(s_[pos_])) ++pos_;
    } else {
      return fail("bad number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      integral = false;
      ++pos_;
      if (!digits()) return fail("bad fraction");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      integral = false;
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!digits()) return fail("bad exponent");
    }
    std::string_view text = s_.substr(start, pos_ - start);
    Number n;
    // strtod needs a terminated buffer; numbers are short so the copy is cheap.
    std::string buf(text);
    n.d = std::strtod(buf.c_str(), nullptr);
    if (!std::isfinite(n.d)) return fail("number out of range");
    if (integral) {
      int64_t i = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec == std::errc() && p == text.data() + text.size()) n.integer = i;
    }
    out.v = n;
    return true;
  }
  static bool isdigit(char c) { return c >= '0' && c <= '9'; }
  bool digits() {
    size_t start = pos_;
    while (pos_ < s_.size() && isdigit(s_[pos_])) ++pos_;
    return pos_ > start;
  }

  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return fail("bad \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(s_[pos_ + i]);
      if (h < 0) return fail("bad \\u escape");
      out = out << 4 | static_cast<uint32_t>(h);
    }
    pos_ += 4;
    return true;
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | cp >> 6);
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | cp >> 12);
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | cp >> 18);
      out += static_cast<char>(0x80 | (cp >> 12 & 0x3F));
      out += static_cast<char>(0x80 | (cp >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // Validates one raw UTF-8 sequence starting at pos_ (shortest form, no surrogates).
  bool utf8(std::string& out) {
    auto b = [&](size_t k) { return static_cast<uint8_t>(s_[k]); };
    uint8_t c = b(pos_);
    int len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return fail("invalid UTF-8");
    if (pos_ + static_cast<size_t>(len) > s_.size()) return fail("invalid UTF-8");
    for (int i = 1; i < len; ++i) {
      uint8_t cc = b(pos_ + static_cast<size_t>(i));
      if ((cc & 0xC0) != 0x80) return fail("invalid UTF-8");
      cp = cp << 6 | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return fail("invalid UTF-8");
    out.append(s_.substr(pos_, static_cast<size_t>(len)));
    pos_ += static_cast<size_t>(len);
    return true;
  }

  bool string(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      if (pos_ >= s_.size()) return fail("unterminated string");
      char c = s_[pos_];
      if (c == '"') { ++pos_; return true; }
      if (static_cast<uint8_t>(c) < 0x20) return fail("control character in string");
      if (static_cast<uint8_t>(c) >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      if (c != '\\') { out += c; ++pos_; continue; }
      if (++pos_ >= s_.size()) return fail("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone low surrogate");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (s_.substr(pos_, 2) != "\\u") return fail("lone high surrogate");
            pos_ += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(out, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
  }

  std::string_view s_;
  Limits limits_;
  size_t pos_ = 0;
  std::string err_;
};

void write(std::string& out, const Value& v) {
  if (v.is_null()) {
    out += "null";
  } else if (auto* b = v.as_bool()) {
    out += *b ? "true" : "false";
  } else if (auto* n = v.as_number()) {
    if (n->integer) {
      out += std::to_string(*n->integer);
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", n->d);
      out += buf;
    }
  } else if (auto* s = v.as_string()) {
    out += quote(*s);
  } else if (auto* a = v.as_array()) {
    out += '[';
    for (size_t i = 0; i < a->size(); ++i) {
      if (i) out += ',';
      write(out, (*a)[i]);
    }
    out += ']';
  } else if (auto* o = v.as_object()) {
    out += '{';
    for (size_t i = 0; i < o->size(); ++i) {
      if (i) out += ',';
      out += quote((*o)[i].key);
      out += ':';
      write(out, (*o)[i].value);
    }
    out += '}';
  }
}

}  // namespace

Result<Value> parse(std::string_view text, Limits limits) { return Parser(text, limits).run(); }

std::string serialize(const Value& value) {
  std::string out;
  write(out, value);
  return out;
}

std::string quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<uint8_t>(c) < 0x20) {
          out += "\\u00";
          out += kHex[static_cast<uint8_t>(c) >> 4];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void set(Object& obj, std::string_view key, Value value) {
  for (auto& m : obj)
    if (m.key == key) {
      m.value = std::move(value);
      return;
    }
  obj.push_back(Member{std::string(key), std::move(value)});
}

void erase(Object& obj, std::string_view key) {
  std::erase_if(obj, [&](const Member& m) { return m.key == key; });
}

}  // namespace cdn::auth::json
