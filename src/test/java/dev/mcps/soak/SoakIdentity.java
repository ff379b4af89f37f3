package dev.mcps.soak;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who the soak's users are, derived from a per-run secret so that the fakes (another JVM) and the driver agree without
 * exchanging a list: user {@code i} has the Jira email {@code soak-u<i>@example.test}, an API token only this run
 * knows, the Jira project {@code U<i>}, and every piece of data that belongs to it carries the marker
 * {@code soak-u<i>-} (its turn texts, notes, the issues the fake Jira builds for it). Finding another user's marker in
 * something a user received, or another user's credentials on a request made for a user, is a leak.
 */
public final class SoakIdentity {

  /** Any user's data marker; group 1 is the user index. */
  public static final Pattern MARKER = Pattern.compile("soak-u([0-9]{1,6})-");
  /** A Jira issue key of a soak user's project; group 1 is the user index. */
  public static final Pattern ISSUE_KEY = Pattern.compile("\\bU([0-9]{1,6})-([1-9][0-9]{0,9})\\b");
  /** A JQL query naming a soak user's project; group 1 is the user index. */
  public static final Pattern JQL_PROJECT = Pattern.compile("project\\s*=\\s*\"?U([0-9]{1,6})\\b");
  private static final Pattern EMAIL = Pattern.compile("soak-u([0-9]{1,6})@example\\.test");

  private final String secret;

  public SoakIdentity(String secret) {
    if (secret == null || secret.isEmpty()) {
      throw new IllegalArgumentException("the soak secret must not be empty");
    }
    this.secret = secret;
  }

  public static String marker(int user) {
    return "soak-u" + user + "-";
  }

  public static String email(int user) {
    return "soak-u" + user + "@example.test";
  }

  public static String project(int user) {
    return "U" + user;
  }

  /** The user's Jira API token: a hash of the run's secret and the index, so no other user can guess it. */
  public String token(int user) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest((secret + ":" + user).getBytes(StandardCharsets.UTF_8));
      return "tok" + HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The user whose credentials these are, or -1 when they are nobody's (unknown email or wrong token). */
  public int userOf(String email, String token) {
    if (email == null || token == null) {
      return -1;
    }
    Matcher m = EMAIL.matcher(email);
    if (!m.matches()) {
      return -1;
    }
    int user = Integer.parseInt(m.group(1));
    return token(user).equals(token) ? user : -1;
  }

  /** The users whose data markers occur in {@code text}, in order of first appearance. */
  public static Set<Integer> owners(CharSequence text) {
    Set<Integer> out = new LinkedHashSet<>();
    if (text == null) {
      return out;
    }
    Matcher m = MARKER.matcher(text);
    while (m.find()) {
      out.add(Integer.parseInt(m.group(1)));
    }
    return out;
  }

  /** The first user other than {@code user} whose marker occurs in {@code text}, or -1 when there is none. */
  public static int foreignOwner(CharSequence text, int user) {
    for (int owner : owners(text)) {
      if (owner != user) {
        return owner;
      }
    }
    return -1;
  }
}
