#pragma once
// How the transports hand a query to the answering code: bytes in, answer bytes written over `out`
// (empty: drop). `out` is the transport's reused buffer, so a steady load allocates no answers.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace cdn::geo::dns {

using Answerer = std::function<void(const uint8_t* query, size_t len, const sockaddr_storage& from,
                                    bool over_tcp, std::string& out)>;

}  // namespace cdn::geo::dns
