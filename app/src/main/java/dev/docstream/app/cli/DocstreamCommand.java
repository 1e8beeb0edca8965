package dev.docstream.app.cli;

import dev.docstream.app.qc.ReviewConfig;
import dev.docstream.inference.worker.WorkerConfig;
import dev.docstream.topology.intake.IntakeConfig;
import dev.docstream.topology.qc.QcRouterConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The {@code docstream} command: one class per subcommand, each with its own generated help. */
@Command(
    name = "docstream",
    mixinStandardHelpOptions = true,
    version = "DocStream 0.1.0",
    description =
        "DocStream serves one LoRA-adapted document-extraction model per document type from one base "
            + "model, as a Kafka pipeline.",
    subcommands = {
      DemoCommand.class,
      UpCommand.class,
      IntakeCommand.class,
      WorkerCommand.class,
      LoadCommand.class,
      ResultsCommand.class,
      AdaptersCommand.class,
      ReplayCommand.class,
      QcCommand.class,
      BenchCommand.class,
      SimulateCommand.class,
      TrainCommand.class,
      CommandLine.HelpCommand.class
    })
public final class DocstreamCommand implements Runnable {
  /** Exit code of a bad argument, option or config key. */
  public static final int USAGE = 2;

  /** Exit code of a problem outside the command line (nothing listening, no model). */
  public static final int FAILED = 1;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing a command");
  }

  /** Runs a command line; returns the exit code. */
  public static int execute(String... args) {
    return execute(new java.io.PrintWriter(System.out, true), args);
  }

  /**
   * Runs a command line whose commands print their output to {@code out}; returns the exit code.
   */
  public static int execute(java.io.PrintWriter out, String... args) {
    return execute(out, new java.io.PrintWriter(System.err, true), args);
  }

  /** Runs a command line printing output to {@code out} and errors to {@code err}. */
  public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new DocstreamCommand());
    cl.setOut(out);
    cl.setErr(err);
    cl.getSubcommands()
        .get("intake")
        .getCommandSpec()
        .usageMessage()
        .footerHeading("%nConfiguration keys (key=value, or in the --config file):%n")
        .footer(keys(IntakeConfig.definition()));
    cl.getSubcommands()
        .get("worker")
        .getCommandSpec()
        .usageMessage()
        .footerHeading(
            "%nConfiguration keys (key=value, or in the --config file; consumer.* and producer.* go to the "
                + "Kafka clients):%n")
        .footer(keys(WorkerConfig.definition()));
    CommandLine qc = cl.getSubcommands().get("qc");
    qc.getSubcommands()
        .get("route")
        .getCommandSpec()
        .usageMessage()
        .footerHeading("%nConfiguration keys (key=value, or in the --config file):%n")
        .footer(keys(QcRouterConfig.definition()));
    qc.getSubcommands()
        .get("serve")
        .getCommandSpec()
        .usageMessage()
        .footerHeading("%nConfiguration keys (key=value, or in the --config file):%n")
        .footer(keys(ReviewConfig.definition()));
    cl.setParameterExceptionHandler(
        (e, a) -> {
          CommandLine c = e.getCommandLine();
          c.getErr()
              .println(
                  "error: "
                      + e.getMessage()
                      + " (see "
                      + c.getCommandSpec().qualifiedName()
                      + " --help)");
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (e, c, parsed) -> {
          if (e instanceof ConfigException) {
            c.getErr().println("error: " + e.getMessage());
            return USAGE;
          }
          if (e instanceof UserError) {
            c.getErr().println("error: " + e.getMessage());
            return FAILED;
          }
          throw e;
        });
    return cl.execute(args);
  }

  /** One line per key: name, default, doc. */
  static String keys(ConfigDef def) {
    StringBuilder out = new StringBuilder();
    for (ConfigDef.ConfigKey k : def.configKeys().values()) {
      Object d = k.hasDefault() ? k.defaultValue : "(required)";
      out.append(
          String.format(
              "  %-40s %s%n      default: %s%n",
              k.name,
              k.documentation,
              d == null
                  ? "(none)"
                  : ConfigDef.convertToString(d, k.type).isEmpty()
                      ? "\"\""
                      : ConfigDef.convertToString(d, k.type)));
    }
    return out.toString();
  }
}
