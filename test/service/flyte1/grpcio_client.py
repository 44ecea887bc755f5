"""Flyte 1's lifecycle as a Python grpcio client makes it, with messages built the way flytekit builds them.

Run by grpcio.test.ts: argv[1] is the service address, argv[2] a FileDescriptorSet of flyteidl's agent protos.
Messages come from that descriptor set (the same .proto files flytekit's flyteidl package is generated from);
calls are plain grpcio unary, server-streaming and bidirectional calls. Prints one JSON object of what it saw.
"""
import json
import sys
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

address, descriptor_set_path = sys.argv[1], sys.argv[2]
pool = descriptor_pool.DescriptorPool()
fds = descriptor_pb2.FileDescriptorSet()
with open(descriptor_set_path, "rb") as f:
    fds.ParseFromString(f.read())
for fdp in fds.file:
    pool.Add(fdp)
factory = message_factory.MessageFactory(pool)


def message(name):
    descriptor = pool.FindMessageTypeByName(name)
    get_class = getattr(message_factory, "GetMessageClass", None)
    return get_class(descriptor) if get_class else factory.GetPrototype(descriptor)


def enum(name, value):
    return pool.FindEnumTypeByName(name).values_by_name[value].number


M = {n: message(n) for n in [
    "flyteidl.admin.ListAgentsRequest", "flyteidl.admin.ListAgentsResponse", "flyteidl.admin.GetAgentRequest",
    "flyteidl.admin.GetAgentResponse", "flyteidl.admin.CreateTaskRequest", "flyteidl.admin.CreateTaskResponse",
    "flyteidl.admin.GetTaskRequest", "flyteidl.admin.GetTaskResponse", "flyteidl.admin.DeleteTaskRequest",
    "flyteidl.admin.DeleteTaskResponse", "flyteidl.admin.GetTaskLogsRequest", "flyteidl.admin.GetTaskLogsResponse",
    "flyteidl.admin.ExecuteTaskSyncRequest", "flyteidl.admin.ExecuteTaskSyncResponse", "flyteidl.core.TaskTemplate",
    "flyteidl.core.LiteralMap", "flyteidl.core.Literal", "flyteidl.core.LiteralType",
]}


def stub(kind, service, method, request_type, response_type):
    path = f"/flyteidl.service.{service}/{method}"
    return getattr(channel, kind)(path, request_serializer=lambda m: m.SerializeToString(), response_deserializer=M[response_type].FromString)


def template(task_type, inputs, outputs):
    t = M["flyteidl.core.TaskTemplate"]()
    t.id.resource_type = enum("flyteidl.core.ResourceType", "TASK")
    t.id.project, t.id.domain, t.id.name, t.id.version = "flytesnacks", "development", f"workflows.example.{task_type}_task", "v1"
    t.type = task_type
    t.metadata.runtime.type = enum("flyteidl.core.RuntimeMetadata.RuntimeType", "FLYTE_SDK")
    t.metadata.runtime.version, t.metadata.runtime.flavor = "1.16.5", "python"
    for name, simple in inputs.items():
        t.interface.inputs.variables[name].type.simple = enum("flyteidl.core.SimpleType", simple)
        t.interface.inputs.variables[name].description = name
    for name, simple in outputs.items():
        t.interface.outputs.variables[name].type.simple = enum("flyteidl.core.SimpleType", simple)
        t.interface.outputs.variables[name].description = name
    t.custom.SetInParent()
    return t


channel = grpc.insecure_channel(address)
seen = {}

agents = stub("unary_unary", "AgentMetadataService", "ListAgents", "flyteidl.admin.ListAgentsRequest", "flyteidl.admin.ListAgentsResponse")(M["flyteidl.admin.ListAgentsRequest"](), timeout=10)
seen["agents"] = [[a.name, a.is_sync, [f"{c.name}/{c.version}" for c in a.supported_task_categories]] for a in agents.agents]
agent = stub("unary_unary", "AgentMetadataService", "GetAgent", "flyteidl.admin.GetAgentRequest", "flyteidl.admin.GetAgentResponse")(M["flyteidl.admin.GetAgentRequest"](name="Sleep Connector"), timeout=10)
seen["agent"] = [agent.agent.name, agent.agent.is_sync]

create = M["flyteidl.admin.CreateTaskRequest"](template=template("sleep", {"seconds": "FLOAT"}, {}), output_prefix="s3://my-s3-bucket/metadata/propeller/f1/n0/data/0")
# Long enough that the first GetTask finds the task RUNNING even on a busy machine.
create.inputs.literals["seconds"].scalar.primitive.float_value = 3.0
create.task_execution_metadata.namespace = "flytesnacks-development"
create.task_execution_metadata.task_execution_id.node_execution_id.node_id = "n0"
created = stub("unary_unary", "AsyncAgentService", "CreateTask", "flyteidl.admin.CreateTaskRequest", "flyteidl.admin.CreateTaskResponse")(create, timeout=10)
seen["resource_meta"] = created.resource_meta.decode()

get_task = stub("unary_unary", "AsyncAgentService", "GetTask", "flyteidl.admin.GetTaskRequest", "flyteidl.admin.GetTaskResponse")
category = {"name": "sleep", "version": 0}
polls = []
for _ in range(100):
    got = get_task(M["flyteidl.admin.GetTaskRequest"](task_category=category, resource_meta=created.resource_meta), timeout=10)
    polls.append([got.resource.phase, got.resource.state])
    if got.resource.phase in (3, 4, 5, 8):
        break
    time.sleep(0.1)
seen["polls"] = polls

logs = stub("unary_stream", "AsyncAgentService", "GetTaskLogs", "flyteidl.admin.GetTaskLogsRequest", "flyteidl.admin.GetTaskLogsResponse")
seen["logs"] = [
    list(part.body.results) for part in logs(M["flyteidl.admin.GetTaskLogsRequest"](task_category=category, resource_meta=created.resource_meta, lines=10), timeout=10)
    if part.WhichOneof("part") == "body"
]

delete = stub("unary_unary", "AsyncAgentService", "DeleteTask", "flyteidl.admin.DeleteTaskRequest", "flyteidl.admin.DeleteTaskResponse")
for _ in range(2):
    delete(M["flyteidl.admin.DeleteTaskRequest"](task_category=category, resource_meta=created.resource_meta), timeout=10)
seen["deleted_twice"] = True


def sync_requests():
    header = M["flyteidl.admin.ExecuteTaskSyncRequest"]()
    header.header.template.CopyFrom(template("hash", {"data": "STRING"}, {"digest": "STRING"}))
    header.header.output_prefix = "s3://my-s3-bucket/metadata/propeller/f1/n1/data/0"
    yield header
    inputs = M["flyteidl.admin.ExecuteTaskSyncRequest"]()
    inputs.inputs.literals["data"].scalar.primitive.string_value = "hello flyte"
    yield inputs


execute = stub("stream_stream", "SyncAgentService", "ExecuteTaskSync", "flyteidl.admin.ExecuteTaskSyncRequest", "flyteidl.admin.ExecuteTaskSyncResponse")
responses = list(execute(sync_requests(), timeout=10))
seen["sync"] = [[r.WhichOneof("res"), r.header.resource.phase, r.header.resource.outputs.literals["digest"].scalar.primitive.string_value] for r in responses]

try:
    get_task(M["flyteidl.admin.GetTaskRequest"](task_category={"name": "no_such_type", "version": 0}, resource_meta=b"{}"), timeout=10)
    seen["unknown"] = "ok"
except grpc.RpcError as e:
    seen["unknown"] = [e.code().name, e.details()]

print(json.dumps(seen))
