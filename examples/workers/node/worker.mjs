// A Conveyor worker in JavaScript, for Node 18 or later, with nothing but the standard library.
// It speaks the worker protocol of docs/workers.md: register (declaring its workflows and their
// parameter schemas), claim by long poll, one heartbeat for every lease it holds (which also brings
// cancel and pause requests), and batched, idempotent reports.
//
//   CONVEYOR_URL=http://127.0.0.1:8321 CONVEYOR_TOKEN=<worker token> node worker.mjs
//
// Stop it with SIGTERM or Ctrl-C: it stops claiming, lets running work finish, and deregisters.

import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

const API = `${(process.env.CONVEYOR_URL ?? "http://127.0.0.1:8321").replace(/\/$/, "")}/api/v1`;
const TOKEN = process.env.CONVEYOR_TOKEN;
const CONCURRENCY = Number(process.env.CONVEYOR_CONCURRENCY ?? 4);

class Cancelled extends Error {}

// The workflows this worker serves: a parameter schema, and a function of (parameters, ctx).
const WORKFLOWS = {
  "node.count": {
    description: "Counts to n, reporting progress; stops at a checkpoint when asked to cancel.",
    parameters_schema: {
      type: "object",
      properties: { n: { type: "integer", minimum: 0 }, delay: { type: "number", minimum: 0 } },
      required: ["n"],
      additionalProperties: false,
    },
    async run({ n, delay = 0.01 }, ctx) {
      for (let i = 1; i <= n; i++) {
        await sleep(delay * 1000);
        ctx.checkpoint();
        await ctx.progress(i, n);
      }
      await ctx.message(`counted to ${n}`);
      return { counted: n, by: "node" };
    },
  },
};

async function call(method, path, body, headers = {}) {
  const response = await fetch(API + path, {
    method,
    headers: {
      "content-type": "application/json",
      ...(TOKEN ? { authorization: `Bearer ${TOKEN}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const doc = await response.json();
  if (!response.ok) {
    const error = new Error(`${method} ${path}: ${response.status} ${doc?.error?.code}: ${doc?.error?.message}`);
    error.retry = response.status >= 500;
    throw error;
  }
  return doc;
}

// Outcomes are sent until the server has them: a batch keeps its Idempotency-Key across retries.
async function report(workerId, reports) {
  const key = randomUUID();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call("POST", `/workers/${encodeURIComponent(workerId)}/reports`, { reports }, { "idempotency-key": key });
    } catch (error) {
      if (error.retry === false || stopping.hard) throw error;
      await sleep(Math.min(1000, 200 * attempt));
    }
  }
}

const held = new Map(); // execution id -> { request: null | "cancel" | "pause" }
const stopping = { soft: false, hard: false };

async function runOne(workerId, execution) {
  const run = { request: null };
  held.set(execution.id, run);
  const workflow = WORKFLOWS[execution.workflow];
  const ctx = {
    checkpoint() {
      if (run.request) throw new Cancelled(run.request);
    },
    progress: (finished, total) =>
      report(workerId, [{ execution_id: execution.id, kind: "progress", finished_operations: finished, total_operations: total }]),
    message: (text) => report(workerId, [{ execution_id: execution.id, kind: "message", text }]),
  };
  let outcome;
  try {
    const result = await workflow.run(execution.parameters, ctx);
    outcome = { kind: "succeeded", result };
  } catch (error) {
    if (error instanceof Cancelled) outcome = { kind: error.message === "pause" ? "paused" : "cancelled" };
    else outcome = { kind: "failed", error: { type: error.name, message: String(error.message), traceback: error.stack } };
  }
  try {
    await report(workerId, [{ execution_id: execution.id, ...outcome }]);
  } finally {
    held.delete(execution.id);
  }
}

async function heartbeats(workerId, seconds) {
  while (!stopping.hard) {
    await sleep(seconds * 1000);
    const ids = [...held.keys()];
    try {
      const { executions } = await call("POST", `/workers/${encodeURIComponent(workerId)}/heartbeat`, { executions: ids });
      for (const id of ids) {
        const status = executions[id];
        const run = held.get(id);
        if (!run) continue;
        if (status === undefined || status.endsWith("cancelling")) run.request = "cancel"; // lost or asked
        else if (status === "pausing") run.request = "pause";
      }
    } catch (error) {
      console.error(`heartbeat: ${error.message}`); // the server may be restarting: try again
    }
  }
}

async function main() {
  const me = await call("POST", "/workers", {
    name: "node-worker",
    host: hostname(),
    queues: ["default"],
    concurrency: CONCURRENCY,
    version: `node ${process.version}`,
    workflows: Object.entries(WORKFLOWS).map(([name, w]) => ({ name, description: w.description, parameters_schema: w.parameters_schema })),
  });
  console.log(`worker ${me.id} running ${Object.keys(WORKFLOWS).join(", ")}`);
  const beating = heartbeats(me.id, me.heartbeat_seconds);
  const stop = () => { stopping.soft = true; };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  while (!stopping.soft) {
    const free = CONCURRENCY - held.size;
    if (free <= 0) { await sleep(10); continue; }
    try {
      const { items } = await call("POST", `/workers/${encodeURIComponent(me.id)}/claim`, { limit: free, wait: 2 });
      for (const execution of items) runOne(me.id, execution).catch((error) => console.error(error.message));
    } catch (error) {
      console.error(`claim: ${error.message}`);
      await sleep(1000);
    }
  }
  while (held.size > 0) await sleep(20);
  stopping.hard = true;
  await beating;
  await call("DELETE", `/workers/${encodeURIComponent(me.id)}`).catch(() => {});
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
