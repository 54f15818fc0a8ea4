#include "pipeline/executor/executor.hpp"

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
    switch (hook) {
        case Hook::post_checkout:
            return "post_checkout";
        case Hook::pre_build:
            return "pre_build";
        case Hook::build:
            return "build";
        case Hook::post_build:
            return "post_build";
        case Hook::pre_push:
            return "pre_push";
        case Hook::post_push:
            return "post_push";
    }
    return "unknown";
}

}  // namespace hookyard::pipeline
