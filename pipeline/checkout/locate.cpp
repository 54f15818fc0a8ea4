#include "pipeline/checkout/locate.hpp"

#include <algorithm>
#include <filesystem>

namespace hookyard::pipeline {

namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& root, const fs::path& p) {
    auto r = root.begin();
    auto q = p.begin();
    for (; r != root.end(); ++r, ++q) {
        if (q == p.end() || *r != *q) return false;
    }
    return true;
}

// Lexically joins `rel` under the root; "" when it climbs above the root.
std::string normalise_inside(const fs::path& rel) {
    const fs::path norm = rel.lexically_normal();
    if (norm.empty() || norm == ".") return ".";
    if (*norm.begin() == "..") return "";
    std::string s = norm.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

util::Error escape_error(const std::string& what, const std::string& value, const std::string& why) {
    return util::make_error(util::ErrorKind::invalid_input,
                            what + " '" + value + "' " + why + "; it must name a path inside the repository");
}

std::string list_or_none(const std::vector<std::string>& files) {
    if (files.empty()) return "none";
    std::string out;
    for (const auto& f : files) out += (out.empty() ? "" : ", ") + f;
    return out;
}

}  // namespace

std::vector<std::string> find_dockerfiles(const std::string& checkout_root, std::size_t limit) {
    std::vector<std::string> found;
    std::error_code ec;
    fs::recursive_directory_iterator it(checkout_root, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (it->is_directory(ec) && !it->is_symlink(ec) && name == ".git") {
            it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
        const auto ends_with = [&](std::string_view suffix) {
            return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
        };
        if (name == "Dockerfile" || name.rfind("Dockerfile.", 0) == 0 || ends_with(".Dockerfile") ||
            ends_with(".dockerfile")) {
            found.push_back(fs::relative(it->path(), checkout_root, ec).string());
        }
    }
    std::sort(found.begin(), found.end());
    if (found.size() > limit) found.resize(limit);
    return found;
}

namespace {

// The lexical step: the context and the Dockerfile `df` (never empty) relative to the repository root
// (context_rel and dockerfile_rel), or why they do not name a path inside it.
util::Result<BuildLocation> relative_location(const std::string& context, const std::string& df) {
    if (fs::path(df).is_absolute())
        return escape_error("dockerfile", df, "is an absolute path; write it relative to the context");
    if (context.size() > 1 && context.front() == '/') {
        return escape_error("context", context,
                            "is an absolute path; write it relative to the repository root ('/' is the root)");
    }
    BuildLocation loc;
    if (context.empty()) {
        // No context: the Dockerfile (relative to the root) decides it, as Docker Hub does.
        loc.dockerfile_rel = normalise_inside(df);
        if (loc.dockerfile_rel.empty() || loc.dockerfile_rel == ".")
            return escape_error("dockerfile", df, "climbs out of the repository with '..'");
        const fs::path parent = fs::path(loc.dockerfile_rel).parent_path();
        loc.context_rel = parent.empty() ? "." : parent.string();
    } else {
        loc.context_rel = normalise_inside(context == "/" ? "." : context);
        if (loc.context_rel.empty()) return escape_error("context", context, "climbs out of the repository with '..'");
        loc.dockerfile_rel = normalise_inside(fs::path(loc.context_rel) / df);
        if (loc.dockerfile_rel.empty() || loc.dockerfile_rel == ".")
            return escape_error("dockerfile", df, "climbs out of the repository with '..'");
    }
    return loc;
}

}  // namespace

util::Result<BuildLocation> locate(const std::string& checkout_root, const std::string& context,
                                   const std::string& dockerfile) {
    std::error_code ec;
    const fs::path root = fs::canonical(checkout_root, ec);
    if (ec)
        return util::make_error(util::ErrorKind::internal,
                                "checkout " + checkout_root + " is not readable: " + ec.message());
    const std::string df = dockerfile.empty() ? "Dockerfile" : dockerfile;
    auto rel = relative_location(context, df);
    if (!rel) return rel.error();
    BuildLocation loc = std::move(rel).value();

    // Symlinks: resolve for real and check the result is still under the checkout.
    const fs::path ctx = fs::weakly_canonical(root / loc.context_rel, ec);
    if (ec || !inside(root, ctx)) {
        return escape_error("context", context.empty() ? loc.context_rel : context,
                            "resolves (through a symlink) to " + ctx.string() + ", outside the checkout");
    }
    if (!fs::is_directory(ctx, ec)) {
        return util::make_error(util::ErrorKind::not_found, "context directory '" + loc.context_rel +
                                                                "' does not exist in the repository; "
                                                                "Dockerfiles in the repository: " +
                                                                list_or_none(find_dockerfiles(root.string())) +
                                                                "; set the rule's context");
    }
    const fs::path file = fs::weakly_canonical(root / loc.dockerfile_rel, ec);
    if (ec || !inside(root, file)) {
        return escape_error("dockerfile", df,
                            "resolves (through a symlink) to " + file.string() + ", outside the checkout");
    }
    if (!fs::is_regular_file(file, ec)) {
        return util::make_error(
            util::ErrorKind::not_found,
            "Dockerfile not found at " + loc.dockerfile_rel + " (context '" + loc.context_rel +
                "'); Dockerfiles in the repository: " + list_or_none(find_dockerfiles(root.string())) +
                "; set the rule's dockerfile/context");
    }
    loc.context_dir = ctx.string();
    loc.dockerfile = file.string();
    return loc;
}

}  // namespace hookyard::pipeline
