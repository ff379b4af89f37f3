package dev.mcps.testing;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Jira Cloud REST v3 stand-in on loopback: per-user projects and issues behind Basic auth, the endpoints the Jira
 * tools use, and a record of every request with the credentials it carried. Failures (a status with Retry-After, or
 * a response that never comes) can be injected per path.
 */
public final class FakeJira implements AutoCloseable {

  /** One request as the fake saw it. {@code email}/{@code token} are what the Authorization header carried. */
  public record Recorded(String method, String path, Map<String, String> query, String email, String token,
                         JsonObject body) {}

  private record User(String email, String token, List<String> projects) {}

  private record Failure(String pathPrefix, int status, String retryAfter, AtomicInteger remaining) {}

  private static final Pattern ISSUE = Pattern.compile("/rest/api/3/issue/([A-Z0-9_]+-[0-9]+)(/comment|/transitions)?");
  private static final JsonArray TRANSITIONS = new JsonArray()
      .add(transition("11", "To Do")).add(transition("21", "In Progress")).add(transition("31", "Done"));

  private final Vertx vertx;
  private final HttpServer server;
  private final Map<String, User> usersByEmail = new ConcurrentHashMap<>();
  private final Map<String, String> projectOwner = new ConcurrentHashMap<>();
  private final Map<String, JsonObject> issues = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counters = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Recorded> requests = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<HttpServerRequest> stalled = new ConcurrentLinkedQueue<>();
  private final AtomicInteger stalledAborted = new AtomicInteger();
  private final AtomicInteger accounts = new AtomicInteger();

  private FakeJira(Vertx vertx) {
    this.vertx = vertx;
    this.server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> handle(req, b)));
  }

  public static FakeJira start(Vertx vertx) {
    FakeJira fake = new FakeJira(vertx);
    TestServers.await(fake.server.listen(0, "127.0.0.1"));
    return fake;
  }

  public String baseUrl() {
    return "http://127.0.0.1:" + server.actualPort();
  }

  public void addUser(String email, String token, String... projects) {
    usersByEmail.put(email, new User(email, token, List.of(projects)));
    for (String p : projects) {
      projectOwner.put(p, email);
    }
  }

  /** A user of this fake with a project of their own, and the MCP headers that name them and carry credentials. */
  public record Account(String project, Map<String, String> headers) {
  }

  /**
   * A fresh user named {@code prefix}+random with a project {@code projectPrefix}+4 letters (X-User-Id, X-Jira-*).
   * The letters count up per fake, so two accounts never share a project: random letters collided in about one run
   * in thirty and made a test count another test's write.
   */
  public Account account(String prefix, String projectPrefix) {
    String name = prefix + java.util.UUID.randomUUID().toString().substring(0, 8);
    StringBuilder letters = new StringBuilder();
    for (int n = accounts.getAndIncrement(), i = 0; i < 4; i++, n /= 26) {
      letters.insert(0, (char) ('A' + n % 26));
    }
    String project = projectPrefix + letters;
    addUser(name + "@example.com", "tok-" + name, project);
    return new Account(project, Map.of("X-User-Id", name, "X-Jira-Base-Url", baseUrl(),
        "X-Jira-Email", name + "@example.com", "X-Jira-Api-Token", "tok-" + name));
  }

  /** How many issue creations this fake received for exactly {@code project} (its key in {@code fields.project}). */
  public long creates(String project) {
    return requests.stream().filter(r -> r.method().equals("POST") && r.path().equals("/rest/api/3/issue")
        && r.body() != null && project.equals(r.body().getJsonObject("fields", new JsonObject())
            .getJsonObject("project", new JsonObject()).getString("key"))).count();
  }

  /** Creates an issue in {@code project} and returns its key. */
  public String addIssue(String project, String summary, String description) {
    String key = project + "-" + counters.computeIfAbsent(project, p -> new AtomicInteger()).incrementAndGet();
    JsonObject fields = new JsonObject()
        .put("summary", summary)
        .put("status", new JsonObject().put("name", "To Do"))
        .put("issuetype", new JsonObject().put("name", "Task"))
        .put("priority", new JsonObject().put("name", "Medium"))
        .put("assignee", new JsonObject().put("displayName", "Owner of " + project))
        .put("reporter", new JsonObject().put("displayName", "Reporter"))
        .put("labels", new JsonArray())
        .put("created", "2026-11-01T10:00:00.000+0000")
        .put("updated", "2026-11-02T10:00:00.000+0000")
        .put("description", adf(description))
        .put("comment", new JsonObject().put("comments", new JsonArray()).put("total", 0));
    issues.put(key, new JsonObject().put("id", String.valueOf(10000 + issues.size())).put("key", key)
        .put("fields", fields));
    return key;
  }

  public JsonObject issue(String key) {
    return issues.get(key);
  }

  public List<Recorded> requests() {
    return new ArrayList<>(requests);
  }

  /** The next {@code times} requests whose path starts with {@code pathPrefix} answer {@code status}. */
  public void failNext(String pathPrefix, int status, int times, String retryAfter) {
    failures.add(new Failure(pathPrefix, status, retryAfter, new AtomicInteger(times)));
  }

  /** The next {@code times} matching requests get no answer at all (until the fake closes). */
  public void stallNext(String pathPrefix, int times) {
    failures.add(new Failure(pathPrefix, 0, null, new AtomicInteger(times)));
  }

  /** How many stalled requests their client gave up on (closed or reset the connection) before an answer. */
  public int stalledAborted() {
    return stalledAborted.get();
  }

  @Override
  public void close() {
    TestServers.await(server.close());
  }

  private void handle(HttpServerRequest req, Buffer raw) {
    String[] creds = basic(req.getHeader("Authorization"));
    JsonObject body = raw.length() == 0 ? null : raw.toJsonObject();
    Map<String, String> query = new java.util.HashMap<>();
    req.params().forEach(e -> query.put(e.getKey(), e.getValue()));
    requests.add(new Recorded(req.method().name(), req.path(), query, creds[0], creds[1], body));

    for (Failure f : failures) {
      if (req.path().startsWith(f.pathPrefix()) && f.remaining().getAndDecrement() > 0) {
        if (f.status() == 0) {
          stalled.add(req);
          req.connection().closeHandler(v -> stalledAborted.incrementAndGet());
          return;
        }
        if (f.retryAfter() != null) {
          req.response().putHeader("Retry-After", f.retryAfter());
        }
        reply(req, f.status(), new JsonObject().put("errorMessages", new JsonArray().add("injected " + f.status())));
        return;
      }
    }
    User user = usersByEmail.get(creds[0]);
    if (user == null || !user.token().equals(creds[1])) {
      req.response().setStatusCode(401).end("Unauthorized");
      return;
    }
    route(req, user, body);
  }

  private void route(HttpServerRequest req, User user, JsonObject body) {
    String path = req.path();
    String method = req.method().name();
    if (path.equals("/rest/api/3/search")) {
      reply(req, 410, new JsonObject().put("errorMessages", new JsonArray().add("The requested API has been removed.")));
      return;
    }
    if (path.equals("/rest/api/3/search/jql") && method.equals("GET")) {
      search(req, user);
      return;
    }
    if (path.equals("/rest/api/3/project/search") && method.equals("GET")) {
      String q = req.getParam("query", "").toLowerCase();
      JsonArray values = new JsonArray();
      for (String p : user.projects()) {
        if (q.isEmpty() || p.toLowerCase().contains(q)) {
          values.add(new JsonObject().put("key", p).put("name", "Project " + p));
        }
      }
      reply(req, 200, new JsonObject().put("values", values).put("isLast", true));
      return;
    }
    if (path.equals("/rest/api/3/issue") && method.equals("POST")) {
      create(req, user, body);
      return;
    }
    Matcher m = ISSUE.matcher(path);
    if (!m.matches()) {
      reply(req, 404, new JsonObject().put("errorMessages", new JsonArray().add("No such endpoint")));
      return;
    }
    String key = m.group(1);
    JsonObject issue = issues.get(key);
    if (issue == null || !user.projects().contains(key.substring(0, key.lastIndexOf('-')))) {
      reply(req, 404, new JsonObject().put("errorMessages",
          new JsonArray().add("Issue does not exist or you do not have permission to see it.")));
      return;
    }
    JsonObject fields = issue.getJsonObject("fields");
    String sub = m.group(2);
    if (sub == null && method.equals("GET")) {
      reply(req, 200, issue);
    } else if (sub == null && method.equals("PUT")) {
      body.getJsonObject("fields", new JsonObject()).forEach(e -> fields.put(e.getKey(), e.getValue()));
      req.response().setStatusCode(204).end();
    } else if ("/comment".equals(sub) && method.equals("POST")) {
      reply(req, 201, addComment(fields, body.getJsonObject("body"), user));
    } else if ("/transitions".equals(sub) && method.equals("GET")) {
      reply(req, 200, new JsonObject().put("transitions", TRANSITIONS));
    } else if ("/transitions".equals(sub) && method.equals("POST")) {
      String id = body.getJsonObject("transition", new JsonObject()).getString("id");
      JsonObject t = TRANSITIONS.stream().map(o -> (JsonObject) o).filter(x -> x.getString("id").equals(id))
          .findFirst().orElse(null);
      if (t == null) {
        reply(req, 400, new JsonObject().put("errorMessages", new JsonArray().add("Transition id is not valid")));
        return;
      }
      fields.put("status", new JsonObject().put("name", t.getJsonObject("to").getString("name")));
      JsonArray comments = body.getJsonObject("update", new JsonObject()).getJsonArray("comment", new JsonArray());
      for (Object c : comments) {
        addComment(fields, ((JsonObject) c).getJsonObject("add").getJsonObject("body"), user);
      }
      req.response().setStatusCode(204).end();
    } else {
      reply(req, 405, new JsonObject().put("errorMessages", new JsonArray().add("Method not allowed")));
    }
  }

  private JsonObject addComment(JsonObject fields, JsonObject adf, User user) {
    JsonObject page = fields.getJsonObject("comment");
    JsonArray comments = page.getJsonArray("comments");
    JsonObject c = new JsonObject().put("id", String.valueOf(20000 + comments.size()))
        .put("author", new JsonObject().put("displayName", user.email())).put("body", adf)
        .put("created", "2026-11-03T10:00:00.000+0000");
    comments.add(c);
    page.put("total", comments.size());
    return c;
  }

  private void create(HttpServerRequest req, User user, JsonObject body) {
    JsonObject fields = body == null ? new JsonObject() : body.getJsonObject("fields", new JsonObject());
    String project = fields.getJsonObject("project", new JsonObject()).getString("key");
    JsonObject errors = new JsonObject();
    if (project == null || !user.projects().contains(project)) {
      errors.put("project", "valid project is required");
    }
    if (fields.getString("summary") == null || fields.getString("summary").isBlank()) {
      errors.put("summary", "You must specify a summary of the issue.");
    }
    if (!errors.isEmpty()) {
      reply(req, 400, new JsonObject().put("errorMessages", new JsonArray()).put("errors", errors));
      return;
    }
    String key = addIssue(project, fields.getString("summary"), "");
    JsonObject created = issues.get(key).getJsonObject("fields");
    if (fields.containsKey("description")) {
      created.put("description", fields.getValue("description"));
    }
    created.put("issuetype", fields.getJsonObject("issuetype"));
    reply(req, 201, new JsonObject().put("id", issues.get(key).getString("id")).put("key", key)
        .put("self", baseUrl() + "/rest/api/3/issue/" + key));
  }

  /** Understands "project = KEY" (anything else: all the user's issues), pages with an opaque token. */
  private void search(HttpServerRequest req, User user) {
    String jql = req.getParam("jql", "");
    Matcher pm = Pattern.compile("project\\s*=\\s*\"?([A-Z0-9_]+)\"?").matcher(jql);
    String onlyProject = pm.find() ? pm.group(1) : null;
    List<JsonObject> matching = issues.values().stream()
        .filter(i -> {
          String p = i.getString("key").substring(0, i.getString("key").lastIndexOf('-'));
          return user.projects().contains(p) && (onlyProject == null || onlyProject.equals(p));
        })
        .sorted(java.util.Comparator.comparing(i -> Integer.parseInt(i.getString("key")
            .substring(i.getString("key").lastIndexOf('-') + 1))))
        .toList();
    int max = Integer.parseInt(req.getParam("maxResults", "50"));
    String token = req.getParam("nextPageToken");
    int from = token == null ? 0 : Integer.parseInt(new String(Base64.getDecoder().decode(token), StandardCharsets.UTF_8));
    String fields = req.getParam("fields");
    JsonArray page = new JsonArray();
    for (int i = from; i < Math.min(matching.size(), from + max); i++) {
      JsonObject issue = matching.get(i);
      // Like the real /search/jql: only ids unless fields are asked for.
      page.add(fields == null ? new JsonObject().put("id", issue.getString("id")) : issue);
    }
    JsonObject reply = new JsonObject().put("issues", page);
    if (from + max < matching.size()) {
      reply.put("nextPageToken", Base64.getEncoder().encodeToString(String.valueOf(from + max)
          .getBytes(StandardCharsets.UTF_8)));
    } else {
      reply.put("isLast", true);
    }
    reply(req, 200, reply);
  }

  private static void reply(HttpServerRequest req, int status, JsonObject body) {
    req.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }

  private static String[] basic(String header) {
    if (header == null || !header.startsWith("Basic ")) {
      return new String[] {null, null};
    }
    String decoded = new String(Base64.getDecoder().decode(header.substring(6)), StandardCharsets.UTF_8);
    int colon = decoded.indexOf(':');
    return colon < 0 ? new String[] {decoded, null} : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
  }

  private static JsonObject transition(String id, String name) {
    return new JsonObject().put("id", id).put("name", name).put("to", new JsonObject().put("name", name));
  }

  static JsonObject adf(String text) {
    return new JsonObject().put("type", "doc").put("version", 1).put("content", new JsonArray()
        .add(new JsonObject().put("type", "paragraph").put("content", new JsonArray()
            .add(new JsonObject().put("type", "text").put("text", text)))));
  }
}
