package dev.docstream.training.synth;

import dev.docstream.schemas.DocumentField;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Point2D;
import java.awt.image.BufferedImage;
import java.awt.image.ConvolveOp;
import java.awt.image.Kernel;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Renders a document type with an identity on it, as a photo of the card would look: the card fills
 * the image, slightly shifted and rotated, with noise, blur and brightness changes.
 */
public final class DocumentRenderer {
  /** How strongly to distort the photo. */
  public enum Augmentation {
    NONE,
    MILD
  }

  private DocumentRenderer() {}

  /** Renders one document; the same spec, identity and seed give the same pixels. */
  public static SyntheticDocument render(
      DocumentTypeSpec spec, Identity identity, Augmentation augmentation, Random rnd) {
    int w = spec.cardWidth();
    int h = spec.cardHeight();
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_FRACTIONALMETRICS, RenderingHints.VALUE_FRACTIONALMETRICS_OFF);
      // What shows around a shifted or rotated card: a table top.
      g.setColor(new Color(60 + rnd.nextInt(60), 60 + rnd.nextInt(60), 60 + rnd.nextInt(60)));
      g.fillRect(0, 0, w, h);

      AffineTransform at = new AffineTransform();
      if (augmentation == Augmentation.MILD) {
        at.translate(rnd.nextGaussian() * 1.2, rnd.nextGaussian() * 1.2);
        at.rotate(Math.toRadians(rnd.nextGaussian() * 0.7), w / 2.0, h / 2.0);
      }
      g.setTransform(at);
      drawCard(g, spec, w, h);
      Map<DocumentField, SyntheticDocument.PrintedField> printed =
          drawFields(g, spec, identity, at, w, h);
      g.dispose();
      if (augmentation == Augmentation.MILD) {
        image = degrade(image, rnd);
      }
      return new SyntheticDocument(spec.id(), image, identity, printed);
    } finally {
      g.dispose();
    }
  }

  private static void drawCard(Graphics2D g, DocumentTypeSpec spec, int w, int h) {
    g.setColor(spec.background());
    g.fillRoundRect(0, 0, w, h, 10, 10);
    Color patternColor = blend(spec.background(), spec.accent(), 0.12f);
    g.setColor(patternColor);
    g.setStroke(new BasicStroke(0.6f));
    if (spec.pattern() == 1) {
      for (int x = -h; x < w; x += 7) {
        g.drawLine(x, h, x + h, 0);
      }
    } else if (spec.pattern() == 2) {
      for (int y = 4; y < h; y += 6) {
        for (int x = 0; x < w; x += 4) {
          int y1 = y + (int) Math.round(2 * Math.sin(x / 6.0));
          int y2 = y + (int) Math.round(2 * Math.sin((x + 4) / 6.0));
          g.drawLine(x, y1, x + 4, y2);
        }
      }
    }
    g.setColor(spec.accent());
    g.fillRect(0, 0, w, 13);
    g.setColor(Color.WHITE);
    g.setFont(new Font("DejaVu Sans", Font.BOLD, 9));
    g.drawString(spec.title(), 6, 10);

    int photoX = spec.photoLeft() ? 5 : w - 5 - spec.photoWidth();
    int photoY = 17;
    int photoH = Math.min(h - photoY - 6, spec.photoWidth() * 5 / 4);
    g.setColor(blend(spec.background(), Color.GRAY, 0.45f));
    g.fillRect(photoX, photoY, spec.photoWidth(), photoH);
    g.setColor(blend(spec.background(), Color.DARK_GRAY, 0.6f));
    int headW = spec.photoWidth() / 2;
    g.fillOval(photoX + (spec.photoWidth() - headW) / 2, photoY + photoH / 6, headW, headW * 6 / 5);
    g.fillRoundRect(
        photoX + spec.photoWidth() / 8,
        photoY + photoH * 2 / 3,
        spec.photoWidth() * 3 / 4,
        photoH / 2,
        12,
        12);
  }

  private static Map<DocumentField, SyntheticDocument.PrintedField> drawFields(
      Graphics2D g, DocumentTypeSpec spec, Identity identity, AffineTransform at, int w, int h) {
    Font labelFont = font(spec.labelFont());
    Font valueFont = font(spec.valueFont());
    FontMetrics labelMetrics = g.getFontMetrics(labelFont);
    FontMetrics valueMetrics = g.getFontMetrics(valueFont);
    int textLeft = spec.photoLeft() ? 5 + spec.photoWidth() + 6 : 6;

    int labelColumn = 0;
    for (DocumentField f : DocumentField.values()) {
      labelColumn = Math.max(labelColumn, labelMetrics.stringWidth(spec.label(f)));
    }
    Map<DocumentField, String> text = printedText(spec, identity);
    Map<DocumentField, SyntheticDocument.PrintedField> printed = new EnumMap<>(DocumentField.class);
    int baseline = spec.firstRowY() + valueMetrics.getAscent() - 2;
    for (var row : spec.rows()) {
      int x = textLeft;
      for (DocumentField f : row) {
        String label = spec.label(f);
        g.setFont(labelFont);
        g.setColor(spec.labelColor());
        g.drawString(label, x, baseline);
        int valueX =
            spec.valuesAligned() && row.size() == 1
                ? textLeft + labelColumn + 4
                : x + labelMetrics.stringWidth(label) + 4;
        String value = text.get(f);
        g.setFont(valueFont);
        g.setColor(new Color(20, 20, 25));
        g.drawString(value, valueX, baseline);
        printed.put(
            f,
            locate(
                value, valueX, baseline - valueMetrics.getAscent() * 0.35, valueMetrics, at, w, h));
        x = valueX + valueMetrics.stringWidth(value) + 8;
      }
      baseline += spec.rowPitch();
    }
    return printed;
  }

  /** The text each field prints, as the document type formats it. */
  static Map<DocumentField, String> printedText(DocumentTypeSpec spec, Identity id) {
    Map<DocumentField, String> text = new EnumMap<>(DocumentField.class);
    id.groundTruth().forEach((field, value) -> text.put(field, printedText(spec, field, value)));
    return text;
  }

  /**
   * The text a field of this type prints for a canonical value (as {@link Identity#groundTruth()}
   * holds it: names in capitals, dates as YYYY-MM-DD): names in the type's casing, dates in its
   * format, the rest as it is. Null where the value cannot be printed so (a date that does not
   * parse).
   */
  public static String printedText(DocumentTypeSpec spec, DocumentField field, String canonical) {
    return switch (field) {
      case SURNAME, GIVEN_NAMES -> spec.nameCasing().apply(canonical);
      case DATE_OF_BIRTH, EXPIRY_DATE -> {
        try {
          yield spec.dateFormat().print(LocalDate.parse(canonical));
        } catch (DateTimeParseException e) {
          yield null;
        }
      }
      default -> canonical;
    };
  }

  private static SyntheticDocument.PrintedField locate(
      String value, int x, double y, FontMetrics fm, AffineTransform at, int w, int h) {
    double[] centers = new double[value.length()];
    Point2D.Double p = new Point2D.Double();
    double centerY = 0;
    for (int i = 0; i < value.length(); i++) {
      double left = x + fm.stringWidth(value.substring(0, i));
      p.setLocation(left + fm.charWidth(value.charAt(i)) / 2.0, y);
      Point2D q = at.transform(p, null);
      centers[i] = q.getX() / w;
      centerY += q.getY() / h / value.length();
    }
    return new SyntheticDocument.PrintedField(value.toUpperCase(Locale.ROOT), centers, centerY);
  }

  private static BufferedImage degrade(BufferedImage image, Random rnd) {
    if (rnd.nextInt(4) == 0) {
      float c = 1f / 9;
      float centre = 1f - 8 * c * 0.5f;
      float side = c * 0.5f;
      image =
          new ConvolveOp(
                  new Kernel(
                      3, 3, new float[] {side, side, side, side, centre, side, side, side, side}),
                  ConvolveOp.EDGE_NO_OP,
                  null)
              .filter(image, null);
    }
    double contrast = 0.85 + 0.3 * rnd.nextDouble();
    double brightness = rnd.nextGaussian() * 12;
    double noise = rnd.nextDouble() * 6;
    int[] rgb = image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    for (int i = 0; i < rgb.length; i++) {
      double n = rnd.nextGaussian() * noise;
      int r = clamp(((rgb[i] >> 16) & 0xff) * contrast + brightness + n);
      int gr = clamp(((rgb[i] >> 8) & 0xff) * contrast + brightness + n);
      int b = clamp((rgb[i] & 0xff) * contrast + brightness + n);
      rgb[i] = (r << 16) | (gr << 8) | b;
    }
    image.setRGB(0, 0, image.getWidth(), image.getHeight(), rgb, 0, image.getWidth());
    return image;
  }

  private static int clamp(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  private static final java.util.Set<String> CHECKED_FAMILIES =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static Font font(DocumentTypeSpec.FontSpec spec) {
    Font font = new Font(spec.family(), spec.style(), spec.size());
    // Java silently substitutes a missing family: the documents would then differ from the ones
    // the shipped model was trained on. Fail instead.
    if (CHECKED_FAMILIES.add(spec.family()) && !font.getFamily(Locale.ROOT).equals(spec.family())) {
      CHECKED_FAMILIES.remove(spec.family());
      throw new IllegalStateException(
          "font family '"
              + spec.family()
              + "' is not installed (got '"
              + font.getFamily(Locale.ROOT)
              + "'): install fonts-dejavu-core and fonts-dejavu-extra");
    }
    return font;
  }

  private static Color blend(Color a, Color b, float t) {
    return new Color(
        Math.round(a.getRed() * (1 - t) + b.getRed() * t),
        Math.round(a.getGreen() * (1 - t) + b.getGreen() * t),
        Math.round(a.getBlue() * (1 - t) + b.getBlue() * t));
  }
}
