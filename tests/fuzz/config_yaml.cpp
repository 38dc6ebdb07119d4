// libFuzzer target: any bytes given to the config loader must give a config or file:line errors,
// never a crash, a hang or an exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/config/parse_units.h"
#include "common/config/server_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = cdn::config::parse_server_config(text, "fuzz.yaml");
  if (!r.ok() && r.error().message.rfind("fuzz.yaml", 0) != 0) std::abort();  // errors name the file
  if (size < 64) {  // the scalar parsers on the raw bytes too
    (void)cdn::config::parse_duration_ms(text);
    (void)cdn::config::parse_size_bytes(text);
    if (auto hp = cdn::config::parse_host_port(text); hp.ok()) (void)hp->str();
  }
  return 0;
}
