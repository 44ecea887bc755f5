import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { WIRE_PAIRS } from "../../../src/service/rpc/flyte1/wire.js";

/**
 * Flyte 1 requests and responses are converted to Flyte 2's by re-reading their bytes (wire.ts). That is only
 * right while every field number both sides have means the same thing, all the way down: this walks both
 * descriptor trees for each converted pair and lists every field that differs in kind, scalar type or
 * enum values. A map field on one side matches a repeated message of `{1: key, 2: value}` on the other.
 */

type Shape = { kind: string; scalar?: number; message?: DescMessage; enumValues?: string[]; mapKey?: number };

function shapeOf(f: DescField): Shape {
  switch (f.fieldKind) {
    case "scalar":
      return { kind: "scalar", scalar: f.scalar };
    case "enum":
      return { kind: "enum", enumValues: f.enum.values.map((v) => `${v.number}`) };
    case "message":
      return { kind: "message", message: f.message };
    case "list":
      if (f.listKind === "message") return { kind: "repeated-message", message: f.message };
      if (f.listKind === "enum") return { kind: "repeated-enum", enumValues: f.enum.values.map((v) => `${v.number}`) };
      return { kind: "repeated-scalar", scalar: f.scalar };
    case "map":
      return {
        kind: "map",
        mapKey: f.mapKey,
        ...(f.mapKind === "message" ? { message: f.message } : { scalar: f.mapKind === "scalar" ? f.scalar : undefined }),
      };
  }
}

function differences(a: DescMessage, b: DescMessage, path: string, seen: Set<string>, out: string[]): void {
  const key = `${a.typeName}|${b.typeName}`;
  if (seen.has(key)) return;
  seen.add(key);
  for (const fa of a.fields) {
    const fb = b.fields.find((f) => f.number === fa.number);
    if (!fb) continue;
    const where = `${path}.${fa.name}(${fa.number})`;
    let sa = shapeOf(fa);
    let sb = shapeOf(fb);
    if (sa.kind === "repeated-message" && sb.kind === "map") [sa, sb] = [sb, sa];
    if (sa.kind === "map" && sb.kind === "repeated-message") {
      // map<K, V> on the wire is repeated { K key = 1; V value = 2; }.
      const keyField = sb.message!.fields.find((f) => f.number === 1);
      const valueField = sb.message!.fields.find((f) => f.number === 2);
      if (keyField?.fieldKind !== "scalar" || keyField.scalar !== sa.mapKey) out.push(`${where}: map key vs entry key`);
      if (sa.message && valueField?.fieldKind === "message") differences(sa.message, valueField.message, where, seen, out);
      else if (sa.message || valueField?.fieldKind !== "scalar" || valueField.scalar !== sa.scalar) out.push(`${where}: map value vs entry value`);
      continue;
    }
    if (sa.kind !== sb.kind || sa.scalar !== sb.scalar || sa.mapKey !== sb.mapKey) {
      out.push(`${where}: ${sa.kind}/${sa.scalar ?? ""} vs ${sb.kind}/${sb.scalar ?? ""}`);
      continue;
    }
    if (sa.enumValues && sa.enumValues.join() !== sb.enumValues!.join()) {
      const missing = sa.enumValues.filter((v) => !sb.enumValues!.includes(v));
      if (missing.length > 0) out.push(`${where}: enum values ${missing.join(",")} only on one side`);
    }
    if (sa.message && sb.message) differences(sa.message, sb.message, where, seen, out);
  }
}

test.each(WIRE_PAIRS.map(([f1, f2]) => [f1.typeName, f1, f2] as const))("%s reads as its Flyte 2 twin field for field", (_name, f1, f2) => {
  const out: string[] = [];
  differences(f1, f2, f1.name, new Set(), out);
  differences(f2, f1, f2.name, new Set(), out);
  expect(out).toEqual([]);
});

test("the walk sees nested messages: a TaskTemplate's interface variables are compared through the map", () => {
  const [create1, create2] = WIRE_PAIRS[0]!;
  const template1 = create1.fields.find((f) => f.name === "template");
  const template2 = create2.fields.find((f) => f.name === "template");
  expect(template1?.fieldKind === "message" && template1.message.typeName).toBe("flyteidl.core.TaskTemplate");
  expect(template2?.fieldKind === "message" && template2.message.typeName).toBe("flyteidl2.core.TaskTemplate");
  // A deliberately broken pair must be caught.
  const out: string[] = [];
  differences(create1, WIRE_PAIRS[2]![1], "x", new Set(), out);
  expect(out.length).toBeGreaterThan(0);
});
