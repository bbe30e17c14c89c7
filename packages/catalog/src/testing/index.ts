/**
 * @kronos/catalog/testing: shared test data for the packages that test Avro evolution (the contracts' decode and
 * registry tests, the schema review's resolution tests). Plain data, no test library.
 */
export { EVOLUTION_MATRIX, type EvolutionCase } from "./evolution-matrix.js";
