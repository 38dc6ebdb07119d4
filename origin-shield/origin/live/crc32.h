#pragma once
// CRC-32/MPEG-2 (poly 0x04C11DB7, init ~0, no reflection, no final xor): the checksum of PSI and
// SCTE-35 sections. A section whose CRC over all its bytes (CRC field included) is 0 is intact.
#include <cstddef>
#include <cstdint>

namespace cdn::live {

uint32_t crc32_mpeg2(const uint8_t* data, size_t size, uint32_t crc = 0xFFFFFFFFu);

}  // namespace cdn::live
