package dev.mcps.session;

import io.vertx.core.json.JsonObject;

/** A user's Jira Cloud credentials. Held decrypted only in memory; toString never shows the token. */
public record JiraCredentials(String baseUrl, String email, String apiToken) {

  public JsonObject toJson() {
    return new JsonObject().put("baseUrl", baseUrl).put("email", email).put("apiToken", apiToken);
  }

  public static JiraCredentials fromJson(JsonObject json) {
    return new JiraCredentials(json.getString("baseUrl"), json.getString("email"), json.getString("apiToken"));
  }

  @Override
  public String toString() {
    return "JiraCredentials[baseUrl=" + baseUrl + ", email=" + email + ", apiToken=***]";
  }
}
