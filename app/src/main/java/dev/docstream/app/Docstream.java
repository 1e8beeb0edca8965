package dev.docstream.app;

import dev.docstream.inference.worker.WorkerMain;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.topology.intake.IntakeApp;
import dev.docstream.training.CliArgs;
import dev.docstream.training.TrainCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** The {@code docstream} command. */
public final class Docstream {
  private static final String HELP = """
      Usage: docstream <command> [options]

      DocStream serves one LoRA-adapted document-extraction model per document type from one base
      model, as a Kafka pipeline.

      Commands:
        demo      run the whole pipeline in one process on synthetic jobs and print a summary
        up        run the embedded stack (broker, registry, intake, workers) until Ctrl-C
        intake    run the intake topology against a Kafka cluster (see: docstream intake --help)
        worker    run one inference worker against a Kafka cluster (see: docstream worker --help)
        load      produce synthetic jobs to a Kafka cluster
        bench     measure the design's numbers side by side; prints a table, writes bench.json
        train     train and evaluate the base model and adapters (see: docstream train --help)
        help      show this text

      demo options (defaults in brackets):
        --jobs N           jobs to send [1500]
        --bad X            share of bad jobs [0.02]
        --rate N           jobs per second, 0 = as fast as possible (latency then includes
                           the wait behind the whole backlog) [0]
        --workers N        inference workers [2]
        --seed N           seed of the synthetic jobs [1]
        --data DIR         where the broker keeps its data, wiped first [var/demo]
        --out DIR          where summary.json and summary.md go [out/demo]
        --models DIR       base model and adapters [models]

      up options:
        --data DIR         data folder, reused across runs [var/up]
        --fresh true       wipe the data folder first [false]
        --workers N        inference workers [2]
        --models DIR       base model and adapters [models]
        --registry-port N  port of the schema registry's HTTP face [8081]
        --metrics-port N   port of worker 0's Prometheus endpoint, 0 = any free one [0]

      bench options:
        --jobs N           jobs per throughput run [512]
        --reps N           repetitions (latency figures use 3x as many) [3]
        --seed N           seed of the synthetic jobs [5]
        --work DIR         scratch folder for extra adapters and broker data [var/bench]
        --out DIR          where bench.json and bench.md go [out/bench]
        --models DIR       base model and adapters [models]

      load options:
        --bootstrap HOST:PORT   Kafka bootstrap servers [localhost:9092]
        --registry URL          schema registry URL [http://localhost:8081]
        --jobs N, --bad X, --rate N, --seed N, --models DIR   as for demo
      """;

  private Docstream() {}

  public static void main(String[] args) throws Exception {
    // intake, worker and train have help texts of their own.
    if (CliArgs.asksForHelp(args) && (args.length == 0 || !List.of("intake", "worker", "train").contains(args[0]))) {
      System.out.print(HELP);
      return;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    try {
      switch (args[0]) {
        case "demo" -> demo(new CliArgs(args, 1, Set.of("jobs", "bad", "rate", "workers", "seed", "data", "out", "models")));
        case "up" -> up(new CliArgs(args, 1, Set.of("data", "fresh", "workers", "models", "registry-port", "metrics-port")));
        case "intake" -> IntakeApp.main(rest);
        case "worker" -> WorkerMain.main(rest);
        case "load" -> load(new CliArgs(args, 1, Set.of("bootstrap", "registry", "jobs", "bad", "rate", "seed", "models")));
        case "train" -> TrainCli.main(rest);
        case "bench" -> bench(new CliArgs(args, 1, Set.of("jobs", "reps", "seed", "work", "out", "models")));
        default -> throw new IllegalArgumentException("unknown command '" + args[0] + "' (see docstream --help)");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    }
  }

  static EmbeddedStack.Options stackOptions(CliArgs a, String defaultData, boolean fresh) {
    Path models = Path.of(a.get("models", "models"));
    if (!Files.isRegularFile(models.resolve("base").resolve("model.safetensors"))) {
      throw new IllegalArgumentException("no base model under " + models.resolve("base")
          + " (run from the repository root, or pass --models)");
    }
    return new EmbeddedStack.Options(Path.of(a.get("data", defaultData)), fresh, a.getInt("workers", 2), 8,
        models.resolve("base"), models.resolve("adapters"), "docstream-" + ProcessHandle.current().pid(), 32);
  }

  private static void demo(CliArgs a) throws Exception {
    System.err.println("starting the embedded stack: Kafka broker, schema registry, intake, "
        + a.getInt("workers", 2) + " inference workers ...");
    long t0 = System.nanoTime();
    try (EmbeddedStack stack = EmbeddedStack.start(stackOptions(a, "var/demo", true))) {
      System.err.printf("stack up in %.1f s: %d document types served%n", (System.nanoTime() - t0) / 1e9,
          stack.documentTypes().size());
      Path out = Path.of(a.get("out", "out/demo"));
      Demo.run(stack, a.getInt("jobs", 1500), a.getFloat("bad", 0.02f), a.getFloat("rate", 0), a.getLong("seed", 1), out);
      System.out.println(Files.readString(out.resolve("summary.md")));
      System.out.println("written: " + out.resolve("summary.json") + ", " + out.resolve("summary.md"));
    }
  }

  private static void up(CliArgs a) throws Exception {
    EmbeddedStack stack = EmbeddedStack.start(stackOptions(a, "var/up", Boolean.parseBoolean(a.get("fresh", "false"))));
    RegistryServer registry = new RegistryServer(stack.registry(), a.getInt("registry-port", 8081));
    int metricsPort = stack.workers().get(0).metrics().serve(a.getInt("metrics-port", 0));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      registry.close();
      stack.close();
      stopped.countDown();
    }, "up-shutdown"));
    System.out.printf("DocStream is up (ready in %.1f s). Ctrl-C to stop.%n", stack.readyMillis() / 1000.0);
    System.out.println("  bootstrap servers: " + stack.bootstrapServers());
    System.out.println("  schema registry:   " + registry.url());
    System.out.println("  metrics:           http://127.0.0.1:" + metricsPort + "/metrics (worker embedded-0)");
    System.out.println("  document types:    " + stack.documentTypes());
    stopped.await();
  }

  private static void bench(CliArgs a) throws Exception {
    Path out = Path.of(a.get("out", "out/bench"));
    Bench.run(Path.of(a.get("models", "models")), a.getInt("jobs", 512), a.getInt("reps", 3), a.getLong("seed", 5),
        Path.of(a.get("work", "var/bench")), out);
    System.out.println(Files.readString(out.resolve("bench.md")));
    System.out.println("written: " + out.resolve("bench.json") + ", " + out.resolve("bench.md"));
  }

  private static void load(CliArgs a) {
    Path adapters = Path.of(a.get("models", "models")).resolve("adapters");
    List<String> types = new dev.docstream.inference.adapter.DirectoryAdapterStore(adapters, "", java.util.Map.of())
        .documentTypes().stream().toList();
    List<LoadGenerator.Job> jobs = LoadGenerator.generate(types, a.getInt("jobs", 1500), 1.1, a.getFloat("bad", 0.02f),
        a.getLong("seed", 1));
    LoadGenerator.produce(a.get("bootstrap", "localhost:9092"),
        SchemaRegistries.forUrl(a.get("registry", "http://localhost:8081"), null), jobs, a.getFloat("rate", 0));
    System.out.println("produced " + jobs.size() + " jobs");
  }
}
