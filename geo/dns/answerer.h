#pragma once
// How the transports hand a query to the answering code: bytes in, answer bytes out (empty: drop).
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace cdn::geo::dns {

using Answerer = std::function<std::string(const uint8_t* query, size_t len,
                                           const sockaddr_storage& from, bool over_tcp)>;

}  // namespace cdn::geo::dns
