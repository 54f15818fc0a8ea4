#include "util/digest.hpp"

#include <fstream>
#include <stdexcept>
#include <vector>

namespace hookyard::util {

bool is_valid_digest(std::string_view digest) {
    constexpr std::string_view k_prefix = "sha256:";
    if (digest.size() != k_prefix.size() + 64 || digest.substr(0, k_prefix.size()) != k_prefix) return false;
    for (char c : digest.substr(k_prefix.size())) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

Sha256::Sha256() : m_ctx(EVP_MD_CTX_new()) {
    // Allocation or init failure of a built-in digest is a broken OpenSSL installation: a start-up fault.
    if (!m_ctx || EVP_DigestInit_ex(m_ctx.get(), EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("OpenSSL cannot initialise SHA-256");
    }
}

void Sha256::update(std::string_view data) {
    if (EVP_DigestUpdate(m_ctx.get(), data.data(), data.size()) != 1) {
        throw std::runtime_error("OpenSSL SHA-256 update failed");
    }
}

std::string Sha256::digest() const {
    std::unique_ptr<EVP_MD_CTX, Free> copy(EVP_MD_CTX_new());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!copy || EVP_MD_CTX_copy_ex(copy.get(), m_ctx.get()) != 1 || EVP_DigestFinal_ex(copy.get(), md, &len) != 1) {
        throw std::runtime_error("OpenSSL SHA-256 finalisation failed");
    }
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out = "sha256:";
    for (unsigned i = 0; i < len; ++i) {
        out += k_hex[md[i] >> 4];
        out += k_hex[md[i] & 15];
    }
    return out;
}

void Sha256::copy_to(Sha256& into) const {
    if (EVP_MD_CTX_copy_ex(into.m_ctx.get(), m_ctx.get()) != 1) throw std::runtime_error("OpenSSL SHA-256 copy failed");
}

std::string sha256_digest(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.digest();
}

util::Result<std::string> sha256_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(ErrorKind::invalid_input, "cannot read " + path);
    Sha256 h;
    std::vector<char> buf(1 << 20);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (in.gcount() > 0) h.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
    }
    if (in.bad()) return make_error(ErrorKind::invalid_input, "error reading " + path);
    return h.digest();
}

}  // namespace hookyard::util
