#include "server/web.h"

#include <string>

namespace flowrepo::server {
namespace {

const WebAsset* FindAsset(std::string_view name) {
  for (const WebAsset& asset : WebAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

void Send(const WebAsset& asset, httplib::Response& res) {
  // 'self' only: every script is app.js, every style style.css; data
  // from the API is put into the page as text, never as markup.
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  res.status = 200;
  res.set_content(std::string(asset.bytes), std::string(asset.content_type));
}

}  // namespace

void RegisterWebPage(httplib::Server& http) {
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    if (const WebAsset* index = FindAsset("index.html")) Send(*index, res);
  });
  http.Get(R"(/assets/([a-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1].str();
    const WebAsset* asset = name == "index.html" ? nullptr : FindAsset(name);
    if (asset)
      Send(*asset, res);
    else
      res.status = 404;
  });
}

}  // namespace flowrepo::server
