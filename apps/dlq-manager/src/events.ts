import { DeadLetterEvent } from "@kronos/events-messaging";

/** The dead-letter record (`kronos.messaging.DeadLetter`) the DLQ manager reads and writes, generated from schemas/. */
export const deadLetterEvent = DeadLetterEvent;
