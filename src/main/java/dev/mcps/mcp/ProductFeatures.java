package dev.mcps.mcp;

import dev.mcps.audit.AuditLog;
import dev.mcps.mcp.features.McpExchange;
import dev.mcps.mcp.features.McpFailure;
import dev.mcps.mcp.features.McpFeatureSet;
import dev.mcps.session.SessionContext;
import dev.mcps.tools.ToolCalls;
import dev.mcps.tools.ToolsVerticle;
import dev.mcps.tools.ToolCatalog;
import dev.mcps.tools.ToolResult;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * The server's own tools and prompts as an era-neutral feature set: the tool catalog (each call forwarded to the
 * tools verticle in the request's user session) and the Jira prompts. The Jira write tools ask the user to confirm
 * through elicitation first when the client can elicit (and confirmation is on).
 */
public final class ProductFeatures implements McpFeatureSet {

  /** The tools whose effect a user may want to see before it happens. */
  static final Set<String> CONFIRMED = Set.of("jira_create_issue", "jira_update_issue", "jira_transition_issue");

  /** One of the server's prompts: a single required argument turned into one user message. */
  record PromptText(String name, String description, String argName, String argDescription,
                    Function<String, String> text) {
  }

  static final List<PromptText> PROMPTS = List.of(
      new PromptText("jira_triage", "Triage one Jira issue: assess it, propose priority, labels and next steps.",
          "issueKey", "The issue key, e.g. PROJ-123",
          key -> "Triage Jira issue " + key + ". Read it with jira_get_issue, then give: a one-line summary, "
              + "a suggested priority with the reason, missing information to ask the reporter for, and the next "
              + "concrete step. Do not change the issue unless I ask."),
      new PromptText("jira_standup", "Prepare a stand-up summary for one Jira project.",
          "project", "The project key, e.g. PROJ",
          project -> "Prepare my stand-up for project " + project + ". Use jira_search with JQL such as "
              + "\"project = " + project + " AND updated >= -1d ORDER BY updated DESC\" and list: what moved "
              + "since yesterday, what is in progress, and what is blocked, one line per issue with its key."));

  private final Vertx vertx;
  private final ToolCatalog catalog;
  private final boolean confirmWrites;
  private final AuditLog audit;
  private final Set<String> inPlace;
  private final List<McpFeatureSet.Tool> tools;
  private final List<McpFeatureSet.Prompt> prompts;

  /**
   * @param inPlace the tools run in the calling request's context when it holds the user session (the session
   *                tools); the others (Jira) go to the tools verticle, which may hand them to a worker
   */
  public ProductFeatures(Vertx vertx, ToolCatalog catalog, boolean confirmWrites, Set<String> inPlace) {
    this(vertx, catalog, confirmWrites, inPlace, AuditLog.off());
  }

  /** @param audit where the calls run in place, and the writes the user did not confirm, are written */
  public ProductFeatures(Vertx vertx, ToolCatalog catalog, boolean confirmWrites, Set<String> inPlace,
                         AuditLog audit) {
    this.vertx = vertx;
    this.audit = audit;
    this.catalog = catalog;
    this.confirmWrites = confirmWrites;
    this.inPlace = Set.copyOf(inPlace);
    this.tools = catalog.tools().stream().map(this::tool).toList();
    this.prompts = PROMPTS.stream().map(ProductFeatures::prompt).toList();
  }

  @Override
  public List<McpFeatureSet.Tool> tools() {
    return tools;
  }

  @Override
  public List<McpFeatureSet.Prompt> prompts() {
    return prompts;
  }

  @Override
  public List<Resource> resources() {
    return List.of();
  }

  @Override
  public List<ResourceTemplate> resourceTemplates() {
    return List.of();
  }

  @Override
  public String refusal(String toolName) {
    return catalog.refusal(toolName);
  }

  private McpFeatureSet.Tool tool(dev.mcps.tools.Tool tool) {
    JsonObject descriptor = new JsonObject()
        .put("name", tool.name())
        .put("description", tool.description())
        .put("inputSchema", tool.inputSchema())
        .put("annotations", new JsonObject().put("readOnlyHint", tool.readOnly()));
    return new McpFeatureSet.Tool() {
      @Override
      public JsonObject descriptor() {
        return descriptor;
      }

      @Override
      public Future<JsonObject> call(McpExchange exchange, JsonObject arguments) {
        return ProductFeatures.this.call(exchange, tool.name(), arguments);
      }
    };
  }

  private Future<JsonObject> call(McpExchange exchange, String name, JsonObject arguments) {
    Future<Boolean> go = confirms(name, exchange) ? confirm(exchange, name, arguments) : Future.succeededFuture(true);
    return go.compose(confirmed -> {
      if (!confirmed) {
        auditRefusal(exchange, name);
        return Future.succeededFuture(notConfirmed(name).toJson());
      }
      if (inPlace.contains(name)) {
        // A session tool is a few map operations on the session the request already holds: run it here, in that
        // session's context, rather than send it to the tools verticle to load the session a second time.
        return exchange.userSession().compose(session -> session == null ? viaBus(exchange, name, arguments)
            : SessionContext.runWith(session, () -> ToolsVerticle.run(catalog, audit, name, arguments))
                .map(ToolResult::toJson));
      }
      return viaBus(exchange, name, arguments);
    });
  }

  private Future<JsonObject> viaBus(McpExchange exchange, String name, JsonObject arguments) {
    // A failure to find the user session is the request's (a JSON-RPC error); the tool's own failures are results.
    return exchange.userSessionId().compose(sessionId -> {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      String callId = new UUID(random.nextLong(), random.nextLong()).toString();
      exchange.onCancel(() -> ToolCalls.cancel(vertx, callId));
      return ToolCalls.call(vertx, sessionId, name, arguments, callId)
          .map(ToolResult::toJson)
          .recover(err -> Future.succeededFuture(ToolResult.error(Reactor.describe(err)).toJson()));
    });
  }

  /** A write the user declined never reaches the tool executor: it is written here, as refused. */
  private void auditRefusal(McpExchange exchange, String name) {
    if (!audit.enabled()) {
      return;
    }
    // The session era knows only the user session's id here; the stateless era has the session (and its user).
    exchange.userSession().onSuccess(s -> {
      if (s != null) {
        audit.toolCall(s.sessionId(), s.userId(), name, AuditLog.Outcome.REFUSED, 0, null, "Not_Confirmed");
      } else {
        exchange.userSessionId().onSuccess(id ->
            audit.toolCall(id, null, name, AuditLog.Outcome.REFUSED, 0, null, "Not_Confirmed"));
      }
    });
  }

  /** Whether {@code name} asks an eliciting client to confirm first (in either era). */
  boolean confirms(String name, McpExchange exchange) {
    return confirmWrites && CONFIRMED.contains(name) && exchange.clientHas("elicitation");
  }

  /** Asks the user, through the client, to confirm a Jira change described in plain words. */
  static Future<Boolean> confirm(McpExchange exchange, String name, JsonObject arguments) {
    JsonObject schema = new JsonObject().put("type", "object")
        .put("properties", new JsonObject().put("confirm", new JsonObject().put("type", "boolean")
            .put("title", "Go ahead").put("description", "Make this change in Jira").put("default", true)))
        .put("required", new JsonArray().add("confirm"));
    JsonObject request = new JsonObject().put("method", "elicitation/create").put("params", new JsonObject()
        .put("mode", "form").put("message", describe(name, arguments)).put("requestedSchema", schema));
    return exchange.ask(new JsonObject().put("confirm", request)).map(answers -> {
      JsonObject answer = answers.getJsonObject("confirm");
      JsonObject content = answer.getValue("content") instanceof JsonObject c ? c : new JsonObject();
      return "accept".equals(answer.getString("action")) && !Boolean.FALSE.equals(content.getValue("confirm"));
    });
  }

  static ToolResult notConfirmed(String name) {
    return ToolResult.error("The user did not confirm " + name + ": nothing was changed in Jira");
  }

  static String describe(String name, JsonObject args) {
    String key = text(args, "issueKey");
    return switch (name) {
      case "jira_create_issue" -> "Create a " + text(args, "issueType") + " in Jira project "
          + text(args, "projectKey") + ": \"" + text(args, "summary") + "\"?";
      case "jira_update_issue" -> "Update Jira issue " + key + " (fields: "
          + (args.getValue("fields") instanceof JsonObject f ? String.join(", ", f.fieldNames()) : "?") + ")?";
      case "jira_transition_issue" -> "Move Jira issue " + key + " through transition \""
          + text(args, "transition") + "\"?";
      default -> "Run " + name + "?";
    };
  }

  private static String text(JsonObject args, String field) {
    Object v = args.getValue(field);
    String s = v == null ? "?" : String.valueOf(v);
    return s.length() <= 120 ? s : s.substring(0, 120) + "…";
  }

  private static McpFeatureSet.Prompt prompt(PromptText p) {
    JsonObject descriptor = new JsonObject().put("name", p.name()).put("description", p.description())
        .put("arguments", new JsonArray().add(new JsonObject().put("name", p.argName())
            .put("description", p.argDescription()).put("required", true)));
    return new McpFeatureSet.Prompt() {
      @Override
      public JsonObject descriptor() {
        return descriptor;
      }

      @Override
      public Future<JsonObject> get(McpExchange exchange, JsonObject arguments) {
        Object value = arguments.getValue(p.argName());
        if (!(value instanceof String s) || s.isBlank()) {
          return Future.failedFuture(McpFailure.invalidParams("Missing required argument '" + p.argName() + "'"));
        }
        return Future.succeededFuture(new JsonObject().put("description", p.description())
            .put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                .put("content", McpFeatureSet.textContent(p.text().apply(s.trim()))))));
      }
    };
  }

}
