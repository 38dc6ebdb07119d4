// cdnctl: the operator's command line for a fleet's nodes (purge, drain, health, viewer sessions),
// the origin's live channels, and viewer tokens (sign, verify, keygen).
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cdnctl/admin_client.h"
#include "cdnctl/channel_cmd.h"
#include "cdnctl/purge_report.h"
#include "common/util/strings.h"
#include "cdnctl/token_cmd.h"

namespace {

int usage() {
  fprintf(stderr,
          "usage: cdnctl COMMAND [options]\n"
          "  purge [--prefix] URL   remove a URL (or every URL under a prefix) from a node's cache\n"
          "                         and its upstream tier's (purge.upstream_admins); prints each tier's\n"
          "                         result and fails if any tier did not confirm\n"
          "  purge --key KEY        remove every object tagged KEY (Surrogate-Key / Cache-Tag)\n"
          "        [--soft]         mark stale instead of removing: the next request revalidates\n"
          "        [--fleet]        through Redis to every node (purge.redis); fails if the node has\n"
          "                         no fleet or not every live node applied it in time\n"
          "  drain                  stop taking new connections and finish in-flight requests\n"
          "  health                 print the node's /healthz\n"
          "  metrics                print the node's /metrics\n"
          "  sessions SUB           list a viewer's stream sessions (edge)\n"
          "  kick SUB SID           end a viewer's stream session (edge)\n"
          "  token sign|verify|keygen ...   viewer tokens (cdnctl token for details)\n"
          "  channel list|add|remove|rotate-key ...   the origin's live channels (see cdnctl channel)\n"
          "options:\n%s",
          cdn::ctl::kAdminOptionsUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  std::string cmd = argv[1];
  if (cmd == "token") return cdn::ctl::token_main(argc - 2, argv + 2);
  if (cmd == "channel") return cdn::ctl::channel_main(argc - 2, argv + 2);
  auto admin = cdn::ctl::AdminTarget::from_env();
  bool prefix = false, key = false, soft = false, fleet = false;
  std::vector<std::string> args;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (admin.take_option(argc, argv, i)) continue;
    if (a == "--prefix") prefix = true;
    else if (a == "--key") key = true;
    else if (a == "--soft") soft = true;
    else if (a == "--fleet") fleet = true;
    else if (a.rfind("--", 0) == 0) return usage();
    else args.push_back(a);
  }
  std::string method = "GET", path;
  if (cmd == "purge") {
    if (args.size() != 1 || (prefix && key)) return usage();
    method = "POST";
    path = std::string("/admin/purge?") + (prefix ? "prefix=" : key ? "key=" : "url=") +
           cdn::percent_encode(args[0]) + (soft ? "&soft=1" : "") + (fleet ? "&fleet=1" : "");
  } else if (cmd == "drain") {
    method = "POST";
    path = "/admin/drain";
  } else if (cmd == "health") {
    path = "/healthz";
  } else if (cmd == "metrics") {
    path = "/metrics";
  } else if (cmd == "sessions") {
    if (args.size() != 1) return usage();
    path = "/admin/sessions?sub=" + cdn::percent_encode(args[0]);
  } else if (cmd == "kick") {
    if (args.size() != 2) return usage();
    method = "POST";
    path = "/admin/sessions/kick?sub=" + cdn::percent_encode(args[0]) + "&sid=" + cdn::percent_encode(args[1]);
  } else {
    return usage();
  }
  auto r = cdn::ctl::admin_request(admin, method, path);
  if (!r) {
    fprintf(stderr, "cdnctl: %s\n", r.error().message.c_str());
    return 1;
  }
  std::string report = cmd == "purge" ? cdn::ctl::purge_report(r->body) : std::string();
  const std::string& out = report.empty() ? r->body : report;
  fwrite(out.data(), 1, out.size(), r->status >= 400 ? stderr : stdout);
  return r->status >= 200 && r->status < 300 ? 0 : 1;
}
