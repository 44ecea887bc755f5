import type pg from "pg";
import { pgLib } from "./pg-lib.js";
import { Datetime } from "../../literals/datetime.js";

/** PostgreSQL type OIDs whose default node-postgres parsing loses information. */
const INT8 = 20;
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;
const INTERVAL = 1186;

/**
 * A timestamp as PostgreSQL prints it (`2024-01-02 03:04:05.123456+00`) becomes a Datetime with its
 * microseconds; node-postgres would make a millisecond `Date` in the service's local time zone. Values a
 * Datetime cannot hold (`infinity`, BC dates) stay text.
 */
function timestampParser(withZone: boolean): (text: string) => Datetime | string {
  return (text) => {
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}(:\d{2}(:\d{2})?)?)?$/.test(text)) return text;
    let iso = text.replace(" ", "T");
    if (!withZone) iso += "Z";
    else iso = iso.replace(/([+-]\d{2})$/, "$1:00").replace(/([+-]\d{2}:\d{2}):\d{2}$/, "$1");
    try {
      return Datetime.fromISOString(iso);
    } catch {
      return text;
    }
  };
}

/**
 * How query results are read: int8 as bigint (node-postgres gives text), timestamps as Datetime, and
 * `date` and `interval` as their text, which output conversion turns into the declared type. `numeric`
 * stays text by node-postgres's default, so that no digit is lost before the declared type is known.
 */
export const PG_TYPE_PARSERS: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (format === "binary") return pgLib().types.getTypeParser(oid, "binary");
    switch (oid) {
      case INT8:
        return (text: string) => BigInt(text);
      case DATE:
      case INTERVAL:
        return (text: string) => text;
      case TIMESTAMP:
        return timestampParser(false);
      case TIMESTAMPTZ:
        return timestampParser(true);
      default:
        return pgLib().types.getTypeParser(oid, "text");
    }
  }) as pg.CustomTypesConfig["getTypeParser"],
};
