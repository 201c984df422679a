// A TypeDoc plugin: every public name of the API reference must have an
// example. A name whose TSDoc has no @example gets the one written for it in
// typedoc/examples.md (names defined in modules whose comments are better
// kept short); a public name with neither, or an example for a name that is
// not public, is an error, so the reference cannot lose an example silently.
import { readFileSync } from "node:fs";
import { Comment, CommentTag, Converter } from "typedoc";

const EXAMPLES = new URL("./examples.md", import.meta.url);

/** `## Name` (or `## module.Name`) followed by one ```ts block. */
function readExamples() {
  const examples = new Map();
  const text = readFileSync(EXAMPLES, "utf8");
  for (const section of text.split(/^## /m).slice(1)) {
    const name = section.slice(0, section.indexOf("\n")).trim();
    const code = /```ts\n([\s\S]*?)\n```/.exec(section);
    if (code === null) throw new Error(`typedoc/examples.md: "${name}" has no \`\`\`ts block`);
    examples.set(name, code[1]);
  }
  return examples;
}

function commentOf(reflection) {
  // A function's comment sits on its (first) signature.
  const signature = reflection.signatures?.[0];
  if (signature !== undefined) return (signature.comment ??= reflection.comment ?? new Comment());
  return (reflection.comment ??= new Comment());
}

export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const examples = readExamples();
    const used = new Set();
    const missing = [];
    for (const module of context.project.children ?? []) {
      for (const reflection of module.children ?? []) {
        const comment = commentOf(reflection);
        if (comment.getTag("@example") !== undefined) continue;
        const key = examples.has(`${module.name}.${reflection.name}`)
          ? `${module.name}.${reflection.name}`
          : reflection.name;
        const code = examples.get(key);
        if (code === undefined) {
          missing.push(`${module.name}.${reflection.name}`);
          continue;
        }
        used.add(key);
        comment.blockTags.push(
          new CommentTag("@example", [{ kind: "code", text: `\`\`\`ts\n${code}\n\`\`\`` }]),
        );
      }
    }
    for (const name of examples.keys()) {
      if (!used.has(name))
        app.logger.error(`typedoc/examples.md: "${name}" is not a public name without an @example`);
    }
    if (missing.length > 0) app.logger.error(`public names with no example: ${missing.join(", ")}`);
  });
}
