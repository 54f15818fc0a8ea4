#include "cli/args.hpp"

#include <cstdio>

namespace hookyard::cli {
namespace {

const FlagSpec* find_flag(const ArgSpec& spec, const std::string& arg) {
    for (const auto& f : spec.flags) {
        if (arg == f.name || (!f.alias.empty() && arg == f.alias)) return &f;
    }
    return nullptr;
}

// "--name=VALUE" of a declared value flag: the flag, with `value` set.
const FlagSpec* find_flag_with_value(const ArgSpec& spec, const std::string& arg, std::string& value) {
    const auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) return nullptr;
    const FlagSpec* f = find_flag(spec, arg.substr(0, eq));
    if (f == nullptr || !f->takes_value) return nullptr;
    value = arg.substr(eq + 1);
    return f;
}

}  // namespace

std::string ParsedArgs::value(const std::string& name) const {
    const auto it = flag_values.find(name);
    return it == flag_values.end() || it->second.empty() ? std::string() : it->second.back();
}

const std::vector<std::string>& ParsedArgs::values(const std::string& name) const {
    static const std::vector<std::string> k_none;
    const auto it = flag_values.find(name);
    return it == flag_values.end() ? k_none : it->second;
}

bool ParsedArgs::has(const std::string& name) const { return given.count(name) != 0; }

ParsedArgs parse_args(const Args& args, const ArgSpec& spec) {
    ParsedArgs out;
    for (const auto& a : args) out.help = out.help || a == "--help" || a == "-h";
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        const bool followed = i + 1 < args.size();
        std::string inline_value;
        if (a == "--help" || a == "-h") continue;
        if (const FlagSpec* f = find_flag_with_value(spec, a, inline_value)) {
            out.given.insert(f->name);
            out.flag_values[f->name].push_back(inline_value);
        } else if (const FlagSpec* g = find_flag(spec, a)) {
            if (g->takes_value && !followed) {
                out.problems.push_back({ArgProblemKind::missing_value, a, false});
                continue;
            }
            out.given.insert(g->name);
            if (g->takes_value) out.flag_values[g->name].push_back(args[++i]);
        } else if (!a.empty() && a[0] == '-') {
            out.problems.push_back({ArgProblemKind::unknown_flag, a, followed});
            // A value flag we do not know: skip its value, so it is not taken for a positional.
            if (spec.unknown_flags_take_value && followed && a.rfind("--", 0) == 0) ++i;
        } else if (spec.positionals) {
            out.positionals.push_back(a);
        } else {
            out.problems.push_back({ArgProblemKind::unexpected_argument, a, followed});
        }
    }
    return out;
}

std::vector<FlagSpec> flags(std::initializer_list<const char*> with_value,
                            std::initializer_list<const char*> booleans) {
    std::vector<FlagSpec> out;
    for (const char* name : with_value) out.emplace_back(name);
    for (const char* name : booleans) out.push_back(bool_flag(name));
    return out;
}

int print_usage_error(const char* command, const std::string& message, const char* usage) {
    std::fprintf(stderr, "hookyard %s: %s\n%s", command, message.c_str(), usage);
    return 2;
}

int print_usage(const char* usage, bool help) {
    std::fprintf(help ? stdout : stderr, "%s", usage);
    return help ? 0 : 2;
}

}  // namespace hookyard::cli
