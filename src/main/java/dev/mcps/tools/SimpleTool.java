package dev.mcps.tools;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/** A tool defined by its description and one function of its (checked) arguments. */
public record SimpleTool(String name, String description, JsonObject inputSchema, boolean readOnly,
                         Function<ToolArguments, Future<ToolResult>> body) implements Tool {

  @Override
  public Future<ToolResult> call(JsonObject arguments) {
    return body.apply(new ToolArguments(arguments));
  }
}
