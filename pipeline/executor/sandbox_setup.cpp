#include "pipeline/executor/sandbox_setup.hpp"

#include "pipeline/executor/build_cgroup.hpp"
#include "pipeline/executor/buildah_run.hpp"
#include "pipeline/executor/cni_leftovers.hpp"
#include "pipeline/executor/registry_auth.hpp"
#include "pipeline/executor/runtime_probe_cache.hpp"
#include "pipeline/executor/sandbox_network.hpp"

namespace hookyard::pipeline {
namespace {

constexpr std::chrono::seconds k_cni_min_age{10};

}  // namespace

util::Result<PreparedSandbox> prepare_sandbox(const config::Config& config, const BuildahOptions& buildah) {
    PreparedSandbox out;
    SandboxOptions& s = out.options;
    const config::BuilderConfig& b = config.builder;
    s.isolation = b.isolation;
    s.limits = b.limits;
    s.cache_mount_root = config.data_dir + "/cache-mounts";
    if (const int n = remove_stale_pull_credentials(pull_credentials_root(config.data_dir)); n > 0) {
        out.notes.push_back("removed the registry credentials of " + std::to_string(n) +
                            " build(s) a killed hookyard left");
    }
    if (b.isolation == config::Isolation::chroot) {
        out.warnings.push_back(
            "builder.isolation is chroot: RUN steps see every process on this host with its command line and "
            "reach its loopback services; builder.network and builder.limits are not applied");
        return out;
    }
    const auto env = executor_base_env(buildah);
    if (find_program(buildah.buildah, env).empty()) {
        return util::make_error(util::ErrorKind::not_found,
                                "buildah is not installed; install the Debian package buildah (scripts/setup)");
    }
    std::vector<std::string> argv{buildah.buildah};
    if (!buildah.root.empty()) argv.insert(argv.end(), {"--root", buildah.root});
    if (!buildah.runroot.empty()) argv.insert(argv.end(), {"--runroot", buildah.runroot});
    bool cached = false;
    auto runtime = probe_oci_runtime_cached(config.data_dir + "/run", argv, env, &cached);
    if (!runtime) return runtime.error();
    s.runtime = runtime->runtime;
    s.cgroup_manager = runtime->cgroup_manager;
    out.notes.push_back("OCI runtime " + s.runtime + " with cgroup manager " + s.cgroup_manager + " starts containers" +
                        (cached ? " (tested earlier in this boot with the same programs)" : ""));
    for (const auto& r : runtime->rejected) out.notes.push_back("OCI runtime rejected: " + r);
    if (b.network.mode == config::NetworkMode::filtered) {
        auto net = prepare_filtered_network(config.data_dir + "/run", b.network.allow, env);
        if (!net) return net.error();
        s.network = net->name;
        // Older than a RUN step's set-up takes: its address is in its namespace by then.
        const auto stale = release_stale_cni_addresses(cni_ipam_dir(net->name), net->name, k_cni_min_age, env);
        for (const auto& a : stale.released) out.notes.push_back("released CNI address " + a + " a killed build left");
        for (const auto& p : stale.problems) out.warnings.push_back(p);
        s.containers_conf = net->containers_conf;
        out.notes.push_back("RUN steps' network: bridge hookyard0 with the nftables table inet hookyard (" +
                            std::to_string(b.network.allow.size()) + " allowed CIDRs)");
    } else {
        auto conf = write_containers_conf(config.data_dir + "/run/sandbox", "");
        if (!conf) return conf.error();
        s.containers_conf = *conf;
    }
    for (const char* controller : {"memory", "pids", "cpu"}) {
        if (cgroup_v1_mount(controller).empty()) {
            out.warnings.push_back(std::string("no cgroup v1 ") + controller +
                                   " hierarchy: builder.limits apply per RUN step (pids not at all)");
        }
    }
    return out;
}

}  // namespace hookyard::pipeline
