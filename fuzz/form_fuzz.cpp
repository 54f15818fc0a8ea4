// libFuzzer target: the application/x-www-form-urlencoded decoder (webhook/intake/github_event.hpp).
// The first line of the input is the field name, the rest the body. form_field must return a value or an
// error, never throw, and a decoded value is never longer than the body.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "webhook/intake/github_event.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const auto newline = input.find('\n');
    const std::string_view field = newline == std::string_view::npos ? "payload" : input.substr(0, newline);
    const std::string_view body = newline == std::string_view::npos ? input : input.substr(newline + 1);
    auto value = hookyard::intake::form_field(body, field);
    if (value.ok() && value->size() > body.size()) __builtin_trap();
    return 0;
}
