#include "webhook/github_event.hpp"

#include <set>

namespace hookyard::webhook {
namespace {

using util::ErrorKind;
using util::make_error;

// nlohmann's parser keeps its own stack, but a deep document still costs memory and recursion when
// destroyed; a linear pre-scan bounds it before parsing.
bool nesting_within(std::string_view text, int limit) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) return false;
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string string_at(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return (it != j.end() && it->is_string()) ? it->get<std::string>() : std::string();
}

}  // namespace

util::Result<std::string> form_field(std::string_view body, std::string_view field) {
    std::size_t pos = 0;
    while (pos <= body.size()) {
        const auto amp = body.find('&', pos);
        const auto pair = body.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
        const auto eq = pair.find('=');
        if (url_decode(pair.substr(0, eq)) == field) {
            return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        pos = amp + 1;
    }
    return make_error(ErrorKind::invalid_input,
                      "form-encoded body has no '" + std::string(field) + "' field (GitHub puts the JSON there)");
}

util::Result<nlohmann::json> decode_payload(std::string_view content_type, std::string_view body) {
    std::string text;
    const auto semi = content_type.find(';');
    const auto media = content_type.substr(0, semi);
    if (media == "application/x-www-form-urlencoded") {
        auto field = form_field(body, "payload");
        if (!field) return field.error();
        text = std::move(*field);
    } else if (media.empty() || media == "application/json") {
        text = std::string(body);
    } else {
        return make_error(ErrorKind::invalid_input, "unsupported Content-Type '" + std::string(media) +
                                                        "': set the GitHub webhook to application/json");
    }
    if (text.empty()) return make_error(ErrorKind::invalid_input, "empty payload: expected a JSON object");
    if (!nesting_within(text, k_max_json_depth)) {
        return make_error(ErrorKind::invalid_input,
                          "JSON nested deeper than " + std::to_string(k_max_json_depth) + " levels; not a GitHub payload");
    }
    try {
        auto j = nlohmann::json::parse(text);
        if (!j.is_object()) return make_error(ErrorKind::invalid_input, "payload is not a JSON object");
        return j;
    } catch (const nlohmann::json::parse_error& e) {
        return make_error(ErrorKind::invalid_input,
                          "malformed JSON payload at byte " + std::to_string(e.byte) +
                              (e.id == 101 && std::string_view(e.what()).find("UTF-8") != std::string_view::npos
                                   ? ": invalid UTF-8"
                                   : ": the body is truncated or not JSON"));
    }
}

util::Result<PushEvent> parse_push(const nlohmann::json& p) {
    PushEvent ev;
    auto repo = p.find("repository");
    if (repo == p.end() || !repo->is_object()) {
        return make_error(ErrorKind::invalid_input, "push payload has no 'repository' object");
    }
    ev.repository = string_at(*repo, "full_name");
    if (ev.repository.empty()) return make_error(ErrorKind::invalid_input, "push payload has no repository.full_name");
    ev.clone_url = string_at(*repo, "clone_url");
    ev.ref = string_at(p, "ref");
    if (ev.ref.empty()) return make_error(ErrorKind::invalid_input, "push payload has no 'ref' string");
    ev.after = string_at(p, "after");
    auto deleted = p.find("deleted");
    ev.deleted = deleted != p.end() && deleted->is_boolean() && deleted->get<bool>();
    if (ev.after.empty() && !ev.deleted) {
        return make_error(ErrorKind::invalid_input, "push payload has no 'after' commit");
    }
    if (auto hc = p.find("head_commit"); hc != p.end() && hc->is_object()) {
        ev.head_commit_message = string_at(*hc, "message");
    }
    if (auto pusher = p.find("pusher"); pusher != p.end() && pusher->is_object()) {
        ev.pusher = string_at(*pusher, "name");
    }
    std::set<std::string> seen;
    if (auto commits = p.find("commits"); commits != p.end() && commits->is_array()) {
        for (const auto& c : *commits) {
            if (!c.is_object()) continue;
            for (const char* key : {"added", "modified", "removed"}) {
                auto list = c.find(key);
                if (list == c.end() || !list->is_array()) continue;
                for (const auto& f : *list) {
                    if (f.is_string() && seen.insert(f.get<std::string>()).second) {
                        ev.changed_files.push_back(f.get<std::string>());
                    }
                }
            }
        }
    }
    return ev;
}

}  // namespace hookyard::webhook
