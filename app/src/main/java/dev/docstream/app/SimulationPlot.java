package dev.docstream.app;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Draws p95 queueing delay against load, one line per (partitions, workers, policy), log-scale
 * delay, as a PNG. Plain Java2D: no plotting library for one chart.
 */
final class SimulationPlot {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 560;
  private static final int LEFT = 80;
  private static final int RIGHT = 260;
  private static final int TOP = 40;
  private static final int BOTTOM = 60;
  private static final Color[] COLOURS = {
    new Color(0x1f77b4),
    new Color(0xff7f0e),
    new Color(0x2ca02c),
    new Color(0xd62728),
    new Color(0x9467bd),
    new Color(0x8c564b),
    new Color(0xe377c2),
    new Color(0x7f7f7f)
  };

  private SimulationPlot() {}

  static void write(List<Simulate.Row> curve, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Map<String, List<double[]>> lines = new LinkedHashMap<>();
    double minLoad = Double.MAX_VALUE;
    double maxLoad = 0;
    double maxDelay = 1;
    double minDelay = Double.MAX_VALUE;
    for (Simulate.Row r : curve) {
      String name = "P=" + r.partitions() + " W=" + r.workers() + " " + r.policy().toLowerCase();
      double delay = Math.max(1, r.result().p95QueueMs());
      lines.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {r.load(), delay});
      minLoad = Math.min(minLoad, r.load());
      maxLoad = Math.max(maxLoad, r.load());
      maxDelay = Math.max(maxDelay, delay);
      minDelay = Math.min(minDelay, delay);
    }
    double logMin = Math.floor(Math.log10(Math.max(1, minDelay)));
    double logMax = Math.max(logMin + 1, Math.ceil(Math.log10(maxDelay)));
    double lo = minLoad == maxLoad ? minLoad - 0.1 : minLoad;
    double hi = minLoad == maxLoad ? maxLoad + 0.1 : maxLoad;
    BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (double e = logMin; e <= logMax; e++) {
      int y = TOP + (int) (plotH * (1 - (e - logMin) / (logMax - logMin)));
      g.setColor(new Color(0xdddddd));
      g.drawLine(LEFT, y, LEFT + plotW, y);
      g.setColor(Color.DARK_GRAY);
      g.drawString(label(Math.pow(10, e)), 8, y + 4);
    }
    for (int i = 0; i <= 10; i++) {
      double load = lo + (hi - lo) * i / 10;
      int x = LEFT + plotW * i / 10;
      g.setColor(new Color(0xeeeeee));
      g.drawLine(x, TOP, x, TOP + plotH);
      g.setColor(Color.DARK_GRAY);
      g.drawString(String.format("%.0f%%", load * 100), x - 12, TOP + plotH + 18);
    }
    g.setColor(Color.BLACK);
    g.drawRect(LEFT, TOP, plotW, plotH);
    g.drawString("load (share of the configuration's capacity)", LEFT + 60, HEIGHT - 18);
    g.drawString("p95 queueing delay (log scale)", LEFT, TOP - 14);
    // One colour per (partitions, workers), one line style per policy.
    List<String> configs = new ArrayList<>();
    int i = 0;
    for (var e : lines.entrySet()) {
      String config = e.getKey().substring(0, e.getKey().lastIndexOf(' '));
      if (!configs.contains(config)) {
        configs.add(config);
      }
      Color c = COLOURS[configs.indexOf(config) % COLOURS.length];
      String policy = e.getKey().substring(e.getKey().lastIndexOf(' ') + 1);
      g.setColor(c);
      g.setStroke(stroke(policy));
      int[] xs = new int[e.getValue().size()];
      int[] ys = new int[xs.length];
      for (int k = 0; k < xs.length; k++) {
        double[] pt = e.getValue().get(k);
        xs[k] = LEFT + (int) (plotW * (pt[0] - lo) / (hi - lo));
        ys[k] = TOP + (int) (plotH * (1 - (Math.log10(pt[1]) - logMin) / (logMax - logMin)));
        g.fillOval(xs[k] - 3, ys[k] - 3, 6, 6);
      }
      g.drawPolyline(xs, ys, xs.length);
      int ly = TOP + 10 + 20 * i;
      g.drawLine(LEFT + plotW + 16, ly, LEFT + plotW + 46, ly);
      g.setStroke(new BasicStroke(1));
      g.setColor(Color.BLACK);
      g.drawString(e.getKey(), LEFT + plotW + 52, ly + 4);
      i++;
    }
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }

  private static BasicStroke stroke(String policy) {
    return switch (policy) {
      case "merged" -> new BasicStroke(2.5f);
      case "unmerged" ->
          new BasicStroke(
              2, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1, new float[] {8, 5}, 0);
      default ->
          new BasicStroke(
              2, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1, new float[] {1, 5}, 0);
    };
  }

  private static String label(double ms) {
    return ms >= 1000 ? String.format("%.0f s", ms / 1000) : String.format("%.0f ms", ms);
  }
}
