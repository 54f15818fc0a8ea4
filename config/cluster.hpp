#pragma once
// The cluster: section of the config, for several `hookyard serve` sharing one PostgreSQL database:
//   cluster: { instance_id: builder-1, lease: 30s, heartbeat: 10s }
#include <chrono>
#include <string>

namespace hookyard::config {

// How this instance names itself and holds the builds it claims.
struct ClusterConfig {
    // Recorded on every build this instance claims (the build JSON's "instance"). Must stay the same across
    // restarts, so that a restarted instance recognises its own builds at once. Default: the host name.
    std::string instance_id;
    // A claimed build whose instance has not renewed it for this long goes back to the queue (the instance
    // is taken for dead); another instance then runs it.
    std::chrono::seconds lease{30};
    // How often a running instance renews the leases of its builds (and looks for expired ones).
    std::chrono::seconds heartbeat{10};
};

// This machine's host name ("localhost" when it has none).
std::string host_name();

}  // namespace hookyard::config

namespace YAML {
class Node;
}  // namespace YAML

namespace hookyard::config {

class YamlReader;
// Reads the cluster: mapping `n` (absent = defaults, instance_id = this host's name) into `cluster`;
// problems go to the reader's diagnostics.
void parse_cluster(YamlReader& reader, const YAML::Node& n, ClusterConfig& cluster);

}  // namespace hookyard::config
