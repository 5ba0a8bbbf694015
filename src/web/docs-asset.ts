// Scalar's browser build as a file Bun embeds in the binary (/docs needs no CDN), read on the first /docs visit.
// A file, not text: as a 4.8 MB string literal it was part of the bundle's source, which every start of the
// binary loads, whatever the command.
import path from "../../node_modules/@scalar/api-reference/dist/browser/standalone.js" with { type: "file" };

export default path;
