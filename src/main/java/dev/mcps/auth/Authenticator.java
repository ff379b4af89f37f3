package dev.mcps.auth;

import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

/** Tells who a request comes from, or fails with an {@link AuthException}. One per server, shared by every loop. */
public interface Authenticator {

  Future<Identity> authenticate(HttpServerRequest request);
}
