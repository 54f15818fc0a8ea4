#include "config/base_images.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace hookyard::config {
namespace {

const std::vector<std::string> k_base_images_keys = {"watch_interval"};

}  // namespace

void parse_base_images(YamlReader& r, const YAML::Node& n, BaseImagesConfig& out) {
    if (!n || !r.expect_map(n, "base_images")) return;
    r.check_keys(n, k_base_images_keys, "base_images");
    r.read(n, "watch_interval", out.watch_interval);
    // Each check sends one HEAD per base image: registries rate-limit (Docker Hub: per 6 hours).
    if (out.watch_interval.count() < 1) {
        r.diags().add(YamlReader::line_of(n), "base_images.watch_interval must be at least 1s, e.g. 1h");
    }
}

void check_repository_links(const Config& config, Diagnostics& diags) {
    for (const auto& repo : config.repositories) {
        for (const auto& name : repo.rebuild_when_pushed) {
            if (config.find_repository(name) == nullptr) {
                diags.add(repo.line, "repository '" + repo.github + "' has rebuild_when_pushed: " + name +
                                         ", which is not a configured repository; add it or remove the link");
            }
        }
    }
    // Depth-first over "is rebuilt when X is pushed": a repository met again on the current path closes a cycle.
    std::map<std::string, int> state;  // 1 = on the path, 2 = done
    std::vector<std::string> path;
    std::function<bool(const RepositoryConfig&)> visit = [&](const RepositoryConfig& repo) {
        state[repo.github] = 1;
        path.push_back(repo.github);
        for (const auto& name : repo.rebuild_when_pushed) {
            const auto* next = config.find_repository(name);
            if (next == nullptr || state[name] == 2) continue;
            if (state[name] == 1) {
                std::string cycle;
                for (auto it = std::find(path.begin(), path.end(), name); it != path.end(); ++it) cycle += *it + " → ";
                diags.add(repo.line, "rebuild_when_pushed links form a cycle: " + cycle + name +
                                         "; remove one link (each push would rebuild the others for ever)");
                return false;
            }
            if (!visit(*next)) return false;
        }
        path.pop_back();
        state[repo.github] = 2;
        return true;
    };
    for (const auto& repo : config.repositories) {
        if (state[repo.github] == 0 && !visit(repo)) return;
    }
}

}  // namespace hookyard::config
