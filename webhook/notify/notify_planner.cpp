#include "webhook/notify/notify_planner.hpp"

#include <algorithm>
#include <cctype>

#include "util/json.hpp"
#include "util/log.hpp"
#include "webhook/notify/notify_payloads.hpp"

namespace hookyard::notify {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool wants(const config::Subscriber& s, const storage::Build& b, std::string_view event) {
    if (!s.repositories.empty() && std::none_of(s.repositories.begin(), s.repositories.end(),
                                                [&](const std::string& r) { return iequals(r, b.repository); })) {
        return false;
    }
    if (s.format == config::PayloadFormat::dockerhub && event != "push") return false;
    if (s.events.empty()) return true;
    return std::find(s.events.begin(), s.events.end(), event) != s.events.end();
}

// Appends to `out` what `event` of `b` sends to each subscriber and GitHub. May throw.
void plan_into(const config::Config& config, const storage::Build& b, std::string_view event,
               std::vector<storage::NewNotification>& out) {
    const std::string base = public_base_url(config);
    const std::string callback_url = base + "/api/v1/callbacks/" + std::to_string(b.id) + "/" +
                                     util::callback_token(config.server.webhook_secret, b.id);
    for (const auto& s : config.subscribers) {
        if (wants(s, b, event)) {
            out.push_back({b.id, s.name, std::string(event), s.url, util::to_json_string(hookyard_payload(b, event))});
        }
        if (event != "build.succeeded" || !wants(s, b, "push")) continue;
        for (const auto& tag : b.tags) {
            const auto body = s.format == config::PayloadFormat::dockerhub
                                  ? dockerhub_payload(b, tag, callback_url)
                                  : hookyard_payload(b, "push", b.image + ":" + tag);
            out.push_back({b.id, s.name, "push", s.url, util::to_json_string(body)});
        }
    }
    if (!config.github.token.empty() && !b.commit.empty()) {
        const std::string url = config.github.api_url + "/repos/" + b.repository + "/statuses/" + b.commit;
        const std::string target_url = base + "/builds/" + std::to_string(b.id);  // the dashboard's build page
        out.push_back({b.id, k_github_target, std::string(event), url,
                       util::to_json_string(github_status_payload(b, event, target_url))});
    }
}
}  // namespace

std::string public_base_url(const config::Config& config) {
    std::string base = config.server.public_url;
    if (base.empty()) {
        std::string listen = config.server.listen;
        if (listen.rfind("0.0.0.0:", 0) == 0) listen = "127.0.0.1:" + listen.substr(8);
        base = "http://" + listen;
    }
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base;
}

storage::EventPlanner make_event_planner(const config::Config& config) {
    return [&config](const storage::Build& b, std::string_view event) {
        std::vector<storage::NewNotification> out;
        // The planner runs inside the store's transaction on a build thread; a throw there would end the process.
        try {
            plan_into(config, b, event, out);
        } catch (const std::exception& e) {
            util::log_error("planner", "build " + std::to_string(b.id) + " " + std::string(event) +
                                           ": notifications not planned: " + e.what());
        }
        return out;
    };
}

}  // namespace hookyard::notify
