// SHA-256 (OpenSSL libcrypto). Thread-safe, no state.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace ficus::writer {

std::array<std::uint8_t, 32> Sha256(std::string_view data);

}  // namespace ficus::writer
