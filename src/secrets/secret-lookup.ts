/**
 * Where a connector's secrets come from. The task's connection (resolved by the executor) wins; otherwise the
 * service's own sources are asked (environment, mounted files), because the open-source Flyte 2 executor
 * resolves no secrets at all.
 */

/** Looks one secret up by name; `undefined` when no source has it. */
export type SecretSource = (name: string) => string | undefined;

/** A source that knows nothing: the default until the service configures its own sources. */
export const NO_SECRETS: SecretSource = () => undefined;

/** The lookup a call context offers: the call's connection secrets first, then the service's sources. */
export function secretLookup(connectionSecrets: Readonly<Record<string, string>>, service: SecretSource = NO_SECRETS): SecretSource {
  return (name) => (Object.hasOwn(connectionSecrets, name) ? connectionSecrets[name] : service(name));
}

/** A lookup that remembers what it resolved, so that those values can be redacted from what is stored. */
export function recordingLookup(source: SecretSource): { readonly lookup: SecretSource; readonly resolved: Readonly<Record<string, string>> } {
  const resolved: Record<string, string> = {};
  return {
    lookup: (name) => {
      const value = source(name);
      if (value !== undefined) resolved[name] = value;
      return value;
    },
    resolved,
  };
}
