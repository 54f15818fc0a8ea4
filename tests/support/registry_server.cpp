#include "tests/support/registry_server.hpp"

#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace hookyard::test {
namespace {

void must_run(const std::vector<std::string>& argv, const std::string& what) {
    std::string output;
    if (run(argv, &output) != 0) throw std::runtime_error(what + " failed: " + output);
}

// A certificate for `cn` signed by the CA in dir (or self-signed when ca is empty), EC P-256 for speed.
void make_cert(const std::string& dir, const std::string& name, const std::string& cn, const std::string& ca,
               const std::string& extensions, const std::string& key_type = "ec") {
    const std::string key = dir + "/" + name + ".key";
    const std::string crt = dir + "/" + name + ".crt";
    std::vector<std::string> keygen = {"openssl", "genpkey", "-out", key};
    if (key_type == "ec") {
        keygen.insert(keygen.end(), {"-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"});
    } else {
        keygen.insert(keygen.end(), {"-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"});
    }
    must_run(keygen, "openssl genpkey");
    const std::string ext_file = dir + "/" + name + ".ext";
    write_file(ext_file, extensions);
    if (ca.empty()) {
        must_run({"openssl", "req", "-x509", "-new", "-key", key, "-out", crt, "-days", "2", "-subj", "/CN=" + cn,
                  "-extensions", "v3", "-config", ext_file},
                 "openssl req -x509");
        return;
    }
    const std::string csr = dir + "/" + name + ".csr";
    must_run({"openssl", "req", "-new", "-key", key, "-out", csr, "-subj", "/CN=" + cn}, "openssl req");
    must_run({"openssl", "x509", "-req", "-in", csr, "-CA", dir + "/" + ca + ".crt", "-CAkey", dir + "/" + ca + ".key",
              "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext_file, "-extensions", "v3"},
             "openssl x509 -req");
}

}  // namespace

RegistryServer::RegistryServer(RegistryServerOptions options) : m_options(std::move(options)) {
    std::filesystem::create_directories(m_dir / "storage");
    m_port = free_port();
    if (m_options.tls) make_tls_material();

    std::ostringstream yaml;
    yaml << "version: 0.1\n"
         << "log:\n  level: info\n  accesslog:\n    disabled: false\n"
         << "storage:\n  filesystem:\n    rootdirectory: " << storage_dir() << "\n  delete:\n    enabled: true\n"
         << "http:\n  addr: 127.0.0.1:" << m_port << "\n";
    if (m_options.tls) {
        yaml << "  tls:\n    certificate: " << (m_dir / "server.crt") << "\n    key: " << (m_dir / "server.key")
             << "\n";
    }
    if (m_options.auth == RegistryServerOptions::Auth::htpasswd) {
        std::string line;
        if (run({"htpasswd", "-Bbn", m_options.username, m_options.password}, &line) != 0) {
            throw std::runtime_error("htpasswd failed (install apache2-utils): " + line);
        }
        write_file(m_dir / "htpasswd", line);
        yaml << "auth:\n  htpasswd:\n    realm: hookyard-test\n    path: " << (m_dir / "htpasswd") << "\n";
    } else if (m_options.auth == RegistryServerOptions::Auth::token) {
        start_token_issuer();
        yaml << "auth:\n  token:\n    realm: http://127.0.0.1:" << m_token_port << "/token\n"
             << "    service: hookyard-test-registry\n    issuer: hookyard-test-issuer\n"
             << "    rootcertbundle: " << (m_dir / "token.crt") << "\n";
    }
    write_file(m_dir / "config.yml", yaml.str());
    m_registry = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/docker-registry", "serve", m_dir / "config.yml"}, m_dir / "registry.log");
    const bool up = wait_until([&] { return port_open(m_port) || !m_registry->running(); }, std::chrono::seconds(20));
    if (!up || !m_registry->running()) throw std::runtime_error("docker-registry did not start:\n" + log());
}

RegistryServer::~RegistryServer() = default;

void RegistryServer::make_tls_material() {
    const std::string dir = m_dir.path();
    make_cert(
        dir, "ca", "hookyard test CA", "",
        "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n");
    make_cert(dir, "server", "127.0.0.1", "ca",
              "[v3]\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
    std::filesystem::create_directories(dir + "/certs");
    std::filesystem::copy_file(dir + "/ca.crt", dir + "/certs/ca.crt");
}

void RegistryServer::start_token_issuer() {
    const std::string dir = m_dir.path();
    make_cert(dir, "token", "hookyard test token issuer", "",
              "[req]\ndistinguished_name=dn\n[dn]\n[v3]\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n",
              "rsa");
    m_token_port = free_port();
    m_issuer = std::make_unique<Process>(
        std::vector<std::string>{"python3", source_dir() + "/tests/support/token_issuer.py",
                                 std::to_string(m_token_port), dir + "/token.key", dir + "/token.crt",
                                 "hookyard-test-issuer", m_options.username, m_options.password,
                                 m_options.read_only_prefix},
        dir + "/issuer.log");
    const bool up =
        wait_until([&] { return port_open(m_token_port) || !m_issuer->running(); }, std::chrono::seconds(20));
    if (!up || !m_issuer->running()) throw std::runtime_error("token issuer did not start:\n" + m_issuer->log());
}

std::string RegistryServer::host() const { return "127.0.0.1:" + std::to_string(m_port); }

std::string RegistryServer::url() const { return (m_options.tls ? "https://" : "http://") + host(); }

std::string RegistryServer::ca_file() const { return m_options.tls ? m_dir / "ca.crt" : ""; }

std::string RegistryServer::cert_dir() const { return m_options.tls ? m_dir / "certs" : ""; }

std::string RegistryServer::storage_dir() const { return m_dir / "storage"; }

std::vector<std::string> RegistryServer::skopeo_options(const std::string& prefix) const {
    const std::string p = prefix.empty() ? "--" : "--" + prefix + "-";
    std::vector<std::string> out;
    if (m_options.tls) {
        out.push_back(p + "cert-dir=" + cert_dir());
    } else {
        out.push_back(p + "tls-verify=false");
    }
    if (m_options.auth != RegistryServerOptions::Auth::none) {
        out.push_back(p + "creds=" + m_options.username + ":" + m_options.password);
    }
    return out;
}

std::vector<std::string> RegistryServer::requests() const {
    static const std::regex k_line(R"re("(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/1\.[01]")re");
    std::vector<std::string> out;
    std::istringstream in(log());
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (line.rfind("time=", 0) != 0 && std::regex_search(line, m, k_line))
            out.push_back(m[1].str() + " " + m[2].str());
    }
    return out;
}

std::string RegistryServer::token_challenge() const {
    return "Bearer realm=\"http://127.0.0.1:" + std::to_string(m_token_port) +
           "/token\",service=\"hookyard-test-registry\",error=\"invalid_token\"";
}

int RegistryServer::tokens_issued() const {
    if (!m_issuer) return 0;
    std::istringstream in(m_issuer->log());
    int n = 0;
    for (std::string line; std::getline(in, line);) n += line.rfind("issued ", 0) == 0 ? 1 : 0;
    return n;
}

std::string RegistryServer::log() const { return m_registry ? m_registry->log() : read_file(m_dir / "registry.log"); }

}  // namespace hookyard::test
