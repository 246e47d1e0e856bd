/**
 * The verb and resource kube-apiserver records for a request (the `verb`, `group`, `resource` and
 * `subresource` of its `apiserver_request_total`), worked out on the client's side from the method, the
 * URL and the content type: GET becomes GET, LIST or WATCH, a server-side apply PATCH becomes APPLY, a
 * DELETE of a collection DELETECOLLECTION. The resource is qualified as `resource.group/subresource`.
 */
export interface ApiRequestKind {
  verb: string;
  resource: string;
}

/** `deployments.apps`, `events`, `mlautoscalepolicies.mlautoscale.io/status`. */
export function resourceLabel(group: string, resource: string, subresource: string): string {
  const qualified = group === "" ? resource : `${resource}.${group}`;
  return subresource === "" ? qualified : `${qualified}/${subresource}`;
}

/** Undefined for paths that name no resource (discovery, /version, /healthz). */
export function classifyApiRequest(
  method: string,
  url: URL,
  contentType: string | undefined,
): ApiRequestKind | undefined {
  const segments = url.pathname.split("/").filter((s) => s.length > 0);
  let group: string;
  let rest: string[];
  if (segments[0] === "api" && segments.length >= 3) {
    group = "";
    rest = segments.slice(2);
  } else if (segments[0] === "apis" && segments.length >= 4) {
    group = segments[1] ?? "";
    rest = segments.slice(3);
  } else {
    return undefined;
  }
  // /namespaces/<ns>/<resource>/... is namespaced; /namespaces and /namespaces/<name>[/status] are the
  // namespaces themselves.
  if (rest[0] === "namespaces" && rest.length >= 3) rest = rest.slice(2);
  const [resource, name, subresource] = rest;
  if (resource === undefined) return undefined;
  const upper = method.toUpperCase();
  let verb = upper;
  if (upper === "GET") {
    const watch = url.searchParams.get("watch");
    verb = watch === "true" || watch === "1" ? "WATCH" : name === undefined ? "LIST" : "GET";
  } else if (upper === "PATCH" && contentType?.startsWith("application/apply-patch") === true) {
    verb = "APPLY";
  } else if (upper === "DELETE" && name === undefined) {
    verb = "DELETECOLLECTION";
  }
  return { verb, resource: resourceLabel(group, resource, subresource ?? "") };
}
