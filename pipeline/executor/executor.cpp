#include "pipeline/executor/executor.hpp"

#include "pipeline/executor/platforms_job.hpp"
#include "util/enum_name.hpp"

namespace hookyard::pipeline {

std::map<std::string, std::string> DockerHubVars::to_map() const {
    std::string image = image_name;
    if (image.empty() && !docker_repo.empty())
        image = docker_tag.empty() ? docker_repo : docker_repo + ":" + docker_tag;
    return {
        {"SOURCE_BRANCH", source_branch},
        {"SOURCE_COMMIT", source_commit},
        {"COMMIT_MSG", commit_msg},
        {"DOCKER_REPO", docker_repo},
        {"DOCKERFILE_PATH", dockerfile_path},
        {"DOCKER_TAG", docker_tag},
        {"IMAGE_NAME", image},
    };
}

std::string_view to_string(Hook hook) {
    static constexpr util::EnumNames k_names(
        Hook::post_push, std::array<std::string_view, 9>{"post_checkout", "pre_build", "build", "post_build",
                                                         "pre_test", "test", "post_test", "pre_push", "post_push"});
    return k_names(hook, "unknown");
}

std::unique_ptr<PlatformsJob> Executor::start_platforms(const PlatformsRequest& /*request*/, LogSink /*sink*/) {
    return nullptr;
}

}  // namespace hookyard::pipeline
