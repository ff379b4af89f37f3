package dev.mcps.soak;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An Anthropic Messages API stand-in ({@code POST /v1/messages}) that plays the model of the soak's chat turns and
 * checks that each request holds only the data of the user whose turn it is.
 *
 * <p>The turn's prompt is the newest user message with text; its marker ({@code soak-u<i>-turn-…}) names the user.
 * When the newest message ends with a {@code tool_result}, the answer is the final text (quoting the start of the tool
 * result, so a tool result that went to the wrong turn shows in the reply). Otherwise it is one {@code tool_use},
 * chosen from the prompt: an issue key ({@code U17-5}) → {@code jira_get_issue}; the word {@code jql} →
 * {@code jira_search} on the user's project; {@code remember note=X} → {@code notes_set} of X under the key
 * {@code chat}; anything else → {@code notes_get}. A tool the request does not offer is not called (the answer says
 * so, and the driver counts the turn as wrong).
 *
 * <p>A request that carries another user's marker anywhere (history, tool results, system prompt) is a <b>leak</b>:
 * another user's data reached this user's model call. Wrong {@code x-api-key} → 401, no {@code anthropic-version} or
 * no messages → 400, in the API's error shape. {@code "stream": true} gets the same answer as the API's event stream.
 * {@code GET /_soak/stats} reports the counters.
 */
final class FakeAnthropic extends SoakFake {

  private static final Pattern TURN_USER = Pattern.compile("soak-u([0-9]{1,6})-turn-");
  private static final Pattern NOTE = Pattern.compile("remember note=(\\S+)");
  private static final int QUOTE_CHARS = 300;

  private final String apiKey;
  private final AtomicLong ids = new AtomicLong();
  final LongAdder requests = counter("requests");
  final LongAdder toolUses = counter("toolUse");
  final LongAdder finals = counter("final");
  final LongAdder rejected = counter("rejected");
  final LongAdder toolNotOffered = counter("toolNotOffered");
  final LongAdder unattributed = counter("unattributed");
  final LongAdder leaks = counter("leaks");

  FakeAnthropic(String apiKey) {
    this.apiKey = apiKey;
  }

  @Override
  void handle(HttpServerRequest req) {
    if (req.method() == HttpMethod.POST && "/v1/messages".equals(req.path())) {
      req.body().onSuccess(body -> messages(req, body));
    } else {
      error(req, 404, "not_found_error", "No route " + req.method() + " " + req.path());
    }
  }

  private void messages(HttpServerRequest req, Buffer raw) {
    requests.increment();
    if (!apiKey.equals(req.getHeader("x-api-key"))) {
      rejected.increment();
      error(req, 401, "authentication_error", "invalid x-api-key");
      return;
    }
    if (req.getHeader("anthropic-version") == null) {
      rejected.increment();
      error(req, 400, "invalid_request_error", "anthropic-version: header is required");
      return;
    }
    JsonObject body;
    JsonArray messages;
    try {
      body = raw.toJsonObject();
      messages = body.getJsonArray("messages");
    } catch (RuntimeException e) {
      rejected.increment();
      error(req, 400, "invalid_request_error", "the body is not a JSON object with a messages array");
      return;
    }
    if (messages == null || messages.isEmpty() || !(messages.getValue(messages.size() - 1) instanceof JsonObject last)) {
      rejected.increment();
      error(req, 400, "invalid_request_error", "messages: at least one message is required");
      return;
    }
    String prompt = prompt(messages);
    Matcher who = prompt == null ? null : TURN_USER.matcher(prompt);
    int user = who != null && who.find() ? Integer.parseInt(who.group(1)) : -1;
    if (user < 0) {
      unattributed.increment();
    } else {
      int foreign = SoakIdentity.foreignOwner(raw.toString(), user);
      if (foreign >= 0) {
        leaks.increment();
        detail("LEAK: a model call for user " + user + " carried data of user " + foreign);
      }
    }
    JsonArray content;
    String stopReason;
    JsonArray lastBlocks = blocks(last);
    JsonObject lastBlock = lastBlocks.isEmpty() ? null : lastBlocks.getJsonObject(lastBlocks.size() - 1);
    if (lastBlock != null && "tool_result".equals(lastBlock.getString("type"))) {
      finals.increment();
      String quoted = SoakDriver.text(lastBlock.getValue("content"));
      if (quoted.length() > QUOTE_CHARS) {
        quoted = quoted.substring(0, QUOTE_CHARS) + "…";
      }
      boolean failed = Boolean.TRUE.equals(lastBlock.getValue("is_error"));
      content = new JsonArray().add(textBlock((failed ? "The tool failed: " : "Here is what I found: ") + quoted));
      stopReason = "end_turn";
    } else {
      JsonObject use = toolUse(prompt == null ? "" : prompt, user);
      if (!offered(body.getJsonArray("tools"), use.getString("name"))) {
        toolNotOffered.increment();
        content = new JsonArray().add(textBlock("I would call " + use.getString("name") + ", but it was not offered."));
        stopReason = "end_turn";
      } else {
        toolUses.increment();
        content = new JsonArray().add(use);
        stopReason = "tool_use";
      }
    }
    JsonObject message = new JsonObject()
        .put("id", "msg_soak" + ids.incrementAndGet())
        .put("type", "message")
        .put("role", "assistant")
        .put("model", body.getString("model", "soak"))
        .put("content", content)
        .put("stop_reason", stopReason)
        .put("stop_sequence", (Object) null)
        .put("usage", new JsonObject().put("input_tokens", raw.length() / 4).put("output_tokens", 10));
    if (Boolean.TRUE.equals(body.getValue("stream"))) {
      req.response().putHeader("Content-Type", "text/event-stream").putHeader("Cache-Control", "no-cache")
          .end(stream(message));
    } else {
      req.response().putHeader("Content-Type", "application/json").end(message.encode());
    }
  }

  /** The tool call a prompt asks for. */
  private JsonObject toolUse(String prompt, int user) {
    String name;
    JsonObject input = new JsonObject();
    Matcher key = SoakIdentity.ISSUE_KEY.matcher(prompt);
    Matcher note = NOTE.matcher(prompt);
    if (key.find()) {
      name = "jira_get_issue";
      input.put("issueKey", key.group());
    } else if (prompt.contains(" jql ") && user >= 0) {
      name = "jira_search";
      input.put("jql", "project = " + SoakIdentity.project(user) + " ORDER BY updated DESC").put("maxResults", 3);
    } else if (note.find()) {
      name = "notes_set";
      input.put("key", "chat").put("value", note.group(1));
    } else {
      name = "notes_get";
    }
    return new JsonObject().put("type", "tool_use").put("id", "toolu_soak" + ids.incrementAndGet())
        .put("name", name).put("input", input);
  }

  private static boolean offered(JsonArray tools, String name) {
    if (tools == null) {
      return false;
    }
    for (Object t : tools) {
      if (t instanceof JsonObject tool && name.equals(tool.getString("name"))) {
        return true;
      }
    }
    return false;
  }

  /** The newest user message's text, skipping messages that only carry tool results. */
  static String prompt(JsonArray messages) {
    for (int i = messages.size() - 1; i >= 0; i--) {
      if (!(messages.getValue(i) instanceof JsonObject m) || !"user".equals(m.getString("role"))) {
        continue;
      }
      StringBuilder text = new StringBuilder();
      for (Object o : blocks(m)) {
        if (o instanceof JsonObject b && "text".equals(b.getString("type")) && b.getValue("text") instanceof String s) {
          text.append(s);
        }
      }
      if (!text.isEmpty()) {
        return text.toString();
      }
    }
    return null;
  }

  /** A message's content as blocks (a string content is one text block). */
  private static JsonArray blocks(JsonObject message) {
    Object content = message.getValue("content");
    if (content instanceof String s) {
      return new JsonArray().add(textBlock(s));
    }
    return content instanceof JsonArray a ? a : new JsonArray();
  }

  private static JsonObject textBlock(String text) {
    return new JsonObject().put("type", "text").put("text", text);
  }

  /** The message as the Messages API's event stream. */
  static String stream(JsonObject message) {
    StringBuilder out = new StringBuilder();
    JsonObject start = message.copy().put("content", new JsonArray()).put("stop_reason", (Object) null);
    event(out, "message_start", new JsonObject().put("type", "message_start").put("message", start));
    JsonArray content = message.getJsonArray("content");
    for (int i = 0; i < content.size(); i++) {
      JsonObject block = content.getJsonObject(i);
      JsonObject delta;
      JsonObject opening;
      if ("tool_use".equals(block.getString("type"))) {
        opening = block.copy().put("input", new JsonObject());
        delta = new JsonObject().put("type", "input_json_delta").put("partial_json", block.getJsonObject("input").encode());
      } else {
        opening = new JsonObject().put("type", "text").put("text", "");
        delta = new JsonObject().put("type", "text_delta").put("text", block.getString("text"));
      }
      event(out, "content_block_start", new JsonObject().put("type", "content_block_start").put("index", i)
          .put("content_block", opening));
      event(out, "content_block_delta", new JsonObject().put("type", "content_block_delta").put("index", i)
          .put("delta", delta));
      event(out, "content_block_stop", new JsonObject().put("type", "content_block_stop").put("index", i));
    }
    event(out, "message_delta", new JsonObject().put("type", "message_delta")
        .put("delta", new JsonObject().put("stop_reason", message.getString("stop_reason")).put("stop_sequence", (Object) null))
        .put("usage", new JsonObject().put("output_tokens", 10)));
    event(out, "message_stop", new JsonObject().put("type", "message_stop"));
    return out.toString();
  }

  private static void event(StringBuilder out, String name, JsonObject data) {
    out.append("event: ").append(name).append("\ndata: ").append(data.encode()).append("\n\n");
  }

  private static void error(HttpServerRequest req, int status, String type, String message) {
    req.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("type", "error")
            .put("error", new JsonObject().put("type", type).put("message", message)).encode());
  }
}
