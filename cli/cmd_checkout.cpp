// hookyard checkout: the checkout stage on its own, for operators (debug a clone URL, credentials or a
// rule's context/dockerfile) and for bench/checkout.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "cli/commands.hpp"
#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/locate.hpp"
#include "util/log.hpp"

namespace hookyard::cli {

namespace {

constexpr const char* k_usage =
    "usage: hookyard checkout --mirror-dir DIR --url URL --ref REF [--commit SHA] --dest DIR\n"
    "                         [--key OWNER/NAME] [--submodules] [--token-env VAR] [--ssh-key FILE]\n"
    "                         [--known-hosts FILE] [--context DIR --dockerfile FILE]\n"
    "                         [--pool-dir DIR [--recycle OLD_DEST]]\n"
    "Fetches REF into the mirror under --mirror-dir (created on first use) and checks out SHA (default: the\n"
    "ref's head) into --dest, which is kept. The token is read from the environment variable named by\n"
    "--token-env so it never shows in the process list. With --context/--dockerfile, also locates the build.\n"
    "With --pool-dir, an idle work tree of the repository there is updated in place instead of writing\n"
    "every file; --recycle parks OLD_DEST (an earlier --dest) in the pool first, as a finished build does.\n";

}  // namespace

int cmd_checkout(const Args& args) {
    std::map<std::string, std::string> opt;
    bool submodules = false;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            std::printf("%s", k_usage);
            return 0;
        }
        if (a == "--submodules") {
            submodules = true;
        } else if (a.rfind("--", 0) == 0 && i + 1 < args.size()) {
            opt[a.substr(2)] = args[++i];
        } else {
            std::fprintf(stderr, "hookyard checkout: unexpected argument '%s'\n%s", a.c_str(), k_usage);
            return 2;
        }
    }
    static const char* const k_known[] = {"mirror-dir", "url",       "ref",     "commit",      "dest",
                                          "key",        "token-env", "ssh-key", "known-hosts", "context",
                                          "dockerfile", "pool-dir",  "recycle"};
    for (const auto& [name, value] : opt) {
        bool known = false;
        for (const char* k : k_known) known = known || name == k;
        if (!known) {
            std::fprintf(stderr, "hookyard checkout: unknown option --%s\n%s", name.c_str(), k_usage);
            return 2;
        }
    }
    if (opt["mirror-dir"].empty() || opt["url"].empty() || opt["dest"].empty() ||
        (opt["ref"].empty() && opt["commit"].empty())) {
        std::fprintf(stderr, "hookyard checkout: --mirror-dir, --url, --dest and --ref are required\n%s", k_usage);
        return 2;
    }

    pipeline::GitAuth auth;
    if (!opt["token-env"].empty()) {
        const char* token = std::getenv(opt["token-env"].c_str());
        if (token == nullptr || *token == '\0') {
            std::fprintf(stderr, "hookyard checkout: environment variable %s is not set\n", opt["token-env"].c_str());
            return 2;
        }
        auth.token = token;
        auth.credential_name = "$" + opt["token-env"];
    }
    auth.ssh_key_file = opt["ssh-key"];
    auth.ssh_known_hosts_file = opt["known-hosts"];
    if (auth.credential_name.empty()) auth.credential_name = auth.ssh_key_file.empty() ? "(none)" : auth.ssh_key_file;

    pipeline::MirrorCache cache(opt["mirror-dir"]);
    std::unique_ptr<pipeline::WorkTreePool> pool;
    if (!opt["pool-dir"].empty()) pool = std::make_unique<pipeline::WorkTreePool>(opt["pool-dir"]);
    auto service = pipeline::make_checkout_service(cache, pool.get());
    pipeline::CheckoutRequest req;
    req.repo_key = opt["key"].empty() ? pipeline::MirrorCache::key_for_url(opt["url"]) : opt["key"];
    req.clone_url = opt["url"];
    req.ref = opt["ref"];
    req.commit = opt["commit"];
    req.dest_dir = opt["dest"];
    req.submodules = submodules;
    req.auth = auth;

    const auto start = std::chrono::steady_clock::now();
    if (!opt["recycle"].empty()) {
        if (!pool) {
            std::fprintf(stderr, "hookyard checkout: --recycle needs --pool-dir\n%s", k_usage);
            return 2;
        }
        pool->give_back(req.repo_key, opt["recycle"]);
    }
    auto co = service->checkout(req);
    if (!co) {
        std::fprintf(stderr, "hookyard checkout: %s error: %s\n", std::string(util::to_string(co.error().kind)).c_str(),
                     co.error().message.c_str());
        return 1;
    }
    co->dir.keep();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::printf("checked out %s (%s) into %s in %lld ms: %s, received %zu objects (%zu bytes)%s\n", co->commit.c_str(),
                co->ref.c_str(), co->dir.path().c_str(), static_cast<long long>(ms.count()),
                co->stats.created ? "new mirror" : (co->reused_tree ? "mirror updated, tree reused" : "mirror updated"),
                co->stats.received_objects, co->stats.received_bytes,
                submodules ? (", " + std::to_string(co->submodules.size()) + " submodule(s)").c_str() : "");

    if (opt.count("context") != 0 || opt.count("dockerfile") != 0) {
        auto loc =
            pipeline::locate(co->dir.path(), opt.count("context") != 0 ? opt["context"] : "/", opt["dockerfile"]);
        if (!loc) {
            std::fprintf(stderr, "hookyard checkout: %s\n", loc.error().message.c_str());
            return 1;
        }
        std::printf("context %s, dockerfile %s\n", loc->context_dir.c_str(), loc->dockerfile.c_str());
    }
    return 0;
}

}  // namespace hookyard::cli
