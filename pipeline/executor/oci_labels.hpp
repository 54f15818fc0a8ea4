#pragma once
// Image config labels written into an exported OCI layout. buildah 1.28 turns every `--label` of `buildah
// build` into a LABEL step of its own (a commit and an image each, kept by the layer cache); the labels
// that change at every build (created, revision) would leave two images per build in buildah's storage for
// good. So builds carry no labels, and the export stamps them into the layout instead.

#include <map>
#include <string>

#include "util/result.hpp"

namespace hookyard::pipeline {

struct StampedLayout {
    std::string manifest_digest;  // "sha256:<hex>": what the layout names now
    std::string built_config;     // the config digest before the labels: the id buildah gave the image
};

// Sets `labels` (over any of the same name) in config.Labels of the image named `ref_name` in the OCI
// layout `layout_dir` (as `buildah push IMG oci:DIR:REF` writes it): writes the new config blob and a new
// manifest pointing at it, repoints that entry of index.json (written by rename, so the layout is never
// half-updated), and removes the replaced blobs when the layout holds only that image. The manifest
// digest stays as it was when `labels` is empty. Errors are
// internal (the layout is not as buildah writes it, or cannot be written), naming the file. Not
// thread-safe for one layout; different layouts are independent.
util::Result<StampedLayout> stamp_layout_labels(const std::string& layout_dir, const std::string& ref_name,
                                                const std::map<std::string, std::string>& labels);

}  // namespace hookyard::pipeline
