#include "pipeline/executor/registry_auth.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/image_ref.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using util::ErrorKind;

constexpr const char* k_host_registries_conf = "/etc/containers/registries.conf";

std::string slurp(const std::string& path, bool* ok = nullptr) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (ok) *ok = static_cast<bool>(in);
    return text.str();
}

std::string basic_auth_value(const std::string& username, const std::string& password) {
    const std::string plain = username + ":" + password;
    std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

bool is_docker_hub(const std::string& host) {
    return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

// The registry host a docker config.json "auths" key names ("https://index.docker.io/v1/" → index.docker.io).
std::string auths_key_host(std::string key) {
    if (const auto scheme = key.find("://"); scheme != std::string::npos) key.erase(0, scheme + 3);
    return key.substr(0, key.find('/'));
}

// The entry of a docker config.json for `host`, as containers-auth.json wants it; null when none.
nlohmann::json entry_for(const nlohmann::json& config, const std::string& host) {
    if (!config.contains("auths") || !config["auths"].is_object()) return nullptr;
    for (const auto& [key, entry] : config["auths"].items()) {
        const std::string k = auths_key_host(key);
        if (!entry.is_object() || !(k == host || (is_docker_hub(k) && is_docker_hub(host)))) continue;
        nlohmann::json out = nlohmann::json::object();
        for (const char* field : {"auth", "identitytoken"}) {
            if (entry.contains(field) && entry[field].is_string()) out[field] = entry[field];
        }
        if (!out.contains("auth") && entry.contains("username") && entry.contains("password")) {
            out["auth"] = basic_auth_value(entry.value("username", ""), entry.value("password", ""));
        }
        if (!out.empty()) return out;
    }
    return nullptr;
}

util::Result<nlohmann::json> read_json_file(const std::string& path, const std::string& what) {
    bool ok = false;
    const std::string text = slurp(path, &ok);
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (!ok || j.is_discarded() || !j.is_object()) {
        return util::make_error(ErrorKind::invalid_input, what + " " + path +
                                                              " cannot be read as JSON (expected a docker "
                                                              "config.json with \"auths\"); fix or remove it");
    }
    return j;
}

// Creates `path` with mode 0600 (failing if it exists) and writes `text`.
bool write_private(const std::string& path, const std::string& text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    return ::close(fd) == 0 && done == text.size();
}

std::string dir_name_part(const std::string& build_id) {
    std::string out;
    for (char c : build_id.substr(0, 40)) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return out;
}

bool asks_for_credentials(const std::string& message) {
    for (const char* sign : {"unauthorized", "authentication required", "401", "denied", "no basic auth"}) {
        if (message.find(sign) != std::string::npos) return true;
    }
    return false;
}

}  // namespace

std::string pull_credentials_root(const std::string& data_dir) { return data_dir + "/run/credentials"; }

std::vector<PullRegistry> pull_registries(const std::map<std::string, config::RegistryConfig>& registries) {
    std::vector<PullRegistry> out;
    for (const auto& [name, reg] : registries) {
        if (reg.host.empty()) continue;
        out.push_back(
            {name, reg.host, reg.api_base.rfind("http://", 0) == 0, reg.username, reg.password, reg.credentials_file});
    }
    return out;
}

util::Result<std::string> pull_auth_json(const std::vector<PullRegistry>& registries,
                                         const std::string& base_auth_file) {
    nlohmann::json auths = nlohmann::json::object();
    std::error_code ec;
    if (!base_auth_file.empty() && fs::exists(base_auth_file, ec)) {
        auto base = read_json_file(base_auth_file, "REGISTRY_AUTH_FILE");
        if (!base) return base.error();
        if (base->contains("auths") && (*base)["auths"].is_object()) auths = (*base)["auths"];
    }
    for (const auto& r : registries) {
        if (!r.username.empty()) {
            auths[r.host] = {{"auth", basic_auth_value(r.username, r.password)}};
        } else if (!r.credentials_file.empty()) {
            auto file = read_json_file(r.credentials_file, "credentials_file of registry '" + r.name + "'");
            if (!file) return file.error();
            if (auto entry = entry_for(*file, r.host); !entry.is_null()) auths[r.host] = std::move(entry);
        }
    }
    if (auths.empty()) return std::string();
    return nlohmann::json{{"auths", auths}}.dump(2) + "\n";
}

std::string pull_registries_conf(const std::vector<PullRegistry>& registries, const std::string& base) {
    std::string tables;
    for (const auto& r : registries) {
        if (!r.insecure) continue;
        // The host is a normalised host[:port] (config/image_ref.hpp): no quote can occur in it.
        tables += "\n# registry '" + r.name + "' (http:// in hookyard's config)\n[[registry]]\nlocation = \"" + r.host +
                  "\"\ninsecure = true\n";
    }
    if (tables.empty()) return "";
    std::string text = "# Written by hookyard for one build: the host's registries.conf, then its http registries.\n";
    text += base;
    if (!text.empty() && text.back() != '\n') text += '\n';
    return text + tables;
}

util::Result<std::unique_ptr<PullCredentials>> PullCredentials::write(const std::string& root,
                                                                      const std::string& build_id,
                                                                      const std::vector<PullRegistry>& registries,
                                                                      const std::map<std::string, std::string>& env) {
    const auto find = [&env](const char* name) {
        const auto it = env.find(name);
        return it == env.end() ? std::string() : it->second;
    };
    auto auth = pull_auth_json(registries, find("REGISTRY_AUTH_FILE"));
    if (!auth) return auth.error();
    const std::string conf_base = find("CONTAINERS_REGISTRIES_CONF");
    const std::string conf =
        pull_registries_conf(registries, slurp(conf_base.empty() ? k_host_registries_conf : conf_base));
    std::unique_ptr<PullCredentials> out(new PullCredentials());
    if (auth->empty() && conf.empty()) return out;
    std::error_code ec;
    const fs::path parent = root.empty() ? fs::temp_directory_path(ec) : fs::path(root);
    if (!root.empty()) {
        fs::create_directories(parent, ec);
        fs::permissions(parent, fs::perms::owner_all, ec);
    }
    std::string tmpl = (parent / ("pull-" + std::to_string(::getpid()) + "-" + dir_name_part(build_id) + "-XXXXXX"));
    if (::mkdtemp(tmpl.data()) == nullptr) {  // mode 0700
        return util::make_error(ErrorKind::internal, "cannot create a directory for the registry credentials under " +
                                                         parent.string() + ": " + std::strerror(errno));
    }
    out->m_dir = tmpl;
    if (!auth->empty()) out->m_auth_file = out->m_dir + "/auth.json";
    if (!conf.empty()) out->m_registries_conf = out->m_dir + "/registries.conf";
    if ((!out->m_auth_file.empty() && !write_private(out->m_auth_file, *auth)) ||
        (!out->m_registries_conf.empty() && !write_private(out->m_registries_conf, conf))) {
        return util::make_error(ErrorKind::internal, "cannot write the registry credentials under " + out->m_dir);
    }
    return out;
}

PullCredentials::~PullCredentials() {
    std::error_code ec;
    if (!m_dir.empty()) fs::remove_all(m_dir, ec);
}

int remove_stale_pull_credentials(const std::string& root) {
    int removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("pull-", 0) != 0) continue;
        const long pid = std::strtol(name.c_str() + 5, nullptr, 10);
        // A live process (this one, or another hookyard on the same data dir) may be building with it.
        if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
        std::error_code rm;
        fs::remove_all(entry.path(), rm);
        if (!rm) ++removed;
    }
    return removed;
}

util::Error explain_pull_refusal(util::Error error, const std::string& image,
                                 const std::vector<PullRegistry>& registries) {
    const auto ref = config::parse_image_ref(image);
    if (!ref || !asks_for_credentials(error.message)) return error;
    for (const auto& r : registries) {
        const bool has_credentials = !r.username.empty() || !r.credentials_file.empty();
        if (r.host == ref->host && has_credentials) {
            error.message += "; registry " + ref->host + " refused the credentials of registries: '" + r.name +
                             "' (check its username and password, or its credentials_file)";
            return error;
        }
    }
    error.message += "; registry " + ref->host + " wants credentials: add it under registries: (endpoint " + ref->host +
                     " with username and password or password_file, or credentials_file)";
    return error;
}

}  // namespace hookyard::pipeline
