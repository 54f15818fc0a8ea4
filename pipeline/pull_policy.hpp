#pragma once
// builder.pull as a flag of `buildah build` (1.28 knows --pull=true|false|always|never).

#include <string>

namespace hookyard::pipeline {

// always → "--pull=always" (the registry is asked for the base image's manifest on every build; only
// layers not stored yet are downloaded), missing → "--pull=false" (pull only when not stored),
// never → "--pull=never" (use the stored image or fail). Anything else (config check rejects it) → always.
std::string buildah_pull_flag(const std::string& pull);

}  // namespace hookyard::pipeline
