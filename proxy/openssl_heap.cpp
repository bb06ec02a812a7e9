// OpenSSL's allocations go to glibc's malloc when the binary's malloc is mimalloc.
//
// mimalloc keeps each size class on pages of its own. An idle TLS connection's long-lived
// OpenSSL objects (the SSL, its session, the cipher contexts) are made between the handshake's
// large transient buffers, whose freed pages mimalloc cannot give to the smaller objects: with
// it an idle TLS connection held about 17.3 KB, with glibc 15.9 KB. glibc's heap fills those
// holes. The rest of the process (Asio's coroutine frames and operations, corral's own objects)
// keeps mimalloc, where it is cheaper per allocation.
//
// mimalloc also answers for glibc's __libc_malloc, so glibc's own functions are looked up in
// libc itself. They are installed before any other initializer of the binary runs (Asio's
// OpenSSL initialisation among them): OpenSSL accepts its memory functions only before its
// first allocation.
#include <dlfcn.h>

#include <openssl/crypto.h>

#include <cstddef>

namespace {

using Malloc = void* (*)(std::size_t);
using Realloc = void* (*)(void*, std::size_t);
using Free = void (*)(void*);

Malloc libc_malloc = nullptr;
Realloc libc_realloc = nullptr;
Free libc_free = nullptr;

void* openssl_malloc(std::size_t size, const char*, int) { return libc_malloc(size); }
void* openssl_realloc(void* p, std::size_t size, const char*, int) {
  return libc_realloc(p, size);
}
void openssl_free(void* p, const char*, int) { libc_free(p); }

__attribute__((constructor(101))) void route_openssl_to_libc() {
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (!libc) return;
  libc_malloc = reinterpret_cast<Malloc>(dlsym(libc, "malloc"));
  libc_realloc = reinterpret_cast<Realloc>(dlsym(libc, "realloc"));
  libc_free = reinterpret_cast<Free>(dlsym(libc, "free"));
  // Not all three, or too late (OpenSSL allocated already): OpenSSL keeps the process's malloc.
  if (libc_malloc && libc_realloc && libc_free)
    CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free);
}

}  // namespace
