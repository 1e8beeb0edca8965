package dev.docstream.training.synth;

import dev.docstream.adapters.FieldFormat;
import dev.docstream.schemas.DocumentField;
import java.awt.Color;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The look of one document type, derived deterministically from its id (for example {@code
 * GBR-PASSPORT-2015}): the same id always gives the same card, on every machine.
 *
 * @param rows the field rows top to bottom; a row holds one field, or two short ones side by side
 */
public record DocumentTypeSpec(
    String id,
    String country,
    String kind,
    int cardWidth,
    int cardHeight,
    Color background,
    Color accent,
    int pattern,
    String title,
    List<String> labels,
    boolean labelsUpperCase,
    boolean labelColon,
    Color labelColor,
    FontSpec labelFont,
    FontSpec valueFont,
    boolean photoLeft,
    int photoWidth,
    int firstRowY,
    int rowPitch,
    boolean valuesAligned,
    List<List<DocumentField>> rows,
    DateFormat dateFormat,
    String documentNumberPattern,
    NameCasing nameCasing) {

  private static final Pattern ID = Pattern.compile("([A-Z]{3})-([A-Z-]+)-(\\d{4})");

  /** A font by family, style ({@link java.awt.Font#PLAIN} or BOLD) and pixel size. */
  public record FontSpec(String family, int style, int size) {}

  private static final List<String> VALUE_FAMILIES =
      List.of(
          "DejaVu Sans",
          "DejaVu Sans Condensed",
          "DejaVu Serif",
          "DejaVu Serif Condensed",
          "DejaVu Sans Mono");

  /**
   * The spec of a document type. Ids of the form {@code CCC-KIND-YYYY} take their country and kind
   * from the id; any other non-blank id gets a country and kind drawn from its hash.
   */
  public static DocumentTypeSpec forId(String id) {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("document type id must not be blank");
    }
    Random rnd = new Random(stableSeed(id));
    Matcher m = ID.matcher(id);
    String country = m.matches() ? m.group(1) : pick(rnd, Vocabulary.COUNTRIES);
    String kind = m.matches() ? m.group(2) : pick(rnd, Vocabulary.DOCUMENT_KINDS);
    int kindIndex = Math.max(0, Vocabulary.DOCUMENT_KINDS.indexOf(kind));

    int cardWidth = 184 + rnd.nextInt(17);
    int cardHeight = 92 + rnd.nextInt(9);
    float hue = rnd.nextFloat();
    Color background =
        Color.getHSBColor(hue, 0.08f + 0.17f * rnd.nextFloat(), 0.90f + 0.1f * rnd.nextFloat());
    Color accent =
        Color.getHSBColor(
            rnd.nextFloat(), 0.5f + 0.4f * rnd.nextFloat(), 0.35f + 0.3f * rnd.nextFloat());
    int pattern = rnd.nextInt(3);
    String title =
        rnd.nextBoolean()
            ? Vocabulary.TITLES.get(kindIndex) + " " + country
            : country + " " + Vocabulary.TITLES.get(kindIndex);

    List<String> labels = Vocabulary.LABELS.get(rnd.nextInt(Vocabulary.LABELS.size()));
    boolean labelsUpper = rnd.nextBoolean();
    boolean labelColon = rnd.nextInt(3) == 0;
    Color labelColor =
        rnd.nextBoolean()
            ? accent
            : new Color(90 + rnd.nextInt(40), 90 + rnd.nextInt(40), 90 + rnd.nextInt(40));
    FontSpec labelFont =
        new FontSpec(
            rnd.nextBoolean() ? "DejaVu Sans" : "DejaVu Sans Condensed",
            java.awt.Font.PLAIN,
            7 + rnd.nextInt(2));
    FontSpec valueFont =
        new FontSpec(
            pick(rnd, VALUE_FAMILIES),
            rnd.nextBoolean() ? java.awt.Font.BOLD : java.awt.Font.PLAIN,
            10 + rnd.nextInt(2));

    List<DocumentField> order = new ArrayList<>(List.of(DocumentField.values()));
    // Names first on most documents, but not all: the layout is part of what an adapter learns.
    if (rnd.nextInt(4) == 0) {
      Collections.shuffle(order, rnd);
    } else {
      Collections.shuffle(order.subList(2, order.size()), rnd);
      if (rnd.nextBoolean()) {
        Collections.swap(order, 0, 1);
      }
    }
    boolean pairSexNationality = rnd.nextBoolean();
    List<List<DocumentField>> rows = new ArrayList<>();
    for (DocumentField f : order) {
      if (pairSexNationality && (f == DocumentField.NATIONALITY || f == DocumentField.SEX)) {
        DocumentField other =
            f == DocumentField.SEX ? DocumentField.NATIONALITY : DocumentField.SEX;
        if (rows.stream().noneMatch(r -> r.contains(other))) {
          rows.add(List.of(f, other));
        }
      } else {
        rows.add(List.of(f));
      }
    }
    int rowPitch = rows.size() >= 7 ? 10 : 10 + rnd.nextInt(2);
    int firstRowY = 16 + rnd.nextInt(3);

    StringBuilder numberPattern = new StringBuilder();
    int letters = rnd.nextInt(3);
    int digits = 7 + rnd.nextInt(2) - (letters > 1 ? 1 : 0);
    numberPattern.append("L".repeat(letters)).append("D".repeat(digits));

    return new DocumentTypeSpec(
        id,
        country,
        kind,
        cardWidth,
        cardHeight,
        background,
        accent,
        pattern,
        title,
        labels,
        labelsUpper,
        labelColon,
        labelColor,
        labelFont,
        valueFont,
        rnd.nextBoolean(),
        34 + rnd.nextInt(9),
        firstRowY,
        rowPitch,
        rnd.nextInt(4) != 0,
        List.copyOf(rows),
        pick(rnd, List.of(DateFormat.values())),
        numberPattern.toString(),
        rnd.nextInt(3) == 0 ? NameCasing.TITLE : NameCasing.UPPER);
  }

  /**
   * The printed formats this type's issuer would publish: the document number's ({@link
   * #documentNumberPattern} is already in {@link FieldFormat}'s letters: L letter, D digit).
   */
  public Map<DocumentField, FieldFormat> fieldFormats() {
    return Map.of(DocumentField.DOCUMENT_NUMBER, new FieldFormat(documentNumberPattern));
  }

  /** The label printed for a field, in this type's language and casing. */
  public String label(DocumentField field) {
    String label = labels.get(field.ordinal());
    if (labelsUpperCase) {
      label = label.toUpperCase(java.util.Locale.ROOT);
    }
    return labelColon ? label + ":" : label;
  }

  private static <T> T pick(Random rnd, List<T> list) {
    return list.get(rnd.nextInt(list.size()));
  }

  /** A seed from SHA-256 of the id: unlike String.hashCode, it spreads similar ids apart. */
  static long stableSeed(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      long seed = 0;
      for (int i = 0; i < 8; i++) {
        seed = (seed << 8) | (d[i] & 0xff);
      }
      return seed;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every JDK", e);
    }
  }
}
