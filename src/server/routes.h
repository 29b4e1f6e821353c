#ifndef FLOWREPO_SERVER_ROUTES_H_
#define FLOWREPO_SERVER_ROUTES_H_

// The API's routes: one table, from which the server registers its
// handlers and builds its OpenAPI document, so the two cannot disagree.

#include <httplib.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "flowrepo/repository.h"
#include "forms/json_forms.h"
#include "server/server.h"

namespace flowrepo::server {

using Json = forms::Json;

/// One request being served: what a route's handler works with.
class Call {
 public:
  Call(const httplib::Request& request, httplib::Response& response, FlowRepository& repo,
       std::map<std::string, std::string> path, const ServeOptions& options)
      : request_(request), response_(response), repo_(repo), path_(std::move(path)), options_(options) {}

  FlowRepository& repo() { return repo_; }
  const ServeOptions& options() const { return options_; }
  const httplib::Request& request() const { return request_; }
  httplib::Response& response() { return response_; }

  /// A path parameter, already checked ({ws}, {flow}, {draft}: valid ids).
  const std::string& Path(const std::string& name) const { return path_.at(name); }
  /// A query parameter; empty when absent.
  std::string Query(const std::string& name) const;
  /// Every value of a repeated query parameter.
  std::vector<std::string> QueryAll(const std::string& name) const;
  /// "1", "true", "yes" are true; absent, "0", "false", "no" false. Throws
  /// kInvalidArgument otherwise.
  bool QueryFlag(const std::string& name) const;

  /// The JSON body (an object; {} when there was none).
  const Json& body() const { return body_; }
  void set_body(Json body) { body_ = std::move(body); }
  /// The uploaded file of a package route.
  const std::string& upload() const { return upload_; }
  void set_upload(std::string path) { upload_ = std::move(path); }

  /// Replies \a j with \a status.
  void Reply(const Json& j, int status = 200);

 private:
  const httplib::Request& request_;
  httplib::Response& response_;
  FlowRepository& repo_;
  std::map<std::string, std::string> path_;
  const ServeOptions& options_;
  Json body_ = Json::object();
  std::string upload_;
};

struct QueryParam {
  std::string name;
  std::string description;
  bool required = false;
};

struct Route {
  enum class Body { kNone, kJson, kPackage };
  std::string method;  ///< "GET", "POST", "DELETE"
  std::string path;    ///< OpenAPI template: "/api/v1/workspaces/{ws}/tree"
  std::string summary;
  /// The role the library asks for ("viewer", ...); documentation only:
  /// the library's own checks decide.
  std::string role;
  std::vector<QueryParam> query;
  Body body = Body::kNone;
  /// Fields of a JSON body, each "name: type - description"; others are refused.
  std::vector<std::string> fields;
  bool download = false;  ///< replies with a file, not JSON
  std::function<void(Call&)> handler;
};

/// The routes of each area (routes_*.cc).
void AddReadRoutes(std::vector<Route>& routes);
void AddPackageRoutes(std::vector<Route>& routes);
void AddDraftRoutes(std::vector<Route>& routes);
void AddAdminRoutes(std::vector<Route>& routes);
/// Sessions and what the web page asks (routes_web.cc).
void AddWebRoutes(std::vector<Route>& routes);
/// Every route of the API, GET /api/v1/openapi.json last.
std::vector<Route> AllRoutes();
/// The OpenAPI 3.0 document of \a routes.
Json OpenApiDocument(const std::vector<Route>& routes);

/// Field \a name of a JSON body: a string (empty when absent), a bool
/// (false), a list of strings, or a string -> string map. Throw
/// kInvalidArgument naming the field when it has another type.
std::string StringField(const Json& body, const std::string& name);
bool BoolField(const Json& body, const std::string& name);
std::vector<std::string> StringsField(const Json& body, const std::string& name);
std::map<std::string, std::string> MapField(const Json& body, const std::string& name);

/// A version given as a number (2) or text ("v2", "2", "latest" = 0).
int VersionField(const Json& body, const std::string& name);
/// The export a body of POST .../export asks for (flows, groups, exclude,
/// all, at, dependencies, version, keep_sample_data); shared by the export
/// and its plan, so the plan holds what the download would.
ExportRequest SelectionExportRequest(const Call& call);

}  // namespace flowrepo::server

#endif  // FLOWREPO_SERVER_ROUTES_H_
