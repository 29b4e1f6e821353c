// What every route shares: query and body fields, the route table and the
// OpenAPI document made from it.

#include "server/routes.h"

#include "flowrepo/error.h"
#include "forms/arguments.h"

namespace flowrepo::server {

std::string Call::Query(const std::string& name) const { return request_.get_param_value(name); }

std::vector<std::string> Call::QueryAll(const std::string& name) const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < request_.get_param_value_count(name); ++i) {
    out.push_back(request_.get_param_value(name, i));
  }
  return out;
}

bool Call::QueryFlag(const std::string& name) const {
  const std::string v = Query(name);
  if (v.empty() || v == "0" || v == "false" || v == "no") return false;
  if (v == "1" || v == "true" || v == "yes") return true;
  throw Error(ErrorCode::kInvalidArgument, "invalid " + name + " '" + v + "': use 1 or 0");
}

void Call::Reply(const Json& j, int status) {
  response_.status = status;
  response_.set_content(forms::Dump(j), "application/json");
}

namespace {

const Json* FieldOf(const Json& body, const std::string& name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

Error WrongType(const std::string& name, const char* type) {
  return Error(ErrorCode::kInvalidArgument, "field '" + name + "' must be " + type);
}

}  // namespace

std::string StringField(const Json& body, const std::string& name) {
  const Json* f = FieldOf(body, name);
  if (!f) return "";
  if (!f->is_string()) throw WrongType(name, "a string");
  return f->get<std::string>();
}

bool BoolField(const Json& body, const std::string& name) {
  const Json* f = FieldOf(body, name);
  if (!f) return false;
  if (!f->is_boolean()) throw WrongType(name, "true or false");
  return f->get<bool>();
}

std::vector<std::string> StringsField(const Json& body, const std::string& name) {
  const Json* f = FieldOf(body, name);
  if (!f) return {};
  std::vector<std::string> out;
  if (!f->is_array()) throw WrongType(name, "a list of strings");
  for (const auto& item : *f) {
    if (!item.is_string()) throw WrongType(name, "a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> MapField(const Json& body, const std::string& name) {
  const Json* f = FieldOf(body, name);
  if (!f) return {};
  std::map<std::string, std::string> out;
  if (!f->is_object()) throw WrongType(name, "an object of strings");
  for (const auto& [key, value] : f->items()) {
    if (!value.is_string()) throw WrongType(name, "an object of strings");
    out[key] = value.get<std::string>();
  }
  return out;
}

int VersionField(const Json& body, const std::string& name) {
  const Json* f = FieldOf(body, name);
  if (!f) throw Error(ErrorCode::kInvalidArgument, "field '" + name + "' is needed: N, vN or 'latest'");
  if (f->is_number_integer() && f->get<long long>() > 0 && f->get<long long>() < (1 << 30)) return f->get<int>();
  if (f->is_string()) return forms::ParseVersion(f->get<std::string>(), name.c_str());
  throw WrongType(name, "N, vN or 'latest'");
}

std::vector<Route> AllRoutes() {
  std::vector<Route> routes;
  AddReadRoutes(routes);
  AddPackageRoutes(routes);
  AddDraftRoutes(routes);
  AddAdminRoutes(routes);
  AddWebRoutes(routes);
  Route openapi{"GET", "/api/v1/openapi.json", "This document: every route of the API", "none"};
  openapi.handler = [](Call& call) { call.Reply(OpenApiDocument(AllRoutes())); };
  routes.push_back(std::move(openapi));
  return routes;
}

namespace {

Json ErrorResponse(const std::string& description) {
  return {{"description", description},
          {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

Json Operation(const Route& route) {
  Json params = Json::array();
  for (std::size_t at = route.path.find('{'); at != std::string::npos; at = route.path.find('{', at + 1)) {
    const std::string name = route.path.substr(at + 1, route.path.find('}', at) - at - 1);
    params.push_back({{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
  }
  for (const auto& q : route.query) {
    params.push_back({{"name", q.name},
                      {"in", "query"},
                      {"required", q.required},
                      {"description", q.description},
                      {"schema", {{"type", "string"}}}});
  }
  Json op = {{"summary", route.summary},
             {"description", route.role == "none" ? std::string("Needs no token.")
                                                  : "Needs the role '" + route.role + "' (checked by the library)."},
             {"parameters", params}};
  if (route.body == Route::Body::kJson) {
    Json properties = Json::object();
    for (const auto& field : route.fields) {
      const auto colon = field.find(':');
      properties[field.substr(0, colon)] = {{"description", field.substr(colon + 1)}};
    }
    op["requestBody"] = {
        {"content", {{"application/json", {{"schema", {{"type", "object"}, {"properties", properties}}}}}}}};
  } else if (route.body == Route::Body::kPackage) {
    op["requestBody"] = {
        {"required", true},
        {"content", {{"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
  }
  Json ok =
      route.download
          ? Json{{"description", "the package, as a download"},
                 {"content", {{"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}}
          : Json{{"description", "the result, as the command line's --json prints it"},
                 {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  op["responses"] = {{"200", ok}, {"default", ErrorResponse("an error; its code says which (docs/server.md)")}};
  if (route.role != "none") op["security"] = Json::array({{{"bearer", Json::array()}}});
  return op;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

}  // namespace

Json OpenApiDocument(const std::vector<Route>& routes) {
  Json paths = Json::object();
  for (const auto& route : routes) paths[route.path][Lower(route.method)] = Operation(route);
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "flowrepo API"},
            {"version", FLOWREPO_VERSION},
            {"description", "The HTTP API of `flowrepo serve` (docs/server.md)."}}},
          {"paths", paths},
          {"components",
           {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
            {"schemas",
             {{"Error",
               {{"type", "object"},
                {"properties",
                 {{"error",
                   {{"type", "object"},
                    {"properties",
                     {{"code", {{"type", "string"}}},
                      {"message", {{"type", "string"}}},
                      {"details", {{"type", "array"}, {"items", {{"type", "string"}}}}},
                      {"problems", {{"type", "array"}, {"items", {{"type", "object"}}}}}}}}}}}}}}}}}};
}

}  // namespace flowrepo::server
