#pragma once
// SHA-256 content digests in the OCI form "sha256:<64 lowercase hex>".

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hookyard::util {

// True when `digest` is "sha256:" followed by 64 lowercase hex digits (the only algorithm we push; the
// check also keeps digests safe to use as file names).
bool is_valid_digest(std::string_view digest);

// Incremental SHA-256. Not thread-safe; copyable state via snapshot()/restore() so a caller can rewind
// to a chunk boundary when that chunk is sent again.
class Sha256 {
public:
    Sha256();
    void update(std::string_view data);
    // "sha256:<hex>" of everything fed so far; the hasher can keep going afterwards.
    std::string digest() const;
    // Copies the current state into `into` (both stay usable).
    void copy_to(Sha256& into) const;

private:
    struct Free {
        void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
    };
    std::unique_ptr<EVP_MD_CTX, Free> m_ctx;
};

// Digest of a whole string.
std::string sha256_digest(std::string_view data);

// Digest of a file, read in chunks; invalid_input when it cannot be read.
util::Result<std::string> sha256_file(const std::string& path);

}  // namespace hookyard::util
