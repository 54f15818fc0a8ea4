#pragma once
// HTML building blocks of the dashboard: escaping (every text that reaches a page goes through it),
// ANSI-coloured log lines, time and duration formats, and the page frame. Pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/records.hpp"

namespace hookyard::api {

// `text` with & < > " ' escaped; bytes that are not UTF-8 become U+FFFD, so a page is always valid UTF-8.
std::string html_escape(std::string_view text);
// `text` percent-encoded for a query parameter value.
std::string url_encode(std::string_view text);

// Log text as HTML lines: escaped, SGR colour codes (30–37, 90–97, bold, reset) turned into spans, other
// escape sequences dropped. Each line is <div class="l" id="L<n>"><a href="#L<n>">n</a>text</div>, numbered
// from `first_line`; `lines` receives how many were written.
std::string log_to_html(std::string_view text, std::int64_t first_line, std::int64_t& lines);

// "2026-11-23 17:35:16" UTC; "–" for 0.
std::string format_time(storage::TimeMs t);
// "1m 05s", "850 ms"; "–" for a negative or unknown span.
std::string format_duration(std::int64_t ms);
// The build's run time so far (finished or still running), in ms; -1 before it started.
std::int64_t build_duration_ms(const storage::Build& b);

// <span class="state s-succeeded">succeeded</span>
std::string state_badge(storage::BuildState s);

// Who is looking at a page, for its header.
struct PageViewer {
    std::string name;  // "" = anonymous (public dashboard)
    bool operator_role = false;
    std::string csrf;  // the token every form of this viewer carries
};

// A whole page: the frame (title, navigation, the viewer and a logout button) around `body` (HTML).
std::string page(std::string_view title, const PageViewer& viewer, std::string_view body);

// A POST form that is just one button, carrying the CSRF token.
std::string post_button(std::string_view action, std::string_view label, std::string_view csrf,
                        std::string_view css_class = "btn");

}  // namespace hookyard::api
