#pragma once
// A build's SLSA v1 provenance as an in-toto statement (GET /api/v1/builds/{id}/provenance): the images it
// pushed as subjects; the repository, ref, commit, rule, Dockerfile, context, build-arg names and trigger
// as parameters; the commit and every resolved base image as dependencies. Build-arg values are left out
// (they may be secrets); so are credentials in the clone URL.

#include <nlohmann/json.hpp>

#include "storage/records.hpp"

namespace hookyard::api {

// The statement for `build` (any state; a build that pushed nothing has no subjects). Pure.
nlohmann::json provenance_statement(const storage::Build& build);

}  // namespace hookyard::api
