package dev.docstream.topology.images;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Deletes expired images on a timer (a daemon thread), at once and then every interval. */
public final class ImageSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(ImageSweeper.class);

  private ImageSweeper() {}

  /** Sweeps {@code store} every {@code interval} while {@code running} says so. */
  public static void start(
      ImageStore store, Duration interval, Clock clock, BooleanSupplier running) {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "image-sweeper");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleWithFixedDelay(
        () -> {
          if (!running.getAsBoolean()) {
            timer.shutdown();
            return;
          }
          try {
            int deleted = store.sweep(clock.instant());
            if (deleted > 0) {
              LOG.info("deleted {} images past their retention", deleted);
            }
          } catch (IOException e) {
            LOG.warn("image sweep failed, will retry: {}", e.getClass().getSimpleName());
          }
        },
        0,
        interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }
}
