#pragma once
// Shared pieces of the registry integration tests: a client for a test registry and skopeo cross-checks.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http/client.hpp"
#include "pipeline/registry/oci_layout.hpp"
#include "pipeline/registry/registry_client.hpp"
#include "tests/support/oci_layout_writer.hpp"
#include "tests/support/registry_server.hpp"
#include "tests/support/support.hpp"

namespace hookyard::test {

// Writes a test image (write_test_image) into `layout` and loads it; its manifest digest goes to `digest`.
inline pipeline::OciImage test_image(const std::string& layout, const std::vector<std::uint64_t>& layer_sizes,
                                     std::uint64_t seed, std::string* digest = nullptr) {
    const std::string written = write_test_image(layout, layer_sizes, seed);
    if (digest) *digest = written;
    auto image = pipeline::load_oci_layout(layout);
    if (!image.ok()) {
        ADD_FAILURE() << image.error().message;
        return {};
    }
    return std::move(*image);
}

// Options for pushing to `registry` (through `via_host` when a proxy sits in between), with fast backoff.
inline pipeline::RegistryClientOptions client_options(const RegistryServer& registry,
                                                      const std::string& via_host = "") {
    pipeline::RegistryClientOptions o;
    const std::string host = via_host.empty() ? registry.host() : via_host;
    o.api_base = registry.url().substr(0, registry.url().find("//") + 2) + host;
    o.registry = host;
    o.username = registry.username();
    o.password = registry.password();
    o.backoff_base = std::chrono::milliseconds(10);
    o.backoff_max = std::chrono::milliseconds(1500);
    return o;
}

inline std::unique_ptr<pipeline::RegistryClient> make_client(
    const pipeline::RegistryClientOptions& options, const std::string& ca_file = "",
    std::chrono::milliseconds io_timeout = std::chrono::seconds(20)) {
    http::ClientOptions http_options;
    http_options.ca_file = ca_file;
    http_options.io_timeout = io_timeout;
    auto http = http::make_client(http_options);
    EXPECT_TRUE(http.ok());
    auto client = pipeline::make_registry_client(options, std::shared_ptr<http::Client>(std::move(*http)));
    EXPECT_TRUE(client.ok());
    return std::move(*client);
}

// The manifest digest skopeo reads for `repo_tag` ("repo:tag") on `registry`; "" with the output in
// `error` when skopeo fails.
inline std::string skopeo_digest(const RegistryServer& registry, const std::string& repo_tag,
                                 std::string* error = nullptr) {
    std::vector<std::string> argv = {"skopeo", "inspect", "--format", "{{.Digest}}"};
    for (const auto& o : registry.skopeo_options("")) argv.push_back(o);
    argv.push_back("docker://" + registry.host() + "/" + repo_tag);
    std::string out;
    if (run(argv, &out) != 0) {
        if (error) *error = out;
        return "";
    }
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

// Copies `repo_tag` with skopeo into an oci: layout under `dir` and returns the copied manifest's digest.
inline std::string skopeo_copy_digest(const RegistryServer& registry, const std::string& repo_tag,
                                      const std::string& dir, std::string* output = nullptr) {
    std::vector<std::string> argv = {"skopeo", "copy", "--all", "--preserve-digests", "-q"};
    for (const auto& o : registry.skopeo_options("src")) argv.push_back(o);
    argv.push_back("docker://" + registry.host() + "/" + repo_tag);
    argv.push_back("oci:" + dir + ":copied");
    if (run(argv, output) != 0) return "";
    const auto index = nlohmann::json::parse(read_file(dir + "/index.json"), nullptr, false);
    if (index.is_discarded()) return "";
    return index["manifests"][0]["digest"].get<std::string>();
}

// How many of `requests` ("METHOD /path") start with `method` and contain `needle`.
inline int count_requests(const std::vector<std::string>& requests, const std::string& method,
                          const std::string& needle = "") {
    int n = 0;
    for (const auto& r : requests) {
        if (r.rfind(method + " ", 0) == 0 && r.find(needle) != std::string::npos) ++n;
    }
    return n;
}

// Pushes `image` to `repository` (tag v1) with `options`; the push must fail: returns its error.
inline util::Error push_error(const pipeline::RegistryClientOptions& options, const pipeline::OciImage& image,
                              const std::string& repository) {
    auto result = make_client(options)->push(image, repository, {"v1"});
    EXPECT_FALSE(result.ok()) << "the push to " << repository << " succeeded";
    return result.ok() ? util::Error{} : result.error();
}

// The error of a push of `image` to `repository` with `password` instead of the registry's own.
inline util::Error wrong_password_error(const RegistryServer& registry, const pipeline::OciImage& image,
                                        const std::string& repository, const std::string& password) {
    auto options = client_options(registry);
    options.password = password;
    return push_error(options, image, repository);
}

}  // namespace hookyard::test
