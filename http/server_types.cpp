#include "http/server_types.hpp"

#include <nlohmann/json.hpp>

#include "http/status.hpp"
#include "util/json.hpp"

namespace hookyard::http {

std::string ServerRequest::header(std::string_view name) const {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string() : it->second;
}

ServerResponse json_error(unsigned status, std::string_view message) {
    // replace: the message may quote user input that is not valid UTF-8.
    return json_response(status, util::to_json_string(nlohmann::json{{"error", message}}));
}

ServerResponse json_error(const util::Error& e) { return json_error(status_for(e.kind), e.message); }

ServerResponse json_response(unsigned status, std::string body) {
    ServerResponse r;
    r.status = status;
    r.body = std::move(body);
    r.body += '\n';
    return r;
}

}  // namespace hookyard::http
