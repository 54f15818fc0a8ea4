// libFuzzer target: the config loader (config/loader.hpp), YAML text → a config or diagnostics. It never
// throws, and yields a config exactly when it reports no diagnostic. A fixed environment stands in for
// the process's, so ${VARS} expand the same way on every run.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "config/loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    // Every variable the examples use is set (so they load), the PrimeHub overrides are not.
    const hookyard::config::EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
        if (name.starts_with("HOOKYARD_REGISTRY_") || name.starts_with("UNSET")) return std::nullopt;
        if (name.ends_with("_PORT")) return "5000";
        if (name.ends_with("_DIR")) return "/nonexistent/hookyard-fuzz";
        return "s3cret-0123456789abcdef";
    };
    auto outcome = hookyard::config::load_config_text(text, "fuzz.yaml", env);
    if (outcome.config.has_value() != outcome.diagnostics.empty()) __builtin_trap();
    if (outcome.config) (void)hookyard::config::summarize(*outcome.config);
    return 0;
}
