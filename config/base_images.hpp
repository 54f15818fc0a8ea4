#pragma once
// Rebuilds of images whose inputs changed elsewhere (issue 17):
//   base_images: { watch_interval: 1h }   how often serve checks the base images of opted-in rules
//   rules: [{ …, rebuild_on_base_change: true }]
//   repositories: [{ github: acme/app, rebuild_when_pushed: [acme/base], … }]

#include "config/diagnostics.hpp"
#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace hookyard::config {

// Reads the base_images: mapping `n` (absent = defaults) into `out`.
void parse_base_images(YamlReader& reader, const YAML::Node& n, BaseImagesConfig& out);

// Errors for a rebuild_when_pushed entry that names no configured repository, and for links that form a
// cycle (a push of one would rebuild the others for ever), naming the cycle.
void check_repository_links(const Config& config, Diagnostics& diags);

}  // namespace hookyard::config
