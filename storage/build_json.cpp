#include "storage/build_json.hpp"

#include "util/log.hpp"

namespace hookyard::storage {
namespace {

nlohmann::json time_or_null(storage::TimeMs t) {
    return t > 0 ? nlohmann::json(storage::format_rfc3339(t)) : nlohmann::json(nullptr);
}

nlohmann::json text_or_null(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

// A multi-platform build records each platform's manifest digest as the pushed image "platform:<os/arch>"
// (pipeline/stage_runner.hpp): [{platform, digest}], or null for a single-platform build.
nlohmann::json platforms_or_null(const storage::Build& b) {
    constexpr std::string_view k_prefix = "platform:";
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [image, digest] : b.pushed) {
        if (image.rfind(k_prefix, 0) == 0)
            out.push_back({{"platform", image.substr(k_prefix.size())}, {"digest", digest}});
    }
    return out.empty() ? nlohmann::json(nullptr) : out;
}

}  // namespace

nlohmann::json build_to_json(const storage::Build& b) {
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& s : b.stages) {
        stages.push_back({{"name", s.name},
                          {"state", storage::to_string(s.state)},
                          {"started_at", time_or_null(s.started_at)},
                          {"finished_at", time_or_null(s.finished_at)},
                          {"duration_ms", s.finished_at > 0 ? nlohmann::json(s.duration_ms) : nlohmann::json(nullptr)},
                          {"error", text_or_null(s.error)},
                          {"note", s.name == "build" && b.reused_from > 0
                                       ? nlohmann::json("reused from #" + std::to_string(b.reused_from))
                                       : nlohmann::json(nullptr)}});
    }
    return {{"id", b.id},
            {"state", storage::to_string(b.state)},
            {"repository", b.repository},
            {"ref", b.ref},
            {"commit", text_or_null(b.commit)},
            {"rule", b.rule},
            {"image", b.image},
            {"tags", b.tags},
            {"digest", text_or_null(b.digest)},
            {"platforms", platforms_or_null(b)},
            {"error", text_or_null(b.error)},
            {"created_at", time_or_null(b.created_at)},
            {"started_at", time_or_null(b.started_at)},
            {"finished_at", time_or_null(b.finished_at)},
            {"stages", std::move(stages)},
            {"source", {{"type", b.source_type}, {"name", b.source_name}}},
            {"dockerfile", b.dockerfile},
            {"context", b.context},
            {"clone_url", util::redact_url(b.clone_url)},
            {"delivery", text_or_null(b.delivery)},
            {"pusher", text_or_null(b.pusher)},
            {"trigger", {{"type", b.trigger_type}, {"reason", b.trigger_reason}}},
            {"pull_request",
             b.pull_request > 0
                 ? nlohmann::json{{"number", b.pull_request}, {"external", b.pull_request_external}, {"push", b.push}}
                 : nlohmann::json(nullptr)},
            {"reused_from", b.reused_from > 0 ? nlohmann::json(b.reused_from) : nlohmann::json(nullptr)},
            {"base_images", b.base_images},
            {"retry_of", b.retry_of > 0 ? nlohmann::json(b.retry_of) : nlohmann::json(nullptr)},
            {"instance", text_or_null(b.instance)},
            {"superseded_by", b.superseded_by > 0 ? nlohmann::json(b.superseded_by) : nlohmann::json(nullptr)},
            {"attempts", b.attempts},
            {"cancel_requested", b.cancel_requested},
            {"log_bytes", b.log_size}};
}

}  // namespace hookyard::storage
