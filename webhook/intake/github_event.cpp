#include "webhook/intake/github_event.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace hookyard::intake {
namespace {

using util::ErrorKind;
using util::make_error;
using Json = nlohmann::json;

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

// Walks the token stream keeping only the path to the current value, and copies out the fields of
// PushEvent. Returning false from a callback aborts the parse (used for the depth limit).
class PushSax final : public nlohmann::json_sax<Json> {
public:
    explicit PushSax(PushEvent& out) : m_out(out) {}

    bool null() override { return scalar(); }
    bool boolean(bool v) override {
        if (at_root("deleted")) m_out.deleted = v;
        if (at_root("forced")) m_out.forced = v;
        return scalar();
    }
    bool number_integer(number_integer_t v) override {
        if (at_root("number") && v > 0) m_out.pr.number = static_cast<std::uint64_t>(v);
        return scalar();
    }
    bool number_unsigned(number_unsigned_t v) override {
        if (at_root("number")) m_out.pr.number = v;
        return scalar();
    }
    bool number_float(number_float_t, const string_t&) override { return scalar(); }
    bool binary(binary_t&) override { return scalar(); }
    bool string(string_t& v) override {
        if (!root_object()) return false;
        const auto depth = m_stack.size();
        if (depth == 1) {
            const auto& k = m_stack[0].key;
            if (k == "ref")
                m_out.ref = std::move(v);
            else if (k == "after")
                m_out.after = std::move(v);
            else if (k == "zen")
                m_out.zen = std::move(v);
            else if (k == "action")
                m_out.pr.action = std::move(v);
        } else if (depth == 2 && m_stack[1].object) {
            const auto& parent = m_stack[0].key;
            const auto& k = m_stack[1].key;
            if (parent == "repository" && k == "full_name")
                m_out.repository = std::move(v);
            else if (parent == "repository" && k == "clone_url")
                m_out.clone_url = std::move(v);
            else if (parent == "head_commit" && k == "message")
                m_out.head_commit_message = std::move(v);
            else if (parent == "pusher" && k == "name")
                m_out.pusher = std::move(v);
            else if (parent == "sender" && k == "login")
                m_out.pr.sender = std::move(v);
            else if (parent == "pull_request" && k == "title")
                m_out.pr.title = std::move(v);
        } else if (std::string* field = pull_request_field()) {
            *field = std::move(v);
        } else if (depth == 4 && m_stack[0].key == "commits" && !m_stack[1].object && m_stack[2].object &&
                   !m_stack[3].object) {
            const auto& k = m_stack[2].key;
            if ((k == "added" || k == "modified" || k == "removed") && m_seen.insert(v).second) {
                m_out.changed_files.push_back(std::move(v));
            }
        }
        return true;
    }
    bool start_object(std::size_t) override { return open(true); }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(false); }
    bool end_array() override { return close(); }
    bool key(string_t& k) override {
        m_stack.back().key = std::move(k);
        return true;
    }
    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
        const bool utf8 = std::string_view(ex.what()).find("UTF-8") != std::string_view::npos;
        m_error = "malformed JSON payload at byte " + std::to_string(position) +
                  (utf8 ? ": invalid UTF-8" : ": the body is truncated or not JSON");
        return false;
    }

    const std::string& error() const { return m_error; }

private:
    struct Frame {
        bool object;
        std::string key;
    };

    bool root_object() {
        if (m_stack.empty()) {
            m_error = "payload is not a JSON object";
            return false;
        }
        return true;
    }
    bool scalar() { return root_object(); }
    bool at_root(std::string_view key) const { return m_stack.size() == 1 && m_stack[0].key == key; }
    // The PullRequestFields member the current string goes to: pull_request.{head,base}.{sha,ref} and
    // pull_request.head.repo.full_name; nullptr for anything else.
    std::string* pull_request_field() {
        const auto depth = m_stack.size();
        if (depth < 3 || m_stack[0].key != "pull_request" ||
            !std::all_of(m_stack.begin(), m_stack.end(), [](const Frame& f) { return f.object; })) {
            return nullptr;
        }
        const auto& side = m_stack[1].key;
        const auto& k = m_stack[2].key;
        if (depth == 3 && side == "head" && k == "sha") return &m_out.pr.head_sha;
        if (depth == 3 && side == "head" && k == "ref") return &m_out.pr.head_ref;
        if (depth == 3 && side == "base" && k == "ref") return &m_out.pr.base_ref;
        if (depth == 4 && side == "head" && k == "repo" && m_stack[3].key == "full_name") return &m_out.pr.head_repo;
        return nullptr;
    }
    bool open(bool object) {
        if (m_stack.empty() && !object) {
            m_error = "payload is not a JSON object";
            return false;
        }
        if (m_stack.size() >= static_cast<std::size_t>(k_max_json_depth)) {
            m_error = "JSON nested deeper than " + std::to_string(k_max_json_depth) + " levels; not a GitHub payload";
            return false;
        }
        m_stack.push_back(Frame{object, {}});
        return true;
    }
    bool close() {
        m_stack.pop_back();
        return true;
    }

    PushEvent& m_out;
    std::vector<Frame> m_stack;
    std::set<std::string> m_seen;
    std::string m_error;
};

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

util::Result<PushEvent> parse_payload(std::string_view content_type, std::string_view body) {
    std::string form_text;
    std::string_view text = body;
    const auto media = content_type.substr(0, content_type.find(';'));
    if (media == "application/x-www-form-urlencoded") {
        auto field = form_field(body, "payload");
        if (!field) return field.error();
        form_text = std::move(*field);
        text = form_text;
    } else if (!media.empty() && media != "application/json") {
        return make_error(ErrorKind::invalid_input, "unsupported Content-Type '" + std::string(media) +
                                                        "': set the GitHub webhook to application/json");
    }
    if (text.empty()) return make_error(ErrorKind::invalid_input, "empty payload: expected a JSON object");
    PushEvent out;
    PushSax sax(out);
    if (!Json::sax_parse(text.begin(), text.end(), &sax)) {
        return make_error(ErrorKind::invalid_input, sax.error().empty() ? "malformed JSON payload" : sax.error());
    }
    return out;
}

util::Status check_pull_request(const PushEvent& p) {
    const auto bad = [](const char* message) { return make_error(ErrorKind::invalid_input, message); };
    if (p.repository.empty()) return bad("pull_request payload has no repository.full_name");
    if (p.pr.action.empty()) return bad("pull_request payload has no 'action' string");
    if (p.pr.number == 0) return bad("pull_request payload has no positive 'number'");
    if (p.pr.action == "closed") return {};
    const bool hex = std::all_of(p.pr.head_sha.begin(), p.pr.head_sha.end(), [](char c) { return hex_value(c) >= 0; });
    if (p.pr.head_sha.size() != 40 || !hex) {
        return bad("pull_request payload's pull_request.head.sha must be a 40-character hexadecimal commit id");
    }
    if (p.pr.base_ref.empty()) return bad("pull_request payload has no pull_request.base.ref");
    return {};
}

util::Status check_push(const PushEvent& p) {
    if (p.repository.empty()) return make_error(ErrorKind::invalid_input, "push payload has no repository.full_name");
    if (p.ref.empty()) return make_error(ErrorKind::invalid_input, "push payload has no 'ref' string");
    if (p.deleted) return {};
    if (p.after.empty()) return make_error(ErrorKind::invalid_input, "push payload has no 'after' commit");
    const bool hex = std::all_of(p.after.begin(), p.after.end(), [](char c) { return hex_value(c) >= 0; });
    if (p.after.size() != 40 || !hex) {
        return make_error(ErrorKind::invalid_input,
                          "push payload's 'after' must be a 40-character hexadecimal commit id");
    }
    return {};
}

}  // namespace hookyard::intake
