package dev.mcps.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mcps.testing.ScriptProcess;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * scripts/conformance.sh as someone runs it: the official MCP conformance suite against our packaged server, the
 * requirement sets of 2026-07-28 (stateless) and 2025-11-25 (sessions); every scored scenario must pass (or be listed
 * in the repository's conformance baseline).
 */
class ConformanceIT {

  @Test
  void theOfficialConformanceSuitePassesForBothEras() throws Exception {
    ScriptProcess.Result result = ScriptProcess.run(List.of("bash", "scripts/conformance.sh"), Map.of(),
        Duration.ofMinutes(20));
    ScriptProcess.skipIfNpmUnreachable(result, "the MCP conformance suite (scripts/conformance.sh)");
    System.out.println(result.both());
    List<String> verdicts = result.stdout().lines().filter(l -> l.startsWith("conformance ")).toList();
    verdicts.forEach(System.out::println);
    assertThat(result.exit()).as("scripts/conformance.sh exit status; its output:%n%s", result.both()).isZero();
    assertThat(verdicts).as(result.both()).hasSize(2).allMatch(l -> l.contains(": PASS ("));
  }
}
