#include "pipeline/executor/buildah_leftovers.hpp"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>

#include "pipeline/executor/buildah_run.hpp"
#include "pipeline/executor/containment.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;

// Listing or removing containers must not hang a sweep; several hundred `buildah rm`s take a few seconds.
constexpr std::chrono::seconds k_leftover_command_timeout{120};
// Containers per `buildah rm`: one command line stays short, one failure costs little.
constexpr std::size_t k_rm_batch = 50;

struct ListedContainer {
    std::string id;
    std::string name;
};

// Runs `buildah <storage flags> args…` and returns its merged output; an error names the command and its exit.
util::Result<std::string> leftover_buildah_output(const BuildahOptions& options, std::vector<std::string> args) {
    const std::string shown = "buildah " + args.front();
    auto outcome = run_storage_command(options, buildah_command(options, std::move(args)), k_leftover_command_timeout);
    if (!outcome) return util::make_error(outcome.error().kind, shown + ": " + outcome.error().message);
    if (outcome->exit_code != 0) {
        return util::make_error(
            util::ErrorKind::internal,
            shown + " failed (exit " + std::to_string(outcome->exit_code) + "): " + outcome->output.substr(0, 300));
    }
    return std::move(outcome->output);
}

// Where buildah keeps each container's buildah.json: <graph root>/<driver>-containers.
util::Result<std::string> containers_dir(const BuildahOptions& options) {
    auto info =
        leftover_buildah_output(options, {"info", "--format", "{{.store.GraphRoot}} {{.store.GraphDriverName}}"});
    if (!info) return info.error();
    std::istringstream in(*info);
    std::string root, driver;
    if (!(in >> root >> driver)) {
        return util::make_error(util::ErrorKind::internal, "buildah info printed no storage root: " + *info);
    }
    return root + "/" + driver + "-containers";
}

util::Result<std::vector<ListedContainer>> list_containers(const BuildahOptions& options) {
    auto text = leftover_buildah_output(options, {"containers", "--json"});
    if (!text) return text.error();
    std::vector<ListedContainer> out;
    const auto json = buildah_json_list(*text, "buildah containers --json");
    if (!json) return json.error();
    for (const auto& c : *json) {
        const std::string id = util::json_string(c, "id");
        if (!id.empty()) out.push_back({id, util::json_string(c, "containername")});
    }
    return out;
}

// The container's --cgroup-parent as buildah recorded it; "" when unreadable or unset.
std::string recorded_cgroup_parent(const std::string& dir, const std::string& id) {
    std::ifstream in(dir + "/" + id + "/userdata/buildah.json");
    const auto json = nlohmann::json::parse(in, nullptr, false);
    if (!json.is_object()) return "";
    const auto opts = json.find("CommonBuildOpts");
    if (opts == json.end() || !opts->is_object()) return "";
    const auto parent = opts->find("CgroupParent");
    return parent != opts->end() && parent->is_string() ? parent->get<std::string>() : "";
}

// `buildah rm` of `ids` in batches; removed or problem lines into `out`.
void remove_containers(const BuildahOptions& options, const std::vector<std::string>& ids,
                       const std::vector<std::string>& shown, RemovedContainers& out) {
    for (std::size_t i = 0; i < ids.size(); i += k_rm_batch) {
        const std::size_t end = std::min(ids.size(), i + k_rm_batch);
        std::vector<std::string> args{"rm"};
        args.insert(args.end(), ids.begin() + static_cast<long>(i), ids.begin() + static_cast<long>(end));
        auto rm = leftover_buildah_output(options, std::move(args));
        if (!rm) {
            // buildah rm goes on past a container it cannot remove; the next sweep retries the rest.
            out.problems.push_back("could not remove every leftover buildah container: " + rm.error().message);
            continue;
        }
        out.removed.insert(out.removed.end(), shown.begin() + static_cast<long>(i),
                           shown.begin() + static_cast<long>(end));
    }
}

}  // namespace

std::string leftover_build_scope(const std::string& cgroup_parent, const std::string& instance_relative) {
    if (instance_relative.empty()) return "";
    const std::string prefix = instance_relative + "/";
    if (cgroup_parent.rfind(prefix, 0) != 0) return "";
    std::string scope = cgroup_parent.substr(prefix.size());
    scope = scope.substr(0, scope.find('/'));
    return scope == "." || scope == ".." ? "" : scope;
}

RemovedContainers remove_buildah_leftovers(const BuildahOptions& options) {
    RemovedContainers out;
    if (!options.containment || options.containment->instance_cgroup().empty()) return out;
    static std::mutex one_sweep_at_a_time;
    const std::lock_guard lock(one_sweep_at_a_time);
    const std::string instance = options.containment->instance_cgroup();
    const std::string relative = cgroup_relative(instance);
    auto dir = containers_dir(options);
    auto listed = dir ? list_containers(options) : util::Result<std::vector<ListedContainer>>(dir.error());
    if (!listed) {
        out.problems.push_back("could not list buildah containers: " + listed.error().message);
        return out;
    }
    std::vector<std::string> ids, shown;
    for (const auto& c : *listed) {
        const std::string scope = leftover_build_scope(recorded_cgroup_parent(*dir, c.id), relative);
        std::error_code ec;
        // The scope's cgroup exists from before buildah starts until the build's last process is gone.
        if (scope.empty() || fs::exists(instance + "/" + scope, ec) || ec) continue;
        ids.push_back(c.id);
        shown.push_back(c.id.substr(0, 12) + " (" + c.name + ", build scope " + scope + ")");
    }
    remove_containers(options, ids, shown, out);
    return out;
}

void log_removed_containers(const RemovedContainers& removed, const std::string& when) {
    for (const auto& p : removed.problems) util::log_warn("pipeline", p);
    if (removed.removed.empty()) return;
    std::string list;
    for (const auto& r : removed.removed) list += (list.empty() ? "" : ", ") + r;
    util::log_info("pipeline", "removed " + std::to_string(removed.removed.size()) +
                                   " buildah working container(s) killed builds left, " + when + ": " + list);
}

}  // namespace hookyard::pipeline
