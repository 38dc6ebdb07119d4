#pragma once
// Character classes of RFC 3986 and RFC 9110 shared by the target normalizer, the Host check and
// the head scanner.
namespace cdn::http {

constexpr bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

constexpr bool is_unreserved(unsigned char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

constexpr bool is_sub_delim(unsigned char c) {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// pchar without its pct-encoded alternative, which callers decode themselves.
constexpr bool is_pchar(unsigned char c) {
  return is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@';
}

// RFC 9110 §5.6.2 tchar: the bytes of a token such as a field name.
constexpr bool is_tchar(unsigned char c) {
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return is_alpha(c) || is_digit(c);
  }
}

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace cdn::http
