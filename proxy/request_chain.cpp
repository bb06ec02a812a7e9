#include "proxy/request_chain.hpp"

namespace corral::proxy {

RequestChain::RequestChain(RewriteStage rewrite, StickyRouter* sticky,
                           session::SessionStore* sessions, RequestLogStage log)
    : rewrite_(rewrite), log_(log) {
  order_[count_++] = &guard_;
  order_[count_++] = &rewrite_;
  if (sticky) order_[count_++] = &sticky_.emplace(*sticky);
  if (sessions) order_[count_++] = &session_.emplace(*sessions);
  order_[count_++] = &log_;
}

}  // namespace corral::proxy
