#pragma once
// A strict JSON reader for tests: validates one flat object (string, number, true/false/null
// values) and returns its members with strings decoded, or nullopt if the text is not valid
// JSON (including raw control characters and invalid UTF-8, which JSON forbids).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cdn::obs::testing {

class JsonObject {
 public:
  static std::optional<std::map<std::string, std::string>> parse(std::string_view s) {
    JsonObject p(s);
    std::map<std::string, std::string> out;
    p.ws();
    if (!p.eat('{')) return std::nullopt;
    p.ws();
    if (p.eat('}')) return p.end() ? std::optional(out) : std::nullopt;
    while (true) {
      p.ws();
      std::string key, value;
      if (!p.string(key)) return std::nullopt;
      p.ws();
      if (!p.eat(':')) return std::nullopt;
      p.ws();
      if (!p.value(value)) return std::nullopt;
      out[key] = value;
      p.ws();
      if (p.eat(',')) continue;
      if (p.eat('}')) return p.end() ? std::optional(out) : std::nullopt;
      return std::nullopt;
    }
  }

 private:
  explicit JsonObject(std::string_view s) : s_(s) {}
  bool end() {
    ws();
    return i_ == s_.size();
  }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool literal(std::string_view w, std::string& out) {
    if (s_.substr(i_, w.size()) != w) return false;
    out = w;
    i_ += w.size();
    return true;
  }
  bool value(std::string& out) {
    if (i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') return string(out);
    if (c == 't') return literal("true", out);
    if (c == 'f') return literal("false", out);
    if (c == 'n') return literal("null", out);
    size_t start = i_;
    eat('-');
    if (!digits()) return false;
    if (eat('.') && !digits()) return false;
    if ((eat('e') || eat('E')) && (eat('+') || eat('-') || true) && !digits()) return false;
    out = s_.substr(start, i_ - start);
    return true;
  }
  bool digits() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }
  bool hex4(uint32_t& cp) {
    if (i_ + 4 > s_.size()) return false;
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      char h = s_[i_++];
      int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
      if (d < 0) return false;
      cp = cp * 16 + uint32_t(d);
    }
    return true;
  }
  // Strict UTF-8 (no overlongs, surrogates or > U+10FFFF).
  bool utf8(std::string& out) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s_[k]); };
    unsigned char c = b(i_);
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (c < 0xC2 || c > 0xF4 || i_ + len > s_.size()) return false;
    uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < len; ++k) {
      if ((b(i_ + k) & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b(i_ + k) & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    out.append(s_.substr(i_, len));
    i_ += len;
    return true;
  }
  bool string(std::string& out) {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') return ++i_, true;
      if (c < 0x20) return false;
      if (c >= 0x80) {
        if (!utf8(out)) return false;
        continue;
      }
      ++i_;
      if (c != '\\') {
        out += char(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
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
          if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // the writer never needs surrogates
          put_utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace cdn::obs::testing
