#pragma once
// Reading the repository keys of pull request builds; internal to config/ (the loader's).

#include "config/model.hpp"
#include "config/yaml_reader.hpp"

namespace hookyard::config {

// Reads `autotest: off | internal | external` and `pull_requests: {push_tag: …}` of one repository node,
// reporting bad values and bad push_tag templates on their lines.
void read_pull_request_keys(YamlReader& reader, const YAML::Node& repo_node, RepositoryConfig& repo);

}  // namespace hookyard::config
