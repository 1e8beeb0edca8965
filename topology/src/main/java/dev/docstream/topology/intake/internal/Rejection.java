package dev.docstream.topology.intake.internal;

import dev.docstream.schemas.errors.DeadLetterReason;

/** Why a job was refused, with a detail that names no personal data. */
public record Rejection(DeadLetterReason reason, String detail) {}
