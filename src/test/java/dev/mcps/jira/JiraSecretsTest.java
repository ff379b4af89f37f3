package dev.mcps.jira;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.session.JiraCredentials;
import org.junit.jupiter.api.Test;

/** What is left of a Jira error text that repeats the credentials it was sent. */
class JiraSecretsTest {

  private static final JiraCredentials CREDS = new JiraCredentials("https://x.atlassian.net", "ann@example.com",
      "ATATT3xFfGF0abcdefghijklmnop");

  @Test
  void theTokenAndTheBasicValueBecomeStars() {
    String basic = JiraSecrets.basicValue(CREDS);

    String scrubbed = JiraSecrets.scrub("bad token " + CREDS.apiToken() + " in header Basic " + basic
        + ", raw " + basic, CREDS);

    assertThat(scrubbed).isEqualTo("bad token *** in header Basic ***, raw ***");
  }

  @Test
  void anyBasicOrBearerValueIsHiddenWhoseverItIs() {
    assertThat(JiraSecrets.scrub("got Bearer abc.def-ghi and basic Zm9vOmJhcg==", CREDS))
        .isEqualTo("got Bearer *** and basic ***");
  }

  @Test
  void aTextHoldingPartOfTheTokenIsDroppedWhole() {
    assertThat(JiraSecrets.scrub("token ends with ...ghijklmnop, not valid", CREDS)).isEmpty();
  }

  @Test
  void anOrdinaryMessagePassesUnchanged() {
    assertThat(JiraSecrets.scrub("project: valid project is required", CREDS))
        .isEqualTo("project: valid project is required");
  }
}
