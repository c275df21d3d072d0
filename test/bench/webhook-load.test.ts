import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { generateCertBundle } from "../../webhook/certs.ts";
import { load } from "../../bench/webhook-load.ts";

test("the open loop never counts a request from before it was sent: no latency below the server's own delay", async () => {
  const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const delayMs = 3;
  let answered = 0;
  const server = createServer({ cert: bundle.cert, key: bundle.key }, (req, res) => {
    answered++;
    req.resume();
    // Busy, not a timer: a timer may fire up to 1 ms early, and the delay must be a true floor.
    req.on("end", () => {
      const until = performance.now() + delayMs;
      while (performance.now() < until);
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    // A timer may fire up to 1 ms early; requests sent then used to be timed from their later due
    // time, which made a 3 ms answer look like 2 ms, and a fast one negative.
    const result = await load({ port, ca: bundle.caCert, body: "{}", seconds: 1, rate: 100, warmupSeconds: 0.2 });
    assert.equal(result.errors, 0);
    assert.ok(result.completed >= 90, `${result.completed} requests completed`);
    assert.ok(result.minMs >= delayMs, `shortest latency ${result.minMs} ms, below the server's ${delayMs} ms delay`);
    // The benchmark divides the server's CPU over the whole run by this: the warm-up's requests too.
    assert.equal(result.sent, answered, "sent counts every request the server got, the warm-up's included");
    assert.ok(result.sent > result.completed, `${result.sent} sent, ${result.completed} recorded`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
