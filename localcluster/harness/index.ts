// The e2e harness in one import: start a real control plane, talk to it, register the webhook.
export { startControlPlane, httpGet, type ControlPlane, type ControlPlaneOptions } from "./control-plane.ts";
export { findOrBuildControlPlane, cacheRoot, type ControlPlaneBinaries } from "./build.ts";
export { createCA, issueServingCert, issueClientCert, type KeyPairPEM } from "./certs.ts";
export { clientFor, describeApiError, apiErrorCode, parseObjects, type TestClient } from "./client.ts";
export { registerMutatingWebhook, waitUntilWebhookCalled, pointWebhookAt, addsContainers, type ProbeOptions, type RegisteredWebhook } from "./webhook-registration.ts";
export { startProcess, isAlive, type ManagedProcess } from "./processes.ts";
export { freePorts } from "./ports.ts";
export { pollUntil, sleep } from "./poll.ts";
