"""CreateTask then GetTask on the echo connector from Python grpcio, with the default 4 MiB receive limit.

The TypeScript test encodes the requests (no flyteidl2 Python package is needed): CreateTaskRequest bytes,
and a GetTaskRequest without resource_meta, to which this script appends the metadata CreateTask returned
(a protobuf field appended to a message sets it). Responses are written as bytes for the test to decode.

usage: echo_large_client.py ADDRESS CREATE_REQUEST GET_TEMPLATE OUT_DIR
"""
import os
import sys

import grpc

SERVICE = "/flyteidl2.connector.AsyncConnectorService/"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, i


def field_bytes(buf, number):
    """The value of a length-delimited field of a serialized message."""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        wire = key & 7
        if wire == 2:
            length, i = read_varint(buf, i)
            if key >> 3 == number:
                return buf[i:i + length]
            i += length
        elif wire == 0:
            _, i = read_varint(buf, i)
        else:
            raise ValueError("unexpected wire type %d" % wire)
    return b""


def main():
    address, create_path, get_path, out_dir = sys.argv[1:5]
    with open(create_path, "rb") as f:
        create_request = f.read()
    with open(get_path, "rb") as f:
        get_template = f.read()
    with grpc.insecure_channel(address) as channel:
        create = channel.unary_unary(SERVICE + "CreateTask")
        get = channel.unary_unary(SERVICE + "GetTask")
        created = create(create_request, timeout=10)
        meta = field_bytes(created, 1)  # CreateTaskResponse.resource_meta = 1
        got = get(get_template + b"\x12" + varint(len(meta)) + meta, timeout=10)  # GetTaskRequest.resource_meta = 2
    with open(os.path.join(out_dir, "create.bin"), "wb") as f:
        f.write(created)
    with open(os.path.join(out_dir, "get.bin"), "wb") as f:
        f.write(got)


if __name__ == "__main__":
    main()
