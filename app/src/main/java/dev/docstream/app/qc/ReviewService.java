package dev.docstream.app.qc;

import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.topology.images.DirectoryImageStore;
import dev.docstream.topology.qc.review.ReviewLog;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * The review service: the queue kept in Kafka ({@link ReviewLog}), the page and API ({@link
 * ReviewServer}) and its metrics, started from one {@link ReviewConfig}.
 */
public final class ReviewService implements AutoCloseable {
  private final ReviewLog log;
  private final ReviewServer server;
  private final QcMetrics metrics;
  private int metricsPort = -1;

  private ReviewService(ReviewLog log, ReviewServer server, QcMetrics metrics) {
    this.log = log;
    this.server = server;
    this.metrics = metrics;
  }

  /**
   * Starts it; the queue is read from Kafka before the page opens.
   *
   * @param analysts who may sign in (in place of {@code qc.analysts}, for the embedded stack's
   *     generated login); null reads the config
   * @throws IllegalArgumentException no analyst may sign in, or an entry is bad
   */
  public static ReviewService start(ReviewConfig c, Analysts analysts, Clock clock)
      throws IOException {
    Analysts who =
        analysts != null ? analysts : Analysts.of(c.getList(ReviewConfig.ANALYSTS_CONFIG));
    if (who.size() == 0) {
      throw new IllegalArgumentException(
          "no analyst can sign in: set "
              + ReviewConfig.ANALYSTS_CONFIG
              + " (docstream qc hash-password makes an entry)");
    }
    ReviewLog log =
        ReviewLog.open(
            Map.of("bootstrap.servers", c.getString(ReviewConfig.BOOTSTRAP_SERVERS_CONFIG)),
            SchemaRegistries.forUrl(c.getString(ReviewConfig.SCHEMA_REGISTRY_URL_CONFIG), null),
            c.getString(ReviewConfig.TRANSACTIONAL_ID_CONFIG),
            c.lease(),
            clock,
            Duration.ofSeconds(30));
    ReviewServer server;
    try {
      server =
          ReviewServer.start(
              log,
              new DirectoryImageStore(c.imagesDir(), c.imagesRetention(), clock),
              who,
              new ReviewServer.Settings(
                  c.getString(ReviewConfig.HOST_CONFIG),
                  c.getInt(ReviewConfig.PORT_CONFIG),
                  c.sessionIdle(),
                  c.getDouble(ReviewConfig.LOW_CONFIDENCE_CONFIG)),
              clock);
    } catch (RuntimeException e) {
      log.close();
      throw e;
    }
    ReviewService s =
        new ReviewService(
            log,
            server,
            new QcMetrics(server::figures, c.getInt(ReviewConfig.METRICS_TOP_K_CONFIG)));
    int port = c.getInt(ReviewConfig.METRICS_PORT_CONFIG);
    if (port >= 0) {
      s.metricsPort = s.metrics.serve(port);
    }
    return s;
  }

  /** The page's port. */
  public int port() {
    return server.port();
  }

  /** The metrics port, or -1. */
  public int metricsPort() {
    return metricsPort;
  }

  /** The queue and its writer. */
  public ReviewLog log() {
    return log;
  }

  /** The HTTP side (its figures). */
  public ReviewServer server() {
    return server;
  }

  /** The Prometheus text of the quality metrics now. */
  public String scrape() {
    return metrics.scrape();
  }

  private boolean closed;

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.close();
    metrics.close();
    log.close();
  }
}
