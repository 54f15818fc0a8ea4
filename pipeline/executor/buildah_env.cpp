#include "pipeline/executor/buildah_env.hpp"

namespace hookyard::pipeline {

BuildahOptions buildah_options_from_environment(const GetEnv& getenv) {
    BuildahOptions options;
    for (const char* name : {"PATH", "HOME", "REGISTRY_AUTH_FILE", "TMPDIR", "http_proxy", "https_proxy", "no_proxy",
                             "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"}) {
        if (const char* value = getenv(name)) options.env[name] = value;
    }
    if (!options.env.count("HOME")) options.env["HOME"] = "/root";
    return options;
}

}  // namespace hookyard::pipeline
