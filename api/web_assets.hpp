#pragma once
// The dashboard's only assets, compiled in: no CDN, no fonts, nothing fetched from elsewhere.

#include <string_view>

namespace hookyard::api {

extern const std::string_view k_app_css;
// Refreshes the live parts (the builds table, a running build's state, stages and log); the pages work
// without it.
extern const std::string_view k_app_js;

}  // namespace hookyard::api
