import type { OutputTypes } from "../connector.js";
import type { DatasetRefInit } from "../../literals/dataset-ref.js";
import { t } from "../../literals/t.js";

/** The output name flyte-sdk's SQL plugins declare for a query's result. */
export const RESULTS_OUTPUT = "results";

const DATAFRAME_TYPES: OutputTypes = Object.freeze({ [RESULTS_OUTPUT]: t.dataframe().literalType });

/**
 * The `results` output of a warehouse query, as the Python connectors return it: a structured dataset with
 * the warehouse's own URI, format `""` and no columns, so the literal is the one Python writes.
 */
export function datasetResult(uri: string): { outputs: { results: DatasetRefInit }; outputTypes: OutputTypes } {
  return { outputs: { [RESULTS_OUTPUT]: { uri } } as { results: DatasetRefInit }, outputTypes: DATAFRAME_TYPES };
}
