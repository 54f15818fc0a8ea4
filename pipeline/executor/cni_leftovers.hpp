#pragma once
// builder.network private: what a RUN step killed together with buildah (kill -9 of hookyard, a crash)
// leaves of its network. Its veth and namespace go with the container's last process, but the CNI plugins'
// state stays: host-local's address file under /var/lib/cni/networks/hookyard/ (4093 of them exhaust the
// subnet, and every later RUN step fails) and, from versions that used the bridge plugin's ipMasq, its NAT
// chain (iptables -t nat: a POSTROUTING rule and a chain CNI-…, both commented with the container id). Every start
// releases the addresses that no live network namespace holds: a leftover of any hookyard on the host, never an address
// in use (a RUN step's namespace has a live process for as long as it runs).

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace hookyard::pipeline {

// host-local's directory of CNI network `network` (its default dataDir): /var/lib/cni/networks/<network>.
std::string cni_ipam_dir(const std::string& network);

// The IPv4 addresses configured in the network namespace of any live process (read from
// /proc/<pid>/net/fib_trie, once per namespace).
std::set<std::string> live_namespace_addresses();

struct ReleasedAddresses {
    std::vector<std::string> released;  // "10.213.0.7 (buildah-buildah123)"
    std::vector<std::string> problems;  // what could not be removed, for the log
};

// Releases the allocations in `ipam_dir` (host-local's directory of CNI network `network`) whose address no
// live namespace holds and whose file is older than `min_age` (an address being set up for a RUN step
// that is just starting is not in its namespace yet): removes the file and the NAT rule and chain of its
// container with `iptables` (found in env's PATH; skipped when missing).
ReleasedAddresses release_stale_cni_addresses(const std::string& ipam_dir, const std::string& network,
                                              std::chrono::seconds min_age,
                                              const std::map<std::string, std::string>& env);

}  // namespace hookyard::pipeline
