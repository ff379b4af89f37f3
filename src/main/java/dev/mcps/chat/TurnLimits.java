package dev.mcps.chat;

import dev.mcps.config.ServerConfig;

/**
 * What one chat turn may take: model steps, time, the history it leaves behind, the size of each tool result it
 * keeps, and how many Jira changes it may make.
 */
public record TurnLimits(int maxIterations, long turnTimeoutMs, int historyMaxMessages, long historyMaxBytes,
                         int toolResultMaxBytes, int maxWritesPerTurn) {

  public static TurnLimits of(ServerConfig config) {
    ServerConfig.Limits l = config.limits();
    return new TurnLimits(config.chat().maxIterations(), config.chat().turnTimeoutSeconds() * 1000L,
        l.historyMaxMessages(), l.historyMaxBytes(), l.toolResultMaxBytes(), l.chatMaxWritesPerTurn());
  }
}
