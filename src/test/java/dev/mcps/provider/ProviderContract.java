package dev.mcps.provider;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.FakeLlmServer;
import dev.mcps.testing.TestServers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every provider does the same way, run against its fake API: the two-step tool turn the agent loop drives, and
 * the failure contract (rejected key, throttling, server errors, stalls, unreachable API) and context handling.
 * A subclass supplies the provider, its fake, and the wire-format checks.
 */
abstract class ProviderContract {

  /**
   * Small numbers: three tries, at most 1.5 s between them; an attempt times out after 4 s. The timeout is a total
   * deadline (connect, headers, body), and a cold client on a busy 2-core CI machine has been seen to need more than
   * 2 s for its first call.
   */
  protected static final CallPolicy FAST = new CallPolicy(4000, 3, 1500);

  protected static final String SYSTEM = "You help with Jira.";
  protected static final String USER_HASH = "u-3f2a9c17";
  protected static final String ASK = "Read PROJ-1 and comment 'Looks good' on it.";
  protected static final String ISSUE_TEXT = "PROJ-1: Login fails\nStatus: To Do";
  protected static final String COMMENT_ERROR = "Jira denied access (403)";

  protected static final JsonObject GET_ISSUE = new JsonObject()
      .put("name", "jira_get_issue").put("description", "Read one Jira issue")
      .put("inputSchema", new JsonObject("""
          {"type":"object","properties":{"issueKey":{"type":"string"}},"required":["issueKey"]}"""));
  protected static final JsonObject ADD_COMMENT = new JsonObject()
      .put("name", "jira_add_comment").put("description", "Add a comment to a Jira issue")
      .put("inputSchema", new JsonObject("""
          {"type":"object","properties":{"issueKey":{"type":"string"},"body":{"type":"string"}},
           "required":["issueKey","body"]}"""));
  protected static final JsonObject GET_ISSUE_INPUT = new JsonObject().put("issueKey", "PROJ-1");
  protected static final JsonObject ADD_COMMENT_INPUT = new JsonObject().put("issueKey", "PROJ-1")
      .put("body", "Looks good");

  private final String displayName;
  private final String credential;
  private final String credentialName;
  private final int rejectStatus;

  protected Vertx vertx;
  protected FakeLlmServer fake;
  protected LlmProvider provider;

  /**
   * @param displayName    how the provider names itself in errors ("Anthropic")
   * @param credential     what the provider sends: no error text may show it, whole or in part
   * @param credentialName what a rejection says was rejected ("API key")
   * @param rejectStatus   what the API answers a wrong credential with
   */
  protected ProviderContract(String displayName, String credential, String credentialName, int rejectStatus) {
    this.displayName = displayName;
    this.credential = credential;
    this.credentialName = credentialName;
    this.rejectStatus = rejectStatus;
  }

  /** A fake that accepts exactly the credential {@link #provider(String, CallPolicy)} sends. */
  protected abstract FakeLlmServer startFake(Vertx vertx);

  protected abstract LlmProvider provider(String baseUrl, CallPolicy policy);

  /** Makes the fake answer like the model of {@link #runTwoToolTurn()}: it decides by the tool results it sees. */
  protected abstract void scriptTwoToolTurn();

  @BeforeEach
  void startFakeAndProvider() {
    vertx = Vertx.vertx();
    fake = startFake(vertx);
    provider = provider(fake.baseUrl(), FAST);
  }

  @AfterEach
  void stopAll() throws Exception {
    if (provider instanceof AutoCloseable c) {
      c.close();
    }
    fake.close();
    TestServers.await(vertx.close());
  }

  protected static ProviderRequest request(List<JsonObject> messages) {
    return request(messages, new WireMemo());
  }

  protected static ProviderRequest request(List<JsonObject> messages, WireMemo memo) {
    return new ProviderRequest(SYSTEM, messages, List.of(GET_ISSUE, ADD_COMMENT), USER_HASH, null, memo);
  }

  protected static JsonObject user(Object content) {
    return new JsonObject().put("role", "user").put("content", content);
  }

  protected static JsonObject toolResult(String id, String text, boolean error) {
    JsonObject r = new JsonObject().put("type", "tool_result").put("tool_use_id", id).put("content", text);
    return error ? r.put("is_error", true) : r;
  }

  /** A one-message call, for the tests in which what is asked does not matter. */
  static Future<ProviderReply> ask(LlmProvider provider) {
    return provider.complete(new ProviderRequest("system", List.of(new JsonObject().put("role", "user")
        .put("content", "hello")), List.of(), "u-1", null, new WireMemo()));
  }

  /** How {@code call} failed, within 30 s: a {@link ProviderException}, else the test fails. */
  static ProviderException failure(Future<?> call) {
    try {
      call.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(ProviderException.class);
      return (ProviderException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("the call succeeded");
  }

  /**
   * The agent loop's view of a turn: the user asks, the model reads the issue (with a word first), the tool result
   * goes back, the model comments, that tool fails, the model answers in text. Returns the three replies.
   */
  protected List<ProviderReply> runTwoToolTurn() {
    // One memo for the three steps, as the agent loop does: what a provider keeps of a step must not leak into the
    // next one's body (the exact bodies are checked per provider).
    WireMemo memo = new WireMemo();
    List<JsonObject> history = new ArrayList<>();
    history.add(user(new JsonArray().add(Canonical.text(ASK))));
    ProviderReply first = TestServers.await(provider.complete(request(List.copyOf(history), memo)));
    history.add(new JsonObject().put("role", "assistant").put("content", new JsonArray(first.content())));
    history.add(user(new JsonArray().add(toolResult(toolUseId(first), ISSUE_TEXT, false))));
    ProviderReply second = TestServers.await(provider.complete(request(List.copyOf(history), memo)));
    history.add(new JsonObject().put("role", "assistant").put("content", new JsonArray(second.content())));
    history.add(user(new JsonArray().add(toolResult(toolUseId(second), COMMENT_ERROR, true))));
    ProviderReply third = TestServers.await(provider.complete(request(List.copyOf(history), memo)));
    return List.of(first, second, third);
  }

  private static String toolUseId(ProviderReply reply) {
    return reply.content().stream().filter(b -> "tool_use".equals(b.getString("type"))).findFirst().orElseThrow()
        .getString("id");
  }

  @Test
  void aTwoStepToolTurnComesBackAsCanonicalBlocks() {
    scriptTwoToolTurn();

    List<ProviderReply> replies = runTwoToolTurn();

    assertThat(replies.get(0).content()).containsExactly(Canonical.text("Let me read it."),
        Canonical.toolUse("tu_1", "jira_get_issue", GET_ISSUE_INPUT));
    assertThat(replies.get(0).stopReason()).isEqualTo("tool_use");
    assertThat(replies.get(0).wantsTools()).isTrue();
    assertThat(replies.get(1).content()).containsExactly(
        Canonical.toolUse("tu_2", "jira_add_comment", ADD_COMMENT_INPUT));
    assertThat(replies.get(1).stopReason()).isEqualTo("tool_use");
    assertThat(replies.get(2).content()).containsExactly(Canonical.text("I could not add the comment."));
    assertThat(replies.get(2).stopReason()).isEqualTo("end_turn");
    assertThat(replies.get(2).wantsTools()).isFalse();
    assertThat(fake.requests()).hasSize(3);
  }

  @Test
  void aRejectedCredentialIsAProviderErrorThatNeverShowsTheCredential() {
    fake.acceptOnly("someone-elses-credential");

    ProviderException e = failure(provider.complete(request(List.of(user(ASK)))));

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.code()).isEqualTo("Provider_Error");
    assertThat(e.getMessage()).isEqualTo(displayName + " rejected the " + credentialName + " ("
        + rejectStatus + ")");
    assertNoCredentialIn(e.getMessage());
    assertThat(fake.requests()).as("a rejected credential is not retried").hasSize(1);
  }

  @Test
  void aBadRequestShowsTheProvidersTextButNothingThatLooksLikeTheCredential() {
    fake.failNext(400, 1, null, "messages.1.content: unexpected field 'foo'");
    ProviderException plain = failure(provider.complete(request(List.of(user(ASK)))));
    fake.failNext(400, 1, null, "header x was " + credential + ", which is not valid here");
    ProviderException echoing = failure(provider.complete(request(List.of(user(ASK)))));

    assertThat(plain.status()).isEqualTo(502);
    assertThat(plain.code()).isEqualTo("Provider_Error");
    assertThat(plain.getMessage()).isEqualTo(displayName
        + " rejected the request (400): messages.1.content: unexpected field 'foo'");
    assertThat(echoing.getMessage()).startsWith(displayName + " rejected the request (400)");
    assertNoCredentialIn(echoing.getMessage());
    assertThat(fake.requests()).as("a bad request is not retried").hasSize(2);
  }

  @Test
  void aThrottledCallWaitsForRetryAfterAndThenSucceeds() {
    fake.failNext(429, 1, "1");
    long start = System.nanoTime();

    ProviderReply reply = TestServers.await(provider.complete(request(List.of(user(ASK)))));

    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(reply.content()).containsExactly(Canonical.text("ok"));
    assertThat(fake.requests()).hasSize(2);
    assertThat(elapsedMs).as("waited for Retry-After: 1").isGreaterThanOrEqualTo(950);
    assertThat(fake.request(1).body()).isEqualTo(fake.request(0).body());
  }

  @Test
  void serverErrorsAreRetriedABoundedNumberOfTimesThenReportedAs502() {
    fake.failNext(500, 10, null);

    ProviderException e = failure(provider.complete(request(List.of(user(ASK)))));

    assertThat(e.status()).isEqualTo(502);
    assertThat(e.code()).isEqualTo("Provider_Error");
    assertThat(e.getMessage()).isEqualTo(displayName + " is unavailable (500)");
    assertThat(fake.requests()).hasSize(FAST.maxAttempts());
  }

  @Test
  void aStalledCallTimesOutAs504WithoutARetry() {
    fake.stallNext(5);
    long start = System.nanoTime();

    ProviderException e = failure(provider.complete(request(List.of(user(ASK)))));

    assertThat(e.status()).isEqualTo(504);
    assertThat(e.code()).isEqualTo("Provider_Timeout");
    assertThat(e.getMessage()).startsWith(displayName + " did not answer within");
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(1_900L, 8_000L);
    assertThat(fake.requests()).hasSize(1);
  }

  @Test
  void anUnreachableApiIsRetriedThenReportedAs502() throws Exception {
    // A generous attempt timeout: this is about refused connections, and a cold SDK client may be slow to start.
    LlmProvider nowhere = provider("http://127.0.0.1:" + TestServers.freePort(), new CallPolicy(10_000, 3, 200));
    try {
      ProviderException e = failure(nowhere.complete(request(List.of(user(ASK)))));

      assertThat(e.status()).isEqualTo(502);
      assertThat(e.code()).isEqualTo("Provider_Error");
      assertThat(e.getMessage()).startsWith(displayName + " could not be reached");
      assertNoCredentialIn(e.getMessage());
    } finally {
      if (nowhere instanceof AutoCloseable c) {
        c.close();
      }
    }
  }

  @Test
  void theReplyArrivesOnTheCallersDuplicatedContextEvenAfterARetry() throws Exception {
    fake.failNext(429, 1, "0");
    ContextInternal caller = ((ContextInternal) vertx.getOrCreateContext()).duplicate();
    CompletableFuture<Context> seen = new CompletableFuture<>();

    caller.runOnContext(v -> provider.complete(request(List.of(user(ASK))))
        .onComplete(ar -> seen.complete(ar.succeeded() ? Vertx.currentContext() : null)));

    assertThat(seen.get(10, TimeUnit.SECONDS)).isSameAs(caller);
    assertThat(fake.requests()).hasSize(2);
  }

  @Test
  void aFailureAlsoArrivesOnTheCallersDuplicatedContext() throws Exception {
    fake.failNext(400, 1, null);
    ContextInternal caller = ((ContextInternal) vertx.getOrCreateContext()).duplicate();
    CompletableFuture<Context> seen = new CompletableFuture<>();

    caller.runOnContext(v -> provider.complete(request(List.of(user(ASK))))
        .onComplete(ar -> seen.complete(ar.failed() ? Vertx.currentContext() : null)));

    assertThat(seen.get(10, TimeUnit.SECONDS)).isSameAs(caller);
  }

  private void assertNoCredentialIn(String text) {
    String key = credential;
    for (int i = 0; i + 6 <= key.length(); i++) {
      assertThat(text).doesNotContain(key.substring(i, i + 6));
    }
  }
}
