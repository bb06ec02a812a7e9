#pragma once
// Something a proxy thread must tell when it drains: a client connection. The thread keeps
// them in an intrusive list, so it needs to know no more of them than this.
#include <boost/intrusive/list_hook.hpp>

namespace corral::proxy {

class Drainable
    : public boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::safe_link>> {
 public:
  // An idle connection closes now, a busy one after its current response.
  virtual void drain() = 0;

 protected:
  ~Drainable() = default;
};

}  // namespace corral::proxy
