#include "config/yaml_reader.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/size.hpp"

namespace hookyard::config {

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (v == nullptr) return std::nullopt;
        return std::string(v);
    };
}

void YamlReader::check_keys(const YAML::Node& map, const std::vector<std::string>& allowed, const std::string& where) {
    if (!map.IsMap()) return;
    for (const auto& kv : map) {
        const auto key = kv.first.Scalar();
        if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
        std::string message = "unknown key '" + key + "' in " + where;
        const auto suggestion = did_you_mean(key, allowed);
        message += suggestion.empty() ? "; remove it" : "; did you mean '" + suggestion + "'?";
        m_diags.add(line_of(kv.first), message);
    }
}

bool YamlReader::expect_map(const YAML::Node& node, const std::string& what) {
    if (node.IsMap()) return true;
    m_diags.add(line_of(node), what + " must be a mapping of key: value pairs");
    return false;
}

bool YamlReader::expect_sequence(const YAML::Node& node, const std::string& what) {
    if (node.IsSequence()) return true;
    m_diags.add(line_of(node), what + " must be a list (- item or [a, b])");
    return false;
}

bool YamlReader::scalar(const YAML::Node& node, const std::string& key, std::string& out) {
    if (!node.IsScalar()) {
        m_diags.add(line_of(node), "'" + key + "' must be a single value, not a " +
                                       (node.IsMap()        ? "mapping"
                                        : node.IsSequence() ? "list"
                                                            : "null"));
        return false;
    }
    out = expand(node.Scalar(), line_of(node));
    return true;
}

void YamlReader::read(const YAML::Node& map, const std::string& key, std::string& out) {
    const auto node = map[key];
    if (!node) return;
    std::string value;
    if (scalar(node, key, value)) out = value;
}

void YamlReader::read(const YAML::Node& map, const std::string& key, bool& out) {
    std::optional<bool> value;
    read(map, key, value);
    if (value) out = *value;
}

void YamlReader::read(const YAML::Node& map, const std::string& key, std::optional<bool>& out) {
    const auto node = map[key];
    if (!node) return;
    std::string value;
    if (!scalar(node, key, value)) return;
    if (value == "true" || value == "yes" || value == "on")
        out = true;
    else if (value == "false" || value == "no" || value == "off")
        out = false;
    else
        m_diags.add(line_of(node), "'" + key + "' must be true or false, not '" + value + "'");
}

void YamlReader::read(const YAML::Node& map, const std::string& key, int& out, int min, int max) {
    const auto node = map[key];
    if (!node) return;
    std::string value;
    if (!scalar(node, key, value)) return;
    char* end = nullptr;
    const long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < min || n > max) {
        m_diags.add(line_of(node), "'" + key + "' must be a whole number from " + std::to_string(min) + " to " +
                                       std::to_string(max) + ", not '" + value + "'");
        return;
    }
    out = static_cast<int>(n);
}

void YamlReader::read(const YAML::Node& map, const std::string& key, std::chrono::seconds& out) {
    const auto node = map[key];
    if (!node) return;
    std::string value;
    if (!scalar(node, key, value)) return;
    const auto d = parse_duration(value);
    if (!d || d->count() <= 0) {
        m_diags.add(line_of(node),
                    "'" + key + "' must be a positive duration like 90s, 15m, 1h or 1h30m, not '" + value + "'");
        return;
    }
    out = *d;
}

void YamlReader::read_size(const YAML::Node& map, const std::string& key, std::uint64_t& out) {
    const auto node = map[key];
    if (!node) return;
    std::string value;
    if (!scalar(node, key, value)) return;
    const auto size = parse_size(value);
    if (!size || *size == 0) {
        m_diags.add(line_of(node),
                    "'" + key + "' must be a positive size like 512KiB, 16MiB or 500MB, not '" + value + "'");
        return;
    }
    out = *size;
}

void YamlReader::read(const YAML::Node& map, const std::string& key, std::vector<std::string>& out) {
    const auto node = map[key];
    if (!node) return;
    if (node.IsScalar()) {  // a single value where a list is expected is accepted as a one-item list
        std::string value;
        if (scalar(node, key, value)) out = {value};
        return;
    }
    if (!expect_sequence(node, "'" + key + "'")) return;
    out.clear();
    for (const auto& item : node) {
        std::string value;
        if (scalar(item, key, value)) out.push_back(value);
    }
}

void YamlReader::read(const YAML::Node& map, const std::string& key, std::map<std::string, std::string>& out) {
    const auto node = map[key];
    if (!node) return;
    if (!expect_map(node, "'" + key + "'")) return;
    out.clear();
    for (const auto& kv : node) {
        std::string value;
        if (scalar(kv.second, kv.first.Scalar(), value)) out[kv.first.Scalar()] = value;
    }
}

void YamlReader::read_secret(const YAML::Node& map, const std::string& key, std::string& out) {
    const auto file_key = key + "_file";
    const auto inline_node = map[key];
    const auto file_node = map[file_key];
    if (inline_node && file_node) {
        m_diags.add(line_of(file_node), "'" + key + "' and '" + file_key + "' are both set; keep one");
        return;
    }
    if (inline_node) {
        read(map, key, out);
        return;
    }
    if (!file_node) return;
    std::string path;
    if (!scalar(file_node, file_key, path)) return;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        m_diags.add(line_of(file_node), "'" + file_key + "': cannot read " + path +
                                            "; check that the file exists and is readable by hookyard");
        return;
    }
    std::ostringstream content;
    content << in.rdbuf();
    out = content.str();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
}

std::string YamlReader::expand(const std::string& value, int line) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] != '$' || i + 1 >= value.size()) {
            out.push_back(value[i]);
            continue;
        }
        if (value[i + 1] == '$') {  // $$ is a literal $
            out.push_back('$');
            ++i;
            continue;
        }
        if (value[i + 1] != '{') {
            out.push_back('$');
            continue;
        }
        const auto close = value.find('}', i + 2);
        if (close == std::string::npos) {
            m_diags.add(line, "unterminated '${' in a value; write ${NAME}, or $$ for a literal $");
            return out;
        }
        std::string name = value.substr(i + 2, close - i - 2);
        std::optional<std::string> fallback;
        if (const auto dflt = name.find(":-"); dflt != std::string::npos) {
            fallback = name.substr(dflt + 2);
            name.resize(dflt);
        }
        auto v = m_env(name);
        if (v && v->empty() && fallback) v.reset();
        if (!v && fallback) v = fallback;
        if (!v) {
            m_diags.add(
                line, "environment variable ${" + name + "} is not set; export it, or write ${" + name + ":-default}");
        } else {
            out += *v;
        }
        i = close;
    }
    return out;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    if (text.empty()) return std::nullopt;
    long total = 0;
    std::size_t i = 0;
    bool any_unit = false;
    while (i < text.size()) {
        std::size_t j = i;
        while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
        if (j == i) return std::nullopt;
        const long n = std::stol(std::string(text.substr(i, j - i)));
        if (j == text.size()) {
            if (any_unit) return std::nullopt;  // "1h30" is ambiguous
            total += n;
            break;
        }
        long unit = 0;
        switch (text[j]) {
            case 's':
                unit = 1;
                break;
            case 'm':
                unit = 60;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'd':
                unit = 86400;
                break;
            default:
                return std::nullopt;
        }
        total += n * unit;
        any_unit = true;
        i = j + 1;
    }
    return std::chrono::seconds(total);
}

}  // namespace hookyard::config
