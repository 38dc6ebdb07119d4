// What a reload reports: the keys only a restart applies, and the admin call's JSON.
#include "common/proxy/service_reload.h"

#include <gtest/gtest.h>

namespace cdn::proxy {
namespace {

TEST(ServiceReload, RestartOnlyChangesNameTheirKeys) {
  config::ServerConfig a;
  a.listen.push_back({{"127.0.0.1", 8080}, false});
  config::ServerConfig b = a;
  EXPECT_TRUE(restart_only_changes(a, b).empty());
  // What a reload applies is not listed.
  b.cache.default_ttls.push_back({"*.ts", 1000});
  b.services.push_back({});
  b.timeouts.upstream_connect_ms = 1;
  EXPECT_TRUE(restart_only_changes(a, b).empty());
  b.listen[0].tls = true;
  b.workers = 4;
  b.cache.disk_path = "/var/cache/cdn";
  b.admin.token = "other";
  EXPECT_EQ(restart_only_changes(a, b),
            (std::vector<std::string>{"listen", "workers", "admin.token", "cache.disk_path"}));
}

TEST(ServiceReload, OutcomeAsJson) {
  ReloadOutcome refused;
  refused.errors = {"edge.yaml:7: services[1].hosts: duplicate host \"a.test\""};
  EXPECT_EQ(to_json(refused),
            "{\"reloaded\":false,\"errors\":[\"edge.yaml:7: services[1].hosts: duplicate host "
            "\\\"a.test\\\"\"],"
            "\"needs_restart\":[],\"services\":[]}\n");
  ReloadOutcome ok;
  ok.ok = true;
  ok.needs_restart = {"listen"};
  ok.services = {"live", "vod"};
  EXPECT_EQ(to_json(ok),
            "{\"reloaded\":true,\"errors\":[],\"needs_restart\":[\"listen\"],\"services\":["
            "\"live\",\"vod\"]}\n");
}

}  // namespace
}  // namespace cdn::proxy
