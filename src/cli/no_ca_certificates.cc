// flowrepo never opens a network connection, yet Debian's libgit2 (built
// with mbedTLS) parses the whole system CA bundle inside git_libgit2_init:
// 4-5 ms of every command, a third of a `validate --staged` pre-commit hook
// or of a `history`. This definition is exported by the executable (see
// no_ca_certificates.list), so it takes precedence over libmbedx509's for
// the call libgit2 makes, and the bundle is not read. Were flowrepo ever to
// speak HTTPS through libgit2, certificate checks would fail closed (no
// trusted roots), never open. With a libgit2 built on OpenSSL it is unused.

extern "C" int mbedtls_x509_crt_parse_file(void* /*chain*/, const char* /*path*/) {
  return 0;  // "no certificate failed to parse"; the chain stays empty
}
