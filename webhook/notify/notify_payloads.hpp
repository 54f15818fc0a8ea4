#pragma once
// The bodies of outbound notifications, rendered when they are queued: Docker Hub's webhook JSON, hookyard's
// own signed events, and GitHub commit statuses. Pure functions.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "storage/records.hpp"
#include "util/signature.hpp"

namespace hookyard::notify {

// Docker Hub's webhook payload for one pushed tag: callback_url, push_data{pushed_at, pusher, tag, images},
// repository{repo_name, namespace, name, repo_url, status, is_private, …} — the shape Docker Hub sends,
// so existing receivers work unchanged. `image` is the image repository (host/path, no tag).
nlohmann::json dockerhub_payload(const storage::Build& build, const std::string& tag, const std::string& callback_url);

// hookyard's own event: {"event": event, "build": build_to_json(build)} (the REST API's form) plus, for "push", the
// pushed "image" reference and "digest".
nlohmann::json hookyard_payload(const storage::Build& build, std::string_view event, const std::string& image = "");

// The GitHub commit status body for a build event: pending (queued/started), success, failure, error
// (canceled), with context "hookyard/<first tag>" and a description under GitHub's 140 characters.
nlohmann::json github_status_payload(const storage::Build& build, std::string_view event,
                                     const std::string& target_url);

using util::callback_token;  // shared with the callback endpoint (webhook/intake): util/signature.hpp

}  // namespace hookyard::notify
