#include "pipeline/registry/errors.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

namespace hookyard::pipeline {
namespace {

using util::ErrorKind;
using util::make_error;

bool has_code(const std::vector<RegistryErrorEntry>& errors, std::string_view code) {
    for (const auto& e : errors) {
        if (e.code == code) return true;
    }
    return false;
}

std::string describe(const std::vector<RegistryErrorEntry>& errors) {
    std::string out;
    for (const auto& e : errors) {
        if (!out.empty()) out += "; ";
        out += e.code.empty() ? e.message : e.code + (e.message.empty() ? "" : ": " + e.message);
    }
    return out;
}

}  // namespace

std::vector<RegistryErrorEntry> parse_error_body(std::string_view body) {
    std::vector<RegistryErrorEntry> out;
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("errors") || !j["errors"].is_array()) return out;
    for (const auto& e : j["errors"]) {
        if (!e.is_object()) continue;
        RegistryErrorEntry entry;
        if (e.contains("code") && e["code"].is_string()) entry.code = e["code"].get<std::string>();
        if (e.contains("message") && e["message"].is_string()) entry.message = e["message"].get<std::string>();
        out.push_back(std::move(entry));
    }
    return out;
}

std::chrono::milliseconds retry_after(const http::Response& response, std::chrono::milliseconds cap) {
    const std::string value = response.header("Retry-After");
    long seconds = 0;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (value.empty() || ec != std::errc() || seconds < 0) return std::chrono::milliseconds(0);
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(seconds), cap);
}

util::Error response_error(const http::Response& response, std::string_view what, const ErrorContext& context) {
    const auto errors = parse_error_body(response.body);
    const std::string detail = errors.empty() ? "" : " (" + describe(errors) + ")";
    const std::string status = "HTTP " + std::to_string(response.status);
    const std::string& registry = context.registry;

    if (has_code(errors, "NAME_UNKNOWN")) {
        return make_error(ErrorKind::not_found, "repository " + context.repository + " does not exist on " + registry +
                                                    "; create it first (ECR requires this)" + detail);
    }
    if (has_code(errors, "TAG_INVALID") || (has_code(errors, "MANIFEST_INVALID") && !context.tag.empty())) {
        return make_error(ErrorKind::invalid_input, "tag '" + context.tag + "' was rejected by " + registry + detail +
                                                        "; tags must match [A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
    }
    const bool insufficient_scope = response.header("WWW-Authenticate").find("insufficient_scope") != std::string::npos;
    if (has_code(errors, "DENIED") || insufficient_scope ||
        (response.status == 403 && has_code(errors, "UNAUTHORIZED"))) {
        return make_error(ErrorKind::auth, "push to " + context.repository + " on " + registry + " was denied" +
                                               detail + "; give the account push access to it");
    }
    if (response.status == 401 || response.status == 403) {
        if (context.anonymous) {
            return make_error(ErrorKind::auth, registry + " requires credentials" + detail +
                                                   "; configure username/password or credentials_file");
        }
        return make_error(ErrorKind::auth, "credentials for " + registry + " were refused" + detail +
                                               "; check the username and password or token");
    }
    if (is_retryable_status(response.status)) {
        return make_error(ErrorKind::transient,
                          std::string(what) + " on " + registry + " failed with " + status + detail);
    }
    return make_error(ErrorKind::invalid_input,
                      std::string(what) + " on " + registry + " failed with " + status + detail);
}

}  // namespace hookyard::pipeline
