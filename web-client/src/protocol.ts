/**
 * How the client talks to the service. All three are served on the service's one port.
 * - `grpc-web`: what gRPC-Web dashboards and Envoy-fronted setups speak; binary frames.
 * - `connect-json`: readable on the wire, and what curl scripts use (see docs/web-client.md).
 * - `connect-binary`: Connect with protobuf bodies; smallest messages.
 */
export type Protocol = "grpc-web" | "connect-json" | "connect-binary";

/** Every protocol, for validating input and for looping over in tests. */
export const PROTOCOLS: readonly Protocol[] = Object.freeze(["grpc-web", "connect-json", "connect-binary"]);
