import type {
  Destination,
  EventBinding,
  KafkaTopicDestination,
  QueueSpec,
  RabbitExchangeDestination,
} from "@kronos/catalog";
import type { EventDescriptor } from "@kronos/contracts";

/** The manifest bindings a descriptor carries (`binding`, typed by `@kronos/catalog`); none when it has none. */
export function bindingsOf(event: EventDescriptor<unknown>): readonly EventBinding[] {
  return (event.binding ?? []) as EventBinding[];
}

/**
 * The contract manifest's topics and exchanges, rebuilt from the bindings the generated descriptors carry: every
 * binding holds its topic's settings (partitions, replicas, retention, cleanup policy) or its exchange's settings
 * and the queues of its channel, and the manifest refuses a channel without messages, so every destination is
 * bound by some event. Equal to what `loadCatalog` gives as `destinations` (a test holds it to that): Kafka first,
 * each sorted by name, events sorted, channels and queues in the order the bindings name them.
 */
export function topologyOf(events: Iterable<EventDescriptor<unknown>>): Destination[] {
  const kafka = new Map<string, KafkaTopicDestination>();
  const rabbitmq = new Map<string, RabbitExchangeDestination>();
  const addChannel = (channels: string[], channel: string) => {
    if (!channels.includes(channel)) channels.push(channel);
  };
  for (const event of events) {
    for (const binding of bindingsOf(event)) {
      if (binding.broker === "kafka") {
        const { broker: _, channel, keyField: __, ...settings } = binding;
        let topic = kafka.get(settings.topic);
        if (!topic) {
          topic = { broker: "kafka", name: settings.topic, ...settings, channels: [], events: [] };
          kafka.set(settings.topic, topic);
        }
        addChannel(topic.channels, channel);
        topic.events.push(event.name);
        continue;
      }
      const key = `${binding.exchange.vhost}:${binding.exchange.name}`;
      let exchange = rabbitmq.get(key);
      if (!exchange) {
        exchange = { broker: "rabbitmq", ...binding.exchange, channels: [], queues: [], events: [] };
        rabbitmq.set(key, exchange);
      }
      addChannel(exchange.channels, binding.channel);
      for (const queue of binding.queues) {
        if (!exchange.queues.some((known) => known.name === queue.name)) exchange.queues.push(queue);
      }
      exchange.events.push(event.name);
    }
  }
  const byName = (a: Destination, b: Destination) => a.name.localeCompare(b.name);
  const destinations = [...[...kafka.values()].sort(byName), ...[...rabbitmq.values()].sort(byName)];
  for (const destination of destinations) destination.events.sort();
  return destinations;
}

/** The destinations the contract manifest declares, by broker. */
export interface ManifestDestinations {
  /** Kafka topics of the manifest. */
  readonly kafka: ReadonlySet<string>;
  /** RabbitMQ queues declared on the manifest's exchanges, and the dead-letter queues they name. */
  readonly rabbitmq: ReadonlySet<string>;
}

/**
 * Where the manifest puts events, as far as topics and queues go: a destination of {@link topologyOf} (or of the
 * catalog), or one event binding (both have these fields).
 */
export type ManifestBinding =
  | { readonly broker: "kafka"; readonly topic: string }
  | { readonly broker: "rabbitmq"; readonly queues: readonly QueueSpec[] };

/**
 * The topics and queues the manifest declares (its exchanges are not queues and are not listed), from
 * destinations or event bindings.
 */
export function manifestDestinations(manifest: {
  readonly destinations: Iterable<ManifestBinding>;
}): ManifestDestinations {
  const kafka = new Set<string>();
  const rabbitmq = new Set<string>();
  for (const destination of manifest.destinations) {
    if (destination.broker === "kafka") {
      kafka.add(destination.topic);
      continue;
    }
    for (const queue of destination.queues) {
      rabbitmq.add(queue.name);
      if (queue.deadLetter?.queue) rabbitmq.add(queue.deadLetter.queue);
    }
  }
  return { kafka, rabbitmq };
}
