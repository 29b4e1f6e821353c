// flowrepo never opens a network connection, yet Debian's libgit2 (built
// with mbedTLS) parses the whole system CA bundle inside git_libgit2_init:
// 4-5 ms of every command, a third of a `validate --staged` pre-commit hook
// or of a `history`. libgit2's call comes here instead of to libmbedx509,
// and the bundle is not read: the linker redirects it (--wrap) where
// mbedTLS is linked in from its archive; where it is a shared library, the
// executable exports this definition (no_ca_certificates.list), which then
// takes precedence. Were flowrepo ever to speak HTTPS through libgit2,
// certificate checks would fail closed (no trusted roots), never open.
// With a libgit2 built on OpenSSL it is unused.

#ifdef FLOWREPO_WRAP_CA_CERTIFICATES
#define FLOWREPO_CA_BUNDLE_LOADER __wrap_mbedtls_x509_crt_parse_file
#else
#define FLOWREPO_CA_BUNDLE_LOADER mbedtls_x509_crt_parse_file
#endif

extern "C" int FLOWREPO_CA_BUNDLE_LOADER(void* /*chain*/, const char* /*path*/) {
  return 0;  // "no certificate failed to parse"; the chain stays empty
}
