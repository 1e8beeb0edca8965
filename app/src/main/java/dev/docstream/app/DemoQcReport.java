package dev.docstream.app;

import java.util.Map;

/** The demo summary's QC section, in Markdown. */
final class DemoQcReport {
  private DemoQcReport() {}

  static String markdown(DemoQc.Summary q) {
    StringBuilder md = new StringBuilder("\n## Quality control\n\n");
    md.append(
        String.format(
            "- review tasks: %d (%s); reviewed after the run by %d simulated analysts through the review API:"
                + " %d verdicts in %.1f s (analyst error rate %.0f %% per field)%n%n",
            q.tasks(),
            reasons(q.tasksByReason()),
            q.analysts(),
            q.reviewed(),
            q.reviewSeconds(),
            100 * q.analystErrorRate()));
    md.append(
        "| adapter | audit fields | audit accuracy (95 % interval) | targeted fields | targeted accuracy | audit ECE | true accuracy (all results) |\n"
            + "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (DemoQc.AdapterQuality a : q.adapters()) {
      md.append(
          String.format(
              "| %s | %d | %s | %d | %s | %s | %.2f %% |%n",
              a.adapterId(),
              a.auditFields(),
              a.auditFields() == 0
                  ? "-"
                  : String.format(
                      "%.2f %% (%.1f-%.1f)",
                      100 * a.auditAccuracy(), 100 * a.auditLow(), 100 * a.auditHigh()),
              a.targetedFields(),
              a.targetedFields() == 0 ? "-" : String.format("%.2f %%", 100 * a.targetedAccuracy()),
              Double.isNaN(a.auditCalibrationError())
                  ? "-"
                  : String.format("%.3f", a.auditCalibrationError()),
              100 * a.trueAccuracy()));
    }
    md.append(
        "\nThe audit sample (RANDOM) is the unbiased estimate; the targeted one (low confidence, new adapter,\n"
            + "fallback) is biased towards errors. Both are measured against the analysts' verdicts: an analyst who\n"
            + "errs on a share e of fields moves a measured accuracy a from the truth by about e (1 - 2a).\n");
    return md.toString();
  }

  private static String reasons(Map<String, Integer> byReason) {
    StringBuilder b = new StringBuilder();
    byReason.forEach(
        (r, n) -> b.append(b.length() == 0 ? "" : ", ").append(r).append(' ').append(n));
    return b.length() == 0 ? "none" : b.toString();
  }
}
