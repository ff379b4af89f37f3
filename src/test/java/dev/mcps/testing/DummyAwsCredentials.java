package dev.mcps.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Dummy AWS credentials for the tests of one class, as system properties: the SDK's default chain reads these first,
 * so it never looks further (no profile file, no instance metadata). Register it on a {@code static} field with
 * {@code @RegisterExtension}; the properties are cleared after the class.
 */
public final class DummyAwsCredentials implements BeforeAllCallback, AfterAllCallback {

  private final String accessKeyId;

  public DummyAwsCredentials(String accessKeyId) {
    this.accessKeyId = accessKeyId;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    System.setProperty("aws.accessKeyId", accessKeyId);
    System.setProperty("aws.secretAccessKey", "fake-secret-key-for-tests-only");
    System.setProperty("aws.disableEc2Metadata", "true");
  }

  @Override
  public void afterAll(ExtensionContext context) {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
    System.clearProperty("aws.disableEc2Metadata");
  }
}
