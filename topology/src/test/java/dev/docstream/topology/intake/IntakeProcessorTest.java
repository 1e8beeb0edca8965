package dev.docstream.topology.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.InMemorySchemaRegistry;
import dev.docstream.schemas.registry.SchemaRegistries;
import dev.docstream.schemas.registry.SchemaRegistry;
import dev.docstream.schemas.serde.WireFormatException;
import dev.docstream.topology.intake.internal.ImageSource;
import dev.docstream.topology.intake.internal.IntakeProcessor;
import dev.docstream.topology.intake.internal.JobValidator;
import dev.docstream.topology.intake.internal.ProcessingAttempts;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The processor alone, where a test can make processing fail and replay the same offset. */
class IntakeProcessorTest {
  private static final String SCOPE = "intake-processor-test";
  private static final String TYPE = "GBR-PASSPORT-2015";

  private final SchemaRegistry registry = SchemaRegistries.forUrl("mock://" + SCOPE, null);
  private final JobValidator real =
      new JobValidator(Set.of(TYPE), 100_000, 1_000_000, new ImageSource(null, 100_000));
  private MockProcessorContext<String, byte[]> context;

  @AfterEach
  void dropRegistry() {
    InMemorySchemaRegistry.dropScope(SCOPE);
  }

  private IntakeProcessor processor(IntakeProcessor.Validation validation, int maxRecordBytes) {
    context = new MockProcessorContext<>();
    context.setCurrentSystemTimeMs(1_000_000);
    KeyValueStore<String, Long> store =
        Stores.keyValueStoreBuilder(
                Stores.inMemoryKeyValueStore(IntakeTopology.DEDUPE_STORE),
                Serdes.String(),
                Serdes.Long())
            .withLoggingDisabled()
            .build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
    IntakeProcessor p =
        new IntakeProcessor(
            registry,
            new IntakeProcessor.Settings(
                validation,
                IntakeTopology.DEDUPE_STORE,
                Duration.ofHours(1),
                maxRecordBytes,
                new ProcessingAttempts(3)));
    p.init(context);
    return p;
  }

  private Record<String, byte[]> record(VerificationJob job, long offset) {
    context.setRecordMetadata(Topics.VERIFICATION_JOBS.name(), 0, offset);
    byte[] bytes =
        Topics.VERIFICATION_JOBS
            .valueSerde(registry)
            .serialize(Topics.VERIFICATION_JOBS.name(), job);
    return new Record<>(job.getJobId(), bytes, 0L);
  }

  private DeadLetter deadLetter(int index) {
    byte[] bytes = context.forwarded(IntakeProcessor.DEAD_LETTERS).get(index).record().value();
    return Topics.VERIFICATION_JOBS_DLQ
        .valueSerde(registry)
        .deserialize(Topics.VERIFICATION_JOBS_DLQ.name(), bytes);
  }

  @Test
  void shouldDeadLetterARecordWhoseProcessingKeepsFailingAndGoOnWithTheNext() {
    IntakeProcessor p =
        processor(
            (job, now) -> {
              if (job.getJobId().equals("poison")) {
                throw new IllegalStateException("a bug that only this record triggers");
              }
              return real.validate(job, now);
            },
            1_048_576);
    VerificationJob poison = TestJobs.job("poison", TYPE).build();
    for (int attempt = 1;
        attempt <= 3;
        attempt++) { // as Kafka Streams retries after replacing the thread
      assertThrows(IllegalStateException.class, () -> p.process(record(poison, 7)));
    }
    p.process(record(poison, 7));
    assertEquals(1, context.forwarded(IntakeProcessor.DEAD_LETTERS).size());
    DeadLetter d = deadLetter(0);
    assertEquals("PROCESSING_FAILED", d.getReason());
    assertEquals(7L, d.getSourceOffset());
    assertTrue(d.getOriginalValue() != null, "kept for a replay after the fix");
    p.process(record(TestJobs.job("next", TYPE).build(), 8));
    assertEquals(1, context.forwarded(IntakeProcessor.REQUESTS).size());
  }

  @Test
  void shouldNotCountARegistryOutageAgainstTheRecord() {
    AtomicInteger outages = new AtomicInteger(5);
    IntakeProcessor p =
        processor(
            (job, now) -> {
              if (outages.getAndDecrement() > 0) {
                throw new WireFormatException(
                    WireFormatException.Reason.REGISTRY_UNAVAILABLE, "registry down");
              }
              return real.validate(job, now);
            },
            1_048_576);
    VerificationJob job = TestJobs.job("job-1", TYPE).build();
    for (int i = 0; i < 5; i++) {
      assertThrows(WireFormatException.class, () -> p.process(record(job, 3)));
    }
    p.process(record(job, 3));
    assertEquals(1, context.forwarded(IntakeProcessor.REQUESTS).size());
    assertEquals(List.of(), context.forwarded(IntakeProcessor.DEAD_LETTERS));
  }

  @Test
  void shouldDeadLetterARequestThatWouldNotFitAndOmitTheOriginalValueThatWouldNotFitEither() {
    // The validator takes images up to 100,000 bytes, the record limit is 64 KiB: limits that
    // IntakeConfig refuses together, so the processor's own size check is what stands here.
    IntakeProcessor p = processor(real::validate, 64 * 1024);
    byte[] big = TestJobs.noisyPng(160, 160);
    assertTrue(
        big.length > 70_000, "test image must be larger than the record limit, has " + big.length);
    p.process(record(TestJobs.job("big", TYPE).setImage(TestJobs.inline(big, null)).build(), 0));
    byte[] bytes = context.forwarded(IntakeProcessor.DEAD_LETTERS).get(0).record().value();
    assertTrue(bytes.length < 64 * 1024, "dead letter has " + bytes.length + " bytes");
    DeadLetter d = deadLetter(0);
    assertEquals("REQUEST_TOO_LARGE", d.getReason());
    assertEquals(List.of(), context.forwarded(IntakeProcessor.REQUESTS));
    assertNull(d.getOriginalValue());
    assertTrue(d.getDetail().contains("omitted"), d.getDetail());
  }
}
