package dev.docstream.inference.model.decoding;

import dev.docstream.schemas.DocumentField;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns printed text into DocStream's canonical values: dates in any of the printed formats become
 * YYYY-MM-DD; everything else is trimmed and upper-case.
 */
public final class FieldNormalizer {
  private static final Pattern DMY = Pattern.compile("(\\d{2})[./-](\\d{2})[./-](\\d{4})");
  private static final Pattern YMD = Pattern.compile("(\\d{4})[./-](\\d{2})[./-](\\d{2})");
  private static final Pattern D_MON_Y = Pattern.compile("(\\d{2}) ?([A-Z]{3}) ?(\\d{4})");
  private static final List<String> MONTHS =
      List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");

  private FieldNormalizer() {}

  /** The canonical value, or null when a date does not parse. */
  public static String normalize(DocumentField field, String raw) {
    String text = raw.trim().replaceAll(" +", " ");
    if (field != DocumentField.DATE_OF_BIRTH && field != DocumentField.EXPIRY_DATE) {
      return text;
    }
    try {
      Matcher m = YMD.matcher(text);
      if (m.matches()) {
        return date(m.group(1), m.group(2), m.group(3));
      }
      m = DMY.matcher(text);
      if (m.matches()) {
        return date(m.group(3), m.group(2), m.group(1));
      }
      m = D_MON_Y.matcher(text);
      if (m.matches() && MONTHS.contains(m.group(2))) {
        return date(m.group(3), String.valueOf(MONTHS.indexOf(m.group(2)) + 1), m.group(1));
      }
    } catch (DateTimeException e) {
      return null;
    }
    return null;
  }

  private static String date(String y, String m, String d) {
    return LocalDate.of(Integer.parseInt(y), Integer.parseInt(m), Integer.parseInt(d)).toString();
  }
}
