#include "common/hls/mpd_rewrite.h"

#include "common/hls/uri_query.h"
#include "common/util/strings.h"

namespace cdn::hls {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The element name without a namespace prefix ("dash:BaseURL" → "BaseURL").
std::string_view local_name(std::string_view name) {
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// Path: a URL only when it is an absolute path on the MPD's own host ("/live/time"), which the
// edge serves under the same token; a clock elsewhere or a non-HTTP timing value is left alone.
enum class UrlKind { None, Plain, Template, Path };

UrlKind attribute_kind(std::string_view element, std::string_view attr) {
  if (element == "SegmentTemplate")
    return attr == "media" || attr == "initialization" || attr == "index" ? UrlKind::Template
                                                                          : UrlKind::None;
  if (element == "SegmentURL")
    return attr == "media" || attr == "index" ? UrlKind::Plain : UrlKind::None;
  if (element == "Initialization" || element == "RepresentationIndex")
    return attr == "sourceURL" ? UrlKind::Plain : UrlKind::None;
  if (element == "UTCTiming") return attr == "value" ? UrlKind::Path : UrlKind::None;
  return UrlKind::None;
}

bool text_is_url(std::string_view element) {
  return element == "BaseURL" || element == "Location";
}

class MpdRewriter {
 public:
  MpdRewriter(std::string_view in, std::string_view q)
      : in_(in), plain_(xml_escape(q, false)), templ_(xml_escape(q, true)) {
    out_.reserve(in.size() + 256);
  }

  std::string run() {
    while (pos_ < in_.size()) {
      size_t lt = in_.find('<', pos_);
      if (lt == std::string_view::npos) break;
      const size_t written = out_.size(), from = pos_;
      if (!markup(lt)) {
        out_.resize(written);  // not well-formed from here: the rest is copied as it is
        pos_ = from;
        break;
      }
    }
    out_ += in_.substr(pos_);
    return std::move(out_);
  }

 private:
  // Copies the text before `lt` (a URL when the open element says so) and the markup at `lt`;
  // false when the markup does not end.
  bool markup(size_t lt) {
    std::string_view text = in_.substr(pos_, lt - pos_);
    if (url_text_)
      write_url_text(text);
    else
      out_ += text;
    url_text_ = false;
    pos_ = lt;
    for (auto [open, close] :
         {std::pair{"<!--", "-->"}, {"<![CDATA[", "]]>"}, {"<?", "?>"}, {"<!", ">"}}) {
      if (!starts_with_at(lt, open)) continue;
      size_t end = in_.find(close, lt + std::string_view(open).size());
      if (end == std::string_view::npos) return false;
      end += std::string_view(close).size();
      out_ += in_.substr(lt, end - lt);
      pos_ = end;
      return true;
    }
    return element(lt);
  }

  bool starts_with_at(size_t at, std::string_view s) const { return in_.substr(at, s.size()) == s; }

  void write_url_text(std::string_view text) {
    size_t b = 0, e = text.size();
    while (b < e && is_space(text[b])) ++b;
    while (e > b && is_space(text[e - 1])) --e;
    out_ += text.substr(0, b);
    append_with_query(out_, text.substr(b, e - b), plain_, "&amp;");
    out_ += text.substr(e);
  }

  // A start or end tag at `lt`: the URL attributes of a start tag get the query.
  bool element(size_t lt) {
    size_t i = lt + 1;
    const bool end_tag = i < in_.size() && in_[i] == '/';
    if (end_tag) ++i;
    size_t name_begin = i;
    while (i < in_.size() && !is_space(in_[i]) && in_[i] != '>' && in_[i] != '/') ++i;
    std::string_view name = local_name(in_.substr(name_begin, i - name_begin));
    out_ += in_.substr(lt, i - lt);
    while (true) {
      while (i < in_.size() && is_space(in_[i])) out_ += in_[i++];
      if (i >= in_.size()) return false;
      if (in_[i] == '>' || (in_[i] == '/' && i + 1 < in_.size() && in_[i + 1] == '>')) {
        const bool self_closing = in_[i] == '/';
        out_ += self_closing ? "/>" : ">";
        pos_ = i + (self_closing ? 2 : 1);
        url_text_ = !end_tag && !self_closing && text_is_url(name);
        return true;
      }
      // name = "value" (or 'value')
      size_t attr_begin = i;
      while (i < in_.size() && in_[i] != '=' && !is_space(in_[i]) && in_[i] != '>') ++i;
      std::string_view attr = in_.substr(attr_begin, i - attr_begin);
      while (i < in_.size() && is_space(in_[i])) ++i;
      if (attr.empty() || i >= in_.size() || in_[i] != '=') return false;
      ++i;
      while (i < in_.size() && is_space(in_[i])) ++i;
      if (i >= in_.size() || (in_[i] != '"' && in_[i] != '\'')) return false;
      const char quote = in_[i];
      size_t close = in_.find(quote, i + 1);
      if (close == std::string_view::npos) return false;
      out_ += in_.substr(attr_begin, i + 1 - attr_begin);  // name, '=' and the opening quote
      std::string_view value = in_.substr(i + 1, close - i - 1);
      UrlKind kind = end_tag ? UrlKind::None : attribute_kind(name, local_name(attr));
      if (kind == UrlKind::Path && !(value.starts_with('/') && !value.starts_with("//"))) kind = UrlKind::None;
      if (kind == UrlKind::None)
        out_ += value;
      else
        append_with_query(out_, value, kind == UrlKind::Template ? templ_ : plain_, "&amp;");
      out_ += quote;
      i = close + 1;
    }
  }

  std::string_view in_;
  std::string plain_, templ_;  // the query, escaped for plain URLs and for templates
  std::string out_;
  size_t pos_ = 0;         // input copied up to here
  bool url_text_ = false;  // the text after the last start tag is a URL (BaseURL, Location)
};

}  // namespace

std::string rewrite_mpd_uris(std::string_view mpd, std::string_view q) {
  while (!q.empty() && (q.front() == '?' || q.front() == '&')) q.remove_prefix(1);
  if (q.empty()) return std::string(mpd);
  return MpdRewriter(mpd, q).run();
}

bool looks_like_xml(std::string_view body) {
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  size_t i = 0;
  while (i < body.size() && is_space(body[i])) ++i;
  return i < body.size() && body[i] == '<';
}

}  // namespace cdn::hls
