import assert from "node:assert/strict";
import { after, it } from "node:test";
import { Redis } from "ioredis";
import { describeWithRedis, type RedisHandle, startRedis } from "../support/redis-server.js";

describeWithRedis("the test redis-server helper", () => {
  let server: RedisHandle | undefined;
  after(async () => server?.stop());

  it("starts a private server that keeps AOF data across a restart on the same port", async () => {
    server = await startRedis({ appendonly: true });
    const port = server.port;
    const a = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await a.set("k", "v");
    a.disconnect();
    await server.restart({ hard: true });
    assert.equal(server.port, port);
    const b = new Redis(server.url, { maxRetriesPerRequest: 1 });
    assert.equal(await b.get("k"), "v");
    b.disconnect();
  });
});
