// The command line's observable contract, pinned: for each subcommand its --help, a missing argument, an
// unknown flag and a few usage/config errors, compared byte for byte (stdout, stderr, exit code) with the
// files in golden/, which were captured from the binary before the CLI was restructured. None of these
// cases touches the network, a registry or buildah.
//
// To re-capture after an INTENDED change of a text: HOOKYARD_UPDATE_GOLDEN=1 build/tests/integration_cli
// --gtest_filter='CliGolden*', then review the diff of tests/integration/cli/golden/.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/support.hpp"

namespace hookyard::test {
namespace {

struct GoldenCase {
    const char* name;  // file stem under golden/
    std::vector<std::string> args;
};

const std::string k_bad = "tests/integration/cli/golden/bad.yaml";
const std::string k_example = "examples/hookyard.yaml";

const std::vector<GoldenCase> k_cases = {
    {"top_help", {"--help"}},
    {"top_h", {"-h"}},
    {"top_help_word", {"help"}},
    {"top_no_args", {}},
    {"top_unknown_command", {"frobnicate"}},
    {"config_help", {"config", "--help"}},
    {"config_check_help", {"config", "check", "-c", k_example, "--help"}},
    {"config_missing_config", {"config", "check"}},
    {"config_missing_check", {"config"}},
    {"config_unknown_flag", {"config", "check", "--bogus"}},
    {"config_missing_value", {"config", "check", "-c"}},
    {"config_unreadable", {"config", "check", "-c", "/nonexistent/hookyard.yaml"}},
    {"config_invalid", {"config", "check", "-c", k_bad}},
    {"config_valid", {"config", "check", "--config", k_example}},
    {"config_valid_equals", {"config", "check", "--config=" + k_example}},
    {"serve_help", {"serve", "--help"}},
    {"serve_missing_config", {"serve"}},
    {"serve_unknown_flag", {"serve", "--bogus"}},
    {"serve_invalid_config", {"serve", "-c", k_bad}},
    {"serve_invalid_config_equals", {"serve", "--config=" + k_bad}},
    {"build_help", {"build", "--help"}},
    {"build_missing_repo", {"build", "-c", k_example, "--ref", "main"}},
    {"build_unknown_flag", {"build", "--bogus"}},
    {"build_invalid_config", {"build", "-c", k_bad, "--repo", "acme/web", "--ref", "main"}},
    {"build_unknown_repo", {"build", "-c", k_example, "--repo", "no/such", "--ref", "main"}},
    {"build_nothing_to_build", {"build", "-c", k_example, "--repo", "acme/web", "--ref", "refs/tags/zz-no-rule"}},
    {"checkout_help", {"checkout", "--help"}},
    {"checkout_missing_args", {"checkout"}},
    {"checkout_unknown_flag", {"checkout", "--bogus", "x"}},
    {"checkout_unexpected_argument", {"checkout", "extra"}},
    {"checkout_missing_value", {"checkout", "--url"}},
    {"checkout_token_env_unset",
     {"checkout", "--mirror-dir", "m", "--url", "u", "--dest", "d", "--ref", "r", "--token-env",
      "HOOKYARD_GOLDEN_UNSET"}},
    {"push_help", {"push", "--help"}},
    {"push_missing_args", {"push"}},
    {"push_unknown_flag", {"push", "--bogus", "layout", "reg/repo"}},
    {"push_missing_value", {"push", "layout", "reg/repo", "--username"}},
    {"push_bad_parallel", {"push", "layout", "reg/repo", "--parallel", "0"}},
    {"push_password_without_user", {"push", "layout", "reg/repo", "--password-stdin"}},
    {"push_invalid_config", {"push", "layout", "reg/repo", "-c", k_bad}},
    {"push_no_layout", {"push", "/nonexistent/layout", "reg/repo"}},
    {"build_local_help", {"build-local", "--help"}},
    {"build_local_missing_args", {"build-local"}},
    {"build_local_unknown_flag", {"build-local", "--bogus", "x"}},
    {"build_local_unknown_flag_last", {"build-local", "--bogus"}},
    {"build_local_missing_value", {"build-local", "--context"}},
    {"build_local_bad_timeout", {"build-local", "--timeout", "abc"}},
    {"build_local_bad_build_arg", {"build-local", "--build-arg", "novalue"}},
    {"build_local_positional", {"build-local", "extra", "x"}},
    {"migrate_help", {"migrate", "--help"}},
    {"migrate_missing_config", {"migrate"}},
    {"migrate_invalid_config", {"migrate", "-c", k_bad}},
};

// The secrets examples/hookyard.yaml takes from the environment (it has no defaults).
const std::string k_example_env =
    "export GITHUB_WEBHOOK_SECRET=golden-webhook-secret-0123456789 HOOKYARD_API_TOKEN=golden-api-token-0123456789 "
    "OPS_SECRET=golden-ops-secret-0123456789; ";

std::string golden_dir() { return source_dir() + "/tests/integration/cli/golden"; }

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

struct Outcome {
    std::string out, err, code;
};

// Runs build/hookyard from the source root (so paths in messages are relative and stable), stdin empty.
Outcome run_case(const GoldenCase& c, const TempDir& tmp) {
    std::string script = "cd " + quote(source_dir()) + " && unset HOOKYARD_GOLDEN_UNSET; " + k_example_env +
                         quote(binary_dir() + "/hookyard");
    for (const auto& a : c.args) script += " " + quote(a);
    script += " >" + quote(tmp / "out") + " 2>" + quote(tmp / "err") + " </dev/null; echo $?";
    Outcome o;
    sh(script, &o.code);
    o.out = read_file(tmp / "out");
    o.err = read_file(tmp / "err");
    return o;
}

class CliGolden : public testing::TestWithParam<GoldenCase> {};

TEST_P(CliGolden, StdoutStderrAndExitCodeMatch) {
    const GoldenCase& c = GetParam();
    TempDir tmp;
    const Outcome got = run_case(c, tmp);
    const std::string stem = golden_dir() + "/" + c.name;
    if (std::getenv("HOOKYARD_UPDATE_GOLDEN") != nullptr) {
        write_file(stem + ".stdout", got.out);
        write_file(stem + ".stderr", got.err);
        write_file(stem + ".exit", got.code);
    }
    ASSERT_TRUE(std::filesystem::exists(stem + ".exit")) << "no golden files for " << c.name;
    EXPECT_EQ(got.code, read_file(stem + ".exit")) << c.name;
    EXPECT_EQ(got.out, read_file(stem + ".stdout")) << c.name;
    EXPECT_EQ(got.err, read_file(stem + ".stderr")) << c.name;
}

INSTANTIATE_TEST_SUITE_P(Cases, CliGolden, testing::ValuesIn(k_cases),
                         [](const testing::TestParamInfo<GoldenCase>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace hookyard::test
