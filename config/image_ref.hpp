#pragma once
// Image naming by the OCI distribution spec and Docker's reference grammar: repository names, tags,
// registry endpoints (Docker Hub's aliases), and the sanitising of rendered tags.

#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hookyard::config {

// True when `name` matches the distribution spec's repository grammar
// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
bool is_valid_repository_name(std::string_view name);

// True when `tag` matches [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
bool is_valid_tag(std::string_view tag);

// Makes a rendered tag valid the way Docker Hub does: '/' becomes '-', characters outside
// [A-Za-z0-9_.-] are dropped, leading '.' and '-' are dropped, the result is cut to 128 characters.
// Returns an empty string when nothing valid remains.
std::string sanitize_tag(std::string_view rendered);

struct Endpoint {
    std::string api_base;  // scheme://host[:port]
    std::string host;      // the host as written in image references (docker.io for Docker Hub)
    bool docker_hub = false;
};

// Normalises a registry endpoint: docker.io, index.docker.io and registry-1.docker.io (with or without
// https://) mean Docker Hub; a bare host means https; http:// is kept only when written.
util::Result<Endpoint> normalize_endpoint(std::string_view endpoint);

// An image reference split into registry host, repository path and tag.
struct ImageRef {
    std::string host;        // e.g. docker.io, localhost:5000
    std::string repository;  // e.g. library/busybox, acme/web
    std::string tag;         // empty when the reference had none
    // host/repository[:tag]
    std::string str() const;
};

// Parses "[host/]path[:tag]" with Docker's rule: the first component is a host when it contains '.' or
// ':' or is "localhost"; otherwise the host is docker.io. Docker Hub one-component names get "library/".
util::Result<ImageRef> parse_image_ref(std::string_view ref);

// True when the first path component of `name` is a registry host by Docker's rule.
bool has_registry_host(std::string_view name);

}  // namespace hookyard::config
