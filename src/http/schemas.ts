// Schemas shared by many routes: the error shape (for the OpenAPI document) and id path params.
import { Type, type IntegerOptions } from "@sinclair/typebox";
import { t } from "elysia";

export const errorSchema = t.Object({
  error: t.Object({
    type: t.String(),
    message: t.String(),
    code: t.Optional(t.String()),
    param: t.Optional(t.String()),
  }),
});

export const idParam = t.Object({ id: t.String({ minLength: 1, maxLength: 100, description: "Prefixed (key_9) or raw (9) id" }) });

export const isoDate = t.String({ description: "ISO 8601 UTC" });

/**
 * A JSON integer, for bodies and responses. Elysia's t.Integer is for query strings: it also takes "3" and turns it
 * into 3, which made the OpenAPI document say string-or-integer, and it compiles a validator when it is defined.
 */
export const integer = (options?: IntegerOptions) => Type.Integer(options);

/** An object's id as a JSON number (3 for sec_3): at most 2^53 - 1, past which it would arrive rounded and be echoed so. */
export const numericId = () => integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/** The body of a route that takes none: nothing or `{}`; a field is refused by name, as on every other route. */
export const noBody = t.Optional(t.Object({}, { additionalProperties: false }));
