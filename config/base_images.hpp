#pragma once
// Rebuilds of images whose inputs changed elsewhere (issue 17):
//   base_images: { watch_interval: 1h }   how often serve checks the base images of opted-in rules
//   rules: [{ …, rebuild_on_base_change: true }]
//   repositories: [{ github: acme/app, rebuild_when_pushed: [acme/base], … }]

#include <chrono>
#include <string>
#include <vector>

namespace YAML {
class Node;
}  // namespace YAML

namespace hookyard::config {

class YamlReader;
class Diagnostics;
struct Config;

struct BaseImagesConfig {
    // Between two checks of every base image opted-in rules' last builds used (jittered by ±10%).
    std::chrono::seconds watch_interval{3600};
};

// Reads the base_images: mapping `n` (absent = defaults) into `out`.
void parse_base_images(YamlReader& reader, const YAML::Node& n, BaseImagesConfig& out);

// Errors for a rebuild_when_pushed entry that names no configured repository, and for links that form a
// cycle (a push of one would rebuild the others for ever), naming the cycle.
void check_repository_links(const Config& config, Diagnostics& diags);

}  // namespace hookyard::config
