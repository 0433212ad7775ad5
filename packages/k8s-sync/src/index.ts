export type { IngressInput } from "@rennet/router";
