// The environment policy of buildah and hooks: only the listed variables of the service pass through.

#include "pipeline/executor/buildah_env.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace hookyard::pipeline {
namespace {

GetEnv fake_env(const std::map<std::string, std::string>& vars) {
    return [vars](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

TEST(BuildahEnv, PassesThePathAuthFileAndProxiesButNothingElse) {
    const auto options = buildah_options_from_environment(fake_env({{"PATH", "/usr/bin"},
                                                                    {"REGISTRY_AUTH_FILE", "/etc/auth.json"},
                                                                    {"https_proxy", "http://proxy:3128"},
                                                                    {"NO_PROXY", "localhost"},
                                                                    {"GITHUB_TOKEN", "secret"},
                                                                    {"LD_PRELOAD", "/x.so"}}));
    const std::map<std::string, std::string> expected = {{"PATH", "/usr/bin"},
                                                         {"HOME", "/root"},
                                                         {"REGISTRY_AUTH_FILE", "/etc/auth.json"},
                                                         {"https_proxy", "http://proxy:3128"},
                                                         {"NO_PROXY", "localhost"}};
    EXPECT_EQ(options.env, expected);
}

TEST(BuildahEnv, KeepsTheServiceHomeWhenItHasOne) {
    const auto options = buildah_options_from_environment(fake_env({{"HOME", "/var/lib/hookyard"}}));
    EXPECT_EQ(options.env.at("HOME"), "/var/lib/hookyard");
    EXPECT_EQ(options.env.count("PATH"), 0u);
}

}  // namespace
}  // namespace hookyard::pipeline
