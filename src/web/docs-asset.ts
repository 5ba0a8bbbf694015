// Scalar's browser build as text: Bun embeds it in the binary, so /docs needs no CDN. Imported lazily (4.8 MB).
import js from "../../node_modules/@scalar/api-reference/dist/browser/standalone.js" with { type: "text" };

export default js;
