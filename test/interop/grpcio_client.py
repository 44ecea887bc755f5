"""A Flyte-executor-like client in Python grpcio (Debian's python3-grpcio), for test/interop/grpcio.test.ts.

It drives one sleep task through its life and a few error cases, then prints one JSON object of what it
observed; the Jest test makes the assertions. Messages are dynamic, built from the FileDescriptorSets that
the test writes from the npm packages' embedded descriptors. Run with /usr/bin/python3 (Debian's modules).
"""

import argparse
import json
import sys
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

ASYNC = "flyteidl2.connector.AsyncConnectorService"
METADATA = "flyteidl2.connector.ConnectorMetadataService"
HEALTH = "grpc.health.v1.Health"
TERMINAL = {"SUCCEEDED", "FAILED", "ABORTED", "RETRYABLE_FAILED"}
DEADLINE_S = 10  # the executor's per-RPC deadline


def load_pool(paths):
    pool = descriptor_pool.DescriptorPool()
    for path in paths:
        with open(path, "rb") as f:
            for file in descriptor_pb2.FileDescriptorSet.FromString(f.read()).file:
                pool.Add(file)
    return pool


class Client:
    def __init__(self, channel, pool):
        self.channel = channel
        self.pool = pool
        self.factory = message_factory.MessageFactory(pool)

    def message(self, name):
        # GetMessageClass is newer than Debian's protobuf 4.21; GetPrototype is its older spelling.
        return self.factory.GetPrototype(self.pool.FindMessageTypeByName(name))

    def call(self, service, method, request_dict):
        desc = self.pool.FindServiceByName(service).FindMethodByName(method)
        req_cls, res_cls = self.message(desc.input_type.full_name), self.message(desc.output_type.full_name)
        stub = self.channel.unary_unary(
            f"/{service}/{method}", request_serializer=req_cls.SerializeToString, response_deserializer=res_cls.FromString
        )
        return stub(json_format.ParseDict(request_dict, req_cls()), timeout=DEADLINE_S)


def outcome(fn):
    """{"code": "OK", "response": {...}} or {"code": "NOT_FOUND", "details": "..."}."""
    try:
        res = fn()
        return {"code": "OK", "response": json_format.MessageToDict(res, preserving_proto_field_name=True)}
    except grpc.RpcError as e:
        return {"code": e.code().name, "details": e.details()}


def create_request(task_type, seconds):
    task_id = {"resource_type": "TASK", "project": "flytesnacks", "domain": "development", "name": f"interop.{task_type}", "version": "v1"}
    return {
        "inputs": {"literals": [{"name": "seconds", "value": {"scalar": {"primitive": {"integer": str(seconds)}}}}]},
        "template": {
            "id": task_id,
            "type": task_type,
            "metadata": {"runtime": {"type": "FLYTE_SDK", "version": "2.0.0", "flavor": "python"}},
            "interface": {"inputs": {"variables": [{"key": "seconds", "value": {"type": {"simple": "INTEGER"}}}]}, "outputs": {}},
            "custom": {"interop": "grpcio"},
        },
        "output_prefix": "s3://interop-bucket/ab/flytesnacks/development/rgrpcio/a0/1",
        "task_execution_metadata": {
            "task_execution_id": {
                "task_id": task_id,
                "node_execution_id": {"node_id": "a0", "execution_id": {"project": "flytesnacks", "domain": "development", "name": "rgrpcio"}},
            },
            "namespace": "flytesnacks-development",
            "k8s_service_account": "default",
        },
        "connection": {},
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--descriptors", nargs="+", required=True)
    ap.add_argument("--ca-file", help="TLS: trust this CA")
    ap.add_argument("--server-name", help="TLS: the name the certificate must carry")
    ap.add_argument("--seconds", type=int, default=1)
    args = ap.parse_args()

    if args.ca_file:
        with open(args.ca_file, "rb") as f:
            creds = grpc.ssl_channel_credentials(root_certificates=f.read())
        options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
        channel = grpc.secure_channel(args.addr, creds, options=options)
    else:
        channel = grpc.insecure_channel(args.addr)
    client = Client(channel, load_pool(args.descriptors))
    out = {"grpcio": grpc.__version__}

    out["list_connectors"] = outcome(lambda: client.call(METADATA, "ListConnectors", {}))
    out["health"] = outcome(lambda: client.call(HEALTH, "Check", {"service": ""}))

    created = outcome(lambda: client.call(ASYNC, "CreateTask", create_request("sleep", args.seconds)))
    out["create"] = created
    if created["code"] == "OK":
        meta = created["response"].get("resource_meta", "")  # base64 in the JSON mapping
        category = {"name": "sleep", "version": 0}
        polls = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = outcome(
                lambda: client.call(ASYNC, "GetTask", {"task_category": category, "resource_meta": meta, "output_prefix": "s3://interop-bucket/x"})
            )
            polls.append({"code": got["code"], "phase": got.get("response", {}).get("resource", {}).get("phase"), "details": got.get("details")})
            if got["code"] != "OK" or polls[-1]["phase"] in TERMINAL:
                out["get_final"] = got
                break
            time.sleep(0.25)
        out["get_polls"] = polls
        delete = {"task_category": category, "resource_meta": meta, "connection": {}}
        out["delete"] = [outcome(lambda: client.call(ASYNC, "DeleteTask", delete)) for _ in range(2)]

    out["create_unknown_type"] = outcome(lambda: client.call(ASYNC, "CreateTask", create_request("interop_no_such_type", 0)))
    channel.close()
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
