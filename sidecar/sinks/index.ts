// Builds the forwarding sink named by the configuration. `endpoint` is the backend's base URL, as
// Filebeat or Promtail take it; the API path is appended unless the URL already ends with it:
//   elasticsearch: http://es:9200            → http://es:9200/_bulk
//                  http://vl:9428/insert/elasticsearch → …/insert/elasticsearch/_bulk (VictoriaLogs)
//   loki:          http://loki:3100          → http://loki:3100/loki/api/v1/push
//                  http://vl:9428/insert     → …/insert/loki/api/v1/push (VictoriaLogs)
//   otlp:          http://collector:4318     → http://collector:4318/v1/logs (as OTEL_EXPORTER_OTLP_ENDPOINT)
//                  http://vl:9428/insert/opentelemetry → …/insert/opentelemetry/v1/logs (VictoriaLogs)
// Credentials in the URL (user:password@) are sent as a basic-auth header, never printed.

import type { SidecarConfig } from "../config.ts";
import { DEFAULT_INDEX } from "./elasticsearch-encode.ts";
import { ElasticsearchProtocol } from "./elasticsearch.ts";
import { LOKI_PUSH_PATH } from "./loki-encode.ts";
import { LokiProtocol } from "./loki.ts";
import { CredentialFiles } from "./credential-files.ts";
import type { ConnectionOptions } from "./http-protocol.ts";
import { NetworkSink, type NetworkSinkOptions, type Protocol } from "./network-sink.ts";
import { OTLP_LOGS_PATH } from "./otlp-encode.ts";
import { OtlpProtocol } from "./otlp.ts";
import { requestTarget } from "../../settings/url-credentials.ts";
import type { ForwardSink } from "../../settings/vocabulary.ts";

export { NetworkSink } from "./network-sink.ts";
export type { ForwardBatch } from "./records.ts";

/** endpoint + path, without doubling the path or a slash; query string and credentials kept (requestTarget moves the latter to a header). */
export function apiUrl(endpoint: string, path: string): string {
  const url = new URL(endpoint);
  const base = url.pathname.replace(/\/+$/, "");
  url.pathname = base.endsWith(path) ? base : `${base}${path}`;
  return url.toString();
}

/** The index for Elasticsearch documents: TAILCAR_ES_INDEX, default "tailcar-logs". */
export function elasticsearchIndex(env: Readonly<Record<string, string | undefined>>): string {
  return env.TAILCAR_ES_INDEX || DEFAULT_INDEX;
}

/** A network sink for config.sink elasticsearch|loki|otlp; undefined for stdout (the tailer's own sink). */
export function createSink(
  config: SidecarConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: Partial<NetworkSinkOptions> = {},
): NetworkSink | undefined {
  if (config.sink === "stdout") return undefined;
  if (config.endpoint === undefined) throw new Error(`--sink ${config.sink} needs --endpoint URL`);
  const credentials = new CredentialFiles({ authDir: config.authDir, caFile: config.caFile, certFile: config.certFile, keyFile: config.keyFile });
  const connection: ConnectionOptions = {
    credentials,
    headers: [...(config.tenant === undefined ? [] : [["X-Scope-OrgID", config.tenant] as const]), ...config.headers],
    gzip: config.compression === "gzip",
  };
  const sink = new NetworkSink(protocolFor(config.sink, config.endpoint, env, connection), { pod: config.pod, maxLineBytes: config.maxLineBytes, ...options });
  if (credentials.any) credentials.watch(() => sink.retryNow());
  return sink;
}

function protocolFor(sink: ForwardSink, endpoint: string, env: Readonly<Record<string, string | undefined>>, connection: ConnectionOptions): Protocol {
  switch (sink) {
    case "elasticsearch":
      return new ElasticsearchProtocol(requestTarget(apiUrl(endpoint, "/_bulk")), elasticsearchIndex(env), connection);
    case "loki":
      return new LokiProtocol(requestTarget(apiUrl(endpoint, LOKI_PUSH_PATH)), connection);
    case "otlp":
      return new OtlpProtocol(requestTarget(apiUrl(endpoint, OTLP_LOGS_PATH)), connection);
  }
}
