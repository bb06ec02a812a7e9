#include "proxy/compare/article.hpp"

namespace corral::compare {

void run_article(CompareReport& report, const ResolvedApp&, const std::string&, ProgressLine&,
                 const std::atomic<bool>&) {
  report.notes.push_back("the article scenario is not written yet");
}

}  // namespace corral::compare
