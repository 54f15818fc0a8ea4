// The push: validate names, authenticate (credentials re-read per push), put every blob (bounded
// parallelism), then the manifests: an index's children by digest, the root to every tag.

#include "pipeline/registry/registry_client.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "config/image_ref.hpp"
#include "pipeline/registry/blob_upload.hpp"
#include "pipeline/registry/retag.hpp"
#include "pipeline/registry/session.hpp"
#include "util/log.hpp"

namespace hookyard::pipeline {
namespace {

using detail::Attempt;
using detail::BlobAction;
using detail::Session;
using util::ErrorKind;
using util::make_error;

// Blob locations remembered for cross-repository mounts (about 200 bytes each).
constexpr std::size_t k_max_known_blobs = 100000;

class RegistryClientImpl final : public RegistryClient {
public:
    RegistryClientImpl(RegistryClientOptions options, std::shared_ptr<http::Client> http)
        : m_options(std::move(options)), m_http(std::move(http)) {}

    util::Result<PushResult> push(const OciImage& image, const std::string& repository,
                                  const std::vector<std::string>& tags, CancelToken* cancel) override {
        if (!config::is_valid_repository_name(repository)) {
            return make_error(ErrorKind::invalid_input,
                              "'" + repository +
                                  "' is not a valid repository name "
                                  "(lower-case letters, digits, '.', '_', '-', '/' separated)");
        }
        if (tags.empty()) return make_error(ErrorKind::invalid_input, "no tag to push " + repository + " to");
        for (const auto& tag : tags) {
            if (!config::is_valid_tag(tag)) {
                return make_error(ErrorKind::invalid_input, "tag '" + tag +
                                                                "' is invalid; tags must match "
                                                                "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
            }
        }
        auto auth = authenticator();
        if (!auth) return auth.error();

        // Mount sources: another repository of this registry where this client saw each blob.
        std::map<std::string, std::string> mount_from;
        std::set<std::string> sources;
        {
            std::lock_guard lock(m_mutex);
            for (const auto& blob : image.blobs) {
                auto it = m_known.find(blob.digest);
                if (it != m_known.end() && it->second != repository) {
                    mount_from[blob.digest] = it->second;
                    sources.insert(it->second);
                }
            }
        }
        std::string scope = "repository:" + repository + ":pull,push";
        for (const auto& s : sources) scope += " repository:" + s + ":pull";
        ErrorContext context{m_options.registry, repository, "", (*auth)->anonymous()};
        Session session(*m_http, **auth, m_options, context, scope);
        std::atomic<bool> canceled{false};
        CancelCallback stop(cancel, [&canceled] { canceled = true; });
        session.set_abort(&canceled);

        if (auto st = ping(session); !st) return st.error();
        PushResult result;
        result.digest = image.root.descriptor.digest;
        result.media_type = image.root.descriptor.media_type;
        // A registry accepts a manifest only once every blob it references is in the repository, so
        // when every tag already points at our digest there is nothing left to send.
        auto current = tags_at_digest(session, repository, image.root, tags);
        if (!current) return current.error();
        if (*current) {
            for (const auto& b : image.blobs) remember(b.digest, repository);
            result.blobs_skipped = image.blobs.size();
            return result;
        }
        if (auto st = put_blobs(session, image, repository, mount_from, result); !st) return st.error();
        if (auto st = put_manifests(session, image, repository, tags, result); !st) return st.error();
        return result;
    }

    util::Result<std::string> manifest_digest(const std::string& repository, const std::string& reference,
                                              CancelToken* cancel) override {
        return with_session("repository:" + repository + ":pull", repository, cancel,
                            [&](Session& session) { return detail::head_manifest(session, repository, reference); });
    }

    util::Result<PushResult> retag(const std::string& from_repository, const std::string& digest,
                                   const std::string& repository, const std::vector<std::string>& tags,
                                   CancelToken* cancel) override {
        std::string scope = "repository:" + repository + ":pull,push";
        if (from_repository != repository) scope += " repository:" + from_repository + ":pull";
        return with_session(scope, repository, cancel, [&](Session& session) -> util::Result<PushResult> {
            PushResult result;
            if (auto st = detail::copy_manifest(session, from_repository, digest, repository, tags, result); !st)
                return st.error();
            return result;
        });
    }

private:
    // Runs `fn` on a session for `scope` (`repository` names it in messages), ended by `cancel`.
    template <class F>
    std::invoke_result_t<F&, Session&> with_session(const std::string& scope, const std::string& repository,
                                                    CancelToken* cancel, F&& fn) {
        auto auth = authenticator();
        if (!auth) return auth.error();
        Session session(*m_http, **auth, m_options,
                        ErrorContext{m_options.registry, repository, "", (*auth)->anonymous()}, scope);
        std::atomic<bool> canceled{false};
        CancelCallback stop(cancel, [&canceled] { canceled = true; });
        session.set_abort(&canceled);
        return fn(session);
    }

    // The authenticator for the current credentials (re-read from credentials_file at every push, so an
    // externally refreshed token is picked up); kept across pushes while credentials stay the same.
    util::Result<std::shared_ptr<Authenticator>> authenticator() {
        Credentials credentials{m_options.username, m_options.password};
        if (credentials.empty() && !m_options.credentials_file.empty()) {
            auto from_file = read_docker_config(m_options.credentials_file, m_options.registry);
            if (!from_file) return from_file.error();
            if (*from_file) credentials = **from_file;
        }
        std::lock_guard lock(m_mutex);
        if (!m_auth || m_auth_credentials.username != credentials.username ||
            m_auth_credentials.password != credentials.password) {
            m_auth = std::make_shared<Authenticator>(*m_http, m_options.registry, credentials);
            m_auth_credentials = credentials;
        }
        return m_auth;
    }

    // GET /v2/ learns the auth challenge before any body is sent, so large uploads are not refused late.
    util::Status ping(Session& session) {
        return session.retrying("contacting " + m_options.registry, [&](Attempt& attempt) -> util::Status {
            http::Request request;
            request.url = session.url("/v2/");
            auto response = session.send(request);
            if (!response) return response.error();
            if (response->status == 404) {
                return make_error(ErrorKind::invalid_input, m_options.api_base +
                                                                " does not serve the registry API "
                                                                "(/v2/ answered 404); check the registry endpoint");
            }
            return session.expect(*response, 200, "contacting the registry", attempt);
        });
    }

    // True when every tag already resolves to `manifest`'s digest.
    util::Result<bool> tags_at_digest(Session& session, const std::string& repository, const ManifestBlob& manifest,
                                      const std::vector<std::string>& tags) {
        for (const auto& tag : tags) {
            bool matches = false;
            auto st = session.retrying("checking " + repository + ":" + tag, [&](Attempt& attempt) -> util::Status {
                http::Request head;
                head.method = "HEAD";
                head.url = session.url("/v2/" + repository + "/manifests/" + tag);
                head.headers.emplace_back("Accept", manifest.descriptor.media_type);
                auto response = session.send(head);
                if (!response) return response.error();
                matches =
                    response->status == 200 && response->header("Docker-Content-Digest") == manifest.descriptor.digest;
                if (response->status == 200 || response->status == 404) return {};
                return session.expect(*response, 200, "checking " + repository + ":" + tag, attempt);
            });
            if (!st) return st.error();
            if (!matches) return false;
        }
        return true;
    }

    util::Status put_blobs(Session& session, const OciImage& image, const std::string& repository,
                           const std::map<std::string, std::string>& mount_from, PushResult& result) {
        // Largest first, so the long uploads start early and the small ones fill the gaps.
        std::vector<const Descriptor*> order;
        for (const auto& b : image.blobs) order.push_back(&b);
        std::stable_sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->size > b->size; });

        std::atomic<std::size_t> next{0};
        std::atomic<bool> abort{false};
        std::mutex result_mutex;
        std::optional<util::Error> first_error;
        auto worker = [&] {
            for (std::size_t i; !abort.load() && !session.aborted() && (i = next.fetch_add(1)) < order.size();) {
                const Descriptor& blob = *order[i];
                const auto source = mount_from.find(blob.digest);
                BlobAction action = BlobAction::skipped;
                auto st = detail::put_blob(session, image, repository, blob,
                                           source == mount_from.end() ? "" : source->second, m_options, action, abort);
                std::lock_guard lock(result_mutex);
                if (!st) {
                    if (!first_error) first_error = st.error();
                    abort = true;
                    return;
                }
                if (action == BlobAction::uploaded) {
                    ++result.blobs_uploaded;
                    result.bytes_uploaded += blob.size;
                } else if (action == BlobAction::mounted) {
                    ++result.blobs_mounted;
                } else {
                    ++result.blobs_skipped;
                }
                remember(blob.digest, repository);
            }
        };
        const std::size_t n =
            std::clamp<std::size_t>(m_options.parallel_uploads, 1, std::max<std::size_t>(1, order.size()));
        std::vector<std::thread> threads;
        for (std::size_t t = 1; t < n; ++t) threads.emplace_back(worker);
        worker();
        for (auto& t : threads) t.join();
        if (first_error) return *first_error;
        return {};
    }

    util::Status put_manifests(Session& session, const OciImage& image, const std::string& repository,
                               const std::vector<std::string>& tags, PushResult& result) {
        for (const auto& child : image.children) {
            if (auto st = put_manifest(session, repository, child, child.descriptor.digest, result); !st) return st;
        }
        for (const auto& tag : tags) {
            if (auto st = put_manifest(session, repository, image.root, tag, result); !st) return st;
        }
        return {};
    }

    // PUTs `manifest` at `reference` (a tag or its digest) unless the registry already has it there.
    util::Status put_manifest(Session& session, const std::string& repository, const ManifestBlob& manifest,
                              const std::string& reference, PushResult& result) {
        const bool is_tag = reference.rfind("sha256:", 0) != 0;
        const std::string what =
            "pushing manifest " + manifest.descriptor.digest + " to " + repository + (is_tag ? ":" + reference : "");
        const auto context = is_tag ? session.context_for_tag(reference) : session.context();
        return session.retrying(what, [&](Attempt& attempt) -> util::Status {
            const std::string url = session.url("/v2/" + repository + "/manifests/" + reference);
            http::Request head;
            head.method = "HEAD";
            head.url = url;
            head.headers.emplace_back("Accept", manifest.descriptor.media_type);
            auto current = session.send(head);
            if (!current) return current.error();
            if (current->status == 200 && current->header("Docker-Content-Digest") == manifest.descriptor.digest) {
                return {};
            }
            http::Request put;
            put.method = "PUT";
            put.url = url;
            put.headers.emplace_back("Content-Type", manifest.descriptor.media_type);
            put.body = manifest.content;
            auto stored = session.send(put);
            if (!stored) return stored.error();
            if (stored->status != 201) {
                if (is_retryable_status(stored->status)) {
                    attempt.retry_after = retry_after(*stored, m_options.backoff_max);
                }
                return response_error(*stored, what, context);
            }
            const std::string echoed = stored->header("Docker-Content-Digest");
            if (!echoed.empty() && echoed != manifest.descriptor.digest) {
                util::log_warn("registry", m_options.registry + " stored " + what + " as " + echoed);
            }
            ++result.manifests_put;
            return {};
        });
    }

    void remember(const std::string& digest, const std::string& repository) {
        std::lock_guard lock(m_mutex);
        // Mount hints are an optimisation: forgetting them all keeps a long-running service bounded.
        if (m_known.size() >= k_max_known_blobs) m_known.clear();
        m_known[digest] = repository;
    }

    const RegistryClientOptions m_options;
    std::shared_ptr<http::Client> m_http;
    std::mutex m_mutex;
    std::shared_ptr<Authenticator> m_auth;
    Credentials m_auth_credentials;
    std::map<std::string, std::string> m_known;  // blob digest → a repository of this registry holding it
};

}  // namespace

util::Result<std::unique_ptr<RegistryClient>> make_registry_client(RegistryClientOptions options,
                                                                   std::shared_ptr<http::Client> http) {
    if (options.api_base.rfind("http://", 0) != 0 && options.api_base.rfind("https://", 0) != 0) {
        return make_error(ErrorKind::invalid_input, "registry endpoint '" + options.api_base +
                                                        "' must start with https:// (or http:// when configured)");
    }
    if (!http) return make_error(ErrorKind::internal, "make_registry_client needs an HTTP client");
    if (options.registry.empty()) options.registry = options.api_base.substr(options.api_base.find("//") + 2);
    if (options.parallel_uploads == 0) options.parallel_uploads = 1;
    if (options.chunk_size == 0) options.chunk_size = 64ull << 20;
    if (options.max_attempts < 1) options.max_attempts = 1;
    return std::unique_ptr<RegistryClient>(std::make_unique<RegistryClientImpl>(std::move(options), std::move(http)));
}

}  // namespace hookyard::pipeline
