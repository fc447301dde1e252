package io.sparkmerge.param;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * methods.md §0 filter rule: absent or "*" matches everything; otherwise a plain substring of the
 * tensor name matches (mergekit's rule); otherwise the filter is tried as a regular expression
 * (search), so "lm_head|embed_tokens" works too.
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
    try {
      return Pattern.compile(filter).matcher(tensorName).find();
    } catch (PatternSyntaxException e) {
      return false;
    }
  }
}
