#include "pipeline/executor/compose.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <set>

namespace hookyard::pipeline {
namespace {

using util::ErrorKind;
using util::make_error;

constexpr const char* k_service_keys = "image, build, command, entrypoint, environment, working_dir, depends_on, x-*";

int compose_line(const YAML::Node& node) { return node.Mark().line >= 0 ? node.Mark().line + 1 : 0; }

bool is_extension(const std::string& key) { return key.rfind("x-", 0) == 0; }

// Reads one Compose file; every error is "NAME:LINE: what" for the node it is about.
class ComposeReader {
public:
    ComposeReader(std::string name, const std::map<std::string, std::string>& vars)
        : m_name(std::move(name)), m_vars(vars) {}

    util::Error error(const YAML::Node& node, const std::string& what) const {
        return make_error(ErrorKind::invalid_input, m_name + ":" + std::to_string(compose_line(node)) + ": " + what);
    }

    util::Result<std::string> scalar(const YAML::Node& node, const std::string& what) const {
        if (!node.IsScalar()) return error(node, what + " must be a string");
        return substitute(node, node.Scalar());
    }

    util::Result<std::vector<std::string>> words(const YAML::Node& node, const std::string& what) const {
        if (node.IsSequence()) {
            std::vector<std::string> out;
            for (const auto& item : node) {
                auto text = scalar(item, what + " entry");
                if (!text) return text.error();
                out.push_back(*text);
            }
            return out;
        }
        auto text = scalar(node, what);
        if (!text) return text.error();
        auto split = split_command(*text);
        if (!split) return error(node, what + ": " + split.error().message);
        return split;
    }

    // $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, $$.
    util::Result<std::string> substitute(const YAML::Node& node, const std::string& text) const {
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (text[i] != '$' || i + 1 == text.size()) {
                out += text[i];
                continue;
            }
            if (text[i + 1] == '$') {
                out += '$';
                ++i;
                continue;
            }
            auto value = variable(node, text, i);
            if (!value) return value.error();
            out += *value;
        }
        return out;
    }

    util::Result<ComposeService> service(const std::string& name, const YAML::Node& node) const;
    util::Status service_key(ComposeService& s, const std::string& key, const YAML::Node& value) const;
    util::Result<std::vector<std::string>> environment(const YAML::Node& node) const;
    util::Result<std::vector<std::string>> depends_on(const YAML::Node& node) const;

private:
    // The variable starting at text[i] ('$'); advances i to its last character.
    util::Result<std::string> variable(const YAML::Node& node, const std::string& text, std::size_t& i) const {
        std::string name;
        std::optional<std::string> fallback;
        if (text[i + 1] == '{') {
            const auto close = text.find('}', i);
            if (close == std::string::npos) return error(node, "unclosed ${ in '" + text + "'");
            name = text.substr(i + 2, close - i - 2);
            for (const char* sep : {":-", "-"}) {
                const auto at = name.find(sep);
                if (at != std::string::npos && !fallback) {
                    fallback = name.substr(at + std::string(sep).size());
                    name.resize(at);
                }
            }
            i = close;
        } else {
            std::size_t end = i + 1;
            while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_'))
                ++end;
            name = text.substr(i + 1, end - i - 1);
            i = end - 1;
        }
        const auto it = m_vars.find(name);
        if (it != m_vars.end() && !it->second.empty()) return it->second;
        if (fallback) return *fallback;
        if (it != m_vars.end()) return std::string();
        std::string known;
        for (const auto& [k, v] : m_vars) known += (known.empty() ? "" : ", ") + k;
        return error(node, "variable '" + name + "' is not set; tests see Docker Hub's variables only (" + known +
                               "); write $$ for a literal $");
    }

    std::string m_name;
    const std::map<std::string, std::string>& m_vars;
};

util::Result<std::vector<std::string>> ComposeReader::environment(const YAML::Node& node) const {
    std::vector<std::string> out;
    if (node.IsMap()) {
        for (const auto& kv : node) {
            const std::string key = kv.first.Scalar();
            if (kv.second.IsNull()) {
                return error(kv.first, "environment " + key + " has no value; a test does not inherit hookyard's " +
                                           "environment, give it one (" + key + ": value)");
            }
            auto value = scalar(kv.second, "environment " + key);
            if (!value) return value.error();
            out.push_back(key + "=" + *value);
        }
        return out;
    }
    if (!node.IsSequence()) return error(node, "environment must be a map or a list of KEY=VALUE");
    for (const auto& item : node) {
        auto entry = scalar(item, "environment entry");
        if (!entry) return entry.error();
        if (entry->find('=') == std::string::npos) {
            return error(item, "environment entry '" + *entry + "' has no value; write " + *entry + "=value");
        }
        out.push_back(*entry);
    }
    return out;
}

util::Result<std::vector<std::string>> ComposeReader::depends_on(const YAML::Node& node) const {
    std::vector<std::string> out;
    if (node.IsSequence()) {
        for (const auto& item : node) {
            auto name = scalar(item, "depends_on entry");
            if (!name) return name.error();
            out.push_back(*name);
        }
        return out;
    }
    if (!node.IsMap()) return error(node, "depends_on must be a list of service names");
    for (const auto& kv : node) {
        for (const auto& option : kv.second) {
            const std::string key = option.first.Scalar();
            if (key != "condition" || option.second.Scalar() != "service_started") {
                return error(option.first, "depends_on " + kv.first.Scalar() + ": " + key + ": " +
                                               option.second.Scalar() +
                                               " is not supported; hookyard starts dependencies first and does not "
                                               "wait for them (the sut must retry until they answer)");
            }
        }
        out.push_back(kv.first.Scalar());
    }
    return out;
}

util::Status ComposeReader::service_key(ComposeService& s, const std::string& key, const YAML::Node& value) const {
    if (key == "image" || key == "working_dir") {
        auto text = scalar(value, key);
        if (!text) return text.error();
        (key == "image" ? s.image : s.working_dir) = *text;
        const auto image_name = m_vars.find("IMAGE_NAME");
        if (key == "image" && image_name != m_vars.end() && *text == image_name->second) s.build_image = true;
    } else if (key == "build") {
        const YAML::Node context = value.IsMap() ? value["context"] : value;
        if (value.IsMap() && value.size() != 1) return error(value, "build: only `build: .` is supported");
        if (!context.IsScalar() || (context.Scalar() != "." && context.Scalar() != "./")) {
            return error(value,
                         "build: only `.` (the image this build built) is supported; other images must come "
                         "from a configured registry (image:)");
        }
        s.build_image = true;
    } else if (key == "command" || key == "entrypoint") {
        auto list = words(value, key);
        if (!list) return list.error();
        (key == "command" ? s.command : s.entrypoint) = *list;
    } else if (key == "environment") {
        auto env = environment(value);
        if (!env) return env.error();
        s.environment = *env;
    } else if (key == "depends_on") {
        auto deps = depends_on(value);
        if (!deps) return deps.error();
        s.depends_on = *deps;
    } else if (!is_extension(key)) {
        return error(value, "services." + s.name + "." + key + " is not supported by hookyard's test runner (" +
                                "supported: " + k_service_keys + ")");
    }
    return {};
}

util::Result<ComposeService> ComposeReader::service(const std::string& name, const YAML::Node& node) const {
    if (!node.IsMap()) return error(node, "services." + name + " must be a map");
    ComposeService s;
    s.name = name;
    s.line = compose_line(node);
    for (const auto& kv : node) {
        if (auto st = service_key(s, kv.first.Scalar(), kv.second); !st) return st.error();
    }
    if (!s.build_image && s.image.empty()) {
        return error(node, "services." + name + " needs `build: .` (the image under test) or an image:");
    }
    return s;
}

// sut's dependencies depth first (each once), then sut; errors on unknown names and cycles.
util::Result<std::vector<ComposeService>> start_order(const std::map<std::string, ComposeService>& all,
                                                      const std::string& file) {
    std::vector<ComposeService> order;
    std::set<std::string> done;
    std::vector<std::string> path;
    std::function<util::Status(const ComposeService&)> visit = [&](const ComposeService& s) -> util::Status {
        if (done.count(s.name)) return {};
        if (std::find(path.begin(), path.end(), s.name) != path.end()) {
            return make_error(ErrorKind::invalid_input, file + ":" + std::to_string(s.line) + ": services." + s.name +
                                                            " depends on itself through depends_on");
        }
        path.push_back(s.name);
        for (const auto& dep : s.depends_on) {
            const auto it = all.find(dep);
            if (it == all.end()) {
                return make_error(ErrorKind::invalid_input, file + ":" + std::to_string(s.line) + ": services." +
                                                                s.name + " depends on '" + dep +
                                                                "', which is not a service");
            }
            if (auto st = visit(it->second); !st) return st;
        }
        path.pop_back();
        done.insert(s.name);
        order.push_back(s);
        return {};
    };
    if (auto st = visit(all.at("sut")); !st) return st.error();
    return order;
}

}  // namespace

std::vector<std::string> find_test_files(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        const std::string suffix = ".test.yml";
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
            entry.is_regular_file(ec)) {
            out.push_back(entry.path().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

util::Result<TestFile> parse_test_file(const std::string& name, const std::string& text,
                                       const std::map<std::string, std::string>& vars) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        return make_error(ErrorKind::invalid_input, name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    const ComposeReader reader(name, vars);
    if (!root.IsMap()) return reader.error(root, "a test file must be a Compose map with services:");
    std::map<std::string, ComposeService> services;
    for (const auto& kv : root) {
        const std::string key = kv.first.Scalar();
        if (key == "version" || key == "name" || is_extension(key)) continue;
        if (key != "services") {
            return reader.error(kv.first, key + " is not supported by hookyard's test runner (supported: services, " +
                                              "version, name, x-*)");
        }
        if (!kv.second.IsMap()) return reader.error(kv.second, "services must be a map");
        for (const auto& svc : kv.second) {
            auto s = reader.service(svc.first.Scalar(), svc.second);
            if (!s) return s.error();
            services[s->name] = std::move(*s);
        }
    }
    if (!services.count("sut")) return reader.error(root, "no `sut` service: it is the test that runs");
    auto order = start_order(services, name);
    if (!order) return order.error();
    return TestFile{name, std::move(*order)};
}

util::Result<std::vector<std::string>> split_command(const std::string& text) {
    std::vector<std::string> out;
    std::string word;
    bool in_word = false;
    char quote = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quote != 0) {
            if (c == quote) {
                quote = 0;
            } else if (c == '\\' && quote == '"' && i + 1 < text.size()) {
                word += text[++i];
            } else {
                word += c;
            }
        } else if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == '\\' && i + 1 < text.size()) {
            word += text[++i];
            in_word = true;
        } else if (std::isspace(static_cast<unsigned char>(c))) {
            if (in_word) out.push_back(word);
            word.clear();
            in_word = false;
        } else {
            word += c;
            in_word = true;
        }
    }
    if (quote != 0) return make_error(ErrorKind::invalid_input, std::string("unclosed ") + quote + " quote");
    if (in_word) out.push_back(word);
    return out;
}

std::vector<std::string> container_argv(const ComposeService& service, const std::vector<std::string>& image_entrypoint,
                                        const std::vector<std::string>& image_cmd) {
    std::vector<std::string> argv = service.entrypoint ? *service.entrypoint : image_entrypoint;
    const std::vector<std::string> cmd = service.command      ? *service.command
                                         : service.entrypoint ? std::vector<std::string>{}
                                                              : image_cmd;
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    return argv;
}

}  // namespace hookyard::pipeline
