// The AI SDK's UI message stream, in a module of its own that stream.ts requires on the first workflow stream.
// Required as a package, "ai" resolves to its CommonJS build, which the bundler folds into the chunk that requires
// it: ~1 MB (with its zod) in a chunk every start reads. Imported here, it gets a chunk of its own.
export { createUIMessageStream, createUIMessageStreamResponse } from "ai";
