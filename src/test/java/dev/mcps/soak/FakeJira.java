package dev.mcps.soak;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Jira Cloud REST v3 stand-in that checks who is asking. Every request must carry Basic auth with one soak user's
 * email and token ({@link SoakIdentity}); the user a request is <em>for</em> is read from what it asks about — the
 * project of the issue key in the path ({@code U17-42} is user 17's) or the project in the JQL — and a request for
 * user U that carries user V's valid credentials is a <b>leak</b>: the server sent V's token on U's behalf.
 *
 * <p>Routes (the shapes the server's Jira tools read): {@code GET /rest/api/3/issue/{key}} (an issue with ADF
 * description and comments, built for the key's owner and marked {@code soak-u<owner>-issue-<key>}),
 * {@code GET /rest/api/3/issue/{key}/transitions}, {@code GET /rest/api/3/search/jql} (the enhanced search: issues,
 * {@code isLast}, no {@code nextPageToken} on the last page), {@code GET /rest/api/3/project/search}. Errors use
 * Jira's {@code {"errorMessages": [...], "errors": {}}} shape: 401 without valid credentials, 404 for anything else.
 * {@code GET /_soak/stats} (no auth) reports the counters.
 */
final class FakeJira extends SoakFake {

  private static final Pattern ISSUE_PATH = Pattern.compile("/rest/api/3/issue/([A-Za-z0-9_-]+)(/transitions)?");

  private final SoakIdentity identity;
  final LongAdder requests = counter("requests");
  final LongAdder answered = counter("answered");
  final LongAdder unauthorized = counter("unauthorized");
  final LongAdder notFound = counter("notFound");
  /** Requests whose intended user could not be told (no key, no JQL project): credentials checked only. */
  final LongAdder unattributed = counter("unattributed");
  final LongAdder leaks = counter("leaks");

  FakeJira(SoakIdentity identity) {
    this.identity = identity;
  }

  @Override
  void handle(HttpServerRequest req) {
    String path = req.path();
    requests.increment();
    int caller = caller(req.getHeader("Authorization"));
    if (caller < 0) {
      unauthorized.increment();
      detail("401 " + req.method() + " " + path + ": no valid soak credentials");
      // Jira Cloud answers a bad Basic login with 401 and this shape.
      error(req, 401, "Client must be authenticated to access this resource.");
      return;
    }
    if (req.method() != HttpMethod.GET) {
      notFound.increment();
      error(req, 404, "No such route in the soak's fake Jira: " + req.method() + " " + path);
      return;
    }
    Matcher issue = ISSUE_PATH.matcher(path);
    if (issue.matches()) {
      String key = issue.group(1).toUpperCase();
      Matcher k = SoakIdentity.ISSUE_KEY.matcher(key);
      if (!k.matches()) {
        notFound.increment();
        error(req, 404, "Issue does not exist or you do not have permission to see it.");
        return;
      }
      int owner = Integer.parseInt(k.group(1));
      if (!checkOwner(req, owner, caller)) {
        return;
      }
      answered.increment();
      JsonObject body = issue.group(2) == null ? issue(owner, key) : transitions();
      req.response().putHeader("Content-Type", "application/json").end(body.encode());
      return;
    }
    if ("/rest/api/3/search/jql".equals(path)) {
      String jql = req.getParam("jql");
      Matcher p = jql == null ? null : SoakIdentity.JQL_PROJECT.matcher(jql);
      if (p == null || !p.find()) {
        // Jira answers an unknown project in JQL with 400 and this shape.
        error(req, 400, "The value in the project clause does not exist or you do not have permission to view it.");
        return;
      }
      int owner = Integer.parseInt(p.group(1));
      if (!checkOwner(req, owner, caller)) {
        return;
      }
      answered.increment();
      int max = 3;
      try {
        max = Math.max(1, Math.min(3, Integer.parseInt(req.getParam("maxResults", "3"))));
      } catch (NumberFormatException ignored) {
        // Jira would answer 400; the server always sends a number.
      }
      JsonArray issues = new JsonArray();
      for (int i = 1; i <= max; i++) {
        String key = SoakIdentity.project(owner) + "-" + i;
        JsonObject full = issue(owner, key);
        JsonObject f = full.getJsonObject("fields");
        issues.add(new JsonObject().put("id", full.getString("id")).put("key", key).put("self", full.getString("self"))
            .put("fields", new JsonObject().put("summary", f.getString("summary")).put("status", f.getValue("status"))
                .put("issuetype", f.getValue("issuetype")).put("priority", f.getValue("priority"))
                .put("assignee", f.getValue("assignee")).put("updated", f.getString("updated"))));
      }
      req.response().putHeader("Content-Type", "application/json")
          .end(new JsonObject().put("issues", issues).put("isLast", true).encode());
      return;
    }
    if ("/rest/api/3/project/search".equals(path)) {
      // What a user sees: its own project. Nothing names the intended user, so only the credentials are checked.
      unattributed.increment();
      answered.increment();
      JsonArray values = new JsonArray().add(new JsonObject().put("id", String.valueOf(10_000 + caller))
          .put("key", SoakIdentity.project(caller)).put("name", SoakIdentity.marker(caller) + "project"));
      req.response().putHeader("Content-Type", "application/json").end(new JsonObject().put("values", values)
          .put("startAt", 0).put("maxResults", 50).put("total", 1).put("isLast", true).encode());
      return;
    }
    notFound.increment();
    error(req, 404, "No such route in the soak's fake Jira: GET " + path);
  }

  /** A request for {@code owner} made with {@code caller}'s credentials: a leak unless they are the same user. */
  private boolean checkOwner(HttpServerRequest req, int owner, int caller) {
    if (owner == caller) {
      return true;
    }
    leaks.increment();
    detail("LEAK " + req.method() + " " + req.uri() + ": for user " + owner + " with the credentials of user " + caller);
    // A real Jira may well answer (the other user can often see the project); the harm is done either way. Answer
    // as Jira does for an issue the caller may not see, so the leak does not also surface as data in an answer.
    error(req, 404, "Issue does not exist or you do not have permission to see it.");
    return false;
  }

  /** The Basic credentials' user, or -1. */
  private int caller(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
      return -1;
    }
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(authorization.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return -1;
    }
    int colon = decoded.indexOf(':');
    return colon < 0 ? -1 : identity.userOf(decoded.substring(0, colon), decoded.substring(colon + 1));
  }

  /** A Jira REST v3 issue (the fields the server's tools read), marked as {@code owner}'s data. */
  static JsonObject issue(int owner, String key) {
    String mark = SoakIdentity.marker(owner) + "issue-" + key;
    String id = String.valueOf(Math.abs(key.hashCode()) % 1_000_000_000);
    JsonObject person = new JsonObject().put("accountId", "acc-" + owner)
        .put("displayName", SoakIdentity.marker(owner) + "name").put("emailAddress", SoakIdentity.email(owner))
        .put("active", true);
    JsonObject comment = new JsonObject().put("id", "1" + id).put("author", person)
        .put("body", adf("A comment on " + mark))
        .put("created", "2026-11-20T10:00:00.000+0000").put("updated", "2026-11-20T10:00:00.000+0000");
    return new JsonObject()
        .put("id", id)
        .put("key", key)
        .put("self", "https://soak.example.test/rest/api/3/issue/" + id)
        .put("fields", new JsonObject()
            .put("summary", "Summary of " + mark)
            .put("status", new JsonObject().put("name", "In Progress").put("id", "3")
                .put("statusCategory", new JsonObject().put("key", "indeterminate")))
            .put("issuetype", new JsonObject().put("name", "Task").put("id", "10001"))
            .put("priority", new JsonObject().put("name", "Medium").put("id", "3"))
            .put("assignee", person)
            .put("reporter", person)
            .put("created", "2026-11-01T09:00:00.000+0000")
            .put("updated", "2026-11-25T09:00:00.000+0000")
            .put("labels", new JsonArray().add("soak"))
            .put("description", adf("Description of " + mark))
            .put("comment", new JsonObject().put("comments", new JsonArray().add(comment))
                .put("maxResults", 1).put("total", 1).put("startAt", 0)));
  }

  private static JsonObject transitions() {
    return new JsonObject().put("transitions", new JsonArray()
        .add(new JsonObject().put("id", "31").put("name", "Done").put("to", new JsonObject().put("name", "Done"))));
  }

  /** Atlassian Document Format: one paragraph of text. */
  private static JsonObject adf(String text) {
    return new JsonObject().put("type", "doc").put("version", 1).put("content", new JsonArray()
        .add(new JsonObject().put("type", "paragraph").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", text)))));
  }

  private static void error(HttpServerRequest req, int status, String message) {
    req.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("errorMessages", new JsonArray().add(message)).put("errors", new JsonObject())
            .encode());
  }
}
