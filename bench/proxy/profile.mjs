// rennet under load with node --cpu-prof: the functions with the most self
// time during the measured window, summed per function name + script URL.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** Self time per function from a .cpuprofile, optionally only samples within [fromUs, toUs] (monotonic µs). */
export function selfTimes(profile, { fromUs, toUs } = {}) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const { samples, timeDeltas } = profile;
  const stamps = new Array(samples.length);
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    stamps[i] = t;
  }
  const windowed = fromUs !== undefined && stamps.some((s) => s >= fromUs && s <= toUs);
  const totals = new Map();
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    if (windowed && (stamps[i] < fromUs || stamps[i] > toUs)) continue;
    const next = i + 1 < samples.length ? stamps[i + 1] : profile.endTime;
    const self = Math.max(0, next - stamps[i]);
    const frame = byId.get(samples[i])?.callFrame;
    if (frame === undefined) continue;
    const key = `${frame.functionName || "(anonymous)"}\u0000${frame.url}`;
    const entry = totals.get(key) ?? {
      functionName: frame.functionName || "(anonymous)",
      url: frame.url,
      line: frame.lineNumber + 1,
      selfUs: 0,
    };
    entry.selfUs += self;
    totals.set(key, entry);
    total += self;
  }
  const functions = [...totals.values()].sort((a, b) => b.selfUs - a.selfUs);
  for (const f of functions) f.percent = total > 0 ? (100 * f.selfUs) / total : 0;
  return { windowed, totalUs: total, functions };
}

/** A short location: relative to the repository, node_modules paths from the package on. */
export function shortUrl(url, root) {
  if (url === "") return "";
  let path = url.startsWith("file://") ? decodeURIComponent(url.slice("file://".length)) : url;
  const nm = path.lastIndexOf("/node_modules/");
  if (nm !== -1) return path.slice(nm + "/node_modules/".length);
  if (path.startsWith("/")) path = relative(root, path);
  return path;
}

/**
 * Reads the largest .cpuprofile written into `dir`: the launcher writes a
 * short one of its own when it re-executes itself with its heap settings.
 */
export function readProfile(dir) {
  const files = readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"));
  const file = files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0];
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
  return { file: join(dir, file), profile: JSON.parse(readFileSync(join(dir, file), "utf8")) };
}

export function topTable(top, root, count = 15) {
  const lines = ["| # | self time | % | function | location |", "| ---: | ---: | ---: | --- | --- |"];
  top.functions.slice(0, count).forEach((f, i) => {
    const where = f.url === "" ? "" : `${shortUrl(f.url, root)}:${f.line}`;
    lines.push(
      `| ${i + 1} | ${(f.selfUs / 1000).toFixed(0)} ms | ${f.percent.toFixed(1)}% | ${f.functionName} | ${where} |`,
    );
  });
  return lines.join("\n");
}

/** Where a function lives: a package, rennet's own packages, Node's internals, or native/V8. */
export function area(url) {
  if (url === "") return "native / V8";
  if (url.startsWith("node:")) return "node internals";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm !== -1) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const pkg = /\/packages\/([^/]+)\//.exec(url);
  if (pkg) return `@rennet/${pkg[1]}`;
  return "other";
}

/** Self time summed per area, biggest first, without (idle). */
export function byArea(top) {
  const totals = new Map();
  let busy = 0;
  for (const f of top.functions) {
    if (f.functionName === "(idle)") continue;
    const key = f.url === "" ? (f.functionName.startsWith("(") ? f.functionName : "native / V8") : area(f.url);
    totals.set(key, (totals.get(key) ?? 0) + f.selfUs);
    busy += f.selfUs;
  }
  return [...totals.entries()]
    .map(([name, selfUs]) => ({ area: name, selfUs, percentOfBusy: busy > 0 ? (100 * selfUs) / busy : 0 }))
    .sort((a, b) => b.selfUs - a.selfUs);
}

export function areaTable(areas) {
  const lines = ["| area | self time | % of busy time |", "| --- | ---: | ---: |"];
  for (const a of areas)
    lines.push(`| ${a.area} | ${(a.selfUs / 1000).toFixed(0)} ms | ${a.percentOfBusy.toFixed(1)}% |`);
  return lines.join("\n");
}
