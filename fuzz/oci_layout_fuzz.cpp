// libFuzzer target: the OCI image layout loader (pipeline/registry/oci_layout.hpp).
// A layout is a directory, so the input describes one: parts separated by a line "----", the first the
// ref name to load (may be empty), the second index.json, each further one a blob stored under its own
// sha256. So that manifests can point at blobs, "@N" in a part becomes blob N's digest and "#N" its size
// (N = 1…9, only blobs after the part, which are final by then). The loader must return an image or an
// error, never throw, and a loaded image's manifests match their digests.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/registry/oci_layout.hpp"
#include "util/digest.hpp"

namespace {

namespace fs = std::filesystem;
using hookyard::util::sha256_digest;

std::vector<std::string> split_parts(std::string_view input) {
    constexpr std::string_view k_separator = "\n----\n";
    std::vector<std::string> parts;
    while (true) {
        const auto at = input.find(k_separator);
        parts.emplace_back(input.substr(0, at));
        if (at == std::string_view::npos) return parts;
        input.remove_prefix(at + k_separator.size());
    }
}

// Replaces @N/#N in `part` by the digest/size of blob N (parts[N + 1]) when N > `self`.
std::string substitute(const std::string& part, const std::vector<std::string>& blobs, std::size_t self) {
    std::string out;
    for (std::size_t i = 0; i < part.size(); ++i) {
        const char c = part[i];
        if ((c == '@' || c == '#') && i + 1 < part.size() && part[i + 1] >= '1' && part[i + 1] <= '9') {
            const auto n = static_cast<std::size_t>(part[i + 1] - '0');
            if (n > self && n <= blobs.size()) {
                out += c == '@' ? sha256_digest(blobs[n - 1]) : std::to_string(blobs[n - 1].size());
                ++i;
                continue;
            }
        }
        out += c;
    }
    return out;
}

void write_file(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

// A private temporary directory, removed when the fuzzer exits.
struct WorkDir {
    fs::path path;
    WorkDir() {
        std::string templ = (fs::temp_directory_path() / "hookyard-oci-fuzz-XXXXXX").string();
        if (mkdtemp(templ.data()) == nullptr) std::abort();
        path = templ;
    }
    ~WorkDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

const fs::path& work_dir() {
    static const WorkDir k_dir;
    return k_dir.path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto parts = split_parts(std::string_view(reinterpret_cast<const char*>(data), size));
    if (parts.size() < 2) return 0;
    // Blob N is parts[N + 1]; the last blob first, so every blob a part names is final.
    std::vector<std::string> blobs(parts.begin() + 2, parts.end());
    for (std::size_t n = blobs.size(); n >= 1; --n) blobs[n - 1] = substitute(blobs[n - 1], blobs, n);
    const std::string index = substitute(parts[1], blobs, 0);

    const fs::path layout = work_dir() / "layout";
    fs::remove_all(layout);
    fs::create_directories(layout / "blobs" / "sha256");
    write_file(layout / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    write_file(layout / "index.json", index);
    for (const auto& blob : blobs) {
        write_file(layout / "blobs" / "sha256" / sha256_digest(blob).substr(7), blob);
    }
    auto image = hookyard::pipeline::load_oci_layout(layout.string(), parts[0]);
    if (image.ok() && sha256_digest(image->root.content) != image->root.descriptor.digest) __builtin_trap();
    return 0;
}
