#include "cdnctl/channel_cmd.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cdnctl/admin_client.h"
#include "common/auth/json.h"
#include "common/util/strings.h"

namespace cdn::ctl {

namespace json = auth::json;

namespace {

int usage() {
  fprintf(stderr,
          "usage: cdnctl channel COMMAND [--admin URL] [--token TOKEN] [--cacert FILE] [--cert FILE]\n"
          "                      [--client-key FILE]   (the origin's admin listener, see cdnctl)\n"
          "  list                                   channels, state, key fingerprint, renditions\n"
          "  add NAME --rendition R[,udp=HOST:PORT][,udp_backup=HOST:PORT] ... [--key KEY]\n"
          "                                         add a channel; without --key one is generated "
          "and printed\n"
          "  remove NAME                            end its streams (EXT-X-ENDLIST) and stop its "
          "ingest\n"
          "  rotate-key NAME [--key KEY]            new stream key (printed when generated); "
          "pushes with\n"
          "                                         the old key are cut and refused\n");
  return 2;
}

const std::string* string_at(const json::Value& v, std::string_view key) {
  const json::Value* m = v.find(key);
  return m ? m->as_string() : nullptr;
}

std::string field(const json::Value& v, std::string_view key) {
  if (const std::string* s = string_at(v, key)) return *s;
  const json::Value* m = v.find(key);
  if (m && m->as_int()) return std::to_string(*m->as_int());
  return "-";
}

// "720p,udp=127.0.0.1:5000,udp_backup=..." → {"name":"720p","udp":"127.0.0.1:5000",...}
std::optional<json::Value> rendition_arg(std::string_view arg) {
  json::Object o;
  auto parts = split(arg, ',');
  if (parts.empty() || parts[0].empty()) return std::nullopt;
  json::set(o, "name", json::Value{std::string(parts[0])});
  for (size_t i = 1; i < parts.size(); ++i) {
    auto eq = parts[i].find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string k(parts[i].substr(0, eq));
    if (k != "udp" && k != "udp_backup") return std::nullopt;
    json::set(o, k, json::Value{std::string(parts[i].substr(eq + 1))});
  }
  return json::Value{std::move(o)};
}

std::string list_report(const std::string& body) {
  auto doc = json::parse(body, {size_t(64) << 20, 16});
  const json::Value* channels = doc ? doc->find("channels") : nullptr;
  if (!channels || !channels->as_array()) return body;
  std::string out;
  for (const json::Value& c : *channels->as_array()) {
    out += field(c, "name") + "  " + field(c, "state") + "  source=" + field(c, "source");
    if (string_at(c, "key_fingerprint")) out += "  key=" + field(c, "key_fingerprint");
    out += "\n";
    const json::Value* rs = c.find("renditions");
    if (!rs || !rs->as_array()) continue;
    for (const json::Value& r : *rs->as_array()) {
      out += "  " + field(r, "name") + "  " + field(r, "state") +
             "  pushes=" + field(r, "http_pushes") + "  segments=" + field(r, "segments") +
             "  next_sequence=" + field(r, "next_sequence");
      if (string_at(r, "udp")) out += "  udp=" + field(r, "udp");
      if (string_at(r, "udp_backup")) out += "  udp_backup=" + field(r, "udp_backup");
      out += "\n";
    }
  }
  return out.empty() ? "no channels\n" : out;
}

}  // namespace

int channel_main(int argc, char** argv) {
  if (argc < 1) return usage();
  const std::string cmd = argv[0];
  auto admin = AdminTarget::from_env();
  std::string key;
  bool has_key = false;
  json::Array renditions;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (admin.take_option(argc, argv, i)) {
      continue;
    } else if (a == "--key" && i + 1 < argc) {
      key = argv[++i];
      has_key = true;
    } else if (a == "--rendition" && i + 1 < argc) {
      auto r = rendition_arg(argv[++i]);
      if (!r) {
        fprintf(
            stderr,
            "cdnctl channel: bad --rendition %s (NAME[,udp=HOST:PORT][,udp_backup=HOST:PORT])\n",
            argv[i]);
        return 2;
      }
      renditions.push_back(std::move(*r));
    } else if (a.rfind("--", 0) == 0) {
      return usage();
    } else {
      args.push_back(a);
    }
  }
  std::string method = "GET", path = "/admin/channels", body;
  if (cmd == "list") {
    if (!args.empty()) return usage();
  } else if (cmd == "add") {
    if (args.size() != 1 || renditions.empty()) return usage();
    json::Object o;
    json::set(o, "name", json::Value{args[0]});
    if (has_key) json::set(o, "stream_key", json::Value{key});
    json::set(o, "renditions", json::Value{std::move(renditions)});
    method = "POST";
    body = json::serialize(json::Value{std::move(o)});
  } else if (cmd == "remove") {
    if (args.size() != 1) return usage();
    method = "DELETE";
    path += "/" + percent_encode(args[0]);
  } else if (cmd == "rotate-key") {
    if (args.size() != 1) return usage();
    method = "POST";
    path += "/" + percent_encode(args[0]) + "/rotate-key";
    if (has_key) {
      json::Object o;
      json::set(o, "stream_key", json::Value{key});
      body = json::serialize(json::Value{std::move(o)});
    }
  } else {
    return usage();
  }
  auto r = admin_request(admin, method, path, body);
  if (!r) {
    fprintf(stderr, "cdnctl: %s\n", r.error().message.c_str());
    return 1;
  }
  if (r->status < 200 || r->status >= 300) {
    fwrite(r->body.data(), 1, r->body.size(), stderr);
    return 1;
  }
  std::string out = r->body;
  if (cmd == "list") {
    out = list_report(r->body);
  } else if (auto doc = json::parse(r->body)) {
    const std::string name = field(*doc, "name");
    if (cmd == "remove")
      out = "removed " + field(*doc, "removed") + "\n";
    else
      out = name + (cmd == "add" ? ": added" : ": key rotated") + ", key " +
            field(*doc, "key_fingerprint") + "\n";
    // A generated key is shown once, here: the origin keeps it but never lists it.
    if (const std::string* k = string_at(*doc, "stream_key")) out += "stream key: " + *k + "\n";
  }
  fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace cdn::ctl
