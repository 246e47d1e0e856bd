export * from "./schema.js";
export * from "./types.js";
export * from "./crd.js";
export * from "./crd-yaml.js";
export * from "./rules.js";
export * from "./endpoints.js";
export * from "./validate.js";
