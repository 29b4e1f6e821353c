// flowrepo opens no network connection, yet libgit2 as Debian builds it
// pays for its network code in every process. Here it stops paying:
//
// - libgit2 (with mbedTLS) parses the whole system CA bundle inside
//   git_libgit2_init: 4-5 ms of every command. Its call comes to the no-op
//   below instead, and the bundle is not read: the linker redirects it
//   (--wrap) where mbedTLS is linked from its archive; where mbedTLS is a
//   shared library, the executable exports this definition (offline.list),
//   which then takes precedence.
// - git_libgit2_init has libssh2 initialise OpenSSL (0.3 ms). The no-op
//   below takes that call (--wrap); libssh2 initialises itself when an SSH
//   session is made, so SSH would still work.
// - Linked from its archive, libgit2 names eight GSSAPI functions for HTTP
//   Negotiate authentication. Defined below as failures, they keep the
//   Kerberos libraries (seven shared libraries, about 0.9 ms of every
//   start) out of the process.
//
// Were flowrepo ever to speak HTTPS through libgit2, certificate checks and
// Negotiate authentication would fail closed (no trusted roots; "could not
// initialize GSSAPI"), never open.

#include <cstdint>

#ifdef FLOWREPO_LIBGIT2_ARCHIVES

namespace {

using OM_uint32 = std::uint32_t;
constexpr OM_uint32 kGssFailure = 13u << 16;

OM_uint32 Fail(OM_uint32* minor) {
  if (minor) *minor = 0;
  return kGssFailure;
}

}  // namespace

extern "C" {

int __wrap_mbedtls_x509_crt_parse_file(void* /*chain*/, const char* /*path*/) {
  return 0;  // "no certificate failed to parse"; the chain stays empty
}

int __wrap_libssh2_init(int /*flags*/) { return 0; }

// RFC 2744 signatures; every call fails with GSS_S_FAILURE.
void* GSS_C_NT_HOSTBASED_SERVICE = nullptr;
OM_uint32 gss_indicate_mechs(OM_uint32* minor, void** /*mechs*/) { return Fail(minor); }
OM_uint32 gss_import_name(OM_uint32* minor, void*, void*, void** /*name*/) { return Fail(minor); }
OM_uint32 gss_init_sec_context(OM_uint32* minor, void*, void**, void*, void*, OM_uint32, OM_uint32, void*, void*,
                               void**, void*, OM_uint32*, OM_uint32*) {
  return Fail(minor);
}
OM_uint32 gss_display_status(OM_uint32* minor, OM_uint32, int, void*, OM_uint32*, void*) { return Fail(minor); }
OM_uint32 gss_delete_sec_context(OM_uint32* minor, void**, void*) { return Fail(minor); }
OM_uint32 gss_release_buffer(OM_uint32* minor, void*) { return Fail(minor); }
OM_uint32 gss_release_name(OM_uint32* minor, void**) { return Fail(minor); }
OM_uint32 gss_release_oid_set(OM_uint32* minor, void**) { return Fail(minor); }

}  // extern "C"

#else

extern "C" int mbedtls_x509_crt_parse_file(void* /*chain*/, const char* /*path*/) {
  return 0;  // "no certificate failed to parse"; the chain stays empty
}

#endif
