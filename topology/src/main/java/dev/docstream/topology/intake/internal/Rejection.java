package dev.docstream.topology.intake.internal;

import dev.docstream.topology.intake.ReasonCode;

/** Why a job was refused, with a detail that names no personal data. */
public record Rejection(ReasonCode reason, String detail) {}
