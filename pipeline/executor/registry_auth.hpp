#pragma once
// Base images from the configured registries: for each build, the credentials of the `registries:` entries
// go into a containers-auth.json file (buildah --authfile) and every registry written `http://` into a
// registries.conf with `insecure = true` (CONTAINERS_REGISTRIES_CONF, for `buildah build` only). Both live in
// a directory of their own per build (mode 0700, files 0600) under the credentials root and are removed when
// the build ends; a start-up removes what a killed process left. Only `buildah build` gets them: not hooks,
// not a RUN step (OCI isolation shows a RUN step neither the host's files nor buildah's /proc).
//
// Why registries.conf and not --tls-verify=false: the flag turns TLS off for every registry of the build,
// so a Dockerfile mixing `FROM 127.0.0.1:5000/base` with a public image would pull the public one without
// TLS too; a registries.conf entry is per registry. The file starts with the host's registries.conf (short
// name search, mirrors) and adds one [[registry]] table per http registry.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model.hpp"
#include "util/result.hpp"

namespace hookyard::pipeline {

// A registry FROM images may come from, with what a pull from it needs.
struct PullRegistry {
    std::string name;              // the registries: key, for messages
    std::string host;              // host[:port] as in image references (docker.io for Docker Hub)
    bool insecure = false;         // the endpoint was written http://
    std::string username;          // basic auth user; "" = credentials_file (or anonymous)
    std::string password;          // secret: never logged, never on a command line
    std::string credentials_file;  // docker config.json, read at every build; used when username is empty
};

// Where the builds of the hookyard on `data_dir` keep their credential files: <data_dir>/run/credentials.
std::string pull_credentials_root(const std::string& data_dir);

// The pull view of the config's registries: section.
std::vector<PullRegistry> pull_registries(const std::map<std::string, config::RegistryConfig>& registries);

// The containers-auth.json text for `registries`: {"auths": {host: {"auth": base64(user:password)}}}, after
// the entries of `base_auth_file` (the service's REGISTRY_AUTH_FILE; "" = none), which a configured registry
// overrides. Error (invalid_input) naming a credentials_file that cannot be read or is not JSON.
util::Result<std::string> pull_auth_json(const std::vector<PullRegistry>& registries,
                                         const std::string& base_auth_file);

// The registries.conf text: `base` (the host's file) plus an insecure [[registry]] per http registry; "" when
// no registry is http.
std::string pull_registries_conf(const std::vector<PullRegistry>& registries, const std::string& base);

// One build's pull credentials on disk. Destroying it removes them.
class PullCredentials {
public:
    // Writes the files for `registries` into a new directory under `root` ("" = the system temp dir) named
    // after this process and `build_id`. `env` is the build's environment (REGISTRY_AUTH_FILE,
    // CONTAINERS_REGISTRIES_CONF: the files they name are the starting points). Nothing is written when no
    // registry has credentials and none is http (then both paths are empty).
    static util::Result<std::unique_ptr<PullCredentials>> write(const std::string& root, const std::string& build_id,
                                                                const std::vector<PullRegistry>& registries,
                                                                const std::map<std::string, std::string>& env);
    ~PullCredentials();
    PullCredentials(const PullCredentials&) = delete;
    PullCredentials& operator=(const PullCredentials&) = delete;

    const std::string& auth_file() const { return m_auth_file; }              // for --authfile; "" = none
    const std::string& registries_conf() const { return m_registries_conf; }  // CONTAINERS_REGISTRIES_CONF
    const std::string& dir() const { return m_dir; }

private:
    PullCredentials() = default;
    std::string m_dir;
    std::string m_auth_file;
    std::string m_registries_conf;
};

// Removes the per-build directories under `root` whose hookyard process is gone (killed before it could
// clean up). Returns how many it removed.
int remove_stale_pull_credentials(const std::string& root);

// `error` (a failed FROM pull of `image`) with what to do when the registry asked for credentials: configure
// them under registries:, or check the configured ones. Other errors are returned unchanged.
util::Error explain_pull_refusal(util::Error error, const std::string& image,
                                 const std::vector<PullRegistry>& registries);

}  // namespace hookyard::pipeline
