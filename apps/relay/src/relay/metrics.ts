import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The Prometheus metrics of one route (children of the relay's metrics, labelled `route`). */
export interface RouteMetrics {
  readonly relayed: { inc(): void };
  readonly deduped: { inc(): void };
  readonly looped: { inc(): void };
  readonly deadLettered: { inc(labels: { reason: string }): void };
  readonly latency: { observe(seconds: number): void };
  readonly inFlight: { inc(): void; dec(): void };
}

/** The relay's metrics, registered on the app's registry. */
export class RelayMetrics {
  readonly #relayed: Counter<"route">;
  readonly #deduped: Counter<"route">;
  readonly #looped: Counter<"route">;
  readonly #deadLettered: Counter<"route" | "reason">;
  readonly #latency: Histogram<"route">;
  readonly #inFlight: Gauge<"route">;
  readonly state: Gauge<"route" | "state">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#relayed = new Counter({
      name: "kronos_relay_relayed_total",
      help: "Messages copied to the destination and confirmed there",
      labelNames: ["route"],
      registers,
    });
    this.#deduped = new Counter({
      name: "kronos_relay_deduped_total",
      help: "Messages not copied again: relayed before within the dedup window",
      labelNames: ["route"],
      registers,
    });
    this.#looped = new Counter({
      name: "kronos_relay_looped_total",
      help: "Messages not copied: their hop headers show a loop or the hop limit",
      labelNames: ["route"],
      registers,
    });
    this.#deadLettered = new Counter({
      name: "kronos_relay_dead_lettered_total",
      help: "Messages sent to the source's dead letters, by reason",
      labelNames: ["route", "reason"],
      registers,
    });
    this.#latency = new Histogram({
      name: "kronos_relay_latency_seconds",
      help: "From the source timestamp to the destination's confirm",
      labelNames: ["route"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#inFlight = new Gauge({
      name: "kronos_relay_in_flight",
      help: "Messages being relayed now",
      labelNames: ["route"],
      registers,
    });
    this.state = new Gauge({
      name: "kronos_relay_route_state",
      help: "1 for the route's current state (running, paused, degraded)",
      labelNames: ["route", "state"],
      registers,
    });
  }

  /**
   * Registers `kronos_relay_source_lag{route}`, read when Prometheus scrapes: messages waiting in each route's source
   * (Kafka consumer-group lag, RabbitMQ ready messages); absent for a route whose lag cannot be read now.
   */
  trackLag(registry: Registry, lags: () => Promise<Array<[string, number | null]>>): void {
    new Gauge({
      name: "kronos_relay_source_lag",
      help: "Messages waiting in the route's source (Kafka consumer-group lag, RabbitMQ ready messages)",
      labelNames: ["route"],
      registers: [registry],
      async collect() {
        this.reset();
        for (const [route, lag] of await lags()) if (lag !== null) this.set({ route }, lag);
      },
    });
  }

  /** The metrics of `route`. */
  forRoute(route: string): RouteMetrics {
    return {
      relayed: this.#relayed.labels({ route }),
      deduped: this.#deduped.labels({ route }),
      looped: this.#looped.labels({ route }),
      deadLettered: { inc: ({ reason }) => this.#deadLettered.inc({ route, reason }) },
      latency: this.#latency.labels({ route }),
      inFlight: this.#inFlight.labels({ route }),
    };
  }

  /** The counters of `route` now (for `GET /routes`). */
  async counts(route: string): Promise<{ relayed: number; deduped: number; looped: number; deadLettered: number }> {
    const sum = async (metric: Counter<string>) =>
      (await metric.get()).values.filter((v) => v.labels.route === route).reduce((total, v) => total + v.value, 0);
    return {
      relayed: await sum(this.#relayed),
      deduped: await sum(this.#deduped),
      looped: await sum(this.#looped),
      deadLettered: await sum(this.#deadLettered),
    };
  }
}
