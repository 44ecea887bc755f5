import fc from "fast-check";
import { AsyncConnector, type Resource } from "../../src/connectors/connector.js";
import { createConnectorRegistry } from "../../src/registry/connector-registry.js";
import { ConnectorNotFoundError, DuplicateConnectorError } from "../../src/registry/errors.js";

class Stub extends AsyncConnector<{ id: string }> {
  constructor(
    readonly name: string,
    readonly taskTypeName: string,
    override readonly taskTypeVersion = 0,
  ) {
    super();
  }
  async create() {
    return { id: "1" };
  }
  async get(): Promise<Resource> {
    return { phase: "SUCCEEDED" };
  }
  async delete() {}
}

test("lookup by task type and version, with version 0 by default", () => {
  const a0 = new Stub("A", "a");
  const a1 = new Stub("A", "a", 1);
  const registry = createConnectorRegistry([a0, a1]);
  expect(registry.get("a")).toBe(a0);
  expect(registry.get("a", 1)).toBe(a1);
  expect(registry.find("a", 2)).toBeUndefined();
  expect(() => registry.get("b")).toThrow(new ConnectorNotFoundError("Cannot find connector for task type: b and version: 0", "b"));
});

test("a duplicate task category is an error unless overridden, and an override leaves no stale metadata", () => {
  const registry = createConnectorRegistry([new Stub("Old", "q"), new Stub("Other", "r")]);
  expect(() => registry.register(new Stub("New", "q"))).toThrow(DuplicateConnectorError);
  expect(() => registry.register(new Stub("New", "q"))).toThrow("Duplicate connector for task type: q and version: 0");
  const replacement = new Stub("New", "q");
  registry.register(replacement, { override: true });
  expect(registry.get("q")).toBe(replacement);
  // Python keeps "Old" with q and appends a duplicate category; we derive metadata from the one map.
  expect(registry.list()).toEqual([
    { name: "New", taskCategories: [{ name: "q", version: 0 }] },
    { name: "Other", taskCategories: [{ name: "r", version: 0 }] },
  ]);
});

test("metadata groups task categories by connector name in registration order", () => {
  const registry = createConnectorRegistry([new Stub("Warehouse", "bq"), new Stub("Jobs", "job"), new Stub("Warehouse", "sf", 2)]);
  expect(registry.list()).toEqual([
    {
      name: "Warehouse",
      taskCategories: [
        { name: "bq", version: 0 },
        { name: "sf", version: 2 },
      ],
    },
    { name: "Jobs", taskCategories: [{ name: "job", version: 0 }] },
  ]);
  expect(registry.info("Jobs")).toEqual({ name: "Jobs", taskCategories: [{ name: "job", version: 0 }] });
  expect(() => registry.info("Nope")).toThrow("Cannot find connector for name: Nope.");
});

test("bad task categories are refused at registration", () => {
  const registry = createConnectorRegistry();
  expect(() => registry.register(new Stub("X", ""))).toThrow(TypeError);
  expect(() => registry.register(new Stub("X", "x", -1))).toThrow(TypeError);
  expect(() => registry.register(new Stub("X", "x", 1.5))).toThrow(TypeError);
});

test("registries are independent instances", () => {
  const one = createConnectorRegistry([new Stub("A", "a")]);
  const two = createConnectorRegistry();
  expect(one.find("a")).toBeDefined();
  expect(two.find("a")).toBeUndefined();
});

test("property: a registry built from distinct task categories finds each of them", () => {
  const category = fc.record({ name: fc.string({ minLength: 1, maxLength: 12 }), version: fc.nat(5) });
  fc.assert(
    fc.property(fc.uniqueArray(category, { selector: (c) => `${c.name}\u0000${c.version}`, maxLength: 30 }), (categories) => {
      const connectors = categories.map((c, i) => new Stub(`n${i % 3}`, c.name, c.version));
      const registry = createConnectorRegistry(connectors);
      connectors.forEach((c, i) => {
        expect(registry.get(categories[i]!.name, categories[i]!.version)).toBe(c);
      });
      expect(registry.list().flatMap((e) => e.taskCategories)).toHaveLength(categories.length);
    }),
  );
});

test("the list is built once per registration: the same frozen list until a connector is added or replaced", () => {
  const registry = createConnectorRegistry([new Stub("A", "a")]);
  const first = registry.list();
  expect(registry.list()).toBe(first);
  expect(Object.isFrozen(first)).toBe(true);
  registry.register(new Stub("B", "b"));
  const second = registry.list();
  expect(second).not.toBe(first);
  expect(second.map((c) => c.name)).toEqual(["A", "B"]);
  registry.register(new Stub("C", "b"), { override: true });
  expect(registry.list().map((c) => c.name)).toEqual(["A", "C"]);
});
