#include "util/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>

namespace hookyard::util {

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const unsigned char* out = HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
    if (out == nullptr) return {};  // OpenSSL failure: an empty digest never matches a real signature
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        hex.push_back(k_hex[mac[i] >> 4]);
        hex.push_back(k_hex[mac[i] & 0xf]);
    }
    return hex;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

util::Status verify_github_signature(std::string_view secret, std::string_view body, std::string_view header) {
    using util::ErrorKind;
    if (secret.empty()) {
        return util::make_error(ErrorKind::auth,
                                "no webhook secret is configured: set server.webhook_secret "
                                "and the same secret on the GitHub webhook");
    }
    if (header.empty()) {
        return util::make_error(ErrorKind::auth,
                                "missing X-Hub-Signature-256 header: set a secret on the GitHub webhook "
                                "(the SHA-1 X-Hub-Signature alone is not accepted)");
    }
    constexpr std::string_view k_prefix = "sha256=";
    if (header.substr(0, k_prefix.size()) != k_prefix || header.size() != k_prefix.size() + 64) {
        return util::make_error(ErrorKind::auth, "X-Hub-Signature-256 is not of the form sha256=<64 hex digits>");
    }
    std::string given(header.substr(k_prefix.size()));
    for (auto& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!constant_time_equal(given, hmac_sha256_hex(secret, body))) {
        return util::make_error(ErrorKind::auth,
                                "X-Hub-Signature-256 does not match the body: the webhook secret "
                                "on GitHub differs from server.webhook_secret");
    }
    return {};
}

std::string callback_token(std::string_view key, std::int64_t build_id) {
    return hmac_sha256_hex(key, "hookyard-callback:" + std::to_string(build_id)).substr(0, 32);
}

}  // namespace hookyard::util
