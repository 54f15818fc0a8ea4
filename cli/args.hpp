#pragma once
// The one command-line parser of every subcommand: declared flags (with a value, or boolean), positionals,
// --help/-h, and the problems found, in argument order. Each subcommand decides what a problem means
// (most print their usage and exit 2; some ignore unknown flags, as they always did).

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace hookyard::cli {

// argv without the program name: args[0] is the subcommand.
using Args = std::vector<std::string>;

struct FlagSpec {
    FlagSpec(std::string long_name, std::string other = "", bool value = true)
        : name(std::move(long_name)), alias(std::move(other)), takes_value(value) {}
    std::string name;         // the long form, e.g. "--config"; values are looked up by it
    std::string alias;        // another spelling, e.g. "-c"; empty for none
    bool takes_value = true;  // "--name VALUE" or "--name=VALUE"; false for a boolean flag
};

// A boolean flag: present or not.
inline FlagSpec bool_flag(std::string name) { return FlagSpec(std::move(name), "", false); }

// Flags without an alias: value flags, then boolean flags.
std::vector<FlagSpec> flags(std::initializer_list<const char*> with_value,
                            std::initializer_list<const char*> booleans = {});

struct ArgSpec {
    ArgSpec(std::vector<FlagSpec> declared, bool unknown_take_value = false, bool allow_positionals = true)
        : flags(std::move(declared)), unknown_flags_take_value(unknown_take_value), positionals(allow_positionals) {}
    std::vector<FlagSpec> flags;
    // An undeclared "--name" followed by another argument takes it as its value (it is still reported as
    // unknown_flag, with followed = true).
    bool unknown_flags_take_value = false;
    // False: an argument not starting with '-' is an unexpected_argument problem, not a positional.
    bool positionals = true;
};

enum class ArgProblemKind {
    unknown_flag,         // an argument starting with '-' that is not declared
    missing_value,        // a declared value flag is the last argument
    unexpected_argument,  // a positional where the spec allows none
};

struct ArgProblem {
    ArgProblemKind kind;
    std::string arg;        // the argument as given
    bool followed = false;  // another argument came after it
};

struct ParsedArgs {
    // True when "--help" or "-h" is anywhere on the command line.
    bool help = false;
    std::vector<std::string> positionals;
    std::vector<ArgProblem> problems;  // in argument order

    // The last value given to flag `name` (its long form); "" when absent.
    std::string value(const std::string& name) const;
    // Every value given to flag `name`, in order.
    const std::vector<std::string>& values(const std::string& name) const;
    bool has(const std::string& name) const;  // a boolean flag or a value flag was given

    std::map<std::string, std::vector<std::string>> flag_values;  // long name → values, in order
    std::set<std::string> given;                                  // long names of the flags given
};

// Parses `args` from args[1] on. Never fails: what does not fit `spec` is in problems.
ParsedArgs parse_args(const Args& args, const ArgSpec& spec);

// Prints "hookyard COMMAND: MESSAGE" and `usage` to stderr; returns exit code 2.
int print_usage_error(const char* command, const std::string& message, const char* usage);

// Prints `usage` to stdout for --help (exit code 0) or to stderr for a usage error (exit code 2).
int print_usage(const char* usage, bool help);

}  // namespace hookyard::cli
