#include "config/cluster.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "config/yaml_reader.hpp"

namespace hookyard::config {
namespace {

const std::vector<std::string> k_cluster_keys = {"instance_id", "lease", "heartbeat"};

// Instance ids appear in logs, the build JSON and SQL parameters: a short, plain name.
bool valid_instance_id(const std::string& id) {
    if (id.empty() || id.size() > 64) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

}  // namespace

std::string host_name() {
    std::array<char, 256> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
    return name.data();
}

void parse_cluster(YamlReader& r, const YAML::Node& n, ClusterConfig& cluster) {
    if (n && r.expect_map(n, "cluster")) {
        r.check_keys(n, k_cluster_keys, "cluster");
        r.read(n, "instance_id", cluster.instance_id);
        r.read(n, "lease", cluster.lease);
        r.read(n, "heartbeat", cluster.heartbeat);
    }
    const int line = n ? YamlReader::line_of(n) : 0;
    if (cluster.instance_id.empty()) cluster.instance_id = host_name();
    if (!valid_instance_id(cluster.instance_id)) {
        r.diags().add(line, "cluster.instance_id '" + cluster.instance_id +
                                "' must be 1 to 64 letters, digits, '-', '_' or '.'; set it to a stable name like "
                                "builder-1");
    }
    if (cluster.heartbeat.count() < 1) r.diags().add(line, "cluster.heartbeat must be at least 1s");
    // Two renewals may fail (a slow database) before a live instance's builds count as abandoned.
    if (cluster.lease < 3 * cluster.heartbeat) {
        r.diags().add(line, "cluster.lease (" + std::to_string(cluster.lease.count()) +
                                "s) must be at least 3 x cluster.heartbeat (" +
                                std::to_string(cluster.heartbeat.count()) +
                                "s), or a slow renewal would hand a live instance's builds to another");
    }
}

}  // namespace hookyard::config
