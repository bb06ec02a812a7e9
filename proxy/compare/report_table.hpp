#pragma once
// The comparison as a table of text cells, one row per mode, and that table for the terminal
// (aligned columns). Pure.
#include <string>
#include <vector>

#include "proxy/compare/mode_result.hpp"

namespace corral::compare {

std::vector<std::string> summary_header();
// The cells of one mode's row (a skipped mode: its name and "skipped").
std::vector<std::string> summary_cells(const ModeResult& m);
// "41% 20% 19% 20%"
std::string format_shares(const std::vector<std::uint64_t>& worker_requests);

// The table, columns aligned, with the notes and skipped modes' reasons below it.
std::string render_terminal_table(const CompareReport& r);

}  // namespace corral::compare
