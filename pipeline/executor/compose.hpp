#pragma once
// Docker Hub's autotest files: every *.test.yml next to the Dockerfile is a Compose file whose `sut` service
// is the test. hookyard runs this subset of Compose, strictly (anything else is an error naming the key and
// FILE:LINE, never silently ignored):
//   top level:  services (required), version and name (ignored), x-* (ignored)
//   a service:  image, build (only `.`: the image this build built), command and entrypoint (a string split
//               like a shell word list, or a list), environment (a map or a list of KEY=VALUE), working_dir,
//               depends_on (a list, or a map whose entries have at most `condition: service_started`), x-*
// `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR-default}` in values name Docker Hub's variables
// (IMAGE_NAME, DOCKER_REPO, ...); `$$` is a `$`; any other variable is an error. `image: $IMAGE_NAME` is,
// like `build: .`, the image under test.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace hookyard::pipeline {

struct ComposeService {
    std::string name;
    int line = 0;                                        // where the service is defined (1-based)
    bool build_image = false;                            // `build: .` or `image: $IMAGE_NAME`: the image under test
    std::string image;                                   // when not build_image: the image reference
    std::optional<std::vector<std::string>> entrypoint;  // replaces the image's Entrypoint (and its Cmd)
    std::optional<std::vector<std::string>> command;     // replaces the image's Cmd
    std::vector<std::string> environment;                // KEY=VALUE, in file order
    std::string working_dir;                             // "" = the image's
    std::vector<std::string> depends_on;
};

struct TestFile {
    std::string name;                      // as errors and the log show it, e.g. docker-compose.test.yml
    std::vector<ComposeService> services;  // what runs: sut's dependencies first (each once), sut last
};

// The *.test.yml files directly in `dir`, sorted by name; empty when there are none.
std::vector<std::string> find_test_files(const std::string& dir);

// Parses test file `text`, shown as `name` in errors (invalid_input "NAME:LINE: ..."). `vars` are what $VAR
// may name. Only `sut` and the services it depends on (transitively) are kept; an unknown or cyclic
// dependency, a missing `sut` or an image under test that is not `.` is an error.
util::Result<TestFile> parse_test_file(const std::string& name, const std::string& text,
                                       const std::map<std::string, std::string>& vars);

// Splits a command string as Compose does: words separated by blanks, '...' and "..." quoting, backslash
// escapes; no expansion. Error on an unclosed quote.
util::Result<std::vector<std::string>> split_command(const std::string& text);

// What a service's container runs, by Docker's rule: its entrypoint (or the image's) followed by its
// command; a service entrypoint drops the image's Cmd, a service command replaces it.
std::vector<std::string> container_argv(const ComposeService& service, const std::vector<std::string>& image_entrypoint,
                                        const std::vector<std::string>& image_cmd);

}  // namespace hookyard::pipeline
