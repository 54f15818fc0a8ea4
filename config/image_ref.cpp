#include "config/image_ref.hpp"

#include <re2/re2.h>

#include <boost/url/parse.hpp>

namespace hookyard::config {
namespace {

const re2::RE2& repository_regex() {
    static const re2::RE2 k_re(R"([a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*)");
    return k_re;
}

bool is_docker_hub_host(std::string_view host) {
    return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

bool tag_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

}  // namespace

bool is_valid_repository_name(std::string_view name) {
    // The spec also limits name+host to 255 characters in practice (Docker's rule).
    if (name.empty() || name.size() > 255) return false;
    return re2::RE2::FullMatch(re2::StringPiece(name.data(), name.size()), repository_regex());
}

bool is_valid_tag(std::string_view tag) {
    if (tag.empty() || tag.size() > 128) return false;
    if (tag[0] == '.' || tag[0] == '-') return false;
    for (char c : tag) {
        if (!tag_char(c)) return false;
    }
    return true;
}

std::string sanitize_tag(std::string_view rendered) {
    std::string out;
    out.reserve(rendered.size());
    for (char c : rendered) {
        if (c == '/') c = '-';
        if (!tag_char(c)) continue;
        if (out.empty() && (c == '.' || c == '-')) continue;
        out.push_back(c);
    }
    if (out.size() > 128) out.resize(128);
    return out;
}

util::Result<Endpoint> normalize_endpoint(std::string_view endpoint) {
    using util::ErrorKind;
    std::string text(endpoint);
    while (!text.empty() && text.back() == '/') text.pop_back();
    if (text.empty()) return util::make_error(ErrorKind::invalid_input, "registry endpoint is empty");
    if (text.find("://") == std::string::npos) text = "https://" + text;
    auto url = boost::urls::parse_absolute_uri(text);
    if (!url) {
        return util::make_error(ErrorKind::invalid_input,
                                "registry endpoint '" + std::string(endpoint) + "' is not a valid URL or host");
    }
    const auto id = url->scheme_id();
    if (id != boost::urls::scheme::https && id != boost::urls::scheme::http) {
        return util::make_error(ErrorKind::invalid_input, "registry endpoint '" + std::string(endpoint) +
                                                              "' must use https:// (or http:// when written so)");
    }
    if (!url->has_authority() || url->host().empty()) {
        return util::make_error(ErrorKind::invalid_input,
                                "registry endpoint '" + std::string(endpoint) + "' has no host");
    }
    if (url->has_userinfo()) {
        return util::make_error(ErrorKind::invalid_input,
                                "registry endpoint must not carry credentials; use username/password instead");
    }
    if (!url->encoded_path().empty() || url->has_query()) {
        return util::make_error(ErrorKind::invalid_input, "registry endpoint '" + std::string(endpoint) +
                                                              "' must be a host without a path, e.g. ghcr.io");
    }
    std::string host(url->encoded_host());
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    Endpoint out;
    if (is_docker_hub_host(host) && !url->has_port()) {
        out.api_base = "https://registry-1.docker.io";
        out.host = "docker.io";
        out.docker_hub = true;
        return out;
    }
    out.host = url->has_port() ? host + ":" + std::string(url->port()) : host;
    out.api_base = std::string(id == boost::urls::scheme::https ? "https" : "http") + "://" + out.host;
    return out;
}

bool has_registry_host(std::string_view name) {
    const auto slash = name.find('/');
    if (slash == std::string_view::npos) return false;
    const auto first = name.substr(0, slash);
    return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
           first == "localhost";
}

std::string ImageRef::str() const {
    std::string out = host + "/" + repository;
    if (!tag.empty()) out += ":" + tag;
    return out;
}

util::Result<ImageRef> parse_image_ref(std::string_view ref) {
    using util::ErrorKind;
    ImageRef out;
    std::string_view rest = ref;
    if (rest.find('@') != std::string_view::npos) {
        return util::make_error(ErrorKind::invalid_input,
                                "image reference '" + std::string(ref) + "' must name a tag, not a digest");
    }
    if (has_registry_host(rest)) {
        const auto slash = rest.find('/');
        out.host = std::string(rest.substr(0, slash));
        rest.remove_prefix(slash + 1);
    } else {
        out.host = "docker.io";
    }
    const auto last_slash = rest.rfind('/');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
        out.tag = std::string(rest.substr(colon + 1));
        rest = rest.substr(0, colon);
        if (!is_valid_tag(out.tag)) {
            return util::make_error(ErrorKind::invalid_input,
                                    "tag '" + out.tag + "' is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
        }
    }
    out.repository = std::string(rest);
    if (is_docker_hub_host(out.host)) {
        out.host = "docker.io";
        if (out.repository.find('/') == std::string::npos) out.repository = "library/" + out.repository;
    }
    if (!is_valid_repository_name(out.repository)) {
        return util::make_error(ErrorKind::invalid_input,
                                "repository name '" + out.repository +
                                    "' is not valid: use lower-case letters, digits and separators (. _ __ -) "
                                    "between components, as the OCI distribution spec requires");
    }
    return out;
}

}  // namespace hookyard::config
