package dev.mcps.auth;

import java.util.Set;

/**
 * Who a request comes from, as proven by its credentials (a bearer token, or a gateway's word), and what it may do.
 *
 * @param userId the user every session and credential of the request belongs to
 * @param scopes the OAuth scopes the token grants (empty in header mode)
 */
public record Identity(String userId, Set<String> scopes) {

  /** Where a route finds the request's identity ({@code RoutingContext.get}); absent with AUTH_MODE=none. */
  public static final String KEY = "mcps.identity";

  public Identity {
    scopes = Set.copyOf(scopes);
  }

  public boolean has(String scope) {
    return scope == null || scopes.contains(scope);
  }
}
