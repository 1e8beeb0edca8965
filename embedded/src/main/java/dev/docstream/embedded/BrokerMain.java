package dev.docstream.embedded;

import java.io.IOException;

/**
 * The embedded broker's child-JVM entry point: Kafka's own {@code kafka.Kafka}, plus a watch on the
 * parent. The parent holds the child's standard input open; when the parent dies, even by SIGKILL,
 * the pipe closes and the broker shuts down. Without it a crashed {@code docstream up} leaves an
 * orphaned broker holding the data folder's lock, and the next {@code up} on the same data cannot
 * start.
 */
public final class BrokerMain {
  private BrokerMain() {}

  public static void main(String[] args) throws Exception {
    Thread watch =
        new Thread(
            () -> {
              try {
                while (System.in.read() != -1) {
                  // the parent never writes; read() returns -1 once it is gone
                }
              } catch (IOException e) {
                // a broken pipe means the same
              }
              System.err.println("parent process gone; stopping the broker");
              System.exit(3); // Kafka's shutdown hook closes the logs cleanly
            },
            "parent-watch");
    watch.setDaemon(true);
    watch.start();
    kafka.Kafka.main(args);
  }
}
