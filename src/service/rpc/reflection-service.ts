import { createRegistry, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** The request fields both reflection versions share. */
type ReflectionRequest = {
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: "listServices"; value: string }
    | { case: undefined; value?: undefined };
};

/** A response without message type names, so that it fits v1 and v1alpha alike. */
type ReflectionAnswer =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/**
 * gRPC server reflection, v1 and v1alpha (grpcurl and most tools still ask v1alpha), describing the given
 * services and reflection itself. Files are sent once per stream, with their dependencies, as the protocol
 * allows. It is bidirectional streaming, so it works over HTTP/2 only, which is all reflection clients use.
 */
export function reflectionRoutes(services: readonly DescService[]): (router: ConnectRouter) => void {
  const all = [...services, v1.ServerReflection, v1alpha.ServerReflection];
  // protobuf-es' DescFile.name drops ".proto"; the protocol speaks in file names, so key by proto.name.
  const filesByName = new Map<string, DescFile>();
  const collect = (file: DescFile): void => {
    if (filesByName.has(file.proto.name)) return;
    filesByName.set(file.proto.name, file);
    file.dependencies.forEach(collect);
  };
  for (const s of all) collect(s.file);
  const registry = createRegistry(...filesByName.values());
  const serviceNames = [...new Set(all.map((s) => s.typeName))].sort();

  const withDependencies = (file: DescFile, sent: Set<string>): Uint8Array[] => {
    const out: Uint8Array[] = [];
    const visit = (f: DescFile): void => {
      if (sent.has(f.proto.name)) return;
      sent.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  };
  const fileContainingSymbol = (symbol: string): DescFile | undefined => {
    // "pkg.Service.Method", "pkg.Message.field", "pkg.Enum.VALUE": the parent names the file.
    return (registry.get(symbol) ?? registry.get(symbol.slice(0, symbol.lastIndexOf("."))))?.file;
  };
  const notFound = (what: string): ReflectionAnswer => ({ case: "errorResponse", value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } });
  const files = (file: DescFile | undefined, what: string, sent: Set<string>): ReflectionAnswer =>
    file ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withDependencies(file, sent) } } : notFound(what);

  const answer = (req: ReflectionRequest, sent: Set<string>): ReflectionAnswer => {
    const m = req.messageRequest;
    switch (m.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: serviceNames.map((name) => ({ name })) } };
      case "fileByFilename":
        return files(filesByName.get(m.value), `file ${m.value}`, sent);
      case "fileContainingSymbol":
        return files(fileContainingSymbol(m.value), `symbol ${m.value}`, sent);
      case "fileContainingExtension": {
        const message = registry.getMessage(m.value.containingType);
        const ext = message ? registry.getExtensionFor(message, m.value.extensionNumber) : undefined;
        return files(ext?.file, `extension ${m.value.containingType}(${m.value.extensionNumber})`, sent);
      }
      case "allExtensionNumbersOfType": {
        if (!registry.getMessage(m.value)) return notFound(`type ${m.value}`);
        const numbers: number[] = [];
        for (const d of registry) if (d.kind === "extension" && d.extendee.typeName === m.value) numbers.push(d.number);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: m.value, extensionNumber: numbers } };
      }
      default:
        return { case: "errorResponse", value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" } };
    }
  };

  return (router) => {
    router.service(v1.ServerReflection, {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const req of requests) yield { validHost: req.host, originalRequest: req, messageResponse: answer(req, sent) };
      },
    });
    router.service(v1alpha.ServerReflection, {
      async *serverReflectionInfo(requests) {
        const sent = new Set<string>();
        for await (const req of requests) yield { validHost: req.host, originalRequest: req, messageResponse: answer(req, sent) };
      },
    });
  };
}
