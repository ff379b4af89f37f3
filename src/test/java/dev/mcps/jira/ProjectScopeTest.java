package dev.mcps.jira;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How JIRA_PROJECTS turns a user's JQL into one that cannot leave the allowed projects. */
class ProjectScopeTest {

  private final ProjectScope scope = new ProjectScope(List.of("pa", " OPS "));

  @Test
  void theUsersJqlBecomesOneGroupAfterTheProjectClause() {
    assertThat(scope.constrain("assignee = currentUser() AND status != Done"))
        .isEqualTo("project in (\"PA\", \"OPS\") AND (assignee = currentUser() AND status != Done)");
  }

  @Test
  void aTopLevelOrderByStaysOutsideTheGroup() {
    assertThat(scope.constrain("status = Open ORDER BY priority DESC, created"))
        .isEqualTo("project in (\"PA\", \"OPS\") AND (status = Open) ORDER BY priority DESC, created");
    assertThat(scope.constrain("order   by key")).isEqualTo("project in (\"PA\", \"OPS\") order   by key");
  }

  @Test
  void orderByInsideQuotesOrWordsIsNotAClause() {
    assertThat(scope.constrain("summary ~ \"sort order by date\" AND labels = reorder"))
        .isEqualTo("project in (\"PA\", \"OPS\") AND (summary ~ \"sort order by date\" AND labels = reorder)");
    assertThat(scope.constrain("summary ~ 'it\\'s (odd' AND border = x"))
        .isEqualTo("project in (\"PA\", \"OPS\") AND (summary ~ 'it\\'s (odd' AND border = x)");
  }

  @Test
  void jqlThatCouldCloseTheGroupIsRefused() {
    for (String escape : List.of("x = 1) OR (project = SECRET", "x = 1) OR project = SECRET OR (y = 2",
        "summary ~ \"unterminated", "((x = 1)")) {
      assertThatThrownBy(() -> scope.constrain(escape)).as(escape).isInstanceOf(JiraException.class)
          .hasMessage("Invalid argument 'jql': its parentheses or quotes do not balance");
    }
  }

  @Test
  void issueAndProjectKeysAreCheckedCaseInsensitively() {
    scope.checkIssue("PA-12");
    scope.checkIssue("OPS-1");
    scope.checkProject("ops");
    assertThatThrownBy(() -> scope.checkIssue("PAX-1")).hasMessage("Issue PAX-1 is outside the Jira projects this "
        + "server may use (JIRA_PROJECTS: PA, OPS)");
    assertThatThrownBy(() -> scope.checkIssue("10042")).hasMessageStartingWith("Use the issue key (e.g. PA-123)");
  }

  @Test
  void withoutProjectsEverythingPassesUntouched() {
    ProjectScope all = new ProjectScope(List.of());
    all.checkIssue("ANY-1");
    all.checkIssue("10042");
    assertThat(all.allows("WHATEVER")).isTrue();
    assertThat(all.constrain("x) OR (y")).isEqualTo("x) OR (y");
  }
}
