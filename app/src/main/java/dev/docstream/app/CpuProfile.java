package dev.docstream.app;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Where a run's CPU time went: each Java thread's CPU time grouped by what the thread does (by its
 * name), the rest of this process (PyTorch's intra-op pool, GC, the JIT: threads the JVM does not
 * list), and a child process (the embedded broker). Snapshots before and after a run; the
 * difference divided by the jobs is CPU milliseconds per job. Linux (for the child and the process
 * total through {@code /proc}).
 */
final class CpuProfile {
  /** A named group of threads. */
  record Group(String name, Predicate<String> threadName) {}

  /** The pipeline's threads, as {@link EmbeddedStack} names them; first match wins. */
  static final List<Group> PIPELINE =
      List.of(
          new Group("worker: inference thread", n -> n.startsWith("docstream-inference-")),
          new Group(
              "worker: decode thread (requests, images)", n -> n.startsWith("docstream-decode-")),
          new Group(
              "worker: read-out thread (output decoding)", n -> n.equals("docstream-readout")),
          new Group("worker: poll thread (fetch)", n -> n.matches("worker-\\d+")),
          new Group("worker: Kafka client I/O", n -> n.contains("docstream-worker-")),
          new Group(
              "intake: Kafka Streams (decode, validate, checksum, serdes, produce)",
              n -> n.contains("StreamThread") || n.contains("intake")),
          new Group(
              "load generator (build jobs, serialise, produce)",
              n -> n.equals("main") || n.contains("producer-")));

  /** Per-thread CPU nanoseconds, the process total and the child's, at one moment. */
  record Snapshot(Map<Long, Long> threads, Map<Long, String> names, long process, long child) {}

  private CpuProfile() {}

  static Snapshot take(long childPid) {
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<Long, Long> cpu = new HashMap<>();
    Map<Long, String> names = new HashMap<>();
    for (ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (t == null) {
        continue;
      }
      long ns = mx.getThreadCpuTime(t.getThreadId());
      if (ns >= 0) {
        cpu.put(t.getThreadId(), ns);
        names.put(t.getThreadId(), t.getThreadName());
      }
    }
    return new Snapshot(cpu, names, procCpuNanos("self"), procCpuNanos(Long.toString(childPid)));
  }

  /**
   * CPU milliseconds per job between two snapshots, per group, then "other threads of this
   * process", "this process, not Java threads (PyTorch intra-op pool, GC, JIT)", "broker (child
   * JVM)" and "total"; a group no thread matched is 0.
   */
  static Map<String, Double> perJob(Snapshot before, Snapshot after, int jobs, List<Group> groups) {
    Map<String, Double> ms = new LinkedHashMap<>();
    groups.forEach(g -> ms.put(g.name(), 0.0));
    ms.put("other Java threads", 0.0);
    long java = 0;
    for (Map.Entry<Long, Long> t : after.threads().entrySet()) {
      long used = t.getValue() - before.threads().getOrDefault(t.getKey(), 0L);
      java += used;
      String name = after.names().get(t.getKey());
      String group =
          groups.stream()
              .filter(g -> g.threadName().test(name))
              .map(Group::name)
              .findFirst()
              .orElse("other Java threads");
      ms.merge(group, used / 1e6 / jobs, Double::sum);
    }
    long process = after.process() - before.process();
    ms.put(
        "this process, not Java threads (PyTorch intra-op pool, GC, JIT)",
        Math.max(0, process - java) / 1e6 / jobs);
    long child = after.child() - before.child();
    ms.put("broker (child JVM)", child / 1e6 / jobs);
    ms.put("total", (process + child) / 1e6 / jobs);
    return ms;
  }

  /** This process's CPU time so far (all threads, native ones included), in nanoseconds. */
  static long processCpuNanos() {
    return procCpuNanos("self");
  }

  /** utime + stime of a process from /proc, in nanoseconds; 0 where it cannot be read. */
  private static long procCpuNanos(String pid) {
    try {
      String stat = Files.readString(Path.of("/proc", pid, "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15 of stat
      return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
