#ifndef FLOWREPO_SERVER_WEB_H_
#define FLOWREPO_SERVER_WEB_H_

// The web page of `flowrepo serve` (docs/server.md, "Web page"): the files
// of src/server/web/, embedded into the binary at build time
// (cmake/embed_web_assets.cmake), so the server needs nothing beside
// itself and the page loads nothing from another host.

#include <httplib.h>

#include <span>
#include <string_view>

namespace flowrepo::server {

/// One embedded file of the page.
struct WebAsset {
  std::string_view name;          ///< "app.js": its name in src/server/web/
  std::string_view content_type;  ///< "text/javascript; charset=utf-8"
  std::string_view bytes;
};

/// Every embedded file; defined in the generated web_assets.cc.
std::span<const WebAsset> WebAssets();

/// Serves GET / (index.html) and GET /assets/NAME (the other files), each
/// with a Content-Security-Policy that allows only this origin (no inline
/// script), nosniff and X-Frame-Options: DENY. Unknown names fall through
/// to the server's JSON 404.
void RegisterWebPage(httplib::Server& http);

}  // namespace flowrepo::server

#endif  // FLOWREPO_SERVER_WEB_H_
