#include "pipeline/registry/retag.hpp"

#include <nlohmann/json.hpp>

#include "pipeline/registry/oci_layout.hpp"

namespace hookyard::pipeline::detail {
namespace {

using util::ErrorKind;
using util::make_error;

struct Manifest {
    std::string media_type;
    std::string content;
};

util::Result<Manifest> get_manifest(Session& session, const std::string& repository, const std::string& digest) {
    Manifest out;
    const std::string what = "reading manifest " + repository + "@" + digest;
    auto st = session.retrying(what, [&](Attempt& attempt) -> util::Status {
        http::Request get;
        get.url = session.url("/v2/" + repository + "/manifests/" + digest);
        get.headers.emplace_back("Accept", manifest_accept());
        auto response = session.send(get);
        if (!response) return response.error();
        if (response->status == 404) return make_error(ErrorKind::not_found, repository + "@" + digest + " is gone");
        if (auto ok = session.expect(*response, 200, what, attempt); !ok) return ok;
        out.media_type = response->header("Content-Type");
        out.content = response->body;
        return {};
    });
    if (!st) return st.error();
    return out;
}

// Mounts one blob of `from` into `repository` (a registry answers 201 when it did).
util::Status mount_blob(Session& session, const std::string& from, const std::string& repository,
                        const std::string& blob, PushResult& result) {
    const std::string what = "mounting blob " + blob + " from " + from + " into " + repository;
    return session.retrying(what, [&](Attempt& attempt) -> util::Status {
        http::Request post;
        post.method = "POST";
        post.url = session.url("/v2/" + repository + "/blobs/uploads/?mount=" + blob + "&from=" + from);
        auto response = session.send(post);
        if (!response) return response.error();
        if (response->status == 201) {
            ++result.blobs_mounted;
            return {};
        }
        if (response->status == 202) {
            // An upload session instead of a mount: the registry has no copy it will share. Close it.
            http::Request cancel;
            cancel.method = "DELETE";
            cancel.url = session.url(response->header("Location"));
            (void)session.send(cancel);
            return make_error(ErrorKind::invalid_input, what + ": the registry would not mount it");
        }
        return session.expect(*response, 201, what, attempt);
    });
}

util::Status put_manifest_at(Session& session, const std::string& repository, const Manifest& manifest,
                             const std::string& reference, PushResult& result) {
    const std::string what = "putting the manifest at " + repository + ":" + reference;
    return session.retrying(what, [&](Attempt& attempt) -> util::Status {
        http::Request put;
        put.method = "PUT";
        put.url = session.url("/v2/" + repository + "/manifests/" + reference);
        put.headers.emplace_back("Content-Type", manifest.media_type);
        put.body = manifest.content;
        auto response = session.send(put);
        if (!response) return response.error();
        if (auto ok = session.expect(*response, 201, what, attempt); !ok) return ok;
        ++result.manifests_put;
        return {};
    });
}

// Makes the manifest `digest` of `from` (and what it references) present in `repository` by digest.
util::Result<Manifest> copy_by_digest(Session& session, const std::string& from, const std::string& digest,
                                      const std::string& repository, PushResult& result) {
    auto manifest = get_manifest(session, from, digest);
    if (!manifest) return manifest.error();
    if (from == repository) return manifest;
    const auto json = nlohmann::json::parse(manifest->content, nullptr, false);
    if (!json.is_object()) return make_error(ErrorKind::invalid_input, from + "@" + digest + " is not JSON");
    if (is_index_media_type(manifest->media_type)) {
        for (const auto& child : json.value("manifests", nlohmann::json::array())) {
            auto copied = copy_by_digest(session, from, child.value("digest", ""), repository, result);
            if (!copied) return copied.error();
            if (auto st = put_manifest_at(session, repository, *copied, child.value("digest", ""), result); !st)
                return st.error();
        }
        return manifest;
    }
    std::vector<std::string> blobs{json["config"].value("digest", "")};
    for (const auto& layer : json.value("layers", nlohmann::json::array())) blobs.push_back(layer.value("digest", ""));
    for (const auto& blob : blobs) {
        if (auto st = mount_blob(session, from, repository, blob, result); !st) return st.error();
    }
    return manifest;
}

}  // namespace

std::string manifest_accept() {
    return std::string(k_oci_manifest) + ", " + std::string(k_oci_index) + ", " + std::string(k_docker_manifest) +
           ", " + std::string(k_docker_manifest_list);
}

util::Result<std::string> head_manifest(Session& session, const std::string& repository, const std::string& reference) {
    std::string digest;
    const std::string what = "checking " + repository + ":" + reference;
    auto st = session.retrying(what, [&](Attempt& attempt) -> util::Status {
        http::Request head;
        head.method = "HEAD";
        head.url = session.url("/v2/" + repository + "/manifests/" + reference);
        head.headers.emplace_back("Accept", manifest_accept());
        auto response = session.send(head);
        if (!response) return response.error();
        if (response->status == 404) {
            return make_error(ErrorKind::not_found, session.context().registry + "/" + repository + ":" + reference +
                                                        " is not in the registry");
        }
        if (auto ok = session.expect(*response, 200, what, attempt); !ok) return ok;
        digest = response->header("Docker-Content-Digest");
        if (digest.empty()) return make_error(ErrorKind::invalid_input, what + ": the registry sent no digest");
        return {};
    });
    if (!st) return st.error();
    return digest;
}

util::Status copy_manifest(Session& session, const std::string& from, const std::string& digest,
                           const std::string& repository, const std::vector<std::string>& tags, PushResult& result) {
    auto manifest = copy_by_digest(session, from, digest, repository, result);
    if (!manifest) return manifest.error();
    result.digest = digest;
    result.media_type = manifest->media_type;
    for (const auto& tag : tags) {
        if (auto st = put_manifest_at(session, repository, *manifest, tag, result); !st) return st;
    }
    return {};
}

}  // namespace hookyard::pipeline::detail
