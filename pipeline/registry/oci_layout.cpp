#include "pipeline/registry/oci_layout.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "util/digest.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::make_error;

constexpr std::size_t k_max_manifest_bytes = 4u << 20;  // the distribution spec's limit for manifests

util::Result<std::string> read_small_file(const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) return make_error(ErrorKind::invalid_input, "cannot read " + path + ": " + ec.message());
    if (size > k_max_manifest_bytes) return make_error(ErrorKind::invalid_input, path + " is too large for a manifest");
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    if (!in) return make_error(ErrorKind::invalid_input, "cannot read " + path);
    return out.str();
}

util::Result<Descriptor> parse_descriptor(const nlohmann::json& j, const std::string& where) {
    if (!j.is_object() || !j.contains("digest") || !j["digest"].is_string() || !j.contains("size") ||
        !j["size"].is_number_unsigned()) {
        return make_error(ErrorKind::invalid_input, where + ": descriptor without digest/size");
    }
    Descriptor d;
    d.digest = j["digest"].get<std::string>();
    d.size = j["size"].get<std::uint64_t>();
    if (j.contains("mediaType") && j["mediaType"].is_string()) d.media_type = j["mediaType"].get<std::string>();
    if (!util::is_valid_digest(d.digest)) {
        return make_error(ErrorKind::invalid_input,
                          where + ": unsupported digest '" + d.digest + "' (only sha256 is supported)");
    }
    return d;
}

class Loader {
public:
    explicit Loader(OciImage& image) : m_image(image) {}

    util::Result<ManifestBlob> read_manifest(const Descriptor& d) {
        const std::string path = m_image.blob_path(d.digest);
        auto content = read_small_file(path);
        if (!content) return content.error();
        if (util::sha256_digest(*content) != d.digest || content->size() != d.size) {
            return make_error(ErrorKind::invalid_input, path +
                                                            " does not match its digest or size; the layout is "
                                                            "corrupt, export the image again");
        }
        return ManifestBlob{d, std::move(*content)};
    }

    // Collects a manifest's blobs, or for an index its manifests (depth first) and their blobs.
    util::Status walk(ManifestBlob& m) {
        nlohmann::json j = nlohmann::json::parse(m.content, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            return make_error(ErrorKind::invalid_input, m_image.blob_path(m.descriptor.digest) + " is not JSON");
        }
        if (m.descriptor.media_type.empty() && j.contains("mediaType") && j["mediaType"].is_string()) {
            m.descriptor.media_type = j["mediaType"].get<std::string>();
        }
        if (m.descriptor.media_type.empty()) {
            m.descriptor.media_type = j.contains("manifests") ? k_oci_index : k_oci_manifest;
        }
        const std::string where = m_image.blob_path(m.descriptor.digest);
        if (is_index_media_type(m.descriptor.media_type)) {
            if (!j.contains("manifests") || !j["manifests"].is_array()) {
                return make_error(ErrorKind::invalid_input, where + ": index without manifests");
            }
            for (const auto& entry : j["manifests"]) {
                auto d = parse_descriptor(entry, where);
                if (!d) return d.error();
                auto child = read_manifest(*d);
                if (!child) return child.error();
                if (auto st = walk(*child); !st) return st;
                m_image.children.push_back(std::move(*child));
            }
        } else {
            if (!j.contains("config")) return make_error(ErrorKind::invalid_input, where + ": manifest without config");
            auto config = parse_descriptor(j["config"], where);
            if (!config) return config.error();
            if (auto st = add_blob(*config); !st) return st;
            if (j.contains("layers") && j["layers"].is_array()) {
                for (const auto& layer : j["layers"]) {
                    auto d = parse_descriptor(layer, where);
                    if (!d) return d.error();
                    if (auto st = add_blob(*d); !st) return st;
                }
            }
        }
        return {};
    }

private:
    util::Status add_blob(const Descriptor& d) {
        if (!m_seen.insert(d.digest).second) return {};
        const std::string path = m_image.blob_path(d.digest);
        std::error_code ec;
        const auto size = fs::file_size(path, ec);
        if (ec) {
            return make_error(ErrorKind::invalid_input, "blob " + d.digest + " is missing from the layout (" + path +
                                                            "); export the image again");
        }
        if (size != d.size) {
            return make_error(ErrorKind::invalid_input, path + " has " + std::to_string(size) +
                                                            " bytes but the "
                                                            "manifest says " +
                                                            std::to_string(d.size));
        }
        m_image.blobs.push_back(d);
        return {};
    }

    OciImage& m_image;
    std::set<std::string> m_seen;
};

}  // namespace

bool is_index_media_type(std::string_view media_type) {
    return media_type == k_oci_index || media_type == k_docker_manifest_list;
}

std::string OciImage::blob_path(std::string_view digest) const {
    // Digests are validated on load, so "sha256:<hex>" cannot escape the layout.
    const auto colon = digest.find(':');
    const auto dir = blob_dirs.find(digest);
    return (dir == blob_dirs.end() ? layout_dir : dir->second) + "/blobs/" + std::string(digest.substr(0, colon)) +
           "/" + std::string(digest.substr(colon + 1));
}

std::uint64_t OciImage::total_blob_bytes() const {
    std::uint64_t total = 0;
    for (const auto& b : blobs) total += b.size;
    return total;
}

util::Result<OciImage> load_oci_layout(const std::string& dir, std::string_view ref_name) {
    OciImage image;
    image.layout_dir = dir;
    while (image.layout_dir.size() > 1 && image.layout_dir.back() == '/') image.layout_dir.pop_back();
    const std::string index_path = image.layout_dir + "/index.json";
    if (!fs::exists(image.layout_dir + "/oci-layout") || !fs::exists(index_path)) {
        return make_error(ErrorKind::invalid_input, dir +
                                                        " is not an OCI image layout (no oci-layout/index.json); "
                                                        "export one with `buildah push IMAGE oci:" +
                                                        dir + "`");
    }
    auto text = read_small_file(index_path);
    if (!text) return text.error();
    nlohmann::json index = nlohmann::json::parse(*text, nullptr, false);
    if (index.is_discarded() || !index.contains("manifests") || !index["manifests"].is_array() ||
        index["manifests"].empty()) {
        return make_error(ErrorKind::invalid_input, index_path + " lists no manifests");
    }
    const nlohmann::json* chosen = nullptr;
    std::string names;
    for (const auto& entry : index["manifests"]) {
        std::string name;
        // Checked, not get<std::string>() blindly: a name that is not a string would throw out of the loader.
        if (entry.contains("annotations") && entry["annotations"].contains("org.opencontainers.image.ref.name")) {
            const auto& value = entry["annotations"]["org.opencontainers.image.ref.name"];
            if (!value.is_string()) {
                return make_error(ErrorKind::invalid_input,
                                  index_path + ": an org.opencontainers.image.ref.name annotation is not a string");
            }
            name = value.get<std::string>();
        }
        names += (names.empty() ? "" : ", ") + (name.empty() ? std::string("(unnamed)") : name);
        if (!ref_name.empty() && name == ref_name) chosen = &entry;
    }
    if (ref_name.empty()) {
        if (index["manifests"].size() != 1) {
            return make_error(ErrorKind::invalid_input,
                              index_path + " holds several images (" + names + "); name one as DIR:NAME");
        }
        chosen = &index["manifests"][0];
    } else if (!chosen) {
        return make_error(ErrorKind::invalid_input,
                          index_path + " has no image named '" + std::string(ref_name) + "' (it has " + names + ")");
    }
    auto root = parse_descriptor(*chosen, index_path);
    if (!root) return root.error();
    Loader loader(image);
    auto manifest = loader.read_manifest(*root);
    if (!manifest) return manifest.error();
    image.root = std::move(*manifest);
    if (auto st = loader.walk(image.root); !st) return st.error();
    return image;
}

}  // namespace hookyard::pipeline
