#include "storage/new_build.hpp"

namespace hookyard::storage {

NewBuild make_new_build(const config::RepositoryConfig& repo, const config::PlannedBuild& plan,
                        const std::string& ref) {
    NewBuild b;
    b.repository = repo.github;
    b.ref = ref;
    b.rule = plan.rule_index;
    b.image = plan.image_repository;
    b.tags = plan.tags;
    b.sanitized_tags = plan.sanitized_tags;
    b.clone_url = repo.clone_url;
    b.dockerfile = plan.dockerfile;
    b.context = plan.context;
    b.build_args = plan.build_args;
    b.source_type = config::to_string(plan.source.type);
    b.source_name = plan.source.name;
    b.push = plan.push;
    return b;
}

NewBuild retry_of(const Build& old) {
    NewBuild b = old;
    b.trigger_type = "retry";
    b.trigger_reason = "retry of #" + std::to_string(old.id);
    b.reuse = false;  // a retry is asked for because the image is in doubt: it always builds
    return b;
}

}  // namespace hookyard::storage
