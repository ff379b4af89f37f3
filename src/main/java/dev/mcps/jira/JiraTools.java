package dev.mcps.jira;

import dev.mcps.session.JiraCredentials;
import dev.mcps.tools.SimpleTool;
import dev.mcps.tools.Tool;
import dev.mcps.tools.ToolArguments;
import dev.mcps.tools.ToolResult;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.regex.Pattern;

/**
 * The Jira tools. Each acts with the credentials of the session in context ({@link JiraCredentialsSource}) and
 * answers with compact text an LLM can use plus structured content — never Jira's raw payload.
 */
public final class JiraTools {

  private static final Pattern ISSUE_KEY = Pattern.compile("[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}|[0-9]{1,18}");
  private static final Pattern PROJECT_KEY = Pattern.compile("[A-Z][A-Z0-9_]{0,49}");
  private static final String DEFAULT_ISSUE_FIELDS =
      "summary,status,issuetype,priority,assignee,reporter,created,updated,labels,description,comment";
  private static final String DEFAULT_SEARCH_FIELDS = "summary,status,issuetype,priority,assignee,updated";
  private static final int MAX_DESCRIPTION = 4000;
  private static final int MAX_COMMENT = 1000;
  private static final int RECENT_COMMENTS = 5;

  private final JiraClient jira;
  private final JiraCredentialsSource credentials;
  private final ProjectScope scope;

  public JiraTools(JiraClient jira, JiraCredentialsSource credentials) {
    this(jira, credentials, List.of());
  }

  /** @param projects the project keys the tools may touch ({@code JIRA_PROJECTS}); empty = all */
  public JiraTools(JiraClient jira, JiraCredentialsSource credentials, List<String> projects) {
    this.jira = jira;
    this.credentials = credentials;
    this.scope = new ProjectScope(projects);
  }

  public List<Tool> all() {
    return List.of(getIssue(), search(), listProjects(), getTransitions(),
        createIssue(), updateIssue(), addComment(), transitionIssue());
  }

  // --- read tools ---

  Tool getIssue() {
    return tool("jira_get_issue", "Reads one Jira issue: summary, status, assignee, priority, description and the "
            + "latest comments.", true,
        schema(props("issueKey", str("Issue key such as PROJ-123"), "fields",
            arr("Jira field names to read instead of the default set")), "issueKey"),
        (site, args) -> {
          String key = issueKey(args);
          String fields = fieldList(args, DEFAULT_ISSUE_FIELDS);
          return notFoundAs(site.get("/rest/api/3/issue/" + key, Map.of("fields", fields)), "Issue " + key)
              .map(issue -> {
                // Jira answers a moved issue's old key with the issue in its new project.
                scope.checkIssue(issue.getString("key", key));
                return issueResult(issue);
              });
        });
  }

  Tool search() {
    return tool("jira_search", "Searches Jira issues with JQL. Returns up to maxResults issues and, when there are "
            + "more, a nextPageToken to pass back for the next page.", true,
        schema(props("jql", str("JQL query, e.g. project = PROJ AND status = \"In Progress\""),
            "maxResults", new JsonObject().put("type", "integer").put("minimum", 1).put("maximum", 50)
                .put("description", "Page size, at most 50 (default 20)"),
            "nextPageToken", str("Token from the previous page"),
            "fields", arr("Jira field names to include")), "jql"),
        (site, args) -> {
          String jql = scope.constrain(args.requiredString("jql", 4000));
          int max = maxResults(args);
          Map<String, String> query = new LinkedHashMap<>();
          query.put("jql", jql);
          query.put("maxResults", String.valueOf(max));
          // /search/jql returns only issue ids unless fields are asked for.
          query.put("fields", fieldList(args, DEFAULT_SEARCH_FIELDS));
          String token = args.optionalString("nextPageToken", 2000);
          if (token != null) {
            query.put("nextPageToken", token);
          }
          return site.get("/rest/api/3/search/jql", query).map(JiraTools::searchResult);
        });
  }

  Tool listProjects() {
    return tool("jira_list_projects", "Lists the Jira projects the user can see, optionally filtered by a text query.",
        true, schema(props("query", str("Text to match in project keys and names"))),
        (site, args) -> {
          Map<String, String> query = new LinkedHashMap<>();
          query.put("maxResults", "50");
          String q = args.optionalString("query", 200);
          if (q != null) {
            query.put("query", q);
          }
          return site.get("/rest/api/3/project/search", query).map(page -> {
            JsonArray values = page.getJsonArray("values", new JsonArray());
            JsonArray projects = new JsonArray();
            StringBuilder text = new StringBuilder();
            for (Object o : values) {
              JsonObject p = (JsonObject) o;
              if (!scope.allows(p.getString("key"))) {
                continue;
              }
              projects.add(new JsonObject().put("key", p.getString("key")).put("name", p.getString("name")));
              text.append(p.getString("key")).append(": ").append(p.getString("name")).append('\n');
            }
            return ToolResult.ok(projects.isEmpty() ? "No projects found." : text.toString().strip(),
                new JsonObject().put("projects", projects));
          });
        });
  }

  Tool getTransitions() {
    return tool("jira_get_transitions", "Lists the workflow transitions available for a Jira issue.", true,
        schema(props("issueKey", str("Issue key such as PROJ-123")), "issueKey"),
        (site, args) -> {
          String key = issueKey(args);
          return transitions(site, key).map(list -> {
            StringBuilder text = new StringBuilder("Transitions of " + key + ":");
            for (Object o : list) {
              JsonObject t = (JsonObject) o;
              text.append("\n- ").append(t.getString("name")).append(" (id ").append(t.getString("id")).append(")")
                  .append(t.getString("to") == null ? "" : " → " + t.getString("to"));
            }
            return ToolResult.ok(text.toString(), new JsonObject().put("issueKey", key).put("transitions", list));
          });
        });
  }

  // --- write tools ---

  Tool createIssue() {
    return tool("jira_create_issue", "Creates a Jira issue in a project.", false,
        schema(props("projectKey", str("Project key such as PROJ"), "summary", str("One-line summary"),
            "issueType", str("Issue type name, e.g. Task, Bug, Story"),
            "description", str("Plain text; blank lines separate paragraphs, lines starting with '- ' are bullets")),
            "projectKey", "summary", "issueType"),
        (site, args) -> {
          String project = args.requiredString("projectKey", 50).toUpperCase(Locale.ROOT);
          if (!PROJECT_KEY.matcher(project).matches()) {
            throw new ToolArguments.Invalid("Invalid argument 'projectKey': not a Jira project key");
          }
          scope.checkProject(project);
          JsonObject fields = new JsonObject()
              .put("project", new JsonObject().put("key", project))
              .put("summary", args.requiredString("summary", 255))
              .put("issuetype", new JsonObject().put("name", args.requiredString("issueType", 100)));
          String description = args.optionalString("description", 32_000);
          if (description != null) {
            fields.put("description", Adf.fromText(description));
          }
          return site.post("/rest/api/3/issue", new JsonObject().put("fields", fields))
              .map(created -> ToolResult.ok("Created " + created.getString("key") + ".",
                  new JsonObject().put("key", created.getString("key")).put("id", created.getString("id"))));
        });
  }

  Tool updateIssue() {
    return tool("jira_update_issue", "Updates fields of a Jira issue (e.g. summary, description, labels, priority).",
        false,
        schema(props("issueKey", str("Issue key such as PROJ-123"), "fields", new JsonObject().put("type", "object")
            .put("description", "Jira fields to set; a plain-text description is converted to Jira's format")),
            "issueKey", "fields"),
        (site, args) -> {
          String key = issueKey(args);
          Object raw = args.raw().getValue("fields");
          if (!(raw instanceof JsonObject fields) || fields.isEmpty()) {
            throw new ToolArguments.Invalid("Invalid argument 'fields': a non-empty object of Jira fields is required");
          }
          JsonObject body = fields.copy();
          if (body.getValue("description") instanceof String text) {
            body.put("description", Adf.fromText(text));
          }
          return notFoundAs(site.put("/rest/api/3/issue/" + key, new JsonObject().put("fields", body)),
              "Issue " + key)
              .map(v -> ToolResult.ok("Updated " + key + " (" + String.join(", ", body.fieldNames()) + ").",
                  new JsonObject().put("issueKey", key).put("updated", new JsonArray(new ArrayList<>(body.fieldNames())))));
        });
  }

  Tool addComment() {
    return tool("jira_add_comment", "Adds a comment to a Jira issue.", false,
        schema(props("issueKey", str("Issue key such as PROJ-123"),
            "body", str("Plain text; blank lines separate paragraphs, lines starting with '- ' are bullets")),
            "issueKey", "body"),
        (site, args) -> {
          String key = issueKey(args);
          String text = args.requiredString("body", 32_000);
          return notFoundAs(site.post("/rest/api/3/issue/" + key + "/comment",
              new JsonObject().put("body", Adf.fromText(text))), "Issue " + key)
              .map(c -> ToolResult.ok("Comment added to " + key + ".",
                  new JsonObject().put("issueKey", key).put("commentId", c.getString("id"))));
        });
  }

  Tool transitionIssue() {
    return tool("jira_transition_issue", "Moves a Jira issue through its workflow by transition id or name, "
            + "optionally with a comment.", false,
        schema(props("issueKey", str("Issue key such as PROJ-123"),
            "transition", str("Transition id or name, e.g. \"Done\" (see jira_get_transitions)"),
            "comment", str("Optional comment to add with the transition")), "issueKey", "transition"),
        (site, args) -> {
          String key = issueKey(args);
          String wanted = args.requiredString("transition", 200);
          String comment = args.optionalString("comment", 32_000);
          return transitions(site, key).compose(list -> {
            JsonObject match = null;
            for (Object o : list) {
              JsonObject t = (JsonObject) o;
              if (wanted.equals(t.getString("id")) || wanted.equalsIgnoreCase(t.getString("name"))) {
                match = t;
                break;
              }
            }
            if (match == null) {
              List<String> names = list.stream().map(o -> ((JsonObject) o).getString("name")).toList();
              return Future.succeededFuture(ToolResult.error("Invalid argument 'transition': " + key + " has no "
                  + "transition '" + wanted + "'; available: " + String.join(", ", names)));
            }
            JsonObject body = new JsonObject().put("transition", new JsonObject().put("id", match.getString("id")));
            if (comment != null) {
              body.put("update", new JsonObject().put("comment", new JsonArray()
                  .add(new JsonObject().put("add", new JsonObject().put("body", Adf.fromText(comment))))));
            }
            String name = match.getString("name");
            String to = match.getString("to");
            return site.post("/rest/api/3/issue/" + key + "/transitions", body)
                .map(v -> ToolResult.ok("Moved " + key + " with '" + name + "'" + (to == null ? "" : " to " + to) + ".",
                    new JsonObject().put("issueKey", key).put("transition", name).put("status", to)));
          });
        });
  }

  // --- helpers ---

  private Future<JsonArray> transitions(JiraCall site, String key) {
    return notFoundAs(site.get("/rest/api/3/issue/" + key + "/transitions", Map.of()), "Issue " + key)
        .map(json -> {
          JsonArray out = new JsonArray();
          for (Object o : json.getJsonArray("transitions", new JsonArray())) {
            JsonObject t = (JsonObject) o;
            out.add(new JsonObject().put("id", t.getString("id")).put("name", t.getString("name"))
                .put("to", t.getJsonObject("to", new JsonObject()).getString("name")));
          }
          return out;
        });
  }

  /**
   * Builds a tool whose body reaches Jira with the session's credentials; Jira failures become tool errors. The
   * result notes the status Jira last answered ({@link ToolResult#jiraStatus()}, for the audit trail).
   */
  private Tool tool(String name, String description, boolean readOnly, JsonObject schema,
                    BiFunction<JiraCall, ToolArguments, Future<ToolResult>> body) {
    return new SimpleTool(name, description, schema, readOnly, args -> {
      JiraCall site;
      Future<ToolResult> result;
      try {
        site = new JiraCall(jira, credentials.current());
        result = body.apply(site, args);
      } catch (JiraException e) {
        return Future.succeededFuture(ToolResult.error(e.getMessage()).withJiraStatus(e.status()));
      }
      return result.map(r -> r.withJiraStatus(site.lastStatus()))
          .recover(err -> err instanceof JiraException je
              // The failing request's own status: 0 (no answer: a timeout) is none, even after earlier answers.
              ? Future.succeededFuture(ToolResult.error(err.getMessage()).withJiraStatus(je.status()))
              : Future.failedFuture(err));
    });
  }

  /**
   * One tool call's way to Jira: the session's credentials, and the status Jira last answered. One per call, so
   * nothing is shared between calls; a call's requests follow each other, and the status is read once they are done.
   */
  private static final class JiraCall {

    private final JiraClient jira;
    private final JiraCredentials creds;
    private volatile int lastStatus;

    JiraCall(JiraClient jira, JiraCredentials creds) {
      this.jira = jira;
      this.creds = creds;
    }

    Future<JsonObject> get(String path, Map<String, String> query) {
      return jira.get(creds, path, query, this::answered);
    }

    Future<JsonObject> post(String path, JsonObject body) {
      return jira.post(creds, path, body, this::answered);
    }

    Future<JsonObject> put(String path, JsonObject body) {
      return jira.put(creds, path, body, this::answered);
    }

    private void answered(int status) {
      lastStatus = status;
    }

    /** Null when Jira never answered. */
    Integer lastStatus() {
      return lastStatus == 0 ? null : lastStatus;
    }
  }

  private static <T> Future<T> notFoundAs(Future<T> call, String what) {
    return call.recover(err -> err instanceof JiraException je && je.status() == 404
        ? Future.failedFuture(new JiraException(404, what + " not found"))
        : Future.failedFuture(err));
  }

  /** The validated, upper-cased key; refused (before any call to Jira) outside {@code JIRA_PROJECTS}. */
  private String issueKey(ToolArguments args) {
    String key = args.requiredString("issueKey", 64).trim().toUpperCase(Locale.ROOT);
    if (!ISSUE_KEY.matcher(key).matches()) {
      throw new ToolArguments.Invalid("Invalid argument 'issueKey': expected a key such as PROJ-123");
    }
    scope.checkIssue(key);
    return key;
  }

  private static int maxResults(ToolArguments args) {
    Object v = args.raw().getValue("maxResults");
    if (v == null) {
      return 20;
    }
    if (!(v instanceof Number n) || n.doubleValue() != Math.floor(n.doubleValue()) || n.intValue() < 1
        || n.intValue() > 50) {
      throw new ToolArguments.Invalid("Invalid argument 'maxResults': a whole number from 1 to 50");
    }
    return n.intValue();
  }

  private static String fieldList(ToolArguments args, String dflt) {
    Object v = args.raw().getValue("fields");
    if (v == null) {
      return dflt;
    }
    if (!(v instanceof JsonArray a) || a.isEmpty() || a.size() > 50
        || !a.stream().allMatch(f -> f instanceof String s && s.matches("[A-Za-z0-9_.\\-]{1,100}"))) {
      throw new ToolArguments.Invalid("Invalid argument 'fields': a non-empty array of Jira field names");
    }
    List<String> names = a.stream().map(String::valueOf).toList();
    return String.join(",", names);
  }

  static ToolResult issueResult(JsonObject issue) {
    JsonObject f = issue.getJsonObject("fields", new JsonObject());
    String key = issue.getString("key");
    String description = clip(Adf.toText(f.getValue("description")), MAX_DESCRIPTION);
    JsonArray comments = new JsonArray();
    JsonObject commentPage = f.getJsonObject("comment", new JsonObject());
    JsonArray all = commentPage.getJsonArray("comments", new JsonArray());
    for (int i = Math.max(0, all.size() - RECENT_COMMENTS); i < all.size(); i++) {
      JsonObject c = all.getJsonObject(i);
      comments.add(new JsonObject().put("author", name(c.getJsonObject("author")))
          .put("created", c.getString("created")).put("body", clip(Adf.toText(c.getValue("body")), MAX_COMMENT)));
    }
    JsonObject structured = new JsonObject()
        .put("key", key)
        .put("summary", f.getString("summary"))
        .put("status", nameOf(f, "status"))
        .put("issueType", nameOf(f, "issuetype"))
        .put("priority", nameOf(f, "priority"))
        .put("assignee", name(f.getJsonObject("assignee")))
        .put("reporter", name(f.getJsonObject("reporter")))
        .put("created", f.getString("created"))
        .put("updated", f.getString("updated"))
        .put("labels", f.getJsonArray("labels", new JsonArray()))
        .put("description", description)
        .put("comments", comments)
        .put("commentCount", commentPage.getInteger("total", all.size()));
    StringBuilder text = new StringBuilder();
    text.append(key).append(": ").append(orDash(f.getString("summary"))).append('\n')
        .append("Status: ").append(orDash(structured.getString("status")))
        .append(" | Type: ").append(orDash(structured.getString("issueType")))
        .append(" | Priority: ").append(orDash(structured.getString("priority")))
        .append(" | Assignee: ").append(orDash(structured.getString("assignee")))
        .append(" | Reporter: ").append(orDash(structured.getString("reporter"))).append('\n');
    if (!structured.getJsonArray("labels").isEmpty()) {
      text.append("Labels: ").append(String.join(", ", structured.getJsonArray("labels").stream()
          .map(String::valueOf).toList())).append('\n');
    }
    text.append("Description:\n").append(description.isEmpty() ? "(none)" : description).append('\n');
    if (!comments.isEmpty()) {
      text.append("Recent comments (").append(comments.size()).append(" of ")
          .append(structured.getInteger("commentCount")).append("):\n");
      for (Object o : comments) {
        JsonObject c = (JsonObject) o;
        text.append("- ").append(orDash(c.getString("author"))).append(" (").append(orDash(c.getString("created")))
            .append("): ").append(c.getString("body")).append('\n');
      }
    }
    return ToolResult.ok(text.toString().strip(), structured);
  }

  static ToolResult searchResult(JsonObject page) {
    JsonArray issues = new JsonArray();
    StringBuilder text = new StringBuilder();
    for (Object o : page.getJsonArray("issues", new JsonArray())) {
      JsonObject issue = (JsonObject) o;
      JsonObject f = issue.getJsonObject("fields", new JsonObject());
      JsonObject item = new JsonObject().put("key", issue.getString("key")).put("summary", f.getString("summary"))
          .put("status", nameOf(f, "status")).put("assignee", name(f.getJsonObject("assignee")))
          .put("priority", nameOf(f, "priority"));
      issues.add(item);
      text.append(orDash(item.getString("key"))).append(" [").append(orDash(item.getString("status"))).append("] ")
          .append(orDash(item.getString("summary")));
      if (item.getString("assignee") != null) {
        text.append(" — ").append(item.getString("assignee"));
      }
      text.append('\n');
    }
    String next = page.getString("nextPageToken");
    JsonObject structured = new JsonObject().put("issues", issues).put("isLast", next == null);
    if (next != null) {
      structured.put("nextPageToken", next);
      text.append("More results: call again with nextPageToken=").append(next);
    }
    return ToolResult.ok(issues.isEmpty() && next == null ? "No issues match." : text.toString().strip(), structured);
  }

  private static String nameOf(JsonObject fields, String field) {
    Object v = fields.getValue(field);
    return v instanceof JsonObject o ? o.getString("name") : null;
  }

  private static String name(JsonObject user) {
    return user == null ? null : user.getString("displayName", user.getString("emailAddress"));
  }

  private static String orDash(String s) {
    return s == null || s.isEmpty() ? "—" : s;
  }

  private static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max) + "…";
  }

  private static JsonObject schema(JsonObject properties, String... required) {
    return new JsonObject().put("type", "object").put("properties", properties)
        .put("required", new JsonArray(List.of((Object[]) required))).put("additionalProperties", false);
  }

  private static JsonObject props(Object... pairs) {
    JsonObject p = new JsonObject();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      p.put((String) pairs[i], pairs[i + 1]);
    }
    return p;
  }

  private static JsonObject str(String description) {
    return new JsonObject().put("type", "string").put("description", description);
  }

  private static JsonObject arr(String description) {
    return new JsonObject().put("type", "array").put("items", new JsonObject().put("type", "string"))
        .put("description", description);
  }
}
