// hookyard checkout: the checkout stage on its own, for operators (debug a clone URL, credentials or a
// rule's context/dockerfile) and for bench/checkout.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "cli/commands.hpp"
#include "pipeline/checkout/checkout.hpp"
#include "pipeline/checkout/locate.hpp"
#include "util/log.hpp"

namespace hookyard::cli {

namespace {

const ArgSpec& spec() {
    static const ArgSpec k_spec(
        flags({"--mirror-dir", "--url", "--ref", "--commit", "--dest", "--key", "--token-env", "--ssh-key",
               "--known-hosts", "--context", "--dockerfile", "--pool-dir", "--recycle"},
              {"--submodules"}),
        /*unknown_take_value=*/true, /*allow_positionals=*/false);
    return k_spec;
}

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

int usage_error(const std::string& message) { return print_usage_error("checkout", message, k_usage); }

// The usage error of a command line, if any: stray arguments first, then unknown "--name VALUE" options
// (the first by name).
std::optional<int> check_usage(const ParsedArgs& parsed) {
    std::string unknown;
    for (const auto& p : parsed.problems) {
        if (p.kind != ArgProblemKind::unknown_flag || !p.followed || p.arg.rfind("--", 0) != 0) {
            return usage_error("unexpected argument '" + p.arg + "'");
        }
        if (unknown.empty() || p.arg < unknown) unknown = p.arg;
    }
    if (!unknown.empty()) return usage_error("unknown option " + unknown);
    if (parsed.value("--mirror-dir").empty() || parsed.value("--url").empty() || parsed.value("--dest").empty() ||
        (parsed.value("--ref").empty() && parsed.value("--commit").empty())) {
        return usage_error("--mirror-dir, --url, --dest and --ref are required");
    }
    return std::nullopt;
}

// The credentials named on the command line; the token itself comes from the environment.
std::optional<pipeline::GitAuth> auth_from(const ParsedArgs& parsed) {
    pipeline::GitAuth auth;
    if (const std::string var = parsed.value("--token-env"); !var.empty()) {
        const char* token = std::getenv(var.c_str());
        if (token == nullptr || *token == '\0') {
            std::fprintf(stderr, "hookyard checkout: environment variable %s is not set\n", var.c_str());
            return std::nullopt;
        }
        auth.token = token;
        auth.credential_name = "$" + var;
    }
    auth.ssh_key_file = parsed.value("--ssh-key");
    auth.ssh_known_hosts_file = parsed.value("--known-hosts");
    if (auth.credential_name.empty()) auth.credential_name = auth.ssh_key_file.empty() ? "(none)" : auth.ssh_key_file;
    return auth;
}

pipeline::CheckoutRequest request_from(const ParsedArgs& parsed, pipeline::GitAuth auth) {
    pipeline::CheckoutRequest req;
    const std::string url = parsed.value("--url");
    req.repo_key = parsed.value("--key").empty() ? pipeline::MirrorCache::key_for_url(url) : parsed.value("--key");
    req.clone_url = url;
    req.ref = parsed.value("--ref");
    req.commit = parsed.value("--commit");
    req.dest_dir = parsed.value("--dest");
    req.submodules = parsed.has("--submodules");
    req.auth = std::move(auth);
    return req;
}

void print_result(const pipeline::Checkout& co, std::chrono::milliseconds ms, bool submodules) {
    std::printf("checked out %s (%s) into %s in %lld ms: %s, received %zu objects (%zu bytes)%s\n", co.commit.c_str(),
                co.ref.c_str(), co.dir.path().c_str(), static_cast<long long>(ms.count()),
                co.stats.created ? "new mirror" : (co.reused_tree ? "mirror updated, tree reused" : "mirror updated"),
                co.stats.received_objects, co.stats.received_bytes,
                submodules ? (", " + std::to_string(co.submodules.size()) + " submodule(s)").c_str() : "");
}

// --context/--dockerfile: where the build would run in the checked-out tree.
int print_location(const ParsedArgs& parsed, const std::string& dir) {
    if (!parsed.has("--context") && !parsed.has("--dockerfile")) return 0;
    auto loc =
        pipeline::locate(dir, parsed.has("--context") ? parsed.value("--context") : "/", parsed.value("--dockerfile"));
    if (!loc) {
        std::fprintf(stderr, "hookyard checkout: %s\n", loc.error().message.c_str());
        return 1;
    }
    std::printf("context %s, dockerfile %s\n", loc->context_dir.c_str(), loc->dockerfile.c_str());
    return 0;
}

}  // namespace

int cmd_checkout(const Args& args) {
    const auto parsed = parse_args(args, spec());
    if (parsed.help) return print_usage(k_usage, true);
    if (auto code = check_usage(parsed)) return *code;
    auto auth = auth_from(parsed);
    if (!auth) return 2;

    pipeline::MirrorCache cache(parsed.value("--mirror-dir"));
    std::unique_ptr<pipeline::WorkTreePool> pool;
    if (!parsed.value("--pool-dir").empty())
        pool = std::make_unique<pipeline::WorkTreePool>(parsed.value("--pool-dir"));
    auto service = pipeline::make_checkout_service(cache, pool.get());
    const auto req = request_from(parsed, std::move(*auth));

    const auto start = std::chrono::steady_clock::now();
    if (!parsed.value("--recycle").empty()) {
        if (!pool) return usage_error("--recycle needs --pool-dir");
        pool->give_back(req.repo_key, parsed.value("--recycle"));
    }
    auto co = service->checkout(req);
    if (!co) {
        std::fprintf(stderr, "hookyard checkout: %s error: %s\n", std::string(util::to_string(co.error().kind)).c_str(),
                     co.error().message.c_str());
        return 1;
    }
    co->dir.keep();
    print_result(*co, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start),
                 req.submodules);
    return print_location(parsed, co->dir.path());
}

}  // namespace hookyard::cli
