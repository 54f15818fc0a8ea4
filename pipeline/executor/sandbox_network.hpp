#pragma once
// builder.network.mode private: RUN steps reach the internet but not the host or its neighbours.
//
// Mechanism: a CNI bridge network `hookyard` (bridge hookyard0, 10.213.0.0/20, NAT to the outside), shared
// by every hookyard on the host and handed to buildah through CONTAINERS_CONF, plus the nftables table
// `inet hookyard`, replaced as a whole (one atomic `nft -f`) at every start:
//   input:   from hookyard0 only replies and DNS to the host's resolvers; nothing else reaches the host
//            (its loopback services, its own addresses, the bridge gateway)
//   forward: from hookyard0 nothing to 0/8, 10/8, 100.64/10, 127/8, 169.254/16 (cloud metadata),
//            172.16/12, 192.0.0/24, 192.168/16, 198.18/15, 224/3 and their IPv6 counterparts
//   both:    except the builder.network.allow CIDRs, accepted first, and DNS (port 53) to the resolvers
//            of /etc/resolv.conf
//   nat:     masquerade from the bridge's subnet to anywhere but the bridge (not the bridge plugin's
//            ipMasq, which costs iptables runs per RUN step)
// The rules only match hookyard0, so a table a kill -9 leaves behind still filters only RUN steps; the
// next start replaces it. The allow list is the host's: the hookyard started last sets it.

#include <map>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace hookyard::pipeline {

struct FilteredNetwork {
    std::string name;             // for buildah --network
    std::string containers_conf;  // CONTAINERS_CONF that defines it
};

// The nftables script for `allow` (CIDR texts) and DNS `resolvers` (IPv4/IPv6 addresses).
std::string network_ruleset(const std::vector<std::string>& allow, const std::vector<std::string>& resolvers);

// The nameservers of resolv.conf text `text`, without loopback ones (buildah replaces those).
std::vector<std::string> resolvers_of(const std::string& text);

// Writes the CNI config and containers.conf under `run_dir` and installs the ruleset with `nft`
// (found in env's PATH). Error naming what is missing: nft (Debian nftables), the CNI bridge plugin
// (containernetworking-plugins), or nft's own message.
util::Result<FilteredNetwork> prepare_filtered_network(const std::string& run_dir,
                                                       const std::vector<std::string>& allow,
                                                       const std::map<std::string, std::string>& env);

}  // namespace hookyard::pipeline
