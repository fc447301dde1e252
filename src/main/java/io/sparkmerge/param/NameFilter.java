package io.sparkmerge.param;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * methods.md §0 filter rule: absent or "*" matches everything; otherwise a plain substring of the
 * tensor name matches (mergekit's rule); otherwise the filter is tried as a regular expression
 * (search), so "lm_head|embed_tokens" works too. A filter that is not a valid regular expression is a config
 * error (exit 2), never a filter that silently matches nothing.
 */
public final class NameFilter {
  private NameFilter() {}

  public static boolean matches(String filter, String tensorName) {
    if (filter == null || filter.isEmpty() || filter.equals("*")) {
      return true;
    }
    if (tensorName.contains(filter)) {
      return true;
    }
    return compile(filter, "filter").matcher(tensorName).find();
  }

  /** Fails with exit 2 when a filter is neither "*" nor a valid regular expression (a literal with special characters needs \\). */
  public static void check(String filter, String where) {
    if (filter != null && !filter.isEmpty() && !filter.equals("*")) {
      compile(filter, where);
    }
  }

  private static Pattern compile(String filter, String where) {
    try {
      return Pattern.compile(filter);
    } catch (PatternSyntaxException e) {
      throw new io.sparkmerge.ConfigException(where + " '" + filter + "' is not a valid regular expression ("
          + e.getDescription() + " at index " + e.getIndex() + "); a filter matches as a substring, else as a regex:"
          + " escape special characters with \\");
    }
  }
}
