#pragma once
// Typed, diagnosing access to a yaml-cpp tree: every read reports a wrong type, an unknown key or an
// unset ${VAR} as a Diagnostic on the node's line, and never throws. Internal to config/.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/diagnostics.hpp"

namespace hookyard::config {

// Looks up an environment variable; nullopt when unset. Injected so tests need not touch the process env.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

class YamlReader {
public:
    YamlReader(Diagnostics& diags, EnvLookup env) : m_diags(diags), m_env(std::move(env)) {}

    static int line_of(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

    // Reports every key of `map` not in `allowed`, with a did-you-mean. `where` names the section.
    void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& where);
    // True (with a diagnostic otherwise) when `node` is a mapping.
    bool expect_map(const YAML::Node& node, const std::string& what);
    bool expect_sequence(const YAML::Node& node, const std::string& what);

    // Each reader leaves `out` untouched when the key is absent and reports a wrong type.
    void read(const YAML::Node& map, const std::string& key, std::string& out);
    void read(const YAML::Node& map, const std::string& key, bool& out);
    void read(const YAML::Node& map, const std::string& key, std::optional<bool>& out);
    void read(const YAML::Node& map, const std::string& key, int& out, int min, int max);
    void read(const YAML::Node& map, const std::string& key, std::chrono::seconds& out);
    // A byte size like 16MiB or 500MB (see size.hpp); must be positive.
    void read_size(const YAML::Node& map, const std::string& key, std::uint64_t& out);
    void read(const YAML::Node& map, const std::string& key, std::vector<std::string>& out);
    void read(const YAML::Node& map, const std::string& key, std::map<std::string, std::string>& out);
    // A secret: `key` inline (usually ${VAR}) or `key_file` naming a file whose content (trailing
    // newline removed) is the value. Both at once is an error. The value never appears in diagnostics.
    void read_secret(const YAML::Node& map, const std::string& key, std::string& out);

    // Expands ${VAR}, ${VAR:-default} and $$ in a scalar found on `line`.
    std::string expand(const std::string& value, int line);

    Diagnostics& diags() { return m_diags; }

private:
    bool scalar(const YAML::Node& node, const std::string& key, std::string& out);

    Diagnostics& m_diags;
    EnvLookup m_env;
};

// Parses "90s", "15m", "1h", "1h30m", "2d" or plain seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

// Reads the scalar `key` of `n`, which must name one of `choices`, into `out`; `where` names the key in the
// message listing the choices; letter case does not matter. Absent: `out` keeps its default.
template <class T>
void read_choice(YamlReader& r, const YAML::Node& n, const char* key, const std::string& where,
                 std::initializer_list<std::pair<const char*, T>> choices, T& out) {
    if (!n[key]) return;
    std::string text;
    r.read(n, key, text);
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string names;
    for (const auto& [name, value] : choices) {
        if (text == name) {
            out = value;
            return;
        }
        names += std::string(names.empty() ? "" : ", ") + name;
    }
    r.diags().add(YamlReader::line_of(n[key]), where + " must be one of " + names + ", not '" + text + "'");
}

}  // namespace hookyard::config
