#include "pipeline/registry/blob_upload.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "util/digest.hpp"

namespace hookyard::pipeline::detail {
namespace {

using util::ErrorKind;
using util::make_error;

std::string with_digest(const std::string& location, const std::string& digest) {
    auto parsed = boost::urls::parse_uri_reference(location);
    if (!parsed) return location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + digest;
    boost::urls::url u(*parsed);
    u.params().append({"digest", digest});
    return std::string(u.buffer());
}

// Hashes the bytes as they are sent. A chunk resent on a fresh connection restarts at offset 0, so the
// state at the chunk's start is kept to rewind to.
class StreamingHash {
public:
    void begin_chunk() { m_hash.copy_to(m_chunk_start); }
    void on_sent(std::uint64_t offset, std::string_view data) {
        if (offset == 0) m_chunk_start.copy_to(m_hash);
        m_hash.update(data);
    }
    std::string digest() const { return m_hash.digest(); }

private:
    util::Sha256 m_hash;
    util::Sha256 m_chunk_start;
};

util::Error corrupt(const OciImage& image, const Descriptor& blob) {
    return make_error(ErrorKind::invalid_input, image.blob_path(blob.digest) + " does not match digest " + blob.digest +
                                                    "; the layout is corrupt, export the image again");
}

class BlobUpload {
public:
    BlobUpload(Session& session, const OciImage& image, const std::string& repository, const Descriptor& blob,
               const RegistryClientOptions& options)
        : m_session(session),
          m_image(image),
          m_repository(repository),
          m_blob(blob),
          m_options(options),
          m_what("uploading blob " + blob.digest + " to " + repository) {}

    util::Status attempt(const std::string& mount_from, BlobAction& action, Attempt& attempt) {
        // 1. Present already?
        http::Request head;
        head.method = "HEAD";
        head.url = m_session.url("/v2/" + m_repository + "/blobs/" + m_blob.digest);
        auto exists = m_session.send(head);
        if (!exists) return exists.error();
        if (exists->status == 200) {
            action = BlobAction::skipped;
            return {};
        }
        if (exists->status != 404) return m_session.expect(*exists, 200, "checking blob " + m_blob.digest, attempt);

        // 2. Open an upload session, mounting from another repository when one is known to have the blob.
        http::Request start;
        start.method = "POST";
        start.url = m_session.url("/v2/" + m_repository + "/blobs/uploads/");
        if (!mount_from.empty()) start.url += "?mount=" + m_blob.digest + "&from=" + mount_from;
        auto started = m_session.send(start);
        if (!started) return started.error();
        if (started->status == 201 && !mount_from.empty()) {
            action = BlobAction::mounted;
            return {};
        }
        if (auto st = m_session.expect(*started, 202, m_what, attempt); !st) return st;
        std::string location = started->header("Location");
        if (location.empty())
            return make_error(ErrorKind::transient, m_what + ": the registry sent no upload Location");

        // 3. Send the content.
        auto st =
            m_blob.size <= m_options.monolithic_limit ? put_whole(location, attempt) : put_chunks(location, attempt);
        if (!st) return st;
        action = BlobAction::uploaded;
        return {};
    }

private:
    util::Status put_whole(const std::string& location, Attempt& attempt) {
        StreamingHash hash;
        hash.begin_chunk();
        http::Request put;
        put.method = "PUT";
        put.url = m_session.url(with_digest(location, m_blob.digest));
        put.headers.emplace_back("Content-Type", "application/octet-stream");
        put.body_file = http::FileRange{m_image.blob_path(m_blob.digest), 0, m_blob.size};
        put.on_body_sent = [&hash](std::uint64_t offset, std::string_view data) { hash.on_sent(offset, data); };
        auto done = m_session.send(put);
        if (!done) return done.error();
        if (hash.digest() != m_blob.digest) return corrupt(m_image, m_blob);
        return m_session.expect(*done, 201, m_what, attempt);
    }

    util::Status put_chunks(std::string location, Attempt& attempt) {
        StreamingHash hash;
        for (std::uint64_t offset = 0; offset < m_blob.size;) {
            const std::uint64_t n = std::min(m_options.chunk_size, m_blob.size - offset);
            hash.begin_chunk();
            http::Request patch;
            patch.method = "PATCH";
            patch.url = m_session.url(location);
            patch.headers.emplace_back("Content-Type", "application/octet-stream");
            patch.headers.emplace_back("Content-Range", std::to_string(offset) + "-" + std::to_string(offset + n - 1));
            patch.body_file = http::FileRange{m_image.blob_path(m_blob.digest), offset, n};
            patch.on_body_sent = [&hash](std::uint64_t o, std::string_view data) { hash.on_sent(o, data); };
            auto sent = m_session.send(patch);
            if (!sent) return sent.error();
            if (auto st = m_session.expect(*sent, 202, m_what, attempt); !st) return st;
            if (!sent->header("Location").empty()) location = sent->header("Location");
            offset += n;
        }
        // Never commit content that does not match its digest.
        if (hash.digest() != m_blob.digest) return corrupt(m_image, m_blob);
        http::Request put;
        put.method = "PUT";
        put.url = m_session.url(with_digest(location, m_blob.digest));
        auto done = m_session.send(put);
        if (!done) return done.error();
        return m_session.expect(*done, 201, m_what, attempt);
    }

    Session& m_session;
    const OciImage& m_image;
    const std::string& m_repository;
    const Descriptor& m_blob;
    const RegistryClientOptions& m_options;
    const std::string m_what;
};

}  // namespace

util::Status put_blob(Session& session, const OciImage& image, const std::string& repository, const Descriptor& blob,
                      const std::string& mount_from, const RegistryClientOptions& options, BlobAction& action,
                      const std::atomic<bool>& abort) {
    BlobUpload upload(session, image, repository, blob, options);
    return session.retrying(
        "blob " + blob.digest, [&](Attempt& attempt) { return upload.attempt(mount_from, action, attempt); }, &abort);
}

}  // namespace hookyard::pipeline::detail
