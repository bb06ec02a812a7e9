#pragma once
// The comparison as a table of text cells, one row per mode, and that table for the terminal
// (aligned columns). Pure.
#include <string>
#include <vector>

#include "proxy/compare/mode_result.hpp"

namespace corral::compare {

// `sessions`: the session comparison's columns; else the article scenario's (no sessions: the
// requests and how many corral retried on another worker instead).
std::vector<std::string> summary_header(bool sessions = true);
// The cells of one mode's row (a skipped mode: its name and "skipped").
std::vector<std::string> summary_cells(const ModeResult& m, bool sessions = true);
// "41% 20% 19% 20%"
std::string format_shares(const std::vector<std::uint64_t>& worker_requests);

// The table, columns aligned, with the notes and skipped modes' reasons below it.
std::string render_terminal_table(const CompareReport& r);

}  // namespace corral::compare
