// A tiny stand-in for the tutorial's errm/cheese images: one page with a
// picture of its cheese (an inline SVG, so the demo works offline).
import { createServer } from "node:http";

const LOOKS = {
  cheddar: { rind: "#c9701f", paste: "#f2a93b", holes: false },
  stilton: { rind: "#a8926b", paste: "#f3ecd8", veins: true },
  wensleydale: { rind: "#e9e2c9", paste: "#fbf6e4", holes: true },
};

function picture(cheese) {
  const look = LOOKS[cheese];
  const details = look.veins
    ? '<path d="M70 150 q30 -20 60 5 t70 -5" stroke="#4d6a8c" stroke-width="5" fill="none"/><path d="M90 185 q40 -15 90 10" stroke="#4d6a8c" stroke-width="4" fill="none"/>'
    : look.holes
      ? '<circle cx="110" cy="165" r="12" fill="#e3d9b5"/><circle cx="170" cy="190" r="8" fill="#e3d9b5"/>'
      : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="240" viewBox="0 0 320 240" role="img" aria-label="${cheese}">
<polygon points="30,210 290,210 290,120 30,120" fill="${look.paste}"/>
<polygon points="30,120 290,120 230,60 30,120" fill="${look.rind}"/>${details}</svg>`;
}

export function startCheeseBackend(cheese, port, host = "127.0.0.1") {
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>${cheese}</title></head>
<body style="font-family:sans-serif;text-align:center"><h1>${cheese}</h1>${picture(cheese)}
<p>served by the ${cheese} backend on ${host}:${port}</p></body></html>\n`;
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "x-cheese": cheese });
    res.end(req.method === "HEAD" ? undefined : page);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
