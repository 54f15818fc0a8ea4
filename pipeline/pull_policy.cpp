#include "pipeline/pull_policy.hpp"

namespace hookyard::pipeline {

std::string buildah_pull_flag(const std::string& pull) {
    if (pull == "missing") return "--pull=false";
    if (pull == "never") return "--pull=never";
    return "--pull=always";
}

}  // namespace hookyard::pipeline
