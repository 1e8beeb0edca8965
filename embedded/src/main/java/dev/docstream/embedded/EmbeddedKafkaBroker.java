package dev.docstream.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Apache Kafka broker (KRaft, combined broker + controller) run as a child JVM
 * from Kafka's own server classes: the storage is formatted in-process with Kafka's {@code
 * StorageTool}, then {@code kafka.Kafka} runs the server ({@link BrokerMain}: it also stops when
 * this JVM dies, so a crash leaves no orphaned broker behind). Configured for transactions and
 * exactly-once on one node. Used by every integration test and by the embedded mode.
 *
 * <p>The broker classes ({@code org.apache.kafka:kafka_2.13}) must be on the class path; this
 * module declares them optional, so callers add them.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);

  private final Path dataDir;
  private final boolean deleteOnClose;
  private final int port;
  private final int controllerPort;
  private Process process;

  private EmbeddedKafkaBroker(Path dataDir, boolean deleteOnClose, int port, int controllerPort) {
    this.dataDir = dataDir;
    this.deleteOnClose = deleteOnClose;
    this.port = port;
    this.controllerPort = controllerPort;
  }

  /** A broker with its data in a fresh temporary folder, removed on close, on free ports. */
  public static EmbeddedKafkaBroker ephemeral() {
    try {
      return new EmbeddedKafkaBroker(
          Files.createTempDirectory("docstream-kafka-"), true, freePort(), freePort());
    } catch (IOException e) {
      throw new UncheckedIOException("could not create a temporary folder for the broker", e);
    }
  }

  /**
   * A broker whose data lives in {@code dataDir} and survives restarts (formatted on first start,
   * reused after). Port 0 picks a free port.
   */
  public static EmbeddedKafkaBroker persistent(Path dataDir, int port) {
    return new EmbeddedKafkaBroker(dataDir, false, port == 0 ? freePort() : port, freePort());
  }

  /** Formats the storage if needed, starts the broker and waits until it answers. */
  public EmbeddedKafkaBroker start() {
    long t0 = System.nanoTime();
    try {
      Files.createDirectories(dataDir);
      Path props = writeServerProperties();
      Path logs = dataDir.resolve("logs");
      if (!Files.exists(logs.resolve("meta.properties"))) {
        format(props);
      }
      List<String> cmd = new ArrayList<>(niceness());
      cmd.addAll(
          List.of(
              javaBinary(),
              "-Xmx768m",
              "-XX:+UseSerialGC",
              "-Dlogback.configurationFile=" + writeLogConfig(),
              "-Dlog4j2.configurationFile=" + dataDir.resolve("log4j2.properties"),
              "-cp",
              System.getProperty("java.class.path"),
              BrokerMain.class.getName(),
              props.toString()));
      process =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(dataDir.resolve("broker.log").toFile()))
              .start();
      Runtime.getRuntime().addShutdownHook(new Thread(this::stopProcess, "embedded-kafka-stop"));
      awaitReady(Duration.ofSeconds(90));
      LOG.info(
          "Kafka broker up at {} in {} ms (data {})",
          bootstrapServers(),
          (System.nanoTime() - t0) / 1_000_000,
          dataDir);
      return this;
    } catch (IOException e) {
      close();
      throw new UncheckedIOException("could not start the embedded Kafka broker in " + dataDir, e);
    }
  }

  /**
   * The broker's scheduling priority: {@code docstream.embedded.broker.nice} (0 by default; 1 to 19
   * runs the child JVM under {@code nice}, so that on a small machine the model's threads get the
   * cores first and the broker the gaps).
   */
  private static List<String> niceness() {
    int n = Integer.getInteger("docstream.embedded.broker.nice", 0);
    if (n <= 0 || !Files.isExecutable(Path.of("/usr/bin/nice"))) {
      return List.of();
    }
    return List.of("/usr/bin/nice", "-n", Integer.toString(Math.min(19, n)));
  }

  /** {@code host:port} for clients. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** The broker's process id (it runs as a child JVM), or -1 when it is not running. */
  public long pid() {
    Process p = process;
    return p == null ? -1 : p.pid();
  }

  /** The folder that holds the broker's data and its log ({@code broker.log}). */
  public Path dataDir() {
    return dataDir;
  }

  /** Creates topics (name to partition count) that do not exist yet, replication factor 1. */
  public void createTopics(Map<String, Integer> partitions) {
    createTopics(bootstrapServers(), partitions);
  }

  /** Creates missing topics on any cluster, with replication factor 1 (a single-node cluster). */
  public static void createTopics(String bootstrapServers, Map<String, Integer> partitions) {
    createTopics(bootstrapServers, partitions, Map.of());
  }

  /**
   * Creates missing topics with replication factor 1 and per-topic configs (topic name to config,
   * for example {@code cleanup.policy=compact}), and waits until the broker serves them; see {@link
   * TopicCreator}.
   */
  public static void createTopics(
      String bootstrapServers,
      Map<String, Integer> partitions,
      Map<String, Map<String, String>> configs) {
    TopicCreator.create(bootstrapServers, partitions, configs);
  }

  private Path writeServerProperties() throws IOException {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put(
        "listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", dataDir.resolve("logs").toString());
    p.put("auto.create.topics.enable", "false");
    // Exactly-once on one node: without these, transactions hang silently.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "4");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "4");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.network.threads", "2");
    p.put("num.io.threads", "4");
    p.put("log.segment.bytes", String.valueOf(64 * 1024 * 1024));
    Path file = dataDir.resolve("server.properties");
    try (var out = Files.newBufferedWriter(file)) {
      p.store(out, "written by DocStream's EmbeddedKafkaBroker");
    }
    return file;
  }

  private void format(Path props) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    int rc;
    try (PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8)) {
      rc =
          kafka.tools.StorageTool.execute(
              new String[] {"format", "-t", Uuid.randomUuid().toString(), "-c", props.toString()},
              out);
    }
    if (rc != 0) {
      throw new IOException(
          "formatting Kafka storage failed ("
              + rc
              + "): "
              + buffer.toString(StandardCharsets.UTF_8));
    }
  }

  private Path writeLogConfig() throws IOException {
    Files.writeString(
        dataDir.resolve("log4j2.properties"),
        "rootLogger.level=WARN\nrootLogger.appenderRef.out.ref=OUT\nappender.out.type=Console\n"
            + "appender.out.name=OUT\nappender.out.layout.type=PatternLayout\n"
            + "appender.out.layout.pattern=%d %p %c{1} - %m%n\n");
    Path logback = dataDir.resolve("logback.xml");
    Files.writeString(
        logback,
        """
        <configuration>
          <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%d %level %logger{20} - %msg%n</pattern></encoder>
          </appender>
          <root level="WARN"><appender-ref ref="OUT"/></root>
        </configuration>
        """);
    return logback;
  }

  private void awaitReady(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, Object> cfg =
        Map.of(
            AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            bootstrapServers(),
            AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG,
            2000,
            AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
            3000);
    try (Admin admin = Admin.create(cfg)) {
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IOException(
              "Kafka broker exited with code "
                  + process.exitValue()
                  + "; see "
                  + dataDir.resolve("broker.log"));
        }
        try {
          if (!admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
          // not up yet
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted waiting for the broker", e);
        }
      }
    }
    throw new IOException(
        "Kafka broker did not answer within " + timeout + "; see " + dataDir.resolve("broker.log"));
  }

  /**
   * Kills the broker at once (SIGKILL), as a crash would. {@link #start()} brings it back on the
   * same port and, for a {@link #persistent} broker, the same data.
   */
  public synchronized void kill() {
    if (process == null) {
      return;
    }
    try {
      process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  private synchronized void stopProcess() {
    if (process == null) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /** Stops the broker; an ephemeral broker's data is deleted. */
  @Override
  public void close() {
    stopProcess();
    if (deleteOnClose) {
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (IOException e) {
        LOG.warn("could not delete broker data in {}: {}", dataDir, e.toString());
      }
    }
  }

  private static String javaBinary() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port", e);
    }
  }
}
