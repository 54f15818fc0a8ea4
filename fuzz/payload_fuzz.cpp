// libFuzzer target: GitHub webhook payloads, JSON and form-encoded (webhook/intake/github_event.hpp).
// The first byte picks the Content-Type, the rest is the body. parse_payload must return a value or an
// error for every body, never throw, and a parsed push must be checkable.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "webhook/intake/github_event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static constexpr std::string_view k_types[] = {"application/json", "application/x-www-form-urlencoded", "",
                                                   "application/json; charset=utf-8", "text/plain"};
    const std::string_view content_type = k_types[data[0] % std::size(k_types)];
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    auto event = hookyard::intake::parse_payload(content_type, body);
    if (event.ok()) {
        (void)hookyard::intake::check_push(*event);
        // Every changed file is reported once.
        for (std::size_t i = 0; i + 1 < event->changed_files.size(); ++i) {
            if (event->changed_files[i] == event->changed_files.back()) __builtin_trap();
        }
    }
    return 0;
}
