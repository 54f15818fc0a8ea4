#pragma once
// Byte sizes as written in the config: "16MiB", "500MB", "20gib", "4096" (bytes). Suffixes are
// case-insensitive; SI (kB, MB, GB, TB = powers of 1000) and binary (KiB, MiB, GiB, TiB = powers of 1024).

#include <cstdint>
#include <optional>
#include <string_view>

namespace hookyard::config {

// The size in bytes; nullopt for anything else (no number, unknown suffix, overflow, negative).
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace hookyard::config
