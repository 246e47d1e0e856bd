/**
 * Input the simulator cannot simulate (an HPA or ScaledObject field it cannot read, a trigger whose
 * signal it cannot tell, options that do not fit together), naming the field.
 */
export class SimulationInputError extends Error {
  override name = "SimulationInputError";

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
