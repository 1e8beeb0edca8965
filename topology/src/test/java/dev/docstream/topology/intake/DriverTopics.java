package dev.docstream.topology.intake;

import dev.docstream.schemas.DeadLetter;
import dev.docstream.schemas.ExtractionRequest;
import dev.docstream.schemas.Topics;
import dev.docstream.schemas.VerificationJob;
import dev.docstream.schemas.registry.SchemaRegistries;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

/** Intake's inputs and outputs on a TopologyTestDriver, decoded through the scope's registry. */
record DriverTopics(
    TestInputTopic<String, VerificationJob> jobs,
    TestInputTopic<String, VerificationJob> replayJobs,
    TestOutputTopic<String, ExtractionRequest> requests,
    TestOutputTopic<String, ExtractionRequest> replayRequests,
    TestOutputTopic<String, DeadLetter> deadLetters) {

  static DriverTopics of(TopologyTestDriver driver, String scope) {
    var registry = SchemaRegistries.forUrl("mock://" + scope, null);
    var jobSerde = Topics.VERIFICATION_JOBS.valueSerde(registry);
    var requestSerde = Topics.EXTRACTION_REQUESTS.valueSerde(registry);
    return new DriverTopics(
        driver.createInputTopic(Topics.VERIFICATION_JOBS.name(), new StringSerializer(), jobSerde),
        driver.createInputTopic(
            Topics.VERIFICATION_JOBS_REPLAY.name(), new StringSerializer(), jobSerde),
        driver.createOutputTopic(
            Topics.EXTRACTION_REQUESTS.name(), new StringDeserializer(), requestSerde),
        driver.createOutputTopic(
            Topics.EXTRACTION_REQUESTS_REPLAY.name(), new StringDeserializer(), requestSerde),
        driver.createOutputTopic(
            Topics.VERIFICATION_JOBS_DLQ.name(),
            new StringDeserializer(),
            Topics.VERIFICATION_JOBS_DLQ.valueSerde(registry)));
  }
}
