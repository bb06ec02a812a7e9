#pragma once
// hiredis's async context driven by an Asio io_context, shaped like hiredis's own
// adapters/libuv.h: addRead/delRead/addWrite/delWrite are idempotent and only set flags and
// start a wait; cleanup detaches. The descriptor is given up with release(), never closed:
// the fd belongs to hiredis, which closes it when it frees the context.
#include <hiredis/async.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>

namespace corral::session {

// The event state of one hiredis connection. Waits in flight hold a shared_ptr to it, so it
// outlives the context when hiredis frees that from inside a read.
struct RedisAsioEvents : std::enable_shared_from_this<RedisAsioEvents> {
  RedisAsioEvents(boost::asio::io_context& ioc, redisAsyncContext* ac)
      : context(ac), descriptor(ioc) {}

  redisAsyncContext* context;  // null once hiredis called cleanup
  boost::asio::posix::stream_descriptor descriptor;
  bool reading = false;                   // hiredis wants read events
  bool writing = false;                   // hiredis wants write events
  bool read_waiting = false;              // an async_wait for reading is in flight
  bool write_waiting = false;             // one for writing
  std::shared_ptr<RedisAsioEvents> self;  // the context's reference, dropped by cleanup

  void wait_read() {
    if (read_waiting || !context) return;
    read_waiting = true;
    descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [p = shared_from_this()](const boost::system::error_code& ec) {
                            p->read_waiting = false;
                            if (ec || !p->context || !p->reading) return;
                            redisAsyncHandleRead(p->context);  // may free the context
                            if (p->context && p->reading) p->wait_read();
                          });
  }

  void wait_write() {
    if (write_waiting || !context) return;
    write_waiting = true;
    descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_write,
                          [p = shared_from_this()](const boost::system::error_code& ec) {
                            p->write_waiting = false;
                            if (ec || !p->context || !p->writing) return;
                            redisAsyncHandleWrite(p->context);  // may free the context
                            if (p->context && p->writing) p->wait_write();
                          });
  }

  static void add_read(void* privdata) {
    auto* p = static_cast<RedisAsioEvents*>(privdata);
    p->reading = true;
    p->wait_read();
  }
  static void del_read(void* privdata) { static_cast<RedisAsioEvents*>(privdata)->reading = false; }
  static void add_write(void* privdata) {
    auto* p = static_cast<RedisAsioEvents*>(privdata);
    p->writing = true;
    p->wait_write();
  }
  static void del_write(void* privdata) {
    static_cast<RedisAsioEvents*>(privdata)->writing = false;
  }
  static void cleanup(void* privdata) {
    auto* p = static_cast<RedisAsioEvents*>(privdata);
    p->reading = p->writing = false;
    p->context = nullptr;
    if (p->descriptor.is_open()) p->descriptor.release();  // cancels the waits; fd stays open
    auto keep = std::move(p->self);  // may be the last reference: let go at the end of scope
  }
};

// Attaches `ac` to `ioc`, as redisLibuvAttach does; REDIS_ERR when it already has an adapter.
inline int redis_asio_attach(redisAsyncContext* ac, boost::asio::io_context& ioc) {
  if (ac->ev.data != nullptr) return REDIS_ERR;
  auto p = std::make_shared<RedisAsioEvents>(ioc, ac);
  boost::system::error_code ec;
  p->descriptor.assign(ac->c.fd, ec);
  if (ec) return REDIS_ERR;
  p->self = p;
  ac->ev.data = p.get();
  ac->ev.addRead = RedisAsioEvents::add_read;
  ac->ev.delRead = RedisAsioEvents::del_read;
  ac->ev.addWrite = RedisAsioEvents::add_write;
  ac->ev.delWrite = RedisAsioEvents::del_write;
  ac->ev.cleanup = RedisAsioEvents::cleanup;
  return REDIS_OK;
}

}  // namespace corral::session
