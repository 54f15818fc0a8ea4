#include "pipeline/executor/oci_labels.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/digest.hpp"

namespace hookyard::pipeline {
namespace {

namespace fs = std::filesystem;
using util::ErrorKind;
using util::make_error;
// Ordered: the rewritten config and manifest keep buildah's key order, only the changed fields differ.
using LayoutJson = nlohmann::ordered_json;

struct WrittenBlob {
    std::string digest;
    std::uint64_t size = 0;
};

// A digest that names a file inside the layout ("sha256:<64 lowercase hex>"; nothing else, no "../").
bool is_layout_digest(const LayoutJson& value) {
    return value.is_string() && util::is_valid_digest(value.get_ref<const std::string&>());
}

std::string layout_blob_path(const std::string& dir, const std::string& digest) {
    return dir + "/blobs/sha256/" + digest.substr(7);
}

util::Result<LayoutJson> read_layout_json(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    auto json = LayoutJson::parse(text.str(), nullptr, false);
    if (!in || json.is_discarded() || !json.is_object()) {
        return make_error(ErrorKind::internal, "cannot read the JSON object in " + path +
                                                   "; the exported OCI layout is damaged, build again");
    }
    return json;
}

// Writes `content` to `path` through a temporary file and a rename: readers see the old or the new file.
util::Status replace_layout_file(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".hookyard-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
        if (!out.flush()) return make_error(ErrorKind::internal, "cannot write " + tmp + " (disk full?)");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) return make_error(ErrorKind::internal, "cannot rename " + tmp + ": " + ec.message());
    return {};
}

util::Result<WrittenBlob> write_layout_blob(const std::string& dir, const LayoutJson& json) {
    // Labels come from commits and URLs: invalid UTF-8 is replaced rather than thrown on.
    const std::string content = json.dump(-1, ' ', false, LayoutJson::error_handler_t::replace);
    const WrittenBlob blob{util::sha256_digest(content), content.size()};
    if (auto st = replace_layout_file(layout_blob_path(dir, blob.digest), content); !st) return st.error();
    return blob;
}

// The index.json entry named `ref_name` (the only entry when `ref_name` is empty); null when none.
LayoutJson* find_layout_entry(LayoutJson& index, const std::string& ref_name) {
    auto& manifests = index["manifests"];
    if (!manifests.is_array()) return nullptr;
    if (ref_name.empty()) return manifests.size() == 1 ? &manifests[0] : nullptr;
    for (auto& entry : manifests) {
        const auto annotations = entry.find("annotations");
        if (annotations == entry.end() || !annotations->is_object()) continue;
        const auto name = annotations->find("org.opencontainers.image.ref.name");
        if (name != annotations->end() && name->is_string() && *name == ref_name) return &entry;
    }
    return nullptr;
}

// Points `descriptor` ({digest, size, …}) at the blob written from `json`; the replaced digest in `old`.
util::Status repoint(const std::string& dir, LayoutJson& descriptor, const LayoutJson& json, std::string& old) {
    auto blob = write_layout_blob(dir, json);
    if (!blob) return blob.error();
    old = descriptor["digest"].get<std::string>();
    descriptor["digest"] = blob->digest;
    descriptor["size"] = blob->size;
    return {};
}

}  // namespace

util::Result<StampedLayout> stamp_layout_labels(const std::string& layout_dir, const std::string& ref_name,
                                                const std::map<std::string, std::string>& labels) {
    const std::string index_path = layout_dir + "/index.json";
    auto index = read_layout_json(index_path);
    if (!index) return index.error();
    LayoutJson* entry = find_layout_entry(*index, ref_name);
    if (entry == nullptr || !entry->is_object() || !is_layout_digest((*entry)["digest"])) {
        return make_error(ErrorKind::internal, index_path + " has no image named '" + ref_name + "' to label");
    }
    const std::string manifest_path = layout_blob_path(layout_dir, (*entry)["digest"].get<std::string>());
    auto manifest = read_layout_json(manifest_path);
    if (!manifest) return manifest.error();
    auto& config_descriptor = (*manifest)["config"];
    if (!config_descriptor.is_object() || !is_layout_digest(config_descriptor["digest"])) {
        return make_error(ErrorKind::internal, manifest_path + " names no image config to label");
    }
    StampedLayout stamped{(*entry)["digest"].get<std::string>(), config_descriptor["digest"].get<std::string>()};
    if (labels.empty()) return stamped;
    auto config = read_layout_json(layout_blob_path(layout_dir, config_descriptor["digest"].get<std::string>()));
    if (!config) return config.error();
    auto& run_config = (*config)["config"];
    if (!run_config.is_object()) run_config = LayoutJson::object();
    auto& config_labels = run_config["Labels"];
    if (!config_labels.is_object()) config_labels = LayoutJson::object();
    for (const auto& [name, value] : labels) config_labels[name] = value;
    std::string old_config, old_manifest;
    if (auto st = repoint(layout_dir, config_descriptor, *config, old_config); !st) return st.error();
    if (auto st = repoint(layout_dir, *entry, *manifest, old_manifest); !st) return st.error();
    if (auto st = replace_layout_file(index_path, index->dump(-1, ' ', false, LayoutJson::error_handler_t::replace));
        !st) {
        return st.error();
    }
    // With other images in the layout the old blobs may be theirs too; a fresh build's layout has one.
    if ((*index)["manifests"].size() == 1) {
        std::error_code ec;
        for (const auto* old : {&old_config, &old_manifest}) {
            if (*old != config_descriptor["digest"] && *old != (*entry)["digest"]) {
                fs::remove(layout_blob_path(layout_dir, *old), ec);
            }
        }
    }
    stamped.manifest_digest = (*entry)["digest"].get<std::string>();
    return stamped;
}

}  // namespace hookyard::pipeline
