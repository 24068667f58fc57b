// grpc.health.v1 on every RPC port: SERVING while ready, NOT_SERVING while draining or when a dependency is down.
import type { ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus } from "#libs/gen/grpc/health/v1/health_pb.ts";

export function healthService(ready: () => Promise<boolean>, isDraining: () => boolean): ServiceImpl<typeof Health> {
  const status = async () =>
    !isDraining() && (await ready().catch(() => false))
      ? HealthCheckResponse_ServingStatus.SERVING
      : HealthCheckResponse_ServingStatus.NOT_SERVING;
  return {
    async check() {
      return { status: await status() };
    },
    async *watch(_req, ctx) {
      let last: HealthCheckResponse_ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const s = await status();
        if (s !== last) yield { status: s };
        last = s;
        await new Promise((r) => setTimeout(r, 1000));
      }
    },
  };
}
