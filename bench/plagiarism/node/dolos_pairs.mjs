// Dolos baseline: prints {"a", "b", "similarity"} JSON for every pair of the given files.
// Usage: node dolos_pairs.mjs [--ignore starter.py] file...
import { Dolos } from "@dodona/dolos-lib";

const args = process.argv.slice(2);
let ignore;
if (args[0] === "--ignore") {
  ignore = args[1];
  args.splice(0, 2);
}
const dolos = new Dolos({ language: "python" });
const report = await dolos.analyzePaths(args, ignore);
const pairs = report.allPairs().map((pair) => ({ a: pair.leftFile.path, b: pair.rightFile.path, similarity: pair.similarity }));
process.stdout.write(JSON.stringify(pairs));
