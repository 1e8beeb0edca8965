package dev.docstream.training.synth;

import java.time.LocalDate;
import java.util.Locale;

/**
 * How a document type prints its dates. Every format is unambiguous, so the printed text parses
 * back.
 */
public enum DateFormat {
  DMY_DOT("%1$02d.%2$02d.%3$04d"),
  DMY_SLASH("%1$02d/%2$02d/%3$04d"),
  DMY_DASH("%1$02d-%2$02d-%3$04d"),
  YMD_DASH("%3$04d-%2$02d-%1$02d"),
  YMD_DOT("%3$04d.%2$02d.%1$02d"),
  DMY_MONTH("%1$02d %4$s %3$04d");

  private static final String[] MONTHS = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"
  };

  private final String pattern;

  DateFormat(String pattern) {
    this.pattern = pattern;
  }

  /** The date as this format prints it. */
  public String print(LocalDate date) {
    return String.format(
        Locale.ROOT,
        pattern,
        date.getDayOfMonth(),
        date.getMonthValue(),
        date.getYear(),
        MONTHS[date.getMonthValue() - 1]);
  }
}
