package dev.mcps.outbound;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;

/** A complete, non-redirect answer from an upstream API, its body no larger than the client's cap. */
public record UpstreamResponse(int status, MultiMap headers, Buffer body) {

  public String header(String name) {
    return headers.get(name);
  }
}
