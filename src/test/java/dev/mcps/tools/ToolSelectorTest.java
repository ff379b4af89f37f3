package dev.mcps.tools;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ToolSelectorTest {

  @ParameterizedTest(name = "\"{0}\" → jira context: {1}")
  @CsvSource(delimiter = '|', value = {
      "What is PROJ-123 about?                         | true",
      "summarize ABC-1 and XY_Z-42                     | true",
      "open a Jira ticket for this                     | true",
      "list the bugs in the current sprint             | true",
      "Which epics and stories are in the backlog?     | true",
      "run this JQL: assignee = currentUser()          | true",
      "Abra um chamado para o time                     | true",
      "quais tarefas estão abertas?                    | true",
      "crie uma história de usuário                    | true",
      "Any issues with the release?                    | true",
      "Hello, how are you today?                       | false",
      "What is 2+2?                                    | false",
      "my zip code is 12345-678                        | false",
      "the A-1 steak sauce                             | false",
      "tissue paper and debugging tips                 | false",
  })
  void messagesAreMappedToContexts(String message, boolean jira) {
    assertThat(ToolSelector.contexts(message)).isEqualTo(jira ? Set.of("jira") : Set.of());
  }

  @ParameterizedTest(name = "\"{0}\" offers {1}")
  @CsvSource(delimiter = '|', value = {
      "Hello there                   | session_info notes_get",
      "Show me PROJ-7                | session_info notes_get jira_get_issue jira_search",
  })
  void sessionToolsAreAlwaysOfferedAndJiraToolsOnlyInTheJiraContext(String message, String expected) {
    ToolCatalog catalog = new ToolCatalog(List.of(tool("session_info"), tool("notes_get"), tool("jira_get_issue"),
        tool("jira_search")), false);
    assertThat(new ToolSelector(catalog).select(message)).extracting(Tool::name)
        .containsExactly(expected.split(" "));
  }

  private static Tool tool(String name) {
    return new SimpleTool(name, name, new JsonObject(), true, a -> Future.succeededFuture(ToolResult.ok("")));
  }
}
