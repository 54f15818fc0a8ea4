#pragma once
// Writes OCI image layouts for registry tests without a build engine: deterministic blobs (or large
// pseudo-random ones streamed to disk), image manifests and multi-platform indexes.
// Header-only; it hashes with util's Sha256.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "pipeline/registry/oci_layout.hpp"
#include "util/digest.hpp"

namespace hookyard::test {

class OciLayoutWriter {
public:
    // Creates `dir` with its oci-layout marker and an empty blobs/sha256.
    explicit OciLayoutWriter(std::string dir) : m_dir(std::move(dir)) {
        std::filesystem::create_directories(m_dir + "/blobs/sha256");
        std::ofstream(m_dir + "/oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
    }

    const std::string& dir() const { return m_dir; }

    // Stores `content` as a blob.
    pipeline::Descriptor add_blob(const std::string& content, const std::string& media_type) {
        const std::string digest = util::sha256_digest(content);
        std::ofstream(blob_path(digest), std::ios::binary) << content;
        return {media_type, digest, content.size()};
    }

    // Streams `size` pseudo-random bytes (xorshift from `seed`) into a blob; memory stays at 1 MiB.
    pipeline::Descriptor add_random_blob(std::uint64_t size, std::uint64_t seed,
                                         const std::string& media_type = "application/vnd.oci.image.layer.v1.tar") {
        const std::string tmp = m_dir + "/blobs/sha256/.incoming";
        util::Sha256 hash;
        {
            std::ofstream out(tmp, std::ios::binary);
            std::vector<std::uint64_t> buf(1 << 17);
            std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
            for (std::uint64_t left = size; left > 0;) {
                for (auto& w : buf) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    w = x;
                }
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size() * 8));
                const std::string_view chunk(reinterpret_cast<const char*>(buf.data()), n);
                hash.update(chunk);
                out.write(chunk.data(), static_cast<std::streamsize>(n));
                left -= n;
            }
            if (!out) throw std::runtime_error("cannot write " + tmp);
        }
        const std::string digest = hash.digest();
        std::filesystem::rename(tmp, blob_path(digest));
        return {media_type, digest, size};
    }

    // Stores an image manifest (config blob made from `label`) for `layers`.
    pipeline::Descriptor add_manifest(const std::vector<pipeline::Descriptor>& layers, const std::string& label,
                                      const std::string& arch = "amd64") {
        nlohmann::json diff_ids = nlohmann::json::array();
        for (const auto& l : layers) diff_ids.push_back(l.digest);
        const nlohmann::json config = {{"architecture", arch},
                                       {"os", "linux"},
                                       {"config", {{"Labels", {{"test", label}}}}},
                                       {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
        const auto cfg = add_blob(config.dump(), "application/vnd.oci.image.config.v1+json");
        nlohmann::json manifest = {{"schemaVersion", 2},
                                   {"mediaType", pipeline::k_oci_manifest},
                                   {"config", descriptor_json(cfg)},
                                   {"layers", nlohmann::json::array()}};
        for (const auto& l : layers) manifest["layers"].push_back(descriptor_json(l));
        return add_blob(manifest.dump(), std::string(pipeline::k_oci_manifest));
    }

    // Stores an image index over `manifests` (one platform each: linux/<arch>).
    pipeline::Descriptor add_index(const std::vector<std::pair<pipeline::Descriptor, std::string>>& manifests) {
        nlohmann::json index = {
            {"schemaVersion", 2}, {"mediaType", pipeline::k_oci_index}, {"manifests", nlohmann::json::array()}};
        for (const auto& [d, arch] : manifests) {
            auto j = descriptor_json(d);
            j["platform"] = {{"architecture", arch}, {"os", "linux"}};
            index["manifests"].push_back(j);
        }
        return add_blob(index.dump(), std::string(pipeline::k_oci_index));
    }

    // Writes index.json naming `root` as `ref_name`.
    void set_root(const pipeline::Descriptor& root, const std::string& ref_name = "latest") {
        auto j = descriptor_json(root);
        j["annotations"] = {{"org.opencontainers.image.ref.name", ref_name}};
        const nlohmann::json index = {{"schemaVersion", 2}, {"manifests", nlohmann::json::array({j})}};
        std::ofstream(m_dir + "/index.json") << index.dump();
    }

    std::string blob_path(const std::string& digest) const { return m_dir + "/blobs/sha256/" + digest.substr(7); }

    static nlohmann::json descriptor_json(const pipeline::Descriptor& d) {
        return {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
    }

private:
    std::string m_dir;
};

// A single-platform image of `layer_sizes` pseudo-random layers; returns its manifest digest.
inline std::string write_test_image(const std::string& dir, const std::vector<std::uint64_t>& layer_sizes,
                                    std::uint64_t seed, const std::string& ref_name = "latest") {
    OciLayoutWriter w(dir);
    std::vector<pipeline::Descriptor> layers;
    for (std::size_t i = 0; i < layer_sizes.size(); ++i)
        layers.push_back(w.add_random_blob(layer_sizes[i], seed * 100 + i));
    const auto m = w.add_manifest(layers, "seed-" + std::to_string(seed));
    w.set_root(m, ref_name);
    return m.digest;
}

}  // namespace hookyard::test
