// The edge as its own process (mesh mode): REST in front, gRPC clients behind, NATS for events.
import { runEdge } from "#services/compose/run-service.ts";

await runEdge(process.env);
