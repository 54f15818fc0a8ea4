#include "webhook/notify/notify_payloads.hpp"

#include "config/image_ref.hpp"
#include "storage/build_json.hpp"
#include "util/json.hpp"
#include "util/signature.hpp"

namespace hookyard::notify {
using nlohmann::json;

json dockerhub_payload(const storage::Build& b, const std::string& tag, const std::string& callback_url) {
    // docker.io/acme/web → repo_name acme/web, namespace acme, name web, repo_url on hub.docker.com.
    std::string host = "docker.io", path = b.image;
    if (auto ref = config::parse_image_ref(b.image); ref) {
        host = ref->host;
        path = ref->repository;
    }
    const auto slash = path.rfind('/');
    const std::string ns = slash == std::string::npos ? "" : path.substr(0, slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    const std::string repo_url =
        host == "docker.io" ? "https://hub.docker.com/r/" + path : "https://" + host + "/" + path;
    const auto pushed_at = (b.finished_at != 0 ? b.finished_at : storage::now_ms()) / 1000;
    json images = json::array();
    if (!b.digest.empty()) images.push_back(b.digest);
    return {{"callback_url", callback_url},
            {"push_data",
             {{"pushed_at", pushed_at},
              {"pusher", b.pusher.empty() ? "hookyard" : b.pusher},
              {"tag", tag},
              {"images", images}}},
            {"repository",
             {{"comment_count", 0},
              {"date_created", b.created_at / 1000},
              {"description", ""},
              {"dockerfile", ""},
              {"full_description", ""},
              {"is_official", false},
              {"is_private", true},
              {"is_trusted", true},
              {"name", name},
              {"namespace", ns},
              {"owner", ns},
              {"repo_name", path},
              {"repo_url", repo_url},
              {"star_count", 0},
              {"status", "Active"}}}};
}

json hookyard_payload(const storage::Build& b, std::string_view event, const std::string& image) {
    json out = {{"event", event}, {"build", storage::build_to_json(b)}};
    if (event == "push") {
        out["image"] = image;
        out["digest"] = b.digest;
    }
    return out;
}

json github_status_payload(const storage::Build& b, std::string_view event, const std::string& target_url) {
    std::string state = "pending", description;
    if (event == "build.queued") {
        description = "Image build queued";
    } else if (event == "build.started") {
        description = "Image build running";
    } else if (event == "build.succeeded") {
        state = "success";
        description = "Image pushed: " + (b.digest.size() > 19 ? b.digest.substr(0, 19) : b.digest);
    } else if (event == "build.failed") {
        state = "failure";
        description = "Build failed: " + b.error;
    } else {
        state = "error";
        description = "Build canceled";
    }
    // GitHub refuses descriptions over 140 characters; cut on a character boundary, never inside one.
    if (description.size() > 139) description = std::string(util::truncate_utf8(description, 136)) + "...";
    json out = {{"state", state},
                {"description", description},
                {"context", "hookyard/" + (b.tags.empty() ? std::string("build") : b.tags.front())}};
    if (!target_url.empty()) out["target_url"] = target_url;
    return out;
}

}  // namespace hookyard::notify
