# syntax=docker/dockerfile:1
# Build stage: Maven + JDK 17 produce the fat jar.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY conf conf
COPY src src
RUN mvn -B -q package -DskipTests

# Runtime stage: a JRE only, running as an unprivileged user.
FROM eclipse-temurin:17-jre
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /app mcps
WORKDIR /app
COPY --from=build /src/target/mcp-session-server.jar /app/mcp-session-server.jar
COPY conf /app/conf
USER mcps
# With CLUSTER=true: Hazelcast's member port (CLUSTER_MEMBER_PORT, default 5701) and a fixed event-bus port, so that
# both can be opened between the containers (README "Running several instances").
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=3333 CLUSTER_PORT=5801
EXPOSE 3333 5701 5801
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:${HTTP_PORT}/health >/dev/null || exit 1
# exec form: the JVM is PID 1 and receives SIGTERM itself, for a graceful drain.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/mcp-session-server.jar"]
